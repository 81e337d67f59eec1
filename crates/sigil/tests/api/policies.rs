//! Policies (DESIGN §3 "Policies", issue 5 item 2): saved and read under `/v1/config` and
//! `/v1/state`; an unknown operation and each malformed path refused naming the rule; the
//! built-in `root` listed and immutable.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{TestApp, TestResponse};

const POLICIES: &str = "/v1/config/policies";

async fn create(app: &TestApp, body: Value) -> TestResponse {
    app.send_json(Method::POST, POLICIES, &body).await
}

fn deployers() -> Value {
    json!({"name": "deployers", "rules": [
        {"path": "/jwt-issuers/payments-api/roles/deployer/mint", "operations": ["update"]},
        {"path": "/jwt-issuers/*/roles/**", "operations": ["read", "create"]},
    ]})
}

#[tokio::test]
async fn a_policy_is_saved_and_read_back_under_config_and_state() {
    let app = TestApp::new().await;

    let created = create(&app, deployers()).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.header("location"),
        Some("/v1/config/policies/deployers")
    );
    let config = app.get("/v1/config/policies/deployers").await;
    assert_eq!(config.status, StatusCode::OK, "{}", config.text);
    assert_eq!(config.json["rules"], deployers()["rules"]);
    assert_eq!(config.json["built_in"], false);
    let state = app.get("/v1/state/policies/deployers").await;
    assert_eq!(state.json["rules"], deployers()["rules"], "{}", state.text);
    assert!(state.json["created_at"].is_string(), "{}", state.text);
    let names = app.get("/v1/config/policies?keys=true").await;
    assert_eq!(names.json, json!(["deployers", "root"]));
}

#[tokio::test]
async fn a_policy_may_have_no_rules_but_must_say_so() {
    let app = TestApp::new().await;

    let empty = create(&app, json!({"name": "nothing", "rules": []})).await;
    let missing = create(&app, json!({"name": "missing"})).await;

    assert_eq!(empty.status, StatusCode::CREATED, "{}", empty.text);
    missing.assert_invalid(&["rules"]);
}

