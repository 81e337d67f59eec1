//! Claims of the wrong type or range, each in a token validly signed by `k1` so only the claim
//! refuses it: NumericDates as strings, negative or beyond 2^53, i64 and u64; a missing `exp`;
//! the leeway boundary on the `FixedClock`; `iss`, `aud`, `sub`, `jti`, `roles` and `prm`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::target::{Case, Findings, Refusal, Surface, Target, case, refused, served};

const INVALID: Refusal = refused("claim_invalid");

/// A `k1` token whose claim `name` is exactly the JSON text `value` (any number literal).
fn with_raw_claim(target: &Target, name: &str, value: &str) -> String {
    let claims = target.claims(json!({ name: null })).to_string();
    let header = target.header(json!({})).to_string();
    target.token_text(
        &header,
        &claims.replacen('{', &format!(r#"{{"{name}":{value},"#), 1),
    )
}

/// Cases setting claim `name` to each value, all `claim_invalid`.
fn typed(target: &Target, name: &str, values: Vec<Value>) -> Vec<Case> {
    values
        .into_iter()
        .map(|value| {
            // A `null` change would remove the claim, so `null` goes in as text.
            let token = if value.is_null() {
                with_raw_claim(target, name, "null")
            } else {
                target.token(json!({}), json!({ name: value }))
            };
            case(format!("{name} {value}"), token, INVALID)
        })
        .collect()
}

#[tokio::test]
async fn time_claims_of_the_wrong_type_or_range_are_refused() {
    let target = Target::start().await;
    let now = target.app.now();

    let mut cases = typed(
        &target,
        "exp",
        vec![
            json!((now + 300).to_string()),
            json!("2099-01-01T00:00:00Z"),
            json!(true),
            json!(null),
            json!([now + 300]),
            json!({"at": now + 300}),
            json!(-1),
            json!(-1.5),
            json!(9_007_199_254_740_993_i64),
            json!(9_223_372_036_854_775_808_u64),
            json!(1e20),
            json!(1e300),
            json!(253_402_300_800_i64),
        ],
    );
    cases.extend(typed(
        &target,
        "nbf",
        vec![
            json!("0"),
            json!(-1),
            json!(9_223_372_036_854_775_808_u64),
            json!(null),
        ],
    ));
    cases.extend(typed(
        &target,
        "iat",
        vec![
            json!(now.to_string()),
            json!(-1),
            json!(1e300),
            json!(false),
        ],
    ));
    for (name, value) in [
        ("exp", "18446744073709551616"),
        ("exp", "-9223372036854775809"),
        ("nbf", "18446744073709551616"),
        ("iat", "99999999999999999999999999"),
    ] {
        cases.push(case(
            format!("{name} {value} (beyond u64 or i64)"),
            with_raw_claim(&target, name, value),
            INVALID,
        ));
    }
    cases.push(case(
        "no exp",
        target.token(json!({}), json!({"exp": null})),
        INVALID,
    ));

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn time_claims_are_judged_exactly_at_the_leeway_boundary() {
    let target = Target::start().await;
    let now = target.app.now();
    let token = |changes: Value| target.token(json!({}), changes);
    let mut findings = Findings::default();

    for (name, changes, expected) in [
        (
            "exp leeway + 1 s ago",
            json!({"exp": now - 61}),
            "token_expired",
        ),
        (
            "exp exactly leeway ago",
            json!({"exp": now - 60}),
            "token_expired",
        ),
        (
            "exp leeway + 0.5 s ago",
            json!({"exp": now as f64 - 60.5}),
            "token_expired",
        ),
        (
            "exp an hour ago",
            json!({"exp": now - 3600}),
            "token_expired",
        ),
        ("exp at the epoch", json!({"exp": 0}), "token_expired"),
        (
            "nbf leeway + 1 s ahead",
            json!({"nbf": now + 61}),
            "token_not_yet_valid",
        ),
        (
            "nbf leeway + 0.5 s ahead",
            json!({"nbf": now as f64 + 60.5}),
            "token_not_yet_valid",
        ),
        (
            "nbf after exp",
            json!({"nbf": now + 400}),
            "token_not_yet_valid",
        ),
        (
            "iat leeway + 1 s ahead",
            json!({"iat": now + 61}),
            "token_issued_in_future",
        ),
        (
            "iat leeway + 0.5 s ahead",
            json!({"iat": now as f64 + 60.5}),
            "token_issued_in_future",
        ),
    ] {
        findings.note(
            name,
            target.refusal(&token(changes), refused(expected)).await,
        );
    }
    for (name, changes) in [
        ("exp leeway - 1 s ago", json!({"exp": now - 59})),
        ("nbf exactly leeway ahead", json!({"nbf": now + 60})),
        ("iat exactly leeway ahead", json!({"iat": now + 60})),
        (
            "a fractional exp ahead",
            json!({"exp": now as f64 + 300.25}),
        ),
    ] {
        let answer = target.present(Surface::Verify, &token(changes)).await;
        findings.note(&format!("{name} verifies"), served(&answer));
    }
    target.assert_no_findings(findings).await;
}

#[tokio::test]
async fn a_bearer_token_seen_before_is_refused_once_the_clock_passes_exp_plus_leeway() {
    let target = Target::start().await;
    let token = target.token(json!({}), json!({"exp": target.app.now() + 30}));
    let first = target.present(Surface::Bearer, &token).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);

    target.app.clock.advance(30 + 60);

    target
        .refusal(&token, refused("token_expired"))
        .await
        .unwrap_or_else(|problem| panic!("{problem}"));
    target.still_serving().await.expect("still serving");
}

#[tokio::test]
async fn iss_of_the_wrong_type_is_refused() {
    let target = Target::start().await;
    let mut cases = typed(
        &target,
        "iss",
        vec![
            json!(["https://ci.example.com"]),
            json!(42),
            json!(null),
            json!({"iss": "https://ci.example.com"}),
            json!(true),
        ],
    );
    cases.push(case(
        "no iss",
        target.token(json!({}), json!({"iss": null})),
        INVALID,
    ));

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn aud_of_the_wrong_type_is_refused() {
    let target = Target::start().await;
    let cases = typed(
        &target,
        "aud",
        vec![
            json!(42),
            json!({"aud": "api"}),
            json!(["api", 1]),
            json!([null]),
            json!(true),
            json!([["api"]]),
            json!(null),
        ],
    );

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn sub_jti_roles_and_prm_of_the_wrong_type_are_refused() {
    let target = Target::start().await;
    let mut cases = typed(
        &target,
        "sub",
        vec![
            json!(42),
            json!(["ci-job-42"]),
            json!({"id": "ci-job-42"}),
            json!(null),
            json!(true),
        ],
    );
    cases.extend(typed(
        &target,
        "jti",
        vec![json!(7), json!(["a"]), json!(null)],
    ));
    cases.extend(typed(
        &target,
        "roles",
        vec![
            json!("admin"),
            json!([1]),
            json!([["admin"]]),
            json!({"admin": true}),
            json!(null),
            json!([null]),
        ],
    ));
    cases.extend(typed(
        &target,
        "prm",
        vec![
            json!(-1),
            json!(1.5),
            json!(3.0),
            json!("3"),
            json!(true),
            json!([3]),
            json!(i64::MIN),
        ],
    ));
    for value in ["18446744073709551616", "1e19", "-0.0"] {
        cases.push(case(
            format!("prm {value}"),
            with_raw_claim(&target, "prm", value),
            INVALID,
        ));
    }

    target.assert_refused_all(&cases).await;
}
