//! JWT issuers through HTTP (DESIGN §1, §2.1, issue 3 items 1-2): the seed YAML verbatim,
//! defaults and canonical durations, the derived `iss`, state fields, distribution by
//! `--site`, ETags on every write, cascading deletes and the signing key's `in_use` guard.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{INTERNAL_KEY, TestApp, TestResponse};

const ISSUERS: &str = "/v1/config/jwt-issuers";

const SEED_YAML: &str = "\
name: payments-api
signing-key: payments-jwt-key
issuer: https://strongbox.example.com/jwt/payments-api
default-ttl: 1h
max-ttl: 1d
verbose-logging: false
distribute:
  to: all
";

async fn post_issuer(app: &TestApp, body: Value) -> TestResponse {
    app.send_json(Method::POST, ISSUERS, &body).await
}

/// A server with the signing key `k` (ecdsa-p256).
async fn app_with_key() -> TestApp {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;
    app
}

fn reason<'a>(refused: &'a TestResponse, field: &str) -> &'a str {
    refused.field(field)["reason"].as_str().unwrap_or_default()
}

async fn issuer_names(app: &TestApp) -> Vec<String> {
    let list = app.get(&format!("{ISSUERS}?keys=true")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    serde_json::from_value(list.json).expect("names")
}

#[tokio::test]
async fn the_seed_yaml_is_accepted_verbatim_and_read_back_in_canonical_form() {
    let app = TestApp::new().await;
    app.create_key("payments-jwt-key", "ecdsa-p256").await;

    let created = app.root(Method::POST, ISSUERS).yaml(SEED_YAML).send().await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.header("location"),
        Some("/v1/config/jwt-issuers/payments-api")
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    let expected = json!({
        "name": "payments-api",
        "signing_key": "payments-jwt-key",
        "issuer": "https://strongbox.example.com/jwt/payments-api",
        "default_ttl": "1h",
        "max_ttl": "1d",
        "verbose_logging": false,
        "distribute": {"to": "all"}
    });
    assert_eq!(created.json, expected);
    let read = app.get("/v1/config/jwt-issuers/payments-api").await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.json, expected);
    let yaml = app
        .root(Method::GET, "/v1/config/jwt-issuers/payments-api")
        .header("accept", "application/yaml")
        .send()
        .await;
    assert_eq!(yaml.status, StatusCode::OK, "{}", yaml.text);
    assert!(yaml.text.contains("max_ttl: 1d"), "{}", yaml.text);
    assert!(yaml.text.contains("default_ttl: 1h"), "{}", yaml.text);
}

#[tokio::test]
async fn an_issuer_gets_its_defaults_and_a_derived_iss() {
    let app = TestApp::builder()
        .public_url("https://sigil.example.com")
        .build()
        .await;
    app.create_key("k", "ed25519").await;

    let created = post_issuer(&app, json!({"name": "ci", "signing_key": "k"})).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.json,
        json!({
            "name": "ci",
            "signing_key": "k",
            "default_ttl": "1h",
            "max_ttl": "1d",
            "verbose_logging": false,
            "distribute": {"to": "all"}
        })
    );
    let state = app.issuer_state("ci").await;
    assert_eq!(
        state["effective_issuer"],
        "https://sigil.example.com/jwt/ci"
    );
}

