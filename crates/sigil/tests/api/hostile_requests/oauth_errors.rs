//! OAuth error rules (DESIGN §2.3 and §3 "Exchange"): at `POST /jwt/{name}/oauth/token` the
//! presented token is verified before any other parameter is judged, so an invalid token is
//! `invalid_grant` whatever else is wrong (no oracle for which roles or audiences exist), and
//! every verification failure has the same description; RFC 6749 §5.2 error bodies for missing
//! and repeated parameters, unknown grants and bodies over the limit; RFC 7662 introspection
//! answers exactly `{"active": false}` for every token it does not vouch for.

use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{assert_healthy, assert_oauth_status, caller_token, form, with_caller};
use crate::external_idp::IdpKey;
use crate::support::{TestApp, TestAppBuilder, TestResponse, tampered};

const SIGIL: &str = "https://sigil.test";
const TOKEN: &str = "/jwt/i/oauth/token";
const INTROSPECT: &str = "/jwt/i/oauth/introspect";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
const FORM: &str = "application/x-www-form-urlencoded";

/// Issuer `i` (key `k`) with roles `deployer` (audiences `https://*.acme.test`) and `other`;
/// trusted issuer `ci` (audience [`SIGIL`]) whose `user:<name>` tokens may mint `deployer`.
async fn setup(builder: TestAppBuilder) -> (TestApp, IdpKey) {
    let app = builder.public_url(SIGIL).build().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer("i", "k").await;
    app.create_role(
        "i",
        json!({"name": "deployer", "allowed_audiences": ["https://*.acme.test"]}),
    )
    .await;
    app.create_role("i", json!({"name": "other"})).await;
    let (app, key) = with_caller(
        app,
        json!([{"path": "/jwt-issuers/i/roles/deployer/mint", "operations": ["update"]}]),
    )
    .await;
    let patched = app
        .send_json(
            Method::PATCH,
            "/v1/config/trusted-issuers/ci",
            &json!({"audiences": [SIGIL], "audiences_unchecked": false}),
        )
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    (app, key)
}

/// A valid subject token for `user:ann`, audience [`SIGIL`], with `changes`.
fn subject(app: &TestApp, key: &IdpKey, changes: Value) -> String {
    let mut claims = json!({"aud": SIGIL});
    for (name, value) in changes.as_object().expect("an object") {
        claims[name] = value.clone();
    }
    caller_token(app, key, claims)
}

async fn post(app: &TestApp, path: &str, params: &[(&str, &str)]) -> TestResponse {
    app.call(Method::POST, path)
        .body(FORM, form(params))
        .send()
        .await
}

