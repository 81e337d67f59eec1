//! JWK and JWKS parsing (`Jwk::from_json`, `JwkSet::from_json`), RFC 7638 thumbprints and
//! strict verifying-key import. The input is a JWKS document, or a single JWK.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use sigil_jose::{Jwk, JwkSet, VerifyingKey};

fuzz_target!(|data: &[u8]| {
    if let Ok(set) = JwkSet::from_json(data) {
        assert!(
            serde_json::from_slice::<Value>(data).is_ok(),
            "the strict parser accepted what serde_json refuses"
        );
        for key in &set.keys {
            check_key(key);
            if let Some(kid) = &key.kid {
                assert!(set.find(kid).is_some_and(|found| found.kid == key.kid));
            }
        }
        round_trips(&set);
    }
    if let Ok(key) = Jwk::from_json(data) {
        check_key(&key);
    }
});

fn check_key(key: &Jwk) {
    let thumbprint = key.thumbprint();
    if let Ok(thumbprint) = &thumbprint {
        // SHA-256, unpadded base64url.
        assert_eq!(thumbprint.len(), 43);
        assert!(
            thumbprint
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        let mut renamed = key.clone();
        renamed.kid = Some("another".to_owned());
        renamed.alg = None;
        renamed.use_ = None;
        assert_eq!(renamed.thumbprint().as_ref(), Ok(thumbprint));
    }
    let Ok(verifying) = VerifyingKey::from_jwk(key) else {
        return;
    };
    assert!(!key.has_private_members(), "a private JWK was accepted");
    assert!(matches!(key.kty.as_str(), "EC" | "RSA" | "OKP"));
    assert!(key.use_.as_deref().is_none_or(|usage| usage == "sig"));
    assert!(
        key.key_ops
            .as_ref()
            .is_none_or(|ops| ops.iter().any(|op| op == "verify"))
    );
    assert!(thumbprint.is_ok(), "a usable key has a thumbprint");
    let algorithms: Vec<_> = verifying.algorithms().collect();
    assert!(!algorithms.is_empty());
    if let Some(pinned) = &key.alg {
        assert_eq!(algorithms.len(), 1);
        assert_eq!(algorithms[0].as_str(), pinned);
    }
    for algorithm in &algorithms {
        assert!(verifying.allows(*algorithm));
        // Garbage never verifies.
        assert!(verifying.verify(*algorithm, b"e30.e30", &[0; 64]).is_err());
    }
}

/// Serialising drops private members only; reading the result back gives the same public keys
/// and the same thumbprints.
fn round_trips(set: &JwkSet) {
    let text = serde_json::to_vec(set).expect("a JWKS serialises");
    let again = JwkSet::from_json(&text).expect("a serialised JWKS parses");
    assert_eq!(again.keys.len(), set.keys.len());
    for (before, after) in set.keys.iter().zip(&again.keys) {
        assert!(!after.has_private_members());
        let mut public = before.clone();
        for member in [
            &mut public.d,
            &mut public.p,
            &mut public.q,
            &mut public.dp,
            &mut public.dq,
            &mut public.qi,
            &mut public.oth,
            &mut public.k,
        ] {
            *member = None;
        }
        assert_eq!(&public, after);
        assert_eq!(before.thumbprint().ok(), after.thumbprint().ok());
    }
}
