//! Per-issuer discovery and JWKS (DESIGN §2.2, §4 "Seal", issue 3 item 5): the OIDC and
//! RFC 8414 documents, the published keys with public members only, caching bounded by the
//! next key change, and both answering without a token while Sigil is sealed.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::{KEY_TYPES, TestApp, verify_with_jwks};

const PUBLIC_URL: &str = "https://sigil.test";
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// Key `k` of `key_type`, issuer `ci` using it and role `r`.
async fn app_with_issuer(key_type: &str) -> TestApp {
    let app = TestApp::builder().public_url(PUBLIC_URL).build().await;
    app.create_key("k", key_type).await;
    app.create_issuer("ci", "k").await;
    app.create_role("ci", json!({"name": "r"})).await;
    app
}

fn max_age(cache_control: Option<&str>) -> i64 {
    let value = cache_control.expect("a Cache-Control header");
    value
        .split(',')
        .map(str::trim)
        .find_map(|d| d.strip_prefix("max-age="))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no max-age in {value}"))
}

#[tokio::test]
async fn the_discovery_document_describes_the_issuer() {
    let app = app_with_issuer("ecdsa-p384").await;
    let minted = app.mint_ok("ci", "r", &json!({})).await;

    let discovery = app.discovery("ci").await;

    assert_eq!(discovery.status, StatusCode::OK, "{}", discovery.text);
    assert!(
        discovery
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let document = &discovery.json;
    assert_eq!(document["issuer"], "https://sigil.test/jwt/ci");
    assert_eq!(
        document["issuer"].as_str().map(str::as_bytes),
        minted.claims["iss"].as_str().map(str::as_bytes),
        "byte-equal to the iss claim"
    );
    assert_eq!(
        document["jwks_uri"],
        "https://sigil.test/jwt/ci/.well-known/jwks.json"
    );
    assert_eq!(
        document["token_endpoint"],
        "https://sigil.test/jwt/ci/oauth/token"
    );
    assert_eq!(document["response_types_supported"], json!(["id_token"]));
    assert_eq!(document["subject_types_supported"], json!(["public"]));
    assert_eq!(
        document["id_token_signing_alg_values_supported"],
        json!(["ES384"])
    );
    assert!(max_age(discovery.header("cache-control")) <= 300);
}

#[tokio::test]
async fn no_algorithm_list_ever_names_none() {
    let app = TestApp::new().await;
    let mut types: Vec<(String, Option<&str>)> = KEY_TYPES
        .iter()
        .map(|(t, _)| ((*t).to_owned(), None))
        .collect();
    types.push(("rsa-2048".into(), Some("PS256")));

    for (i, (key_type, algorithm)) in types.into_iter().enumerate() {
        let mut key = json!({"name": format!("k{i}"), "type": key_type});
        if let Some(algorithm) = algorithm {
            key["algorithm"] = json!(algorithm);
        }
        app.create_key_with(key).await;
        app.create_issuer(&format!("i{i}"), &format!("k{i}")).await;

        let document = app.discovery(&format!("i{i}")).await.json;

        let algs = document["id_token_signing_alg_values_supported"]
            .as_array()
            .expect("a list");
        assert_eq!(algs.len(), 1, "{key_type}: {document}");
        assert!(
            algs.iter()
                .all(|a| a.as_str().is_some_and(|a| !a.eq_ignore_ascii_case("none"))),
            "{document}"
        );
    }
}

#[tokio::test]
async fn the_oauth_metadata_has_the_same_content_as_the_openid_configuration() {
    let app = app_with_issuer("ed25519").await;

    let openid = app.discovery("ci").await;
    let oauth = app
        .call(
            Method::GET,
            "/jwt/ci/.well-known/oauth-authorization-server",
        )
        .send()
        .await;

    assert_eq!(oauth.status, StatusCode::OK, "{}", oauth.text);
    assert_eq!(oauth.json, openid.json);
}

#[tokio::test]
async fn an_explicit_issuer_is_the_discovery_issuer_and_the_iss_claim() {
    let app = TestApp::builder().public_url(PUBLIC_URL).build().await;
    app.create_key("payments-jwt-key", "ecdsa-p256").await;
    let created = app
        .root(Method::POST, "/v1/config/jwt-issuers")
        .yaml(
            "name: payments-api\nsigning-key: payments-jwt-key\n\
             issuer: https://strongbox.example.com/jwt/payments-api\n",
        )
        .send()
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    app.create_role("payments-api", json!({"name": "r"})).await;

    let document = app.discovery("payments-api").await.json;
    let minted = app.mint_ok("payments-api", "r", &json!({})).await;

    assert_eq!(
        document["issuer"],
        "https://strongbox.example.com/jwt/payments-api"
    );
    assert_eq!(minted.claims["iss"], document["issuer"]);
    assert_eq!(
        document["jwks_uri"], "https://sigil.test/jwt/payments-api/.well-known/jwks.json",
        "the JWKS is served by this Sigil"
    );
}

#[tokio::test]
async fn the_discovery_of_an_unknown_issuer_answers_404() {
    let app = TestApp::new().await;

    app.discovery("nope")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
    app.jwks("nope")
        .await
        .assert_error(StatusCode::NOT_FOUND, "not_found");
}

#[tokio::test]
async fn the_jwks_publishes_public_members_kid_alg_and_use_for_every_key_type() {
    let app = TestApp::new().await;
    let mut types: Vec<(&str, Option<&str>, &str)> =
        KEY_TYPES.iter().map(|(t, a)| (*t, None, *a)).collect();
    types.push(("rsa-2048", Some("PS256"), "PS256"));

    for (i, (key_type, algorithm, alg)) in types.into_iter().enumerate() {
        let mut key = json!({"name": format!("k{i}"), "type": key_type});
        if let Some(algorithm) = algorithm {
            key["algorithm"] = json!(algorithm);
        }
        let state = app.create_key_with(key).await;
        app.create_issuer(&format!("i{i}"), &format!("k{i}")).await;

        let jwks = app.jwks(&format!("i{i}")).await;

        assert_eq!(jwks.status, StatusCode::OK, "{key_type}: {}", jwks.text);
        let keys = jwks.json["keys"].as_array().expect("keys");
        assert_eq!(keys.len(), 1, "{key_type}");
        let jwk = &keys[0];
        assert_eq!(jwk["kid"], state["versions"][0]["kid"], "{key_type}");
        assert_eq!(jwk["alg"], alg, "{key_type}");
        assert_eq!(jwk["use"], "sig", "{key_type}");
        for private in PRIVATE_MEMBERS {
            assert!(jwk.get(private).is_none(), "{key_type} publishes {private}");
        }
        let expected_kty = match key_type {
            "ed25519" => "OKP",
            t if t.starts_with("rsa") => "RSA",
            _ => "EC",
        };
        assert_eq!(jwk["kty"], expected_kty, "{key_type}");
    }
}

#[tokio::test]
async fn the_jwks_of_an_idle_key_is_cached_at_most_five_minutes() {
    let app = app_with_issuer("ecdsa-p256").await;

    let jwks = app.jwks("ci").await;

    let age = max_age(jwks.header("cache-control"));
    assert!((1..=300).contains(&age), "max-age={age}");
}

#[tokio::test]
async fn the_jwks_cache_never_outlasts_the_next_scheduled_rotation() {
    let app = TestApp::new().await;
    app.create_key_with(json!({"name": "k", "type": "ecdsa-p256", "rotation_period": "1h"}))
        .await;
    app.create_issuer("ci", "k").await;

    app.clock.advance(3600 - 42);
    let jwks = app.jwks("ci").await;

    assert_eq!(max_age(jwks.header("cache-control")), 42);
}

#[tokio::test]
async fn discovery_and_jwks_need_no_token() {
    let app = app_with_issuer("ecdsa-p256").await;

    assert_eq!(app.discovery("ci").await.status, StatusCode::OK);
    assert_eq!(app.jwks("ci").await.status, StatusCode::OK);
    let with_garbage = app
        .call(Method::GET, "/jwt/ci/.well-known/jwks.json")
        .token("garbage")
        .send()
        .await;
    assert_eq!(
        with_garbage.status,
        StatusCode::OK,
        "a bad token is ignored"
    );
}

#[tokio::test]
async fn discovery_and_jwks_keep_working_while_sealed_and_minting_answers_503() {
    let app = app_with_issuer("rsa-2048").await;
    let minted = app.mint_ok("ci", "r", &json!({})).await;
    let discovery = app.discovery("ci").await.json;
    let jwks = app.jwks("ci").await.json;

    let sealed = app.root(Method::POST, "/v1/sys/seal").send().await;
    assert!(sealed.status.is_success(), "{}", sealed.text);

    let discovery_sealed = app.discovery("ci").await;
    let oauth_sealed = app
        .call(
            Method::GET,
            "/jwt/ci/.well-known/oauth-authorization-server",
        )
        .send()
        .await;
    let jwks_sealed = app.jwks("ci").await;
    assert_eq!(
        discovery_sealed.status,
        StatusCode::OK,
        "{}",
        discovery_sealed.text
    );
    assert_eq!(oauth_sealed.status, StatusCode::OK, "{}", oauth_sealed.text);
    assert_eq!(jwks_sealed.status, StatusCode::OK, "{}", jwks_sealed.text);
    assert_eq!(discovery_sealed.json, discovery);
    assert_eq!(jwks_sealed.json, jwks);
    verify_with_jwks(&minted.token, &jwks_sealed.json).expect("verifies while sealed");
    app.mint("ci", "r", &json!({}))
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "sealed");
}