/// Asserts an RFC 6749 §5.2 answer: `status`, `error`, a description, no token, `no-store`,
/// and not the admin API's error shape.
fn assert_oauth_error(answer: &TestResponse, status: StatusCode, error: &str, case: &str) {
    assert_oauth_status(answer, status, error, case);
    assert!(
        answer.json["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{case}: {}",
        answer.text
    );
    assert!(
        answer.json.get("access_token").is_none(),
        "{case}: {}",
        answer.text
    );
    assert!(
        answer.json.get("error_code").is_none() && answer.json.get("message").is_none(),
        "{case}: RFC 6749 form, not the admin form: {}",
        answer.text
    );
    assert_eq!(
        answer.header("cache-control"),
        Some("no-store"),
        "{case}: {:?}",
        answer.headers
    );
}

/// Subject tokens that must not verify, each with what is wrong.
fn invalid_subjects(app: &TestApp, key: &IdpKey) -> Vec<(&'static str, String)> {
    let now = app.now();
    let stranger = IdpKey::es256("ci-1");
    let unknown_kid = IdpKey::es256("nope");
    let valid = subject(app, key, json!({}));
    let claims = crate::support::decode_unverified(&valid).1;
    let unsigned = {
        use base64::Engine;
        let part =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        format!(
            "{}.{}.",
            part(&json!({"alg": "none", "typ": "JWT"})),
            part(&claims)
        )
    };
    vec![
        ("garbage", "not-a-jwt".to_owned()),
        ("three empty parts", "..".to_owned()),
        ("three short parts", "a.b.c".to_owned()),
        ("tampered", tampered(&valid, "sub", json!("user:root"))),
        (
            "expired",
            subject(
                app,
                key,
                json!({"iat": now - 7200, "nbf": now - 7200, "exp": now - 3600}),
            ),
        ),
        (
            "not yet valid",
            subject(app, key, json!({"nbf": now + 3600, "exp": now + 7200})),
        ),
        (
            "issued in the future",
            subject(app, key, json!({"iat": now + 3600, "exp": now + 7200})),
        ),
        ("without exp", subject(app, key, json!({"exp": null}))),
        (
            "another audience",
            subject(app, key, json!({"aud": "https://other.test"})),
        ),
        (
            "an untrusted issuer",
            subject(app, key, json!({"iss": "https://unknown.example.com"})),
        ),
        (
            "another key under the same kid",
            subject(app, &stranger, json!({})),
        ),
        ("an unknown kid", subject(app, &unknown_kid, json!({}))),
        ("alg none", unsigned),
        (
            "no mapping applies",
            subject(app, key, json!({"sub": "robot:x"})),
        ),
        (
            "over the size limit",
            subject(app, key, json!({"pad": "p".repeat(20_000)})),
        ),
    ]
}

/// Parameters besides the subject token: none of them may be judged before it.
fn parameter_variants() -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let exchange = |extra: &[(&'static str, &'static str)]| {
        let mut params = vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token_type", JWT_TYPE),
        ];
        params.extend_from_slice(extra);
        params
    };
    vec![
        ("the right role", exchange(&[("scope", "deployer")])),
        ("an unknown role", exchange(&[("scope", "nosuchrole")])),
        ("a role it may not have", exchange(&[("scope", "other")])),
        ("no scope", exchange(&[])),
        ("two roles", exchange(&[("scope", "deployer other")])),
        (
            "an audience not allowed",
            exchange(&[
                ("scope", "deployer"),
                ("audience", "https://evil.example.com"),
            ]),
        ),
        (
            "a resource not allowed",
            exchange(&[
                ("scope", "deployer"),
                ("resource", "https://evil.example.com"),
            ]),
        ),
        (
            "an unsupported requested_token_type",
            exchange(&[
                ("scope", "nosuchrole"),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:saml2",
                ),
            ]),
        ),
        (
            "an unknown subject_token_type",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token_type", "urn:example:unknown"),
                ("scope", "deployer"),
            ],
        ),
        (
            "no subject_token_type",
            vec![("grant_type", TOKEN_EXCHANGE), ("scope", "nosuchrole")],
        ),
        (
            "an actor_token without its type",
            exchange(&[("scope", "deployer"), ("actor_token", "x")]),
        ),
        (
            "an actor_token_type without a token",
            exchange(&[("scope", "deployer"), ("actor_token_type", JWT_TYPE)]),
        ),
        (
            "jwt-bearer, an unknown role",
            vec![("grant_type", JWT_BEARER), ("scope", "nosuchrole")],
        ),
        ("jwt-bearer, no scope", vec![("grant_type", JWT_BEARER)]),
    ]
}

/// The request: `variant` with the token as `subject_token` or `assertion`.
fn with_token<'a>(variant: &[(&'a str, &'a str)], token: &'a str) -> Vec<(&'a str, &'a str)> {
    let name = if variant.contains(&("grant_type", JWT_BEARER)) {
        "assertion"
    } else {
        "subject_token"
    };
    let mut params = variant.to_vec();
    params.push((name, token));
    params
}

