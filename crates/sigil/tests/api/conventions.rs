//! The conventions every resource path shares (DESIGN §2.1): `validate`, `fields`, `where`,
//! `keys`, `count`, paging with `Link`, ETags, YAML responses, unknown parameters, `content`.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{INTERNAL_KEY, TestApp, TestResponse};

const KEYS: &str = "/v1/config/signing-keys";
const STATES: &str = "/v1/state/signing-keys";

fn encode(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// Four keys of cheap types besides the internal one: alpha, bravo, charlie, delta.
async fn app_with_keys() -> TestApp {
    let app = TestApp::new().await;
    app.create_key("alpha", "ed25519").await;
    app.create_key("bravo", "ecdsa-p384").await;
    app.create_key("charlie", "ed25519").await;
    app.create_key("delta", "ecdsa-p256").await;
    app
}

async fn names_where(app: &TestApp, expression: &str) -> Vec<String> {
    let list = app
        .get(&format!("{KEYS}?keys=true&where={}", encode(expression)))
        .await;
    assert_eq!(
        list.status,
        StatusCode::OK,
        "where {expression}: {}",
        list.text
    );
    serde_json::from_value(list.json).expect("names")
}

/// Everything the store holds, to compare before and after a `validate=true` request.
async fn snapshot(app: &TestApp) -> Value {
    app.get(STATES).await.json
}

async fn with_and_without_validate(
    app: &TestApp,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (TestResponse, TestResponse) {
    let separator = if path.contains('?') { '&' } else { '?' };
    let mut validated = app.root(method.clone(), &format!("{path}{separator}validate=true"));
    let mut real = app.root(method, path);
    if let Some(body) = &body {
        validated = validated.json(body);
        real = real.json(body);
    }
    let before = snapshot(app).await;
    let validated = validated.send().await;
    assert_eq!(
        snapshot(app).await,
        before,
        "validate=true changed something"
    );
    (validated, real.send().await)
}

#[tokio::test]
async fn validate_on_post_answers_201_and_creates_nothing() {
    let app = TestApp::new().await;
    let body = json!({"name": "k", "type": "ed25519"});

    let (validated, real) = with_and_without_validate(&app, Method::POST, KEYS, Some(body)).await;

    assert_eq!(validated.status, StatusCode::CREATED, "{}", validated.text);
    assert_eq!(validated.json, real.json);
    assert_eq!(real.status, StatusCode::CREATED);
}

#[tokio::test]
async fn validate_on_post_answers_the_same_400() {
    let app = TestApp::new().await;
    let body = json!({"name": "bad name", "type": "rsa-1024", "extra": 1});

    let (validated, real) = with_and_without_validate(&app, Method::POST, KEYS, Some(body)).await;

    validated.assert_invalid(&["extra", "name", "type"]);
    assert_eq!(validated.json, real.json);
}

#[tokio::test]
async fn validate_on_post_answers_the_same_409_for_a_taken_name() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;
    let body = json!({"name": "k", "type": "ed25519"});

    let (validated, real) = with_and_without_validate(&app, Method::POST, KEYS, Some(body)).await;

    validated.assert_error(StatusCode::CONFLICT, "already_exists");
    assert_eq!(validated.json, real.json);
}

#[tokio::test]
async fn validate_on_put_answers_201_for_a_new_key_and_creates_nothing() {
    let app = TestApp::new().await;

    let (validated, real) = with_and_without_validate(
        &app,
        Method::PUT,
        &format!("{KEYS}/k"),
        Some(json!({"type": "ed25519"})),
    )
    .await;

    assert_eq!(validated.status, StatusCode::CREATED, "{}", validated.text);
    assert_eq!(real.status, StatusCode::CREATED);
}

#[tokio::test]
async fn validate_on_put_answers_204_for_an_existing_key_and_changes_nothing() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;

    let (validated, real) = with_and_without_validate(
        &app,
        Method::PUT,
        &format!("{KEYS}/k"),
        Some(json!({"type": "ed25519", "rotation_period": "2h"})),
    )
    .await;

    assert_eq!(
        validated.status,
        StatusCode::NO_CONTENT,
        "{}",
        validated.text
    );
    assert_eq!(real.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn validate_on_put_answers_the_same_400_when_the_type_would_change() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;

    let (validated, real) = with_and_without_validate(
        &app,
        Method::PUT,
        &format!("{KEYS}/k"),
        Some(json!({"type": "ecdsa-p256"})),
    )
    .await;

    real.assert_invalid(&["algorithm", "type"]);
    assert_eq!(validated.status, real.status, "{}", validated.text);
    assert_eq!(validated.json, real.json);
}

#[tokio::test]
async fn validate_on_patch_answers_204_and_changes_nothing() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;

    let (validated, real) = with_and_without_validate(
        &app,
        Method::PATCH,
        &format!("{KEYS}/k"),
        Some(json!({"rotation_period": "2h"})),
    )
    .await;

    assert_eq!(
        validated.status,
        StatusCode::NO_CONTENT,
        "{}",
        validated.text
    );
    assert_eq!(real.status, StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn validate_on_patch_answers_the_same_400_when_the_type_would_change() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;

    let (validated, real) = with_and_without_validate(
        &app,
        Method::PATCH,
        &format!("{KEYS}/k"),
        Some(json!({"type": "ecdsa-p384", "algorithm": "ES384"})),
    )
    .await;

    real.assert_invalid(&["algorithm", "type"]);
    assert_eq!(validated.status, real.status, "{}", validated.text);
    assert_eq!(validated.json, real.json);
}

#[tokio::test]
async fn validate_on_patch_answers_the_same_412_for_a_stale_etag() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;
    let path = format!("{KEYS}/k");
    let body = json!({"rotation_period": "2h"});

    let validated = app
        .root(Method::PATCH, &format!("{path}?validate=true"))
        .header("if-match", "\"5\"")
        .json(&body)
        .send()
        .await;
    let real = app
        .root(Method::PATCH, &path)
        .header("if-match", "\"5\"")
        .json(&body)
        .send()
        .await;

    validated.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    assert_eq!(validated.json, real.json);
}