#[tokio::test]
async fn discovery_and_jwks_answer_after_a_restart_before_unseal() {
    let app = app_with_issuer("ed25519").await;
    let minted = app.mint_ok("ci", "r", &json!({})).await;
    let jwks = app.jwks("ci").await.json;

    let app = app.restart().await;

    assert_eq!(app.discovery("ci").await.status, StatusCode::OK);
    let after = app.jwks("ci").await;
    assert_eq!(after.status, StatusCode::OK, "{}", after.text);
    assert_eq!(after.json, jwks);
    verify_with_jwks(&minted.token, &after.json).expect("verifies before unseal");
    app.mint("ci", "r", &json!({}))
        .await
        .assert_error(StatusCode::SERVICE_UNAVAILABLE, "sealed");
}

#[tokio::test]
async fn each_issuer_publishes_only_its_own_key() {
    let app = TestApp::new().await;
    let a = app.create_key("ka", "ecdsa-p256").await;
    let b = app.create_key("kb", "ecdsa-p256").await;
    app.create_issuer("a", "ka").await;
    app.create_issuer("b", "kb").await;

    let kid = |state: &Value| {
        state["versions"][0]["kid"]
            .as_str()
            .expect("kid")
            .to_owned()
    };

    assert_eq!(app.jwks_kids("a").await, [kid(&a)]);
    assert_eq!(app.jwks_kids("b").await, [kid(&b)]);
}
