//! The seal lifecycle (DESIGN §4 "Seal"): init, unseal with a quorum, seal, generate-root,
//! restart and auto-unseal, the 503 gate, and what the database file holds at rest.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sigil::clock::rfc3339;
use sigil::seal::Share;
use sigil_jose::{Algorithm, KeyType, SigningKey};

use crate::support::{INTERNAL_KEY, TestApp};

async fn seal_status(app: &TestApp) -> Value {
    let status = app.call(Method::GET, "/v1/sys/seal-status").send().await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    status.json
}

async fn unseal(app: &TestApp, key: &str) -> crate::support::TestResponse {
    app.call(Method::POST, "/v1/sys/unseal")
        .json(&json!({"key": key}))
        .send()
        .await
}

#[tokio::test]
async fn seal_status_before_init_reports_uninitialised_and_sealed() {
    let app = TestApp::builder().uninitialised().build().await;

    let status = seal_status(&app).await;

    assert_eq!(
        status,
        json!({"initialized": false, "sealed": true, "threshold": 0, "shares": 0, "progress": 0})
    );
}

#[tokio::test]
async fn init_returns_every_share_and_a_root_token_once() {
    let app = TestApp::builder().uninitialised().build().await;

    let init = app
        .call(Method::POST, "/v1/sys/init")
        .json(&json!({"shares": 5, "threshold": 3}))
        .send()
        .await;

    assert_eq!(init.status, StatusCode::OK, "{}", init.text);
    assert_eq!(init.header("cache-control"), Some("no-store"));
    let keys = init.json["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 5);
    for key in keys {
        Share::decode(key.as_str().expect("a string")).expect("each key is a share");
    }
    assert_eq!(init.json["threshold"], 3);
    let token = init.json["root_token"].as_str().expect("root_token");
    assert_eq!(token.split('.').count(), 3, "a compact JWS: {token}");
    assert_eq!(
        init.json["root_token_expires_at"],
        rfc3339(app.now() + 24 * 3600)
    );
    assert_eq!(
        seal_status(&app).await,
        json!({"initialized": true, "sealed": true, "threshold": 3, "shares": 5, "progress": 0})
    );
}

#[tokio::test]
async fn init_without_a_body_uses_five_shares_and_threshold_three() {
    let app = TestApp::builder().uninitialised().build().await;

    let init = app.call(Method::POST, "/v1/sys/init").send().await;

    assert_eq!(init.status, StatusCode::OK, "{}", init.text);
    assert_eq!(init.json["keys"].as_array().map(Vec::len), Some(5));
    assert_eq!(init.json["threshold"], 3);
}

#[tokio::test]
async fn init_twice_answers_409_already_initialised() {
    let app = TestApp::new().await;

    let again = app
        .call(Method::POST, "/v1/sys/init")
        .json(&json!({"shares": 1, "threshold": 1}))
        .send()
        .await;

    again.assert_error(StatusCode::CONFLICT, "already_initialised");
}

#[tokio::test]
async fn init_with_a_threshold_above_the_shares_is_refused_naming_threshold() {
    let app = TestApp::builder().uninitialised().build().await;

    let init = app
        .call(Method::POST, "/v1/sys/init")
        .json(&json!({"shares": 3, "threshold": 4}))
        .send()
        .await;

    init.assert_invalid(&["threshold"]);
    assert_eq!(seal_status(&app).await["initialized"], false);
}

#[tokio::test]
async fn unseal_counts_distinct_shares_until_the_threshold() {
    let app = TestApp::builder().shares(5, 3).sealed().build().await;

    let first = unseal(&app, &app.shares[0]).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_eq!(first.json["sealed"], true);
    assert_eq!(first.json["progress"], 1);

    let same_again = unseal(&app, &app.shares[0]).await;
    assert_eq!(same_again.status, StatusCode::OK, "{}", same_again.text);
    assert_eq!(same_again.json["progress"], 1, "the same share counts once");

    let second = unseal(&app, &app.shares[3]).await;
    assert_eq!(second.json["progress"], 2);
    assert_eq!(second.json["sealed"], true);

    let third = unseal(&app, &app.shares[4]).await;
    assert_eq!(third.status, StatusCode::OK, "{}", third.text);
    assert_eq!(
        third.json,
        json!({"initialized": true, "sealed": false, "threshold": 3, "shares": 5, "progress": 0})
    );
    assert_eq!(
        app.get("/v1/config/signing-keys").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn shares_of_another_server_leave_it_sealed_and_reset_progress() {
    let app = TestApp::builder().shares(5, 3).sealed().build().await;
    let other = TestApp::builder().shares(5, 3).sealed().build().await;

    assert_eq!(unseal(&app, &other.shares[0]).await.json["progress"], 1);
    assert_eq!(unseal(&app, &other.shares[1]).await.json["progress"], 2);
    let last = unseal(&app, &other.shares[2]).await;

    last.assert_error(StatusCode::BAD_REQUEST, "unseal_failed");
    let message = last.json["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("do not belong together") && message.contains("still sealed"),
        "{message}"
    );
    let status = seal_status(&app).await;
    assert_eq!(status["sealed"], true);
    assert_eq!(status["progress"], 0);
    // The right shares still work afterwards.
    for share in &app.shares[..3] {
        unseal(&app, share).await;
    }
    assert_eq!(seal_status(&app).await["sealed"], false);
}

#[tokio::test]
async fn a_different_share_with_a_seen_identifier_resets_progress() {
    let app = TestApp::builder().shares(5, 3).sealed().build().await;
    let other = TestApp::builder().shares(5, 3).sealed().build().await;

    unseal(&app, &app.shares[0]).await;
    let conflicting = unseal(&app, &other.shares[0]).await;

    conflicting.assert_error(StatusCode::BAD_REQUEST, "conflicting_share");
    assert_eq!(seal_status(&app).await["progress"], 0);
}

#[tokio::test]
async fn a_malformed_share_is_refused_naming_key() {
    let app = TestApp::builder().shares(5, 3).sealed().build().await;
    unseal(&app, &app.shares[0]).await;

    let malformed = unseal(&app, "not-a-share").await;

    malformed.assert_invalid(&["key"]);
    assert_eq!(
        seal_status(&app).await["progress"],
        1,
        "a typo does not cost the shares already given"
    );
}

#[tokio::test]
async fn unseal_without_a_key_is_refused_naming_key_as_required() {
    let app = TestApp::builder().sealed().build().await;

    let missing = app
        .call(Method::POST, "/v1/sys/unseal")
        .json(&json!({}))
        .send()
        .await;

    missing.assert_invalid(&["key"]);
    assert_eq!(missing.field("key")["error_code"], "required");
}

#[tokio::test]
async fn unseal_reset_forgets_the_shares_given_so_far() {
    let app = TestApp::builder().shares(5, 3).sealed().build().await;
    unseal(&app, &app.shares[0]).await;

    let reset = app
        .call(Method::POST, "/v1/sys/unseal")
        .json(&json!({"reset": true}))
        .send()
        .await;

    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text);
    assert_eq!(reset.json["progress"], 0);
    assert_eq!(reset.json["sealed"], true);
}

#[tokio::test]
async fn unseal_before_init_answers_409_not_initialised() {
    let app = TestApp::builder().uninitialised().build().await;
    let other = TestApp::new().await;

    let early = unseal(&app, &other.shares[0]).await;

    early.assert_error(StatusCode::CONFLICT, "not_initialised");
}

/// Every endpoint that needs the stored configuration or a private key.
fn protected_endpoints() -> Vec<(Method, &'static str, Option<Value>)> {
    let key = Some(json!({"name": "k"}));
    vec![
        (Method::GET, "/v1/config/signing-keys", None),
        (Method::POST, "/v1/config/signing-keys", key.clone()),
        (Method::GET, "/v1/config/signing-keys/k", None),
        (Method::PUT, "/v1/config/signing-keys/k", key.clone()),
        (Method::PATCH, "/v1/config/signing-keys/k", Some(json!({}))),
        (Method::DELETE, "/v1/config/signing-keys/k", None),
        (Method::GET, "/v1/state/signing-keys", None),
        (Method::GET, "/v1/state/signing-keys/k", None),
        (Method::POST, "/v1/signing-keys/k/rotate", None),
        (Method::POST, "/v1/signing-keys/k/versions/1/taint", None),
        (Method::POST, "/v1/signing-keys/k/versions/1/revoke", None),
        (Method::POST, "/v1/sys/seal", None),
        (
            Method::POST,
            "/v1/sys/generate-root",
            Some(json!({"keys": []})),
        ),
    ]
}

#[tokio::test]
async fn every_protected_endpoint_answers_503_sealed_while_sealed() {
    let app = TestApp::builder().sealed().build().await;

    for (method, path, body) in protected_endpoints() {
        let mut call = app.root(method.clone(), path);
        if let Some(body) = &body {
            call = call.json(body);
        }
        let answer = call.send().await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}: {}",
            answer.text
        );
        assert_eq!(answer.error_code(), "sealed", "{method} {path}");
    }
}

