//! Algorithm confusion: `none` in every spelling, HS* tokens MACed with a trusted public key
//! in every encoding an attacker would try (the issuer's and Sigil's internal one), an `alg`
//! that does not fit the named key, and an `alg` outside the issuer's allow-list.

use jsonwebtoken::Algorithm as Hs;
use serde_json::{Value, json};
use sigil_jose::{Algorithm, KeyType};

use super::forge::{
    P256, P384, compact, hmac, pem, pkcs1_rsa, signature_of, spki_ec, spki_ed25519, spki_rsa,
    unb64, with_signature,
};
use super::target::{Case, Refusal, Target, case, refused};
use crate::external_idp::IdpKey;
use crate::support::{INTERNAL_KEY, TestApp};

const NOT_ALLOWED: Refusal = refused("algorithm_not_allowed");

/// The target's issuer also trusts `rsa` (RS256), `ed` (EdDSA) and `p384` (ES384).
struct Keys {
    rsa: IdpKey,
    ed: IdpKey,
    p384: IdpKey,
}

async fn target_with_every_key_type() -> (Target, Keys) {
    let keys = Keys {
        rsa: IdpKey::generate(KeyType::Rsa2048, Algorithm::Rs256, "rsa"),
        ed: IdpKey::generate(KeyType::Ed25519, Algorithm::EdDsa, "ed"),
        p384: IdpKey::generate(KeyType::EcdsaP384, Algorithm::Es384, "p384"),
    };
    let extra = vec![keys.rsa.jwk(), keys.ed.jwk(), keys.p384.jwk()];
    let target = Target::start_with(TestApp::builder(), extra, json!({})).await;
    (target, keys)
}

/// Claims of a forged root token of Sigil's internal issuer.
fn internal_claims(target: &Target) -> Value {
    let now = target.app.now();
    json!({"iss": "urn:sigil:internal", "sub": "root", "policies": ["root"],
           "iat": now, "nbf": now, "exp": now + 300, "jti": "forged"})
}

