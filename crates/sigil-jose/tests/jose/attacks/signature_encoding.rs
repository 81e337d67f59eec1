//! Signature encodings: ECDSA must be fixed-width r || s with 0 < r, s < n; RSA exactly the
//! modulus length; Ed25519 exactly 64 bytes with S < L. The crate's high-s policy is pinned
//! here as found: both s and n - s verify (aws-lc-rs does not normalise ECDSA).

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P384_SHA384_ASN1_SIGNING, ECDSA_P521_SHA512_ASN1_SIGNING,
    EcdsaKeyPair, EcdsaSigningAlgorithm,
};
use serde_json::json;
use sigil_jose::{Algorithm, JoseError};

use super::{
    ATTACKER_RSA, Cases, ED25519, P256, P384, P521, RSA, TestKey, claims, hex, signing_input,
    verified,
};
use crate::support::{decode, encode};

const P256_ORDER: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
const P384_ORDER: &str = concat!(
    "ffffffffffffffffffffffffffffffffffffffffffffffff",
    "c7634d81f4372ddf581a0db248b0a77aecec196accc52973",
);
const P521_ORDER: &str = concat!(
    "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "fa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409",
);
/// The Ed25519 group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
const ED25519_ORDER_LE: &str = "edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010";

const INVALID: Result<(), JoseError> = Err(JoseError::SignatureInvalid);

/// `a - b` for big-endian numbers of equal width, `a >= b`.
fn subtract_be(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut out = vec![0; a.len()];
    let mut borrow = 0i16;
    for at in (0..a.len()).rev() {
        let mut digit = i16::from(a[at]) - i16::from(b[at]) - borrow;
        borrow = i16::from(digit < 0);
        if digit < 0 {
            digit += 256;
        }
        out[at] = u8::try_from(digit).unwrap();
    }
    assert_eq!(borrow, 0, "subtract_be: a < b");
    out
}

/// `a + b` for little-endian numbers of equal width, dropping any final carry.
fn add_le(a: &[u8], b: &[u8]) -> Vec<u8> {
    let mut carry = 0u16;
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let sum = u16::from(*x) + u16::from(*y) + carry;
            carry = sum >> 8;
            u8::try_from(sum & 0xff).unwrap()
        })
        .collect()
}

/// A signed token of `key`, split into its signing input and decoded signature.
fn signed(key: &TestKey, algorithm: Algorithm) -> (String, Vec<u8>) {
    let input = signing_input(&json!({"alg": algorithm.as_str()}), &claims());
    let signature = key.sign_raw(algorithm, input.as_bytes());
    (input, signature)
}

fn with_signature(input: &str, signature: &[u8]) -> String {
    format!("{input}.{}", encode(signature))
}

struct Curve {
    name: &'static str,
    key: &'static TestKey,
    algorithm: Algorithm,
    order: Vec<u8>,
    der_signing: &'static EcdsaSigningAlgorithm,
}

fn curves() -> [Curve; 3] {
    [
        Curve {
            name: "ES256",
            key: &P256,
            algorithm: Algorithm::Es256,
            order: hex(P256_ORDER),
            der_signing: &ECDSA_P256_SHA256_ASN1_SIGNING,
        },
        Curve {
            name: "ES384",
            key: &P384,
            algorithm: Algorithm::Es384,
            order: hex(P384_ORDER),
            der_signing: &ECDSA_P384_SHA384_ASN1_SIGNING,
        },
        Curve {
            name: "ES512",
            key: &P521,
            algorithm: Algorithm::Es512,
            order: hex(P521_ORDER),
            der_signing: &ECDSA_P521_SHA512_ASN1_SIGNING,
        },
    ]
}

