//! Replay (DESIGN §3 "Exchange"): a trusted issuer with `require_jti: true` lets each
//! `(iss, jti)` be redeemed once, across token exchange, jwt-bearer and JWT login, on every
//! node; using the token as the bearer of `/v1` calls does not redeem it, and a refused
//! request never spends it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{
    assert_api_error, assert_healthy, assert_oauth_status, caller_token, form, with_caller,
};
use crate::external_idp::{IdpKey, claims_at, merged, trust_with};
use crate::support::{TestApp, TestResponse};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

static JTI: AtomicUsize = AtomicUsize::new(0);

/// Issuer `i` with role `deployer`; trusted issuer `ci` with `require_jti`, whose `user:<name>`
/// tokens may mint `deployer` and list signing keys.
async fn setup(app: TestApp) -> (TestApp, IdpKey) {
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer("i", "k").await;
    app.create_role("i", json!({"name": "deployer"})).await;
    let (app, key) = with_caller(
        app,
        json!([
            {"path": "/jwt-issuers/i/roles/deployer/mint", "operations": ["update"]},
            {"path": "/signing-keys", "operations": ["read"]},
        ]),
    )
    .await;
    let patched = app
        .send_json(
            Method::PATCH,
            "/v1/config/trusted-issuers/ci",
            &json!({"require_jti": true}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    (app, key)
}

/// A `ci` token for `user:ann` with a jti never used before, valid for an hour.
fn fresh(app: &TestApp, key: &IdpKey) -> String {
    let jti = format!("replay-{}", JTI.fetch_add(1, Ordering::SeqCst));
    caller_token(app, key, json!({"jti": jti, "exp": app.now() + 3600}))
}

async fn login(app: &TestApp, token: &str) -> TestResponse {
    app.call(Method::POST, "/v1/auth/login/ci")
        .token(token)
        .send()
        .await
}

async fn exchange(app: &TestApp, token: &str, extra: &[(&str, &str)]) -> TestResponse {
    let mut params = vec![
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", token),
        ("subject_token_type", JWT_TYPE),
        ("scope", "deployer"),
    ];
    params.extend_from_slice(extra);
    app.call(Method::POST, "/jwt/i/oauth/token")
        .body("application/x-www-form-urlencoded", form(&params))
        .send()
        .await
}

async fn jwt_bearer(app: &TestApp, token: &str) -> TestResponse {
    let params = [
        ("grant_type", JWT_BEARER),
        ("assertion", token),
        ("scope", "deployer"),
    ];
    app.call(Method::POST, "/jwt/i/oauth/token")
        .body("application/x-www-form-urlencoded", form(&params))
        .send()
        .await
}

async fn as_bearer(app: &TestApp, token: &str) -> TestResponse {
    app.call(Method::GET, "/v1/config/signing-keys")
        .token(token)
        .send()
        .await
}

fn assert_served(answer: &TestResponse, case: &str) {
    assert_eq!(answer.status, StatusCode::OK, "{case}: {}", answer.text);
}

/// Asserts a login was refused as a replay: 401, the JSON error body, no session.
fn assert_login_refused(answer: &TestResponse, case: &str) {
    assert_api_error(answer, StatusCode::UNAUTHORIZED, case);
    assert!(
        answer.json.get("token").is_none(),
        "{case}: {}",
        answer.text
    );
}

/// Asserts an exchange or jwt-bearer was refused as `invalid_grant`, with the description
/// every refused token gets (that of a garbage token).
async fn assert_grant_refused(app: &TestApp, answer: &TestResponse, case: &str) {
    assert_oauth_status(answer, StatusCode::BAD_REQUEST, "invalid_grant", case);
    let garbage = exchange(app, "not-a-jwt", &[]).await;
    assert_eq!(
        answer.json["error_description"], garbage.json["error_description"],
        "{case}: a replay is no oracle: {}",
        answer.text
    );
    assert!(
        answer.json.get("access_token").is_none(),
        "{case}: {}",
        answer.text
    );
}

#[tokio::test]
async fn a_login_token_logs_in_once() {
    let (app, key) = setup(TestApp::new().await).await;
    let token = fresh(&app, &key);

    let first = login(&app, &token).await;
    let second = login(&app, &token).await;
    let third = login(&app, &token).await;

    assert_served(&first, "first login");
    assert_login_refused(&second, "second login");
    assert_login_refused(&third, "third login");
    assert_served(&login(&app, &fresh(&app, &key)).await, "a fresh token");
}

#[tokio::test]
async fn a_token_redeemed_by_exchange_cannot_log_in_or_be_exchanged_again() {
    let (app, key) = setup(TestApp::new().await).await;
    let token = fresh(&app, &key);

    assert_served(&exchange(&app, &token, &[]).await, "exchange");

    assert_login_refused(&login(&app, &token).await, "login after exchange");
    assert_grant_refused(&app, &exchange(&app, &token, &[]).await, "exchange again").await;
    assert_grant_refused(&app, &jwt_bearer(&app, &token).await, "jwt-bearer after").await;
}

#[tokio::test]
async fn a_token_redeemed_by_login_cannot_be_exchanged_or_presented_as_jwt_bearer() {
    let (app, key) = setup(TestApp::new().await).await;
    let token = fresh(&app, &key);

    assert_served(&login(&app, &token).await, "login");

    assert_grant_refused(
        &app,
        &exchange(&app, &token, &[]).await,
        "exchange after login",
    )
    .await;
    assert_grant_refused(
        &app,
        &jwt_bearer(&app, &token).await,
        "jwt-bearer after login",
    )
    .await;
}

#[tokio::test]
async fn a_token_redeemed_by_jwt_bearer_cannot_be_exchanged_or_log_in() {
    let (app, key) = setup(TestApp::new().await).await;
    let token = fresh(&app, &key);

    assert_served(&jwt_bearer(&app, &token).await, "jwt-bearer");

    assert_grant_refused(&app, &jwt_bearer(&app, &token).await, "jwt-bearer again").await;
    assert_grant_refused(&app, &exchange(&app, &token, &[]).await, "exchange after").await;
    assert_login_refused(&login(&app, &token).await, "login after jwt-bearer");
}

#[tokio::test]
async fn using_a_token_as_a_bearer_does_not_redeem_it() {
    let (app, key) = setup(TestApp::new().await).await;
    let for_login = fresh(&app, &key);
    let for_exchange = fresh(&app, &key);
    let for_jwt_bearer = fresh(&app, &key);

    for token in [&for_login, &for_exchange, &for_jwt_bearer] {
        for attempt in 0..3 {
            assert_served(
                &as_bearer(&app, token).await,
                &format!("bearer use {attempt}"),
            );
        }
    }

    assert_served(&login(&app, &for_login).await, "login after bearer use");
    assert_served(
        &exchange(&app, &for_exchange, &[]).await,
        "exchange after bearer use",
    );
    assert_served(
        &jwt_bearer(&app, &for_jwt_bearer).await,
        "jwt-bearer after bearer use",
    );
}

#[tokio::test]
async fn a_refused_exchange_does_not_spend_the_jti() {
    let (app, key) = setup(TestApp::new().await).await;
    let token = fresh(&app, &key);
    let t = token.as_str();

    for (case, params, error) in [
        (
            "an unknown role",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("subject_token_type", JWT_TYPE),
                ("scope", "nosuchrole"),
            ],
            "invalid_scope",
        ),
        (
            "an audience not allowed",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
                ("audience", "https://evil.example.com"),
            ],
            "invalid_target",
        ),
        (
            "an unsupported requested_token_type",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:saml2",
                ),
            ],
            "invalid_request",
        ),
        (
            "no subject_token_type",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("scope", "deployer"),
            ],
            "invalid_request",
        ),
        (
            "a repeated scope",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
                ("scope", "deployer"),
            ],
            "invalid_request",
        ),
        (
            "jwt-bearer for an unknown role",
            vec![
                ("grant_type", JWT_BEARER),
                ("assertion", t),
                ("scope", "nosuchrole"),
            ],
            "invalid_scope",
        ),
    ] {
        let refused = app
            .call(Method::POST, "/jwt/i/oauth/token")
            .body("application/x-www-form-urlencoded", form(&params))
            .send()
            .await;
        assert_oauth_status(&refused, StatusCode::BAD_REQUEST, error, case);
    }

    assert_served(
        &exchange(&app, &token, &[]).await,
        "the exchange after the refusals",
    );
}

