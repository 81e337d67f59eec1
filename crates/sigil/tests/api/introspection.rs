//! Introspection at `POST /jwt/{name}/oauth/introspect` (RFC 7662, issue 5 item 6): a valid
//! token of that issuer is `active: true` with its claims; an expired token, one whose key was
//! revoked, one of another issuer and garbage are exactly `{"active": false}`. The caller
//! must be authenticated (401) and allowed `read` on `/jwt-issuers/<name>/introspect` (403);
//! GET is 405.

use axum::http::{Method, StatusCode};
use serde_json::json;

use crate::external_idp::{IdpKey, claims_at, merged, put_mapping, put_policy, trust_with};
use crate::support::{MintedToken, TestApp, TestResponse, tampered};

const PUBLIC_URL: &str = "https://sigil.test";
const CI_ISS: &str = "https://ci.example.com";

/// Key `k`; issuers `payments-api` and `other-api` both signing with it; role `deployer` on
/// each; trusted issuer `ci` whose `svc:<name>` tokens map to the policy `introspector`
/// (`read` on `/jwt-issuers/payments-api/introspect`) and `svc-none:<name>` to nothing.
async fn setup() -> (TestApp, IdpKey) {
    let app = TestApp::builder().public_url(PUBLIC_URL).build().await;
    app.create_key("k", "ecdsa-p256").await;
    for issuer in ["payments-api", "other-api"] {
        app.create_issuer(issuer, "k").await;
        app.create_role(issuer, json!({"name": "deployer"})).await;
    }
    let key = IdpKey::es256("ci-1");
    trust_with(&app, "ci", json!({"issuer": CI_ISS, "keys": [key.jwk()]})).await;
    put_mapping(
        &app,
        "services",
        json!({"trusted_issuer": "ci", "id_match": "svc:(.+)", "policies": ["introspector"]}),
    )
    .await;
    put_mapping(
        &app,
        "unprivileged",
        json!({"trusted_issuer": "ci", "id_match": "svc-none:(.+)"}),
    )
    .await;
    put_policy(
        &app,
        "introspector",
        json!([{"path": "/jwt-issuers/payments-api/introspect", "operations": ["read"]}]),
    )
    .await;
    (app, key)
}

/// A `ci` token for `sub`.
fn caller(app: &TestApp, key: &IdpKey, sub: &str) -> String {
    key.sign(&merged(claims_at(CI_ISS, app.now()), json!({"sub": sub})))
}

async fn mint(app: &TestApp, issuer: &str, ttl: &str) -> MintedToken {
    app.mint_ok(issuer, "deployer", &json!({"ttl": ttl})).await
}

/// `POST /jwt/payments-api/oauth/introspect` with `token=...`, as `caller`.
async fn introspect(app: &TestApp, caller: Option<&str>, token: &str) -> TestResponse {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("token", token)
        .finish();
    let mut call = app.call(Method::POST, "/jwt/payments-api/oauth/introspect");
    if let Some(caller) = caller {
        call = call.token(caller);
    }
    call.body("application/x-www-form-urlencoded", body.into_bytes())
        .send()
        .await
}

/// Asserts 200 and a body of exactly `{"active": false}`.
fn assert_inactive(answer: &TestResponse, case: &str) {
    assert_eq!(answer.status, StatusCode::OK, "{case}: {}", answer.text);
    assert_eq!(
        answer.json,
        json!({"active": false}),
        "{case}: {}",
        answer.text
    );
}

#[tokio::test]
async fn a_valid_token_of_the_issuer_is_active_with_its_claims() {
    let (app, key) = setup().await;
    let minted = mint(&app, "payments-api", "5m").await;
    let narrow = caller(&app, &key, "svc:gateway");

    for who in [app.root_token.as_str(), narrow.as_str()] {
        let answer = introspect(&app, Some(who), &minted.token).await;

        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        assert_eq!(answer.header("cache-control"), Some("no-store"));
        let expected = merged(minted.claims.clone(), json!({"active": true}));
        assert_eq!(answer.json, expected);
        assert_eq!(answer.json["iss"], format!("{PUBLIC_URL}/jwt/payments-api"));
    }
}

#[tokio::test]
async fn an_expired_token_is_exactly_inactive_with_no_leeway() {
    let (app, _) = setup().await;
    let minted = mint(&app, "payments-api", "5m").await;
    let exp = minted.claims["exp"].as_i64().expect("exp");

    app.clock.set(exp - 1);
    let before = introspect(&app, Some(&app.root_token), &minted.token).await;
    app.clock.set(exp + 1);
    let after = introspect(&app, Some(&app.root_token), &minted.token).await;

    assert_eq!(before.json["active"], true, "{}", before.text);
    assert_inactive(&after, "one second after exp");
}

