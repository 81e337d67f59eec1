//! Minting through `POST /v1/jwt-issuers/{name}/roles/{role}/mint` (DESIGN §3 "Minting",
//! issue 3 item 4): one test per refusal, asserting status, `error_code` and the invalid
//! fields; the claims of accepted tokens, checked after `jsonwebtoken` (or `p521`) verified
//! them with the key found in the issuer's JWKS; and no torn reads while the role changes.

use std::collections::HashSet;
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sigil::clock::rfc3339;

use crate::support::{KEY_TYPES, MintedToken, TestApp, TestResponse, tampered, verify_with_jwks};

const PUBLIC_URL: &str = "https://sigil.test";
const ISS: &str = "https://sigil.test/jwt/ci";

/// Key `k` (ecdsa-p256), issuer `ci` (default_ttl 30m, max_ttl 1h) and role `r` from `role`.
async fn app_with_role(role: Value) -> TestApp {
    let app = TestApp::builder().public_url(PUBLIC_URL).build().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer_with(json!({
        "name": "ci", "signing_key": "k", "default_ttl": "30m", "max_ttl": "1h"
    }))
    .await;
    let mut role = role;
    role["name"] = json!("r");
    app.create_role("ci", role).await;
    app
}

async fn mint(app: &TestApp, body: Value) -> TestResponse {
    app.mint("ci", "r", &body).await
}

async fn mint_ok(app: &TestApp, body: Value) -> MintedToken {
    app.mint_ok("ci", "r", &body).await
}

/// Asserts a 400 listing exactly `field` with `code`, and that no token was minted.
fn assert_refused(refused: &TestResponse, field: &str, code: &str) {
    refused.assert_invalid(&[field]);
    assert_eq!(refused.field(field)["error_code"], code, "{}", refused.text);
    assert!(refused.json.get("token").is_none(), "{}", refused.text);
}

fn reason<'a>(refused: &'a TestResponse, field: &str) -> &'a str {
    refused.field(field)["reason"].as_str().unwrap_or_default()
}

/// Verifies the token against the issuer's published JWKS and answers its claims.
async fn verified(app: &TestApp, minted: &MintedToken) -> Value {
    let jwks = app.jwks("ci").await;
    assert_eq!(jwks.status, StatusCode::OK, "{}", jwks.text);
    verify_with_jwks(&minted.token, &jwks.json)
        .unwrap_or_else(|e| panic!("the token does not verify: {e}"))
}

fn exp_minus_now(app: &TestApp, minted: &MintedToken) -> i64 {
    minted.claims["exp"].as_i64().expect("exp") - app.now()
}

fn typed_claims_role() -> Value {
    json!({"allowed_claims": [
        {"name": "env", "type": "string", "allowed_values": ["prod", "stage-*"]},
        {"name": "build", "type": "number", "allowed_values": ["1*", "42"]},
        {"name": "canary", "type": "boolean", "allowed_values": ["true"]},
        {"name": "groups", "type": "string-array", "allowed_values": ["team-*", "ops"]}
    ]})
}

// ---- refusals: TTL ----

#[tokio::test]
async fn a_ttl_above_the_roles_max_ttl_is_refused_naming_ttl_and_the_cap() {
    let app = app_with_role(json!({"max_ttl": "10m"})).await;

    let refused = mint(&app, json!({"ttl": "11m"})).await;

    assert_refused(&refused, "ttl", "above_maximum");
    let why = reason(&refused, "ttl");
    assert!(why.contains("10m") && why.contains("role"), "{why}");
}

#[tokio::test]
async fn a_ttl_above_the_issuers_max_ttl_is_refused_naming_ttl_and_the_cap() {
    let app = app_with_role(json!({})).await;

    let refused = mint(&app, json!({"ttl": "2h"})).await;

    assert_refused(&refused, "ttl", "above_maximum");
    let why = reason(&refused, "ttl");
    assert!(why.contains("1h") && why.contains("issuer"), "{why}");
}

