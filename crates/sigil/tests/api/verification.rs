//! Verification of external tokens (DESIGN §3 "Verifying"; issue 4 items 4-5): every rule with
//! its own failing token, signed validly by an independent library (`jsonwebtoken`) so only the
//! rule under test can refuse it; `/v1/verify`, `/v1/explain` and `/v1` authentication.

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use serde_json::{Value, json};
use sigil_jose::{Algorithm, KeyType};

use crate::external_idp::{
    Idp, IdpKey, assert_refused, assert_verifies, claims_at, trust_jwks, trust_with, trusting_app,
    verify, verify_body,
};
use crate::support::{TestApp, tampered};

const ISS: &str = "https://ci.example.com";

/// A server trusting `ci` (`iss` [`ISS`]) with one inline ES256 key `k1`, plus `extra` fields.
async fn trusting_ci(extra: Value) -> (TestApp, IdpKey) {
    let app = TestApp::new().await;
    let key = IdpKey::es256("k1");
    let mut body = json!({"issuer": ISS, "keys": [key.jwk()]});
    merge(&mut body, extra);
    trust_with(&app, "ci", body).await;
    (app, key)
}

/// Good claims for `ci` now, with `changes` applied (a `null` change removes the claim).
fn claims(app: &TestApp, changes: Value) -> Value {
    let mut claims = claims_at(ISS, app.now());
    merge(&mut claims, changes);
    claims
}

fn merge(target: &mut Value, changes: Value) {
    let target = target.as_object_mut().expect("an object");
    for (name, value) in changes.as_object().expect("an object") {
        if value.is_null() {
            target.remove(name);
        } else {
            target.insert(name.clone(), value.clone());
        }
    }
}

fn header_of(key: &IdpKey, extra: Value) -> Value {
    let mut header = json!({"alg": key.alg, "kid": key.kid, "typ": "JWT"});
    merge(&mut header, extra);
    header
}

fn b64(text: &str) -> String {
    URL_SAFE_NO_PAD.encode(text)
}

/// An inline JWK without its pinned `alg`, so only its type and curve decide.
fn unpinned(key: &IdpKey) -> Value {
    let mut jwk = key.jwk();
    jwk.as_object_mut().expect("a JWK").remove("alg");
    jwk
}

// ---- interoperability: every algorithm, through a fetched JWKS ----

#[tokio::test]
async fn tokens_of_every_algorithm_verify_and_altered_copies_do_not() {
    let keys = [
        IdpKey::generate(KeyType::EcdsaP256, Algorithm::Es256, "es256"),
        IdpKey::generate(KeyType::EcdsaP384, Algorithm::Es384, "es384"),
        IdpKey::generate(KeyType::Rsa2048, Algorithm::Rs256, "rs256"),
        IdpKey::generate(KeyType::Rsa2048, Algorithm::Ps256, "ps256"),
        IdpKey::generate(KeyType::Ed25519, Algorithm::EdDsa, "eddsa"),
    ];
    let idp = Idp::start(&keys.iter().collect::<Vec<_>>()).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;

    for key in &keys {
        let token = key.sign(&claims_at(idp.issuer(), app.now()));
        let verified = assert_verifies(&app, &token, "idp").await;
        assert_eq!(verified["claims"]["sub"], "ci-job-42", "{}", key.alg);

        let altered = tampered(&token, "sub", json!("admin"));
        assert_refused(&app, &altered, "signature_invalid").await;
        let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
        bytes[0] ^= 1;
        let flipped = format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert_refused(&app, &flipped, "signature_invalid").await;
    }
    assert_eq!(idp.jwks_hits(), 1, "every kid was known from the save");
}

// ---- item 4: one failing token per rule ----

