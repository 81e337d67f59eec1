//! `POST /v1/sys/unseal` on an unsealed server (it needs no token): it answers the seal status
//! and does nothing else. No key is opened again, no share judged, no progress reset, whatever
//! the body holds: a garbage key, another deployment's key, a valid key, or a reset.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::assert_healthy;
use crate::support::{TestApp, TestResponse};

/// An unsealed server of 3 shares, threshold 2, with a key and an issuer that mint.
async fn setup() -> TestApp {
    let app = TestApp::builder().shares(3, 2).build().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer("i", "k").await;
    app.create_role("i", json!({"name": "r"})).await;
    app
}

async fn unseal(app: &TestApp, content_type: &str, body: &[u8]) -> TestResponse {
    app.call(Method::POST, "/v1/sys/unseal")
        .body(content_type, body.to_vec())
        .send()
        .await
}

async fn seal_status(app: &TestApp) -> Value {
    let status = app.call(Method::GET, "/v1/sys/seal-status").send().await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.text);
    status.json
}

/// Asserts the answer is 200 and exactly the seal status, unsealed, and that nothing changed:
/// the same parsed keys (not re-opened), minting works, the root token works.
async fn assert_status_only(app: &TestApp, answer: &TestResponse, before: &Value, case: &str) {
    assert_eq!(answer.status, StatusCode::OK, "{case}: {}", answer.text);
    assert_eq!(
        &answer.json, before,
        "{case}: the answer is the seal status"
    );
    assert_eq!(answer.json["sealed"], false, "{case}: {}", answer.text);
    assert_eq!(
        &seal_status(app).await,
        before,
        "{case}: the status did not change"
    );
    let minted = app.mint("i", "r", &json!({})).await;
    assert_eq!(minted.status, StatusCode::OK, "{case}: {}", minted.text);
}

/// Bodies of every kind of key: each must be answered with the status only.
fn keys_to_try(app: &TestApp, stranger: &TestApp) -> Vec<(&'static str, Value)> {
    vec![
        ("a garbage key", json!({"key": "garbage"})),
        ("an empty key", json!({"key": ""})),
        (
            "base64 that is no share",
            json!({"key": "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}),
        ),
        (
            "a key of another deployment",
            json!({"key": stranger.shares[0]}),
        ),
        ("a valid key", json!({"key": app.shares[0]})),
        ("another valid key", json!({"key": app.shares[1]})),
        ("the first valid key again", json!({"key": app.shares[0]})),
        ("a reset", json!({"reset": true})),
        (
            "a valid key with a reset",
            json!({"key": app.shares[2], "reset": true}),
        ),
        ("no key", json!({})),
        ("a key of the wrong type", json!({"key": 42})),
        (
            "an unknown field",
            json!({"keys": [app.shares[0], app.shares[1]]}),
        ),
    ]
}

#[tokio::test]
async fn unseal_on_an_unsealed_server_answers_its_status_whatever_the_key() {
    let app = setup().await;
    let stranger = TestApp::builder().shares(3, 2).sealed().build().await;
    let before = seal_status(&app).await;
    assert_eq!(before["sealed"], false);

    for (case, body) in keys_to_try(&app, &stranger) {
        let answer = app
            .call(Method::POST, "/v1/sys/unseal")
            .json(&body)
            .send()
            .await;
        assert_status_only(&app, &answer, &before, case).await;
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn unseal_on_an_unsealed_server_opens_no_key_again() {
    let app = setup().await;
    let stranger = TestApp::builder().shares(3, 2).sealed().build().await;
    let keyring = app.app.keys.keyring();

    for (case, body) in keys_to_try(&app, &stranger) {
        let answer = app
            .call(Method::POST, "/v1/sys/unseal")
            .json(&body)
            .send()
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{case}: {}", answer.text);
        assert!(
            Arc::ptr_eq(&keyring, &app.app.keys.keyring()),
            "{case}: the keys were opened again"
        );
    }
}

#[tokio::test]
async fn unseal_on_an_unsealed_server_ignores_a_body_it_cannot_read() {
    let app = setup().await;
    let before = seal_status(&app).await;

    for (case, content_type, body) in [
        ("no body", "application/json", b"".to_vec()),
        ("not JSON", "application/json", b"{\"key\":".to_vec()),
        ("an array", "application/json", b"[1,2,3]".to_vec()),
        (
            "a form",
            "application/x-www-form-urlencoded",
            b"key=garbage".to_vec(),
        ),
        ("YAML", "application/yaml", b"key: garbage\n".to_vec()),
        ("an unknown media type", "text/plain", b"garbage".to_vec()),
        (
            "bytes that are not UTF-8",
            "application/json",
            vec![0xFF, 0xFE, 0x00],
        ),
    ] {
        let answer = unseal(&app, content_type, &body).await;
        assert_status_only(&app, &answer, &before, case).await;
    }
}

#[tokio::test]
async fn a_wrong_key_on_an_unsealed_server_does_not_disturb_a_later_unseal() {
    let app = setup().await;
    let before = seal_status(&app).await;
    for body in [json!({"key": "garbage"}), json!({"key": app.shares[0]})] {
        let answer = app
            .call(Method::POST, "/v1/sys/unseal")
            .json(&body)
            .send()
            .await;
        assert_status_only(&app, &answer, &before, "while unsealed").await;
    }

    app.app.seal_now().await;
    let sealed = seal_status(&app).await;
    let first = app
        .call(Method::POST, "/v1/sys/unseal")
        .json(&json!({"key": app.shares[1]}))
        .send()
        .await;
    let second = app
        .call(Method::POST, "/v1/sys/unseal")
        .json(&json!({"key": app.shares[2]}))
        .send()
        .await;

    assert_eq!(sealed["sealed"], true);
    assert_eq!(
        sealed["progress"], 0,
        "no share given while unsealed counts: {sealed}"
    );
    assert_eq!(first.json["progress"], 1, "{}", first.text);
    assert_eq!(second.json["sealed"], false, "{}", second.text);
    assert_healthy(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_concurrent_unseals_on_an_unsealed_server_change_nothing() {
    let app = Arc::new(setup().await);
    let keyring = app.app.keys.keyring();
    let before = seal_status(&app).await;

    let mut tasks = Vec::new();
    for i in 0..60 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            let key = app.shares[i % 3].clone();
            app.call(Method::POST, "/v1/sys/unseal")
                .json(&json!({"key": key}))
                .send()
                .await
        }));
    }
    for task in tasks {
        let answer = task.await.expect("the request task");
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.json, before, "{}", answer.text);
    }

    assert!(
        Arc::ptr_eq(&keyring, &app.app.keys.keyring()),
        "the keys were opened again"
    );
    assert_healthy(&app).await;
}
