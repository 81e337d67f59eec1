//! Header parameters: `crit` (refused whatever it holds), `b64: false` (RFC 7797), and the key
//! hints `jwk`, `jku`, `x5u`, `x5c`, `x5t` that must be recorded but never chosen over the
//! configured key. Tokens here carry valid signatures, so only the header can refuse them.

use serde_json::{Value, json};
use sigil_jose::{JoseError, UnverifiedToken};

use super::{
    ATTACKER_ED25519, ATTACKER_P256, ATTACKER_RSA, Cases, ED25519, P256, RSA, TestKey, claims,
    parsed, verified,
};
use crate::support::{MAX_TOKEN, encode};

/// RFC 7515 Appendix E: a JWS whose `crit` names an extension nobody understands (alg none).
const RFC7515_APPENDIX_E: &str = concat!(
    "eyJhbGciOiJub25lIiwNCiAiY3JpdCI6WyJodHRwOi8vZXhhbXBsZS5jb20vVU5ERU",
    "ZJTkVEIl0sDQogImh0dHA6Ly9leGFtcGxlLmNvbS9VTkRFRklORUQiOnRydWUNCn0.",
    "RkFJTA.",
);

/// RFC 7797 §4.2: the HS256 JWS with a detached unencoded payload.
const RFC7797_4_2: &str = concat!(
    "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19.",
    ".A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY",
);

/// An ES256 header with `extra` members merged in, signed by the trusted P-256 key.
fn es256_with(extra: Value) -> String {
    let mut header = json!({"alg": "ES256", "kid": P256.kid()});
    if let (Value::Object(header), Value::Object(extra)) = (&mut header, extra) {
        header.extend(extra);
    }
    P256.token(&header, &claims())
}

#[test]
fn crit_is_refused_whatever_it_holds() {
    let mut cases = Cases::new("header/crit");
    let unsupported = |name: &str| Err(JoseError::UnsupportedCritical(name.to_owned()));
    let long = "c".repeat(200);
    let table = [
        (
            "empty array",
            json!({"crit": []}),
            Err(JoseError::Malformed("crit is empty")),
        ),
        (
            "registered claim exp",
            json!({"crit": ["exp"], "exp": 1}),
            unsupported("exp"),
        ),
        (
            "b64 with b64 false",
            json!({"crit": ["b64"], "b64": false}),
            unsupported("b64"),
        ),
        (
            "b64 with b64 true",
            json!({"crit": ["b64"], "b64": true}),
            unsupported("b64"),
        ),
        (
            "a registered header, alg",
            json!({"crit": ["alg"]}),
            unsupported("alg"),
        ),
        (
            "a name that is not present",
            json!({"crit": ["missing"]}),
            unsupported("missing"),
        ),
        ("empty name", json!({"crit": [""]}), unsupported("")),
        (
            "same name twice",
            json!({"crit": ["x", "x"], "x": 1}),
            unsupported("x"),
        ),
        (
            "a name then a number",
            json!({"crit": ["exp", 1]}),
            unsupported("exp"),
        ),
        (
            "200-character name, cut to 64",
            json!({"crit": [long]}),
            unsupported(&long[..64]),
        ),
        (
            "a number",
            json!({"crit": [1]}),
            Err(JoseError::Malformed("crit holds a non-string")),
        ),
        (
            "null inside",
            json!({"crit": [null]}),
            Err(JoseError::Malformed("crit holds a non-string")),
        ),
        (
            "an array inside",
            json!({"crit": [["exp"]]}),
            Err(JoseError::Malformed("crit holds a non-string")),
        ),
        (
            "a string",
            json!({"crit": "exp"}),
            Err(JoseError::Malformed("crit is not an array")),
        ),
        (
            "null",
            json!({"crit": null}),
            Err(JoseError::Malformed("crit is not an array")),
        ),
        (
            "an object",
            json!({"crit": {}}),
            Err(JoseError::Malformed("crit is not an array")),
        ),
        (
            "true",
            json!({"crit": true}),
            Err(JoseError::Malformed("crit is not an array")),
        ),
    ];
    for (case, extra, expected) in table {
        let token = es256_with(extra);
        cases.expect(case, expected, || verified(&token, &P256.verifying_key()));
    }
    cases.expect(
        "RFC 7515 Appendix E (alg none first)",
        Err(JoseError::AlgorithmNotAllowed),
        || parsed(RFC7515_APPENDIX_E),
    );
    cases.finish();
}