#[tokio::test]
async fn a_ttl_above_a_lowered_issuer_cap_is_refused_even_under_the_roles_cap() {
    let app = app_with_role(json!({"max_ttl": "1h"})).await;
    let lowered = app
        .send_json(
            Method::PATCH,
            "/v1/config/jwt-issuers/ci",
            &json!({"default_ttl": "10m", "max_ttl": "15m"}),
        )
        .await;
    assert_eq!(lowered.status, StatusCode::NO_CONTENT, "{}", lowered.text);

    let refused = mint(&app, json!({"ttl": "30m"})).await;

    assert_refused(&refused, "ttl", "above_maximum");
    assert!(reason(&refused, "ttl").contains("15m"), "{}", refused.text);
}

#[tokio::test]
async fn a_ttl_of_zero_is_refused_naming_ttl() {
    let app = app_with_role(json!({})).await;

    let refused = mint(&app, json!({"ttl": "0s"})).await;

    refused.assert_invalid(&["ttl"]);
}

#[tokio::test]
async fn a_malformed_ttl_is_refused_naming_ttl_and_the_format() {
    let app = app_with_role(json!({})).await;

    for ttl in ["1x", "5h1d", "h", ""] {
        let refused = mint(&app, json!({"ttl": ttl})).await;
        refused.assert_invalid(&["ttl"]);
        assert!(
            reason(&refused, "ttl").contains("10m30s"),
            "{}",
            refused.text
        );
    }
}

// ---- refusals: claims ----

#[tokio::test]
async fn every_reserved_claim_is_refused_naming_it() {
    let app = app_with_role(typed_claims_role()).await;

    for reserved in [
        "iss", "sub", "aud", "exp", "nbf", "iat", "jti", "act", "cnf",
    ] {
        let refused = mint(&app, json!({"claims": {reserved: "x"}})).await;
        assert_refused(&refused, &format!("claims/{reserved}"), "reserved");
    }
}

#[tokio::test]
async fn a_subject_given_by_the_caller_is_refused_naming_claims_sub() {
    let app = app_with_role(json!({"subject_template": "{{identity.id}}"})).await;

    let refused = mint(&app, json!({"claims": {"sub": "someone-else"}})).await;

    assert_refused(&refused, "claims/sub", "reserved");
}

#[tokio::test]
async fn a_claim_the_role_does_not_allow_is_refused_naming_it() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(&app, json!({"claims": {"env": "prod", "admin": true}})).await;

    assert_refused(&refused, "claims/admin", "not_allowed");
}

#[tokio::test]
async fn a_claim_is_refused_when_the_role_allows_no_claims() {
    let app = app_with_role(json!({})).await;

    let refused = mint(&app, json!({"claims": {"env": "prod"}})).await;

    assert_refused(&refused, "claims/env", "not_allowed");
}

#[tokio::test]
async fn a_number_for_a_string_claim_is_refused_as_invalid_type() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(&app, json!({"claims": {"env": 1}})).await;

    assert_refused(&refused, "claims/env", "invalid_type");
    assert!(reason(&refused, "claims/env").contains("string"));
}

#[tokio::test]
async fn a_string_for_a_number_claim_is_refused_as_invalid_type() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(&app, json!({"claims": {"build": "42"}})).await;

    assert_refused(&refused, "claims/build", "invalid_type");
    assert!(reason(&refused, "claims/build").contains("number"));
}

#[tokio::test]
async fn a_string_for_a_boolean_claim_is_refused_as_invalid_type() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(&app, json!({"claims": {"canary": "true"}})).await;

    assert_refused(&refused, "claims/canary", "invalid_type");
    assert!(reason(&refused, "claims/canary").contains("boolean"));
}

#[tokio::test]
async fn a_string_for_a_string_array_claim_is_refused_as_invalid_type() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(&app, json!({"claims": {"groups": "ops"}})).await;

    assert_refused(&refused, "claims/groups", "invalid_type");
    assert!(reason(&refused, "claims/groups").contains("string-array"));
}

#[tokio::test]
async fn a_string_array_with_a_number_element_is_refused_as_invalid_type() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(&app, json!({"claims": {"groups": ["ops", 7]}})).await;

    assert_refused(&refused, "claims/groups", "invalid_type");
}

