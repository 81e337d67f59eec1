//! Durations (DESIGN §3 "Resource limits"): every duration is capped at 10 years; `11y`,
//! `3651d`, `87601h`, a number of seconds past the cap and huge digit strings are a 400 naming
//! the field and the limit, wherever a duration is read; 10 years exactly is accepted; and every
//! time an answer shows, even 10 years ahead, is RFC 3339.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sigil::clock::rfc3339;

use super::{assert_healthy, assert_invalid_request, caller_token, with_caller};
use crate::external_idp::IdpKey;
use crate::support::{TestApp, TestResponse};

const TEN_YEARS: i64 = 10 * 365 * 86_400;

/// Key `k`, issuer `i` (max_ttl 365d, the most an issuer may have), role `r`.
async fn setup() -> TestApp {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer_with(json!({"name": "i", "signing_key": "k", "max_ttl": "365d"}))
        .await;
    app.create_role("i", json!({"name": "r"})).await;
    app
}

/// Where a duration is read: the field, and the request carrying `duration` there.
fn places(duration: &Value) -> Vec<(&'static str, Method, &'static str, Value)> {
    let jwk = IdpKey::es256("d").jwk();
    vec![
        (
            "rotation_period",
            Method::POST,
            "/v1/config/signing-keys?validate=true",
            json!({"name": "d", "type": "ed25519", "rotation_period": duration}),
        ),
        (
            "prepublish",
            Method::POST,
            "/v1/signing-keys/k/rotate?validate=true",
            json!({"prepublish": duration}),
        ),
        (
            "default_ttl",
            Method::POST,
            "/v1/config/jwt-issuers?validate=true",
            json!({"name": "d", "signing_key": "k", "default_ttl": duration, "max_ttl": "365d"}),
        ),
        (
            "max_ttl",
            Method::POST,
            "/v1/config/jwt-issuers?validate=true",
            json!({"name": "d", "signing_key": "k", "max_ttl": duration}),
        ),
        (
            "default_ttl",
            Method::POST,
            "/v1/config/jwt-issuers/i/roles?validate=true",
            json!({"name": "d", "default_ttl": duration}),
        ),
        (
            "max_ttl",
            Method::POST,
            "/v1/config/jwt-issuers/i/roles?validate=true",
            json!({"name": "d", "max_ttl": duration}),
        ),
        (
            "ttl",
            Method::POST,
            "/v1/jwt-issuers/i/roles/r/mint",
            json!({"ttl": duration}),
        ),
        (
            "max_token_age",
            Method::POST,
            "/v1/config/trusted-issuers?validate=true",
            json!({"name": "d", "issuer": "https://d.example.com", "keys": [jwk],
                   "max_token_age": duration}),
        ),
    ]
}

/// Whether a reason states the 10-year cap, or the field's own lower maximum.
fn names_the_cap(reason: &str) -> bool {
    let reason = reason.to_ascii_lowercase();
    [
        "10y",
        "10 years",
        "ten years",
        "3650d",
        "315360000",
        "between",
        "above",
    ]
    .iter()
    .any(|cap| reason.contains(cap))
        || super::names_a_limit(&reason)
}

/// The places where 10 years is the only cap.
const TEN_YEARS_ALLOWED: [&str; 3] = ["rotation_period", "prepublish", "max_token_age"];

fn assert_over_the_cap(answer: &TestResponse, field: &str, case: &str) {
    assert_invalid_request(answer, case);
    assert!(
        answer.field_names().contains(&field),
        "{case}: the answer names {field}: {}",
        answer.text
    );
    let reason = answer.field(field)["reason"].as_str().unwrap_or_default();
    assert!(
        names_the_cap(reason),
        "{case}: the reason names the 10-year cap: {reason}"
    );
}