#[tokio::test]
async fn a_rule_naming_an_unknown_operation_is_refused_naming_it() {
    let app = TestApp::new().await;

    let refused = create(
        &app,
        json!({"name": "p", "rules": [
            {"path": "/signing-keys/**", "operations": ["read"]},
            {"path": "/policies", "operations": ["read", "write"]},
        ]}),
    )
    .await;

    refused.assert_invalid(&["rules/1/operations/1"]);
    let reason = refused.field("rules/1/operations/1")["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("write") && reason.contains("create, read, update, delete"),
        "{}",
        refused.text
    );
    assert_eq!(
        app.get("/v1/config/policies/p").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn operations_are_lowercase_names() {
    let app = TestApp::new().await;

    for (case, operations, field) in [
        ("capitalised", json!(["Read"]), "rules/0/operations/0"),
        ("a verb", json!(["GET"]), "rules/0/operations/0"),
        ("a wildcard", json!(["*"]), "rules/0/operations/0"),
        ("none", json!([]), "rules/0/operations"),
    ] {
        let refused = create(
            &app,
            json!({"name": "p", "rules": [{"path": "/policies", "operations": operations}]}),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{case}: {}",
            refused.text
        );
        assert_eq!(refused.field_names(), [field], "{case}: {}", refused.text);
    }
}

#[tokio::test]
async fn each_malformed_path_is_refused_naming_the_rule() {
    let app = TestApp::new().await;
    let too_long = format!("/{}", "a".repeat(1024));

    for (case, path) in [
        ("relative", "signing-keys/k"),
        ("empty", ""),
        ("the root alone", "/"),
        ("doubled slash", "/signing-keys//k"),
        ("leading doubled slash", "//signing-keys"),
        ("trailing slash", "/signing-keys/"),
        ("dot-dot", "/signing-keys/../policies"),
        ("dot", "/signing-keys/./k"),
        ("percent-encoding", "/signing-keys/%2e%2e"),
        ("a space", "/signing-keys/a b"),
        ("a query", "/signing-keys?x=1"),
        ("a backslash", "/signing-keys\\k"),
        ("star inside a segment", "/signing-keys/pay*"),
        ("triple star", "/signing-keys/***"),
        ("double star not last", "/**/mint"),
        ("over 1024 characters", too_long.as_str()),
    ] {
        let refused = create(
            &app,
            json!({"name": "p", "rules": [{"path": path, "operations": ["read"]}]}),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{case}: {}",
            refused.text
        );
        assert_eq!(
            refused.field_names(),
            ["rules/0/path"],
            "{case}: {}",
            refused.text
        );
        assert!(
            refused.field("rules/0/path")["reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty()),
            "{case}: {}",
            refused.text
        );
    }
    assert_eq!(
        app.get("/v1/config/policies?keys=true").await.json,
        json!(["root"])
    );
}

#[tokio::test]
async fn every_bad_rule_is_listed_at_once() {
    let app = TestApp::new().await;

    let refused = create(
        &app,
        json!({"name": "p", "rules": [
            {"path": "/ok/**", "operations": ["read"]},
            {"path": "no-slash", "operations": ["delete", "purge"]},
            {"operations": ["read"]},
            {"path": "/x"},
        ]}),
    )
    .await;

    refused.assert_invalid(&[
        "rules/1/path",
        "rules/1/operations/1",
        "rules/2/path",
        "rules/3/operations",
    ]);
}

#[tokio::test]
async fn the_root_policy_is_listed_and_allows_everything() {
    let app = TestApp::new().await;

    let root = app.get("/v1/config/policies/root").await;

    assert_eq!(root.status, StatusCode::OK, "{}", root.text);
    assert_eq!(
        root.json,
        json!({"name": "root", "built_in": true,
               "rules": [{"path": "/**", "operations": ["create", "read", "update", "delete"]}]})
    );
}

#[tokio::test]
async fn the_root_policy_cannot_be_replaced_deleted_or_created() {
    let app = TestApp::new().await;
    let narrow = json!({"rules": [{"path": "/policies", "operations": ["read"]}]});

    let put = app
        .send_json(Method::PUT, "/v1/config/policies/root", &narrow)
        .await;
    let delete = app
        .root(Method::DELETE, "/v1/config/policies/root")
        .send()
        .await;
    let post = create(&app, merged_name(&narrow, "root")).await;

    put.assert_error(StatusCode::CONFLICT, "internal_resource");
    delete.assert_error(StatusCode::CONFLICT, "internal_resource");
    assert_eq!(post.status, StatusCode::CONFLICT, "{}", post.text);
    assert_root_unchanged(&app).await;
}

#[tokio::test]
async fn patching_the_root_policy_is_a_conflict() {
    let app = TestApp::new().await;

    let patch = app
        .send_json(
            Method::PATCH,
            "/v1/config/policies/root",
            &json!({"rules": [{"path": "/policies", "operations": ["read"]}]}),
        )
        .await;

    patch.assert_error(StatusCode::CONFLICT, "internal_resource");
    assert_root_unchanged(&app).await;
}

async fn assert_root_unchanged(app: &TestApp) {
    let root = app.get("/v1/config/policies/root").await;
    assert_eq!(
        root.json["rules"],
        json!([{"path": "/**", "operations": ["create", "read", "update", "delete"]}]),
        "{}",
        root.text
    );
    assert_eq!(
        app.get("/v1/config/signing-keys").await.status,
        StatusCode::OK,
        "the root token still does everything"
    );
}

#[tokio::test]
async fn a_policy_is_replaced_patched_and_deleted() {
    let app = TestApp::new().await;
    create(&app, deployers()).await;
    let narrower = json!({"rules": [{"path": "/policies", "operations": ["read"]}]});

    let put = app
        .send_json(Method::PUT, "/v1/config/policies/deployers", &narrower)
        .await;
    let read = app.get("/v1/config/policies/deployers").await;
    let patch = app
        .send_json(Method::PATCH, "/v1/config/policies/deployers", &deployers())
        .await;
    let patched = app.get("/v1/config/policies/deployers").await;
    let delete = app
        .root(Method::DELETE, "/v1/config/policies/deployers")
        .send()
        .await;

    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.text);
    assert_eq!(read.json["rules"], narrower["rules"], "{}", read.text);
    assert_eq!(patch.status, StatusCode::NO_CONTENT, "{}", patch.text);
    assert_eq!(
        patched.json["rules"],
        deployers()["rules"],
        "{}",
        patched.text
    );
    assert_eq!(delete.status, StatusCode::NO_CONTENT, "{}", delete.text);
    assert_eq!(
        app.get("/v1/config/policies/deployers").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn validate_true_checks_a_policy_without_saving_it() {
    let app = TestApp::new().await;

    let good = app
        .root(Method::POST, "/v1/config/policies?validate=true")
        .json(&deployers())
        .send()
        .await;
    let bad = app
        .root(Method::POST, "/v1/config/policies?validate=true")
        .json(&json!({"name": "p", "rules": [{"path": "/a/", "operations": ["read"]}]}))
        .send()
        .await;

    assert_eq!(good.status, StatusCode::CREATED, "{}", good.text);
    bad.assert_invalid(&["rules/0/path"]);
    assert_eq!(
        app.get("/v1/config/policies?keys=true").await.json,
        json!(["root"])
    );
}

fn merged_name(body: &Value, name: &str) -> Value {
    let mut body = body.clone();
    body["name"] = json!(name);
    body
}