#[tokio::test]
async fn an_object_or_null_for_a_string_claim_is_refused_as_invalid_type() {
    let app = app_with_role(typed_claims_role()).await;

    for value in [json!({"v": "prod"}), json!(null), json!(["prod"])] {
        let refused = mint(&app, json!({"claims": {"env": value}})).await;
        assert_refused(&refused, "claims/env", "invalid_type");
    }
}

#[tokio::test]
async fn a_string_value_matching_no_glob_is_refused_naming_it() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(&app, json!({"claims": {"env": "dev"}})).await;

    assert_refused(&refused, "claims/env", "not_allowed");
    assert!(reason(&refused, "claims/env").contains("dev"));
}

#[tokio::test]
async fn a_number_value_matching_no_glob_is_refused_naming_it() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(&app, json!({"claims": {"build": 7}})).await;

    assert_refused(&refused, "claims/build", "not_allowed");
}

#[tokio::test]
async fn a_boolean_value_matching_no_glob_is_refused_naming_it() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(&app, json!({"claims": {"canary": false}})).await;

    assert_refused(&refused, "claims/canary", "not_allowed");
}

#[tokio::test]
async fn a_string_array_with_one_bad_element_is_refused_naming_it() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(
        &app,
        json!({"claims": {"groups": ["team-a", "ops", "admins"]}}),
    )
    .await;

    assert_refused(&refused, "claims/groups", "not_allowed");
    assert!(reason(&refused, "claims/groups").contains("admins"));
}

#[tokio::test]
async fn a_glob_value_is_matched_not_trusted_as_a_pattern() {
    let app = app_with_role(typed_claims_role()).await;

    let refused = mint(&app, json!({"claims": {"env": "*"}})).await;

    assert_refused(&refused, "claims/env", "not_allowed");
}

#[tokio::test]
async fn a_missing_required_claim_is_refused_naming_it() {
    let mut role = typed_claims_role();
    role["required_claims"] = json!(["env", "build"]);
    let app = app_with_role(role).await;

    let refused = mint(&app, json!({"claims": {"env": "prod"}})).await;

    assert_refused(&refused, "claims/build", "required");
}

#[tokio::test]
async fn a_required_aud_is_refused_when_no_audience_results() {
    let app = app_with_role(json!({
        "allowed_audiences": ["https://*.example.com"], "required_claims": ["aud"]
    }))
    .await;

    let refused = mint(&app, json!({})).await;

    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(refused.json.get("token").is_none());
    let names = refused.field_names();
    assert!(
        names == ["claims/aud"] || names == ["audiences"],
        "{}",
        refused.text
    );
}

// ---- refusals: audiences ----

#[tokio::test]
async fn an_audience_matching_no_allowed_glob_is_refused_naming_it() {
    let app = app_with_role(json!({"allowed_audiences": ["https://*.example.com"]})).await;

    let refused = mint(
        &app,
        json!({"audiences": ["https://api.example.com", "https://evil.test"]}),
    )
    .await;

    assert_refused(&refused, "audiences/1", "not_allowed");
    assert!(reason(&refused, "audiences/1").contains("evil.test"));
}

#[tokio::test]
async fn an_audience_is_refused_when_the_role_allows_none() {
    let app = app_with_role(json!({})).await;

    let refused = mint(&app, json!({"audiences": ["https://api.example.com"]})).await;

    assert_refused(&refused, "audiences/0", "not_allowed");
}

#[tokio::test]
async fn require_audience_without_any_audience_is_refused_naming_audiences() {
    let app = app_with_role(json!({
        "allowed_audiences": ["https://*.example.com"], "require_audience": true
    }))
    .await;

    let omitted = mint(&app, json!({})).await;
    let empty = mint(&app, json!({"audiences": []})).await;

    assert_refused(&omitted, "audiences", "required");
    assert_refused(&empty, "audiences", "required");
}

// ---- refusals: templates ----

