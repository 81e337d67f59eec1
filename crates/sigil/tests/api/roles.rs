//! Roles of a JWT issuer through HTTP (issue 3 item 3): defaults filled in, every validation
//! rule with its own test naming the field, ETags, and the role surviving a restart.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse};

const ROLES: &str = "/v1/config/jwt-issuers/ci/roles";

/// A server with key `k` and issuer `ci` (max_ttl 1h, default_ttl 30m).
async fn app_with_issuer() -> TestApp {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer_with(json!({
        "name": "ci", "signing_key": "k", "default_ttl": "30m", "max_ttl": "1h"
    }))
    .await;
    app
}

async fn post_role(app: &TestApp, body: Value) -> TestResponse {
    app.send_json(Method::POST, ROLES, &body).await
}

async fn role_names(app: &TestApp) -> Vec<String> {
    let list = app.get(&format!("{ROLES}?keys=true")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    serde_json::from_value(list.json).expect("names")
}

fn reason<'a>(refused: &'a TestResponse, field: &str) -> &'a str {
    refused.field(field)["reason"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn a_minimal_role_is_shown_with_every_default() {
    let app = app_with_issuer().await;

    let created = post_role(&app, json!({"name": "deployer"})).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.header("location"),
        Some("/v1/config/jwt-issuers/ci/roles/deployer")
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    let expected = json!({
        "name": "deployer",
        "subject_template": "{{identity.id}}",
        "fixed_claims": {},
        "allowed_claims": [],
        "allowed_audiences": [],
        "default_audiences": [],
        "require_audience": false,
        "required_claims": [],
        "token_type": "jwt",
        "verbose_logging": false,
        "limit_to_subject_exp": false
    });
    assert_eq!(created.json, expected);
    let read = app.get(&format!("{ROLES}/deployer")).await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.json, expected);
    assert_eq!(read.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn a_full_role_in_yaml_with_dashed_names_is_accepted() {
    let app = app_with_issuer().await;
    let yaml = "\
name: deployer
subject-template: 'deploy:{{identity.id}}'
fixed-claims:
  team-name: '{{identity.project}}'
allowed-claims:
  - name: env
    type: string
    allowed-values: ['prod', 'stage-*']
allowed-audiences: ['https://*.example.com']
default-audiences: ['https://api.example.com']
require-audience: true
required-claims: [env]
default-ttl: 5m
max-ttl: 3600s
token-type: at+jwt
verbose-logging: true
";

    let created = app.root(Method::POST, ROLES).yaml(yaml).send().await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.json,
        json!({
            "name": "deployer",
            "subject_template": "deploy:{{identity.id}}",
            "fixed_claims": {"team-name": "{{identity.project}}"},
            "allowed_claims": [
                {"name": "env", "type": "string", "allowed_values": ["prod", "stage-*"]}
            ],
            "allowed_audiences": ["https://*.example.com"],
            "default_audiences": ["https://api.example.com"],
            "require_audience": true,
            "required_claims": ["env"],
            "default_ttl": "5m",
            "max_ttl": "1h",
            "token_type": "at+jwt",
            "verbose_logging": true,
            "limit_to_subject_exp": false
        }),
        "fixed claim names are kept as written; durations are canonical"
    );
}

#[tokio::test]
async fn the_role_state_names_its_issuer_and_mint_path() {
    let app = app_with_issuer().await;
    post_role(&app, json!({"name": "deployer"})).await;

    let state = app.get("/v1/state/jwt-issuers/ci/roles/deployer").await;

    assert_eq!(state.status, StatusCode::OK, "{}", state.text);
    assert_eq!(state.json["jwt_issuer"], "ci");
    assert_eq!(
        state.json["mint_path"],
        "/v1/jwt-issuers/ci/roles/deployer/mint"
    );
    assert_eq!(state.json["subject_template"], "{{identity.id}}");
    assert_eq!(state.json["created_at"], sigil::clock::rfc3339(app.now()));
}

#[tokio::test]
async fn a_reserved_fixed_claim_is_refused_naming_it() {
    let app = app_with_issuer().await;

    for reserved in [
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "act", "cnf",
    ] {
        let refused = post_role(
            &app,
            json!({"name": "r", "fixed_claims": {reserved: "x", "team": "payments"}}),
        )
        .await;
        refused.assert_invalid(&[&format!("fixed_claims/{reserved}")]);
    }
    assert!(role_names(&app).await.is_empty());
}

#[tokio::test]
async fn a_role_max_ttl_above_the_issuers_is_refused_naming_max_ttl() {
    let app = app_with_issuer().await;

    let refused = post_role(&app, json!({"name": "r", "max_ttl": "61m"})).await;

    refused.assert_invalid(&["max_ttl"]);
    assert!(
        reason(&refused, "max_ttl").contains("1h"),
        "names the issuer's cap: {}",
        refused.text
    );
}

#[tokio::test]
async fn a_role_max_ttl_equal_to_the_issuers_is_accepted() {
    let app = app_with_issuer().await;

    let created = post_role(&app, json!({"name": "r", "max_ttl": "60m"})).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.json["max_ttl"], "1h");
}

