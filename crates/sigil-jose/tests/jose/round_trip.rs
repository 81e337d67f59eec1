//! Every key type end to end: generate, sign, parse, verify, reload from PKCS#8, and the
//! tamperings that must fail.

use serde_json::{Value, json};
use sigil_jose::{Algorithm, JoseError, KeyType, SigningKey, UnverifiedToken, VerifyingKey};

use crate::support::{
    MAX_TOKEN, claims, segments, with_flipped_signature_bit, with_header, with_payload,
};

fn verify(token: &str, key: &VerifyingKey) -> Result<Value, JoseError> {
    let parsed = UnverifiedToken::parse(token, MAX_TOKEN)?;
    parsed
        .verify(key)
        .map(|verified| Value::Object(verified.into_claims()))
}

/// An algorithm the key must refuse.
fn foreign_algorithm(algorithm: Algorithm) -> Algorithm {
    match algorithm {
        Algorithm::Es256 => Algorithm::Es384,
        Algorithm::Rs256 => Algorithm::Ps256,
        _ => Algorithm::Es256,
    }
}

fn round_trip(key_type: KeyType, algorithm: Algorithm) {
    let (key, der) = SigningKey::generate(key_type, algorithm).unwrap();
    assert_eq!(key.key_type(), key_type);
    assert_eq!(key.algorithm(), algorithm);
    let claims = claims();
    let token = key
        .sign_compact(&serde_json::to_vec(&claims).unwrap())
        .unwrap();

    let public_jwk = key.public_jwk();
    assert_eq!(public_jwk.kid.as_deref(), Some(key.kid()));
    assert_eq!(public_jwk.alg.as_deref(), Some(algorithm.as_str()));
    assert_eq!(public_jwk.use_.as_deref(), Some("sig"));
    assert!(!public_jwk.has_private_members());
    assert_eq!(public_jwk.thumbprint().unwrap(), key.kid());

    let verifying = VerifyingKey::from_jwk(public_jwk).unwrap();
    let parsed = UnverifiedToken::parse(&token, MAX_TOKEN).unwrap();
    assert_eq!(parsed.unverified_kid(), Some(key.kid()));
    assert_eq!(parsed.algorithm(), algorithm);
    assert_eq!(parsed.header().typ.as_deref(), Some("JWT"));
    assert_eq!(verify(&token, &verifying).unwrap(), claims);
    assert_eq!(verify(&token, &key.verifying_key()).unwrap(), claims);

    let reloaded = SigningKey::from_pkcs8(key_type, algorithm, der.expose()).unwrap();
    assert_eq!(reloaded.kid(), key.kid());
    assert_eq!(reloaded.public_jwk(), key.public_jwk());
    let reloaded_token = reloaded.sign_compact(b"{\"sub\":\"again\"}").unwrap();
    assert_eq!(
        verify(&reloaded_token, &verifying).unwrap(),
        json!({"sub": "again"})
    );

    let forged_claims = json!({"sub": "root", "exp": claims["exp"]});
    assert_eq!(
        verify(&with_payload(&token, &forged_claims), &verifying),
        Err(JoseError::SignatureInvalid)
    );
    for byte in [0, 17, segments(&token)[2].len() * 3 / 4 - 1] {
        assert_eq!(
            verify(&with_flipped_signature_bit(&token, byte), &verifying),
            Err(JoseError::SignatureInvalid),
            "{key_type}: flipped signature byte {byte}"
        );
    }
    let retyped = with_header(&token, |header| header["typ"] = json!("at+jwt"));
    assert_eq!(
        verify(&retyped, &verifying),
        Err(JoseError::SignatureInvalid)
    );
    let foreign = foreign_algorithm(algorithm);
    let realg = with_header(&token, |header| header["alg"] = json!(foreign.as_str()));
    assert_eq!(
        verify(&realg, &verifying),
        Err(JoseError::AlgorithmKeyMismatch)
    );

    let (stranger, _) = SigningKey::generate(key_type, algorithm).unwrap();
    assert_ne!(stranger.kid(), key.kid());
    assert_eq!(
        verify(&token, &stranger.verifying_key()),
        Err(JoseError::SignatureInvalid)
    );
}

#[test]
fn ecdsa_p256_round_trips() {
    round_trip(KeyType::EcdsaP256, Algorithm::Es256);
}

#[test]
fn ecdsa_p384_round_trips() {
    round_trip(KeyType::EcdsaP384, Algorithm::Es384);
}

#[test]
fn ecdsa_p521_round_trips() {
    round_trip(KeyType::EcdsaP521, Algorithm::Es512);
}

#[test]
fn rsa_2048_round_trips_with_rs256_and_ps256() {
    round_trip(KeyType::Rsa2048, Algorithm::Rs256);
    round_trip(KeyType::Rsa2048, Algorithm::Ps256);
}

#[test]
fn rsa_3072_round_trips() {
    round_trip(KeyType::Rsa3072, Algorithm::Rs256);
}

#[test]
fn rsa_4096_round_trips() {
    round_trip(KeyType::Rsa4096, Algorithm::Ps256);
}

#[test]
fn ed25519_round_trips() {
    round_trip(KeyType::Ed25519, Algorithm::EdDsa);
}

#[test]
fn rsa_key_without_pinned_alg_refuses_a_substituted_hash() {
    let (key, _) = SigningKey::generate(KeyType::Rsa2048, Algorithm::Rs256).unwrap();
    let mut jwk = key.public_jwk().clone();
    jwk.alg = None;
    let unpinned = VerifyingKey::from_jwk(&jwk).unwrap();
    assert!(unpinned.allows(Algorithm::Rs384));
    let token = key.sign_compact(b"{}").unwrap();
    assert!(verify(&token, &unpinned).is_ok());
    for substitute in ["RS384", "RS512", "PS256"] {
        let swapped = with_header(&token, |header| header["alg"] = json!(substitute));
        assert_eq!(
            verify(&swapped, &unpinned),
            Err(JoseError::SignatureInvalid)
        );
    }
}

#[test]
fn typed_tokens_carry_at_jwt_and_verify() {
    let (key, _) = SigningKey::generate(KeyType::EcdsaP256, Algorithm::Es256).unwrap();
    let token = key
        .sign_compact_typed("at+jwt", b"{\"sub\":\"a\"}")
        .unwrap();
    let parsed = UnverifiedToken::parse(&token, MAX_TOKEN).unwrap();
    assert_eq!(parsed.header().typ.as_deref(), Some("at+jwt"));
    assert!(parsed.verify(&key.verifying_key()).is_ok());
}

#[test]
fn generated_keys_are_distinct() {
    for key_type in [KeyType::EcdsaP256, KeyType::Ed25519] {
        let (first, first_der) =
            SigningKey::generate(key_type, key_type.default_algorithm()).unwrap();
        let (second, second_der) =
            SigningKey::generate(key_type, key_type.default_algorithm()).unwrap();
        assert_ne!(first.kid(), second.kid());
        assert_ne!(first_der.expose(), second_der.expose());
        assert_eq!(format!("{first_der:?}"), "[redacted]");
    }
}
