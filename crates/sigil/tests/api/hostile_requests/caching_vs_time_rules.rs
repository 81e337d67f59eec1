//! Time-dependent rules hold at every use (DESIGN §3): a bearer token accepted once, and so in
//! the verified-caller cache, is judged again at each request against `exp`, the issuer's
//! `max_token_age`, the issuer being enabled and still holding its key, and the mappings and
//! policies in force. The `FixedClock` moves time; nothing sleeps.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{assert_api_error, assert_healthy, caller_token, with_caller};
use crate::external_idp::{Idp, IdpKey, claims_at, merged, put_mapping, put_policy, refresh};
use crate::support::{TestApp, TestResponse};

const TRUSTED: &str = "/v1/config/trusted-issuers/ci";

/// A caller (trusted issuer `ci`, default leeway 60 s) who may list signing keys.
async fn setup() -> (TestApp, IdpKey) {
    with_caller(
        TestApp::new().await,
        json!([{"path": "/signing-keys", "operations": ["read"]}]),
    )
    .await
}

/// [`setup`], then a token live for an hour, accepted and cached.
async fn cached_caller() -> (TestApp, IdpKey, String) {
    let (app, key) = setup().await;
    let token = caller_token(&app, &key, json!({"exp": app.now() + 3600}));
    accepted_and_cached(&app, &token).await;
    (app, key, token)
}

async fn list_keys(app: &TestApp, token: &str) -> TestResponse {
    app.call(Method::GET, "/v1/config/signing-keys")
        .token(token)
        .send()
        .await
}

/// Lists keys twice with `token` (so it is cached), asserting both are served.
async fn accepted_and_cached(app: &TestApp, token: &str) {
    for attempt in ["first use", "cached use"] {
        let answer = list_keys(app, token).await;
        assert_eq!(answer.status, StatusCode::OK, "{attempt}: {}", answer.text);
    }
}

/// Asserts 401 with `WWW-Authenticate` and `code`.
fn assert_refused(answer: &TestResponse, code: &str, case: &str) {
    assert_api_error(answer, StatusCode::UNAUTHORIZED, case);
    assert_eq!(answer.error_code(), code, "{case}: {}", answer.text);
    assert!(
        answer.header("www-authenticate").is_some(),
        "{case}: {:?}",
        answer.headers
    );
}