#[tokio::test]
async fn the_state_shows_discovery_urls_published_kids_and_distribution() {
    let app = TestApp::builder()
        .public_url("https://sigil.example.com")
        .build()
        .await;
    let key = app.create_key("k", "ecdsa-p256").await;
    let kid = key["versions"][0]["kid"].as_str().expect("kid").to_owned();
    app.create_issuer("payments-api", "k").await;
    app.create_role("payments-api", json!({"name": "deployer"}))
        .await;
    app.create_role("payments-api", json!({"name": "auditor"}))
        .await;

    let state = app.get("/v1/state/jwt-issuers/payments-api").await;

    assert_eq!(state.status, StatusCode::OK, "{}", state.text);
    assert_eq!(state.header("etag"), Some("\"1\""));
    let state = state.json;
    let base = "https://sigil.example.com/jwt/payments-api";
    assert_eq!(state["name"], "payments-api");
    assert_eq!(state["signing_key"], "k");
    assert_eq!(state["max_ttl"], "1d");
    assert_eq!(state["effective_issuer"], base);
    assert_eq!(
        state["discovery_url"],
        format!("{base}/.well-known/openid-configuration")
    );
    assert_eq!(state["jwks_url"], format!("{base}/.well-known/jwks.json"));
    assert_eq!(state["published_kids"], json!([kid]));
    assert_eq!(state["signing_kid"], json!(kid));
    assert_eq!(
        state["distribution_status"],
        json!({"site": "default", "served_here": true})
    );
    assert_eq!(state["roles"], json!(["auditor", "deployer"]));
    assert_eq!(state["created_at"], sigil::clock::rfc3339(app.now()));
    assert_eq!(state["updated_at"], sigil::clock::rfc3339(app.now()));

    let derived_only = app
        .get("/v1/state/jwt-issuers/payments-api?content=nonconfig")
        .await;
    assert_eq!(derived_only.status, StatusCode::OK, "{}", derived_only.text);
    assert!(
        derived_only.json.get("max_ttl").is_none(),
        "{}",
        derived_only.text
    );
    assert_eq!(derived_only.json["jwks_url"], state["jwks_url"]);
}

#[tokio::test]
async fn an_explicit_issuer_is_the_effective_iss() {
    let app = app_with_key().await;

    app.create_issuer_with(json!({
        "name": "ext", "signing_key": "k", "issuer": "https://tokens.example.org/ext"
    }))
    .await;

    let state = app.issuer_state("ext").await;
    assert_eq!(state["issuer"], "https://tokens.example.org/ext");
    assert_eq!(state["effective_issuer"], "https://tokens.example.org/ext");
}

#[tokio::test]
async fn an_issuer_without_a_signing_key_is_refused_naming_signing_key() {
    let app = app_with_key().await;

    let refused = post_issuer(&app, json!({"name": "ci"})).await;

    refused.assert_invalid(&["signing_key"]);
    assert_eq!(refused.field("signing_key")["error_code"], "required");
    assert!(issuer_names(&app).await.is_empty());
}

#[tokio::test]
async fn an_issuer_naming_a_missing_signing_key_is_refused_naming_signing_key() {
    let app = app_with_key().await;

    let refused = post_issuer(&app, json!({"name": "ci", "signing_key": "nope"})).await;

    refused.assert_invalid(&["signing_key"]);
    assert!(reason(&refused, "signing_key").contains("nope"));
    assert!(issuer_names(&app).await.is_empty());
}

#[tokio::test]
async fn an_issuer_may_not_sign_with_the_internal_key() {
    let app = app_with_key().await;

    let refused = post_issuer(&app, json!({"name": "ci", "signing_key": INTERNAL_KEY})).await;

    refused.assert_invalid(&["signing_key"]);
    assert!(reason(&refused, "signing_key").contains("internal"));
}

#[tokio::test]
async fn a_default_ttl_longer_than_max_ttl_is_refused_naming_default_ttl() {
    let app = app_with_key().await;

    let refused = post_issuer(
        &app,
        json!({"name": "ci", "signing_key": "k", "default_ttl": "2h", "max_ttl": "1h"}),
    )
    .await;

    refused.assert_invalid(&["default_ttl"]);
    assert!(reason(&refused, "default_ttl").contains("1h"));
}

#[tokio::test]
async fn a_default_ttl_longer_than_the_default_max_ttl_is_refused() {
    let app = app_with_key().await;

    post_issuer(
        &app,
        json!({"name": "ci", "signing_key": "k", "default_ttl": "2d"}),
    )
    .await
    .assert_invalid(&["default_ttl"]);
}

#[tokio::test]
async fn a_max_ttl_above_a_year_is_refused_naming_max_ttl() {
    let app = app_with_key().await;

    post_issuer(
        &app,
        json!({"name": "ci", "signing_key": "k", "max_ttl": "366d"}),
    )
    .await
    .assert_invalid(&["max_ttl"]);
}