#[test]
fn ecdsa_signatures_must_be_fixed_width_r_and_s() {
    let mut cases = Cases::new("signature/ECDSA lengths and DER");
    for curve in curves() {
        let name = curve.name;
        let key = curve.key.verifying_key();
        let (input, signature) = signed(curve.key, curve.algorithm);
        let width = signature.len();
        let der = EcdsaKeyPair::from_pkcs8(curve.der_signing, &curve.key.pkcs8)
            .unwrap()
            .sign(&SystemRandom::new(), input.as_bytes())
            .unwrap()
            .as_ref()
            .to_vec();
        let half = width / 2;
        // r and s each one byte short: the "stripped leading zero" bug.
        let short_halves = [&signature[1..half], &signature[half + 1..]].concat();
        let table: Vec<(String, Vec<u8>, Result<(), JoseError>)> = vec![
            (
                format!("{name} as produced ({width} bytes)"),
                signature.clone(),
                Ok(()),
            ),
            (
                format!("{name} DER-encoded ({} bytes)", der.len()),
                der,
                INVALID,
            ),
            (
                format!("{name} {} bytes (last dropped)", width - 1),
                signature[..width - 1].to_vec(),
                INVALID,
            ),
            (
                format!("{name} {} bytes (zero appended)", width + 1),
                [&signature[..], &[0]].concat(),
                INVALID,
            ),
            (
                format!("{name} {} bytes (zero prepended)", width + 1),
                [&[0], &signature[..]].concat(),
                INVALID,
            ),
            (
                format!("{name} r and s each one byte short"),
                short_halves,
                INVALID,
            ),
            (
                format!("{name} r only"),
                signature[..half].to_vec(),
                INVALID,
            ),
            (format!("{name} doubled"), signature.repeat(2), INVALID),
            (format!("{name} one byte"), vec![1], INVALID),
            (
                format!("{name} empty"),
                Vec::new(),
                Err(JoseError::Malformed("signature is empty")),
            ),
        ];
        for (case, bytes, expected) in table {
            cases.expect(case, expected, || {
                verified(&with_signature(&input, &bytes), &key)
            });
        }
    }
    cases.finish();
}

#[test]
fn ecdsa_r_and_s_outside_one_to_n_minus_one_are_invalid() {
    let mut cases = Cases::new("signature/ECDSA r, s range");
    for curve in curves() {
        let name = curve.name;
        let key = curve.key.verifying_key();
        let (input, signature) = signed(curve.key, curve.algorithm);
        let width = signature.len() / 2;
        let (r, s) = signature.split_at(width);
        let zero = vec![0; width];
        let mut one = vec![0; width];
        one[width - 1] = 1;
        let n = curve.order.clone();
        let n_plus_one = {
            let mut value = n.clone();
            value[width - 1] += 1;
            value
        };
        let n_minus_one = subtract_be(&n, &one);
        let all_ones = vec![0xff; width];
        let table: [(&str, &[u8], &[u8]); 12] = [
            ("r = 0, s = 0 (CVE-2022-21449)", &zero, &zero),
            ("r = 0", &zero, s),
            ("s = 0", r, &zero),
            ("r = n", &n, s),
            ("s = n", r, &n),
            ("r = s = n", &n, &n),
            ("r = n + 1", &n_plus_one, s),
            ("s = n + 1", r, &n_plus_one),
            ("r all ones (>= n)", &all_ones, s),
            ("s all ones (>= n)", r, &all_ones),
            ("r = s = 1", &one, &one),
            ("r = s = n - 1", &n_minus_one, &n_minus_one),
        ];
        for (case, r, s) in table {
            let bytes = [r, s].concat();
            cases.expect(format!("{name} {case}"), INVALID, || {
                verified(&with_signature(&input, &bytes), &key)
            });
        }
    }
    cases.finish();
}

#[test]
fn ecdsa_accepts_both_s_and_its_negation_n_minus_s() {
    // Policy as found: no low-s rule. A valid (r, s) has a twin (r, n - s) that also verifies,
    // so one set of claims has two valid compact encodings.
    let mut cases = Cases::new("signature/ECDSA high-s");
    for curve in curves() {
        let key = curve.key.verifying_key();
        for attempt in 0..2 {
            let (input, signature) = signed(curve.key, curve.algorithm);
            let width = signature.len() / 2;
            let (r, s) = signature.split_at(width);
            let twin = [r, &subtract_be(&curve.order, s)].concat();
            let name = curve.name;
            cases.expect(format!("{name} #{attempt} original s"), Ok(()), || {
                verified(&with_signature(&input, &signature), &key)
            });
            cases.expect(format!("{name} #{attempt} n - s"), Ok(()), || {
                verified(&with_signature(&input, &twin), &key)
            });
        }
    }
    cases.finish();
}