#[tokio::test]
async fn an_invalid_subject_token_is_invalid_grant_whatever_the_other_parameters_say() {
    let (app, key) = setup(TestApp::builder()).await;
    let mut descriptions = BTreeSet::new();

    for (what, token) in invalid_subjects(&app, &key) {
        for (variant, params) in parameter_variants() {
            let case = format!("{what} token, {variant}");
            let answer = post(&app, TOKEN, &with_token(&params, &token)).await;
            assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_grant", &case);
            descriptions.insert(
                answer.json["error_description"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
    }

    assert_eq!(
        descriptions.len(),
        1,
        "one description for every failure: {descriptions:?}"
    );
    let description = descriptions.first().expect("one");
    for secret in [
        "nosuchrole",
        "deployer",
        "other",
        "evil",
        "saml2",
        "robot",
        "expired",
        "kid",
    ] {
        assert!(
            !description.contains(secret),
            "the description reveals {secret:?}: {description}"
        );
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn an_invalid_actor_token_gets_the_same_description_as_an_invalid_subject() {
    let (app, key) = setup(TestApp::builder()).await;
    let valid = subject(&app, &key, json!({}));

    let bad_subject = post(
        &app,
        TOKEN,
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", "not-a-jwt"),
            ("subject_token_type", JWT_TYPE),
            ("scope", "deployer"),
        ],
    )
    .await;
    let bad_actor = post(
        &app,
        TOKEN,
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &valid),
            ("subject_token_type", JWT_TYPE),
            ("scope", "deployer"),
            ("actor_token", "not-a-jwt"),
            ("actor_token_type", JWT_TYPE),
        ],
    )
    .await;

    assert_oauth_error(
        &bad_actor,
        StatusCode::BAD_REQUEST,
        "invalid_grant",
        "actor",
    );
    assert_eq!(
        bad_actor.json["error_description"], bad_subject.json["error_description"],
        "{} vs {}",
        bad_actor.text, bad_subject.text
    );
}

#[tokio::test]
async fn with_a_valid_subject_token_each_bad_parameter_gets_its_own_rfc_error() {
    let (app, key) = setup(TestApp::builder()).await;
    let token = subject(&app, &key, json!({}));
    let t = token.as_str();
    let cases = vec![
        (
            "no grant_type",
            vec![("subject_token", t), ("scope", "deployer")],
            "invalid_request",
        ),
        (
            "an empty grant_type",
            vec![
                ("grant_type", ""),
                ("subject_token", t),
                ("scope", "deployer"),
            ],
            "invalid_request",
        ),
        (
            "the password grant",
            vec![("grant_type", "password"), ("scope", "deployer")],
            "unsupported_grant_type",
        ),
        (
            "the client credentials grant",
            vec![("grant_type", "client_credentials")],
            "unsupported_grant_type",
        ),
        (
            "an unknown grant",
            vec![("grant_type", "urn:example:grant"), ("subject_token", t)],
            "unsupported_grant_type",
        ),
        (
            "no subject_token",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
            ],
            "invalid_request",
        ),
        (
            "no subject_token_type",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("scope", "deployer"),
            ],
            "invalid_request",
        ),
        (
            "an unknown subject_token_type",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("subject_token_type", "urn:example:unknown"),
                ("scope", "deployer"),
            ],
            "invalid_request",
        ),
        (
            "an unsupported requested_token_type",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:saml2",
                ),
            ],
            "invalid_request",
        ),
        (
            "jwt-bearer without an assertion",
            vec![("grant_type", JWT_BEARER), ("scope", "deployer")],
            "invalid_request",
        ),
        (
            "an unknown role",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("subject_token_type", JWT_TYPE),
                ("scope", "nosuchrole"),
            ],
            "invalid_scope",
        ),
        (
            "a role it may not have",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("subject_token_type", JWT_TYPE),
                ("scope", "other"),
            ],
            "invalid_scope",
        ),
        (
            "an audience not allowed",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", t),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
                ("audience", "https://evil.example.com"),
            ],
            "invalid_target",
        ),
    ];

    for (case, params, error) in cases {
        let answer = post(&app, TOKEN, &params).await;
        assert_oauth_error(&answer, StatusCode::BAD_REQUEST, error, case);
    }
    let fine = post(
        &app,
        TOKEN,
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", t),
            ("subject_token_type", JWT_TYPE),
            ("scope", "deployer"),
        ],
    )
    .await;
    assert_eq!(
        fine.status,
        StatusCode::OK,
        "the subject token was not spent: {}",
        fine.text
    );
}