#[tokio::test]
async fn a_refused_login_does_not_spend_the_jti() {
    let (app, key) = setup(TestApp::new().await).await;
    let other = IdpKey::es256("o1");
    trust_with(
        &app,
        "other",
        json!({"issuer": "https://other.example.com", "keys": [other.jwk()]}),
    )
    .await;
    let token = fresh(&app, &key);

    let wrong_issuer = app
        .call(Method::POST, "/v1/auth/login/other")
        .token(&token)
        .send()
        .await;
    app.app.seal_now().await;
    let sealed = login(&app, &token).await;
    app.unseal_with(1).await;

    assert!(
        wrong_issuer.status.is_client_error(),
        "{}",
        wrong_issuer.text
    );
    assert_eq!(
        sealed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        sealed.text
    );
    assert_served(&login(&app, &token).await, "the login after the refusals");
}

#[tokio::test]
async fn a_token_without_a_jti_is_refused_everywhere_it_would_be_redeemed() {
    let (app, key) = setup(TestApp::new().await).await;
    let without = caller_token(&app, &key, json!({"jti": null}));
    let empty = caller_token(&app, &key, json!({"jti": ""}));
    let numeric = caller_token(&app, &key, json!({"jti": 42}));

    for (case, token) in [
        ("no jti", without),
        ("an empty jti", empty),
        ("a numeric jti", numeric),
    ] {
        assert_login_refused(&login(&app, &token).await, &format!("login, {case}"));
        assert_grant_refused(&app, &exchange(&app, &token, &[]).await, case).await;
        assert_grant_refused(&app, &jwt_bearer(&app, &token).await, case).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_redemptions_of_one_token_succeed_exactly_once() {
    let (app, key) = setup(TestApp::new().await).await;
    let app = Arc::new(app);
    let token: Arc<str> = Arc::from(fresh(&app, &key));
    let barrier = Arc::new(tokio::sync::Barrier::new(90));

    let mut tasks = Vec::new();
    for i in 0..90 {
        let (app, token, barrier) = (app.clone(), token.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            match i % 3 {
                0 => login(&app, &token).await,
                1 => exchange(&app, &token, &[]).await,
                _ => jwt_bearer(&app, &token).await,
            }
        }));
    }
    let mut served = 0;
    for task in tasks {
        let answer = task.await.expect("the request task");
        assert!(!answer.status.is_server_error(), "{}", answer.text);
        if answer.status == StatusCode::OK {
            served += 1;
        } else {
            assert!(
                matches!(
                    answer.status,
                    StatusCode::UNAUTHORIZED | StatusCode::BAD_REQUEST
                ),
                "{}",
                answer.text
            );
        }
    }

    assert_eq!(served, 1, "one redemption among 90 concurrent ones");
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_token_redeemed_on_one_node_is_refused_on_another() {
    let (app, key) = setup(TestApp::new().await).await;
    let by_login = fresh(&app, &key);
    let by_exchange = fresh(&app, &key);
    assert_served(&login(&app, &by_login).await, "login on node a");
    assert_served(
        &exchange(&app, &by_exchange, &[]).await,
        "exchange on node a",
    );

    let node_b = app.second_node().await;

    assert_login_refused(&login(&node_b, &by_login).await, "login again on node b");
    assert_grant_refused(
        &node_b,
        &exchange(&node_b, &by_login, &[]).await,
        "exchange on b",
    )
    .await;
    assert_login_refused(
        &login(&node_b, &by_exchange).await,
        "login on b after exchange",
    );
    assert_served(
        &login(&node_b, &fresh(&app, &key)).await,
        "a fresh token on node b",
    );
}

#[tokio::test]
async fn the_same_jti_from_another_trusted_issuer_is_its_own_redemption() {
    let (app, key) = setup(TestApp::new().await).await;
    let other = IdpKey::es256("o1");
    trust_with(
        &app,
        "other",
        json!({"issuer": "https://other.example.com", "keys": [other.jwk()],
               "audiences_unchecked": true, "require_jti": true}),
    )
    .await;
    crate::external_idp::put_mapping(
        &app,
        "other-users",
        json!({"trusted_issuer": "other", "id_match": "user:([a-z]+)", "policies": ["caller"]}),
    )
    .await;
    let shared: Value = json!({"jti": "shared", "sub": "user:ann", "exp": app.now() + 3600});
    let ours = caller_token(&app, &key, shared.clone());
    let theirs = other.sign(&merged(
        claims_at("https://other.example.com", app.now()),
        shared,
    ));

    assert_served(&login(&app, &ours).await, "ci's token");
    let answer = app
        .call(Method::POST, "/v1/auth/login/other")
        .token(&theirs)
        .send()
        .await;
    assert_served(&answer, "other's token with the same jti");
}
