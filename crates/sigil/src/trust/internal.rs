//! The internal trusted issuer `sigil`: mints root tokens and login sessions with the internal
//! signing key. Its tokens are verified like every other issuer's, by `verification.rs`.

use serde_json::json;

use sigil_jose::Algorithm;

use super::spec::{DEFAULT_LEEWAY, TrustedIssuerFields, TrustedIssuerSpec};
use crate::signing_keys::Keyring;

/// Name of the internal trusted issuer.
pub const INTERNAL_ISSUER: &str = "sigil";
/// Name of the internal signing key.
pub const INTERNAL_KEY: &str = "sigil-internal";
/// The `iss` of internal tokens: stable across changes of the public URL.
pub const INTERNAL_ISS: &str = "urn:sigil:internal";

/// A freshly minted internal token.
#[derive(Clone, Debug)]
pub struct MintedToken {
    /// The compact JWS.
    pub token: String,
    /// `exp`.
    pub expires_at: i64,
    /// `jti`.
    pub jti: String,
}

/// The internal issuer.
#[derive(Clone, Copy, Debug, Default)]
pub struct InternalIssuer;

impl InternalIssuer {
    /// Mints a token for `subject` carrying `policies`, signed by the internal key's signer.
    /// `None` when the key is absent or sealed.
    pub fn mint(
        &self,
        keyring: &Keyring,
        now: i64,
        subject: &str,
        policies: &[&str],
        ttl: u64,
    ) -> Option<MintedToken> {
        let signer = keyring.get(INTERNAL_KEY)?.signer_at(now)?;
        let jti = uuid::Uuid::new_v4().to_string();
        let expires_at = now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
        let claims = json!({
            "iss": INTERNAL_ISS,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": expires_at,
            "jti": jti,
            "policies": policies,
        });
        let payload = serde_json::to_vec(&claims).ok()?;
        let token = signer.sign_compact(&payload).ok()?;
        Some(MintedToken {
            token,
            expires_at,
            jti,
        })
    }
}

/// The trusted issuer entry of the internal issuer: ES256 only, every permission bit.
pub(super) fn internal_spec() -> TrustedIssuerSpec {
    TrustedIssuerSpec {
        name: INTERNAL_ISSUER.to_owned(),
        issuer: INTERNAL_ISS.to_owned(),
        project: "default".to_owned(),
        jwks_url: None,
        discovery_url: None,
        inline_keys: Vec::new(),
        audiences: Vec::new(),
        audiences_unchecked: false,
        roles: Vec::new(),
        permissions: u64::MAX,
        algorithms: Some(vec![Algorithm::Es256]),
        leeway: DEFAULT_LEEWAY,
        max_token_age: None,
        require_jti: false,
        header: "authorization".to_owned(),
        allow_insecure_http: false,
        enabled: true,
        fields: TrustedIssuerFields {
            name: Some(INTERNAL_ISSUER.to_owned()),
            issuer: Some(INTERNAL_ISS.to_owned()),
            algorithms: Some(vec![Algorithm::Es256.to_string()]),
            enabled: Some(true),
            ..TrustedIssuerFields::default()
        },
    }
}