#[tokio::test]
async fn a_repeated_parameter_is_invalid_request() {
    let (app, key) = setup(TestApp::builder()).await;
    let token = subject(&app, &key, json!({}));
    let other = subject(&app, &key, json!({"sub": "user:bob"}));
    let base = [
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", token.as_str()),
        ("subject_token_type", JWT_TYPE),
        ("scope", "deployer"),
    ];

    for repeated in [
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", token.as_str()),
        ("subject_token", other.as_str()),
        ("subject_token_type", JWT_TYPE),
        ("scope", "deployer"),
        ("scope", "other"),
        ("requested_token_type", JWT_TYPE),
        ("actor_token", token.as_str()),
    ] {
        let mut params = base.to_vec();
        params.push(repeated);
        if repeated.0 == "requested_token_type" || repeated.0 == "actor_token" {
            params.push(repeated);
        }
        let case = format!("{} twice", repeated.0);
        let answer = post(&app, TOKEN, &params).await;
        assert_oauth_error(&answer, StatusCode::BAD_REQUEST, "invalid_request", &case);
    }
    let bearer = post(
        &app,
        TOKEN,
        &[
            ("grant_type", JWT_BEARER),
            ("assertion", &token),
            ("assertion", &other),
            ("scope", "deployer"),
        ],
    )
    .await;
    assert_oauth_error(
        &bearer,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "assertion twice",
    );
}

#[tokio::test]
async fn a_body_that_is_not_a_form_is_invalid_request() {
    let (app, key) = setup(TestApp::builder()).await;
    let token = subject(&app, &key, json!({}));
    let json_body = json!({"grant_type": TOKEN_EXCHANGE, "subject_token": token,
                           "subject_token_type": JWT_TYPE, "scope": "deployer"});

    let as_json = app.call(Method::POST, TOKEN).json(&json_body).send().await;
    let untyped = app
        .call(Method::POST, TOKEN)
        .body("text/plain", form(&[("grant_type", TOKEN_EXCHANGE)]))
        .send()
        .await;

    assert_oauth_error(&as_json, StatusCode::BAD_REQUEST, "invalid_request", "JSON");
    assert_oauth_error(
        &untyped,
        StatusCode::BAD_REQUEST,
        "invalid_request",
        "text/plain",
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_in_rfc_6749_form() {
    let (app, key) = setup(TestApp::builder().max_body_bytes(4096)).await;
    let token = subject(&app, &key, json!({}));
    let padding = "p".repeat(8192);
    let body = form(&[
        ("grant_type", TOKEN_EXCHANGE),
        ("subject_token", &token),
        ("subject_token_type", JWT_TYPE),
        ("scope", "deployer"),
        ("padding", &padding),
    ]);

    for path in [TOKEN, INTROSPECT] {
        let declared = app
            .call(Method::POST, path)
            .token(&app.root_token)
            .header("content-length", &body.len().to_string())
            .body(FORM, body.clone())
            .send()
            .await;
        let streamed = app
            .call(Method::POST, path)
            .token(&app.root_token)
            .body(FORM, body.clone())
            .send()
            .await;
        for (how, answer) in [("declared", declared), ("undeclared", streamed)] {
            let case = format!("{path}, length {how}");
            assert_oauth_status(
                &answer,
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                &case,
            );
            let description = answer.json["error_description"]
                .as_str()
                .unwrap_or_default();
            assert!(
                description.contains("4096"),
                "{case}: names the limit: {}",
                answer.text
            );
            assert!(
                answer.json.get("error_code").is_none(),
                "{case}: {}",
                answer.text
            );
        }
    }
    let fresh = post(
        &app,
        TOKEN,
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &token),
            ("subject_token_type", JWT_TYPE),
            ("scope", "deployer"),
        ],
    )
    .await;
    assert_eq!(fresh.status, StatusCode::OK, "{}", fresh.text);
}

