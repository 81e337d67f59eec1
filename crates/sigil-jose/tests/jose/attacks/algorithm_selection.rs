//! Algorithm selection and confusion: `none` in every spelling, HMAC keyed with the verifier's
//! public key in every encoding, and asymmetric algorithms that do not fit the key.

use aws_lc_rs::hmac;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};
use sigil_jose::{Algorithm, JoseError, KeyType, VerifyingKey};

use super::{
    Cases, ED25519, P256, P384, P521, RSA, TestKey, claims, parsed, signing_input, verified,
};
use crate::support::encode;

/// A header with this `alg` value (any JSON), a claims payload and an empty signature, the
/// shape of an unsecured JWS.
fn unsecured(alg: Option<Value>) -> String {
    let mut header = json!({"typ": "JWT"});
    if let Some(alg) = alg {
        header["alg"] = alg;
    }
    format!("{}.", signing_input(&header, &claims()))
}

#[test]
fn parse_refuses_none_in_every_spelling() {
    let mut cases = Cases::new("algorithm/none spellings");
    let unknown = |name: &str| Err(JoseError::UnknownAlgorithm(name.to_owned()));
    let table = [
        ("none", json!("none"), Err(JoseError::AlgorithmNotAllowed)),
        ("None", json!("None"), Err(JoseError::AlgorithmNotAllowed)),
        ("NONE", json!("NONE"), Err(JoseError::AlgorithmNotAllowed)),
        ("nOnE", json!("nOnE"), Err(JoseError::AlgorithmNotAllowed)),
        ("leading space", json!(" none"), unknown(" none")),
        ("trailing space", json!("none "), unknown("none ")),
        ("trailing NUL", json!("none\u{0}"), unknown("none\u{0}")),
        ("leading NUL", json!("\u{0}none"), unknown("\u{0}none")),
        (
            "fullwidth letters",
            json!("\u{ff4e}\u{ff4f}\u{ff4e}\u{ff45}"),
            unknown("\u{ff4e}\u{ff4f}\u{ff4e}\u{ff45}"),
        ),
        ("Cyrillic e", json!("non\u{435}"), unknown("non\u{435}")),
        ("empty alg", json!(""), unknown("")),
        (
            "alg null",
            Value::Null,
            Err(JoseError::Malformed("alg is not a string")),
        ),
        (
            "alg false",
            json!(false),
            Err(JoseError::Malformed("alg is not a string")),
        ),
        (
            "alg 0",
            json!(0),
            Err(JoseError::Malformed("alg is not a string")),
        ),
        (
            "alg [\"none\"]",
            json!(["none"]),
            Err(JoseError::Malformed("alg is not a string")),
        ),
        (
            "alg [\"ES256\"]",
            json!(["ES256"]),
            Err(JoseError::Malformed("alg is not a string")),
        ),
        (
            "alg {}",
            json!({}),
            Err(JoseError::Malformed("alg is not a string")),
        ),
    ];
    for (case, alg, expected) in table {
        cases.expect(case, expected, || parsed(&unsecured(Some(alg))));
    }
    cases.expect(
        "missing alg",
        Err(JoseError::Malformed("header has no alg")),
        || parsed(&unsecured(None)),
    );
    // The same `none` with a real ES256 signature over it still never reaches a key.
    cases.expect(
        "none with a valid ES256 signature",
        Err(JoseError::AlgorithmNotAllowed),
        || {
            let header = json!({"alg": "none", "kid": P256.kid()});
            verified(
                &P256.token_signed_as(Algorithm::Es256, &header, &claims()),
                &P256.verifying_key(),
            )
        },
    );
    cases.finish();
}

#[test]
fn parse_refuses_unknown_and_miscased_algorithm_names() {
    let mut cases = Cases::new("algorithm/unknown names");
    let long = "A".repeat(1000);
    let table = [
        ("es256", "es256"),
        ("Es256", "Es256"),
        ("EDDSA", "EDDSA"),
        ("RFC 9864 Ed25519", "Ed25519"),
        ("Ed448", "Ed448"),
        ("ES256K", "ES256K"),
        ("ML-DSA-44", "ML-DSA-44"),
        ("RS1", "RS1"),
        ("RSA-OAEP (a JWE alg)", "RSA-OAEP"),
        ("dir", "dir"),
        ("lowercase hs256", "hs256"),
        ("ES256 with trailing space", "ES256 "),
        ("ES256 with trailing NUL", "ES256\u{0}"),
    ];
    for (case, name) in table {
        cases.expect(
            case,
            Err(JoseError::UnknownAlgorithm(name.to_owned())),
            || parsed(&unsecured(Some(json!(name)))),
        );
    }
    cases.expect(
        "1000-character name is cut to 32 in the error",
        Err(JoseError::UnknownAlgorithm(long[..32].to_owned())),
        || parsed(&unsecured(Some(json!(long)))),
    );
    cases.expect(
        "HS1 counts as HMAC",
        Err(JoseError::AlgorithmNotAllowed),
        || parsed(&unsecured(Some(json!("HS1")))),
    );
    cases.finish();
}

