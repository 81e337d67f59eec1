//! Signatures of the right algorithm in the wrong encoding: DER instead of r || s, wrong
//! lengths, r or s zero or at least the group order, truncated or extended RSA signatures,
//! and Ed25519 signatures of the wrong length or with a non-canonical S.

use serde_json::json;
use sigil_jose::{Algorithm, KeyType};

use super::forge::{add, ecdsa_der, hex, signature_of, small, unb64, with_signature};
use super::target::{Case, Target, case, refused};
use crate::external_idp::IdpKey;
use crate::support::TestApp;

/// The order of the P-256 group.
const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
/// The order of the P-384 group.
const P384_N: &str = concat!(
    "ffffffffffffffffffffffffffffffffffffffffffffffff",
    "c7634d81f4372ddf581a0db248b0a77aecec196accc52973"
);
/// The order L of the Ed25519 group, big-endian.
const ED25519_L: &str = "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed";

/// Cases of `token` with each signature in `signatures`, all `signature_invalid`.
fn invalid(token: &str, signatures: Vec<(&str, Vec<u8>)>) -> Vec<Case> {
    signatures
        .into_iter()
        .map(|(name, signature)| {
            case(
                name,
                with_signature(token, &signature),
                refused("signature_invalid"),
            )
        })
        .collect()
}

