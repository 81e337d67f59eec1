//! Verification of a JWT from any trusted issuer, implemented once for every caller (API
//! authentication, verify, explain, exchange, login). Strict by default; each check can be
//! recorded in a trace for `explain`, with the token itself never copied into it.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};
use sigil_jose::{JoseError, TimeRules, UnverifiedToken};

use super::keyset::TrustedKey;
use super::registry::TrustedIssuer;

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

/// One check of a verification, for `explain`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Check {
    /// What was checked.
    pub check: &'static str,
    /// Whether it passed.
    pub passed: bool,
    /// The value looked at, or why it failed.
    pub detail: String,
}

/// The checks of one verification, in order. A default trace records nothing, so the hot
/// path pays for no formatting; `explain` uses `Trace::recording()`.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct Trace {
    /// Each check.
    pub checks: Vec<Check>,
    #[serde(skip)]
    recording: bool,
}

impl Trace {
    /// A trace that records every check.
    pub fn recording() -> Trace {
        Trace {
            checks: Vec::new(),
            recording: true,
        }
    }

    /// Records a check; `detail` is only evaluated when recording.
    pub fn record(&mut self, check: &'static str, passed: bool, detail: impl FnOnce() -> String) {
        if self.recording {
            self.checks.push(Check {
                check,
                passed,
                detail: detail(),
            });
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

/// Rules that come from the caller rather than the issuer.
#[derive(Clone, Copy, Debug)]
pub struct Request<'a> {
    /// Now, in Unix seconds.
    pub now: i64,
    /// Largest token accepted.
    pub max_token_bytes: usize,
    /// An audience the token must also carry.
    pub audience: Option<&'a str>,
}

/// Step one: size and format, then the issuer named by the unverified `iss`.
pub fn parse<'t>(
    token: &'t str,
    request: &Request<'_>,
    trace: &mut Trace,
) -> Result<UnverifiedToken<'t>, VerifyRefused> {
    if token.len() > request.max_token_bytes {
        trace.record("size", false, || {
            format!("{} bytes, limit {}", token.len(), request.max_token_bytes)
        });
        return Err(VerifyRefused::TooLarge {
            limit: request.max_token_bytes,
        });
    }
    trace.record("size", true, || format!("{} bytes", token.len()));
    match UnverifiedToken::parse(token, request.max_token_bytes) {
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
                JoseError::UnsupportedCritical(name) => VerifyRefused::UnsupportedCritical(name),
                JoseError::TokenTooLarge { limit, .. } => VerifyRefused::TooLarge { limit },
                other => VerifyRefused::Malformed(other.to_string()),
            };
            trace.record("format", false, || refused.to_string());
            Err(refused)
        }
    }
}