/// Every encoding of `key`'s public half an HMAC-confusion attacker might try as the secret.
fn public_key_encodings(key: &TestKey) -> Vec<(String, Vec<u8>)> {
    let der = key.spki_der();
    let mut pem = String::from("-----BEGIN PUBLIC KEY-----\n");
    for line in STANDARD.encode(&der).as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END PUBLIC KEY-----\n");
    let jwk = key.signing.public_jwk();
    let mut bare = jwk.clone();
    bare.kid = None;
    bare.alg = None;
    bare.use_ = None;
    let raw = key.raw_public_key();
    let mut encodings = vec![
        ("PEM SPKI".to_owned(), pem.clone().into_bytes()),
        (
            "PEM SPKI without final newline".to_owned(),
            pem.trim_end().as_bytes().to_vec(),
        ),
        ("DER SPKI".to_owned(), der.clone()),
        (
            "base64 of DER SPKI".to_owned(),
            STANDARD.encode(&der).into_bytes(),
        ),
        (
            "base64url of DER SPKI".to_owned(),
            encode(&der).into_bytes(),
        ),
        ("raw public key".to_owned(), raw.clone()),
        (
            "base64url of raw public key".to_owned(),
            encode(&raw).into_bytes(),
        ),
        (
            "JWK JSON as published".to_owned(),
            serde_json::to_vec(jwk).unwrap(),
        ),
        (
            "JWK JSON without kid/alg/use".to_owned(),
            serde_json::to_vec(&bare).unwrap(),
        ),
        ("kid".to_owned(), key.kid().as_bytes().to_vec()),
    ];
    for (name, member) in [("n", &jwk.n), ("e", &jwk.e), ("x", &jwk.x), ("y", &jwk.y)] {
        if let Some(text) = member {
            encodings.push((format!("{name} bytes"), crate::support::decode(text)));
            encodings.push((
                format!("{name} as base64url text"),
                text.as_bytes().to_vec(),
            ));
        }
    }
    encodings
}

#[test]
fn hmac_tokens_keyed_with_the_public_key_never_verify() {
    let mut cases = Cases::new("algorithm/HMAC with public key");
    let hmacs = [
        ("HS256", hmac::HMAC_SHA256),
        ("HS384", hmac::HMAC_SHA384),
        ("HS512", hmac::HMAC_SHA512),
    ];
    for (family, key) in [("RSA", &*RSA), ("P-256", &*P256), ("Ed25519", &*ED25519)] {
        let pinned = key.verifying_key();
        let unpinned = key.unpinned_verifying_key();
        for (encoding, secret) in public_key_encodings(key) {
            for (name, algorithm) in hmacs {
                let header = json!({"alg": name, "kid": key.kid(), "typ": "JWT"});
                let input = signing_input(&header, &claims());
                let tag = hmac::sign(&hmac::Key::new(algorithm, &secret), input.as_bytes());
                let token = format!("{input}.{}", encode(tag.as_ref()));
                let case = format!("{name} keyed with {family} {encoding}");
                cases.expect(&case, Err(JoseError::AlgorithmNotAllowed), || {
                    verified(&token, &pinned)
                });
                cases.expect(
                    format!("{case}, unpinned key"),
                    Err(JoseError::AlgorithmNotAllowed),
                    || verified(&token, &unpinned),
                );
            }
        }
    }
    cases.finish();
}

