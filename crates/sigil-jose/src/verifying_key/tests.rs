use super::*;
use crate::{UnverifiedToken, test_keys};

fn jwk(text: &str) -> Jwk {
    Jwk::from_json(text.as_bytes()).unwrap()
}

fn a3_jwk() -> Jwk {
    jwk(test_keys::RFC7515_A3_JWK)
}

fn rsa_jwk_with_modulus_bytes(modulus: &[u8]) -> Jwk {
    let mut rsa = Jwk::new("RSA");
    rsa.n = Some(b64::encode(modulus));
    rsa.e = Some("AQAB".into());
    rsa
}

#[test]
fn verifies_rfc7515_a3_es256() {
    let key = VerifyingKey::from_jwk(&a3_jwk()).unwrap();
    let token = UnverifiedToken::parse(test_keys::RFC7515_A3_JWS, 8192).unwrap();
    let verified = token.verify(&key).unwrap();
    assert_eq!(verified.claims()["iss"], "joe");
    assert_eq!(verified.claims()["exp"], 1_300_819_380);
    assert_eq!(key.algorithms().collect::<Vec<_>>(), [Algorithm::Es256]);
}

#[test]
fn verifies_rfc7515_a2_rs256_with_a_2048_bit_key() {
    let key = VerifyingKey::from_jwk(&jwk(test_keys::RFC7515_A2_JWK)).unwrap();
    let modulus = b64::decode(key.jwk().n.as_deref().unwrap(), "n").unwrap();
    assert_eq!(modulus.len() * 8, 2048);
    assert_eq!(key.algorithms().count(), 6);
    let token = UnverifiedToken::parse(test_keys::RFC7515_A2_JWS, 8192).unwrap();
    assert_eq!(token.verify(&key).unwrap().claims()["iss"], "joe");
}

#[test]
fn verifies_rfc8037_a5_ed25519() {
    let mut okp = Jwk::new("OKP");
    okp.crv = Some("Ed25519".into());
    okp.x = Some(test_keys::RFC8037_X.into());
    let key = VerifyingKey::from_jwk(&okp).unwrap();
    let (signing_input, signature) = test_keys::RFC8037_JWS.rsplit_once('.').unwrap();
    let signature = b64::decode(signature, "sig").unwrap();
    assert_eq!(
        key.verify(Algorithm::EdDsa, signing_input.as_bytes(), &signature),
        Ok(())
    );
    assert_eq!(
        key.verify(Algorithm::EdDsa, b"other input", &signature),
        Err(JoseError::SignatureInvalid)
    );
}

#[test]
fn verify_refuses_an_algorithm_the_key_does_not_allow() {
    let key = VerifyingKey::from_jwk(&a3_jwk()).unwrap();
    assert!(!key.allows(Algorithm::Es384));
    assert_eq!(
        key.verify(Algorithm::Es384, b"x", &[0; 96]),
        Err(JoseError::AlgorithmKeyMismatch)
    );
    assert_eq!(
        key.verify(Algorithm::Es256, b"x", &[1; 64]),
        Err(JoseError::SignatureInvalid)
    );
}

#[test]
fn pinned_alg_becomes_the_only_algorithm() {
    let mut rsa = jwk(test_keys::RFC7515_A2_JWK);
    rsa.alg = Some("PS256".into());
    let key = VerifyingKey::from_jwk(&rsa).unwrap();
    assert_eq!(key.algorithms().collect::<Vec<_>>(), [Algorithm::Ps256]);
    let token = UnverifiedToken::parse(test_keys::RFC7515_A2_JWS, 8192).unwrap();
    assert_eq!(token.verify(&key), Err(JoseError::AlgorithmKeyMismatch));
}

#[test]
fn pinned_alg_must_fit_the_key() {
    let mut ec = a3_jwk();
    ec.alg = Some("ES384".into());
    assert_eq!(
        VerifyingKey::from_jwk(&ec).map(|_| ()),
        Err(JoseError::AlgorithmKeyMismatch)
    );
    let mut rsa = jwk(test_keys::RFC7515_A2_JWK);
    rsa.alg = Some("HS256".into());
    assert_eq!(
        VerifyingKey::from_jwk(&rsa).map(|_| ()),
        Err(JoseError::AlgorithmNotAllowed)
    );
}

#[test]
fn refuses_private_member_d() {
    let mut ec = a3_jwk();
    ec.d = Some("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI".into());
    assert_eq!(
        VerifyingKey::from_jwk(&ec).map(|_| ()),
        Err(JoseError::PrivateMembersPresent)
    );
}

