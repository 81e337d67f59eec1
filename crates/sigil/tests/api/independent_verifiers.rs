//! Independent verifiers accept what Sigil signs (DESIGN §4 "Key types"): for every key type,
//! a key is created through the API, signs with the keyring's key pair, and `jsonwebtoken`
//! (or RustCrypto's `p521` for ES512, which `jsonwebtoken` lacks) verifies the token against
//! the public JWK that `GET /v1/state/signing-keys/{name}` publishes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use p521::ecdsa::signature::Verifier;
use serde_json::{Value, json};

use crate::support::{INTERNAL_KEY, TestApp};

/// A token signed by a freshly created key, with the JWK published for it.
struct Signed {
    token: String,
    claims: Value,
    jwk: Value,
    kid: String,
}

async fn sign_with_new_key(app: &TestApp, body: Value) -> Signed {
    let name = body["name"].as_str().expect("name").to_owned();
    let state = app.create_key_with(body).await;
    let now = app.now();
    let claims = json!({
        "iss": "https://sigil.test/jwt/interop",
        "sub": format!("signed-by-{name}"),
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": format!("jti-{name}"),
    });
    let token = app
        .signer(&name)
        .sign_compact(&serde_json::to_vec(&claims).expect("claims"))
        .expect("sign");
    let version = &state["versions"][0];
    Signed {
        token,
        claims,
        jwk: version["public_jwk"].clone(),
        kid: version["kid"].as_str().expect("kid").to_owned(),
    }
}

fn member<'a>(jwk: &'a Value, name: &str) -> &'a str {
    jwk[name]
        .as_str()
        .unwrap_or_else(|| panic!("JWK member {name} missing: {jwk}"))
}

/// A `jsonwebtoken` key from the published JWK's components.
fn decoding_key(jwk: &Value) -> DecodingKey {
    match member(jwk, "kty") {
        "EC" => DecodingKey::from_ec_components(member(jwk, "x"), member(jwk, "y")),
        "RSA" => DecodingKey::from_rsa_components(member(jwk, "n"), member(jwk, "e")),
        "OKP" => DecodingKey::from_ed_components(member(jwk, "x")),
        other => panic!("unexpected kty {other}"),
    }
    .expect("jsonwebtoken accepts the published components")
}

/// `jsonwebtoken`'s RFC 7638 thumbprint of the published JWK.
fn thumbprint(jwk: &Value) -> String {
    let mut jwk = jwk.clone();
    if jwk["alg"] == "ES512" {
        // jsonwebtoken has no ES512; `alg` is not part of the thumbprint anyway.
        jwk.as_object_mut().expect("object").remove("alg");
    }
    let parsed: Jwk = serde_json::from_value(jwk).expect("jsonwebtoken parses the JWK");
    parsed.thumbprint(ThumbprintHash::SHA256)
}

fn jsonwebtoken_decode(
    signed: &Signed,
    algorithm: Algorithm,
) -> jsonwebtoken::errors::Result<Value> {
    let mut validation = Validation::new(algorithm);
    validation.set_required_spec_claims(&["exp", "iss", "sub"]);
    validation.set_issuer(&["https://sigil.test/jwt/interop"]);
    jsonwebtoken::decode::<Value>(&signed.token, &decoding_key(&signed.jwk), &validation).map(
        |data| {
            assert_eq!(data.header.alg, algorithm);
            assert_eq!(data.header.kid.as_deref(), Some(signed.kid.as_str()));
            data.claims
        },
    )
}

/// The token with its payload replaced, header and signature kept.
fn tampered(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).expect("base64url"))
            .expect("JSON");
    claims["sub"] = json!("someone-else");
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("JSON"));
    format!("{}.{payload}.{}", parts[0], parts[2])
}

async fn assert_jsonwebtoken_verifies(
    key_type: &str,
    requested: Option<&str>,
    algorithm: Algorithm,
) {
    let app = TestApp::new().await;
    let mut body = json!({"name": format!("{key_type}-key"), "type": key_type});
    if let Some(requested) = requested {
        body["algorithm"] = json!(requested);
    }

    let signed = sign_with_new_key(&app, body).await;

    let claims = jsonwebtoken_decode(&signed, algorithm)
        .unwrap_or_else(|e| panic!("{key_type}/{algorithm:?}: jsonwebtoken refused: {e}"));
    assert_eq!(claims, signed.claims);
    assert_eq!(
        thumbprint(&signed.jwk),
        signed.kid,
        "kid is the RFC 7638 thumbprint"
    );
    let forged = Signed {
        token: tampered(&signed.token),
        ..signed
    };
    assert!(
        jsonwebtoken_decode(&forged, algorithm).is_err(),
        "{key_type}: a tampered token verified"
    );
}

#[tokio::test]
async fn jsonwebtoken_verifies_es256_from_an_ecdsa_p256_key() {
    assert_jsonwebtoken_verifies("ecdsa-p256", None, Algorithm::ES256).await;
}