#[tokio::test]
async fn a_token_over_the_size_limit_is_refused_before_decoding() {
    let (app, key) = trusting_ci(json!({})).await;
    let garbage = |len: usize| format!("{}.{}.{}", "!".repeat(len - 4), "!", "!");

    assert_refused(&app, &garbage(16 * 1024 + 1), "token_too_large").await;
    assert_refused(&app, &garbage(16 * 1024), "token_malformed").await;
    let padded = key.sign(&claims(&app, json!({"pad": "x".repeat(16 * 1024)})));
    assert_refused(&app, &padded, "token_too_large").await;

    let small = TestApp::builder().max_token_bytes(1024).build().await;
    trust_with(&small, "ci", json!({"issuer": ISS, "keys": [key.jwk()]})).await;
    let fits = key.sign(&claims(&small, json!({})));
    assert!(fits.len() < 1024);
    assert_verifies(&small, &fits, "ci").await;
    let over = key.sign(&claims(&small, json!({"pad": "x".repeat(800)})));
    assert_refused(&small, &over, "token_too_large").await;
}

#[tokio::test]
async fn only_compact_jws_is_accepted() {
    let (app, key) = trusting_ci(json!({})).await;
    let token = key.sign(&claims(&app, json!({})));
    let parts: Vec<&str> = token.split('.').collect();

    for (case, refused) in [
        (
            "JWE",
            format!("{}.{}.{}.{}.{}", parts[0], "a", "b", "c", "d"),
        ),
        (
            "JSON serialization",
            json!({"payload": parts[1], "protected": parts[0], "signature": parts[2]}).to_string(),
        ),
        ("two segments", format!("{}.{}", parts[0], parts[1])),
        (
            "padding",
            format!("{}=.{}.{}", parts[0], parts[1], parts[2]),
        ),
        (
            "not base64url",
            format!("{}.{}+/.{}", parts[0], parts[1], parts[2]),
        ),
        ("empty signature", format!("{}.{}.", parts[0], parts[1])),
        (
            "payload not an object",
            key.sign_text(&header_of(&key, json!({})).to_string(), "[1]"),
        ),
    ] {
        let answer = verify(&app, &refused).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{case}: {}",
            answer.text
        );
        assert_eq!(
            answer.error_code(),
            "token_malformed",
            "{case}: {}",
            answer.text
        );
    }
    assert_verifies(&app, &token, "ci").await;
}

#[tokio::test]
async fn an_alg_outside_the_issuers_allow_list_is_refused() {
    let ec = IdpKey::es256("ec");
    let rsa = IdpKey::generate(KeyType::Rsa2048, Algorithm::Rs256, "rsa");
    let app = TestApp::new().await;
    trust_with(
        &app,
        "ci",
        json!({"issuer": ISS, "keys": [ec.jwk(), rsa.jwk()], "algorithms": ["ES256"]}),
    )
    .await;

    assert_refused(
        &app,
        &rsa.sign(&claims(&app, json!({}))),
        "algorithm_not_allowed",
    )
    .await;
    assert_verifies(&app, &ec.sign(&claims(&app, json!({}))), "ci").await;
}

#[tokio::test]
async fn the_default_allow_list_is_the_algorithms_of_the_keys() {
    let (app, _) = trusting_ci(json!({})).await;
    let rsa = IdpKey::generate(KeyType::Rsa2048, Algorithm::Rs256, "k1");
    let eddsa = IdpKey::generate(KeyType::Ed25519, Algorithm::EdDsa, "k1");

    assert_refused(
        &app,
        &rsa.sign(&claims(&app, json!({}))),
        "algorithm_not_allowed",
    )
    .await;
    assert_refused(
        &app,
        &eddsa.sign(&claims(&app, json!({}))),
        "algorithm_not_allowed",
    )
    .await;
}

#[tokio::test]
async fn an_alg_that_does_not_match_the_keys_type_is_refused() {
    let ec = IdpKey::es256("ec");
    let rsa = IdpKey::generate(KeyType::Rsa2048, Algorithm::Rs256, "rsa");
    let app = TestApp::new().await;
    trust_with(
        &app,
        "ci",
        json!({"issuer": ISS, "keys": [unpinned(&ec), unpinned(&rsa)],
               "algorithms": ["ES256", "RS256"]}),
    )
    .await;

    let rs256_naming_the_ec_key = rsa.sign_with_header(
        &header_of(&rsa, json!({"kid": "ec"})),
        &claims(&app, json!({})),
    );

    assert_refused(&app, &rs256_naming_the_ec_key, "algorithm_not_allowed").await;
    assert_verifies(&app, &rsa.sign(&claims(&app, json!({}))), "ci").await;
}