#[tokio::test]
async fn es256_signatures_of_the_wrong_shape_or_range_are_refused() {
    let target = Target::start().await;
    let token = target.token(json!({}), json!({}));
    let signature = signature_of(&token);
    let (r, s) = signature.split_at(32);
    let n = hex(P256_N);
    let n_plus_one = add(&n, &small(32, 1)).expect("n + 1 fits 256 bits");
    let max = vec![0xff; 32];
    let zero = vec![0; 32];
    let widened = |width: usize| {
        let pad = vec![0; width - 32];
        [pad.clone(), r.to_vec(), pad, s.to_vec()].concat()
    };
    let other = signature_of(&target.token(json!({}), json!({"sub": "ci-job-43"})));

    let mut cases = invalid(
        &token,
        vec![
            ("DER SEQUENCE { r, s }", ecdsa_der(r, s)),
            ("63 bytes", signature[..63].to_vec()),
            ("65 bytes, a zero appended", [&signature[..], &[0]].concat()),
            (
                "65 bytes, a zero prepended",
                [&[0], &signature[..]].concat(),
            ),
            ("r only", r.to_vec()),
            ("r || s twice", signature.repeat(2)),
            ("one byte", vec![signature[0]]),
            ("r and s widened to P-384's 48 bytes", widened(48)),
            ("r and s widened to P-521's 66 bytes", widened(66)),
            ("r = 0", [zero.clone(), s.to_vec()].concat()),
            ("s = 0", [r.to_vec(), zero.clone()].concat()),
            ("r = s = 0", [zero.clone(), zero].concat()),
            ("r = n", [n.clone(), s.to_vec()].concat()),
            ("s = n", [r.to_vec(), n.clone()].concat()),
            ("r = n + 1", [n_plus_one.clone(), s.to_vec()].concat()),
            ("s = n + 1", [r.to_vec(), n_plus_one].concat()),
            ("r = 2^256 - 1", [max.clone(), s.to_vec()].concat()),
            ("s = 2^256 - 1", [r.to_vec(), max.clone()].concat()),
            ("r = s = n", [n.clone(), n].concat()),
            ("r and s swapped", [s.to_vec(), r.to_vec()].concat()),
            ("all ones", [max.clone(), max].concat()),
            ("another token's signature", other),
        ],
    );
    cases.push(case(
        "no signature",
        with_signature(&token, &[]),
        refused("token_malformed"),
    ));

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn es384_signatures_of_the_wrong_shape_or_range_are_refused() {
    let p384 = IdpKey::generate(KeyType::EcdsaP384, Algorithm::Es384, "p384");
    let target = Target::start_with(TestApp::builder(), vec![p384.jwk()], json!({})).await;
    let token = p384.sign_with_header(
        &target.header(json!({"alg": "ES384", "kid": "p384"})),
        &target.claims(json!({})),
    );
    let signature = signature_of(&token);
    let (r, s) = signature.split_at(48);
    let n = hex(P384_N);

    let cases = invalid(
        &token,
        vec![
            ("DER SEQUENCE { r, s }", ecdsa_der(r, s)),
            ("95 bytes", signature[..95].to_vec()),
            ("97 bytes", [&signature[..], &[0]].concat()),
            ("64 bytes, P-256's width", [&r[16..], &s[16..]].concat()),
            ("r = 0", [vec![0; 48], s.to_vec()].concat()),
            ("s = 0", [r.to_vec(), vec![0; 48]].concat()),
            ("r = n", [n.clone(), s.to_vec()].concat()),
            ("s = n", [r.to_vec(), n].concat()),
            ("r = 2^384 - 1", [vec![0xff; 48], s.to_vec()].concat()),
        ],
    );

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn rsa_signatures_of_the_wrong_length_or_value_are_refused() {
    let rsa = IdpKey::generate(KeyType::Rsa2048, Algorithm::Rs256, "rsa");
    let modulus = unb64(rsa.jwk()["n"].as_str().expect("n"));
    let target = Target::start_with(TestApp::builder(), vec![rsa.jwk()], json!({})).await;
    let header = target.header(json!({"alg": "RS256", "kid": "rsa"}));
    let token = rsa.sign_with_header(&header, &target.claims(json!({})));
    let signature = signature_of(&token);
    assert_eq!(signature.len(), 256);
    assert_eq!(modulus.len(), 256);
    let other = signature_of(&rsa.sign_with_header(&header, &target.claims(json!({"sub": "x"}))));
    let mut signatures = vec![
        ("255 bytes, the last one cut", signature[..255].to_vec()),
        ("255 bytes, the first one cut", signature[1..].to_vec()),
        (
            "257 bytes, a zero prepended",
            [&[0], &signature[..]].concat(),
        ),
        (
            "257 bytes, a zero appended",
            [&signature[..], &[0]].concat(),
        ),
        ("512 bytes, doubled", signature.repeat(2)),
        ("one byte", vec![signature[0]]),
        ("zero", vec![0; 256]),
        ("one", small(256, 1)),
        ("the modulus", modulus.clone()),
        ("all ones, above the modulus", vec![0xff; 256]),
        ("another token's signature", other),
    ];
    if let Some(above) = add(&modulus, &small(256, 1)) {
        signatures.push(("the modulus plus one", above));
    }

    target
        .assert_refused_all(&invalid(&token, signatures))
        .await;
}

#[tokio::test]
async fn ed25519_signatures_of_the_wrong_length_or_a_non_canonical_s_are_refused() {
    let ed = IdpKey::generate(KeyType::Ed25519, Algorithm::EdDsa, "ed");
    let target = Target::start_with(TestApp::builder(), vec![ed.jwk()], json!({})).await;
    let token = ed.sign_with_header(
        &target.header(json!({"alg": "EdDSA", "kid": "ed"})),
        &target.claims(json!({})),
    );
    let signature = signature_of(&token);
    let (r, s) = signature.split_at(32);
    // S is little-endian; the sum is done big-endian.
    let big_endian = |bytes: &[u8]| bytes.iter().rev().copied().collect::<Vec<u8>>();
    let order = hex(ED25519_L);
    let s_plus_l = big_endian(&add(&big_endian(s), &order).expect("S + L fits 256 bits"));

    let cases = invalid(
        &token,
        vec![
            ("63 bytes", signature[..63].to_vec()),
            ("65 bytes", [&signature[..], &[0]].concat()),
            ("R only", r.to_vec()),
            ("128 bytes, doubled", signature.repeat(2)),
            ("all zeros", vec![0; 64]),
            (
                "S + L (the same S, not reduced)",
                [r.to_vec(), s_plus_l].concat(),
            ),
            ("S = L", [r.to_vec(), big_endian(&order)].concat()),
            ("S all ones", [r.to_vec(), vec![0xff; 32]].concat()),
            ("R all ones", [vec![0xff; 32], s.to_vec()].concat()),
            ("R and S swapped", [s.to_vec(), r.to_vec()].concat()),
        ],
    );

    target.assert_refused_all(&cases).await;
}