#[tokio::test]
async fn a_fixed_claim_template_without_a_value_is_refused_and_nothing_is_minted() {
    let app = app_with_role(json!({"fixed_claims": {
        "repo": "{{identity.claims.nope}}", "team": "payments"
    }}))
    .await;

    let refused = mint(&app, json!({})).await;

    assert_refused(&refused, "fixed_claims/repo", "template");
    assert!(reason(&refused, "fixed_claims/repo").contains("identity.claims.nope"));
}

#[tokio::test]
async fn an_embedded_template_without_a_value_is_refused_not_left_empty() {
    let app = app_with_role(json!({"fixed_claims": {
        "repo": "repo:{{identity.claims.nope}}"
    }}))
    .await;

    let refused = mint(&app, json!({})).await;

    assert_refused(&refused, "fixed_claims/repo", "template");
}

#[tokio::test]
async fn a_nested_fixed_claim_template_without_a_value_is_refused() {
    let app = app_with_role(json!({"fixed_claims": {
        "ctx": {"list": ["ok", "{{identity.claims.sub.deeper}}"]}
    }}))
    .await;

    let refused = mint(&app, json!({})).await;

    assert_refused(&refused, "fixed_claims/ctx", "template");
}

#[tokio::test]
async fn a_subject_template_without_a_value_is_refused_naming_subject_template() {
    let app = app_with_role(json!({"subject_template": "user:{{identity.claims.nope}}"})).await;

    let refused = mint(&app, json!({})).await;

    refused.assert_invalid(&["subject_template"]);
    assert!(refused.json.get("token").is_none());
}

// ---- refusals: request ----

#[tokio::test]
async fn every_bad_mint_field_is_listed_at_once() {
    let app = app_with_role(json!({"max_ttl": "10m"})).await;

    let refused = mint(
        &app,
        json!({
            "ttl": "20m",
            "audiences": ["https://api.example.com"],
            "claims": {"sub": "me", "admin": true}
        }),
    )
    .await;

    refused.assert_invalid(&["audiences/0", "claims/admin", "claims/sub", "ttl"]);
}

#[tokio::test]
async fn an_unknown_mint_field_is_refused_naming_it() {
    let app = app_with_role(json!({})).await;

    let refused = mint(&app, json!({"lifetime": "10m"})).await;

    refused.assert_invalid(&["lifetime"]);
    assert_eq!(refused.field("lifetime")["error_code"], "unknown_field");
}

#[tokio::test]
async fn minting_for_an_unknown_issuer_answers_404() {
    let app = app_with_role(json!({})).await;

    app.mint("nope", "r", &json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn minting_for_an_unknown_role_answers_404() {
    let app = app_with_role(json!({})).await;

    let refused = app.mint("ci", "nope", &json!({})).await;

    refused.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap_or_default()
            .contains("nope")
    );
}

#[tokio::test]
async fn minting_without_a_token_answers_401() {
    let app = app_with_role(json!({})).await;

    let refused = app
        .call(Method::POST, "/v1/jwt-issuers/ci/roles/r/mint")
        .json(&json!({}))
        .send()
        .await;

    refused.assert_error(StatusCode::UNAUTHORIZED, "token_missing");
    assert!(
        refused
            .header("www-authenticate")
            .unwrap_or_default()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn minting_with_a_minted_token_as_credentials_answers_401() {
    let app = app_with_role(json!({})).await;
    let minted = mint_ok(&app, json!({})).await;

    let refused = app
        .call(Method::POST, "/v1/jwt-issuers/ci/roles/r/mint")
        .token(&minted.token)
        .json(&json!({}))
        .send()
        .await;

    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
}

// ---- accepted tokens ----

#[tokio::test]
async fn a_minted_token_carries_every_registered_claim_and_verifies_against_the_jwks() {
    let app = app_with_role(json!({
        "subject_template": "deploy:{{identity.claims.sub}}",
        "allowed_audiences": ["https://*.example.com"]
    }))
    .await;
    let state = app.issuer_state("ci").await;

    let minted = app
        .mint(
            "ci",
            "r",
            &json!({"ttl": "10m", "audiences": ["https://api.example.com"]}),
        )
        .await;

    assert_eq!(minted.status, StatusCode::OK, "{}", minted.text);
    assert_eq!(minted.header("cache-control"), Some("no-store"));
    let answer = &minted.json;
    let token = answer["token"].as_str().expect("token");
    let (header, _) = crate::support::decode_unverified(token);
    let jwks = app.jwks("ci").await.json;
    let claims = verify_with_jwks(token, &jwks).expect("verifies with the JWKS key");
    let now = app.now();
    assert_eq!(claims["iss"], ISS);
    assert_eq!(claims["iss"], state["effective_issuer"]);
    assert_eq!(claims["sub"], "deploy:root");
    assert_eq!(claims["aud"], "https://api.example.com");
    assert_eq!(claims["iat"], now);
    assert_eq!(claims["nbf"], now);
    assert_eq!(claims["exp"], now + 600);
    assert_eq!(claims["jti"], answer["jti"]);
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 16));
    assert!(claims.get("client_id").is_none());
    assert_eq!(answer["expires_at"], rfc3339(now + 600));
    assert_eq!(answer["kid"], header["kid"]);
    assert_eq!(answer["kid"], state["signing_kid"]);
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "JWT");
    let mut keys: Vec<&str> = claims
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["aud", "exp", "iat", "iss", "jti", "nbf", "sub"]);
}

