//! The internal trusted issuer `sigil`: mints root tokens with the internal signing key and
//! verifies them strictly (size cap, allowed algorithm, published `kid`, times, claim types).

use serde_json::{Map, Value, json};
use sigil_jose::{TimeRules, UnverifiedToken};

use crate::identity::Identity;
use crate::signing_keys::Keyring;

/// Name of the internal trusted issuer.
pub const INTERNAL_ISSUER: &str = "sigil";
/// Name of the internal signing key.
pub const INTERNAL_KEY: &str = "sigil-internal";
/// The `iss` of internal tokens: stable across changes of the public URL.
pub const INTERNAL_ISS: &str = "urn:sigil:internal";
const LEEWAY_SECS: u64 = 60;

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
#[derive(Clone, Debug)]
pub struct InternalIssuer {
    max_token_bytes: usize,
}

impl InternalIssuer {
    /// An internal issuer refusing tokens over `max_token_bytes`.
    pub fn new(max_token_bytes: usize) -> InternalIssuer {
        InternalIssuer { max_token_bytes }
    }

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

    /// Whether `token` claims to come from the internal issuer (unverified routing only).
    pub fn claims_token(&self, token: &UnverifiedToken) -> bool {
        token.unverified_issuer() == Some(INTERNAL_ISS)
    }

    /// Parses and verifies an internal token into an identity.
    pub fn verify(
        &self,
        keyring: &Keyring,
        token: &str,
        now: i64,
    ) -> Result<Identity, AuthRefused> {
        let unverified = UnverifiedToken::parse(token, self.max_token_bytes)
            .map_err(|e| AuthRefused::Malformed(e.to_string()))?;
        if !self.claims_token(&unverified) {
            return Err(AuthRefused::UnknownIssuer);
        }
        let kid = unverified.unverified_kid().ok_or(AuthRefused::UnknownKey)?;
        let key = keyring
            .get(INTERNAL_KEY)
            .and_then(|key| key.verifier(kid, now))
            .ok_or(AuthRefused::UnknownKey)?;
        let verified = unverified
            .verify(key)
            .map_err(|_| AuthRefused::SignatureInvalid)?;
        let claims = verified.claims();
        let rules = TimeRules {
            now,
            leeway: LEEWAY_SECS,
            require_exp: true,
            max_token_age: None,
        };
        sigil_jose::check_times(claims, &rules).map_err(|e| match e {
            sigil_jose::JoseError::Expired => AuthRefused::Expired,
            other => AuthRefused::NotYetValid(other.to_string()),
        })?;
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or(AuthRefused::ClaimInvalid("sub"))?;
        let policies = string_array(claims, "policies")?;
        Ok(Identity {
            id: format!("{INTERNAL_ISSUER}:{subject}"),
            trusted_issuer: INTERNAL_ISSUER.to_owned(),
            project: "default".to_owned(),
            roles: Vec::new(),
            permissions: u64::MAX,
            policies,
            claims: claims.clone(),
        })
    }
}

fn string_array(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Vec<String>, AuthRefused> {
    let Some(Value::Array(items)) = claims.get(name) else {
        return Err(AuthRefused::ClaimInvalid(name));
    };
    items
        .iter()
        .map(|item| item.as_str().map(str::to_owned))
        .collect::<Option<Vec<String>>>()
        .ok_or(AuthRefused::ClaimInvalid(name))
}
