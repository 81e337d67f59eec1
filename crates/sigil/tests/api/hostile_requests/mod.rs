//! Hostile requests: the attack classes beyond the token itself (parsers, policies, caches,
//! concurrency, OAuth error rules, replay), each refused cleanly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod audience_globs;
mod caching_vs_time_rules;
mod concurrency;
mod cost;
mod durations;
mod oauth_errors;
mod parser_complexity;
mod policy_path_bypass;
mod regex_mapping;
mod replay;
mod sys_unseal;

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::external_idp::{IdpKey, claims_at, merged, put_mapping, put_policy, trust_with};
use crate::support::{TestApp, TestResponse};

/// The `iss` of the external issuer most classes use.
const CI_ISS: &str = "https://ci.example.com";

/// A server trusting `ci` ([`CI_ISS`], one inline ES256 key, any audience), whose tokens with
/// `sub` `user:<name>` map (mapping `ci-users`) to the policy `caller`, which has `rules`.
async fn with_caller(app: TestApp, rules: serde_json::Value) -> (TestApp, IdpKey) {
    let key = IdpKey::es256("ci-1");
    trust_with(
        &app,
        "ci",
        json!({"issuer": CI_ISS, "keys": [key.jwk()], "audiences_unchecked": true}),
    )
    .await;
    put_mapping(
        &app,
        "ci-users",
        json!({"trusted_issuer": "ci", "id_match": "user:([a-z]+)", "policies": ["caller"]}),
    )
    .await;
    put_policy(&app, "caller", rules).await;
    (app, key)
}

/// A `ci` token for `user:ann`, valid for five minutes from the app's now, with `changes`.
fn caller_token(app: &TestApp, key: &IdpKey, changes: serde_json::Value) -> String {
    key.sign(&merged(
        merged(claims_at(CI_ISS, app.now()), json!({"sub": "user:ann"})),
        changes,
    ))
}

/// `application/x-www-form-urlencoded` text of `params`.
fn form(params: &[(&str, &str)]) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish()
        .into_bytes()
}

/// Asserts an admin-API error: `status`, and the JSON error body `{message, error_code}`
/// rather than framework text.
fn assert_api_error(answer: &TestResponse, status: StatusCode, case: &str) {
    assert_eq!(answer.status, status, "{case}: {}", answer.text);
    assert_json_error(answer, case);
}

/// Asserts the JSON error body `{message, error_code}` of the admin API.
fn assert_json_error(answer: &TestResponse, case: &str) {
    assert!(
        answer.json["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{case}: an error body has a message: {} {}",
        answer.status,
        answer.text
    );
    assert!(
        answer.json["error_code"]
            .as_str()
            .is_some_and(|c| !c.is_empty()),
        "{case}: an error body has an error_code: {} {}",
        answer.status,
        answer.text
    );
}

/// Asserts a 400 with the admin API's `invalid_request` code.
fn assert_invalid_request(answer: &TestResponse, case: &str) {
    assert_eq!(
        answer.status,
        StatusCode::BAD_REQUEST,
        "{case}: {}",
        answer.text
    );
    assert_eq!(
        answer.error_code(),
        "invalid_request",
        "{case}: {}",
        answer.text
    );
}

/// Asserts an OAuth answer of `status` with the RFC 6749 §5.2 `error`.
fn assert_oauth_status(answer: &TestResponse, status: StatusCode, error: &str, case: &str) {
    assert_eq!(answer.status, status, "{case}: {}", answer.text);
    assert_eq!(answer.json["error"], error, "{case}: {}", answer.text);
}

/// Asserts the answer is no server error (DESIGN §2.3: a 5xx never answers bad input).
fn assert_no_server_error(answer: &TestResponse, case: &str) {
    assert!(
        !answer.status.is_server_error(),
        "{case}: a server error: {} {}",
        answer.status,
        answer.text
    );
}

/// Asserts a refusal of hostile input: 400 or 413, the JSON error body, and a text naming the
/// limit that was hit (or counting what it did not list), so the client knows what to fix.
fn assert_limit_refusal(answer: &TestResponse, case: &str) {
    assert!(
        matches!(
            answer.status,
            StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE
        ),
        "{case}: expected 400 or 413, got {} {}",
        answer.status,
        clipped(&answer.text)
    );
    assert_json_error(answer, case);
    assert!(
        names_a_limit(&answer.text),
        "{case}: the answer names no limit: {}",
        clipped(&answer.text)
    );
}

/// Whether a text speaks of a limit: "at most", "longer than", "too many", "limit", ...
fn names_a_limit(text: &str) -> bool {
    let text = text.to_ascii_lowercase();
    [
        "limit",
        "at most",
        "more than",
        " more ",
        "too many",
        "too long",
        "too large",
        "too deep",
        "maximum",
        "exceed",
        "deeper than",
        "longer than",
        "larger than",
    ]
    .iter()
    .any(|phrase| text.contains(phrase))
}

/// The first 600 characters of an answer, for failure messages about huge answers.
fn clipped(text: &str) -> String {
    text.chars().take(600).collect()
}

/// Asserts the server still serves: health, and the root token reading a collection.
async fn assert_healthy(app: &TestApp) {
    let health = app.call(Method::GET, "/healthz").send().await;
    assert_eq!(health.status, StatusCode::OK, "healthz: {}", health.text);
    let read = app.get("/v1/config/policies?keys=true").await;
    assert_eq!(
        read.status,
        StatusCode::OK,
        "after the attack: {}",
        read.text
    );
}