#[tokio::test]
async fn an_uninitialised_server_answers_503_sealed_even_without_a_token() {
    let app = TestApp::builder().uninitialised().build().await;

    for (method, path, _) in protected_endpoints() {
        let answer = app.call(method.clone(), path).send().await;
        assert_eq!(
            answer.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{method} {path}: {}",
            answer.text
        );
        assert_eq!(answer.error_code(), "sealed", "{method} {path}");
    }
}

#[tokio::test]
async fn health_seal_status_init_and_unseal_answer_while_sealed() {
    let app = TestApp::builder().sealed().build().await;

    let health = app.call(Method::GET, "/healthz").send().await;
    assert_eq!(health.status, StatusCode::OK, "{}", health.text);
    assert_eq!(health.json, json!({"status": "ok"}));
    assert_eq!(
        app.call(Method::GET, "/v1/sys/seal-status")
            .send()
            .await
            .status,
        StatusCode::OK
    );
    app.call(Method::POST, "/v1/sys/init")
        .send()
        .await
        .assert_error(StatusCode::CONFLICT, "already_initialised");
    let unsealed = unseal(&app, &app.shares[0]).await;
    assert_eq!(unsealed.status, StatusCode::OK, "{}", unsealed.text);
    assert_eq!(unsealed.json["sealed"], false);
}

