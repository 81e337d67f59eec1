//! Key ingestion, JWK Sets: structural faults in one key refuse the whole `JwkSet`; keys that
//! parse but cannot verify fail one by one in `VerifyingKey::from_jwk`.

use serde_json::{Value, json};
use sigil_jose::{JoseError, JwkSet, VerifyingKey};

use super::{modulus, public};
use crate::attacks::{Cases, ED25519, P256, P384, P521, RSA};
use crate::support::{decode, encode};

#[test]
fn jwks_with_one_structurally_bad_key_is_refused_whole() {
    let mut cases = Cases::new("keys/JWKS refused whole");
    let good = serde_json::to_string(P256.signing.public_jwk()).unwrap();
    let other = serde_json::to_string(ED25519.signing.public_jwk()).unwrap();
    let invalid = Err(JoseError::Malformed("JWKS has invalid members"));
    let table = [
        (
            "one key with kid a number",
            format!(r#"{{"keys":[{good},{{"kty":"EC","kid":5}},{other}]}}"#),
            invalid.clone(),
        ),
        (
            "one key without kty",
            format!(r#"{{"keys":[{good},{{"crv":"P-256"}},{other}]}}"#),
            invalid.clone(),
        ),
        (
            "one key with key_ops a string",
            format!(r#"{{"keys":[{good},{{"kty":"RSA","key_ops":"verify"}},{other}]}}"#),
            invalid.clone(),
        ),
        (
            "one entry a number",
            format!(r#"{{"keys":[{good},42,{other}]}}"#),
            invalid.clone(),
        ),
        (
            "one entry null",
            format!(r#"{{"keys":[{good},null,{other}]}}"#),
            invalid.clone(),
        ),
        (
            "one key with a duplicate member",
            format!(
                r#"{{"keys":[{good},{{"kty":"RSA","n":"AQAB","n":"AQAB","e":"AQAB"}},{other}]}}"#
            ),
            Err(JoseError::DuplicateMember("n".into())),
        ),
        (
            "keys twice",
            format!(r#"{{"keys":[{good}],"keys":[{other}]}}"#),
            Err(JoseError::DuplicateMember("keys".into())),
        ),
        (
            "keys not an array",
            format!(r#"{{"keys":{good}}}"#),
            invalid.clone(),
        ),
        ("no keys member", r#"{"kty":"EC"}"#.to_owned(), invalid),
        (
            "not JSON",
            "{".to_owned(),
            Err(JoseError::Malformed("JWKS is not a JSON object")),
        ),
    ];
    for (case, text, expected) in table {
        cases.expect(case, expected, || {
            JwkSet::from_json(text.as_bytes()).map(|_| ())
        });
    }
    cases.finish();
}

#[test]
fn jwks_with_unusable_keys_parses_and_each_key_imports_or_fails_alone() {
    let mut cases = Cases::new("keys/JWKS key by key");
    let x = encode(&[9; 32]);
    let mut enc = public(&P384);
    enc["use"] = json!("enc");
    let mut off_curve = public(&P521);
    let mut y = decode(off_curve["y"].as_str().unwrap());
    y[65] ^= 1;
    off_curve["y"] = json!(encode(&y));
    let entries: Vec<(&str, Value, Result<(), JoseError>)> = vec![
        (
            "P-256 as Sigil publishes it",
            serde_json::to_value(P256.signing.public_jwk()).unwrap(),
            Ok(()),
        ),
        (
            "oct with k",
            json!({"kty": "oct", "k": "c2VjcmV0"}),
            Err(JoseError::PrivateMembersPresent),
        ),
        (
            "OKP X25519",
            json!({"kty": "OKP", "crv": "X25519", "x": x}),
            Err(JoseError::UnsupportedKey("OKP curve \"X25519\"".into())),
        ),
        (
            "RSA-1024",
            json!({"kty": "RSA", "n": modulus(128, 0xc1), "e": "AQAB"}),
            Err(JoseError::WeakRsaKey { bits: 1024 }),
        ),
        (
            "P-384 with use enc",
            enc,
            Err(JoseError::KeyNotForSignatures("use is not \"sig\"")),
        ),
        (
            "EC secp256k1",
            json!({"kty": "EC", "crv": "secp256k1", "x": x, "y": x}),
            Err(JoseError::UnsupportedKey("EC curve \"secp256k1\"".into())),
        ),
        (
            "P-521 off the curve",
            off_curve,
            Err(JoseError::KeyRejected(
                "EC point is not on the curve".into(),
            )),
        ),
        (
            "AKP ML-DSA-44",
            json!({"kty": "AKP", "alg": "ML-DSA-44", "pub": x}),
            Err(JoseError::UnknownAlgorithm("ML-DSA-44".into())),
        ),
        ("RSA without alg", public(&RSA), Ok(())),
        (
            "Ed25519 as Sigil publishes it",
            serde_json::to_value(ED25519.signing.public_jwk()).unwrap(),
            Ok(()),
        ),
    ];
    let document =
        json!({"keys": entries.iter().map(|(_, jwk, _)| jwk.clone()).collect::<Vec<_>>()});
    let set = JwkSet::from_json(document.to_string().as_bytes()).unwrap();
    assert_eq!(set.keys.len(), entries.len());
    for ((case, _, expected), jwk) in entries.into_iter().zip(&set.keys) {
        cases.expect(case, expected, || VerifyingKey::from_jwk(jwk).map(|_| ()));
    }
    cases.finish();
}
