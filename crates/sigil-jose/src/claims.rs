//! Time claims (RFC 7519 §4.1.4–4.1.6) checked against an injected clock with leeway.
//! NumericDate must be a JSON number; strings, negatives and dates past year 9999 are refused
//! rather than guessed at, and arithmetic is done wide so no input can overflow it.

use serde_json::{Map, Value};

use crate::JoseError;

/// The latest NumericDate accepted: 9999-12-31T23:59:59Z.
const MAX_NUMERIC_DATE: i64 = 253_402_300_799;

/// How to judge a token's time claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRules {
    /// The current time, in Unix seconds (from the injected clock).
    pub now: i64,
    /// Allowed clock skew in seconds, applied to every check (Sigil's default is 60).
    pub leeway: u64,
    /// Whether a token without `exp` is refused. Off only for tokens that carry no expiry
    /// by design; an unexpiring bearer token is a standing credential.
    pub require_exp: bool,
    /// The oldest `iat` accepted, in seconds before `now`; when set, `iat` is required.
    pub max_token_age: Option<u64>,
}

/// Checks `exp`, `nbf` and `iat` against `rules`. A token expires at `exp + leeway` (the
/// instant itself is expired); `nbf` and `iat` may be at most `leeway` seconds ahead.
pub fn check_times(claims: &Map<String, Value>, rules: &TimeRules) -> Result<(), JoseError> {
    let now = i128::from(rules.now);
    let leeway = i128::from(rules.leeway);

    match numeric_date(claims, "exp", Rounding::Down)? {
        Some(expires) if now >= expires + leeway => return Err(JoseError::Expired),
        Some(_) => {}
        None if rules.require_exp => return Err(JoseError::ClaimMissing("exp")),
        None => {}
    }
    if let Some(not_before) = numeric_date(claims, "nbf", Rounding::Up)?
        && not_before > now + leeway
    {
        return Err(JoseError::NotYetValid);
    }
    let issued = numeric_date(claims, "iat", Rounding::Up)?;
    if let Some(issued) = issued
        && issued > now + leeway
    {
        return Err(JoseError::IssuedInFuture);
    }
    if let Some(max_age) = rules.max_token_age {
        let issued = issued.ok_or(JoseError::ClaimMissing("iat"))?;
        if now - issued > i128::from(max_age) + leeway {
            return Err(JoseError::TooOld);
        }
    }
    Ok(())
}

/// Which way a fractional NumericDate is rounded: always towards refusing the token.
#[derive(Clone, Copy)]
enum Rounding {
    Down,
    Up,
}

/// Reads a NumericDate claim as whole seconds, refusing non-numbers and absurd values.
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
    rounding: Rounding,
) -> Result<Option<i128>, JoseError> {
    let Some(value) = claims.get(name) else {
        return Ok(None);
    };
    let Value::Number(number) = value else {
        return Err(JoseError::ClaimWrongType(name));
    };
    let seconds = if let Some(whole) = number.as_i64() {
        i128::from(whole)
    } else if number.is_u64() {
        return Err(JoseError::ClaimOutOfRange(name));
    } else {
        let float = number.as_f64().ok_or(JoseError::ClaimWrongType(name))?;
        if !float.is_finite() || !(0.0..=MAX_NUMERIC_DATE as f64).contains(&float) {
            return Err(JoseError::ClaimOutOfRange(name));
        }
        let rounded = match rounding {
            Rounding::Down => float.floor(),
            Rounding::Up => float.ceil(),
        };
        // OK because `rounded` is finite and within 0..=MAX_NUMERIC_DATE, checked above.
        rounded as i128
    };
    if !(0..=i128::from(MAX_NUMERIC_DATE)).contains(&seconds) {
        return Err(JoseError::ClaimOutOfRange(name));
    }
    Ok(Some(seconds))
}

#[cfg(test)]
mod tests;
