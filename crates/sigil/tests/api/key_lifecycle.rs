//! The signing key lifecycle as a relying party sees it through an issuer's JWKS (DESIGN §4
//! "Lifecycle", issue 3 item 6), walked with the `FixedClock` and `run_lifecycle`: pending,
//! active, retiring and retired with the JWKS and state at each step; revoke, taint and
//! scheduled rotation; and no token ever outliving the publication of its key.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sigil::clock::rfc3339;

use crate::support::{MintedToken, TestApp, verify_with_jwks};

/// Leeway a retiring version stays published beyond the longest token lifetime.
const LEEWAY: i64 = 60;

/// Key `k` (ecdsa-p256, `key` overrides its body), issuer `ci` (max_ttl 1h, default 1h) and
/// role `r`.
async fn app_with_issuer(key: Value) -> TestApp {
    let app = TestApp::new().await;
    let mut body = json!({"name": "k", "type": "ecdsa-p256"});
    for (name, value) in key.as_object().expect("an object") {
        body[name] = value.clone();
    }
    app.create_key_with(body).await;
    app.create_issuer_with(json!({
        "name": "ci", "signing_key": "k", "default_ttl": "1h", "max_ttl": "1h"
    }))
    .await;
    app.create_role("ci", json!({"name": "r"})).await;
    app
}

async fn mint(app: &TestApp) -> MintedToken {
    app.mint_ok("ci", "r", &json!({})).await
}

async fn key_statuses(app: &TestApp) -> Vec<String> {
    app.key_state("k").await["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["status"].as_str().expect("status").to_owned())
        .collect()
}

async fn kids(app: &TestApp) -> Vec<String> {
    app.key_state("k").await["versions"]
        .as_array()
        .expect("versions")
        .iter()
        .map(|v| v["kid"].as_str().expect("kid").to_owned())
        .collect()
}

async fn jwks_max_age(app: &TestApp) -> i64 {
    let jwks = app.jwks("ci").await;
    let value = jwks.header("cache-control").expect("Cache-Control");
    value
        .split(',')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("max-age="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no max-age in {value}"))
}

async fn verifies_now(app: &TestApp, token: &MintedToken) -> bool {
    let jwks = app.jwks("ci").await;
    assert_eq!(jwks.status, StatusCode::OK, "{}", jwks.text);
    verify_with_jwks(&token.token, &jwks.json).is_ok()
}

async fn rotate(app: &TestApp, body: Value) -> Value {
    let rotated = app
        .send_json(Method::POST, "/v1/signing-keys/k/rotate", &body)
        .await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.text);
    rotated.json
}

async fn version_action(app: &TestApp, version: u32, action: &str) -> Value {
    let changed = app
        .root(
            Method::POST,
            &format!("/v1/signing-keys/k/versions/{version}/{action}"),
        )
        .send()
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.text);
    changed.json
}

fn exp(token: &MintedToken) -> i64 {
    token.claims["exp"].as_i64().expect("exp")
}