#[tokio::test]
async fn an_alg_that_does_not_match_the_keys_curve_is_refused() {
    let p256 = IdpKey::es256("p256");
    let p384 = IdpKey::generate(KeyType::EcdsaP384, Algorithm::Es384, "p384");
    let app = TestApp::new().await;
    trust_with(
        &app,
        "ci",
        json!({"issuer": ISS, "keys": [unpinned(&p256), unpinned(&p384)],
               "algorithms": ["ES256", "ES384"]}),
    )
    .await;

    let es384_naming_the_p256_key = p384.sign_with_header(
        &header_of(&p384, json!({"kid": "p256"})),
        &claims(&app, json!({})),
    );

    assert_refused(&app, &es384_naming_the_p256_key, "algorithm_not_allowed").await;
    assert_verifies(&app, &p384.sign(&claims(&app, json!({}))), "ci").await;
}

#[tokio::test]
async fn alg_none_is_never_accepted() {
    let (app, _) = trusting_ci(json!({})).await;
    let payload = b64(&claims(&app, json!({})).to_string());

    for alg in ["none", "None", "NONE"] {
        let header = b64(&json!({"alg": alg, "kid": "k1", "typ": "JWT"}).to_string());
        assert_refused(
            &app,
            &format!("{header}.{payload}."),
            "algorithm_not_allowed",
        )
        .await;
        assert_refused(
            &app,
            &format!("{header}.{payload}.AAAA"),
            "algorithm_not_allowed",
        )
        .await;
    }
}

#[tokio::test]
async fn hs256_signed_with_the_public_key_as_secret_is_refused() {
    let (app, key) = trusting_ci(json!({})).await;
    let payload = b64(&claims(&app, json!({})).to_string());

    for secret in [key.jwk().to_string(), key.jwk()["x"].to_string()] {
        for (alg, algorithm) in [
            ("HS256", jsonwebtoken::Algorithm::HS256),
            ("HS512", jsonwebtoken::Algorithm::HS512),
        ] {
            let header = b64(&json!({"alg": alg, "kid": "k1", "typ": "JWT"}).to_string());
            let signing_input = format!("{header}.{payload}");
            let signature = jsonwebtoken::crypto::sign(
                signing_input.as_bytes(),
                &EncodingKey::from_secret(secret.as_bytes()),
                algorithm,
            )
            .expect("HMAC");
            assert_refused(
                &app,
                &format!("{signing_input}.{signature}"),
                "algorithm_not_allowed",
            )
            .await;
        }
    }
}

/// A genuine IdP trusted as `ci` by its JWKS URL, and an attacker's IdP with its own key.
async fn genuine_and_attacker() -> (TestApp, Idp, IdpKey, Idp, IdpKey) {
    let genuine_key = IdpKey::es256("k1");
    let attacker_key = IdpKey::es256("evil");
    let genuine = Idp::start(&[&genuine_key]).await;
    let attacker = Idp::start(&[&attacker_key]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "ci", &genuine).await;
    (app, genuine, genuine_key, attacker, attacker_key)
}

#[tokio::test]
async fn a_jku_header_is_never_followed() {
    let (app, genuine, _, attacker, attacker_key) = genuine_and_attacker().await;
    let claims = claims_at(genuine.issuer(), app.now());

    for (kid, code) in [("evil", "unknown_key"), ("k1", "signature_invalid")] {
        let header = header_of(
            &attacker_key,
            json!({"kid": kid, "jku": attacker.jwks_url()}),
        );
        assert_refused(&app, &attacker_key.sign_with_header(&header, &claims), code).await;
    }
    assert_eq!(attacker.jwks_hits(), 0, "jku was fetched");
}

