//! The claim rules of a verification, judged once the signature holds: claim types, time
//! rules, audience and `jti`, then the narrowing of `roles` and `prm` by the issuer. The time
//! rules are also judged at every use of a cached caller (DESIGN §3: a cache may skip the
//! signature, never a rule).

use serde_json::{Map, Value};
use sigil_jose::{JoseError, TimeRules};

use super::registry::TrustedIssuer;
use super::trace::Trace;
use super::verification::VerifyRefused;

/// What the issuer lets a verified token carry.
pub(super) struct Narrowed {
    /// `roles`, narrowed by the issuer's allow-list.
    pub roles: Vec<String>,
    /// `prm` ANDed with the issuer's mask (absent `prm`: the mask).
    pub permissions: u64,
}

/// Every claim rule of `issuer` for a token whose signature verified.
pub(super) fn check_claims(
    issuer: &TrustedIssuer,
    claims: &Map<String, Value>,
    now: i64,
    audience: Option<&str>,
    trace: &mut Trace,
) -> Result<Narrowed, VerifyRefused> {
    check_claim_types(claims)
        .inspect_err(|e| trace.record("claim types", false, || e.to_string()))?;
    trace.record("claim types", true, || {
        "exp, nbf, iat, sub, aud, jti, roles, prm well typed".to_owned()
    });
    let spec = &issuer.spec;
    check_times(issuer, claims, now)
        .inspect_err(|e| trace.record("times", false, || e.to_string()))?;
    trace.record("times", true, || {
        format!(
            "exp {} with leeway {}s",
            claims.get("exp").map_or(Value::Null, Clone::clone),
            spec.leeway
        )
    });
    check_audience(issuer, claims, audience, trace)?;
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
    Ok(narrow(issuer, claims, trace))
}

/// The time rules of `issuer` at `now`: `exp` (required), `nbf` and `iat` with its leeway, and
/// its `max_token_age`. Judged at every use of a token, also when its signature was checked
/// earlier.
pub fn check_times(
    issuer: &TrustedIssuer,
    claims: &Map<String, Value>,
    now: i64,
) -> Result<(), VerifyRefused> {
    judge_times(claims, now, issuer.spec.leeway, issuer.spec.max_token_age)
}

/// The time rules of a token Sigil itself minted: `exp` required, no leeway.
pub(super) fn check_issued_times(
    claims: &Map<String, Value>,
    now: i64,
) -> Result<(), VerifyRefused> {
    judge_times(claims, now, 0, None)
}

fn judge_times(
    claims: &Map<String, Value>,
    now: i64,
    leeway: u64,
    max_token_age: Option<u64>,
) -> Result<(), VerifyRefused> {
    let rules = TimeRules {
        now,
        leeway,
        require_exp: true,
        max_token_age,
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

/// `roles` kept by the issuer's allow-list, `prm` ANDed with its mask.
fn narrow(issuer: &TrustedIssuer, claims: &Map<String, Value>, trace: &mut Trace) -> Narrowed {
    let spec = &issuer.spec;
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
    Narrowed { roles, permissions }
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

pub(super) fn claim(name: &str, reason: &str) -> VerifyRefused {
    VerifyRefused::ClaimInvalid {
        claim: name.to_owned(),
        reason: reason.to_owned(),
    }
}