#[tokio::test]
async fn a_zero_max_ttl_is_refused_naming_max_ttl() {
    let app = app_with_key().await;

    let refused = post_issuer(
        &app,
        json!({"name": "ci", "signing_key": "k", "max_ttl": "0s", "default_ttl": "0s"}),
    )
    .await;

    refused.assert_invalid(&["default_ttl", "max_ttl"]);
}

/// Each bad duration, in each TTL field, is a 400 naming that field and showing the format.
#[tokio::test]
async fn malformed_durations_are_refused_naming_the_field_and_the_format() {
    let app = app_with_key().await;
    let bad = [
        "5h1d",
        "1x",
        "h",
        "",
        "99999999999999999999999s",
        "600000000000y",
        "1h1h",
        "-1h",
        "1.5h",
    ];

    for field in ["default_ttl", "max_ttl"] {
        for input in bad {
            let refused = post_issuer(
                &app,
                json!({"name": "ci", "signing_key": "k", field: input}),
            )
            .await;
            assert_eq!(
                refused.status,
                StatusCode::BAD_REQUEST,
                "{field}={input:?}: {}",
                refused.text
            );
            assert!(
                refused.field_names().contains(&field),
                "{field}={input:?}: {}",
                refused.text
            );
            let why = reason(&refused, field);
            assert!(
                why.contains("not a duration") && why.contains("1h") && why.contains("10m30s"),
                "{field}={input:?}: the reason shows the format: {why}"
            );
        }
    }
    assert!(issuer_names(&app).await.is_empty());
}

#[tokio::test]
async fn a_duration_in_yaml_with_dashed_name_is_refused_under_its_canonical_name() {
    let app = app_with_key().await;

    let refused = app
        .root(Method::POST, ISSUERS)
        .yaml("name: ci\nsigning-key: k\nmax-ttl: 5h1d\n")
        .send()
        .await;

    refused.assert_invalid(&["max_ttl"]);
}

#[tokio::test]
async fn durations_are_shown_back_in_canonical_form() {
    let app = app_with_key().await;
    let cases = [
        (json!("86400s"), "1d"),
        (json!(86_400), "1d"),
        (json!("1440m"), "1d"),
        (json!("0d24h"), "1d"),
        (json!("90000s"), "1d1h"),
        (json!("365d"), "1y"),
    ];

    for (i, (written, shown)) in cases.into_iter().enumerate() {
        let name = format!("ci-{i}");
        let created = post_issuer(
            &app,
            json!({"name": name, "signing_key": "k", "default_ttl": "90m", "max_ttl": written}),
        )
        .await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{written}: {}",
            created.text
        );
        assert_eq!(created.json["max_ttl"], shown, "{written}");
        assert_eq!(created.json["default_ttl"], "1h30m");
        let read = app.get(&format!("{ISSUERS}/{name}")).await;
        assert_eq!(read.json["max_ttl"], shown, "{written}");
    }
}

#[tokio::test]
async fn a_bad_issuer_url_is_refused_naming_issuer() {
    let app = app_with_key().await;

    for url in [
        "strongbox.example.com",
        "https://x.example.com/a?b=c",
        "ftp://x",
        "",
    ] {
        post_issuer(
            &app,
            json!({"name": "ci", "signing_key": "k", "issuer": url}),
        )
        .await
        .assert_invalid(&["issuer"]);
    }
}

#[tokio::test]
async fn distribute_must_be_to_all_or_name_sites() {
    let app = app_with_key().await;

    post_issuer(
        &app,
        json!({"name": "ci", "signing_key": "k", "distribute": {"to": "some"}}),
    )
    .await
    .assert_invalid(&["distribute/to"]);
    post_issuer(
        &app,
        json!({"name": "ci", "signing_key": "k", "distribute": {"sites": []}}),
    )
    .await
    .assert_invalid(&["distribute/sites"]);
    post_issuer(
        &app,
        json!({"name": "ci", "signing_key": "k", "distribute": {"sites": ["ok", "not ok"]}}),
    )
    .await
    .assert_invalid(&["distribute/sites/1"]);
}