/// Asserts 200.
fn assert_served(answer: &TestResponse) {
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

/// Deletes `path` as root, asserting 204.
async fn delete(app: &TestApp, path: &str) {
    let deleted = app.root(Method::DELETE, path).send().await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
}

async fn patch_issuer(app: &TestApp, changes: Value) {
    let patched = app.send_json(Method::PATCH, TRUSTED, &changes).await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
}

#[tokio::test]
async fn a_cached_token_is_refused_once_past_exp_and_its_leeway() {
    let (app, key) = setup().await;
    let exp = app.now() + 300;
    let token = caller_token(&app, &key, json!({"exp": exp}));
    accepted_and_cached(&app, &token).await;

    app.clock.set(exp + 59);
    let within_leeway = list_keys(&app, &token).await;
    app.clock.set(exp + 61);
    let past = list_keys(&app, &token).await;

    assert_served(&within_leeway);
    assert_refused(&past, "token_expired", "61 s past exp");
}

#[tokio::test]
async fn a_cached_token_is_refused_at_exp_when_the_issuer_allows_no_leeway() {
    let (app, key) = setup().await;
    patch_issuer(&app, json!({"leeway": "0s"})).await;
    let exp = app.now() + 300;
    let token = caller_token(&app, &key, json!({"exp": exp}));
    accepted_and_cached(&app, &token).await;

    app.clock.set(exp);

    assert_refused(
        &list_keys(&app, &token).await,
        "token_expired",
        "at exp, no leeway",
    );
}

#[tokio::test]
async fn a_cached_token_is_refused_once_older_than_the_issuers_max_token_age() {
    let (app, key) = setup().await;
    patch_issuer(&app, json!({"max_token_age": "2m"})).await;
    let issued = app.now();
    let token = caller_token(&app, &key, json!({"iat": issued, "exp": issued + 3600}));
    accepted_and_cached(&app, &token).await;

    app.clock.set(issued + 120 + 59);
    let within = list_keys(&app, &token).await;
    app.clock.set(issued + 120 + 61);
    let too_old = list_keys(&app, &token).await;
    app.clock.set(issued + 1800);
    let much_later = list_keys(&app, &token).await;

    assert_served(&within);
    assert_refused(
        &too_old,
        "token_too_old",
        "max_token_age plus leeway passed",
    );
    assert_refused(&much_later, "token_too_old", "half an hour later");
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_issuer_sets_a_max_token_age_it_exceeds() {
    let (app, key) = setup().await;
    let issued = app.now();
    let token = caller_token(&app, &key, json!({"iat": issued, "exp": issued + 3600}));
    accepted_and_cached(&app, &token).await;
    app.clock.set(issued + 600);
    assert_eq!(list_keys(&app, &token).await.status, StatusCode::OK);

    patch_issuer(&app, json!({"max_token_age": "5m"})).await;

    assert_refused(
        &list_keys(&app, &token).await,
        "token_too_old",
        "max_token_age set later",
    );
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_issuer_is_disabled_and_served_once_enabled() {
    let (app, _, token) = cached_caller().await;

    patch_issuer(&app, json!({"enabled": false})).await;
    let disabled = list_keys(&app, &token).await;
    patch_issuer(&app, json!({"enabled": true})).await;
    let enabled = list_keys(&app, &token).await;

    assert_refused(&disabled, "issuer_disabled", "issuer disabled");
    assert_served(&enabled);
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_issuer_is_deleted() {
    let (app, _, token) = cached_caller().await;

    delete(&app, TRUSTED).await;

    assert_refused(
        &list_keys(&app, &token).await,
        "unknown_issuer",
        "issuer deleted",
    );
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_is_removed_from_the_issuers_inline_keys() {
    let (app, _, token) = cached_caller().await;
    let successor = IdpKey::es256("ci-2");

    patch_issuer(&app, json!({"keys": [successor.jwk()]})).await;
    let old = list_keys(&app, &token).await;
    let new = list_keys(&app, &caller_token(&app, &successor, json!({}))).await;

    assert_refused(&old, "unknown_key", "key removed");
    assert_served(&new);
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_is_replaced_under_the_same_kid() {
    let (app, key, token) = cached_caller().await;
    let impostor = IdpKey::es256(&key.kid);

    patch_issuer(&app, json!({"keys": [impostor.jwk()]})).await;

    let answer = list_keys(&app, &token).await;
    assert_api_error(&answer, StatusCode::UNAUTHORIZED, "same kid, another key");
}

#[tokio::test]
async fn a_cached_token_is_refused_once_its_key_is_rotated_out_of_the_jwks() {
    let app = TestApp::builder().allow_private_networks().build().await;
    let old = IdpKey::es256("old");
    let new = IdpKey::es256("new");
    let idp = Idp::start(&[&old]).await;
    crate::external_idp::trust_with(
        &app,
        "jwks",
        json!({"issuer": idp.issuer(), "jwks_url": idp.jwks_url(), "audiences_unchecked": true}),
    )
    .await;
    put_mapping(
        &app,
        "jwks-users",
        json!({"trusted_issuer": "jwks", "id_match": "user:([a-z]+)", "policies": ["lister"]}),
    )
    .await;
    put_policy(
        &app,
        "lister",
        json!([{"path": "/signing-keys", "operations": ["read"]}]),
    )
    .await;
    let sign = |key: &IdpKey| {
        key.sign(&merged(
            claims_at(idp.issuer(), app.now()),
            json!({"sub": "user:ann", "exp": app.now() + 3600}),
        ))
    };
    let token = sign(&old);
    accepted_and_cached(&app, &token).await;

    idp.publish(&[&new]);
    refresh(&app, "jwks").await;

    assert_refused(&list_keys(&app, &token).await, "unknown_key", "rotated out");
    assert_eq!(list_keys(&app, &sign(&new)).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_cached_token_loses_its_access_once_its_mapping_no_longer_applies() {
    let (app, _, token) = cached_caller().await;

    put_mapping(
        &app,
        "ci-users",
        json!({"trusted_issuer": "ci", "id_match": "user:(bob)", "policies": ["caller"]}),
    )
    .await;

    let answer = list_keys(&app, &token).await;
    assert_api_error(&answer, StatusCode::FORBIDDEN, "mapping no longer applies");
    assert_eq!(answer.error_code(), "permission_denied", "{}", answer.text);
}

#[tokio::test]
async fn a_cached_token_loses_its_access_once_its_mapping_grants_other_policies() {
    let (app, _, token) = cached_caller().await;

    put_mapping(
        &app,
        "ci-users",
        json!({"trusted_issuer": "ci", "id_match": "user:([a-z]+)", "policies": ["nothing"]}),
    )
    .await;

    let answer = list_keys(&app, &token).await;
    assert_api_error(
        &answer,
        StatusCode::FORBIDDEN,
        "mapping grants another policy",
    );
}

#[tokio::test]
async fn a_cached_token_loses_its_access_once_its_mapping_is_deleted() {
    let (app, _, token) = cached_caller().await;

    delete(&app, "/v1/config/identity-mappings/ci-users").await;

    let answer = list_keys(&app, &token).await;
    assert_api_error(&answer, StatusCode::FORBIDDEN, "mapping deleted");
}

#[tokio::test]
async fn a_cached_token_loses_its_access_once_its_policy_changes_or_goes() {
    let (app, _, token) = cached_caller().await;

    put_policy(
        &app,
        "caller",
        json!([{"path": "/policies", "operations": ["read"]}]),
    )
    .await;
    let narrowed = list_keys(&app, &token).await;
    put_policy(
        &app,
        "caller",
        json!([{"path": "/signing-keys", "operations": ["read"]}]),
    )
    .await;
    let restored = list_keys(&app, &token).await;
    delete(&app, "/v1/config/policies/caller").await;
    let gone = list_keys(&app, &token).await;

    assert_api_error(&narrowed, StatusCode::FORBIDDEN, "policy narrowed");
    assert_served(&restored);
    assert_api_error(&gone, StatusCode::FORBIDDEN, "policy deleted");
}

#[tokio::test]
async fn a_cached_token_sent_in_another_header_is_judged_again() {
    let (app, _, token) = cached_caller().await;
    patch_issuer(&app, json!({"header": "X-CI-Token"})).await;

    let in_authorization = list_keys(&app, &token).await;
    let in_its_header = app
        .call(Method::GET, "/v1/config/signing-keys")
        .header("X-CI-Token", &token)
        .send()
        .await;

    assert_api_error(
        &in_authorization,
        StatusCode::UNAUTHORIZED,
        "the old header",
    );
    assert_served(&in_its_header);
}

#[tokio::test]
async fn every_rule_is_judged_for_many_cached_callers_at_once() {
    let (app, key) = setup().await;
    patch_issuer(&app, json!({"max_token_age": "2m"})).await;
    let issued = app.now();
    let tokens: Vec<String> = (0..50)
        .map(|i| {
            caller_token(
                &app,
                &key,
                json!({"iat": issued, "exp": issued + 3600, "jti": format!("j{i}")}),
            )
        })
        .collect();
    for token in &tokens {
        assert_eq!(list_keys(&app, token).await.status, StatusCode::OK);
    }

    app.clock.set(issued + 600);

    for token in &tokens {
        assert_refused(
            &list_keys(&app, token).await,
            "token_too_old",
            "one of 50 cached callers",
        );
    }
    assert_healthy(&app).await;
}