#[tokio::test]
async fn validate_on_delete_answers_204_and_keeps_the_key() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;

    let (validated, real) =
        with_and_without_validate(&app, Method::DELETE, &format!("{KEYS}/k"), None).await;

    assert_eq!(
        validated.status,
        StatusCode::NO_CONTENT,
        "{}",
        validated.text
    );
    assert_eq!(real.status, StatusCode::NO_CONTENT);
    assert_eq!(app.key_names().await, [INTERNAL_KEY]);
}

#[tokio::test]
async fn validate_on_delete_answers_the_same_409_for_the_internal_key() {
    let app = TestApp::new().await;

    let (validated, real) = with_and_without_validate(
        &app,
        Method::DELETE,
        &format!("{KEYS}/{INTERNAL_KEY}"),
        None,
    )
    .await;

    validated.assert_error(StatusCode::CONFLICT, "internal_resource");
    assert_eq!(validated.json, real.json);
}

#[tokio::test]
async fn validate_on_delete_answers_the_same_404_for_an_unknown_key() {
    let app = TestApp::new().await;

    let (validated, real) =
        with_and_without_validate(&app, Method::DELETE, &format!("{KEYS}/nope"), None).await;

    validated.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(validated.json, real.json);
}

#[tokio::test]
async fn validate_on_rotate_answers_200_and_adds_no_version() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;

    let validated = app
        .root(Method::POST, "/v1/signing-keys/k/rotate?validate=true")
        .send()
        .await;

    assert_eq!(validated.status, StatusCode::OK, "{}", validated.text);
    assert_eq!(validated.json["versions"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        app.key_state("k").await["versions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn validate_on_rotate_answers_the_same_412_for_a_stale_etag() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;
    let rotate = |path: &'static str| {
        app.root(Method::POST, path)
            .header("if-match", "\"9\"")
            .send()
    };

    let validated = rotate("/v1/signing-keys/k/rotate?validate=true").await;
    let real = rotate("/v1/signing-keys/k/rotate").await;

    real.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    assert_eq!(validated.status, real.status, "{}", validated.text);
    assert_eq!(validated.json, real.json);
}

#[tokio::test]
async fn validate_on_revoke_answers_the_same_409_for_a_retired_version() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;
    let path = "/v1/signing-keys/k/versions/1/revoke";
    assert_eq!(
        app.root(Method::POST, path).send().await.status,
        StatusCode::OK
    );

    let (validated, real) = with_and_without_validate(&app, Method::POST, path, None).await;

    real.assert_error(StatusCode::CONFLICT, "invalid_transition");
    assert_eq!(validated.status, real.status, "{}", validated.text);
    assert_eq!(validated.json, real.json);
}