#[tokio::test]
async fn distribute_to_all_and_to_sites_at_once_is_refused() {
    let app = app_with_key().await;

    let refused = post_issuer(
        &app,
        json!({"name": "ci", "signing_key": "k", "distribute": {"to": "all", "sites": ["eu-1"]}}),
    )
    .await;

    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert!(
        refused
            .field_names()
            .iter()
            .all(|name| name.starts_with("distribute")),
        "{}",
        refused.text
    );
    assert!(issuer_names(&app).await.is_empty());
}

#[tokio::test]
async fn every_bad_field_of_an_issuer_is_listed_at_once() {
    let app = app_with_key().await;

    let refused = post_issuer(
        &app,
        json!({
            "name": "bad name",
            "signing_key": "nope",
            "issuer": "not-a-url",
            "max_ttl": "1x",
            "colour": "blue"
        }),
    )
    .await;

    refused.assert_invalid(&["colour", "issuer", "max_ttl", "name", "signing_key"]);
}

#[tokio::test]
async fn creating_an_existing_issuer_answers_409_already_exists() {
    let app = app_with_key().await;
    app.create_issuer("ci", "k").await;

    post_issuer(&app, json!({"name": "ci", "signing_key": "k"}))
        .await
        .assert_error(StatusCode::CONFLICT, "already_exists");
}

#[tokio::test]
async fn validate_true_checks_an_issuer_without_creating_it() {
    let app = app_with_key().await;

    let would = app
        .send_json(
            Method::POST,
            &format!("{ISSUERS}?validate=true"),
            &json!({"name": "ci", "signing_key": "k"}),
        )
        .await;
    let refused = app
        .send_json(
            Method::POST,
            &format!("{ISSUERS}?validate=true"),
            &json!({"name": "ci", "signing_key": "nope"}),
        )
        .await;

    assert_eq!(would.status, StatusCode::CREATED, "{}", would.text);
    assert_eq!(would.json["max_ttl"], "1d");
    refused.assert_invalid(&["signing_key"]);
    assert!(issuer_names(&app).await.is_empty());
}

#[tokio::test]
async fn reading_an_unknown_issuer_answers_404() {
    let app = TestApp::new().await;

    app.get("/v1/config/jwt-issuers/nope")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/v1/state/jwt-issuers/nope")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn issuers_need_a_token() {
    let app = TestApp::new().await;

    app.call(Method::GET, ISSUERS)
        .send()
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "token_missing");
    app.call(Method::POST, ISSUERS)
        .json(&json!({"name": "ci", "signing_key": "k"}))
        .send()
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "token_missing");
}

