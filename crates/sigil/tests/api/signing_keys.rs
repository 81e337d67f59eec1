//! Signing keys through HTTP (DESIGN §2.1, §2.3, §4): create, read, replace, merge, delete,
//! every refusal with its status and fields, authentication, and the version lifecycle walked
//! with the `FixedClock`.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sigil::clock::rfc3339;

use crate::support::{INTERNAL_KEY, KEY_TYPES, TestApp};

const KEYS: &str = "/v1/config/signing-keys";

fn statuses(state: &Value) -> Vec<&str> {
    state["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["status"].as_str().expect("status"))
        .collect()
}

fn kid(state: &Value, index: usize) -> String {
    state["versions"][index]["kid"]
        .as_str()
        .expect("kid")
        .to_owned()
}

async fn post_key(app: &TestApp, body: Value) -> crate::support::TestResponse {
    app.send_json(Method::POST, KEYS, &body).await
}

#[tokio::test]
async fn creating_a_key_answers_201_with_location_etag_and_its_defaults() {
    let app = TestApp::new().await;

    let created = post_key(&app, json!({"name": "payments"})).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.header("location"),
        Some("/v1/config/signing-keys/payments")
    );
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        created.json,
        json!({"name": "payments", "type": "ecdsa-p256", "algorithm": "ES256"})
    );
    let read = app.get("/v1/config/signing-keys/payments").await;
    assert_eq!(read.status, StatusCode::OK);
    assert_eq!(read.json, created.json);
    assert_eq!(read.header("etag"), Some("\"1\""));
}

#[tokio::test]
async fn every_key_type_is_created_with_one_active_version_and_its_algorithm() {
    let app = TestApp::new().await;

    for (key_type, algorithm) in KEY_TYPES {
        let name = format!("key-{key_type}");
        let created = post_key(&app, json!({"name": name, "type": key_type})).await;
        assert_eq!(
            created.status,
            StatusCode::CREATED,
            "{key_type}: {}",
            created.text
        );
        assert_eq!(created.header("etag"), Some("\"1\""), "{key_type}");
        assert_eq!(
            created.header("location").map(str::to_owned),
            Some(format!("{KEYS}/{name}"))
        );
        assert_eq!(created.json["algorithm"], algorithm, "{key_type}");

        let state = app.key_state(&name).await;
        assert_eq!(statuses(&state), ["active"], "{key_type}");
        let version = &state["versions"][0];
        assert_eq!(version["version"], 1);
        assert_eq!(state["signing_kid"], version["kid"]);
        assert_eq!(version["public_jwk"]["kid"], version["kid"], "{key_type}");
        assert_eq!(version["public_jwk"]["alg"], algorithm, "{key_type}");
        assert!(
            version["public_jwk"].get("d").is_none(),
            "{key_type}: no private member"
        );
        assert_eq!(version["created_at"], rfc3339(app.now()));
        assert_eq!(version["activates_at"], rfc3339(app.now()));
        assert!(version.get("retires_at").is_none());
        assert_eq!(state["internal"], false);
        assert_eq!(app.signer(&name).algorithm().as_str(), algorithm);
    }
}

#[tokio::test]
async fn an_rsa_key_may_sign_with_ps256() {
    let app = TestApp::new().await;

    let created = post_key(
        &app,
        json!({"name": "pss", "type": "rsa-2048", "algorithm": "PS256"}),
    )
    .await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.json,
        json!({"name": "pss", "type": "rsa-2048", "algorithm": "PS256"})
    );
    let state = app.key_state("pss").await;
    assert_eq!(state["versions"][0]["public_jwk"]["alg"], "PS256");
    assert_eq!(state["versions"][0]["public_jwk"]["kty"], "RSA");
}

#[tokio::test]
async fn an_unknown_key_type_is_refused_naming_type() {
    let app = TestApp::new().await;

    let refused = post_key(&app, json!({"name": "k", "type": "dsa-1024"})).await;

    refused.assert_invalid(&["type"]);
    let reason = refused.field("type")["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("ecdsa-p256"),
        "lists the known types: {reason}"
    );
    assert_eq!(app.key_names().await, [INTERNAL_KEY]);
}