#[test]
fn refuses_oct_keys() {
    let oct = Jwk::new("oct");
    assert!(matches!(
        VerifyingKey::from_jwk(&oct),
        Err(JoseError::UnsupportedKey(_))
    ));
}

#[test]
fn refuses_rsa_1024() {
    let mut modulus = vec![0xd5; 128];
    modulus[127] |= 1;
    assert_eq!(
        VerifyingKey::from_jwk(&rsa_jwk_with_modulus_bytes(&modulus)).map(|_| ()),
        Err(JoseError::WeakRsaKey { bits: 1024 })
    );
}

#[test]
fn refuses_rsa_exponent_that_is_one_even_or_huge() {
    // 1, 65536 and 2^40 + 1.
    for exponent in ["AQ", "AQAA", "AQAAAAAB"] {
        let mut rsa = jwk(test_keys::RFC7515_A2_JWK);
        rsa.e = Some(exponent.into());
        let result = VerifyingKey::from_jwk(&rsa);
        assert!(
            matches!(result, Err(JoseError::KeyRejected(_))),
            "{exponent}"
        );
    }
    let mut rsa = jwk(test_keys::RFC7515_A2_JWK);
    rsa.e = Some("Aw".into());
    assert!(VerifyingKey::from_jwk(&rsa).is_ok());
}

#[test]
fn accepts_rsa_modulus_with_a_leading_zero_byte() {
    let original = jwk(test_keys::RFC7515_A2_JWK);
    let mut modulus = vec![0];
    modulus.extend(b64::decode(original.n.as_deref().unwrap(), "n").unwrap());
    let mut padded = original.clone();
    padded.n = Some(b64::encode(&modulus));
    let key = VerifyingKey::from_jwk(&padded).unwrap();
    let token = UnverifiedToken::parse(test_keys::RFC7515_A2_JWS, 8192).unwrap();
    assert!(token.verify(&key).is_ok());
}

#[test]
fn refuses_use_enc_and_key_ops_without_verify() {
    let mut ec = a3_jwk();
    ec.use_ = Some("enc".into());
    assert_eq!(
        VerifyingKey::from_jwk(&ec).map(|_| ()),
        Err(JoseError::KeyNotForSignatures("use is not \"sig\""))
    );
    let mut ec = a3_jwk();
    ec.key_ops = Some(vec!["encrypt".into()]);
    assert_eq!(
        VerifyingKey::from_jwk(&ec).map(|_| ()),
        Err(JoseError::KeyNotForSignatures("key_ops lacks \"verify\""))
    );
    ec.key_ops = Some(vec!["verify".into()]);
    ec.use_ = Some("sig".into());
    assert!(VerifyingKey::from_jwk(&ec).is_ok());
}

#[test]
fn refuses_ec_point_off_the_curve() {
    let mut ec = a3_jwk();
    let mut y = b64::decode(ec.y.as_deref().unwrap(), "y").unwrap();
    y[31] ^= 1;
    ec.y = Some(b64::encode(&y));
    assert_eq!(
        VerifyingKey::from_jwk(&ec).map(|_| ()),
        Err(JoseError::KeyRejected(
            "EC point is not on the curve".into()
        ))
    );
}

#[test]
fn refuses_ec_coordinate_of_wrong_length() {
    let mut ec = a3_jwk();
    let x = b64::decode(ec.x.as_deref().unwrap(), "x").unwrap();
    ec.x = Some(b64::encode(&x[1..]));
    assert_eq!(
        VerifyingKey::from_jwk(&ec).map(|_| ()),
        Err(JoseError::Malformed(
            "EC JWK coordinate has the wrong length"
        ))
    );
}

#[test]
fn refuses_unknown_curves_and_short_ed25519_keys() {
    let mut ec = a3_jwk();
    ec.crv = Some("secp256k1".into());
    assert!(matches!(
        VerifyingKey::from_jwk(&ec),
        Err(JoseError::UnsupportedKey(_))
    ));
    let mut okp = Jwk::new("OKP");
    okp.crv = Some("X25519".into());
    okp.x = Some(test_keys::RFC8037_X.into());
    assert!(matches!(
        VerifyingKey::from_jwk(&okp),
        Err(JoseError::UnsupportedKey(_))
    ));
    okp.crv = Some("Ed25519".into());
    okp.x = Some(b64::encode(&[9; 31]));
    assert_eq!(
        VerifyingKey::from_jwk(&okp).map(|_| ()),
        Err(JoseError::Malformed("Ed25519 JWK x is not 32 bytes"))
    );
}