/// pending → active → retiring → retired, with the JWKS, the key state, the issuer state and
/// the signer checked at every step.
#[tokio::test]
async fn a_prepublished_rotation_walks_the_whole_timeline_in_the_jwks() {
    let app = app_with_issuer(json!({})).await;
    let t0 = app.now();
    let v1 = kids(&app).await[0].clone();
    assert_eq!(app.jwks_kids("ci").await, std::slice::from_ref(&v1));
    assert_eq!(mint(&app).await.kid(), v1);
    assert_eq!(jwks_max_age(&app).await, 300, "no change is scheduled");

    // Rotate with prepublish 10m: v2 is pending, published, and does not sign yet.
    let rotated = rotate(&app, json!({"prepublish": "10m"})).await;
    let switch = t0 + 600;
    let v2 = rotated["versions"][1]["kid"]
        .as_str()
        .expect("kid")
        .to_owned();
    assert_eq!(rotated["versions"][1]["activates_at"], rfc3339(switch));
    assert_eq!(key_statuses(&app).await, ["active", "pending"]);
    assert_eq!(app.jwks_kids("ci").await, [v1.clone(), v2.clone()]);
    assert_eq!(mint(&app).await.kid(), v1);
    let age = jwks_max_age(&app).await;
    assert!(
        (1..=300).contains(&age),
        "max-age={age} (bounded by 600s to activation)"
    );
    let issuer = app.issuer_state("ci").await;
    assert_eq!(issuer["published_kids"], json!([v1, v2]));
    assert_eq!(issuer["signing_kid"], json!(v1));
    assert!(app.run_lifecycle().await.is_empty(), "nothing is due yet");

    // The cache never outlasts the activation.
    app.clock.advance(600 - 10);
    assert_eq!(jwks_max_age(&app).await, 10);
    app.clock.advance(9);
    let last_of_v1 = mint(&app).await;
    assert_eq!(last_of_v1.kid(), v1, "v1 signs until the switch");
    assert_eq!(exp(&last_of_v1), switch - 1 + 3600);
    assert_eq!(jwks_max_age(&app).await, 1);

    // At the switch v2 signs, before any lifecycle tick; v1 is retiring, still published.
    app.clock.advance(1);
    let first_of_v2 = mint(&app).await;
    assert_eq!(first_of_v2.kid(), v2);
    assert_eq!(key_statuses(&app).await, ["retiring", "active"]);
    assert_eq!(app.jwks_kids("ci").await, [v1.clone(), v2.clone()]);
    assert_eq!(app.run_lifecycle().await, ["k"]);
    let state = app.key_state("k").await;
    let retires_at = switch + 3600 + LEEWAY;
    assert_eq!(state["versions"][0]["status"], "retiring");
    assert_eq!(state["versions"][0]["retires_at"], rfc3339(retires_at));
    assert_eq!(state["versions"][1]["status"], "active");
    assert_eq!(state["signing_kid"], json!(v2));
    assert!(
        exp(&last_of_v1) <= retires_at,
        "a token never outlives the publication of its key"
    );
    assert!(verifies_now(&app, &last_of_v1).await);
    assert!(verifies_now(&app, &first_of_v2).await);
    let issuer = app.issuer_state("ci").await;
    assert_eq!(issuer["published_kids"], json!([v1, v2]));
    assert_eq!(issuer["signing_kid"], json!(v2));

    // v1 stays published through the last expiry of its tokens, and the cache knows when it goes.
    app.clock.set(exp(&last_of_v1));
    assert_eq!(app.jwks_kids("ci").await, [v1.clone(), v2.clone()]);
    assert!(verifies_now(&app, &last_of_v1).await);
    app.clock.set(retires_at - 1);
    assert_eq!(app.jwks_kids("ci").await, [v1.clone(), v2.clone()]);
    assert_eq!(jwks_max_age(&app).await, 1);

    // Retired: gone from the JWKS at once, before any tick; the tick persists it.
    app.clock.set(retires_at);
    assert_eq!(app.jwks_kids("ci").await, std::slice::from_ref(&v2));
    assert_eq!(key_statuses(&app).await, ["retired", "active"]);
    assert!(!verifies_now(&app, &last_of_v1).await);
    assert!(verifies_now(&app, &first_of_v2).await);
    assert_eq!(app.run_lifecycle().await, ["k"]);
    assert_eq!(key_statuses(&app).await, ["retired", "active"]);
    assert_eq!(jwks_max_age(&app).await, 300);
    let issuer = app.issuer_state("ci").await;
    assert_eq!(issuer["published_kids"], json!([v2]));
    assert_eq!(issuer["signing_kid"], json!(v2));
}

#[tokio::test]
async fn an_immediate_rotation_keeps_the_old_version_published_for_max_ttl_plus_leeway() {
    let app = app_with_issuer(json!({})).await;
    let before = mint(&app).await;

    let rotated = rotate(&app, json!({})).await;

    let v2 = rotated["versions"][1]["kid"]
        .as_str()
        .expect("kid")
        .to_owned();
    let retires_at = app.now() + 3600 + LEEWAY;
    assert_eq!(rotated["versions"][0]["retires_at"], rfc3339(retires_at));
    assert_eq!(mint(&app).await.kid(), v2);
    assert!(exp(&before) <= retires_at);
    app.clock.set(retires_at - 1);
    assert!(verifies_now(&app, &before).await);
    app.clock.set(retires_at);
    assert!(!verifies_now(&app, &before).await);
    assert_eq!(app.jwks_kids("ci").await, [v2]);
}

#[tokio::test]
async fn retention_follows_the_longest_max_ttl_of_every_issuer_using_the_key() {
    let app = app_with_issuer(json!({})).await;
    app.create_issuer_with(json!({"name": "long", "signing_key": "k", "max_ttl": "2h"}))
        .await;

    let rotated = rotate(&app, json!({})).await;

    assert_eq!(
        rotated["versions"][0]["retires_at"],
        rfc3339(app.now() + 7200 + LEEWAY)
    );
    assert_eq!(app.jwks_kids("ci").await, app.jwks_kids("long").await);
}