#[tokio::test]
async fn the_default_subject_is_the_callers_identity() {
    let app = app_with_role(json!({})).await;

    let minted = mint_ok(&app, json!({})).await;

    assert_eq!(verified(&app, &minted).await["sub"], "sigil:root");
}

#[tokio::test]
async fn several_audiences_are_an_array_in_the_order_requested() {
    let app = app_with_role(json!({"allowed_audiences": ["https://*.example.com", "urn:x"]})).await;

    let minted = mint_ok(
        &app,
        json!({"audiences": ["urn:x", "https://b.example.com"]}),
    )
    .await;

    assert_eq!(
        verified(&app, &minted).await["aud"],
        json!(["urn:x", "https://b.example.com"])
    );
}

#[tokio::test]
async fn the_singular_audience_alias_is_accepted() {
    let app = app_with_role(json!({"allowed_audiences": ["urn:*"]})).await;

    let minted = mint_ok(&app, json!({"audience": ["urn:a"]})).await;

    assert_eq!(minted.claims["aud"], "urn:a");
}

#[tokio::test]
async fn default_audiences_apply_when_none_are_requested() {
    let app = app_with_role(json!({
        "allowed_audiences": ["urn:*"], "default_audiences": ["urn:a", "urn:b"],
        "require_audience": true
    }))
    .await;

    let omitted = mint_ok(&app, json!({})).await;
    let requested = mint_ok(&app, json!({"audiences": ["urn:c"]})).await;

    assert_eq!(omitted.claims["aud"], json!(["urn:a", "urn:b"]));
    assert_eq!(
        requested.claims["aud"], "urn:c",
        "requested replace defaults"
    );
}

#[tokio::test]
async fn a_token_without_audiences_has_no_aud_claim() {
    let app = app_with_role(json!({"allowed_audiences": ["urn:*"]})).await;

    let minted = mint_ok(&app, json!({})).await;

    assert!(minted.claims.get("aud").is_none(), "{}", minted.claims);
}

#[tokio::test]
async fn fixed_claims_are_rendered_from_the_callers_identity() {
    let app = app_with_role(json!({"fixed_claims": {
        "team": "payments",
        "project": "{{identity.project}}",
        "who": "caller={{identity.id}} via {{identity.trusted_issuer}}",
        "policies": "{{identity.claims.policies}}",
        "nested": {"list": ["x", "{{identity.claims.sub}}"], "n": 5, "flag": false}
    }}))
    .await;

    let minted = mint_ok(&app, json!({})).await;

    let claims = verified(&app, &minted).await;
    assert_eq!(claims["team"], "payments");
    assert_eq!(claims["project"], "default");
    assert_eq!(claims["who"], "caller=sigil:root via sigil");
    assert_eq!(
        claims["policies"],
        json!(["root"]),
        "a lone placeholder keeps its type"
    );
    assert_eq!(
        claims["nested"],
        json!({"list": ["x", "root"], "n": 5, "flag": false})
    );
}