#[tokio::test]
async fn none_in_every_spelling_is_refused() {
    let target = Target::start().await;
    let claims = target.claims(json!({})).to_string();
    let signature = signature_of(&target.valid_token());
    let jku = target.trap.url("/jwks.json");
    let mut headers: Vec<(String, String)> = [
        "none",
        "None",
        "NONE",
        "nOnE",
        "none ",
        " none",
        "none\0",
        "nonE",
        "n\u{3bf}ne",
        "\u{ff4e}\u{ff4f}\u{ff4e}\u{ff45}",
        "",
        "null",
    ]
    .into_iter()
    .map(|alg| {
        (
            format!("alg {alg:?}"),
            target.header(json!({"alg": alg})).to_string(),
        )
    })
    .collect();
    headers.push((
        "alg none spelled with a JSON escape".to_owned(),
        format!(r#"{{"alg":"n\u006fne","kid":"k1","jku":"{jku}"}}"#),
    ));

    let mut cases: Vec<Case> = Vec::new();
    for (name, header) in &headers {
        let unsigned = compact(header, &claims, &[]);
        cases.push(case(
            format!("{name}, empty signature"),
            unsigned.clone(),
            NOT_ALLOWED,
        ));
        cases.push(case(
            format!("{name}, k1's signature"),
            with_signature(&unsigned, &signature),
            NOT_ALLOWED,
        ));
    }
    let internal = internal_claims(&target).to_string();
    cases.push(case(
        "a root token of the internal issuer under alg none",
        compact(r#"{"alg":"none","typ":"JWT"}"#, &internal, &[]),
        NOT_ALLOWED,
    ));
    cases.push(case(
        "a root token of the internal issuer under alg None with a signature",
        compact(r#"{"alg":"None","typ":"JWT"}"#, &internal, &signature),
        NOT_ALLOWED,
    ));

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn hs_tokens_keyed_with_a_trusted_public_key_are_refused() {
    let (target, keys) = target_with_every_key_type().await;
    let internal_jwk =
        serde_json::to_value(target.app.signer(INTERNAL_KEY).public_jwk()).expect("a JWK");
    let claims = target.claims(json!({})).to_string();
    let internal = internal_claims(&target).to_string();
    let header = |alg: &str, kid: &Value| {
        target
            .header(json!({"alg": alg, "kid": kid.clone()}))
            .to_string()
    };

    let mut cases: Vec<Case> = Vec::new();
    for (owner, jwk, payload) in [
        ("k1", target.key.jwk(), &claims),
        ("rsa", keys.rsa.jwk(), &claims),
        ("ed", keys.ed.jwk(), &claims),
        ("the internal key", internal_jwk, &internal),
    ] {
        for (encoding, secret) in secrets_of(&jwk) {
            let every_alg = encoding.starts_with("PEM SPKI,") || encoding == "JWK as published";
            for (alg, hs) in [
                ("HS256", Hs::HS256),
                ("HS384", Hs::HS384),
                ("HS512", Hs::HS512),
            ] {
                if alg != "HS256" && !every_alg {
                    continue;
                }
                cases.push(case(
                    format!("{alg} keyed with {owner}'s {encoding}"),
                    hmac(hs, &secret, &header(alg, &jwk["kid"]), payload),
                    NOT_ALLOWED,
                ));
            }
        }
    }
    let pem_k1 = secrets_of(&target.key.jwk()).swap_remove(0).1;
    cases.push(case(
        "HS256 keyed with k1's PEM and no kid",
        hmac(Hs::HS256, &pem_k1, &header("HS256", &Value::Null), &claims),
        NOT_ALLOWED,
    ));

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn an_alg_that_does_not_fit_the_named_key_is_refused() {
    let (target, keys) = target_with_every_key_type().await;
    let claims = target.claims(json!({}));
    let ps256 = IdpKey::generate(KeyType::Rsa2048, Algorithm::Ps256, "rsa");
    // Each token is signed by a key of the claimed algorithm where one exists, often a
    // trusted one, and names another trusted key whose type does not fit.
    let forged = |signer: &IdpKey, alg: &str, kid: &str| {
        signer.sign_with_header(&target.header(json!({"alg": alg, "kid": kid})), &claims)
    };

    let cases = [
        (
            "ES256 on the P-384 key",
            forged(&target.attacker, "ES256", "p384"),
        ),
        (
            "ES384 by the P-384 key on the P-256 key",
            forged(&keys.p384, "ES384", "k1"),
        ),
        ("ES512 on the P-256 key", forged(&target.key, "ES512", "k1")),
        (
            "RS256 by the RSA key on the P-256 key",
            forged(&keys.rsa, "RS256", "k1"),
        ),
        ("PS256 on the P-256 key", forged(&ps256, "PS256", "k1")),
        (
            "EdDSA by the Ed25519 key on the P-256 key",
            forged(&keys.ed, "EdDSA", "k1"),
        ),
        (
            "ES256 by k1 on the RSA key",
            forged(&target.key, "ES256", "rsa"),
        ),
        (
            "EdDSA by the Ed25519 key on the RSA key",
            forged(&keys.ed, "EdDSA", "rsa"),
        ),
        (
            "RS256 by the RSA key on the Ed25519 key",
            forged(&keys.rsa, "RS256", "ed"),
        ),
        (
            "ES256 by k1 on the Ed25519 key",
            forged(&target.key, "ES256", "ed"),
        ),
        (
            "PS256 on the RSA key pinned to RS256",
            forged(&ps256, "PS256", "rsa"),
        ),
        (
            "RS384 on the RSA key pinned to RS256",
            forged(&keys.rsa, "RS384", "rsa"),
        ),
        (
            "RS512 on the RSA key pinned to RS256",
            forged(&keys.rsa, "RS512", "rsa"),
        ),
        (
            "ES384 by the P-384 key on the Ed25519 key",
            forged(&keys.p384, "ES384", "ed"),
        ),
        (
            "ES256K on the P-256 key",
            forged(&target.key, "ES256K", "k1"),
        ),
        (
            "es256 in lower case, signed by k1",
            forged(&target.key, "es256", "k1"),
        ),
        (
            "Es256 in mixed case, signed by k1",
            forged(&target.key, "Es256", "k1"),
        ),
        (
            "ES256 with a trailing space, signed by k1",
            forged(&target.key, "ES256 ", "k1"),
        ),
        (
            "EDDSA in upper case, signed by the Ed25519 key",
            forged(&keys.ed, "EDDSA", "ed"),
        ),
        (
            "RSA-OAEP (an encryption alg)",
            forged(&keys.rsa, "RSA-OAEP", "rsa"),
        ),
    ]
    .map(|(name, token)| case(name, token, NOT_ALLOWED));

    target.assert_refused_all(&cases).await;
}

/// DESIGN §3: "The header `alg` must be allowed by the issuer"; by default an issuer allows
/// the algorithms of its keys, so a token without `kid` cannot pick one no key has.
#[tokio::test]
async fn a_kidless_token_with_an_alg_none_of_the_issuers_keys_has_is_refused_as_not_allowed() {
    let target = Target::start().await;
    let claims = target.claims(json!({}));
    let rsa = IdpKey::generate(KeyType::Rsa2048, Algorithm::Rs256, "x");
    let ps256 = IdpKey::generate(KeyType::Rsa2048, Algorithm::Ps256, "x");
    let ed = IdpKey::generate(KeyType::Ed25519, Algorithm::EdDsa, "x");
    let p384 = IdpKey::generate(KeyType::EcdsaP384, Algorithm::Es384, "x");
    let kidless = |signer: &IdpKey, alg: &str| {
        signer.sign_with_header(&target.header(json!({"alg": alg, "kid": null})), &claims)
    };

    let cases = [
        ("RS256 without kid", kidless(&rsa, "RS256")),
        ("PS256 without kid", kidless(&ps256, "PS256")),
        ("EdDSA without kid", kidless(&ed, "EdDSA")),
        ("ES384 without kid", kidless(&p384, "ES384")),
    ]
    .map(|(name, token)| case(name, token, NOT_ALLOWED));

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn an_alg_outside_the_issuers_allow_list_is_refused() {
    let rsa = IdpKey::generate(KeyType::Rsa2048, Algorithm::Ps256, "rsa");
    let ed = IdpKey::generate(KeyType::Ed25519, Algorithm::EdDsa, "ed");
    let mut unpinned = rsa.jwk();
    unpinned.as_object_mut().expect("a JWK").remove("alg");
    let target = Target::start_with(
        TestApp::builder(),
        vec![unpinned, ed.jwk()],
        json!({"algorithms": ["ES256", "RS256"]}),
    )
    .await;
    let claims = target.claims(json!({}));
    let signed = |signer: &IdpKey, alg: &str, kid: Value| {
        signer.sign_with_header(&target.header(json!({"alg": alg, "kid": kid})), &claims)
    };

    let cases = [
        (
            "PS256 validly signed by the unpinned RSA key",
            signed(&rsa, "PS256", json!("rsa")),
        ),
        (
            "PS384 on the unpinned RSA key",
            signed(&rsa, "PS384", json!("rsa")),
        ),
        (
            "PS512 on the unpinned RSA key",
            signed(&rsa, "PS512", json!("rsa")),
        ),
        (
            "RS384 on the unpinned RSA key",
            signed(&rsa, "RS384", json!("rsa")),
        ),
        (
            "RS512 on the unpinned RSA key",
            signed(&rsa, "RS512", json!("rsa")),
        ),
        (
            "EdDSA validly signed by the Ed25519 key",
            signed(&ed, "EdDSA", json!("ed")),
        ),
        ("EdDSA without kid", signed(&ed, "EdDSA", Value::Null)),
        ("ES384 on k1", signed(&target.key, "ES384", json!("k1"))),
    ]
    .map(|(name, token)| case(name, token, NOT_ALLOWED));

    target.assert_refused_all(&cases).await;
}

/// Every encoding of a public JWK an attacker might use as an HMAC secret.
fn secrets_of(jwk: &Value) -> Vec<(String, Vec<u8>)> {
    let member = |name: &str| unb64(jwk[name].as_str().expect("a key member"));
    let published = jwk.to_string().into_bytes();
    let mut secrets: Vec<(&str, Vec<u8>)> = Vec::new();
    match jwk["kty"].as_str() {
        Some("EC") => {
            let (x, y) = (member("x"), member("y"));
            let curve = if jwk["crv"] == "P-384" { P384 } else { P256 };
            let point = [vec![0x04], x.clone(), y.clone()].concat();
            let spki = spki_ec(curve, &point);
            let compressed = [vec![0x02 | (y[y.len() - 1] & 1)], x.clone()].concat();
            let canonical = json!({"crv": jwk["crv"], "kty": "EC", "x": jwk["x"], "y": jwk["y"]});
            secrets.extend([
                ("PEM SPKI, LF", pem("PUBLIC KEY", &spki, "\n").into_bytes()),
                (
                    "PEM SPKI without the last newline",
                    pem("PUBLIC KEY", &spki, "\n")
                        .trim_end()
                        .as_bytes()
                        .to_vec(),
                ),
                (
                    "PEM SPKI, CRLF",
                    pem("PUBLIC KEY", &spki, "\r\n").into_bytes(),
                ),
                ("DER SPKI", spki),
                ("uncompressed point", point),
                ("compressed point", compressed),
                ("x || y", [x, y].concat()),
                ("JWK as published", published),
                ("RFC 7638 canonical JWK", canonical.to_string().into_bytes()),
                (
                    "base64url x",
                    jwk["x"].as_str().unwrap_or_default().as_bytes().to_vec(),
                ),
            ]);
        }
        Some("RSA") => {
            let (n, e) = (member("n"), member("e"));
            secrets.extend([
                (
                    "PEM SPKI, LF",
                    pem("PUBLIC KEY", &spki_rsa(&n, &e), "\n").into_bytes(),
                ),
                (
                    "PEM PKCS#1",
                    pem("RSA PUBLIC KEY", &pkcs1_rsa(&n, &e), "\n").into_bytes(),
                ),
                ("DER SPKI", spki_rsa(&n, &e)),
                ("DER PKCS#1", pkcs1_rsa(&n, &e)),
                ("modulus", n),
                ("JWK as published", published),
                (
                    "base64url n",
                    jwk["n"].as_str().unwrap_or_default().as_bytes().to_vec(),
                ),
            ]);
        }
        Some("OKP") => {
            let x = member("x");
            secrets.extend([
                (
                    "PEM SPKI, LF",
                    pem("PUBLIC KEY", &spki_ed25519(&x), "\n").into_bytes(),
                ),
                ("DER SPKI", spki_ed25519(&x)),
                ("raw public key", x),
                ("JWK as published", published),
            ]);
        }
        other => panic!("unexpected kty {other:?}"),
    }
    secrets
        .into_iter()
        .map(|(name, bytes)| (name.to_owned(), bytes))
        .collect()
}