#[tokio::test]
async fn revoking_a_retiring_version_drops_it_from_the_jwks_at_once() {
    let app = app_with_issuer(json!({})).await;
    let before = mint(&app).await;
    rotate(&app, json!({})).await;
    let [v1, v2] = <[String; 2]>::try_from(kids(&app).await).expect("two versions");
    assert_eq!(app.jwks_kids("ci").await, [v1.clone(), v2.clone()]);

    let revoked = version_action(&app, 1, "revoke").await;

    assert_eq!(revoked["versions"][0]["status"], "retired");
    assert_eq!(app.jwks_kids("ci").await, std::slice::from_ref(&v2));
    assert!(
        !verifies_now(&app, &before).await,
        "a revoked key verifies nothing"
    );
    assert_eq!(mint(&app).await.kid(), v2);
    assert_eq!(app.issuer_state("ci").await["published_kids"], json!([v2]));
}

#[tokio::test]
async fn revoking_the_active_version_drops_it_and_a_new_version_signs() {
    let app = app_with_issuer(json!({})).await;
    let before = mint(&app).await;

    let revoked = version_action(&app, 1, "revoke").await;

    let v2 = revoked["versions"][1]["kid"]
        .as_str()
        .expect("kid")
        .to_owned();
    assert_eq!(app.jwks_kids("ci").await, std::slice::from_ref(&v2));
    assert!(!verifies_now(&app, &before).await);
    let after = mint(&app).await;
    assert_eq!(after.kid(), v2);
    assert!(verifies_now(&app, &after).await);
}

#[tokio::test]
async fn tainting_the_active_version_keeps_it_published_but_it_no_longer_signs() {
    let app = app_with_issuer(json!({})).await;
    let before = mint(&app).await;
    let v1 = before.kid().to_owned();

    let tainted = version_action(&app, 1, "taint").await;

    let v2 = tainted["versions"][1]["kid"]
        .as_str()
        .expect("kid")
        .to_owned();
    let retires_at = app.now() + 3600 + LEEWAY;
    assert_eq!(tainted["versions"][0]["status"], "retiring");
    assert_eq!(tainted["versions"][0]["retires_at"], rfc3339(retires_at));
    assert_eq!(app.jwks_kids("ci").await, [v1.clone(), v2.clone()]);
    assert!(verifies_now(&app, &before).await);
    for _ in 0..3 {
        assert_eq!(mint(&app).await.kid(), v2, "a tainted version never signs");
    }
    app.clock.set(retires_at);
    assert_eq!(app.jwks_kids("ci").await, [v2]);
}

/// Decision "Taint": tainting the active version keeps the key signing. With a version
/// already prepublished, minting must not stop until that version's activation.
#[tokio::test]
async fn tainting_the_active_version_while_another_is_pending_keeps_minting() {
    let app = app_with_issuer(json!({})).await;
    let v1 = mint(&app).await.kid().to_owned();
    rotate(&app, json!({"prepublish": "10m"})).await;

    version_action(&app, 1, "taint").await;

    let minted = app.mint("ci", "r", &json!({})).await;
    assert_eq!(
        minted.status,
        StatusCode::OK,
        "the key must keep signing after a taint: {}",
        minted.text
    );
    let (header, _) =
        crate::support::decode_unverified(minted.json["token"].as_str().unwrap_or_default());
    assert_ne!(header["kid"], json!(v1));
    assert!(app.jwks_kids("ci").await.contains(&v1), "still published");
}

/// The same for revoke: revoking the active version while another is pending must leave a
/// version that signs.
#[tokio::test]
async fn revoking_the_active_version_while_another_is_pending_keeps_minting() {
    let app = app_with_issuer(json!({})).await;
    let v1 = mint(&app).await.kid().to_owned();
    rotate(&app, json!({"prepublish": "10m"})).await;

    version_action(&app, 1, "revoke").await;

    assert!(!app.jwks_kids("ci").await.contains(&v1));
    let minted = app.mint("ci", "r", &json!({})).await;
    assert_eq!(
        minted.status,
        StatusCode::OK,
        "the key must keep signing after a revoke: {}",
        minted.text
    );
}