#[tokio::test]
async fn validate_on_taint_answers_the_same_404_for_an_unknown_version() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;

    let (validated, real) = with_and_without_validate(
        &app,
        Method::POST,
        "/v1/signing-keys/k/versions/4/taint",
        None,
    )
    .await;

    validated.assert_error(StatusCode::NOT_FOUND, "not_found");
    assert_eq!(validated.status, real.status);
}

#[tokio::test]
async fn fields_keep_only_the_listed_paths_of_each_item() {
    let app = app_with_keys().await;

    let list = app.get(&format!("{STATES}?fields=name,versions/kid")).await;

    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let items = list.json.as_array().expect("a list");
    assert_eq!(items.len(), 5);
    for item in items {
        let object = item.as_object().expect("an object");
        let keys: Vec<&String> = object.keys().collect();
        assert_eq!(keys, ["name", "versions"], "{item}");
        let versions = item["versions"].as_array().expect("versions");
        assert_eq!(versions.len(), 1);
        let version = versions[0].as_object().expect("a version");
        assert_eq!(version.keys().collect::<Vec<_>>(), ["kid"], "{item}");
    }
    assert_eq!(items[0]["name"], "alpha");
}

#[tokio::test]
async fn fields_apply_to_a_single_item() {
    let app = app_with_keys().await;

    let item = app
        .get(&format!("{KEYS}/bravo?fields=type,algorithm"))
        .await;

    assert_eq!(item.status, StatusCode::OK, "{}", item.text);
    assert_eq!(
        item.json,
        json!({"type": "ecdsa-p384", "algorithm": "ES384"})
    );
}

#[tokio::test]
async fn where_filters_by_equality() {
    let app = app_with_keys().await;

    assert_eq!(
        names_where(&app, "type=ed25519").await,
        ["alpha", "charlie"]
    );
    assert_eq!(names_where(&app, "type = 'ecdsa-p384'").await, ["bravo"]);
    assert_eq!(
        names_where(&app, "type != ed25519").await,
        ["bravo", "delta", INTERNAL_KEY]
    );
}

#[tokio::test]
async fn where_filters_by_glob() {
    let app = app_with_keys().await;

    assert_eq!(names_where(&app, "name ~ 'ch*'").await, ["charlie"]);
    assert_eq!(
        names_where(&app, "type ~ 'ecdsa-*'").await,
        ["bravo", "delta", INTERNAL_KEY]
    );
}

#[tokio::test]
async fn where_combines_with_and_or_not_and_parentheses() {
    let app = app_with_keys().await;

    assert_eq!(
        names_where(&app, "type=ed25519 or type=ecdsa-p384").await,
        ["alpha", "bravo", "charlie"]
    );
    assert_eq!(
        names_where(&app, "type=ed25519 and name=charlie").await,
        ["charlie"]
    );
    assert_eq!(
        names_where(&app, "not type=ecdsa-p256").await,
        ["alpha", "bravo", "charlie"]
    );
    assert_eq!(
        names_where(&app, "(type=ed25519 or type=ecdsa-p256) and not name~'*a'").await,
        ["charlie", INTERNAL_KEY]
    );
}