#[tokio::test]
async fn a_token_whose_key_version_was_revoked_is_exactly_inactive() {
    let (app, _) = setup().await;
    let minted = mint(&app, "payments-api", "5m").await;

    let revoked = app
        .root(Method::POST, "/v1/signing-keys/k/versions/1/revoke")
        .send()
        .await;

    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.text);
    assert_inactive(
        &introspect(&app, Some(&app.root_token), &minted.token).await,
        "revoked",
    );
    let fresh = mint(&app, "payments-api", "5m").await;
    assert_eq!(
        introspect(&app, Some(&app.root_token), &fresh.token)
            .await
            .json["active"],
        true
    );
}

#[tokio::test]
async fn a_token_of_another_issuer_is_exactly_inactive_even_with_the_same_key() {
    let (app, key) = setup().await;
    let other = mint(&app, "other-api", "5m").await;
    let external = caller(&app, &key, "svc:gateway");

    for (case, token) in [
        ("another jwt issuer on the same key", other.token.as_str()),
        ("a trusted external issuer", external.as_str()),
        ("Sigil's internal issuer", app.root_token.as_str()),
    ] {
        assert_inactive(&introspect(&app, Some(&app.root_token), token).await, case);
    }
}

#[tokio::test]
async fn garbage_is_exactly_inactive() {
    let (app, _) = setup().await;
    let minted = mint(&app, "payments-api", "5m").await;
    let altered = tampered(&minted.token, "sub", json!("someone-else"));
    let (signing_input, _) = minted.token.rsplit_once('.').expect("three parts");

    for (case, token) in [
        ("not a JWT", "garbage".to_owned()),
        ("three dots", "a.b.c".to_owned()),
        ("altered claims", altered),
        ("no signature", format!("{signing_input}.")),
        ("a JWE shape", "a.b.c.d.e".to_owned()),
        ("oversized", "x".repeat(20_000)),
    ] {
        assert_inactive(&introspect(&app, Some(&app.root_token), &token).await, case);
    }
}

#[tokio::test]
async fn a_token_not_yet_valid_is_exactly_inactive() {
    let (app, _) = setup().await;
    let start = app.now();
    app.clock.set(start + 200);
    let minted = mint(&app, "payments-api", "5m").await;

    app.clock.set(start + 100);

    assert_inactive(
        &introspect(&app, Some(&app.root_token), &minted.token).await,
        "before nbf",
    );
}

#[tokio::test]
async fn a_caller_without_read_on_the_introspect_path_is_forbidden() {
    let (app, key) = setup().await;
    let minted = mint(&app, "payments-api", "5m").await;
    let unprivileged = caller(&app, &key, "svc-none:batch");
    let unmapped = caller(&app, &key, "user:ann");
    put_policy(
        &app,
        "other-introspector",
        json!([{"path": "/jwt-issuers/other-api/introspect", "operations": ["read", "update"]}]),
    )
    .await;
    put_mapping(
        &app,
        "other-services",
        json!({"trusted_issuer": "ci", "id_match": "other:(.+)",
               "policies": ["other-introspector"]}),
    )
    .await;
    let other_issuers_reader = caller(&app, &key, "other:gateway");

    for (case, who) in [
        ("mapped without policies", unprivileged),
        ("unmapped", unmapped),
        ("allowed on another issuer only", other_issuers_reader),
    ] {
        let answer = introspect(&app, Some(&who), &minted.token).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{case}: {}",
            answer.text
        );
        assert!(
            answer.json.get("active").is_none(),
            "{case}: {}",
            answer.text
        );
        assert!(!answer.text.contains(&minted.token), "{case}");
    }
}

#[tokio::test]
async fn introspection_without_a_valid_caller_token_is_unauthenticated() {
    let (app, key) = setup().await;
    let minted = mint(&app, "payments-api", "5m").await;
    let now = app.now();
    let expired_caller = key.sign(&merged(
        claims_at(CI_ISS, now),
        json!({"sub": "svc:gateway", "iat": now - 7200, "exp": now - 3600}),
    ));

    for (case, who) in [
        ("no token", None),
        ("an expired caller token", Some(expired_caller.as_str())),
        ("garbage", Some("garbage")),
    ] {
        let answer = introspect(&app, who, &minted.token).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{case}: {}",
            answer.text
        );
        assert!(
            answer
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{case}: {:?}",
            answer.headers
        );
        assert!(
            answer.json.get("active").is_none(),
            "{case}: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn get_on_introspect_is_method_not_allowed() {
    let (app, _) = setup().await;

    let answer = app
        .root(Method::GET, "/jwt/payments-api/oauth/introspect")
        .send()
        .await;

    assert_eq!(
        answer.status,
        StatusCode::METHOD_NOT_ALLOWED,
        "{}",
        answer.text
    );
}

#[tokio::test]
async fn a_request_without_the_token_parameter_is_an_invalid_request() {
    let (app, _) = setup().await;

    let answer = app
        .root(Method::POST, "/jwt/payments-api/oauth/introspect")
        .body(
            "application/x-www-form-urlencoded",
            b"token_type_hint=access_token".to_vec(),
        )
        .send()
        .await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert_eq!(answer.json["error"], "invalid_request", "{}", answer.text);
}