#[tokio::test]
async fn rsa_1024_is_refused_naming_type() {
    let app = TestApp::new().await;

    let refused = post_key(&app, json!({"name": "k", "type": "rsa-1024"})).await;

    refused.assert_invalid(&["type"]);
    let reason = refused.field("type")["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("2048"), "{reason}");
}

#[tokio::test]
async fn an_algorithm_that_does_not_fit_the_type_is_refused_naming_algorithm() {
    let app = TestApp::new().await;

    let refused = post_key(
        &app,
        json!({"name": "k", "type": "ecdsa-p256", "algorithm": "PS256"}),
    )
    .await;

    refused.assert_invalid(&["algorithm"]);
}

#[tokio::test]
async fn an_empty_name_is_refused_naming_name() {
    let app = TestApp::new().await;

    post_key(&app, json!({"name": ""}))
        .await
        .assert_invalid(&["name"]);
}

#[tokio::test]
async fn a_missing_name_is_refused_naming_name_as_required() {
    let app = TestApp::new().await;

    let refused = post_key(&app, json!({"type": "ed25519"})).await;

    refused.assert_invalid(&["name"]);
    assert_eq!(refused.field("name")["error_code"], "required");
}

#[tokio::test]
async fn a_name_of_201_characters_is_refused_naming_name() {
    let app = TestApp::new().await;

    let refused = post_key(&app, json!({"name": "a".repeat(201)})).await;

    refused.assert_invalid(&["name"]);
    assert_eq!(refused.field("name")["error_code"], "too_long");
}

#[tokio::test]
async fn a_name_of_200_characters_is_accepted() {
    let app = TestApp::new().await;

    let created = post_key(&app, json!({"name": "a".repeat(200)})).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
}

#[tokio::test]
async fn a_name_with_a_slash_is_refused_naming_name() {
    let app = TestApp::new().await;

    post_key(&app, json!({"name": "a/b"}))
        .await
        .assert_invalid(&["name"]);
}

#[tokio::test]
async fn a_name_with_a_space_is_refused_naming_name() {
    let app = TestApp::new().await;

    post_key(&app, json!({"name": "bad name"}))
        .await
        .assert_invalid(&["name"]);
}

#[tokio::test]
async fn every_bad_field_is_listed_at_once() {
    let app = TestApp::new().await;

    let refused = post_key(
        &app,
        json!({"name": "bad name", "type": "rsa-1024", "rotation_period": "1m"}),
    )
    .await;

    refused.assert_invalid(&["name", "rotation_period", "type"]);
}

#[tokio::test]
async fn unknown_fields_are_refused_naming_each_of_them() {
    let app = TestApp::new().await;

    let refused = post_key(&app, json!({"name": "k", "colour": "blue", "size": 3})).await;

    refused.assert_invalid(&["colour", "size"]);
    assert_eq!(refused.field("colour")["error_code"], "unknown_field");
    assert_eq!(refused.field("size")["error_code"], "unknown_field");
    assert_eq!(app.key_names().await, [INTERNAL_KEY]);
}

#[tokio::test]
async fn malformed_json_is_refused_with_its_line_and_column() {
    let app = TestApp::new().await;

    let body = b"{\"name\": \"k\",\n  \"type\": }".to_vec();
    let refused = app
        .request(
            Method::POST,
            KEYS,
            Some(&app.root_token),
            Some(("application/json", body)),
        )
        .await;

    refused.assert_error(StatusCode::BAD_REQUEST, "malformed_request");
    let message = refused.json["message"].as_str().unwrap_or_default();
    assert!(message.contains("line 2, column 11"), "{message}");
}

#[tokio::test]
async fn malformed_yaml_is_refused_with_its_line_and_column() {
    let app = TestApp::new().await;

    let refused = app
        .root(Method::POST, KEYS)
        .yaml("name: k\ntype: [ecdsa-p256\n")
        .send()
        .await;

    refused.assert_error(StatusCode::BAD_REQUEST, "malformed_request");
    let message = refused.json["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("invalid YAML at line") && message.contains("column"),
        "{message}"
    );
}

#[tokio::test]
async fn an_unsupported_content_type_answers_415() {
    let app = TestApp::new().await;

    let refused = app
        .root(Method::POST, KEYS)
        .body("text/plain", b"name=k".to_vec())
        .send()
        .await;

    refused.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
}

#[tokio::test]
async fn a_yaml_body_with_dashed_names_is_accepted_verbatim() {
    let app = TestApp::new().await;

    let created = app
        .root(Method::POST, KEYS)
        .yaml("name: payments-jwt-key\ntype: ecdsa-p384\nrotation-period: 30d\n")
        .send()
        .await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(
        created.json,
        json!({
            "name": "payments-jwt-key",
            "type": "ecdsa-p384",
            "algorithm": "ES384",
            "rotation_period": "30d"
        })
    );
}

#[tokio::test]
async fn creating_an_existing_key_answers_409_already_exists() {
    let app = TestApp::new().await;
    app.create_key("k", "ed25519").await;

    let again = post_key(&app, json!({"name": "k", "type": "ed25519"})).await;

    again.assert_error(StatusCode::CONFLICT, "already_exists");
    assert!(
        again.json["message"]
            .as_str()
            .unwrap_or_default()
            .contains("`k`")
    );
}

#[tokio::test]
async fn reading_an_unknown_key_answers_404() {
    let app = TestApp::new().await;

    app.get("/v1/config/signing-keys/nope")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.get("/v1/state/signing-keys/nope")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn put_creates_a_key_then_replaces_it() {
    let app = TestApp::new().await;
    let path = "/v1/config/signing-keys/put-key";

    let created = app
        .send_json(Method::PUT, path, &json!({"type": "ed25519"}))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    assert_eq!(created.header("location"), Some(path));
    assert_eq!(created.json["name"], "put-key");

    let replaced = app
        .send_json(
            Method::PUT,
            path,
            &json!({"name": "put-key", "type": "ed25519", "rotation_period": "2h"}),
        )
        .await;
    assert_eq!(replaced.status, StatusCode::NO_CONTENT, "{}", replaced.text);
    assert_eq!(replaced.header("etag"), Some("\"2\""));

    let read = app.get(path).await;
    assert_eq!(
        read.json,
        json!({"name": "put-key", "type": "ed25519", "algorithm": "EdDSA", "rotation_period": "2h"})
    );
    assert_eq!(read.header("etag"), Some("\"2\""));
}

#[tokio::test]
async fn put_with_if_match_on_a_missing_key_answers_412_and_creates_nothing() {
    let app = TestApp::new().await;

    let refused = app
        .root(Method::PUT, "/v1/config/signing-keys/ghost")
        .header("if-match", "\"1\"")
        .json(&json!({"type": "ed25519"}))
        .send()
        .await;

    refused.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    assert_eq!(app.key_names().await, [INTERNAL_KEY]);
}

#[tokio::test]
async fn put_with_a_name_other_than_the_path_is_refused_naming_name() {
    let app = TestApp::new().await;

    let refused = app
        .send_json(
            Method::PUT,
            "/v1/config/signing-keys/one",
            &json!({"name": "two"}),
        )
        .await;

    refused.assert_invalid(&["name"]);
}

#[tokio::test]
async fn put_replacing_the_internal_key_answers_409_internal_resource() {
    let app = TestApp::new().await;

    let refused = app
        .send_json(
            Method::PUT,
            "/v1/config/signing-keys/sigil-internal",
            &json!({"rotation_period": "1h"}),
        )
        .await;

    refused.assert_error(StatusCode::CONFLICT, "internal_resource");
}

#[tokio::test]
async fn patch_merges_the_rotation_period() {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p521").await;

    let patched = app
        .send_json(
            Method::PATCH,
            "/v1/config/signing-keys/k",
            &json!({"rotation-period": "90d"}),
        )
        .await;

    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    let read = app.get("/v1/config/signing-keys/k").await;
    assert_eq!(
        read.json,
        json!({"name": "k", "type": "ecdsa-p521", "algorithm": "ES512", "rotation_period": "90d"})
    );
    assert_eq!(read.header("etag"), Some("\"2\""));

    let removed = app
        .send_json(
            Method::PATCH,
            "/v1/config/signing-keys/k",
            &json!({"rotation_period": null}),
        )
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text);
    assert!(
        app.get("/v1/config/signing-keys/k")
            .await
            .json
            .get("rotation_period")
            .is_none()
    );
}

#[tokio::test]
async fn patch_with_a_dashed_name_replaces_an_existing_rotation_period() {
    let app = TestApp::new().await;
    app.create_key_with(json!({"name": "k", "type": "ed25519", "rotation_period": "1d"}))
        .await;

    let patched = app
        .root(Method::PATCH, "/v1/config/signing-keys/k")
        .yaml("rotation-period: 2d\n")
        .send()
        .await;

    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    assert_eq!(
        app.get("/v1/config/signing-keys/k").await.json["rotation_period"],
        "2d"
    );
}

#[tokio::test]
async fn patch_changing_the_type_is_refused_naming_type() {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;

    let refused = app
        .send_json(
            Method::PATCH,
            "/v1/config/signing-keys/k",
            &json!({"type": "ecdsa-p384"}),
        )
        .await;

    // The client sent only `type`: the refusal must name it (an `algorithm` that no longer
    // fits may be listed beside it).
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.error_code(), "invalid_request");
    assert!(refused.field_names().contains(&"type"), "{}", refused.text);
    assert_eq!(
        app.get("/v1/config/signing-keys/k").await.json["type"],
        "ecdsa-p256"
    );
}