#[tokio::test]
async fn an_x5u_header_is_never_followed() {
    let (app, genuine, _, attacker, attacker_key) = genuine_and_attacker().await;
    let claims = claims_at(genuine.issuer(), app.now());

    for (kid, code) in [("evil", "unknown_key"), ("k1", "signature_invalid")] {
        let header = header_of(
            &attacker_key,
            json!({"kid": kid, "x5u": attacker.jwks_url()}),
        );
        assert_refused(&app, &attacker_key.sign_with_header(&header, &claims), code).await;
    }
    assert_eq!(attacker.jwks_hits(), 0, "x5u was fetched");
}

#[tokio::test]
async fn an_x5c_header_is_never_trusted() {
    let (app, genuine, _, _, attacker_key) = genuine_and_attacker().await;
    let claims = claims_at(genuine.issuer(), app.now());
    let header = header_of(
        &attacker_key,
        json!({"kid": "k1", "x5c": ["MIIBszCCAVmgAwIBAgIUAAAA"]}),
    );

    assert_refused(
        &app,
        &attacker_key.sign_with_header(&header, &claims),
        "signature_invalid",
    )
    .await;
}

#[tokio::test]
async fn an_embedded_jwk_is_never_trusted() {
    let (app, genuine, _, _, attacker_key) = genuine_and_attacker().await;
    let claims = claims_at(genuine.issuer(), app.now());

    let naming_a_genuine_kid = header_of(
        &attacker_key,
        json!({"kid": "k1", "jwk": attacker_key.jwk()}),
    );
    assert_refused(
        &app,
        &attacker_key.sign_with_header(&naming_a_genuine_kid, &claims),
        "signature_invalid",
    )
    .await;
    let with_its_own_kid = header_of(&attacker_key, json!({"jwk": attacker_key.jwk()}));
    assert_refused(
        &app,
        &attacker_key.sign_with_header(&with_its_own_kid, &claims),
        "unknown_key",
    )
    .await;
    let without_kid = json!({"alg": "ES256", "jwk": attacker_key.jwk()});
    assert_refused(
        &app,
        &attacker_key.sign_with_header(&without_kid, &claims),
        "signature_invalid",
    )
    .await;
}

#[tokio::test]
async fn an_unknown_crit_header_is_refused() {
    let (app, key) = trusting_ci(json!({})).await;
    let claims = claims(&app, json!({}));

    for crit in [
        json!(["exp"]),
        json!(["b64"]),
        json!(["urn:example:unknown"]),
    ] {
        let header = header_of(&key, json!({"crit": crit, "exp": 1}));
        assert_refused(
            &app,
            &key.sign_with_header(&header, &claims),
            "unsupported_critical_header",
        )
        .await;
    }
}

