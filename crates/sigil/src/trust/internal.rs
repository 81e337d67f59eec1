//! The internal trusted issuer `sigil`: mints root tokens and login sessions with the internal
//! signing key. Its tokens are verified like every other issuer's, by `verify.rs`.

use serde_json::json;

use crate::signing_keys::Keyring;

/// Name of the internal trusted issuer.
pub const INTERNAL_ISSUER: &str = "sigil";
/// Name of the internal signing key.
pub const INTERNAL_KEY: &str = "sigil-internal";
/// The `iss` of internal tokens: stable across changes of the public URL.
pub const INTERNAL_ISS: &str = "urn:sigil:internal";

/// Why a token was not accepted, with a stable machine-readable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthRefused {
    /// No credential at all.
    #[error("a bearer token is required")]
    Missing,
    /// Not a compact JWS we accept (size, encoding, header rules).
    #[error("the token is malformed: {0}")]
    Malformed(String),
    /// `iss` names no trusted issuer.
    #[error("the token's issuer is not trusted")]
    UnknownIssuer,
    /// No published key has that `kid`.
    #[error("the token's key is not known")]
    UnknownKey,
    /// Signature or algorithm check failed.
    #[error("the token's signature is invalid")]
    SignatureInvalid,
    /// `exp` passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` or `iat` in the future, or other time rule broken.
    #[error("the token is not valid at this time: {0}")]
    NotYetValid(String),
    /// A claim has the wrong type or is missing.
    #[error("the token's claim `{0}` is missing or has the wrong type")]
    ClaimInvalid(&'static str),
}

impl AuthRefused {
    /// The `error_code` of the 401 body.
    pub fn code(&self) -> &'static str {
        match self {
            AuthRefused::Missing => "token_missing",
            AuthRefused::Malformed(_) => "token_malformed",
            AuthRefused::UnknownIssuer => "unknown_issuer",
            AuthRefused::UnknownKey => "unknown_key",
            AuthRefused::SignatureInvalid => "signature_invalid",
            AuthRefused::Expired => "token_expired",
            AuthRefused::NotYetValid(_) => "token_not_yet_valid",
            AuthRefused::ClaimInvalid(_) => "claim_invalid",
        }
    }
}

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