#[tokio::test]
async fn patch_of_an_unknown_key_answers_404() {
    let app = TestApp::new().await;

    app.send_json(
        Method::PATCH,
        "/v1/config/signing-keys/nope",
        &json!({"rotation_period": "2h"}),
    )
    .await
    .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn patch_with_a_stale_if_match_answers_412() {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;

    let refused = app
        .root(Method::PATCH, "/v1/config/signing-keys/k")
        .header("if-match", "\"7\"")
        .json(&json!({"rotation_period": "2h"}))
        .send()
        .await;

    refused.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    assert!(
        app.get("/v1/config/signing-keys/k")
            .await
            .json
            .get("rotation_period")
            .is_none()
    );
}

#[tokio::test]
async fn patch_with_the_current_etag_succeeds() {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;
    let etag = app
        .get("/v1/config/signing-keys/k")
        .await
        .header("etag")
        .map(str::to_owned);

    let patched = app
        .root(Method::PATCH, "/v1/config/signing-keys/k")
        .header("if-match", etag.as_deref().expect("etag"))
        .json(&json!({"rotation_period": "2h"}))
        .send()
        .await;

    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
}

#[tokio::test]
async fn delete_with_a_stale_if_match_answers_412_and_keeps_the_key() {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;

    let refused = app
        .root(Method::DELETE, "/v1/config/signing-keys/k")
        .header("if-match", "\"2\"")
        .send()
        .await;

    refused.assert_error(StatusCode::PRECONDITION_FAILED, "precondition_failed");
    assert_eq!(app.key_names().await, ["k", INTERNAL_KEY]);
}

#[tokio::test]
async fn deleting_a_key_answers_204_and_it_is_gone() {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;

    let deleted = app
        .root(Method::DELETE, "/v1/config/signing-keys/k")
        .send()
        .await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    app.get("/v1/config/signing-keys/k")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    assert!(
        app.app
            .store
            .signing_keys()
            .get("k")
            .await
            .expect("store")
            .is_none()
    );
}

#[tokio::test]
async fn deleting_the_internal_key_answers_409_internal_resource() {
    let app = TestApp::new().await;

    let refused = app
        .root(Method::DELETE, "/v1/config/signing-keys/sigil-internal")
        .send()
        .await;

    refused.assert_error(StatusCode::CONFLICT, "internal_resource");
    assert_eq!(app.key_names().await, [INTERNAL_KEY]);
}

#[tokio::test]
async fn a_body_over_the_limit_answers_413() {
    let app = TestApp::builder().max_body_bytes(1024).build().await;
    let body = json!({"name": "k", "type": "x".repeat(2048)});

    let refused = app.send_json(Method::POST, KEYS, &body).await;

    refused.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
    assert!(
        refused.json["message"]
            .as_str()
            .unwrap_or_default()
            .contains("1024")
    );
}

#[tokio::test]
async fn a_body_over_the_limit_answers_413_even_with_a_bad_query() {
    let app = TestApp::builder().max_body_bytes(1024).build().await;
    let body = json!({"name": "k", "type": "x".repeat(2048)});

    let refused = app
        .send_json(Method::POST, &format!("{KEYS}?validate=maybe"), &body)
        .await;

    refused.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
}

#[tokio::test]
async fn a_declared_content_length_over_the_limit_answers_413() {
    let app = TestApp::builder().max_body_bytes(1024).build().await;
    let body = serde_json::to_vec(&json!({"name": "k", "type": "x".repeat(2048)})).expect("json");

    let refused = app
        .root(Method::POST, KEYS)
        .header("content-length", &body.len().to_string())
        .body("application/json", body)
        .send()
        .await;

    refused.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large");
}

#[tokio::test]
async fn a_request_without_a_token_answers_401_with_a_bearer_challenge() {
    let app = TestApp::new().await;

    let refused = app.call(Method::GET, KEYS).send().await;

    refused.assert_error(StatusCode::UNAUTHORIZED, "token_missing");
    let challenge = refused.header("www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with("Bearer"), "{challenge}");
}

#[tokio::test]
async fn a_garbage_token_answers_401() {
    let app = TestApp::new().await;

    let refused = app.call(Method::GET, KEYS).token("garbage").send().await;

    refused.assert_error(StatusCode::UNAUTHORIZED, "token_malformed");
    assert!(
        refused
            .header("www-authenticate")
            .unwrap_or_default()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn a_root_token_with_a_forged_signature_answers_401() {
    let app = TestApp::new().await;
    let (signed, _) = app.root_token.rsplit_once('.').expect("three parts");
    let other = TestApp::new().await;
    let (_, foreign_signature) = other.root_token.rsplit_once('.').expect("three parts");

    let refused = app
        .call(Method::GET, KEYS)
        .token(&format!("{signed}.{foreign_signature}"))
        .send()
        .await;

    refused.assert_error(StatusCode::UNAUTHORIZED, "signature_invalid");
}

#[tokio::test]
async fn another_servers_root_token_answers_401_unknown_key() {
    let app = TestApp::new().await;
    let other = TestApp::new().await;

    let refused = app
        .call(Method::GET, KEYS)
        .token(&other.root_token)
        .send()
        .await;

    refused.assert_error(StatusCode::UNAUTHORIZED, "unknown_key");
}

#[tokio::test]
async fn an_expired_root_token_answers_401_token_expired() {
    let app = TestApp::new().await;
    app.clock.advance(24 * 3600 + 59);
    assert_eq!(
        app.get(KEYS).await.status,
        StatusCode::OK,
        "within the leeway"
    );

    app.clock.advance(1);
    let refused = app.get(KEYS).await;

    refused.assert_error(StatusCode::UNAUTHORIZED, "token_expired");
    assert!(
        refused
            .header("www-authenticate")
            .unwrap_or_default()
            .starts_with("Bearer")
    );
}

#[tokio::test]
async fn rotating_activates_a_new_version_and_retires_the_old_one() {
    let app = TestApp::new().await;
    let before = app.create_key("k", "ecdsa-p256").await;
    app.clock.advance(100);

    let rotated = app
        .root(Method::POST, "/v1/signing-keys/k/rotate")
        .send()
        .await;

    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    let state = &rotated.json;
    assert_eq!(statuses(state), ["retiring", "active"]);
    assert_eq!(kid(state, 0), kid(&before, 0));
    assert_ne!(kid(state, 1), kid(state, 0));
    assert_eq!(state["signing_kid"].as_str(), Some(kid(state, 1).as_str()));
    // Nothing signs with `k` yet, so the old version stays published for the leeway only.
    assert_eq!(state["versions"][0]["retires_at"], rfc3339(app.now() + 60));
    assert_eq!(state["versions"][1]["activates_at"], rfc3339(app.now()));
    assert_eq!(state["next_change_at"], rfc3339(app.now() + 60));
    assert_eq!(rotated.header("etag"), Some("\"2\""));
    assert_eq!(app.signer("k").kid(), kid(state, 1));
}

#[tokio::test]
async fn a_retiring_version_is_retired_and_destroyed_when_its_time_comes() {
    let app = TestApp::new().await;
    let before = app.create_key("k", "ecdsa-p256").await;
    app.root(Method::POST, "/v1/signing-keys/k/rotate")
        .send()
        .await;

    app.clock.advance(60);
    let state = app.key_state("k").await;
    assert_eq!(statuses(&state), ["retired", "active"], "effective at once");
    let changed = app.app.keys.run_lifecycle().await.expect("lifecycle");

    assert_eq!(changed, ["k"]);
    let record = app
        .app
        .store
        .signing_keys()
        .get("k")
        .await
        .expect("store")
        .expect("k");
    assert_eq!(record.versions[0].status, "retired");
    assert!(
        record.versions[0].sealed_private_key.is_none(),
        "private part destroyed"
    );
    assert!(record.versions[1].sealed_private_key.is_some());
    let keyring = app.app.keys.keyring();
    assert!(
        keyring
            .get("k")
            .expect("k")
            .verifier(&kid(&before, 0), app.now())
            .is_none()
    );
}

#[tokio::test]
async fn rotating_with_prepublish_keeps_the_new_version_pending_until_its_time() {
    let app = TestApp::new().await;
    let before = app.create_key("k", "ed25519").await;

    let rotated = app
        .send_json(
            Method::POST,
            "/v1/signing-keys/k/rotate",
            &json!({"prepublish": "1h"}),
        )
        .await;

    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    assert_eq!(statuses(&rotated.json), ["active", "pending"]);
    assert_eq!(
        rotated.json["versions"][1]["activates_at"],
        rfc3339(app.now() + 3600)
    );
    assert_eq!(
        rotated.json["signing_kid"].as_str(),
        Some(kid(&before, 0).as_str())
    );
    assert_eq!(rotated.json["next_change_at"], rfc3339(app.now() + 3600));
    assert_eq!(app.signer("k").kid(), kid(&before, 0));

    app.clock.advance(3599);
    assert_eq!(statuses(&app.key_state("k").await), ["active", "pending"]);

    app.clock.advance(1);
    let state = app.key_state("k").await;
    assert_eq!(
        statuses(&state),
        ["retiring", "active"],
        "effective before any tick"
    );
    assert_eq!(
        state["signing_kid"].as_str(),
        Some(kid(&rotated.json, 1).as_str())
    );
    assert_eq!(app.signer("k").kid(), kid(&rotated.json, 1));

    assert_eq!(
        app.app.keys.run_lifecycle().await.expect("lifecycle"),
        ["k"]
    );
    let record = app
        .app
        .store
        .signing_keys()
        .get("k")
        .await
        .expect("store")
        .expect("k");
    let stored: Vec<&str> = record.versions.iter().map(|v| v.status.as_str()).collect();
    assert_eq!(stored, ["retiring", "active"]);
    assert_eq!(statuses(&app.key_state("k").await), ["retiring", "active"]);
}

#[tokio::test]
async fn rotating_an_unknown_key_answers_404() {
    let app = TestApp::new().await;

    app.root(Method::POST, "/v1/signing-keys/nope/rotate")
        .send()
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn tainting_the_active_version_creates_a_new_active_one() {
    let app = TestApp::new().await;
    let before = app.create_key("k", "rsa-2048").await;

    let tainted = app
        .root(Method::POST, "/v1/signing-keys/k/versions/1/taint")
        .send()
        .await;

    assert_eq!(tainted.status, StatusCode::OK, "{}", tainted.text);
    assert_eq!(statuses(&tainted.json), ["retiring", "active"]);
    assert_eq!(
        tainted.json["versions"][0]["retires_at"],
        rfc3339(app.now() + 60)
    );
    assert_ne!(kid(&tainted.json, 1), kid(&before, 0));
    assert_eq!(app.signer("k").kid(), kid(&tainted.json, 1));
    let keyring = app.app.keys.keyring();
    assert!(
        keyring
            .get("k")
            .expect("k")
            .verifier(&kid(&before, 0), app.now())
            .is_some(),
        "a tainted version stays published"
    );
}

#[tokio::test]
async fn revoking_retires_the_version_and_destroys_its_private_part() {
    let app = TestApp::new().await;
    let before = app.create_key("k", "ecdsa-p384").await;
    app.root(Method::POST, "/v1/signing-keys/k/rotate")
        .send()
        .await;

    let revoked = app
        .root(Method::POST, "/v1/signing-keys/k/versions/1/revoke")
        .send()
        .await;

    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(statuses(&revoked.json), ["retired", "active"]);
    assert_eq!(
        revoked.json["versions"][0]["retires_at"],
        rfc3339(app.now())
    );
    let record = app
        .app
        .store
        .signing_keys()
        .get("k")
        .await
        .expect("store")
        .expect("k");
    assert!(
        record.versions[0].sealed_private_key.is_none(),
        "column is NULL"
    );
    let keyring = app.app.keys.keyring();
    assert!(
        keyring
            .get("k")
            .expect("k")
            .verifier(&kid(&before, 0), app.now())
            .is_none()
    );
}

#[tokio::test]
async fn revoking_the_active_version_creates_a_replacement() {
    let app = TestApp::new().await;
    let before = app.create_key("k", "ecdsa-p256").await;

    let revoked = app
        .root(Method::POST, "/v1/signing-keys/k/versions/1/revoke")
        .send()
        .await;

    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_eq!(statuses(&revoked.json), ["retired", "active"]);
    assert_ne!(app.signer("k").kid(), kid(&before, 0));
}

#[tokio::test]
async fn revoking_an_unknown_version_answers_404() {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;

    app.root(Method::POST, "/v1/signing-keys/k/versions/9/revoke")
        .send()
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn a_version_that_is_not_a_number_is_refused_naming_version() {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;

    app.root(Method::POST, "/v1/signing-keys/k/versions/one/revoke")
        .send()
        .await
        .assert_invalid(&["version"]);
}

#[tokio::test]
async fn revoking_twice_answers_409() {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;
    let path = "/v1/signing-keys/k/versions/1/revoke";
    assert_eq!(
        app.root(Method::POST, path).send().await.status,
        StatusCode::OK
    );

    let again = app.root(Method::POST, path).send().await;

    again.assert_error(StatusCode::CONFLICT, "invalid_transition");
    assert!(
        again.json["message"]
            .as_str()
            .unwrap_or_default()
            .contains("already retired")
    );
}

#[tokio::test]
async fn a_key_with_a_rotation_period_rotates_on_schedule() {
    let app = TestApp::new().await;
    let before = app
        .create_key_with(json!({"name": "k", "type": "ecdsa-p256", "rotation_period": "1h"}))
        .await;
    assert_eq!(before["next_change_at"], rfc3339(app.now() + 3600));

    app.clock.advance(3599);
    assert!(
        app.app
            .keys
            .run_lifecycle()
            .await
            .expect("lifecycle")
            .is_empty()
    );
    app.clock.advance(1);
    let changed = app.app.keys.run_lifecycle().await.expect("lifecycle");

    assert_eq!(changed, ["k"]);
    let state = app.key_state("k").await;
    assert_eq!(statuses(&state), ["retiring", "active"]);
    assert_eq!(state["versions"][1]["activates_at"], rfc3339(app.now()));
    assert_eq!(state["next_change_at"], rfc3339(app.now() + 60));
    assert_eq!(app.signer("k").kid(), kid(&state, 1));
    assert!(
        app.app
            .keys
            .run_lifecycle()
            .await
            .expect("lifecycle")
            .is_empty(),
        "exactly one rotation per period"
    );
}

#[tokio::test]
async fn rotating_the_internal_key_keeps_the_root_token_valid() {
    let app = TestApp::new().await;

    let rotated = app
        .root(Method::POST, "/v1/signing-keys/sigil-internal/rotate")
        .send()
        .await;

    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    // The internal key's tokens live 24h, so the old version stays published that long.
    assert_eq!(
        rotated.json["versions"][0]["retires_at"],
        rfc3339(app.now() + 24 * 3600 + 60)
    );
    app.clock.advance(24 * 3600);
    assert_eq!(app.get(KEYS).await.status, StatusCode::OK);
}
