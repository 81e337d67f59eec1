//! JWT login (issue 5 item 4): `POST /v1/auth/login/{trusted_issuer}` reads the external JWT
//! from the header that issuer names, maps it, and answers an internal session token carrying
//! the mapping's policies, living `--session-ttl` (default 1h) but never past the external
//! token's `exp`; the session token then works on `/v1`, within those policies only.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sigil::clock::rfc3339;

use crate::external_idp::{IdpKey, claims_at, merged, put_mapping, put_policy, trust_with};
use crate::support::{TestApp, TestAppBuilder, TestResponse, decode_unverified};

const ISS: &str = "https://idp.example.com";
const HEADER: &str = "X-IdP-Token";

/// Trusted issuer `idp` (tokens in [`HEADER`]); mapping `staff` gives `user:<name>` the
/// policy `mapping-reader` (read under `/identity-mappings`).
async fn setup(builder: TestAppBuilder) -> (TestApp, IdpKey) {
    let app = builder.build().await;
    let key = IdpKey::es256("k1");
    trust_with(
        &app,
        "idp",
        json!({"issuer": ISS, "keys": [key.jwk()], "header": HEADER}),
    )
    .await;
    put_mapping(
        &app,
        "staff",
        json!({"trusted_issuer": "idp", "id_match": "user:([a-z]+)",
               "policies": ["mapping-reader"]}),
    )
    .await;
    put_policy(
        &app,
        "mapping-reader",
        json!([
            {"path": "/identity-mappings", "operations": ["read"]},
            {"path": "/identity-mappings/**", "operations": ["read"]},
        ]),
    )
    .await;
    (app, key)
}

fn external(app: &TestApp, key: &IdpKey, changes: Value) -> String {
    key.sign(&merged(
        merged(claims_at(ISS, app.now()), json!({"sub": "user:ann"})),
        changes,
    ))
}

async fn login(app: &TestApp, header: &str, token: &str) -> TestResponse {
    app.call(Method::POST, "/v1/auth/login/idp")
        .header(header, token)
        .send()
        .await
}

/// Logs in; panics unless 200; answers the answer and the session token's claims.
async fn login_ok(app: &TestApp, token: &str) -> (Value, Value) {
    let answer = login(app, HEADER, token).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let session = answer.json["token"].as_str().expect("a token").to_owned();
    let (_, claims) = decode_unverified(&session);
    (answer.json, claims)
}

#[tokio::test]
async fn login_answers_an_internal_session_token_with_the_mappings_policies() {
    let (app, key) = setup(TestApp::builder()).await;

    let answer = login(&app, HEADER, &external(&app, &key, json!({}))).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.json["identity"], "idp:ann");
    assert_eq!(answer.json["policies"], json!(["mapping-reader"]));
    assert_eq!(answer.json["mapping"], "staff");
    let (header, claims) = decode_unverified(answer.json["token"].as_str().expect("token"));
    assert_eq!(header["alg"], "ES256");
    assert_eq!(claims["iss"], "urn:sigil:internal");
    assert_eq!(claims["sub"], "idp:ann");
    assert_eq!(claims["policies"], json!(["mapping-reader"]));
    assert_eq!(claims["iat"], app.now());
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(
        answer.json["expires_at"],
        rfc3339(claims["exp"].as_i64().expect("exp"))
    );
}

#[tokio::test]
async fn the_session_token_works_on_v1_within_its_policies_only() {
    let (app, key) = setup(TestApp::builder()).await;
    let (answer, _) = login_ok(&app, &external(&app, &key, json!({}))).await;
    let session = answer["token"].as_str().expect("token");

    let allowed = app
        .call(Method::GET, "/v1/config/identity-mappings/staff")
        .token(session)
        .send()
        .await;
    let write = app
        .call(Method::PATCH, "/v1/config/identity-mappings/staff")
        .token(session)
        .json(&json!({"policies": ["root"]}))
        .send()
        .await;
    let elsewhere = app
        .call(Method::GET, "/v1/config/signing-keys")
        .token(session)
        .send()
        .await;

    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.text);
    write.assert_error(StatusCode::FORBIDDEN, "permission_denied");
    elsewhere.assert_error(StatusCode::FORBIDDEN, "permission_denied");
    let message = elsewhere.json["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("/signing-keys") && message.contains("read"),
        "{}",
        elsewhere.text
    );
}

#[tokio::test]
async fn the_session_never_outlives_the_external_token() {
    let (app, key) = setup(TestApp::builder()).await;
    let exp = app.now() + 300;

    let (answer, claims) = login_ok(&app, &external(&app, &key, json!({"exp": exp}))).await;

    assert_eq!(claims["exp"], exp);
    assert_eq!(answer["expires_at"], rfc3339(exp));
}

#[tokio::test]
async fn the_session_lasts_an_hour_by_default() {
    let (app, key) = setup(TestApp::builder()).await;

    let (_, claims) = login_ok(
        &app,
        &external(&app, &key, json!({"exp": app.now() + 4 * 3600})),
    )
    .await;

    assert_eq!(claims["exp"], app.now() + 3600);
}