#[tokio::test]
async fn duplicate_json_members_are_refused() {
    let (app, key) = trusting_ci(json!({})).await;
    let now = app.now();
    let header = r#"{"alg":"ES256","kid":"k1","kid":"k1"}"#;
    let good_header = r#"{"alg":"ES256","kid":"k1"}"#;
    let payload = format!(
        r#"{{"iss":"{ISS}","sub":"ci-job-42","exp":{},"sub":"admin"}}"#,
        now + 300
    );
    let nested = format!(
        r#"{{"iss":"{ISS}","sub":"x","exp":{},"ctx":{{"a":1,"a":2}}}}"#,
        now + 300
    );
    let good = format!(r#"{{"iss":"{ISS}","sub":"x","exp":{}}}"#, now + 300);

    assert_refused(&app, &key.sign_text(header, &good), "token_malformed").await;
    assert_refused(
        &app,
        &key.sign_text(good_header, &payload),
        "token_malformed",
    )
    .await;
    assert_refused(
        &app,
        &key.sign_text(good_header, &nested),
        "token_malformed",
    )
    .await;
    assert_verifies(&app, &key.sign_text(good_header, &good), "ci").await;
}

#[tokio::test]
async fn iss_must_be_a_string() {
    let (app, key) = trusting_ci(json!({})).await;

    for iss in [json!([ISS]), json!({"url": ISS}), json!(7), json!(true)] {
        let token = key.sign(&claims(&app, json!({"iss": iss})));
        assert_refused(&app, &token, "claim_invalid").await;
    }
    let missing = key.sign(&claims(&app, json!({"iss": null})));
    assert_refused(&app, &missing, "claim_invalid").await;
}

#[tokio::test]
async fn iss_is_compared_byte_for_byte() {
    let (app, key) = trusting_ci(json!({})).await;

    for iss in [
        "https://ci.example.com/",
        "HTTPS://ci.example.com",
        "https://CI.example.com",
        " https://ci.example.com",
        "https://ci.example.com ",
        "https://ci.example.com\u{0}",
    ] {
        let token = key.sign(&claims(&app, json!({"iss": iss})));
        assert_refused(&app, &token, "unknown_issuer").await;
    }
    assert_verifies(&app, &key.sign(&claims(&app, json!({}))), "ci").await;
}

#[tokio::test]
async fn exp_is_required() {
    let (app, key) = trusting_ci(json!({})).await;

    let token = key.sign(&claims(&app, json!({"exp": null})));

    assert_refused(&app, &token, "claim_invalid").await;
}

#[tokio::test]
async fn an_expired_token_is_refused_once_the_leeway_has_passed() {
    let (app, key) = trusting_ci(json!({})).await;
    let now = app.now();

    let within = key.sign(&claims(
        &app,
        json!({"iat": now - 600, "nbf": now - 600, "exp": now - 59}),
    ));
    let beyond = key.sign(&claims(
        &app,
        json!({"iat": now - 600, "nbf": now - 600, "exp": now - 60}),
    ));

    assert_verifies(&app, &within, "ci").await;
    assert_refused(&app, &beyond, "token_expired").await;
}

#[tokio::test]
async fn nbf_in_the_future_beyond_the_leeway_is_refused() {
    let (app, key) = trusting_ci(json!({})).await;
    let now = app.now();

    assert_verifies(
        &app,
        &key.sign(&claims(&app, json!({"nbf": now + 60}))),
        "ci",
    )
    .await;
    let early = key.sign(&claims(&app, json!({"nbf": now + 61})));
    assert_refused(&app, &early, "token_not_yet_valid").await;
}

#[tokio::test]
async fn iat_in_the_future_beyond_the_leeway_is_refused() {
    let (app, key) = trusting_ci(json!({})).await;
    let now = app.now();

    assert_verifies(
        &app,
        &key.sign(&claims(&app, json!({"iat": now + 60}))),
        "ci",
    )
    .await;
    let future = key.sign(&claims(&app, json!({"iat": now + 61})));
    assert_refused(&app, &future, "token_issued_in_future").await;
}

#[tokio::test]
async fn the_leeway_is_the_issuers() {
    let (app, key) = trusting_ci(json!({"leeway": "2m"})).await;
    let now = app.now();

    let within = key.sign(&claims(
        &app,
        json!({"iat": now - 600, "exp": now - 119, "nbf": now + 120}),
    ));
    let beyond = key.sign(&claims(&app, json!({"iat": now - 600, "exp": now - 120})));

    assert_verifies(&app, &within, "ci").await;
    assert_refused(&app, &beyond, "token_expired").await;
}

#[tokio::test]
async fn claims_of_the_wrong_json_type_are_refused_never_treated_as_absent() {
    let (app, key) = trusting_ci(json!({"audiences": ["api"], "max_token_age": "1h"})).await;
    let now = app.now();

    for (claim, value) in [
        ("exp", json!((now + 300).to_string())),
        ("exp", json!([now + 300])),
        ("nbf", json!(now.to_string())),
        ("nbf", json!(true)),
        ("iat", json!(now.to_string())),
        ("iat", json!({"at": now})),
        ("sub", json!(42)),
        ("jti", json!(42)),
        ("aud", json!(42)),
        ("aud", json!(["api", 42])),
        ("aud", json!({"api": true})),
        ("roles", json!("admin")),
        ("roles", json!(["reader", 1])),
        ("prm", json!("3")),
        ("prm", json!(-1)),
        ("prm", json!(1.5)),
        ("prm", json!([3])),
    ] {
        let mut changes = json!({"aud": "api"});
        changes[claim] = value.clone();
        let answer = verify(&app, &key.sign(&claims(&app, changes))).await;
        assert_eq!(
            answer.status,
            StatusCode::UNAUTHORIZED,
            "{claim}: {value}: {}",
            answer.text
        );
        assert_eq!(
            answer.error_code(),
            "claim_invalid",
            "{claim}: {value}: {}",
            answer.text
        );
    }
    for (claim, value) in [
        ("exp", json!(null)),
        ("nbf", json!(null)),
        ("iat", json!(null)),
    ] {
        let mut token_claims = claims(&app, json!({"aud": "api"}));
        token_claims[claim] = value;
        let answer = verify(&app, &key.sign(&token_claims)).await;
        assert_eq!(
            answer.error_code(),
            "claim_invalid",
            "{claim}: null: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn a_token_passes_if_any_of_its_audiences_is_the_issuers() {
    let (app, key) = trusting_ci(json!({"audiences": ["api", "ops"]})).await;

    for aud in [json!("api"), json!(["other", "ops"]), json!(["api"])] {
        assert_verifies(&app, &key.sign(&claims(&app, json!({"aud": aud}))), "ci").await;
    }
    for aud in [json!("other"), json!(["x", "y"]), json!([]), json!("API")] {
        let token = key.sign(&claims(&app, json!({"aud": aud})));
        assert_refused(&app, &token, "audience_mismatch").await;
    }
    let without_aud = key.sign(&claims(&app, json!({})));
    assert_refused(&app, &without_aud, "audience_mismatch").await;
}

#[tokio::test]
async fn a_token_with_aud_fails_against_an_empty_list_unless_unchecked() {
    let (app, key) = trusting_ci(json!({})).await;
    let with_aud = key.sign(&claims(&app, json!({"aud": "api"})));

    assert_refused(&app, &with_aud, "audience_mismatch").await;
    assert_verifies(&app, &key.sign(&claims(&app, json!({}))), "ci").await;
    let patched = app
        .root(Method::PATCH, "/v1/config/trusted-issuers/ci")
        .json(&json!({"audiences_unchecked": true}))
        .send()
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    assert_verifies(&app, &with_aud, "ci").await;
}

#[tokio::test]
async fn the_callers_audience_must_also_be_in_the_token() {
    let (app, key) = trusting_ci(json!({"audiences": ["api", "billing"]})).await;
    let token = key.sign(&claims(&app, json!({"aud": ["api"]})));

    let ok = verify_body(&app, &json!({"token": token, "audience": "api"})).await;
    let other = verify_body(&app, &json!({"token": token, "audience": "billing"})).await;

    assert_eq!(ok.status, StatusCode::OK, "{}", ok.text);
    other.assert_error(StatusCode::UNAUTHORIZED, "audience_mismatch");
}

#[tokio::test]
async fn max_token_age_refuses_old_tokens() {
    let (app, key) = trusting_ci(json!({"max_token_age": "10m"})).await;
    let now = app.now();

    let young = key.sign(&claims(&app, json!({"iat": now - 600})));
    let old = key.sign(&claims(&app, json!({"iat": now - 600 - 61})));
    let undated = key.sign(&claims(&app, json!({"iat": null})));

    assert_verifies(&app, &young, "ci").await;
    assert_refused(&app, &old, "token_too_old").await;
    assert_refused(&app, &undated, "claim_invalid").await;
}

#[tokio::test]
async fn require_jti_refuses_tokens_without_one() {
    let (app, key) = trusting_ci(json!({"require_jti": true})).await;

    assert_refused(&app, &key.sign(&claims(&app, json!({}))), "jti_required").await;
    assert_refused(
        &app,
        &key.sign(&claims(&app, json!({"jti": ""}))),
        "jti_required",
    )
    .await;
    assert_verifies(&app, &key.sign(&claims(&app, json!({"jti": "j-1"}))), "ci").await;
}

#[tokio::test]
async fn roles_and_prm_are_narrowed_by_the_issuers_roles_and_permissions() {
    let (app, key) = trusting_ci(json!({})).await;
    let everything = key.sign(&claims(&app, json!({"roles": ["a", "b"], "prm": 5})));
    let verified = assert_verifies(&app, &everything, "ci").await;
    assert_eq!(
        verified["roles"],
        json!(["a", "b"]),
        "empty roles allow all"
    );
    assert_eq!(
        verified["permissions"], 5,
        "absent permissions allow all bits"
    );
    let no_prm = assert_verifies(&app, &key.sign(&claims(&app, json!({}))), "ci").await;
    assert_eq!(no_prm["permissions"], json!(u64::MAX));
    assert_eq!(no_prm["roles"], json!([]));

    let patched = app
        .root(Method::PATCH, "/v1/config/trusted-issuers/ci")
        .json(&json!({"roles": ["a", "c"], "permissions": 6}))
        .send()
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);

    let narrowed = assert_verifies(&app, &everything, "ci").await;
    assert_eq!(narrowed["roles"], json!(["a"]));
    assert_eq!(narrowed["permissions"], 5 & 6);
    let all_bits = key.sign(&claims(&app, json!({"prm": u64::MAX})));
    assert_eq!(
        assert_verifies(&app, &all_bits, "ci").await["permissions"],
        6
    );
}

#[tokio::test]
async fn a_disabled_issuer_verifies_nothing() {
    let (app, key) = trusting_ci(json!({"enabled": false})).await;

    assert_refused(&app, &key.sign(&claims(&app, json!({}))), "issuer_disabled").await;
}

#[tokio::test]
async fn a_token_of_an_untrusted_issuer_is_refused() {
    let (app, key) = trusting_ci(json!({})).await;

    let token = key.sign(&claims(&app, json!({"iss": "https://nobody.example.com"})));

    assert_refused(&app, &token, "unknown_issuer").await;
}

#[tokio::test]
async fn a_signature_from_another_token_is_refused() {
    let (app, key) = trusting_ci(json!({})).await;
    let first = key.sign(&claims(&app, json!({"sub": "a"})));
    let second = key.sign(&claims(&app, json!({"sub": "b"})));

    let spliced = format!(
        "{}.{}",
        first.rsplit_once('.').expect("parts").0,
        second.rsplit_once('.').expect("parts").1
    );

    assert_refused(&app, &spliced, "signature_invalid").await;
}

#[tokio::test]
async fn an_unknown_kid_is_refused() {
    let (app, key) = trusting_ci(json!({})).await;

    let token = key.sign_with_header(
        &header_of(&key, json!({"kid": "k2"})),
        &claims(&app, json!({})),
    );

    assert_refused(&app, &token, "unknown_key").await;
}

#[tokio::test]
async fn verify_without_a_token_is_a_bad_request() {
    let (app, _) = trusting_ci(json!({})).await;

    verify_body(&app, &json!({"audience": "api"}))
        .await
        .assert_invalid(&["token"]);
}

// ---- item 5: verify and explain ----

#[tokio::test]
async fn verify_answers_issuer_project_claims_roles_and_permissions() {
    let (app, key) = trusting_ci(json!({"project": {"id": "payments"}})).await;
    let token_claims = claims(&app, json!({"roles": ["deploy"], "prm": 1}));

    let verified = assert_verifies(&app, &key.sign(&token_claims), "ci").await;

    assert_eq!(
        verified,
        json!({
            "issuer": "ci", "project": "payments", "claims": token_claims,
            "roles": ["deploy"], "permissions": 1
        })
    );
}

#[tokio::test]
async fn explain_lists_every_check_in_order_and_never_echoes_the_token() {
    let (app, key) = trusting_ci(json!({"audiences": ["api"]})).await;
    let token = key.sign(&claims(&app, json!({"aud": "api"})));

    let explained = app
        .send_json(Method::POST, "/v1/explain", &json!({"token": token}))
        .await;

    assert_eq!(explained.status, StatusCode::OK, "{}", explained.text);
    assert_eq!(explained.json["valid"], true);
    assert_eq!(explained.json["result"]["issuer"], "ci");
    let checks = explained.json["trace"]["checks"]
        .as_array()
        .expect("checks");
    let names: Vec<&str> = checks.iter().filter_map(|c| c["check"].as_str()).collect();
    assert_in_order(
        &names,
        &[
            "size",
            "format",
            "issuer",
            "key",
            "algorithm",
            "signature",
            "times",
            "audience",
        ],
    );
    for check in checks {
        assert_eq!(check["passed"], true, "{check}");
        assert!(
            check["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{check}"
        );
    }
    assert_no_token_text(&explained.text, &token);
}

#[tokio::test]
async fn explain_of_a_refused_token_gives_the_verdict_and_stops_at_the_failing_check() {
    let (app, key) = trusting_ci(json!({})).await;
    let now = app.now();
    let token = key.sign(&claims(&app, json!({"exp": now - 3600, "iat": now - 7200})));

    let explained = app
        .send_json(Method::POST, "/v1/explain", &json!({"token": token}))
        .await;

    assert_eq!(
        explained.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        explained.text
    );
    assert_eq!(explained.json["valid"], false);
    assert_eq!(explained.json["error_code"], "token_expired");
    let checks = explained.json["trace"]["checks"]
        .as_array()
        .expect("checks");
    let last = checks.last().expect("a check");
    assert_eq!(last["check"], "times", "{}", explained.text);
    assert_eq!(last["passed"], false);
    assert!(
        checks[..checks.len() - 1]
            .iter()
            .all(|c| c["passed"] == true)
    );
    assert_no_token_text(&explained.text, &token);
    let verdict = verify(&app, &token).await;
    assert_eq!(verdict.error_code(), "token_expired", "the same verdict");
}

fn assert_in_order(names: &[&str], expected: &[&str]) {
    let positions: Vec<usize> = expected
        .iter()
        .map(|e| {
            names
                .iter()
                .position(|n| n == e)
                .unwrap_or_else(|| panic!("no check {e} in {names:?}"))
        })
        .collect();
    assert!(positions.is_sorted(), "checks out of order: {names:?}");
}

fn assert_no_token_text(text: &str, token: &str) {
    assert!(!text.contains(token), "the token is echoed");
    for part in token.split('.') {
        assert!(!text.contains(part), "a token segment is echoed: {text}");
    }
}

// ---- authentication to /v1 with an external token ----

#[tokio::test]
async fn an_external_token_authenticates_but_no_policy_allows_it_yet() {
    let (app, key) = trusting_ci(json!({})).await;
    let token = key.sign(&claims(&app, json!({})));

    let read = app
        .call(Method::GET, "/v1/config/signing-keys")
        .token(&token)
        .send()
        .await;
    let verify_action = app
        .call(Method::POST, "/v1/verify")
        .token(&token)
        .json(&json!({"token": token}))
        .send()
        .await;

    read.assert_error(StatusCode::FORBIDDEN, "permission_denied");
    let message = read.json["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("read") && message.contains("/signing-keys"),
        "{}",
        read.text
    );
    verify_action.assert_error(StatusCode::FORBIDDEN, "permission_denied");
    let message = verify_action.json["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("update") && message.contains("/verify"),
        "{}",
        verify_action.text
    );
}

#[tokio::test]
async fn an_expired_external_token_is_unauthenticated() {
    let (app, key) = trusting_ci(json!({})).await;
    let now = app.now();
    let token = key.sign(&claims(&app, json!({"iat": now - 7200, "exp": now - 3600})));

    let answer = app
        .call(Method::GET, "/v1/config/signing-keys")
        .token(&token)
        .send()
        .await;

    answer.assert_error(StatusCode::UNAUTHORIZED, "token_expired");
    assert!(
        answer
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer")),
        "{:?}",
        answer.headers
    );
}

#[tokio::test]
async fn a_token_in_the_header_its_issuer_names_authenticates() {
    let (app, key) = trusting_ci(json!({"header": "X-CI-Token"})).await;
    let token = key.sign(&claims(&app, json!({})));

    let answer = app
        .call(Method::GET, "/v1/config/signing-keys")
        .header("x-ci-token", &token)
        .send()
        .await;

    answer.assert_error(StatusCode::FORBIDDEN, "permission_denied");
}
