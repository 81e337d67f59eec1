//! Policy paths (DESIGN §3 "Policies"): a trailing `**` matches one or more segments, so
//! `/signing-keys/k1/**` covers `/signing-keys/k1/rotate` but not `/signing-keys/k1`; and no
//! spelling of a request path (encoded slashes and dots, doubled or trailing slashes, case,
//! double encoding, bytes that are not UTF-8) reaches a resource no rule covers, each refusal
//! answered with the JSON error body.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    assert_api_error, assert_healthy, assert_json_error, assert_no_server_error, caller_token,
    with_caller,
};
use crate::support::{TestApp, TestResponse};

/// Keys `k1` and `secret`, and a caller whose policy has `rules`.
async fn setup(rules: Value) -> (TestApp, String) {
    let app = TestApp::new().await;
    app.create_key("k1", "ed25519").await;
    app.create_key("secret", "ed25519").await;
    let (app, key) = with_caller(app, rules).await;
    let token = caller_token(&app, &key, json!({"exp": app.now() + 3600}));
    (app, token)
}

fn all_operations(path: &str) -> Value {
    json!({"path": path, "operations": ["create", "read", "update", "delete"]})
}

async fn send(app: &TestApp, token: &str, method: Method, path: &str) -> TestResponse {
    let call = app.call(method.clone(), path).token(token);
    if matches!(method, Method::POST | Method::PUT | Method::PATCH) {
        call.json(&json!({})).send().await
    } else {
        call.send().await
    }
}