#[test]
fn unencoded_payloads_are_refused() {
    let mut cases = Cases::new("header/b64");
    let not_supported = Err(JoseError::Malformed(
        "unencoded payload (b64) is not supported",
    ));
    let table = [
        ("b64 false", json!({"b64": false}), not_supported.clone()),
        (
            "b64 \"false\"",
            json!({"b64": "false"}),
            not_supported.clone(),
        ),
        ("b64 null", json!({"b64": null}), not_supported.clone()),
        ("b64 0", json!({"b64": 0}), not_supported.clone()),
        ("b64 []", json!({"b64": []}), not_supported.clone()),
        ("b64 \"true\"", json!({"b64": "true"}), not_supported),
        (
            "b64 false, crit b64 (RFC 7797 form)",
            json!({"b64": false, "crit": ["b64"]}),
            Err(JoseError::UnsupportedCritical("b64".into())),
        ),
        ("b64 true is the default", json!({"b64": true}), Ok(())),
    ];
    for (case, extra, expected) in table {
        let token = es256_with(extra);
        cases.expect(case, expected, || verified(&token, &P256.verifying_key()));
    }
    // RFC 7797 signs `header.<raw payload>`; its own example payload `$.02` even adds a dot.
    let header = encode(&serde_json::to_vec(&json!({"alg": "ES256", "b64": false})).unwrap());
    for (case, payload, expected) in [
        (
            "ES256 over the raw payload $.02",
            "$.02",
            JoseError::Malformed("token must have three segments"),
        ),
        (
            "ES256 over a raw JSON payload",
            r#"{"sub":"admin"}"#,
            JoseError::Malformed("unencoded payload (b64) is not supported"),
        ),
    ] {
        let input = format!("{header}.{payload}");
        let signature = P256.sign_raw(sigil_jose::Algorithm::Es256, input.as_bytes());
        let unencoded = format!("{input}.{}", encode(&signature));
        cases.expect(case, Err(expected), || {
            verified(&unencoded, &P256.verifying_key())
        });
    }
    cases.expect(
        "RFC 7797 §4.2 (HS256 first)",
        Err(JoseError::AlgorithmNotAllowed),
        || parsed(RFC7797_4_2),
    );
    cases.finish();
}

/// Every way a header can point at a key other than the configured one.
fn key_hints(trusted: &TestKey, attacker: &TestKey) -> Vec<(&'static str, Value)> {
    let attacker_jwk = serde_json::to_value(attacker.signing.public_jwk()).unwrap();
    let mut impostor_jwk = attacker_jwk.clone();
    impostor_jwk["kid"] = json!(trusted.kid());
    let attacker_der = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        attacker.spki_der(),
    );
    vec![
        ("embedded jwk", json!({"jwk": attacker_jwk})),
        (
            "embedded jwk claiming the trusted kid",
            json!({"jwk": impostor_jwk}),
        ),
        ("jku", json!({"jku": "https://attacker.example/jwks.json"})),
        ("x5u", json!({"x5u": "https://attacker.example/cert.pem"})),
        ("x5c", json!({"x5c": [attacker_der]})),
        ("x5t", json!({"x5t": encode(&[7; 20])})),
        ("x5t#S256", json!({"x5t#S256": encode(&[7; 32])})),
        ("the attacker's own kid", json!({"kid": attacker.kid()})),
        (
            "all of them at once",
            json!({
                "jwk": impostor_jwk,
                "jku": "https://attacker.example/jwks.json",
                "x5u": "https://attacker.example/cert.pem",
                "x5c": [attacker_der],
            }),
        ),
    ]
}

#[test]
fn key_hints_in_the_header_are_recorded_but_never_followed() {
    let mut cases = Cases::new("header/key hints");
    let families = [
        ("ES256", &*P256, &*ATTACKER_P256),
        ("RS256", &*RSA, &*ATTACKER_RSA),
        ("EdDSA", &*ED25519, &*ATTACKER_ED25519),
    ];
    for (alg, trusted, attacker) in families {
        let key = trusted.verifying_key();
        for (hint, extra) in key_hints(trusted, attacker) {
            let mut header = json!({"alg": alg, "kid": trusted.kid()});
            if let (Value::Object(header), Value::Object(extra)) = (&mut header, extra) {
                header.extend(extra);
            }
            let forged = attacker.token(&header, &claims());
            cases.expect(
                format!("{alg} {hint}, signed by the attacker"),
                Err(JoseError::SignatureInvalid),
                || verified(&forged, &key),
            );
            let genuine = trusted.token(&header, &claims());
            cases.expect(
                format!("{alg} {hint}, signed by the trusted key"),
                Ok(()),
                || verified(&genuine, &key),
            );
        }
    }
    // The hints are visible to the caller, for logging.
    let token = es256_with(json!({
        "jwk": ATTACKER_P256.signing.public_jwk(), "jku": "https://a.example",
        "x5u": "https://a.example", "x5c": ["AA"]
    }));
    cases.expect(
        "hints are recorded on the header",
        (true, true, true, true),
        || {
            let parsed = UnverifiedToken::parse(&token, MAX_TOKEN).unwrap();
            let header = parsed.header();
            (
                header.has_jwk,
                header.has_jku,
                header.has_x5u,
                header.has_x5c,
            )
        },
    );
    cases.finish();
}

#[test]
fn kid_and_typ_must_be_strings() {
    let mut cases = Cases::new("header/kid and typ types");
    let kid = Err(JoseError::Malformed("kid is not a string"));
    let typ = Err(JoseError::Malformed("typ is not a string"));
    let table = [
        ("kid a number", json!({"kid": 7}), kid.clone()),
        ("kid null", json!({"kid": null}), kid.clone()),
        ("kid an array", json!({"kid": ["a"]}), kid.clone()),
        ("kid an object", json!({"kid": {"$ref": "x"}}), kid),
        ("typ a number", json!({"typ": 1}), typ.clone()),
        ("typ null", json!({"typ": null}), typ.clone()),
        ("typ true", json!({"typ": true}), typ),
        ("kid empty string", json!({"kid": ""}), Ok(())),
        ("kid a path", json!({"kid": "../../../../dev/null"}), Ok(())),
    ];
    for (case, extra, expected) in table {
        let mut header = json!({"alg": "ES256"});
        if let (Value::Object(header), Value::Object(extra)) = (&mut header, extra) {
            header.extend(extra);
        }
        let token = P256.token(&header, &claims());
        cases.expect(case, expected, || verified(&token, &P256.verifying_key()));
    }
    cases.finish();
}