#[tokio::test]
async fn a_where_parse_error_answers_400_naming_the_position() {
    let app = app_with_keys().await;

    let refused = app
        .get(&format!("{KEYS}?where={}", encode("type=ed25519 and")))
        .await;

    refused.assert_invalid(&["where"]);
    let reason = refused.field("where")["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("at position 17"), "{reason}");
}

#[tokio::test]
async fn keys_true_answers_the_sorted_names_only() {
    let app = app_with_keys().await;

    let names = app.get(&format!("{KEYS}?keys=true")).await;

    assert_eq!(names.status, StatusCode::OK, "{}", names.text);
    assert_eq!(
        names.json,
        json!(["alpha", "bravo", "charlie", "delta", INTERNAL_KEY])
    );
}

#[tokio::test]
async fn count_true_answers_the_number_of_matches() {
    let app = app_with_keys().await;

    let all = app.get(&format!("{KEYS}?count=true")).await;
    let filtered = app
        .get(&format!(
            "{KEYS}?count=true&where={}",
            encode("type=ed25519")
        ))
        .await;

    assert_eq!(all.status, StatusCode::OK, "{}", all.text);
    assert_eq!(all.json, json!(5));
    assert_eq!(filtered.json, json!(2));
}

#[tokio::test]
async fn keys_and_count_together_are_refused() {
    let app = TestApp::new().await;

    app.get(&format!("{KEYS}?keys=true&count=true"))
        .await
        .assert_invalid(&["count"]);
}

#[tokio::test]
async fn lists_page_with_limit_after_and_a_link_to_the_next_page() {
    let app = app_with_keys().await;

    let first = app.get(&format!("{KEYS}?limit=2")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    let names = |page: &TestResponse| -> Vec<String> {
        page.json
            .as_array()
            .expect("a list")
            .iter()
            .map(|item| item["name"].as_str().expect("name").to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["alpha", "bravo"]);
    assert_eq!(
        first.header("link"),
        Some("</v1/config/signing-keys?limit=2&after=bravo>; rel=\"next\"")
    );

    let second = app.get("/v1/config/signing-keys?limit=2&after=bravo").await;
    assert_eq!(names(&second), ["charlie", "delta"]);
    assert_eq!(
        second.header("link"),
        Some("</v1/config/signing-keys?limit=2&after=delta>; rel=\"next\"")
    );

    let last = app.get("/v1/config/signing-keys?limit=2&after=delta").await;
    assert_eq!(names(&last), [INTERNAL_KEY]);
    assert_eq!(last.header("link"), None);
}

#[tokio::test]
async fn the_next_link_keeps_the_filter_and_shape_of_the_request() {
    let app = app_with_keys().await;
    let query = format!("keys=true&where={}&limit=1", encode("type=ed25519"));

    let first = app.get(&format!("{KEYS}?{query}")).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.json, json!(["alpha"]));
    let link = first.header("link").expect("a next link").to_owned();
    let next = link
        .strip_prefix('<')
        .and_then(|rest| rest.strip_suffix(">; rel=\"next\""))
        .unwrap_or_else(|| panic!("not a next link: {link}"));

    let second = app.get(next).await;

    assert_eq!(second.status, StatusCode::OK, "{}", second.text);
    assert_eq!(
        second.json,
        json!(["charlie"]),
        "following {next} must give the next page of the same filtered list"
    );
}

#[tokio::test]
async fn a_limit_out_of_range_is_refused_naming_limit() {
    let app = TestApp::new().await;

    app.get(&format!("{KEYS}?limit=0"))
        .await
        .assert_invalid(&["limit"]);
}

#[tokio::test]
async fn the_etag_is_stable_across_reads_and_changes_after_a_write() {
    let app = app_with_keys().await;
    let path = format!("{KEYS}/alpha");

    let first = app.get(&path).await.header("etag").map(str::to_owned);
    let second = app.get(&path).await.header("etag").map(str::to_owned);
    let state = app
        .get(&format!("{STATES}/alpha"))
        .await
        .header("etag")
        .map(str::to_owned);
    assert!(first.is_some());
    assert_eq!(first, second);
    assert_eq!(first, state, "config and state share the revision");

    let patched = app
        .send_json(Method::PATCH, &path, &json!({"rotation_period": "3h"}))
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    let after = app.get(&path).await.header("etag").map(str::to_owned);

    assert_ne!(after, first);
    assert_eq!(after.as_deref(), patched.header("etag"));
}

#[tokio::test]
async fn accept_yaml_answers_yaml() {
    let app = app_with_keys().await;

    let item = app
        .root(Method::GET, &format!("{KEYS}/bravo"))
        .header("accept", "application/yaml")
        .send()
        .await;
    let list = app
        .root(Method::GET, &format!("{KEYS}?keys=true"))
        .header("accept", "application/yaml")
        .send()
        .await;

    assert_eq!(item.status, StatusCode::OK, "{}", item.text);
    assert_eq!(item.header("content-type"), Some("application/yaml"));
    let parsed: Value = serde_saphyr::from_str(&item.text).expect("YAML");
    assert_eq!(
        parsed,
        json!({"name": "bravo", "type": "ecdsa-p384", "algorithm": "ES384"})
    );
    let names: Value = serde_saphyr::from_str(&list.text).expect("YAML");
    assert_eq!(
        names,
        json!(["alpha", "bravo", "charlie", "delta", INTERNAL_KEY])
    );
}

#[tokio::test]
async fn json_is_the_default_response_format() {
    let app = TestApp::new().await;

    let list = app.get(KEYS).await;

    assert_eq!(list.header("content-type"), Some("application/json"));
}

#[tokio::test]
async fn an_unknown_query_parameter_is_refused_naming_it() {
    let app = TestApp::new().await;

    let refused = app.get(&format!("{KEYS}?colour=blue")).await;

    refused.assert_invalid(&["colour"]);
    assert_eq!(refused.field("colour")["error_code"], "unknown_parameter");
}

#[tokio::test]
async fn every_bad_query_parameter_is_listed_at_once() {
    let app = TestApp::new().await;

    let refused = app
        .get(&format!("{KEYS}?limit=zero&colour=blue&validate=maybe"))
        .await;

    refused.assert_invalid(&["limit", "colour", "validate"]);
}

#[tokio::test]
async fn an_unknown_query_parameter_on_a_write_changes_nothing() {
    let app = TestApp::new().await;

    let refused = app
        .send_json(
            Method::POST,
            &format!("{KEYS}?dry_run=true"),
            &json!({"name": "k"}),
        )
        .await;

    refused.assert_invalid(&["dry_run"]);
    assert_eq!(app.key_names().await, [INTERNAL_KEY]);
}

#[tokio::test]
async fn content_config_keeps_only_the_configured_fields_of_a_state() {
    let app = TestApp::new().await;
    app.create_key_with(json!({"name": "k", "type": "ed25519", "rotation_period": "1d"}))
        .await;

    let state = app.get(&format!("{STATES}/k?content=config")).await;

    assert_eq!(state.status, StatusCode::OK, "{}", state.text);
    assert_eq!(
        state.json,
        json!({"name": "k", "type": "ed25519", "algorithm": "EdDSA", "rotation_period": "1d"})
    );
}

#[tokio::test]
async fn content_nonconfig_keeps_only_the_derived_fields_of_a_state() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;

    let state = app.get(&format!("{STATES}/k?content=nonconfig")).await;

    assert_eq!(state.status, StatusCode::OK, "{}", state.text);
    let mut keys: Vec<&String> = state.json.as_object().expect("an object").keys().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "created_at",
            "internal",
            "name",
            "next_change_at",
            "signing_kid",
            "updated_at",
            "versions"
        ]
    );
}

#[tokio::test]
async fn content_applies_to_every_item_of_a_state_list() {
    let app = app_with_keys().await;

    let list = app.get(&format!("{STATES}?content=config&limit=1")).await;

    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(
        list.json,
        json!([{"name": "alpha", "type": "ed25519", "algorithm": "EdDSA"}])
    );
}

#[tokio::test]
async fn an_unknown_content_value_is_refused_naming_content() {
    let app = TestApp::new().await;

    app.get(&format!("{STATES}?content=everything"))
        .await
        .assert_invalid(&["content"]);
}
