use serde_json::{Value, json};

use super::*;

const NOW: i64 = 1_700_000_000;

fn rules(leeway: u64) -> TimeRules {
    TimeRules {
        now: NOW,
        leeway,
        require_exp: true,
        max_token_age: None,
    }
}

fn check(claims: Value, rules: &TimeRules) -> Result<(), JoseError> {
    match claims {
        Value::Object(map) => check_times(&map, rules),
        _ => panic!("claims must be an object"),
    }
}

#[test]
fn accepts_a_token_inside_its_window() {
    let claims = json!({"exp": NOW + 300, "nbf": NOW - 10, "iat": NOW - 10});
    assert_eq!(check(claims, &rules(0)), Ok(()));
}

#[test]
fn requires_exp_when_told_to() {
    assert_eq!(
        check(json!({}), &rules(60)),
        Err(JoseError::ClaimMissing("exp"))
    );
    let lenient = TimeRules {
        require_exp: false,
        ..rules(60)
    };
    assert_eq!(check(json!({}), &lenient), Ok(()));
}

#[test]
fn refuses_exp_of_the_wrong_type() {
    for exp in [json!("1700000300"), json!(true), json!(null), json!([NOW])] {
        assert_eq!(
            check(json!({ "exp": exp }), &rules(60)),
            Err(JoseError::ClaimWrongType("exp"))
        );
    }
}

#[test]
fn accepts_fractional_exp_rounding_towards_expiry() {
    assert_eq!(
        check(json!({"exp": NOW as f64 + 0.9}), &rules(0)),
        Err(JoseError::Expired)
    );
    assert_eq!(check(json!({"exp": NOW as f64 + 1.5}), &rules(0)), Ok(()));
}

#[test]
fn expires_exactly_at_exp_plus_leeway() {
    let exp = NOW - 60;
    assert_eq!(
        check(json!({ "exp": exp }), &rules(60)),
        Err(JoseError::Expired)
    );
    assert_eq!(check(json!({ "exp": exp + 1 }), &rules(60)), Ok(()));
    assert_eq!(
        check(json!({ "exp": NOW }), &rules(0)),
        Err(JoseError::Expired)
    );
}

#[test]
fn refuses_nbf_beyond_leeway() {
    let base = json!({"exp": NOW + 600});
    let with = |nbf: i64| {
        let mut claims = base.clone();
        claims["nbf"] = json!(nbf);
        claims
    };
    assert_eq!(check(with(NOW + 60), &rules(60)), Ok(()));
    assert_eq!(
        check(with(NOW + 61), &rules(60)),
        Err(JoseError::NotYetValid)
    );
}

#[test]
fn refuses_iat_beyond_leeway() {
    let claims = |iat: i64| json!({"exp": NOW + 600, "iat": iat});
    assert_eq!(check(claims(NOW + 60), &rules(60)), Ok(()));
    assert_eq!(
        check(claims(NOW + 61), &rules(60)),
        Err(JoseError::IssuedInFuture)
    );
}

#[test]
fn max_token_age_requires_a_recent_iat() {
    let aged = TimeRules {
        max_token_age: Some(300),
        ..rules(60)
    };
    assert_eq!(
        check(json!({"exp": NOW + 600}), &aged),
        Err(JoseError::ClaimMissing("iat"))
    );
    assert_eq!(
        check(json!({"exp": NOW + 600, "iat": NOW - 360}), &aged),
        Ok(())
    );
    assert_eq!(
        check(json!({"exp": NOW + 600, "iat": NOW - 361}), &aged),
        Err(JoseError::TooOld)
    );
}

#[test]
fn refuses_negative_and_absurd_times() {
    for exp in [
        json!(-1),
        json!(-0.5),
        json!(1e300),
        json!(u64::MAX),
        json!(253_402_300_800_i64),
    ] {
        assert_eq!(
            check(json!({ "exp": exp }), &rules(60)),
            Err(JoseError::ClaimOutOfRange("exp")),
            "{exp}"
        );
    }
    assert_eq!(
        check(json!({"exp": NOW + 60, "nbf": -5}), &rules(60)),
        Err(JoseError::ClaimOutOfRange("nbf"))
    );
}

#[test]
fn extreme_clock_and_leeway_do_not_overflow() {
    let extreme = TimeRules {
        now: i64::MAX,
        leeway: u64::MAX,
        require_exp: true,
        max_token_age: Some(u64::MAX),
    };
    assert_eq!(check(json!({"exp": 0, "iat": 0}), &extreme), Ok(()));
    let past = TimeRules {
        now: i64::MIN,
        ..extreme
    };
    assert_eq!(check(json!({"exp": 0, "nbf": 0, "iat": 0}), &past), Ok(()));
}