#[tokio::test]
async fn allowed_caller_claims_are_copied_with_their_types() {
    let app = app_with_role(typed_claims_role()).await;

    let minted = mint_ok(
        &app,
        json!({"claims": {
            "env": "stage-eu", "build": 1234, "canary": true, "groups": ["team-a", "ops"]
        }}),
    )
    .await;

    let claims = verified(&app, &minted).await;
    assert_eq!(claims["env"], "stage-eu");
    assert_eq!(claims["build"], 1234);
    assert_eq!(claims["canary"], true);
    assert_eq!(claims["groups"], json!(["team-a", "ops"]));
}

#[tokio::test]
async fn required_claims_are_met_by_caller_or_fixed_claims() {
    let mut role = typed_claims_role();
    role["fixed_claims"] = json!({"team": "payments"});
    role["required_claims"] = json!(["env", "team", "sub"]);
    let app = app_with_role(role).await;

    let minted = mint_ok(&app, json!({"claims": {"env": "prod"}})).await;

    assert_eq!(minted.claims["env"], "prod");
    assert_eq!(minted.claims["team"], "payments");
}

#[tokio::test]
async fn the_requested_ttl_sets_exp() {
    let app = app_with_role(json!({"default_ttl": "5m", "max_ttl": "20m"})).await;

    let minted = mint_ok(&app, json!({"ttl": "20m"})).await;

    assert_eq!(exp_minus_now(&app, &minted), 1200);
    assert_eq!(minted.answer["expires_at"], rfc3339(app.now() + 1200));
}

#[tokio::test]
async fn without_a_ttl_the_roles_default_ttl_applies() {
    let app = app_with_role(json!({"default_ttl": "5m"})).await;

    let minted = mint_ok(&app, json!({})).await;

    assert_eq!(exp_minus_now(&app, &minted), 300);
}

#[tokio::test]
async fn without_any_role_default_the_issuers_default_ttl_applies() {
    let app = app_with_role(json!({})).await;

    let minted = mint_ok(&app, json!({})).await;

    assert_eq!(exp_minus_now(&app, &minted), 1800);
}

#[tokio::test]
async fn the_issuers_default_ttl_is_capped_by_the_roles_max_ttl() {
    let app = app_with_role(json!({"max_ttl": "10m"})).await;

    let minted = mint_ok(&app, json!({})).await;

    assert_eq!(exp_minus_now(&app, &minted), 600);
}

#[tokio::test]
async fn the_roles_default_ttl_is_capped_by_a_lowered_issuer_max_ttl() {
    let app = app_with_role(json!({"default_ttl": "45m"})).await;
    let lowered = app
        .send_json(
            Method::PATCH,
            "/v1/config/jwt-issuers/ci",
            &json!({"default_ttl": "10m", "max_ttl": "15m"}),
        )
        .await;
    assert_eq!(lowered.status, StatusCode::NO_CONTENT, "{}", lowered.text);

    let minted = mint_ok(&app, json!({})).await;

    assert_eq!(exp_minus_now(&app, &minted), 900);
}

#[tokio::test]
async fn a_ttl_equal_to_the_cap_is_accepted() {
    let app = app_with_role(json!({"max_ttl": "10m"})).await;

    let minted = mint_ok(&app, json!({"ttl": "600s"})).await;

    assert_eq!(exp_minus_now(&app, &minted), 600);
}

#[tokio::test]
async fn a_yaml_mint_request_is_accepted() {
    let app = app_with_role(json!({"allowed_audiences": ["urn:*"]})).await;

    let minted = app
        .root(Method::POST, "/v1/jwt-issuers/ci/roles/r/mint")
        .yaml("ttl: 2m\naudiences: ['urn:y']\n")
        .send()
        .await;

    assert_eq!(minted.status, StatusCode::OK, "{}", minted.text);
    let (_, claims) =
        crate::support::decode_unverified(minted.json["token"].as_str().expect("token"));
    assert_eq!(claims["aud"], "urn:y");
    assert_eq!(claims["exp"].as_i64().expect("exp") - app.now(), 120);
}

