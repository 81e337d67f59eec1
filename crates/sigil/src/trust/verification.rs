//! The one verification of a JWT, used by every caller (API authentication, `/v1/verify`,
//! `/v1/explain`, login, exchange, introspection). It reads top-down from the unverified token
//! to the verified one: size and format, the issuer named by the unverified `iss`, whether it
//! is enabled, the candidate keys (`key_choice.rs`), the signature, then the claim rules
//! (`claims.rs`). Each step can be recorded in a trace; the token is never copied into it.

use std::sync::Arc;

use serde_json::{Map, Value};
use sigil_jose::{JoseError, UnverifiedToken};

use super::claims::{self, check_claims};
use super::internal::INTERNAL_ISS;
use super::keyset::TrustedKey;
use super::registry::TrustedIssuer;
use super::trace::Trace;
use super::trusted_issuers::TrustedIssuers;

/// Why a token was refused; `code()` is the machine-readable `error_code`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VerifyRefused {
    /// Larger than the limit (refused before decoding).
    #[error("the token is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// Not a compact JWS we accept.
    #[error("the token is malformed: {0}")]
    Malformed(String),
    /// `alg` is not allowed for this issuer or key.
    #[error("algorithm {0} is not allowed")]
    AlgorithmNotAllowed(String),
    /// A `crit` header we do not understand.
    #[error("unsupported critical header {0:?}")]
    UnsupportedCritical(String),
    /// `iss` names no trusted issuer.
    #[error("the token's issuer is not trusted")]
    UnknownIssuer,
    /// The issuer is disabled.
    #[error("the token's issuer is disabled")]
    IssuerDisabled,
    /// No key of the issuer matches.
    #[error("no key of the issuer matches the token")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the token's signature is invalid")]
    SignatureInvalid,
    /// A claim is missing or of the wrong type.
    #[error("claim `{claim}` {reason}")]
    ClaimInvalid { claim: String, reason: String },
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// `iat` is in the future.
    #[error("the token was issued in the future")]
    IssuedInFuture,
    /// `iat` is older than the issuer's `max_token_age`.
    #[error("the token is older than the issuer allows")]
    TooOld,
    /// No audience of the token is accepted.
    #[error("the token's audience is not accepted")]
    AudienceMismatch,
    /// The issuer requires `jti`.
    #[error("the token has no jti and the issuer requires one")]
    JtiRequired,
}

impl VerifyRefused {
    /// The `error_code` of a 401.
    pub fn code(&self) -> &'static str {
        match self {
            VerifyRefused::TooLarge { .. } => "token_too_large",
            VerifyRefused::Malformed(_) => "token_malformed",
            VerifyRefused::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            VerifyRefused::UnsupportedCritical(_) => "unsupported_critical_header",
            VerifyRefused::UnknownIssuer => "unknown_issuer",
            VerifyRefused::IssuerDisabled => "issuer_disabled",
            VerifyRefused::UnknownKey => "unknown_key",
            VerifyRefused::SignatureInvalid => "signature_invalid",
            VerifyRefused::ClaimInvalid { .. } => "claim_invalid",
            VerifyRefused::Expired => "token_expired",
            VerifyRefused::NotYetValid => "token_not_yet_valid",
            VerifyRefused::IssuedInFuture => "token_issued_in_future",
            VerifyRefused::TooOld => "token_too_old",
            VerifyRefused::AudienceMismatch => "audience_mismatch",
            VerifyRefused::JtiRequired => "jti_required",
        }
    }
}

/// A verified token.
#[derive(Clone)]
pub struct Verified {
    /// The issuer that vouched for it.
    pub issuer: Arc<TrustedIssuer>,
    /// The `kid` of the key whose signature verified, if the key has one.
    pub kid: Option<String>,
    /// Its claims.
    pub claims: Map<String, Value>,
    /// `roles`, narrowed by the issuer's allow-list.
    pub roles: Vec<String>,
    /// `prm` ANDed with the issuer's mask (absent `prm`: the mask).
    pub permissions: u64,
}

impl TrustedIssuers {
    /// Verifies a token from any trusted issuer; `audience`, when given, must also be one of
    /// the token's audiences.
    pub async fn verify(
        &self,
        token: &str,
        audience: Option<&str>,
        trace: &mut Trace,
    ) -> Result<Verified, VerifyRefused> {
        let now = self.setup.clock.now();
        let parsed = self.parse(token, trace)?;
        let issuer = self.issuer_of(&parsed, trace)?;
        if !issuer.spec.enabled {
            trace.record("enabled", false, || "the issuer is disabled".to_owned());
            return Err(VerifyRefused::IssuerDisabled);
        }
        let header = parsed.header();
        if header.has_jku || header.has_x5u || header.has_x5c || header.has_jwk {
            trace.record("embedded keys", true, || {
                "jku/x5u/x5c/jwk present and ignored".to_owned()
            });
        }
        let candidates = self
            .candidate_keys(
                &issuer,
                parsed.unverified_kid(),
                parsed.algorithm(),
                now,
                trace,
            )
            .await?;
        let (claims, key) = check_signature(&parsed, &candidates, trace)?;
        let narrowed = check_claims(&issuer, &claims, now, audience, trace)?;
        Ok(Verified {
            issuer,
            kid: key.kid.clone(),
            claims,
            roles: narrowed.roles,
            permissions: narrowed.permissions,
        })
    }