#[tokio::test]
async fn get_on_the_oauth_endpoints_is_405_with_a_json_body() {
    let (app, _) = setup(TestApp::builder()).await;

    for path in [TOKEN, INTROSPECT] {
        let answer = app
            .call(Method::GET, path)
            .token(&app.root_token)
            .send()
            .await;
        assert_eq!(
            answer.status,
            StatusCode::METHOD_NOT_ALLOWED,
            "{path}: {}",
            answer.text
        );
        assert!(
            answer.json.get("error").is_some() || answer.json.get("error_code").is_some(),
            "{path}: a JSON error body: {}",
            answer.text
        );
    }
}

// ---- introspection ----

async fn introspect(app: &TestApp, params: &[(&str, &str)]) -> TestResponse {
    app.call(Method::POST, INTROSPECT)
        .token(&app.root_token)
        .body(FORM, form(params))
        .send()
        .await
}

#[tokio::test]
async fn introspection_answers_exactly_inactive_for_every_token_it_does_not_vouch_for() {
    let (app, key) = setup(TestApp::builder()).await;
    app.create_issuer("i2", "k").await;
    app.create_role("i2", json!({"name": "deployer"})).await;
    let mine = app.mint_ok("i", "deployer", &json!({"ttl": "5m"})).await;
    let expiring = app.mint_ok("i", "deployer", &json!({"ttl": "1m"})).await;
    let of_i2 = app.mint_ok("i2", "deployer", &json!({"ttl": "5m"})).await;
    let (header, claims) = crate::support::decode_unverified(&mine.token);
    let unsigned = {
        use base64::Engine;
        let part =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let mut none = header.clone();
        none["alg"] = json!("none");
        format!("{}.{}.", part(&none), part(&claims))
    };
    let oversized = {
        let parts: Vec<&str> = mine.token.split('.').collect();
        format!(
            "{}.{}{}.{}",
            parts[0],
            parts[1],
            "A".repeat(20_000),
            parts[2]
        )
    };
    let signature_swapped = {
        let mine_parts: Vec<&str> = mine.token.split('.').collect();
        let other_parts: Vec<&str> = of_i2.token.split('.').collect();
        format!("{}.{}.{}", mine_parts[0], mine_parts[1], other_parts[2])
    };

    let active = introspect(&app, &[("token", &mine.token)]).await;
    assert_eq!(active.json["active"], true, "{}", active.text);
    app.clock.set(app.now() + 61);
    for (case, token) in [
        ("garbage", "not-a-jwt".to_owned()),
        ("three empty parts", "..".to_owned()),
        ("three short parts", "a.b.c".to_owned()),
        ("tampered", tampered(&mine.token, "sub", json!("root"))),
        ("another signature", signature_swapped),
        ("expired", expiring.token.clone()),
        ("another jwt issuer's", of_i2.token.clone()),
        (
            "a trusted external issuer's",
            subject(&app, &key, json!({})),
        ),
        ("Sigil's internal issuer's", app.root_token.clone()),
        ("alg none", unsigned),
        ("over the size limit", oversized),
        ("a JSON object", "{\"active\":true}".to_owned()),
    ] {
        let answer = introspect(&app, &[("token", &token)]).await;
        assert_eq!(answer.status, StatusCode::OK, "{case}: {}", answer.text);
        assert_eq!(
            answer.json,
            json!({"active": false}),
            "{case}: {}",
            answer.text
        );
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn introspection_without_a_token_or_with_two_is_invalid_request() {
    let (app, _) = setup(TestApp::builder()).await;
    let minted = app.mint_ok("i", "deployer", &json!({})).await;

    let missing = introspect(&app, &[("token_type_hint", "access_token")]).await;
    let empty = introspect(&app, &[("token", "")]).await;
    let twice = introspect(&app, &[("token", &minted.token), ("token", "not-a-jwt")]).await;

    for (case, answer) in [("missing", missing), ("empty", empty), ("twice", twice)] {
        assert_oauth_status(&answer, StatusCode::BAD_REQUEST, "invalid_request", case);
        assert!(
            answer.json.get("active").is_none(),
            "{case}: {}",
            answer.text
        );
    }
}