#[tokio::test]
async fn an_empty_body_mints_with_the_defaults() {
    let app = app_with_role(json!({})).await;

    let minted = app
        .root(Method::POST, "/v1/jwt-issuers/ci/roles/r/mint")
        .send()
        .await;

    assert_eq!(minted.status, StatusCode::OK, "{}", minted.text);
}

#[tokio::test]
async fn every_jti_is_unique_across_100_mints() {
    let app = app_with_role(json!({})).await;
    let mut seen = HashSet::new();

    for _ in 0..100 {
        let minted = mint_ok(&app, json!({})).await;
        let jti = minted.claims["jti"].as_str().expect("jti").to_owned();
        assert_eq!(minted.answer["jti"], jti);
        assert!(seen.insert(jti), "a jti was reused");
    }
    assert_eq!(seen.len(), 100);
}

#[tokio::test]
async fn an_at_jwt_role_mints_rfc_9068_access_tokens() {
    let app = app_with_role(json!({
        "token_type": "at+jwt", "allowed_audiences": ["https://rs.example.com"],
        "default_audiences": ["https://rs.example.com"]
    }))
    .await;

    let minted = mint_ok(&app, json!({})).await;

    assert_eq!(minted.header["typ"], "at+jwt");
    let claims = verified(&app, &minted).await;
    assert_eq!(claims["client_id"], "sigil:root");
    // RFC 9068 §2.2: iss, exp, aud, sub, client_id, iat and jti are required.
    for name in ["iss", "exp", "aud", "sub", "client_id", "iat", "jti"] {
        assert!(claims.get(name).is_some(), "{name} missing: {claims}");
    }
}

#[tokio::test]
async fn client_id_cannot_be_set_by_the_caller_of_an_at_jwt_role() {
    let app = app_with_role(json!({"token_type": "at+jwt"})).await;

    let refused = mint(&app, json!({"claims": {"client_id": "someone"}})).await;

    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.field_names(), ["claims/client_id"]);
}

#[tokio::test]
async fn a_tampered_token_does_not_verify_against_the_jwks() {
    let app = app_with_role(json!({})).await;
    let minted = mint_ok(&app, json!({})).await;
    let jwks = app.jwks("ci").await.json;

    let forged = tampered(&minted.token, "sub", json!("sigil:someone-else"));

    assert!(verify_with_jwks(&minted.token, &jwks).is_ok());
    assert!(verify_with_jwks(&forged, &jwks).is_err());
}

/// Every key type mints through the API, and the token verifies with the JWKS key.
#[tokio::test]
async fn every_key_type_mints_tokens_that_verify_against_the_jwks() {
    let app = TestApp::builder().public_url(PUBLIC_URL).build().await;
    let mut cases: Vec<(&str, Option<&str>, &str)> = KEY_TYPES
        .iter()
        .map(|(key_type, alg)| (*key_type, None, *alg))
        .collect();
    cases.push(("rsa-2048", Some("PS256"), "PS256"));

    for (key_type, algorithm, alg) in cases {
        let name = format!("{key_type}-{}", alg.to_lowercase());
        let mut key = json!({"name": format!("{name}-key"), "type": key_type});
        if let Some(algorithm) = algorithm {
            key["algorithm"] = json!(algorithm);
        }
        app.create_key_with(key).await;
        app.create_issuer(&name, &format!("{name}-key")).await;
        app.create_role(&name, json!({"name": "r"})).await;

        let minted = app.mint_ok(&name, "r", &json!({"ttl": "5m"})).await;

        assert_eq!(minted.header["alg"], alg, "{name}");
        let jwks = app.jwks(&name).await.json;
        let claims =
            verify_with_jwks(&minted.token, &jwks).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(claims["iss"], format!("{PUBLIC_URL}/jwt/{name}"), "{name}");
        assert_eq!(claims["exp"].as_i64().expect("exp") - app.now(), 300);
        let forged = tampered(&minted.token, "exp", json!(i64::MAX));
        assert!(verify_with_jwks(&forged, &jwks).is_err(), "{name}: forged");
    }
}