/// Step two, once the candidate keys are known: signature, claim types, times, audience,
/// `jti`, and the narrowing of roles and permissions.
pub fn finish(
    issuer: &Arc<TrustedIssuer>,
    token: &UnverifiedToken<'_>,
    keys: &[TrustedKey],
    request: &Request<'_>,
    trace: &mut Trace,
) -> Result<Verified, VerifyRefused> {
    let algorithm = token.algorithm();
    let mut verified = None;
    for key in keys {
        if !key.algorithms.contains(&algorithm) {
            continue;
        }
        if let Ok(v) = token.verify(&key.key) {
            verified = Some((v, key));
            break;
        }
    }
    let Some((verified, key)) = verified else {
        trace.record("signature", false, || {
            format!("{} candidate key(s), none verifies", keys.len())
        });
        return Err(VerifyRefused::SignatureInvalid);
    };
    trace.record("signature", true, || {
        format!("kid {}", key.kid.as_deref().unwrap_or("(none)"))
    });
    let claims = verified.into_claims();
    check_claim_types(&claims)
        .inspect_err(|e| trace.record("claim types", false, || e.to_string()))?;
    trace.record("claim types", true, || {
        "exp, nbf, iat, sub, aud, jti, roles, prm well typed".to_owned()
    });
    let spec = &issuer.spec;
    check_times(issuer, &claims, request.now)
        .inspect_err(|e| trace.record("times", false, || e.to_string()))?;
    trace.record("times", true, || {
        format!(
            "exp {} with leeway {}s",
            claims.get("exp").map_or(Value::Null, Clone::clone),
            spec.leeway
        )
    });
    check_audience(issuer, &claims, request.audience, trace)?;
    if spec.require_jti {
        let has_jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .is_some_and(|j| !j.is_empty());
        trace.record("jti", has_jti, || {
            if has_jti { "present" } else { "missing" }.to_owned()
        });
        if !has_jti {
            return Err(VerifyRefused::JtiRequired);
        }
    }
    let token_roles: Vec<String> = claims
        .get("roles")
        .and_then(Value::as_array)
        .map(|r| {
            r.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let roles: Vec<String> = token_roles
        .iter()
        .filter(|r| spec.roles.is_empty() || spec.roles.contains(r))
        .cloned()
        .collect();
    let token_permissions = claims
        .get("prm")
        .and_then(Value::as_u64)
        .unwrap_or(u64::MAX);
    let permissions = token_permissions & spec.permissions;
    trace.record("roles", true, || {
        format!("{token_roles:?} kept as {roles:?}")
    });
    trace.record("permissions", true, || {
        format!(
            "{token_permissions:#x} & {:#x} = {permissions:#x}",
            spec.permissions
        )
    });
    Ok(Verified {
        issuer: issuer.clone(),
        kid: key.kid.clone(),
        claims,
        roles,
        permissions,
    })
}

/// The time rules of `issuer` at `now`: `exp` (required), `nbf` and `iat` with its leeway, and
/// its `max_token_age`. Judged at every use of a token, also when its signature was checked
/// earlier (DESIGN §3: a cache may skip the signature, never a rule).
pub fn check_times(
    issuer: &TrustedIssuer,
    claims: &Map<String, Value>,
    now: i64,
) -> Result<(), VerifyRefused> {
    let rules = TimeRules {
        now,
        leeway: issuer.spec.leeway,
        require_exp: true,
        max_token_age: issuer.spec.max_token_age,
    };
    sigil_jose::check_times(claims, &rules).map_err(|e| match e {
        JoseError::Expired => VerifyRefused::Expired,
        JoseError::NotYetValid => VerifyRefused::NotYetValid,
        JoseError::IssuedInFuture => VerifyRefused::IssuedInFuture,
        JoseError::TooOld => VerifyRefused::TooOld,
        JoseError::ClaimMissing(c) => claim(c, "is required"),
        other => claim("exp", &other.to_string()),
    })
}

fn check_audience(
    issuer: &TrustedIssuer,
    claims: &Map<String, Value>,
    requested: Option<&str>,
    trace: &mut Trace,
) -> Result<(), VerifyRefused> {
    let audiences: Vec<&str> = match claims.get("aud") {
        None => Vec::new(),
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        Some(_) => Vec::new(),
    };
    let spec = &issuer.spec;
    let accepted = if audiences.is_empty() {
        // A token without `aud` is only accepted when the issuer expects none.
        spec.audiences.is_empty() || spec.audiences_unchecked
    } else if spec.audiences_unchecked {
        true
    } else {
        audiences
            .iter()
            .any(|a| spec.audiences.iter().any(|s| s == a))
    };
    let requested_ok = requested.is_none_or(|r| audiences.contains(&r));
    let passed = accepted && requested_ok;
    trace.record("audience", passed, || {
        format!(
            "token {audiences:?}, issuer accepts {:?}{}",
            spec.audiences,
            requested.map_or(String::new(), |r| format!(", caller requires {r:?}"))
        )
    });
    if passed {
        Ok(())
    } else {
        Err(VerifyRefused::AudienceMismatch)
    }
}

/// Claims of the wrong JSON type are refused, never treated as absent.
fn check_claim_types(claims: &Map<String, Value>) -> Result<(), VerifyRefused> {
    for name in ["exp", "nbf", "iat"] {
        if let Some(value) = claims.get(name)
            && !value.is_number()
        {
            return Err(claim(name, "must be a number"));
        }
    }
    if !claims.contains_key("exp") {
        return Err(claim("exp", "is required"));
    }
    for name in ["iss", "sub", "jti"] {
        if let Some(value) = claims.get(name)
            && !value.is_string()
        {
            return Err(claim(name, "must be a string"));
        }
    }
    match claims.get("aud") {
        None | Some(Value::String(_)) => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => return Err(claim("aud", "must be a string or an array of strings")),
    }
    match claims.get("roles") {
        None => {}
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        Some(_) => return Err(claim("roles", "must be an array of strings")),
    }
    if let Some(prm) = claims.get("prm")
        && prm.as_u64().is_none()
    {
        return Err(claim("prm", "must be an unsigned 64-bit integer"));
    }
    Ok(())
}

fn claim(name: &str, reason: &str) -> VerifyRefused {
    VerifyRefused::ClaimInvalid {
        claim: name.to_owned(),
        reason: reason.to_owned(),
    }
}