#[tokio::test]
async fn a_rotation_period_rotates_on_schedule_and_the_jwks_follows() {
    let app = app_with_issuer(json!({"rotation_period": "1h"})).await;
    let t0 = app.now();
    let v1 = kids(&app).await[0].clone();

    app.clock.set(t0 + 3600 - 1);
    assert!(app.run_lifecycle().await.is_empty());
    assert_eq!(jwks_max_age(&app).await, 1);
    let last_of_v1 = mint(&app).await;
    assert_eq!(last_of_v1.kid(), v1);

    app.clock.set(t0 + 3600);
    assert_eq!(app.run_lifecycle().await, ["k"]);
    let [_, v2] = <[String; 2]>::try_from(kids(&app).await).expect("two versions");
    assert_eq!(key_statuses(&app).await, ["retiring", "active"]);
    assert_eq!(app.jwks_kids("ci").await, [v1.clone(), v2.clone()]);
    assert_eq!(mint(&app).await.kid(), v2);
    let retires_at = t0 + 3600 + 3600 + LEEWAY;
    let state = app.key_state("k").await;
    assert_eq!(state["versions"][0]["retires_at"], rfc3339(retires_at));
    assert!(exp(&last_of_v1) <= retires_at);
    assert!(app.run_lifecycle().await.is_empty(), "once per period");

    app.clock.set(exp(&last_of_v1));
    assert!(verifies_now(&app, &last_of_v1).await);
    app.clock.set(retires_at);
    assert_eq!(app.jwks_kids("ci").await, std::slice::from_ref(&v2));
    // The tick retires v1 and, v2 having signed for a full period, rotates again.
    assert_eq!(app.run_lifecycle().await, ["k"]);
    assert_eq!(key_statuses(&app).await, ["retired", "retiring", "active"]);
    let v3 = kids(&app).await[2].clone();
    assert_eq!(app.jwks_kids("ci").await, [v2, v3.clone()]);
    assert_eq!(mint(&app).await.kid(), v3);
}

/// Lowering an issuer's `max_ttl` must not unpublish a key before the long tokens it already
/// signed expire.
#[tokio::test]
async fn lowering_max_ttl_does_not_unpublish_a_key_before_its_tokens_expire() {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer_with(json!({"name": "ci", "signing_key": "k", "max_ttl": "1d"}))
        .await;
    app.create_role("ci", json!({"name": "r"})).await;
    let long = app.mint_ok("ci", "r", &json!({"ttl": "1d"})).await;
    let lowered = app
        .send_json(
            Method::PATCH,
            "/v1/config/jwt-issuers/ci",
            &json!({"max_ttl": "1h"}),
        )
        .await;
    assert_eq!(lowered.status, StatusCode::NO_CONTENT, "{}", lowered.text);

    rotate(&app, json!({})).await;
    app.clock.set(exp(&long) - 1);
    app.run_lifecycle().await;

    assert!(
        app.jwks_kids("ci").await.contains(&long.kid().to_owned()),
        "the key of a token expiring at {} was unpublished before {}",
        exp(&long),
        app.now()
    );
}

/// Pointing an issuer at another signing key must not unpublish the key its live tokens were
/// signed with: either the change is refused, or the old key stays in the issuer's JWKS
/// until those tokens expire.
#[tokio::test]
async fn switching_an_issuers_signing_key_keeps_the_old_key_published_for_its_tokens() {
    let app = app_with_issuer(json!({})).await;
    app.create_key("other", "ecdsa-p256").await;
    let before = mint(&app).await;

    let switched = app
        .send_json(
            Method::PATCH,
            "/v1/config/jwt-issuers/ci",
            &json!({"signing_key": "other"}),
        )
        .await;

    if switched.status.is_client_error() {
        return;
    }
    assert_eq!(switched.status, StatusCode::NO_CONTENT, "{}", switched.text);
    assert!(
        verifies_now(&app, &before).await,
        "a live token no longer verifies through its issuer's JWKS after the switch"
    );
    app.clock.set(exp(&before));
    assert!(verifies_now(&app, &before).await);
}

#[tokio::test]
async fn a_prepublished_rotation_survives_a_restart_and_activates_on_time() {
    let app = app_with_issuer(json!({})).await;
    rotate(&app, json!({"prepublish": "10m"})).await;
    let [v1, v2] = <[String; 2]>::try_from(kids(&app).await).expect("two versions");

    let app = app.restart().await;
    assert_eq!(
        app.jwks_kids("ci").await,
        [v1.clone(), v2.clone()],
        "sealed"
    );
    app.unseal_with(1).await;
    assert_eq!(mint(&app).await.kid(), v1);
    app.clock.advance(600);

    assert_eq!(mint(&app).await.kid(), v2);
}