#[tokio::test]
async fn a_role_default_ttl_above_its_max_ttl_is_refused_naming_default_ttl() {
    let app = app_with_issuer().await;

    post_role(
        &app,
        json!({"name": "r", "default_ttl": "20m", "max_ttl": "10m"}),
    )
    .await
    .assert_invalid(&["default_ttl"]);
}

#[tokio::test]
async fn a_role_default_ttl_above_the_issuers_max_ttl_is_refused_naming_default_ttl() {
    let app = app_with_issuer().await;

    post_role(&app, json!({"name": "r", "default_ttl": "2h"}))
        .await
        .assert_invalid(&["default_ttl"]);
}

#[tokio::test]
async fn a_malformed_role_duration_is_refused_naming_it() {
    let app = app_with_issuer().await;

    let refused = post_role(
        &app,
        json!({"name": "r", "default_ttl": "5h1d", "max_ttl": "1x"}),
    )
    .await;

    refused.assert_invalid(&["default_ttl", "max_ttl"]);
    assert!(reason(&refused, "max_ttl").contains("10m30s"));
}

#[tokio::test]
async fn an_allowed_claim_without_globs_is_refused_naming_its_allowed_values() {
    let app = app_with_issuer().await;

    let refused = post_role(
        &app,
        json!({"name": "r", "allowed_claims": [
            {"name": "env", "type": "string", "allowed_values": ["*"]},
            {"name": "tier", "type": "string", "allowed_values": []}
        ]}),
    )
    .await;

    refused.assert_invalid(&["allowed_claims/1/allowed_values"]);
}

#[tokio::test]
async fn an_allowed_claim_that_is_reserved_is_refused_naming_its_name() {
    let app = app_with_issuer().await;

    post_role(
        &app,
        json!({"name": "r", "allowed_claims": [
            {"name": "sub", "type": "string", "allowed_values": ["*"]}
        ]}),
    )
    .await
    .assert_invalid(&["allowed_claims/0/name"]);
}

#[tokio::test]
async fn an_allowed_claim_that_is_also_fixed_is_refused_naming_its_name() {
    let app = app_with_issuer().await;

    post_role(
        &app,
        json!({"name": "r", "fixed_claims": {"env": "prod"}, "allowed_claims": [
            {"name": "env", "type": "string", "allowed_values": ["*"]}
        ]}),
    )
    .await
    .assert_invalid(&["allowed_claims/0/name"]);
}

#[tokio::test]
async fn an_allowed_claim_listed_twice_is_refused_naming_the_second() {
    let app = app_with_issuer().await;

    post_role(
        &app,
        json!({"name": "r", "allowed_claims": [
            {"name": "env", "type": "string", "allowed_values": ["*"]},
            {"name": "env", "type": "number", "allowed_values": ["*"]}
        ]}),
    )
    .await
    .assert_invalid(&["allowed_claims/1/name"]);
}