#[tokio::test]
async fn readyz_answers_503_while_sealed_and_200_once_unsealed() {
    let app = TestApp::builder().sealed().build().await;

    let sealed = app.call(Method::GET, "/readyz").send().await;
    assert_eq!(
        sealed.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        sealed.text
    );
    assert_eq!(sealed.json["ready"], false);
    assert_eq!(sealed.json["sealed"], true);

    app.unseal_with(1).await;
    let ready = app.call(Method::GET, "/readyz").send().await;
    assert_eq!(ready.status, StatusCode::OK, "{}", ready.text);
    assert_eq!(
        ready.json,
        json!({
            "ready": true,
            "sealed": false,
            "storage": "ok",
            "node": app.app.config.node_id,
        })
    );
}

#[tokio::test]
async fn sealing_gates_the_api_until_unsealed_and_the_old_root_token_still_works() {
    let app = TestApp::builder().shares(3, 2).build().await;
    app.create_key("before-seal", "ed25519").await;

    let sealed = app.root(Method::POST, "/v1/sys/seal").send().await;
    assert_eq!(sealed.status, StatusCode::NO_CONTENT, "{}", sealed.text);
    assert_eq!(seal_status(&app).await["sealed"], true);
    app.get("/v1/config/signing-keys")
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "sealed");
    assert!(
        app.app.keys.keyring().iter().all(|key| !key.has_signers()),
        "sealing drops every private key"
    );

    unseal(&app, &app.shares[1]).await;
    let unsealed = unseal(&app, &app.shares[2]).await;
    assert_eq!(unsealed.json["sealed"], false, "{}", unsealed.text);

    let list = app.get("/v1/config/signing-keys?keys=true").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    assert_eq!(list.json, json!(["before-seal", INTERNAL_KEY]));
    app.signer("before-seal");
}

