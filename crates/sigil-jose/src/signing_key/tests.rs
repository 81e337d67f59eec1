use aws_lc_rs::signature::Ed25519KeyPair;
use serde_json::{Value, json};

use super::*;
use crate::test_keys;

fn rfc8037_key() -> SigningKey {
    let seed = b64::decode(test_keys::RFC8037_D, "d").unwrap();
    let pkcs8 = Ed25519KeyPair::from_seed_unchecked(&seed)
        .unwrap()
        .to_pkcs8()
        .unwrap();
    SigningKey::from_pkcs8(KeyType::Ed25519, Algorithm::EdDsa, pkcs8.as_ref()).unwrap()
}

fn segment_json(token: &str, index: usize) -> Value {
    let segment = token.split('.').nth(index).unwrap();
    serde_json::from_slice(&b64::decode(segment, "segment").unwrap()).unwrap()
}

#[test]
fn ed25519_signature_reproduces_rfc8037_a4() {
    let key = rfc8037_key();
    let (signing_input, signature) = test_keys::RFC8037_JWS.rsplit_once('.').unwrap();
    let signed = key.sign_raw(signing_input.as_bytes()).unwrap();
    assert_eq!(b64::encode(&signed), signature);
}

#[test]
fn ed25519_key_has_rfc8037_public_jwk_and_kid() {
    let key = rfc8037_key();
    assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    let jwk = key.public_jwk();
    assert_eq!(jwk.x.as_deref(), Some(test_keys::RFC8037_X));
    assert_eq!(
        serde_json::to_value(jwk).unwrap(),
        json!({
            "kty": "OKP", "crv": "Ed25519", "x": test_keys::RFC8037_X,
            "kid": "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k", "alg": "EdDSA", "use": "sig"
        })
    );
}

#[test]
fn sign_compact_writes_alg_kid_typ_header_and_the_payload() {
    let (key, _) = SigningKey::generate(KeyType::EcdsaP256, Algorithm::Es256).unwrap();
    let token = key.sign_compact(br#"{"sub":"a"}"#).unwrap();
    let header_segment = token.split('.').next().unwrap();
    let header_bytes = b64::decode(header_segment, "header").unwrap();
    assert_eq!(
        String::from_utf8(header_bytes).unwrap(),
        format!(r#"{{"alg":"ES256","kid":"{}","typ":"JWT"}}"#, key.kid())
    );
    assert_eq!(segment_json(&token, 1), json!({"sub": "a"}));
}

#[test]
fn sign_compact_typed_sets_the_typ() {
    let key = rfc8037_key();
    let token = key.sign_compact_typed("at+jwt", b"{}").unwrap();
    assert_eq!(
        segment_json(&token, 0),
        json!({"alg": "EdDSA", "kid": key.kid(), "typ": "at+jwt"})
    );
    assert_eq!(
        key.sign_compact_typed("JWT", b"{}").unwrap(),
        key.sign_compact(b"{}").unwrap()
    );
}

#[test]
fn ecdsa_signatures_are_fixed_width() {
    for (key_type, width) in [
        (KeyType::EcdsaP256, 64),
        (KeyType::EcdsaP384, 96),
        (KeyType::EcdsaP521, 132),
    ] {
        let (key, _) = SigningKey::generate(key_type, key_type.default_algorithm()).unwrap();
        for _ in 0..8 {
            assert_eq!(key.sign_raw(b"input").unwrap().len(), width, "{key_type}");
        }
    }
}

#[test]
fn generate_refuses_an_algorithm_the_key_type_does_not_allow() {
    for (key_type, algorithm) in [
        (KeyType::EcdsaP256, Algorithm::Es384),
        (KeyType::Rsa2048, Algorithm::Rs512),
        (KeyType::Rsa2048, Algorithm::EdDsa),
        (KeyType::Ed25519, Algorithm::Es256),
    ] {
        assert_eq!(
            SigningKey::generate(key_type, algorithm).map(|_| ()),
            Err(JoseError::AlgorithmKeyMismatch)
        );
    }
}

#[test]
fn from_pkcs8_refuses_a_key_of_another_type() {
    let (_, p256) = SigningKey::generate(KeyType::EcdsaP256, Algorithm::Es256).unwrap();
    let as_p384 = SigningKey::from_pkcs8(KeyType::EcdsaP384, Algorithm::Es384, p256.expose());
    assert!(matches!(as_p384, Err(JoseError::KeyRejected(_))));
    let as_ed25519 = SigningKey::from_pkcs8(KeyType::Ed25519, Algorithm::EdDsa, p256.expose());
    assert!(matches!(as_ed25519, Err(JoseError::KeyRejected(_))));

    let (_, rsa) = SigningKey::generate(KeyType::Rsa2048, Algorithm::Rs256).unwrap();
    let as_3072 = SigningKey::from_pkcs8(KeyType::Rsa3072, Algorithm::Rs256, rsa.expose());
    assert_eq!(
        as_3072.map(|_| ()),
        Err(JoseError::KeyRejected(
            "RSA modulus of 2048 bits does not match rsa-3072".into()
        ))
    );
    let garbage = SigningKey::from_pkcs8(KeyType::EcdsaP256, Algorithm::Es256, b"not der");
    assert!(matches!(garbage, Err(JoseError::KeyRejected(_))));
}

#[test]
fn debug_shows_identity_but_no_key_material() {
    let key = rfc8037_key();
    assert_eq!(
        format!("{key:?}"),
        "SigningKey { kid: \"kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k\", \
         algorithm: EdDsa, key_type: Ed25519, .. }"
    );
}

#[test]
fn signing_keys_can_be_shared_across_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SigningKey>();
    assert_send_sync::<VerifyingKey>();
}