#[tokio::test]
async fn an_allowed_claim_of_an_unknown_type_is_refused_naming_its_type() {
    let app = app_with_issuer().await;

    let refused = post_role(
        &app,
        json!({"name": "r", "allowed_claims": [
            {"name": "n", "type": "integer", "allowed_values": ["*"]}
        ]}),
    )
    .await;

    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(
        refused.field_names(),
        ["allowed_claims/0/type"],
        "{}",
        refused.text
    );
    assert!(role_names(&app).await.is_empty());
}

#[tokio::test]
async fn an_invalid_allowed_value_glob_is_refused_naming_it() {
    let app = app_with_issuer().await;

    post_role(
        &app,
        json!({"name": "r", "allowed_claims": [
            {"name": "env", "type": "string", "allowed_values": ["ok", "[unclosed"]}
        ]}),
    )
    .await
    .assert_invalid(&["allowed_claims/0/allowed_values/1"]);
}

#[tokio::test]
async fn an_invalid_audience_pattern_is_refused_naming_it() {
    let app = app_with_issuer().await;

    post_role(
        &app,
        json!({"name": "r", "allowed_audiences": ["https://a.example.com", "https://**", ""]}),
    )
    .await
    .assert_invalid(&["allowed_audiences/1", "allowed_audiences/2"]);
}

#[tokio::test]
async fn a_default_audience_not_allowed_is_refused_naming_it() {
    let app = app_with_issuer().await;

    let refused = post_role(
        &app,
        json!({
            "name": "r",
            "allowed_audiences": ["https://*.example.com"],
            "default_audiences": ["https://api.example.com", "https://evil.test"]
        }),
    )
    .await;

    refused.assert_invalid(&["default_audiences/1"]);
    assert!(reason(&refused, "default_audiences/1").contains("evil.test"));
}

#[tokio::test]
async fn a_default_audience_without_any_allowed_audiences_is_refused() {
    let app = app_with_issuer().await;

    post_role(
        &app,
        json!({"name": "r", "default_audiences": ["https://api.example.com"]}),
    )
    .await
    .assert_invalid(&["default_audiences/0"]);
}

#[tokio::test]
async fn an_unknown_placeholder_in_the_subject_template_is_refused() {
    let app = app_with_issuer().await;

    let refused = post_role(
        &app,
        json!({"name": "r", "subject_template": "user:{{env.HOME}}"}),
    )
    .await;

    refused.assert_invalid(&["subject_template"]);
    assert!(reason(&refused, "subject_template").contains("identity.id"));
}

#[tokio::test]
async fn an_unclosed_placeholder_in_the_subject_template_is_refused() {
    let app = app_with_issuer().await;

    post_role(
        &app,
        json!({"name": "r", "subject_template": "user:{{identity.id"}),
    )
    .await
    .assert_invalid(&["subject_template"]);
}

#[tokio::test]
async fn a_bad_template_in_a_fixed_claim_is_refused_naming_the_claim() {
    let app = app_with_issuer().await;

    post_role(
        &app,
        json!({"name": "r", "fixed_claims": {
            "ok": "{{identity.project}}",
            "nested": {"list": ["fine", "{{identity.claims.}}"]}
        }}),
    )
    .await
    .assert_invalid(&["fixed_claims/nested"]);
}

#[tokio::test]
async fn an_unknown_token_type_is_refused_naming_token_type() {
    let app = app_with_issuer().await;

    post_role(&app, json!({"name": "r", "token_type": "jwe"}))
        .await
        .assert_invalid(&["token_type"]);
}

#[tokio::test]
async fn every_bad_field_of_a_role_is_listed_at_once() {
    let app = app_with_issuer().await;

    let refused = post_role(
        &app,
        json!({
            "name": "r",
            "subject_template": "{{nope}}",
            "fixed_claims": {"sub": "x"},
            "allowed_audiences": ["a"],
            "default_audiences": ["b"],
            "max_ttl": "2h"
        }),
    )
    .await;

    refused.assert_invalid(&[
        "default_audiences/0",
        "fixed_claims/sub",
        "max_ttl",
        "subject_template",
    ]);
}

