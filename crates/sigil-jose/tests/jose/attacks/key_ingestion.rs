//! JWK and JWKS ingestion: symmetric and private keys, weak RSA, unknown types and curves,
//! keys not meant for signatures, duplicate and mistyped members; points on curves in
//! `curve_points`, and what a JWKS with one bad key does in `key_sets`.

mod curve_points;
mod key_sets;

use serde_json::{Value, json};
use sigil_jose::{JoseError, Jwk, VerifyingKey};

use super::{Cases, ED25519, P256, RSA};
use crate::insecure_test_keys::{
    RFC7515_A1_JWK, RFC7515_A2_PRIVATE_JWK, RFC7515_A3_PRIVATE_JWK, RFC7515_A4_PRIVATE_JWK,
    RFC7520_EC_D, RFC7520_EC_PUBLIC_JWK, RFC7520_HMAC_JWK, RFC7520_RSA_PRIVATE_MEMBERS,
    RFC7520_RSA_PUBLIC_JWK, RFC8037_D, RFC8037_PUBLIC_JWK,
};
use crate::support::{decode, encode};

/// Imports a JWK from JSON text the way a JWKS entry is imported.
fn import(text: &str) -> Result<(), JoseError> {
    let jwk = Jwk::from_json(text.as_bytes())?;
    VerifyingKey::from_jwk(&jwk).map(|_| ())
}

fn import_value(value: &Value) -> Result<(), JoseError> {
    import(&serde_json::to_string(value).unwrap())
}

/// A public JWK of `key` as JSON, without `alg`, `kid` or `use`, for editing.
fn public(key: &super::TestKey) -> Value {
    let mut value = serde_json::to_value(key.signing.public_jwk()).unwrap();
    let object = value.as_object_mut().unwrap();
    for member in ["alg", "kid", "use"] {
        object.remove(member);
    }
    value
}

/// `base` with `edits` merged over it (a `null` edit removes the member).
fn edited(base: &Value, edits: Value) -> Value {
    let mut value = base.clone();
    for (name, edit) in edits.as_object().unwrap() {
        match edit {
            Value::Null => {
                value.as_object_mut().unwrap().remove(name);
            }
            _ => value[name] = edit.clone(),
        }
    }
    value
}

/// Merges two JWK JSON texts (the RFC prints private members apart from public ones).
fn merged(first: &str, second: &str) -> Value {
    let mut value: Value = serde_json::from_str(first).unwrap();
    let extra: Value = serde_json::from_str(second).unwrap();
    value
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    value
}