#[tokio::test]
async fn sealing_needs_a_token() {
    let app = TestApp::new().await;

    let anonymous = app.call(Method::POST, "/v1/sys/seal").send().await;

    anonymous.assert_error(StatusCode::UNAUTHORIZED, "token_missing");
    assert_eq!(seal_status(&app).await["sealed"], false);
}

#[tokio::test]
async fn generate_root_with_a_quorum_answers_a_new_working_token() {
    let app = TestApp::builder().shares(5, 3).build().await;

    let generated = app
        .call(Method::POST, "/v1/sys/generate-root")
        .json(&json!({"keys": [app.shares[4], app.shares[2], app.shares[0]]}))
        .send()
        .await;

    assert_eq!(generated.status, StatusCode::OK, "{}", generated.text);
    assert_eq!(generated.header("cache-control"), Some("no-store"));
    assert_eq!(generated.json["expires_at"], rfc3339(app.now() + 24 * 3600));
    let token = generated.json["root_token"].as_str().expect("root_token");
    assert_ne!(token, app.root_token);
    let list = app
        .call(Method::GET, "/v1/config/signing-keys")
        .token(token)
        .send()
        .await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
}

#[tokio::test]
async fn generate_root_with_too_few_shares_is_refused_naming_keys() {
    let app = TestApp::builder().shares(5, 3).build().await;

    let refused = app
        .call(Method::POST, "/v1/sys/generate-root")
        .json(&json!({"keys": [app.shares[0], app.shares[1], app.shares[1]]}))
        .send()
        .await;

    refused.assert_invalid(&["keys"]);
    let reason = refused.field("keys")["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("2 given, 3 needed"), "{reason}");
    assert!(refused.json.get("root_token").is_none());
}

#[tokio::test]
async fn generate_root_with_shares_of_another_server_is_refused() {
    let app = TestApp::builder().shares(3, 2).build().await;
    let other = TestApp::builder().shares(3, 2).sealed().build().await;

    let refused = app
        .call(Method::POST, "/v1/sys/generate-root")
        .json(&json!({"keys": [other.shares[0], other.shares[1]]}))
        .send()
        .await;

    refused.assert_error(StatusCode::BAD_REQUEST, "unseal_failed");
}

#[tokio::test]
async fn generate_root_with_a_malformed_share_names_its_index() {
    let app = TestApp::builder().shares(3, 2).build().await;

    let refused = app
        .call(Method::POST, "/v1/sys/generate-root")
        .json(&json!({"keys": [app.shares[0], "garbage"]}))
        .send()
        .await;

    refused.assert_invalid(&["keys/1"]);
}

#[tokio::test]
async fn a_restarted_server_is_sealed_with_its_public_keys_loaded() {
    let app = TestApp::builder().shares(3, 2).build().await;
    let created = app.create_key("survivor", "ecdsa-p384").await;
    let kid = created["versions"][0]["kid"].clone();

    let app = app.restart().await;

    let status = seal_status(&app).await;
    assert_eq!(status["initialized"], true);
    assert_eq!(status["sealed"], true);
    let keyring = app.app.keys.keyring();
    let survivor = keyring
        .get("survivor")
        .expect("public part loaded while sealed");
    assert_eq!(json!(survivor.versions[0].kid), kid);
    assert_eq!(survivor.published(app.now()).count(), 1);
    assert!(!survivor.has_signers(), "no private key before unseal");
    assert!(keyring.get(INTERNAL_KEY).is_some());

    app.unseal_with(2).await;
    assert_eq!(json!(app.signer("survivor").kid()), kid);
    let list = app.get("/v1/config/signing-keys?keys=true").await;
    assert_eq!(list.json, json!(["sigil-internal", "survivor"]));
}

#[tokio::test]
async fn auto_unseal_applies_the_shares_in_a_file() {
    let app = TestApp::builder().shares(3, 2).sealed().build().await;
    let path = app.data_dir().join("unseal-keys");
    let text = format!(
        "# unseal keys\n\n{}\n  {}  \n{}\n",
        app.shares[2], app.shares[0], app.shares[1]
    );
    std::fs::write(&path, text).expect("write the key file");

    let status = app.app.auto_unseal(&path).await.expect("auto-unseal");

    assert!(!status.sealed);
    assert_eq!(seal_status(&app).await["sealed"], false);
    assert_eq!(
        app.get("/v1/config/signing-keys").await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn auto_unseal_with_too_few_shares_stays_sealed_with_progress() {
    let app = TestApp::builder().shares(3, 2).sealed().build().await;
    let path = app.data_dir().join("unseal-keys");
    std::fs::write(&path, format!("{}\n", app.shares[1])).expect("write the key file");

    let status = app.app.auto_unseal(&path).await.expect("auto-unseal");

    assert!(status.sealed);
    assert_eq!(status.progress, 1);
}

#[tokio::test]
async fn auto_unseal_refuses_a_malformed_line() {
    let app = TestApp::builder().shares(3, 2).sealed().build().await;
    let path = app.data_dir().join("unseal-keys");
    std::fs::write(&path, "not a share\n").expect("write the key file");

    let refused = app.app.auto_unseal(&path).await;

    assert!(
        matches!(refused, Err(sigil::seal::SealRefused::MalformedShare(_))),
        "{refused:?}"
    );
    assert_eq!(seal_status(&app).await["sealed"], true);
}

/// What starts the body of every PKCS#8 private key of a type, after the outer length:
/// version 0 and the algorithm identifier (EC, RSA); for Ed25519 (PKCS#8 v2) the algorithm
/// identifier and the headers of the private key's OCTET STRING. Each key type of Sigil with
/// the type, as the API names it, whose private key the marker would reveal.
const PKCS8_MARKERS: [(&str, KeyType, Algorithm, &[u8]); 5] = [
    (
        "ecdsa-p256",
        KeyType::EcdsaP256,
        Algorithm::Es256,
        &[
            0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
            0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07,
        ],
    ),
    (
        "ecdsa-p384",
        KeyType::EcdsaP384,
        Algorithm::Es384,
        &[
            0x02, 0x01, 0x00, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
            0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22,
        ],
    ),
    (
        "ecdsa-p521",
        KeyType::EcdsaP521,
        Algorithm::Es512,
        &[
            0x02, 0x01, 0x00, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
            0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23,
        ],
    ),
    (
        "rsa-2048",
        KeyType::Rsa2048,
        Algorithm::Rs256,
        &[
            0x02, 0x01, 0x00, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01,
            0x01, 0x01,
        ],
    ),
    (
        "ed25519",
        KeyType::Ed25519,
        Algorithm::EdDsa,
        &[
            0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
        ],
    ),
];

/// The header of a P-256 PKCS#8 document, whole.
const P256_PKCS8_PREFIX: [u8; 17] = [
    0x30, 0x81, 0x87, 0x02, 0x01, 0x00, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02,
    0x01,
];

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Every byte of the database: the main file, its WAL and shared-memory index.
fn database_bytes(app: &TestApp) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in std::fs::read_dir(app.data_dir()).expect("read the data directory") {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with("sigil.sqlite") {
            bytes.extend(std::fs::read(&path).expect("read a database file"));
        }
    }
    bytes
}

#[tokio::test]
async fn the_pkcs8_markers_match_what_the_key_generator_produces() {
    for (key_type, generated, algorithm, marker) in PKCS8_MARKERS {
        let (_, pkcs8) = SigningKey::generate(generated, algorithm).expect("generate");
        assert!(
            contains(&pkcs8.expose()[..40], marker),
            "the {key_type} marker is not in a fresh {key_type} PKCS#8"
        );
    }
    let (_, p256) = SigningKey::generate(KeyType::EcdsaP256, Algorithm::Es256).expect("generate");
    assert!(p256.expose().starts_with(&P256_PKCS8_PREFIX));
}

#[tokio::test]
async fn the_database_holds_no_private_key_in_clear() {
    let app = TestApp::new().await;
    let mut states = Vec::new();
    for (key_type, ..) in PKCS8_MARKERS {
        states.push(app.create_key(key_type, key_type).await);
    }
    let rotated = app
        .root(Method::POST, "/v1/signing-keys/ecdsa-p256/rotate")
        .send()
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);

    let bytes = database_bytes(&app);

    for state in &states {
        let x = state["versions"][0]["public_jwk"]["x"]
            .as_str()
            .or_else(|| state["versions"][0]["public_jwk"]["n"].as_str())
            .expect("a public member");
        assert!(
            contains(&bytes, x.as_bytes()),
            "sanity: the public key of {} is found, so the search reads the data",
            state["name"]
        );
    }
    assert!(
        !contains(&bytes, b"\"d\":"),
        "a private JWK member is stored"
    );
    assert!(
        !contains(&bytes, &P256_PKCS8_PREFIX),
        "a P-256 PKCS#8 is stored in clear"
    );
    for (key_type, _, _, marker) in PKCS8_MARKERS {
        assert!(
            !contains(&bytes, marker),
            "a {key_type} PKCS#8 is stored in clear"
        );
    }
}

#[tokio::test]
async fn a_sealed_key_moved_to_another_row_does_not_open() {
    let app = TestApp::new().await;
    app.create_key("alpha", "ecdsa-p256").await;
    let bravo = app.create_key("bravo", "ecdsa-p256").await;
    let pool = sqlx::SqlitePool::connect(&format!("sqlite://{}", app.database_path().display()))
        .await
        .expect("open the database");
    let moved = sqlx::query(
        "UPDATE signing_key_versions SET sealed_private_key = \
         (SELECT sealed_private_key FROM signing_key_versions WHERE key_name = 'alpha' AND version = 1) \
         WHERE key_name = 'bravo' AND version = 1",
    )
    .execute(&pool)
    .await
    .expect("move the sealed blob");
    assert_eq!(moved.rows_affected(), 1);
    pool.close().await;
    let app = app.restart().await;

    let refused = unseal(&app, &app.shares[0]).await;

    // The blob's associated data names `alpha` version 1, so it cannot open as `bravo`'s:
    // unseal refuses as a whole, with a scrubbed 500 that carries a request id.
    refused.assert_error(StatusCode::INTERNAL_SERVER_ERROR, "internal");
    assert!(refused.json["request_id"].is_string(), "{}", refused.text);
    assert_eq!(
        refused.header("x-request-id"),
        refused.json["request_id"].as_str(),
        "the response carries the logged request id"
    );
    assert!(
        !refused.text.contains("bravo"),
        "no internals shown: {}",
        refused.text
    );
    assert_eq!(seal_status(&app).await["sealed"], true);
    let keyring = app.app.keys.keyring();
    assert!(keyring.iter().all(|key| !key.has_signers()));
    assert_eq!(
        json!(keyring.get("bravo").expect("bravo").versions[0].kid),
        bravo["versions"][0]["kid"],
        "the public part is untouched"
    );
}