#[tokio::test]
async fn a_role_of_an_unknown_issuer_answers_404() {
    let app = app_with_issuer().await;

    app.send_json(
        Method::POST,
        "/v1/config/jwt-issuers/nope/roles",
        &json!({"name": "r"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/v1/config/jwt-issuers/ci/roles/nope")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn creating_an_existing_role_answers_409_already_exists() {
    let app = app_with_issuer().await;
    post_role(&app, json!({"name": "r"})).await;

    post_role(&app, json!({"name": "r"}))
        .await
        .assert_error(StatusCode::CONFLICT, "already_exists");
}

#[tokio::test]
async fn put_replaces_a_role_and_a_stale_if_match_answers_412() {
    let app = app_with_issuer().await;
    post_role(&app, json!({"name": "r", "fixed_claims": {"v": 1}})).await;
    let path = format!("{ROLES}/r");

    let replaced = app
        .root(Method::PUT, &path)
        .header("if-match", "\"1\"")
        .json(&json!({"fixed_claims": {"v": 2}}))
        .send()
        .await;
    assert_eq!(replaced.status, StatusCode::NO_CONTENT, "{}", replaced.text);
    assert_eq!(replaced.header("etag"), Some("\"2\""));

    let stale = app
        .root(Method::PUT, &path)
        .header("if-match", "\"1\"")
        .json(&json!({"fixed_claims": {"v": 3}}))
        .send()
        .await;
    stale.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    assert_eq!(app.get(&path).await.json["fixed_claims"], json!({"v": 2}));
}

#[tokio::test]
async fn patch_merges_into_a_role_and_a_stale_if_match_answers_412() {
    let app = app_with_issuer().await;
    post_role(
        &app,
        json!({"name": "r", "allowed_audiences": ["a"], "fixed_claims": {"x": 1, "y": 2}}),
    )
    .await;
    let path = format!("{ROLES}/r");

    let patched = app
        .send_json(
            Method::PATCH,
            &path,
            &json!({"fixed_claims": {"y": null, "z": 3}, "max_ttl": "10m"}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);

    let read = app.get(&path).await.json;
    assert_eq!(read["fixed_claims"], json!({"x": 1, "z": 3}));
    assert_eq!(read["max_ttl"], "10m");
    assert_eq!(read["allowed_audiences"], json!(["a"]));
    app.root(Method::PATCH, &path)
        .header("if-match", "\"1\"")
        .json(&json!({"max_ttl": "5m"}))
        .send()
        .await
        .assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    app.send_json(Method::PATCH, &path, &json!({"max_ttl": "2h"}))
        .await
        .assert_invalid(&["max_ttl"]);
}

#[tokio::test]
async fn deleting_a_role_answers_204_and_a_stale_if_match_answers_412() {
    let app = app_with_issuer().await;
    post_role(&app, json!({"name": "r"})).await;
    let path = format!("{ROLES}/r");

    app.root(Method::DELETE, &path)
        .header("if-match", "\"5\"")
        .send()
        .await
        .assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    let deleted = app.root(Method::DELETE, &path).send().await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert!(role_names(&app).await.is_empty());
    app.mint("ci", "r", &json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn roles_are_listed_sorted_and_survive_a_restart() {
    let app = app_with_issuer().await;
    for name in ["zeta", "alpha"] {
        post_role(&app, json!({"name": name, "max_ttl": "15m"})).await;
    }
    let before = app.get(ROLES).await.json;

    let app = app.restart().await;
    app.unseal_with(1).await;

    let after = app.get(ROLES).await.json;
    assert_eq!(after, before);
    assert_eq!(role_names(&app).await, ["alpha", "zeta"]);
    let minted = app.mint_ok("ci", "alpha", &json!({})).await;
    assert_eq!(
        minted.claims["exp"].as_i64().expect("exp") - app.now(),
        900,
        "the role's cap applies after a restart"
    );
}