#[test]
fn symmetric_keys_never_import() {
    let mut cases = Cases::new("keys/symmetric");
    let oct = Err(JoseError::UnsupportedKey(
        "symmetric (oct) keys never verify here".into(),
    ));
    let private = Err(JoseError::PrivateMembersPresent);
    let table = [
        (
            "RFC 7515 A.1 HMAC key",
            RFC7515_A1_JWK.to_owned(),
            private.clone(),
        ),
        (
            "RFC 7520 §3.5 HMAC key",
            RFC7520_HMAC_JWK.to_owned(),
            private.clone(),
        ),
        (
            "oct with empty k",
            r#"{"kty":"oct","k":""}"#.to_owned(),
            private.clone(),
        ),
        (
            "oct with k null",
            r#"{"kty":"oct","k":null}"#.to_owned(),
            private,
        ),
        ("oct without k", r#"{"kty":"oct"}"#.to_owned(), oct.clone()),
        (
            "oct without k, use sig",
            r#"{"kty":"oct","use":"sig"}"#.to_owned(),
            oct,
        ),
        (
            "oct without k, alg HS256",
            r#"{"kty":"oct","alg":"HS256"}"#.to_owned(),
            Err(JoseError::AlgorithmNotAllowed),
        ),
    ];
    for (case, text, expected) in table {
        cases.expect(case, expected, || import(&text));
    }
    cases.finish();
}

#[test]
fn private_keys_never_import_as_verifying_keys() {
    let mut cases = Cases::new("keys/private members");
    let private = Err(JoseError::PrivateMembersPresent);
    let rfc7520_ec = merged(
        RFC7520_EC_PUBLIC_JWK,
        &json!({"d": RFC7520_EC_D}).to_string(),
    );
    let rfc7520_rsa = merged(RFC7520_RSA_PUBLIC_JWK, RFC7520_RSA_PRIVATE_MEMBERS);
    let rfc8037 = merged(RFC8037_PUBLIC_JWK, &json!({"d": RFC8037_D}).to_string());
    let table = [
        (
            "RFC 7515 A.2 RSA private key",
            RFC7515_A2_PRIVATE_JWK.to_owned(),
        ),
        (
            "RFC 7515 A.3 P-256 private key",
            RFC7515_A3_PRIVATE_JWK.to_owned(),
        ),
        (
            "RFC 7515 A.4 P-521 private key",
            RFC7515_A4_PRIVATE_JWK.to_owned(),
        ),
        ("RFC 7520 §3.2 P-521 private key", rfc7520_ec.to_string()),
        ("RFC 7520 §3.4 RSA private key", rfc7520_rsa.to_string()),
        ("RFC 8037 A.1 Ed25519 private key", rfc8037.to_string()),
    ];
    for (case, text) in table {
        cases.expect(case, private.clone(), || import(&text));
    }
    let rsa = public(&RSA);
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        cases.expect(
            format!("RSA public key plus {member}"),
            private.clone(),
            || import_value(&edited(&rsa, json!({member: "AQAB"}))),
        );
    }
    let mut with_null_d = public(&P256);
    with_null_d["d"] = Value::Null;
    cases.expect("P-256 public key with d: null", private.clone(), || {
        import_value(&with_null_d)
    });
    cases.expect("Ed25519 public key with d: \"\"", private, || {
        import_value(&edited(&public(&ED25519), json!({"d": ""})))
    });
    cases.finish();
}

/// An odd RSA modulus of `bytes` bytes whose top byte is `top`.
fn modulus(bytes: usize, top: u8) -> String {
    let mut value = vec![0xd5; bytes];
    value[0] = top;
    encode(&value)
}

#[test]
fn weak_or_absurd_rsa_keys_never_import() {
    let mut cases = Cases::new("keys/RSA size and exponent");
    let rsa = public(&RSA);
    let n = decode(rsa["n"].as_str().unwrap());
    let with_leading_zero = encode(&[&[0], &n[..]].concat());
    let insane = Err(JoseError::KeyRejected(
        "RSA exponent is not a sane odd value".into(),
    ));
    let n_missing = Err(JoseError::Malformed(
        "RSA JWK n is missing or not base64url",
    ));
    let table = [
        (
            "512-bit modulus",
            json!({"n": modulus(64, 0xc1)}),
            Err(JoseError::WeakRsaKey { bits: 512 }),
        ),
        (
            "1024-bit modulus",
            json!({"n": modulus(128, 0xc1)}),
            Err(JoseError::WeakRsaKey { bits: 1024 }),
        ),
        (
            "2047-bit modulus",
            json!({"n": modulus(256, 0x7f)}),
            Err(JoseError::WeakRsaKey { bits: 2047 }),
        ),
        (
            "2040-bit modulus behind a zero byte",
            json!({"n": encode(&[&[0], &decode(&modulus(255, 0xc1))[..]].concat())}),
            Err(JoseError::WeakRsaKey { bits: 2040 }),
        ),
        (
            "8200-bit modulus",
            json!({"n": modulus(1025, 0xc1)}),
            Err(JoseError::KeyRejected(
                "RSA modulus of 8200 bits is too large".into(),
            )),
        ),
        (
            "empty modulus",
            json!({"n": ""}),
            Err(JoseError::Malformed("RSA JWK n is zero")),
        ),
        (
            "zero modulus",
            json!({"n": "AAAA"}),
            Err(JoseError::Malformed("RSA JWK n is zero")),
        ),
        ("missing modulus", json!({"n": null}), n_missing.clone()),
        (
            "padded modulus",
            json!({"n": format!("{}=", rsa["n"].as_str().unwrap())}),
            n_missing,
        ),
        ("e = 1", json!({"e": "AQ"}), insane.clone()),
        ("e = 65536 (even)", json!({"e": "AQAA"}), insane.clone()),
        ("e = 0", json!({"e": "AA"}), insane.clone()),
        ("e empty", json!({"e": ""}), insane.clone()),
        (
            "e = 2^33 + 1",
            json!({"e": encode(&[2, 0, 0, 0, 1])}),
            insane,
        ),
        (
            "e of six bytes",
            json!({"e": encode(&[1, 0, 0, 0, 0, 1])}),
            Err(JoseError::KeyRejected("RSA exponent is too large".into())),
        ),
        (
            "missing e",
            json!({"e": null}),
            Err(JoseError::Malformed(
                "RSA JWK e is missing or not base64url",
            )),
        ),
        (
            "2048-bit even modulus is not checked",
            json!({"n": encode(&[vec![0xc1; 255], vec![0xd4]].concat())}),
            Ok(()),
        ),
        (
            "2048-bit modulus with a leading zero byte",
            json!({"n": with_leading_zero}),
            Ok(()),
        ),
    ];
    for (case, edits, expected) in table {
        cases.expect(case, expected, || import_value(&edited(&rsa, edits)));
    }
    cases.finish();
}