#[tokio::test]
async fn a_duration_over_ten_years_is_refused_naming_the_field_and_the_limit() {
    let app = setup().await;
    let huge_digits = format!("{}d", "9".repeat(1_000));
    let over = [
        json!("11y"),
        json!("10y1s"),
        json!("3651d"),
        json!("87601h"),
        json!("5256001m"),
        json!("315360001s"),
        json!("9y365d1s"),
        json!(315_360_001),
        json!("18446744073709551615s"),
        json!("18446744073709551616s"),
        json!("99999999999999999999999999y"),
        json!(u64::MAX),
        json!(huge_digits),
    ];

    for duration in &over {
        for (field, method, path, body) in places(duration) {
            let case = format!("{field} = {} at {path}", clip(duration));
            let answer = app.send_json(method, path, &body).await;
            assert_over_the_cap(&answer, field, &case);
        }
    }
    assert_eq!(
        app.key_state("k").await["versions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert_healthy(&app).await;
}

fn clip(value: &Value) -> String {
    value.to_string().chars().take(40).collect()
}

#[tokio::test]
async fn a_duration_over_ten_years_in_yaml_is_refused_naming_the_field() {
    let app = setup().await;

    let answer = app
        .root(Method::POST, "/v1/config/signing-keys?validate=true")
        .yaml("name: d\ntype: ed25519\nrotation-period: 3651d\n")
        .send()
        .await;

    assert_over_the_cap(&answer, "rotation_period", "YAML rotation-period");
}

#[tokio::test]
async fn a_duration_of_exactly_ten_years_is_accepted() {
    let app = setup().await;

    for duration in [
        json!("10y"),
        json!("3650d"),
        json!("87600h"),
        json!("315360000s"),
        json!(315_360_000),
    ] {
        for (field, method, path, body) in places(&duration) {
            if !TEN_YEARS_ALLOWED.contains(&field) {
                continue;
            }
            let case = format!("{field} = {duration} at {path}");
            let answer = app.send_json(method, path, &body).await;
            assert!(answer.status.is_success(), "{case}: {}", answer.text);
        }
    }
}

#[tokio::test]
async fn a_token_minted_for_the_longest_ttl_shows_its_expiry_as_rfc_3339() {
    let app = setup().await;
    let year = 365 * 86_400;

    let minted = app.mint_ok("i", "r", &json!({"ttl": "365d"})).await;

    assert_eq!(minted.claims["exp"], app.now() + year);
    assert_eq!(minted.answer["expires_at"], rfc3339(app.now() + year));
    assert_times_are_rfc3339(&minted.answer, "mint");
}

#[tokio::test]
async fn every_time_an_answer_shows_is_rfc_3339() {
    let app = setup().await;
    app.create_key_with(json!({"name": "slow", "type": "ed25519", "rotation_period": "10y"}))
        .await;
    let rotated = app
        .send_json(
            Method::POST,
            "/v1/signing-keys/slow/rotate",
            &json!({"prepublish": "10y"}),
        )
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let (app, key) = with_caller(
        app,
        json!([{"path": "/signing-keys", "operations": ["read"]}]),
    )
    .await;
    let login = app
        .call(Method::POST, "/v1/auth/login/ci")
        .token(&caller_token(&app, &key, json!({})))
        .send()
        .await;
    assert_eq!(login.status, StatusCode::OK, "{}", login.text);
    let fresh = TestApp::builder().uninitialised().build().await;
    let init = fresh
        .call(Method::POST, "/v1/sys/init")
        .json(&json!({"shares": 1, "threshold": 1}))
        .send()
        .await;
    assert_eq!(init.status, StatusCode::OK, "{}", init.text);

    let mut answers = vec![
        ("rotate", rotated.json),
        ("login", login.json),
        ("init", init.json),
    ];
    for path in [
        "/v1/state/signing-keys",
        "/v1/state/signing-keys/slow",
        "/v1/state/jwt-issuers",
        "/v1/state/jwt-issuers/i/roles",
        "/v1/state/trusted-issuers",
        "/v1/state/identity-mappings",
        "/v1/state/policies",
    ] {
        let answer = app.get(path).await;
        assert_eq!(answer.status, StatusCode::OK, "{path}: {}", answer.text);
        answers.push((path, answer.json));
    }
    for (case, answer) in &answers {
        assert_times_are_rfc3339(answer, case);
    }
    let slow = app.key_state("slow").await;
    let activates = slow["versions"][1]["activates_at"]
        .as_str()
        .unwrap_or_default();
    assert_eq!(activates, rfc3339(app.now() + TEN_YEARS), "{slow}");
}

/// Asserts every member named `*_at` (or `time`) anywhere in `value` is an RFC 3339 string or
/// null.
fn assert_times_are_rfc3339(value: &Value, case: &str) {
    let mut pending = vec![("".to_owned(), value)];
    let mut seen = 0;
    while let Some((path, value)) = pending.pop() {
        match value {
            Value::Object(members) => {
                for (name, member) in members {
                    let at = format!("{path}/{name}");
                    if name.ends_with("_at") || name == "time" || name == "timestamp" {
                        seen += 1;
                        let parsed = member.as_str().map(|text| {
                            time::OffsetDateTime::parse(
                                text,
                                &time::format_description::well_known::Rfc3339,
                            )
                        });
                        assert!(
                            member.is_null() || matches!(parsed, Some(Ok(_))),
                            "{case}: {at} is not RFC 3339: {member}"
                        );
                    }
                    pending.push((at, member));
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    pending.push((format!("{path}/{index}"), item));
                }
            }
            _ => {}
        }
    }
    assert!(
        seen > 0 || case.starts_with("/v1/state/"),
        "{case}: no time shown in {value}"
    );
}
