//! Key ingestion, curve points: EC coordinates off the curve or of the wrong width, and
//! Ed25519 keys that are not points or are of small order.

use serde_json::json;
use sigil_jose::{Algorithm, JoseError, Jwk, VerifyingKey};

use super::{edited, import_value, public};
use crate::attacks::{Cases, ED25519, P256, P384, P521, hex, signing_input};
use crate::support::{decode, encode};

#[test]
fn points_off_the_curve_or_of_the_wrong_width_never_import() {
    let mut cases = Cases::new("keys/EC and OKP points");
    let off_curve = Err(JoseError::KeyRejected(
        "EC point is not on the curve".into(),
    ));
    let wrong_length = Err(JoseError::Malformed(
        "EC JWK coordinate has the wrong length",
    ));
    let p256_prime = hex("ffffffff00000001000000000000000000000000ffffffffffffffffffffffff");
    for (curve, key) in [("P-256", &*P256), ("P-384", &*P384), ("P-521", &*P521)] {
        let jwk = public(key);
        let x = decode(jwk["x"].as_str().unwrap());
        let y = decode(jwk["y"].as_str().unwrap());
        let width = x.len();
        let mut y_plus_one = y.clone();
        y_plus_one[width - 1] ^= 1;
        let table = [
            (
                "y with its low bit flipped",
                json!({"y": encode(&y_plus_one)}),
                off_curve.clone(),
            ),
            (
                "x and y swapped",
                json!({"x": encode(&y), "y": encode(&x)}),
                off_curve.clone(),
            ),
            (
                "both coordinates zero (infinity)",
                json!({"x": encode(&vec![0; width]), "y": encode(&vec![0; width])}),
                off_curve.clone(),
            ),
            (
                "both coordinates all ones",
                json!({"x": encode(&vec![0xff; width]), "y": encode(&vec![0xff; width])}),
                off_curve.clone(),
            ),
            (
                "x one byte short",
                json!({"x": encode(&x[1..])}),
                wrong_length.clone(),
            ),
            (
                "y with a zero byte prepended",
                json!({"y": encode(&[&[0], &y[..]].concat())}),
                wrong_length.clone(),
            ),
            (
                "missing y",
                json!({"y": null}),
                Err(JoseError::Malformed("EC JWK y is missing or not base64url")),
            ),
            (
                "padded x",
                json!({"x": format!("{}=", jwk["x"].as_str().unwrap())}),
                Err(JoseError::Malformed("EC JWK x is missing or not base64url")),
            ),
            (
                "x a number",
                json!({"x": 12}),
                Err(JoseError::Malformed("JWK has invalid members")),
            ),
        ];
        for (case, edits, expected) in table {
            cases.expect(format!("{curve} {case}"), expected, || {
                import_value(&edited(&jwk, edits))
            });
        }
    }
    let p256 = public(&P256);
    cases.expect(
        "P-256 x equal to the field prime",
        off_curve.clone(),
        || import_value(&edited(&p256, json!({"x": encode(&p256_prime)}))),
    );
    cases.expect(
        "P-256 coordinates labelled P-384",
        wrong_length.clone(),
        || import_value(&edited(&p256, json!({"crv": "P-384"}))),
    );
    cases.expect("P-384 coordinates labelled P-256", wrong_length, || {
        import_value(&edited(&public(&P384), json!({"crv": "P-256"})))
    });
    let ed = public(&ED25519);
    let x = decode(ed["x"].as_str().unwrap());
    let not_32 = Err(JoseError::Malformed("Ed25519 JWK x is not 32 bytes"));
    cases.expect("Ed25519 x of 31 bytes", not_32.clone(), || {
        import_value(&edited(&ed, json!({"x": encode(&x[1..])})))
    });
    cases.expect("Ed25519 x of 33 bytes", not_32, || {
        import_value(&edited(&ed, json!({"x": encode(&[&x[..], &[0]].concat())})))
    });
    cases.expect(
        "Ed25519 x missing",
        Err(JoseError::Malformed(
            "OKP JWK x is missing or not base64url",
        )),
        || import_value(&edited(&ed, json!({"x": null}))),
    );
    cases.finish();
}

/// Ed25519 public keys that are not points, or not canonical encodings of one, are refused at
/// import (aws-lc-rs alone would accept them).
#[test]
fn ed25519_keys_that_are_not_points_are_refused() {
    let mut cases = Cases::new("keys/Ed25519 non-points");
    let mut not_on_curve = [0u8; 32];
    not_on_curve[0] = 2; // y = 2 has no x on edwards25519
    let mut prime = [0xffu8; 32];
    prime[0] = 0xed;
    prime[31] = 0x7f; // y = p, a non-canonical encoding of y = 0
    for (case, x, reason) in [
        (
            "y = 2, not on the curve",
            not_on_curve,
            "Ed25519 x is not a curve point",
        ),
        (
            "y = p, non-canonical",
            prime,
            "Ed25519 x is not canonically encoded",
        ),
    ] {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": encode(&x)});
        cases.expect(
            format!("{case}: refused"),
            Err(JoseError::KeyRejected(reason.into())),
            || import_value(&jwk),
        );
    }
    cases.finish();
}

/// With a small-order public key A, R = identity and S = 0 satisfy [S]B = R + [k]A whenever
/// [k]A is the identity: for every message when A is the identity (`AQAA...AA`), and for one
/// message in a few when A is the all-zero key (`AAAA...AA`, a plausible JWKS placeholder), so
/// an attacker grinds a claim such as `jti` until one fixed signature verifies.
#[test]
fn small_order_ed25519_keys_never_verify_a_universal_forgery() {
    let mut cases = Cases::new("keys/small-order Ed25519");
    let mut identity = [0u8; 32];
    identity[0] = 1;
    let forgery = [&identity[..], &[0; 32]].concat();
    for (case, x) in [("identity point", identity), ("all-zero key", [0; 32])] {
        let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": encode(&x)});
        cases.expect(
            format!("{case}: refused at import"),
            Err(JoseError::KeyRejected(
                "Ed25519 x is a point of small order (a forgery key)".into(),
            )),
            || import_value(&jwk),
        );
        cases.expect(
            format!("{case}: no token among 64 ground jti verifies"),
            false,
            || {
                let Ok(key) = Jwk::from_json(jwk.to_string().as_bytes())
                    .and_then(|jwk| VerifyingKey::from_jwk(&jwk))
                else {
                    return false;
                };
                (0..64).any(|jti| {
                    let input = signing_input(
                        &json!({"alg": "EdDSA"}),
                        &json!({"sub": "admin", "jti": jti}),
                    );
                    key.verify(Algorithm::EdDsa, input.as_bytes(), &forgery)
                        .is_ok()
                })
            },
        );
    }
    cases.finish();
}