#[test]
fn verify_refuses_an_algorithm_that_does_not_fit_the_key() {
    let mut cases = Cases::new("algorithm/alg does not fit key");
    let rsa_pinned_ps256 = {
        let mut jwk = RSA.signing.public_jwk().clone();
        jwk.alg = Some("PS256".into());
        VerifyingKey::from_jwk(&jwk).unwrap()
    };
    // (case, signer, alg in header and signature, verifying key)
    let table: Vec<(&str, &TestKey, Algorithm, VerifyingKey)> = vec![
        (
            "ES256 on a P-384 key",
            &*P256,
            Algorithm::Es256,
            P384.verifying_key(),
        ),
        (
            "ES384 on a P-256 key",
            &*P384,
            Algorithm::Es384,
            P256.verifying_key(),
        ),
        (
            "ES512 on a P-256 key",
            &*P521,
            Algorithm::Es512,
            P256.verifying_key(),
        ),
        (
            "ES256 on a P-521 key",
            &*P256,
            Algorithm::Es256,
            P521.verifying_key(),
        ),
        (
            "ES384 on a P-521 key",
            &*P384,
            Algorithm::Es384,
            P521.verifying_key(),
        ),
        (
            "ES512 on a P-384 key",
            &*P521,
            Algorithm::Es512,
            P384.verifying_key(),
        ),
        (
            "RS256 on a P-256 key",
            &*RSA,
            Algorithm::Rs256,
            P256.verifying_key(),
        ),
        (
            "PS256 on a P-256 key",
            &*RSA,
            Algorithm::Ps256,
            P256.verifying_key(),
        ),
        (
            "EdDSA on a P-256 key",
            &*ED25519,
            Algorithm::EdDsa,
            P256.verifying_key(),
        ),
        (
            "ES256 on an Ed25519 key",
            &*P256,
            Algorithm::Es256,
            ED25519.verifying_key(),
        ),
        (
            "RS256 on an Ed25519 key",
            &*RSA,
            Algorithm::Rs256,
            ED25519.verifying_key(),
        ),
        (
            "EdDSA on an RSA key",
            &*ED25519,
            Algorithm::EdDsa,
            RSA.unpinned_verifying_key(),
        ),
        (
            "ES256 on an RSA key",
            &*P256,
            Algorithm::Es256,
            RSA.unpinned_verifying_key(),
        ),
        (
            "PS256 on an RSA key pinned to RS256",
            &*RSA,
            Algorithm::Ps256,
            RSA.verifying_key(),
        ),
        (
            "RS384 on an RSA key pinned to RS256",
            &*RSA,
            Algorithm::Rs384,
            RSA.verifying_key(),
        ),
        (
            "RS512 on an RSA key pinned to RS256",
            &*RSA,
            Algorithm::Rs512,
            RSA.verifying_key(),
        ),
        (
            "PS384 on an RSA key pinned to RS256",
            &*RSA,
            Algorithm::Ps384,
            RSA.verifying_key(),
        ),
        (
            "PS512 on an RSA key pinned to RS256",
            &*RSA,
            Algorithm::Ps512,
            RSA.verifying_key(),
        ),
        (
            "RS256 on an RSA key pinned to PS256",
            &*RSA,
            Algorithm::Rs256,
            rsa_pinned_ps256.clone(),
        ),
        (
            "PS384 on an RSA key pinned to PS256",
            &*RSA,
            Algorithm::Ps384,
            rsa_pinned_ps256,
        ),
    ];
    for (case, signer, algorithm, key) in table {
        let header = json!({"alg": algorithm.as_str(), "kid": signer.kid()});
        let token = signer.token(&header, &claims());
        cases.expect(case, Err(JoseError::AlgorithmKeyMismatch), || {
            verified(&token, &key)
        });
    }
    cases.finish();
}

#[test]
fn rsa_signatures_verify_only_under_their_own_padding_and_hash() {
    let mut cases = Cases::new("algorithm/RSA padding and hash swaps");
    let unpinned = RSA.unpinned_verifying_key();
    use Algorithm::{Ps256, Ps384, Ps512, Rs256, Rs384, Rs512};
    for algorithm in [Rs256, Rs384, Rs512, Ps256, Ps384, Ps512] {
        let header = json!({"alg": algorithm.as_str()});
        let token = RSA.token(&header, &claims());
        cases.expect(format!("{algorithm} on an unpinned key"), Ok(()), || {
            verified(&token, &unpinned)
        });
    }
    let swaps = [
        (Rs256, Ps256),
        (Ps256, Rs256),
        (Rs384, Rs256),
        (Rs256, Rs512),
        (Ps512, Ps256),
        (Ps384, Rs384),
    ];
    for (header_alg, signed_with) in swaps {
        let header = json!({"alg": header_alg.as_str()});
        let token = RSA.token_signed_as(signed_with, &header, &claims());
        cases.expect(
            format!("header {header_alg}, signed {signed_with}"),
            Err(JoseError::SignatureInvalid),
            || verified(&token, &unpinned),
        );
    }
    // A key Sigil generates for PS256 publishes `alg: PS256` and refuses RS256 with it.
    let pss = TestKey::generate(KeyType::Rsa2048, Ps256);
    let token = pss.token_signed_as(Rs256, &json!({"alg": "RS256"}), &claims());
    cases.expect(
        "RS256 on a Sigil PS256 key",
        Err(JoseError::AlgorithmKeyMismatch),
        || verified(&token, &pss.verifying_key()),
    );
    let token = pss.token(&json!({"alg": "PS256"}), &claims());
    cases.expect("PS256 on a Sigil PS256 key", Ok(()), || {
        verified(&token, &pss.verifying_key())
    });
    cases.finish();
}