#[test]
fn unknown_key_types_and_curves_never_import() {
    let mut cases = Cases::new("keys/unknown kty and crv");
    let unsupported = |what: &str| Err(JoseError::UnsupportedKey(what.to_owned()));
    let x = encode(&[9; 32]);
    let table = [
        (
            "AKP ML-DSA-44 with alg",
            json!({"kty": "AKP", "alg": "ML-DSA-44", "pub": x}),
            Err(JoseError::UnknownAlgorithm("ML-DSA-44".into())),
        ),
        (
            "AKP without alg",
            json!({"kty": "AKP", "pub": x}),
            unsupported("kty \"AKP\""),
        ),
        (
            "AKP private key (priv) without alg",
            json!({"kty": "AKP", "pub": x, "priv": x}),
            unsupported("kty \"AKP\""),
        ),
        (
            "OKP X25519",
            json!({"kty": "OKP", "crv": "X25519", "x": x}),
            unsupported("OKP curve \"X25519\""),
        ),
        (
            "OKP X448",
            json!({"kty": "OKP", "crv": "X448", "x": x}),
            unsupported("OKP curve \"X448\""),
        ),
        (
            "OKP Ed448 with alg EdDSA",
            json!({"kty": "OKP", "crv": "Ed448", "x": x, "alg": "EdDSA"}),
            unsupported("OKP curve \"Ed448\""),
        ),
        (
            "OKP ed25519 in lower case",
            json!({"kty": "OKP", "crv": "ed25519", "x": x}),
            unsupported("OKP curve \"ed25519\""),
        ),
        (
            "OKP without crv",
            json!({"kty": "OKP", "x": x}),
            Err(JoseError::Malformed("OKP JWK has no crv")),
        ),
        (
            "EC secp256k1",
            json!({"kty": "EC", "crv": "secp256k1", "x": x, "y": x}),
            unsupported("EC curve \"secp256k1\""),
        ),
        (
            "EC secp256k1 with alg ES256K",
            json!({"kty": "EC", "crv": "secp256k1", "x": x, "y": x, "alg": "ES256K"}),
            Err(JoseError::UnknownAlgorithm("ES256K".into())),
        ),
        (
            "EC P-192",
            json!({"kty": "EC", "crv": "P-192", "x": x, "y": x}),
            unsupported("EC curve \"P-192\""),
        ),
        (
            "EC brainpoolP256r1",
            json!({"kty": "EC", "crv": "brainpoolP256r1", "x": x, "y": x}),
            unsupported("EC curve \"brainpoolP256r1\""),
        ),
        (
            "EC p-256 in lower case",
            json!({"kty": "EC", "crv": "p-256", "x": x, "y": x}),
            unsupported("EC curve \"p-256\""),
        ),
        (
            "EC without crv",
            json!({"kty": "EC", "x": x, "y": x}),
            Err(JoseError::Malformed("EC JWK has no crv")),
        ),
        (
            "kty ec in lower case",
            json!({"kty": "ec", "crv": "P-256", "x": x, "y": x}),
            unsupported("kty \"ec\""),
        ),
        ("kty empty", json!({"kty": ""}), unsupported("kty \"\"")),
        (
            "kty RSA-PSS",
            json!({"kty": "RSA-PSS", "n": x, "e": "AQAB"}),
            unsupported("kty \"RSA-PSS\""),
        ),
        (
            "kty missing",
            json!({"crv": "P-256", "x": x, "y": x}),
            Err(JoseError::Malformed("JWK has invalid members")),
        ),
        (
            "kty a number",
            json!({"kty": 1}),
            Err(JoseError::Malformed("JWK has invalid members")),
        ),
        (
            "kty null",
            json!({"kty": null}),
            Err(JoseError::Malformed("JWK has invalid members")),
        ),
    ];
    for (case, jwk, expected) in table {
        cases.expect(case, expected, || import_value(&jwk));
    }
    cases.finish();
}