#[test]
fn rsa_signatures_must_be_exactly_the_modulus_length() {
    let mut cases = Cases::new("signature/RSA length and value");
    let key = RSA.verifying_key();
    let (input, signature) = signed(&RSA, Algorithm::Rs256);
    assert_eq!(signature.len(), 256);
    let modulus = decode(RSA.signing.public_jwk().n.as_deref().unwrap());
    let mut one = vec![0; 256];
    one[255] = 1;
    let (_, foreign) = signed(&ATTACKER_RSA, Algorithm::Rs256);
    let table: Vec<(&str, Vec<u8>, Result<(), JoseError>)> = vec![
        ("as produced (256 bytes)", signature.clone(), Ok(())),
        (
            "zero prepended (257 bytes, same value)",
            [&[0], &signature[..]].concat(),
            INVALID,
        ),
        (
            "zero appended (257 bytes)",
            [&signature[..], &[0]].concat(),
            INVALID,
        ),
        (
            "last byte dropped (255 bytes)",
            signature[..255].to_vec(),
            INVALID,
        ),
        ("twice the modulus length", signature.repeat(2), INVALID),
        ("one byte", vec![1], INVALID),
        ("all zero", vec![0; 256], INVALID),
        ("the value 1", one.clone(), INVALID),
        ("the modulus n", modulus.clone(), INVALID),
        ("n - 1", subtract_be(&modulus, &one), INVALID),
        ("all ones (> n)", vec![0xff; 256], INVALID),
        ("another key's signature", foreign, INVALID),
    ];
    for (case, bytes, expected) in table {
        cases.expect(case, expected, || {
            verified(&with_signature(&input, &bytes), &key)
        });
    }
    // One signature in 256 starts with a zero byte; without it, the value is the same but the
    // length is one short of the modulus.
    let (input, signature) = (0..4096)
        .map(|nonce| {
            let input = signing_input(&json!({"alg": "RS256"}), &json!({"nonce": nonce}));
            let signature = RSA.sign_raw(Algorithm::Rs256, input.as_bytes());
            (input, signature)
        })
        .find(|(_, signature)| signature[0] == 0)
        .unwrap();
    cases.expect("leading zero kept (256 bytes)", Ok(()), || {
        verified(&with_signature(&input, &signature), &key)
    });
    cases.expect(
        "leading zero stripped (255 bytes, same value)",
        INVALID,
        || verified(&with_signature(&input, &signature[1..]), &key),
    );
    cases.finish();
}

#[test]
fn ed25519_signatures_must_be_64_bytes_with_s_below_the_group_order() {
    let mut cases = Cases::new("signature/Ed25519");
    let key = ED25519.verifying_key();
    let (input, signature) = signed(&ED25519, Algorithm::EdDsa);
    let (r, s) = signature.split_at(32);
    let order = hex(ED25519_ORDER_LE);
    let s_plus_l = add_le(s, &order);
    let s_plus_2l = add_le(&s_plus_l, &order);
    let mut s_high_bit = s.to_vec();
    s_high_bit[31] |= 0x80;
    let mut identity = vec![0; 32];
    identity[0] = 1;
    let table: Vec<(&str, Vec<u8>, Result<(), JoseError>)> = vec![
        ("as produced", signature.clone(), Ok(())),
        ("63 bytes", signature[..63].to_vec(), INVALID),
        ("65 bytes", [&signature[..], &[0]].concat(), INVALID),
        ("32 bytes (R only)", r.to_vec(), INVALID),
        ("128 bytes", signature.repeat(2), INVALID),
        ("one byte", vec![1], INVALID),
        (
            "empty",
            Vec::new(),
            Err(JoseError::Malformed("signature is empty")),
        ),
        ("S + L (same S mod L)", [r, &s_plus_l].concat(), INVALID),
        ("S + 2L", [r, &s_plus_2l].concat(), INVALID),
        ("S = L", [r, &order].concat(), INVALID),
        ("S all ones", [r, &[0xff; 32]].concat(), INVALID),
        ("S with bit 255 set", [r, &s_high_bit].concat(), INVALID),
        (
            "R = identity, S = 0",
            [identity, vec![0; 32]].concat(),
            INVALID,
        ),
        ("all zero", vec![0; 64], INVALID),
    ];
    for (case, bytes, expected) in table {
        cases.expect(case, expected, || {
            verified(&with_signature(&input, &bytes), &key)
        });
    }
    cases.finish();
}