#[tokio::test]
async fn minting_after_a_restart_uses_the_same_issuer_and_key() {
    let app = app_with_role(json!({})).await;
    let before = mint_ok(&app, json!({})).await;

    let app = app.restart().await;
    app.unseal_with(1).await;
    let after = mint_ok(&app, json!({})).await;

    assert_eq!(after.kid(), before.kid());
    assert_eq!(after.claims["iss"], ISS);
    verified(&app, &before).await;
}

// ---- no torn reads ----

/// The two complete shapes the role alternates between. A token must carry exactly one.
fn shape(which: &str) -> Value {
    match which {
        "A" => json!({
            "subject_template": "a:{{identity.id}}",
            "fixed_claims": {"shape": "A", "a": 1},
            "allowed_audiences": ["urn:a"],
            "default_audiences": ["urn:a"],
            "default_ttl": "1m"
        }),
        _ => json!({
            "subject_template": "b:{{identity.id}}",
            "fixed_claims": {"shape": "B", "b": 2},
            "allowed_audiences": ["urn:b"],
            "default_audiences": ["urn:b"],
            "default_ttl": "2m"
        }),
    }
}

fn assert_one_shape(app: &TestApp, claims: &Value) -> &'static str {
    let now = app.now();
    let a = json!({
        "shape": "A", "a": 1, "sub": "a:sigil:root", "aud": "urn:a", "exp": now + 60
    });
    let b = json!({
        "shape": "B", "b": 2, "sub": "b:sigil:root", "aud": "urn:b", "exp": now + 120
    });
    let matches = |expected: &Value| {
        expected
            .as_object()
            .expect("object")
            .iter()
            .all(|(k, v)| claims.get(k) == Some(v))
    };
    let (which, other) = match claims["shape"].as_str() {
        Some("A") if matches(&a) => ("A", "b"),
        Some("B") if matches(&b) => ("B", "a"),
        _ => panic!("a torn token: {claims}"),
    };
    assert!(claims.get(other).is_none(), "a torn token: {claims}");
    which
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn minting_while_the_role_is_replaced_never_mixes_two_shapes() {
    const MINTERS: usize = 3;
    const MINTS_EACH: usize = 100;
    const UPDATES: usize = 100;
    let app = Arc::new(app_with_role(shape("A")).await);

    let updater = {
        let app = app.clone();
        tokio::spawn(async move {
            for i in 0..UPDATES {
                let which = if i % 2 == 0 { "B" } else { "A" };
                let put = app
                    .send_json(
                        Method::PUT,
                        "/v1/config/jwt-issuers/ci/roles/r",
                        &shape(which),
                    )
                    .await;
                assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.text);
            }
        })
    };
    let minters: Vec<_> = (0..MINTERS)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let mut shapes = Vec::with_capacity(MINTS_EACH);
                for _ in 0..MINTS_EACH {
                    let minted = app.mint_ok("ci", "r", &json!({})).await;
                    shapes.push(assert_one_shape(&app, &minted.claims));
                }
                shapes
            })
        })
        .collect();

    updater.await.expect("the updater finished");
    let mut seen = Vec::new();
    for minter in minters {
        seen.extend(minter.await.expect("a minter finished"));
    }
    assert_eq!(seen.len(), MINTERS * MINTS_EACH);
    let a = seen.iter().filter(|s| **s == "A").count();
    let b = seen.len() - a;
    eprintln!("shapes seen while the role changed: A {a}, B {b}");
    let last = app.get("/v1/config/jwt-issuers/ci/roles/r").await;
    assert_eq!(
        last.header("etag"),
        Some(format!("\"{}\"", UPDATES + 1).as_str())
    );
    let after = app.mint_ok("ci", "r", &json!({})).await;
    assert_eq!(
        assert_one_shape(&app, &after.claims),
        "A",
        "the last PUT wins"
    );
}