#[test]
fn keys_not_meant_for_signatures_never_import() {
    let mut cases = Cases::new("keys/use, key_ops and pinned alg");
    let not_sig = Err(JoseError::KeyNotForSignatures("use is not \"sig\""));
    let no_verify = Err(JoseError::KeyNotForSignatures("key_ops lacks \"verify\""));
    let invalid = Err(JoseError::Malformed("JWK has invalid members"));
    let p256 = public(&P256);
    let table = [
        ("use enc", json!({"use": "enc"}), not_sig.clone()),
        ("use SIG", json!({"use": "SIG"}), not_sig.clone()),
        ("use empty", json!({"use": ""}), not_sig.clone()),
        (
            "use jwt-svid (SPIFFE bundles)",
            json!({"use": "jwt-svid"}),
            not_sig.clone(),
        ),
        (
            "use enc with key_ops verify",
            json!({"use": "enc", "key_ops": ["verify"]}),
            not_sig,
        ),
        ("use a number", json!({"use": 1}), invalid.clone()),
        (
            "key_ops sign only",
            json!({"key_ops": ["sign"]}),
            no_verify.clone(),
        ),
        ("key_ops empty", json!({"key_ops": []}), no_verify.clone()),
        (
            "key_ops encrypt, wrapKey",
            json!({"key_ops": ["encrypt", "wrapKey"]}),
            no_verify.clone(),
        ),
        ("key_ops VERIFY", json!({"key_ops": ["VERIFY"]}), no_verify),
        (
            "key_ops a string",
            json!({"key_ops": "verify"}),
            invalid.clone(),
        ),
        ("key_ops holding a number", json!({"key_ops": [1]}), invalid),
        (
            "alg RSA-OAEP",
            json!({"alg": "RSA-OAEP"}),
            Err(JoseError::UnknownAlgorithm("RSA-OAEP".into())),
        ),
        (
            "alg ECDH-ES",
            json!({"alg": "ECDH-ES"}),
            Err(JoseError::UnknownAlgorithm("ECDH-ES".into())),
        ),
        (
            "alg none",
            json!({"alg": "none"}),
            Err(JoseError::AlgorithmNotAllowed),
        ),
        (
            "alg HS256",
            json!({"alg": "HS256"}),
            Err(JoseError::AlgorithmNotAllowed),
        ),
        (
            "alg ES384 on P-256",
            json!({"alg": "ES384"}),
            Err(JoseError::AlgorithmKeyMismatch),
        ),
        (
            "alg EdDSA on P-256",
            json!({"alg": "EdDSA"}),
            Err(JoseError::AlgorithmKeyMismatch),
        ),
        (
            "alg es256 in lower case",
            json!({"alg": "es256"}),
            Err(JoseError::UnknownAlgorithm("es256".into())),
        ),
        (
            "use sig with key_ops verify",
            json!({"use": "sig", "key_ops": ["verify"]}),
            Ok(()),
        ),
        (
            "key_ops verify and sign",
            json!({"key_ops": ["verify", "sign"]}),
            Ok(()),
        ),
        (
            "key_ops verify twice",
            json!({"key_ops": ["verify", "verify"]}),
            Ok(()),
        ),
    ];
    for (case, edits, expected) in table {
        cases.expect(case, expected, || import_value(&edited(&p256, edits)));
    }
    // `null` members read as absent: no `use`, no pinned `alg`.
    let mut nulls = p256.clone();
    nulls["use"] = Value::Null;
    nulls["alg"] = Value::Null;
    nulls["key_ops"] = Value::Null;
    cases.expect("use, alg and key_ops null", Ok(()), || import_value(&nulls));
    cases.expect(
        "RSA with alg EdDSA",
        Err(JoseError::AlgorithmKeyMismatch),
        || import_value(&edited(&public(&RSA), json!({"alg": "EdDSA"}))),
    );
    cases.expect(
        "Ed25519 with alg RS256",
        Err(JoseError::AlgorithmKeyMismatch),
        || import_value(&edited(&public(&ED25519), json!({"alg": "RS256"}))),
    );
    cases.finish();
}