/// Asserts 403 `permission_denied` naming `resource`.
fn assert_denied(answer: &TestResponse, resource: &str, case: &str) {
    assert_api_error(answer, StatusCode::FORBIDDEN, case);
    assert_eq!(
        answer.error_code(),
        "permission_denied",
        "{case}: {}",
        answer.text
    );
    assert!(
        answer.json["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&format!("`{resource}`")),
        "{case}: the message names {resource}: {}",
        answer.text
    );
}

/// Asserts the key `name` still exists with exactly `versions` versions.
async fn assert_key_untouched(app: &TestApp, name: &str, versions: usize) {
    let state = app.key_state(name).await;
    assert_eq!(
        state["versions"].as_array().map(Vec::len),
        Some(versions),
        "{name}: {state}"
    );
}

// ---- a trailing ** is one or more segments ----

#[tokio::test]
async fn a_trailing_double_star_covers_the_actions_below_an_item_but_not_the_item() {
    let (app, token) = setup(json!([all_operations("/signing-keys/k1/**")])).await;

    let rotated = send(&app, &token, Method::POST, "/v1/signing-keys/k1/rotate").await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);

    for (method, path) in [
        (Method::GET, "/v1/config/signing-keys/k1"),
        (Method::GET, "/v1/state/signing-keys/k1"),
        (Method::PATCH, "/v1/config/signing-keys/k1"),
        (Method::PUT, "/v1/config/signing-keys/k1"),
        (Method::DELETE, "/v1/config/signing-keys/k1"),
    ] {
        let answer = send(&app, &token, method.clone(), path).await;
        assert_denied(&answer, "/signing-keys/k1", &format!("{method} {path}"));
    }
    assert_key_untouched(&app, "k1", 2).await;
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_trailing_double_star_does_not_cover_the_collection_it_is_under() {
    let (app, token) = setup(json!([
        all_operations("/signing-keys/**"),
        all_operations("/jwt-issuers/**"),
    ]))
    .await;

    let item = send(&app, &token, Method::GET, "/v1/config/signing-keys/k1").await;
    assert_eq!(item.status, StatusCode::OK, "{}", item.text);
    for (method, path, resource) in [
        (Method::GET, "/v1/config/signing-keys", "/signing-keys"),
        (Method::GET, "/v1/state/signing-keys", "/signing-keys"),
        (Method::POST, "/v1/config/signing-keys", "/signing-keys"),
        (Method::GET, "/v1/config/jwt-issuers", "/jwt-issuers"),
        (Method::POST, "/v1/config/jwt-issuers", "/jwt-issuers"),
    ] {
        let answer = send(&app, &token, method.clone(), path).await;
        assert_denied(&answer, resource, &format!("{method} {path}"));
    }
    assert_eq!(app.key_names().await.len(), 3);
}

#[tokio::test]
async fn an_item_rule_and_a_double_star_rule_together_cover_both() {
    let (app, token) = setup(json!([
        all_operations("/signing-keys/k1"),
        all_operations("/signing-keys/k1/**"),
    ]))
    .await;

    let read = send(&app, &token, Method::GET, "/v1/config/signing-keys/k1").await;
    let rotated = send(&app, &token, Method::POST, "/v1/signing-keys/k1/rotate").await;
    let other = send(&app, &token, Method::GET, "/v1/config/signing-keys/secret").await;

    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    assert_denied(&other, "/signing-keys/secret", "another key");
}

#[tokio::test]
async fn a_double_star_under_a_role_covers_its_mint_path_but_not_the_role() {
    let (app, token) = setup(json!([all_operations("/jwt-issuers/i/roles/r/**")])).await;
    app.create_issuer("i", "k1").await;
    app.create_role("i", json!({"name": "r"})).await;

    let minted = app
        .call(Method::POST, "/v1/jwt-issuers/i/roles/r/mint")
        .token(&token)
        .json(&json!({}))
        .send()
        .await;
    let role = send(
        &app,
        &token,
        Method::GET,
        "/v1/config/jwt-issuers/i/roles/r",
    )
    .await;
    let deleted = send(
        &app,
        &token,
        Method::DELETE,
        "/v1/config/jwt-issuers/i/roles/r",
    )
    .await;

    assert_eq!(minted.status, StatusCode::OK, "{}", minted.text);
    assert_denied(&role, "/jwt-issuers/i/roles/r", "read the role");
    assert_denied(&deleted, "/jwt-issuers/i/roles/r", "delete the role");
}

// ---- spellings of a path ----

/// Paths that name something other than `k1` (or nothing), each tried by a caller who may do
/// anything to `k1` and below it, and nothing else.
const TRICKS: [(&str, &str); 34] = [
    ("GET", "/v1/config/signing-keys/k1%2F..%2Fsecret"),
    ("GET", "/v1/config/signing-keys/k1%2f..%2fsecret"),
    ("GET", "/v1/config/signing-keys/k1/../secret"),
    ("GET", "/v1/config/signing-keys/k1/%2e%2e/secret"),
    ("GET", "/v1/config/signing-keys/%2e%2e%2Fsecret"),
    ("GET", "/v1/config/signing-keys/..%2Fsecret"),
    ("GET", "/v1/config/signing-keys/%2E%2E"),
    ("GET", "/v1/config/signing-keys/.."),
    ("GET", "/v1/config/signing-keys/."),
    ("GET", "/v1/config/signing-keys/%2e"),
    ("GET", "/v1/config/signing-keys//secret"),
    ("GET", "//v1/config/signing-keys/secret"),
    ("GET", "/v1/config//signing-keys/secret"),
    ("GET", "/v1/config/signing-keys/secret/"),
    ("GET", "/v1/config/signing-keys/"),
    ("GET", "/V1/config/signing-keys/secret"),
    ("GET", "/v1/CONFIG/signing-keys/secret"),
    ("GET", "/v1/config/Signing-Keys/secret"),
    ("GET", "/v1/config/signing-keys/SECRET"),
    ("GET", "/v1/config/signing-keys/%73ecret"),
    ("GET", "/v1/config/signing-keys/secret%00"),
    ("GET", "/v1/config/signing-keys/k1%2Fsecret"),
    ("GET", "/v1/config/signing-keys/%252e%252e%252fsecret"),
    ("GET", "/v1/config/signing-keys/k1%252F..%252Fsecret"),
    ("GET", "/v1/config/signing-keys/%FF"),
    ("GET", "/v1/config/signing-keys/k1%FF"),
    ("GET", "/v1/config/signing-keys/%C0%AE%C0%AE"),
    ("GET", "/v1/config/signing-keys/secret;k1"),
    ("GET", "/v1/config/signing-keys/k1/..%2F..%2Fpolicies"),
    ("POST", "/v1/signing-keys/k1%2F..%2Fsecret/rotate"),
    ("POST", "/v1/signing-keys/k1/rotate/../../secret/rotate"),
    ("POST", "/v1/signing-keys/%FF/rotate"),
    ("DELETE", "/v1/config/signing-keys/k1%2F..%2Fsecret"),
    ("DELETE", "/v1/config/signing-keys/k1/..%2Fsecret"),
];

#[tokio::test]
async fn no_spelling_of_a_path_reaches_a_resource_the_policy_does_not_cover() {
    let (app, token) = setup(json!([
        all_operations("/signing-keys/k1"),
        all_operations("/signing-keys/k1/**"),
    ]))
    .await;

    for (method, path) in TRICKS {
        let method: Method = method.parse().expect("a method");
        let case = format!("{method} {path}");
        let answer = send(&app, &token, method, path).await;
        assert_no_server_error(&answer, &case);
        assert!(
            answer.status.is_client_error(),
            "{case} must be refused: {} {}",
            answer.status,
            answer.text
        );
        assert_json_error(&answer, &case);
    }
    assert_key_untouched(&app, "secret", 1).await;
    assert_key_untouched(&app, "k1", 1).await;
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_path_parameter_that_is_not_utf8_answers_the_json_error_body() {
    let app = TestApp::new().await;
    app.create_key("k1", "ed25519").await;
    app.create_issuer("i", "k1").await;

    for (method, path, with_token) in [
        (Method::GET, "/v1/config/signing-keys/%FF", true),
        (Method::GET, "/v1/config/signing-keys/%FF", false),
        (Method::GET, "/v1/state/signing-keys/%FE%FF", true),
        (Method::DELETE, "/v1/config/signing-keys/%C3%28", true),
        (Method::POST, "/v1/signing-keys/%FF/rotate", true),
        (Method::GET, "/v1/config/jwt-issuers/%FF/roles", true),
        (Method::GET, "/v1/config/jwt-issuers/i/roles/%FF", true),
        (Method::POST, "/v1/jwt-issuers/i/roles/%FF/mint", true),
        (Method::POST, "/v1/auth/login/%FF", false),
        (Method::GET, "/jwt/%FF/.well-known/jwks.json", false),
        (
            Method::GET,
            "/jwt/%FF/.well-known/openid-configuration",
            false,
        ),
        (Method::POST, "/v1/signing-keys/k1/versions/%FF/taint", true),
        (Method::POST, "/v1/signing-keys/k1/versions/one/taint", true),
        (
            Method::POST,
            "/v1/signing-keys/k1/versions/99999999999999999999999/revoke",
            true,
        ),
        (Method::POST, "/v1/signing-keys/k1/versions/-1/revoke", true),
    ] {
        let case = format!("{method} {path}");
        let mut call = app.call(method, path);
        if with_token {
            call = call.token(&app.root_token);
        }
        let answer = call.json(&json!({})).send().await;
        assert_no_server_error(&answer, &case);
        assert!(
            answer.status.is_client_error(),
            "{case}: {} {}",
            answer.status,
            answer.text
        );
        assert_json_error(&answer, &case);
        assert!(
            answer
                .header("content-type")
                .is_some_and(|t| t.starts_with("application/json")),
            "{case}: {:?}",
            answer.headers
        );
    }
    assert_key_untouched(&app, "k1", 1).await;
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_path_parameter_that_is_not_utf8_answers_rfc_6749_json_at_the_oauth_endpoints() {
    let app = TestApp::new().await;

    for path in ["/jwt/%FF/oauth/token", "/jwt/%C0%AF/oauth/introspect"] {
        let answer = app
            .call(Method::POST, path)
            .token(&app.root_token)
            .body("application/x-www-form-urlencoded", b"token=x".to_vec())
            .send()
            .await;
        assert_no_server_error(&answer, path);
        assert!(
            answer.status.is_client_error(),
            "{path}: {} {}",
            answer.status,
            answer.text
        );
        assert!(
            answer.json["error"].as_str().is_some_and(|e| !e.is_empty())
                && answer.json["error_description"].is_string(),
            "{path}: an RFC 6749 error body: {}",
            answer.text
        );
    }
}
