//! Audience globs (DESIGN §3 "Minting"): `*` matches one or more characters other than `.`,
//! `/`, `?`, `#`, `@`, `\` and `:`, so `https://*.example.com` admits `https://api.example.com`
//! and nothing else shaped like it. A refused audience is a 400 naming it.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::{assert_healthy, assert_invalid_request, assert_oauth_status};
use crate::support::{TestApp, TestResponse, decode_unverified};

const GLOB: &str = "https://*.example.com";

/// Key `k`, issuer `i`, role `r` allowing audiences [`GLOB`].
async fn setup() -> TestApp {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer("i", "k").await;
    app.create_role("i", json!({"name": "r", "allowed_audiences": [GLOB]}))
        .await;
    app
}

/// Asserts a 400 naming `audiences/<index>`, with a reason.
fn assert_audience_refused(answer: &TestResponse, index: usize, audience: &str) {
    let field = format!("audiences/{index}");
    assert_invalid_request(answer, &format!("{audience:?}"));
    assert!(
        answer.field_names().contains(&field.as_str()),
        "{audience:?}: the answer names {field}: {}",
        answer.text
    );
    assert!(
        answer.field(&field)["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{audience:?}: {}",
        answer.text
    );
    assert!(
        answer.json.get("token").is_none(),
        "{audience:?}: {}",
        answer.text
    );
}

/// Audiences shaped like `https://<something>.example.com` whose `<something>` is not one
/// label of one or more allowed characters.
const LOOKALIKES: [&str; 30] = [
    "https://evil.com/.example.com",
    "https://evil.com?.example.com",
    "https://evil.com#.example.com",
    "https://user@evil.com.example.com",
    "https://evil@.example.com",
    "https://a.b.example.com",
    "https://.example.com",
    "https://evil.com\\.example.com",
    "https://x:443.example.com",
    "https://x:.example.com",
    "https://evil.com/x/.example.com",
    "https://evil.com:8443/.example.com",
    "https://evil.com?a=.example.com",
    "https://evil.com#frag.example.com",
    "https://api..example.com",
    "https://..example.com",
    "https://a/b.example.com",
    "https://a?b.example.com",
    "https://a#b.example.com",
    "https://a@b.example.com",
    "https://a\\b.example.com",
    "https://a:b.example.com",
    "https://example.com",
    "https://api.example.com.evil.com",
    "https://api.example.comx",
    "https://api.example.com/",
    "https://api.example.com/path",
    "https://api.example.com:443",
    "http://api.example.com",
    "https://api.example.org",
];

#[tokio::test]
async fn a_star_admits_one_label_of_allowed_characters() {
    let app = setup().await;

    for audience in [
        "https://api.example.com",
        "https://a.example.com",
        "https://api-2.example.com",
        "https://API_x9.example.com",
    ] {
        let minted = app.mint("i", "r", &json!({"audiences": [audience]})).await;
        assert_eq!(minted.status, StatusCode::OK, "{audience}: {}", minted.text);
        let (_, claims) = decode_unverified(minted.json["token"].as_str().expect("token"));
        assert_eq!(claims["aud"], audience);
    }
}

#[tokio::test]
async fn audiences_shaped_like_the_glob_but_not_one_label_are_refused_naming_the_audience() {
    let app = setup().await;

    for audience in LOOKALIKES {
        let answer = app.mint("i", "r", &json!({"audiences": [audience]})).await;
        assert_audience_refused(&answer, 0, audience);
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_lookalike_after_an_admitted_audience_is_refused_naming_its_position() {
    let app = setup().await;

    for audience in LOOKALIKES {
        let answer = app
            .mint(
                "i",
                "r",
                &json!({"audiences": ["https://api.example.com", audience]}),
            )
            .await;
        assert_audience_refused(&answer, 1, audience);
    }
}

#[tokio::test]
async fn a_lookalike_default_audience_is_refused_when_the_role_is_saved() {
    let app = setup().await;

    for audience in LOOKALIKES {
        let answer = app
            .send_json(
                Method::PUT,
                "/v1/config/jwt-issuers/i/roles/d",
                &json!({"allowed_audiences": [GLOB], "default_audiences": [audience]}),
            )
            .await;
        assert_eq!(
            answer.status,
            StatusCode::BAD_REQUEST,
            "{audience:?}: {}",
            answer.text
        );
        assert_eq!(
            answer.field_names(),
            ["default_audiences/0"],
            "{audience:?}: {}",
            answer.text
        );
    }
    assert_eq!(
        app.get("/v1/config/jwt-issuers/i/roles/d").await.status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_lookalike_audience_is_refused_at_the_token_endpoint_too() {
    use crate::external_idp::{IdpKey, claims_at, merged, put_mapping, put_policy, trust_with};

    let app = setup().await;
    let key = IdpKey::es256("ci-1");
    trust_with(
        &app,
        "ci",
        json!({"issuer": "https://ci.example.com", "keys": [key.jwk()], "audiences_unchecked": true}),
    )
    .await;
    put_mapping(
        &app,
        "ci-all",
        json!({"trusted_issuer": "ci", "id_match": "(.+)", "policies": ["minter"]}),
    )
    .await;
    put_policy(
        &app,
        "minter",
        json!([{"path": "/jwt-issuers/i/roles/r/mint", "operations": ["update"]}]),
    )
    .await;

    for audience in LOOKALIKES {
        let subject = key.sign(&merged(
            claims_at("https://ci.example.com", app.now()),
            json!({"jti": audience}),
        ));
        let body = super::form(&[
            (
                "grant_type",
                "urn:ietf:params:oauth:grant-type:token-exchange",
            ),
            ("subject_token", &subject),
            ("subject_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            ("scope", "r"),
            ("audience", audience),
        ]);
        let answer = app
            .call(Method::POST, "/jwt/i/oauth/token")
            .body("application/x-www-form-urlencoded", body)
            .send()
            .await;
        assert_oauth_status(
            &answer,
            StatusCode::BAD_REQUEST,
            "invalid_target",
            &format!("{audience:?}"),
        );
        assert!(answer.json.get("access_token").is_none(), "{audience:?}");
    }
}