#[test]
fn duplicate_and_mistyped_members_refuse_the_jwk() {
    let mut cases = Cases::new("keys/duplicate and mistyped members");
    let p256 = public(&P256);
    let [x, y] = ["x", "y"].map(|name| p256[name].as_str().unwrap().to_owned());
    let invalid = Err(JoseError::Malformed("JWK has invalid members"));
    let duplicate = |name: &str| Err(JoseError::DuplicateMember(name.to_owned()));
    let deep = format!(
        r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","ext":{}{}}}"#,
        "[".repeat(10_000),
        "]".repeat(10_000)
    );
    let table = [
        (
            "crv twice",
            format!(r#"{{"kty":"EC","crv":"P-256","crv":"P-384","x":"{x}","y":"{y}"}}"#),
            duplicate("crv"),
        ),
        (
            "x twice",
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{y}","x":"{x}","y":"{y}"}}"#),
            duplicate("x"),
        ),
        (
            "kty spelled with an escape",
            format!(r#"{{"kty":"EC","\u006bty":"oct","crv":"P-256","x":"{x}","y":"{y}"}}"#),
            duplicate("kty"),
        ),
        (
            "duplicate inside an unknown member",
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","ext":{{"a":1,"a":2}}}}"#),
            duplicate("a"),
        ),
        (
            "kid a number",
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","kid":5}}"#),
            invalid.clone(),
        ),
        (
            "alg a number",
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":"{y}","alg":1}}"#),
            invalid.clone(),
        ),
        (
            "crv an array",
            format!(r#"{{"kty":"EC","crv":["P-256"],"x":"{x}","y":"{y}"}}"#),
            invalid.clone(),
        ),
        (
            "kty an object",
            format!(r#"{{"kty":{{}},"crv":"P-256","x":"{x}","y":"{y}"}}"#),
            invalid.clone(),
        ),
        (
            "y bytes as an array",
            format!(r#"{{"kty":"EC","crv":"P-256","x":"{x}","y":[1,2]}}"#),
            invalid.clone(),
        ),
        ("a JSON array", "[]".to_owned(), invalid.clone()),
        ("a JSON string", r#""EC""#.to_owned(), invalid),
        (
            "not JSON",
            "{kty:EC}".to_owned(),
            Err(JoseError::Malformed("JWK is not a JSON object")),
        ),
        (
            "10,000 [ in an unknown member",
            deep,
            Err(JoseError::Malformed("JWK is not a JSON object")),
        ),
    ];
    for (case, text, expected) in table {
        cases.expect(case, expected, || import(&text));
    }
    cases.finish();
}