#[tokio::test]
async fn the_session_ttl_option_caps_the_session() {
    let (app, key) = setup(TestApp::builder().session_ttl("10m")).await;

    let (_, claims) = login_ok(
        &app,
        &external(&app, &key, json!({"exp": app.now() + 3600})),
    )
    .await;

    assert_eq!(claims["exp"], app.now() + 600);
}

#[tokio::test]
async fn the_session_token_stops_working_when_it_expires() {
    let (app, key) = setup(TestApp::builder()).await;
    let (answer, claims) =
        login_ok(&app, &external(&app, &key, json!({"exp": app.now() + 120}))).await;
    let session = answer["token"].as_str().expect("token");
    let read = || {
        app.call(Method::GET, "/v1/config/identity-mappings")
            .token(session)
            .send()
    };
    assert_eq!(read().await.status, StatusCode::OK);

    app.clock.set(claims["exp"].as_i64().expect("exp") + 61);

    let expired = read().await;
    assert_eq!(expired.status, StatusCode::UNAUTHORIZED, "{}", expired.text);
}

#[tokio::test]
async fn a_token_no_mapping_applies_to_cannot_log_in() {
    let (app, key) = setup(TestApp::builder()).await;

    let answer = login(
        &app,
        HEADER,
        &external(&app, &key, json!({"sub": "service:ci"})),
    )
    .await;

    answer.assert_error(StatusCode::FORBIDDEN, "permission_denied");
    assert!(answer.json.get("token").is_none(), "{}", answer.text);
}

#[tokio::test]
async fn login_reads_the_token_only_from_the_header_the_issuer_names() {
    let (app, key) = setup(TestApp::builder()).await;
    let token = external(&app, &key, json!({}));

    let in_authorization = app
        .call(Method::POST, "/v1/auth/login/idp")
        .token(&token)
        .send()
        .await;
    let with_bearer_prefix = login(&app, HEADER, &format!("Bearer {token}")).await;

    assert_eq!(
        in_authorization.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        in_authorization.text
    );
    assert_eq!(
        with_bearer_prefix.status,
        StatusCode::OK,
        "{}",
        with_bearer_prefix.text
    );
}

#[tokio::test]
async fn login_reads_authorization_bearer_when_the_issuer_names_no_header() {
    let (app, _) = setup(TestApp::builder()).await;
    let plain = IdpKey::es256("p1");
    trust_with(
        &app,
        "plain",
        json!({"issuer": "https://plain.example.com", "keys": [plain.jwk()]}),
    )
    .await;
    put_mapping(
        &app,
        "plain-users",
        json!({"trusted_issuer": "plain", "id_match": "user:(.+)", "policies": ["mapping-reader"]}),
    )
    .await;
    let token = plain.sign(&merged(
        claims_at("https://plain.example.com", app.now()),
        json!({"sub": "user:bob"}),
    ));

    let answer = app
        .call(Method::POST, "/v1/auth/login/plain")
        .token(&token)
        .send()
        .await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.json["identity"], "plain:bob");
}

#[tokio::test]
async fn login_refuses_an_expired_external_token() {
    let (app, key) = setup(TestApp::builder()).await;
    let now = app.now();

    let answer = login(
        &app,
        HEADER,
        &external(
            &app,
            &key,
            json!({"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}),
        ),
    )
    .await;

    answer.assert_error(StatusCode::UNAUTHORIZED, "token_expired");
}

#[tokio::test]
async fn login_refuses_a_token_of_another_trusted_issuer() {
    let (app, _) = setup(TestApp::builder()).await;
    let other = IdpKey::es256("o1");
    trust_with(
        &app,
        "other",
        json!({"issuer": "https://other.example.com", "keys": [other.jwk()], "header": HEADER}),
    )
    .await;
    put_mapping(
        &app,
        "other-all",
        json!({"trusted_issuer": "other", "id_match": "(.+)", "policies": ["root"]}),
    )
    .await;
    let token = other.sign(&merged(
        claims_at("https://other.example.com", app.now()),
        json!({"sub": "user:ann"}),
    ));

    let answer = login(&app, HEADER, &token).await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    assert!(answer.json.get("token").is_none());
}

#[tokio::test]
async fn login_refuses_an_altered_token() {
    let (app, key) = setup(TestApp::builder()).await;
    let token = external(&app, &key, json!({}));
    let altered = crate::support::tampered(&token, "sub", json!("user:root"));

    let answer = login(&app, HEADER, &altered).await;

    answer.assert_error(StatusCode::UNAUTHORIZED, "signature_invalid");
}

#[tokio::test]
async fn login_with_an_unknown_or_the_internal_issuer_is_not_found() {
    let (app, _) = setup(TestApp::builder()).await;

    for name in ["nobody", "sigil"] {
        let answer = app
            .call(Method::POST, &format!("/v1/auth/login/{name}"))
            .token(&app.root_token)
            .send()
            .await;
        assert_eq!(
            answer.status,
            StatusCode::NOT_FOUND,
            "{name}: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn login_is_refused_while_sealed() {
    let (app, key) = setup(TestApp::builder()).await;
    app.app.seal_now().await;

    let answer = login(&app, HEADER, &external(&app, &key, json!({}))).await;

    answer.assert_error(StatusCode::SERVICE_UNAVAILABLE, "sealed");
}