#[tokio::test]
async fn jsonwebtoken_verifies_es384_from_an_ecdsa_p384_key() {
    assert_jsonwebtoken_verifies("ecdsa-p384", None, Algorithm::ES384).await;
}

#[tokio::test]
async fn jsonwebtoken_verifies_rs256_from_an_rsa_2048_key() {
    assert_jsonwebtoken_verifies("rsa-2048", None, Algorithm::RS256).await;
}

#[tokio::test]
async fn jsonwebtoken_verifies_rs256_from_an_rsa_3072_key() {
    assert_jsonwebtoken_verifies("rsa-3072", None, Algorithm::RS256).await;
}

#[tokio::test]
async fn jsonwebtoken_verifies_rs256_from_an_rsa_4096_key() {
    assert_jsonwebtoken_verifies("rsa-4096", None, Algorithm::RS256).await;
}

#[tokio::test]
async fn jsonwebtoken_verifies_ps256_from_an_rsa_2048_key() {
    assert_jsonwebtoken_verifies("rsa-2048", Some("PS256"), Algorithm::PS256).await;
}

#[tokio::test]
async fn jsonwebtoken_verifies_eddsa_from_an_ed25519_key() {
    assert_jsonwebtoken_verifies("ed25519", None, Algorithm::EdDSA).await;
}

/// Verifies an ES512 compact JWS with RustCrypto's P-521 implementation.
fn p521_verifies(token: &str, jwk: &Value) -> bool {
    let coordinate = |name| {
        URL_SAFE_NO_PAD
            .decode(member(jwk, name))
            .expect("base64url")
    };
    let (x, y) = (coordinate("x"), coordinate("y"));
    assert_eq!(
        (x.len(), y.len()),
        (66, 66),
        "P-521 coordinates are 66 bytes"
    );
    let mut point = vec![0x04];
    point.extend(x);
    point.extend(y);
    let key = p521::ecdsa::VerifyingKey::from_sec1_bytes(&point).expect("a P-521 point");
    let (signing_input, signature) = token.rsplit_once('.').expect("three parts");
    let signature = URL_SAFE_NO_PAD.decode(signature).expect("base64url");
    assert_eq!(
        signature.len(),
        132,
        "JWS ECDSA signatures are r || s (RFC 7518 §3.4)"
    );
    let signature = p521::ecdsa::Signature::from_slice(&signature).expect("r || s");
    key.verify(signing_input.as_bytes(), &signature).is_ok()
}

#[tokio::test]
async fn p521_verifies_es512_from_an_ecdsa_p521_key() {
    let app = TestApp::new().await;

    let signed = sign_with_new_key(&app, json!({"name": "p521-key", "type": "ecdsa-p521"})).await;

    assert_eq!(signed.jwk["crv"], "P-521");
    assert_eq!(signed.jwk["alg"], "ES512");
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(signed.token.split('.').next().expect("header"))
            .expect("base64url"),
    )
    .expect("JSON");
    assert_eq!(header["alg"], "ES512");
    assert_eq!(header["kid"].as_str(), Some(signed.kid.as_str()));
    assert!(p521_verifies(&signed.token, &signed.jwk), "p521 refused");
    assert_eq!(
        thumbprint(&signed.jwk),
        signed.kid,
        "kid is the RFC 7638 thumbprint"
    );
    assert!(
        !p521_verifies(&tampered(&signed.token), &signed.jwk),
        "a tampered ES512 token verified"
    );
}

#[tokio::test]
async fn jsonwebtoken_verifies_the_root_token_with_the_internal_keys_published_jwk() {
    let app = TestApp::new().await;
    let state = app.key_state(INTERNAL_KEY).await;
    let version = &state["versions"][0];
    let published = Signed {
        token: app.root_token.clone(),
        claims: Value::Null,
        jwk: version["public_jwk"].clone(),
        kid: version["kid"].as_str().expect("kid").to_owned(),
    };

    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_required_spec_claims(&["exp", "iat", "nbf", "sub", "iss"]);
    validation.set_issuer(&["urn:sigil:internal"]);
    validation.validate_nbf = true;
    let decoded =
        jsonwebtoken::decode::<Value>(&published.token, &decoding_key(&published.jwk), &validation)
            .expect("jsonwebtoken verifies the root token");

    assert_eq!(decoded.header.alg, Algorithm::ES256);
    assert_eq!(decoded.header.kid.as_deref(), Some(published.kid.as_str()));
    assert_eq!(state["signing_kid"].as_str(), Some(published.kid.as_str()));
    let claims = &decoded.claims;
    assert_eq!(claims["sub"], "root");
    assert_eq!(claims["policies"], json!(["root"]));
    assert_eq!(claims["iat"], app.now());
    assert_eq!(claims["exp"], app.now() + 24 * 3600);
    assert!(claims["jti"].as_str().is_some_and(|j| !j.is_empty()));
    assert_eq!(thumbprint(&published.jwk), published.kid);
    let forged = tampered(&published.token);
    assert!(
        jsonwebtoken::decode::<Value>(&forged, &decoding_key(&published.jwk), &validation).is_err(),
        "a tampered root token verified"
    );
}