#[tokio::test]
async fn issuers_are_listed_sorted_by_name() {
    let app = app_with_key().await;
    for name in ["zeta", "alpha", "mid"] {
        app.create_issuer(name, "k").await;
    }

    let list = app.get(ISSUERS).await;

    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let names: Vec<&str> = list
        .json
        .as_array()
        .expect("array")
        .iter()
        .map(|i| i["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["alpha", "mid", "zeta"]);
    assert_eq!(issuer_names(&app).await, ["alpha", "mid", "zeta"]);
    let states = app.get("/v1/state/jwt-issuers").await;
    assert_eq!(states.json.as_array().map(Vec::len), Some(3));
    assert!(states.json[0]["jwks_url"].is_string());
}

#[tokio::test]
async fn put_creates_an_issuer_then_replaces_it_with_a_new_etag() {
    let app = app_with_key().await;
    let path = "/v1/config/jwt-issuers/ci";

    let created = app
        .send_json(Method::PUT, path, &json!({"signing_key": "k"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.header("location"), Some(path));
    assert_eq!(created.json["name"], "ci");

    let replaced = app
        .root(Method::PUT, path)
        .header("if-match", "\"1\"")
        .json(&json!({"name": "ci", "signing_key": "k", "max_ttl": "2h"}))
        .send()
        .await;
    assert_eq!(replaced.status, StatusCode::NO_CONTENT, "{}", replaced.text);
    assert_eq!(replaced.header("etag"), Some("\"2\""));

    let read = app.get(path).await;
    assert_eq!(read.header("etag"), Some("\"2\""));
    assert_eq!(read.json["max_ttl"], "2h");
    assert_eq!(
        read.json["default_ttl"], "1h",
        "a replacement resets omitted fields"
    );
}

#[tokio::test]
async fn put_with_a_stale_if_match_answers_412_and_changes_nothing() {
    let app = app_with_key().await;
    app.create_issuer("ci", "k").await;
    let path = "/v1/config/jwt-issuers/ci";

    let refused = app
        .root(Method::PUT, path)
        .header("if-match", "\"7\"")
        .json(&json!({"signing_key": "k", "max_ttl": "2h"}))
        .send()
        .await;

    refused.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    assert_eq!(app.get(path).await.json["max_ttl"], "1d");
}

#[tokio::test]
async fn put_whose_body_names_another_issuer_is_refused_naming_name() {
    let app = app_with_key().await;

    app.send_json(
        Method::PUT,
        "/v1/config/jwt-issuers/ci",
        &json!({"name": "other", "signing_key": "k"}),
    )
    .await
    .assert_invalid(&["name"]);
}

#[tokio::test]
async fn patch_merges_into_the_issuer() {
    let app = app_with_key().await;
    app.create_issuer_with(json!({
        "name": "ci", "signing_key": "k", "issuer": "https://x.example.com/ci", "max_ttl": "2h"
    }))
    .await;
    let path = "/v1/config/jwt-issuers/ci";

    let patched = app
        .root(Method::PATCH, path)
        .header("if-match", "\"1\"")
        .yaml("verbose-logging: true\nissuer: null\n")
        .send()
        .await;

    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    assert_eq!(patched.header("etag"), Some("\"2\""));
    let read = app.get(path).await.json;
    assert_eq!(read["verbose_logging"], true);
    assert_eq!(read["max_ttl"], "2h", "untouched fields stay");
    assert!(read.get("issuer").is_none(), "null removes: {read}");
    let state = app.issuer_state("ci").await;
    assert_eq!(
        state["effective_issuer"],
        format!("{}/jwt/ci", app.app.config.public_url)
    );
}

#[tokio::test]
async fn patch_with_a_stale_if_match_answers_412() {
    let app = app_with_key().await;
    app.create_issuer("ci", "k").await;

    app.root(Method::PATCH, "/v1/config/jwt-issuers/ci")
        .header("if-match", "\"2\"")
        .json(&json!({"max_ttl": "2h"}))
        .send()
        .await
        .assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
}

#[tokio::test]
async fn patch_that_breaks_a_rule_is_refused_naming_the_field() {
    let app = app_with_key().await;
    app.create_issuer("ci", "k").await;

    app.send_json(
        Method::PATCH,
        "/v1/config/jwt-issuers/ci",
        &json!({"max_ttl": "30m"}),
    )
    .await
    .assert_invalid(&["default_ttl"]);
}

#[tokio::test]
async fn patch_of_an_unknown_issuer_answers_404() {
    let app = app_with_key().await;

    app.send_json(
        Method::PATCH,
        "/v1/config/jwt-issuers/nope",
        &json!({"max_ttl": "2h"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn delete_with_a_stale_if_match_answers_412_and_keeps_the_issuer() {
    let app = app_with_key().await;
    app.create_issuer("ci", "k").await;

    app.root(Method::DELETE, "/v1/config/jwt-issuers/ci")
        .header("if-match", "\"3\"")
        .send()
        .await
        .assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");

    assert_eq!(issuer_names(&app).await, ["ci"]);
}

#[tokio::test]
async fn deleting_an_issuer_removes_its_roles_and_its_discovery() {
    let app = app_with_key().await;
    app.create_issuer("ci", "k").await;
    app.create_role("ci", json!({"name": "deployer"})).await;

    let deleted = app
        .root(Method::DELETE, "/v1/config/jwt-issuers/ci")
        .header("if-match", "\"1\"")
        .send()
        .await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert!(issuer_names(&app).await.is_empty());
    app.get("/v1/config/jwt-issuers/ci/roles")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.discovery("ci")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.mint("ci", "deployer", &json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    // A new issuer of the same name does not inherit the old roles, not even after a restart.
    app.create_issuer("ci", "k").await;
    let roles = app.get("/v1/config/jwt-issuers/ci/roles").await;
    assert_eq!(roles.json, json!([]), "{}", roles.text);
    let restarted = app.restart().await;
    restarted.unseal_with(1).await;
    let roles = restarted.get("/v1/config/jwt-issuers/ci/roles").await;
    assert_eq!(roles.json, json!([]), "{}", roles.text);
}

#[tokio::test]
async fn deleting_an_unknown_issuer_answers_404() {
    let app = TestApp::new().await;

    app.root(Method::DELETE, "/v1/config/jwt-issuers/nope")
        .send()
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn deleting_a_signing_key_used_by_an_issuer_answers_409_in_use_naming_it() {
    let app = app_with_key().await;
    app.create_issuer("payments-api", "k").await;

    let refused = app
        .root(Method::DELETE, "/v1/config/signing-keys/k")
        .send()
        .await;

    refused.assert_error(StatusCode::CONFLICT, "in_use");
    let message = refused.json["message"].as_str().unwrap_or_default();
    assert!(message.contains("jwt-issuer payments-api"), "{message}");
    assert!(app.key_names().await.contains(&"k".to_owned()));

    app.root(Method::DELETE, "/v1/config/jwt-issuers/payments-api")
        .send()
        .await;
    let deleted = app
        .root(Method::DELETE, "/v1/config/signing-keys/k")
        .send()
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
}

#[tokio::test]
async fn issuers_survive_a_restart() {
    let app = app_with_key().await;
    app.root(Method::POST, ISSUERS)
        .yaml("name: ci\nsigning-key: k\nmax-ttl: 2h\n")
        .send()
        .await;
    let before = app.issuer_state("ci").await;

    let app = app.restart().await;
    app.unseal_with(1).await;

    assert_eq!(app.issuer_state("ci").await, before);
    let refused = app
        .root(Method::DELETE, "/v1/config/signing-keys/k")
        .send()
        .await;
    refused.assert_error(StatusCode::CONFLICT, "in_use");
}

#[tokio::test]
async fn an_issuer_for_other_sites_is_not_served_here() {
    let app = TestApp::builder().site("eu-1").build().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer_with(json!({
        "name": "us-only", "signing_key": "k", "distribute": {"sites": ["us-1", "us-2"]}
    }))
    .await;
    app.create_role("us-only", json!({"name": "r"})).await;

    let state = app.issuer_state("us-only").await;

    assert_eq!(
        state["distribution_status"],
        json!({"site": "eu-1", "served_here": false})
    );
    assert_eq!(state["distribute"], json!({"sites": ["us-1", "us-2"]}));
    app.discovery("us-only")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.call(
        Method::GET,
        "/jwt/us-only/.well-known/oauth-authorization-server",
    )
    .send()
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.jwks("us-only")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.mint("us-only", "r", &json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn an_issuer_for_this_site_is_served_here() {
    let app = TestApp::builder().site("eu-1").build().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer_with(json!({
        "name": "eu", "signing_key": "k", "distribute": {"sites": ["us-1", "eu-1"]}
    }))
    .await;
    app.create_role("eu", json!({"name": "r"})).await;

    let state = app.issuer_state("eu").await;

    assert_eq!(
        state["distribution_status"],
        json!({"site": "eu-1", "served_here": true})
    );
    assert_eq!(app.discovery("eu").await.status, StatusCode::OK);
    assert_eq!(app.jwks("eu").await.status, StatusCode::OK);
    app.mint_ok("eu", "r", &json!({})).await;
}

#[tokio::test]
async fn moving_an_issuer_to_another_site_stops_serving_it_here() {
    let app = TestApp::builder().site("eu-1").build().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer("moving", "k").await;
    app.create_role("moving", json!({"name": "r"})).await;
    app.mint_ok("moving", "r", &json!({})).await;

    let patched = app
        .send_json(
            Method::PATCH,
            "/v1/config/jwt-issuers/moving",
            &json!({"distribute": {"sites": ["us-1"]}}),
        )
        .await;

    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    assert_eq!(
        app.get("/v1/config/jwt-issuers/moving").await.json["distribute"],
        json!({"sites": ["us-1"]}),
        "a 204 PATCH must have changed the distribution"
    );
    app.mint("moving", "r", &json!({}))
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(app.jwks("moving").await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.issuer_state("moving").await["distribution_status"]["served_here"],
        false
    );
}
