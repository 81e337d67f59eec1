//! Interoperability with the `jsonwebtoken` crate: it verifies what Sigil signs, and Sigil
//! verifies what it signs, for ES256, ES384, RS256, PS256 and EdDSA.

use jsonwebtoken::{DecodingKey, EncodingKey, Header, Validation};
use serde_json::Value;
use sigil_jose::{Algorithm, KeyType, SigningKey, UnverifiedToken, VerifyingKey};

use crate::support::{MAX_TOKEN, claims, pkcs1_from_pkcs8};

const CASES: [(KeyType, Algorithm, jsonwebtoken::Algorithm); 5] = [
    (
        KeyType::EcdsaP256,
        Algorithm::Es256,
        jsonwebtoken::Algorithm::ES256,
    ),
    (
        KeyType::EcdsaP384,
        Algorithm::Es384,
        jsonwebtoken::Algorithm::ES384,
    ),
    (
        KeyType::Rsa2048,
        Algorithm::Rs256,
        jsonwebtoken::Algorithm::RS256,
    ),
    (
        KeyType::Rsa2048,
        Algorithm::Ps256,
        jsonwebtoken::Algorithm::PS256,
    ),
    (
        KeyType::Ed25519,
        Algorithm::EdDsa,
        jsonwebtoken::Algorithm::EdDSA,
    ),
];

/// A `jsonwebtoken` decoding key built from the public JWK's components.
fn decoding_key(key: &SigningKey) -> DecodingKey {
    let jwk = key.public_jwk();
    let member = |value: &Option<String>| value.clone().unwrap();
    match key.key_type() {
        KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521 => {
            DecodingKey::from_ec_components(&member(&jwk.x), &member(&jwk.y)).unwrap()
        }
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
            DecodingKey::from_rsa_components(&member(&jwk.n), &member(&jwk.e)).unwrap()
        }
        KeyType::Ed25519 => DecodingKey::from_ed_components(&member(&jwk.x)).unwrap(),
    }
}

/// A `jsonwebtoken` encoding key for the same private key.
fn encoding_key(key_type: KeyType, pkcs8: &[u8]) -> EncodingKey {
    match key_type {
        KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521 => {
            EncodingKey::from_ec_der(pkcs8)
        }
        KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
            EncodingKey::from_rsa_der(&pkcs1_from_pkcs8(pkcs8))
        }
        KeyType::Ed25519 => EncodingKey::from_ed_der(pkcs8),
    }
}

#[test]
fn jsonwebtoken_verifies_tokens_sigil_signs() {
    for (key_type, algorithm, theirs) in CASES {
        let (key, _) = SigningKey::generate(key_type, algorithm).unwrap();
        let claims = claims();
        let token = key
            .sign_compact(&serde_json::to_vec(&claims).unwrap())
            .unwrap();

        let decoded =
            jsonwebtoken::decode::<Value>(&token, &decoding_key(&key), &Validation::new(theirs))
                .unwrap_or_else(|error| panic!("{algorithm}: jsonwebtoken refused: {error}"));
        assert_eq!(decoded.claims, claims, "{algorithm}");
        assert_eq!(decoded.header.kid.as_deref(), Some(key.kid()));
        assert_eq!(decoded.header.alg, theirs);

        let (stranger, _) = SigningKey::generate(key_type, algorithm).unwrap();
        let refused = jsonwebtoken::decode::<Value>(
            &token,
            &decoding_key(&stranger),
            &Validation::new(theirs),
        );
        assert!(refused.is_err(), "{algorithm}: a stranger's key verified");
    }
}

#[test]
fn sigil_verifies_tokens_jsonwebtoken_signs() {
    for (key_type, algorithm, theirs) in CASES {
        let (key, pkcs8) = SigningKey::generate(key_type, algorithm).unwrap();
        let mut header = Header::new(theirs);
        header.kid = Some(key.kid().to_owned());
        let claims = claims();
        let token = jsonwebtoken::encode(&header, &claims, &encoding_key(key_type, pkcs8.expose()))
            .unwrap();

        let verifying = VerifyingKey::from_jwk(key.public_jwk()).unwrap();
        let parsed = UnverifiedToken::parse(&token, MAX_TOKEN).unwrap();
        assert_eq!(parsed.algorithm(), algorithm);
        assert_eq!(parsed.unverified_kid(), Some(key.kid()));
        let verified = parsed
            .verify(&verifying)
            .unwrap_or_else(|error| panic!("{algorithm}: sigil refused: {error}"));
        assert_eq!(Value::Object(verified.into_claims()), claims, "{algorithm}");
    }
}