    /// Verifies a token Sigil minted as `iss` with the signing key `signing_key` (RFC 7662
    /// introspection): the same size, format and signature steps, the key chosen from the
    /// keyring as for the internal issuer (its algorithm, a published version), and the time
    /// rules without leeway. Answers its claims.
    pub fn verify_issued(
        &self,
        token: &str,
        iss: &str,
        signing_key: &str,
    ) -> Result<Map<String, Value>, VerifyRefused> {
        let trace = &mut Trace::default();
        let now = self.setup.clock.now();
        let parsed = self.parse(token, trace)?;
        if parsed.unverified_issuer() != Some(iss) {
            return Err(VerifyRefused::UnknownIssuer);
        }
        let key = self.keyring_key(
            signing_key,
            parsed.unverified_kid(),
            parsed.algorithm(),
            now,
            trace,
        )?;
        let (claims, _) = check_signature(&parsed, std::slice::from_ref(&key), trace)?;
        claims::check_issued_times(&claims, now)?;
        Ok(claims)
    }

    /// Size and format: a compact JWS within the size limit, with an algorithm Sigil accepts.
    fn parse<'t>(
        &self,
        token: &'t str,
        trace: &mut Trace,
    ) -> Result<UnverifiedToken<'t>, VerifyRefused> {
        let limit = self.setup.max_token_bytes;
        if token.len() > limit {
            trace.record("size", false, || {
                format!("{} bytes, limit {limit}", token.len())
            });
            return Err(VerifyRefused::TooLarge { limit });
        }
        trace.record("size", true, || format!("{} bytes", token.len()));
        match UnverifiedToken::parse(token, limit) {
            Ok(parsed) => {
                trace.record("format", true, || {
                    format!("compact JWS, alg {}", parsed.algorithm())
                });
                Ok(parsed)
            }
            Err(error) => {
                let refused = match error {
                    JoseError::AlgorithmNotAllowed => {
                        VerifyRefused::AlgorithmNotAllowed("none/HS*".into())
                    }
                    JoseError::UnknownAlgorithm(name) => VerifyRefused::AlgorithmNotAllowed(name),
                    JoseError::UnsupportedCritical(name) => {
                        VerifyRefused::UnsupportedCritical(name)
                    }
                    JoseError::TokenTooLarge { limit, .. } => VerifyRefused::TooLarge { limit },
                    other => VerifyRefused::Malformed(other.to_string()),
                };
                trace.record("format", false, || refused.to_string());
                Err(refused)
            }
        }
    }

    /// The trusted issuer the unverified `iss` names (exact match), the internal one included.
    fn issuer_of(
        &self,
        parsed: &UnverifiedToken<'_>,
        trace: &mut Trace,
    ) -> Result<Arc<TrustedIssuer>, VerifyRefused> {
        let Some(iss) = parsed.unverified_claims().get("iss") else {
            trace.record("issuer", false, || "no iss claim".to_owned());
            return Err(claims::claim("iss", "is required"));
        };
        let Some(iss) = iss.as_str() else {
            trace.record("issuer", false, || "iss is not a string".to_owned());
            return Err(claims::claim("iss", "must be a string"));
        };
        let issuer = if iss == INTERNAL_ISS {
            self.internal.clone()
        } else {
            match self.catalog.peek().by_iss(iss) {
                Some(issuer) => issuer.clone(),
                None => {
                    trace.record("issuer", false, || format!("{iss:?} is not trusted"));
                    return Err(VerifyRefused::UnknownIssuer);
                }
            }
        };
        trace.record("issuer", true, || {
            format!("{iss:?} is trusted issuer `{}`", issuer.spec.name)
        });
        Ok(issuer)
    }
}

/// The first candidate key whose algorithm fits and whose signature verifies; its claims.
fn check_signature<'k>(
    token: &UnverifiedToken<'_>,
    keys: &'k [TrustedKey],
    trace: &mut Trace,
) -> Result<(Map<String, Value>, &'k TrustedKey), VerifyRefused> {
    let algorithm = token.algorithm();
    let verified = keys
        .iter()
        .filter(|key| key.algorithms.contains(&algorithm))
        .find_map(|key| Some((token.verify(&key.key).ok()?, key)));
    let Some((verified, key)) = verified else {
        trace.record("signature", false, || {
            format!("{} candidate key(s), none verifies", keys.len())
        });
        return Err(VerifyRefused::SignatureInvalid);
    };
    trace.record("signature", true, || {
        format!("kid {}", key.kid.as_deref().unwrap_or("(none)"))
    });
    Ok((verified.into_claims(), key))
}
