//! Compact JWS: strict parsing (`UnverifiedToken::parse`), verification against fixed public
//! keys, and sign → parse → verify round trips. The first input byte picks the mode:
//! even: the rest is a token; odd: the rest is a claims payload to sign and read back.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value};
use sigil_jose::dangerous::insecure_decode;
use sigil_jose::{
    Algorithm, JoseError, Jwk, KeyType, SigningKey, TimeRules, UnverifiedToken, VerifyingKey,
    check_times,
};

/// The size cap Sigil applies to bearer tokens is larger; this keeps runs fast.
const MAX_LEN: usize = 16 * 1024;

/// Public test vectors (RFC 7515 A.2.1, A.3.1; RFC 8037 A.1). INSECURE: published keys.
const RFC7515_A2_JWK: &str = concat!(
    r#"{"kty":"RSA","e":"AQAB","n":""#,
    "ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4",
    "d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5re",
    "xMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxX",
    "FvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
    r#""}"#,
);
const RFC7515_A3_JWK: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#;
const RFC8037_JWK: &str =
    r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
/// RFC 8037 A.1 private seed `d`, wrapped as PKCS#8 v1 (RFC 8410 prefix + 32 bytes).
const RFC8037_PKCS8: [u8; 48] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
    0x9d, 0x61, 0xb1, 0x9d, 0xef, 0xfd, 0x5a, 0x60, 0xba, 0x84, 0x4a, 0xf4, 0x92, 0xec, 0x2c, 0xc4,
    0x44, 0x49, 0xc5, 0x69, 0x7b, 0x32, 0x69, 0x19, 0x70, 0x3b, 0xac, 0x03, 0x1c, 0xae, 0x7f, 0x60,
];

static VERIFIERS: LazyLock<Vec<VerifyingKey>> = LazyLock::new(|| {
    [RFC7515_A2_JWK, RFC7515_A3_JWK, RFC8037_JWK]
        .iter()
        .map(|text| {
            let jwk = Jwk::from_json(text.as_bytes()).expect("test JWK parses");
            VerifyingKey::from_jwk(&jwk).expect("test JWK verifies")
        })
        .collect()
});

static SIGNERS: LazyLock<Vec<SigningKey>> = LazyLock::new(|| {
    let ed25519 = SigningKey::from_pkcs8(KeyType::Ed25519, Algorithm::EdDsa, &RFC8037_PKCS8)
        .expect("RFC 8037 key loads");
    let (es256, _) =
        SigningKey::generate(KeyType::EcdsaP256, Algorithm::Es256).expect("P-256 key generates");
    vec![ed25519, es256]
});

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        if let Ok(token) = std::str::from_utf8(rest) {
            read_foreign_token(token);
        }
    } else {
        sign_and_read_back(usize::from(mode / 2) % SIGNERS.len(), rest);
    }
});

/// Whatever parses strictly also decodes leniently to the same JSON; verification either fails
/// or yields exactly the claims that were read unverified, with an algorithm the key allows.
fn read_foreign_token(text: &str) {
    let Ok(token) = UnverifiedToken::parse(text, MAX_LEN) else {
        return;
    };
    let (header, claims) = insecure_decode(text).expect("strictly valid token decodes leniently");
    assert_eq!(header, Value::Object(token.header().raw.clone()));
    assert_eq!(claims, Value::Object(token.unverified_claims().clone()));
    assert_eq!(
        token.unverified_kid(),
        token.header().raw.get("kid").and_then(Value::as_str)
    );
    assert_eq!(token.algorithm(), token.header().alg);
    let alg = token.header().raw.get("alg").and_then(Value::as_str);
    assert_eq!(alg, Some(token.algorithm().as_str()), "alg is read exactly");
    for key in VERIFIERS.iter() {
        match token.verify(key) {
            Ok(verified) => {
                assert!(key.allows(token.algorithm()));
                assert_eq!(verified.claims(), token.unverified_claims());
                assert_eq!(verified.header(), token.header());
            }
            Err(JoseError::AlgorithmKeyMismatch) => assert!(!key.allows(token.algorithm())),
            Err(JoseError::SignatureInvalid) => assert!(key.allows(token.algorithm())),
            Err(other) => panic!("verify failed with an unexpected error: {other:?}"),
        }
    }
    leeway_only_relaxes(token.unverified_claims());
}

/// Signing any JSON object and reading it back gives the same claims, verified by the signer's
/// key only; changing one character of the token makes it fail.
fn sign_and_read_back(signer: usize, payload: &[u8]) {
    let Ok(expected) = serde_json::from_slice::<Map<String, Value>>(payload) else {
        return;
    };
    let signer = &SIGNERS[signer];
    let token = signer.sign_compact(payload).expect("signing succeeds");
    let parsed = match UnverifiedToken::parse(&token, usize::MAX) {
        Ok(parsed) => parsed,
        // serde_json keeps the last duplicate; the strict parser refuses duplicates.
        Err(JoseError::DuplicateMember(_)) => return,
        Err(other) => panic!("a token Sigil signed does not parse: {other:?}"),
    };
    assert_eq!(parsed.unverified_kid(), Some(signer.kid()));
    assert_eq!(parsed.header().typ.as_deref(), Some("JWT"));
    let verified = parsed
        .verify(&signer.verifying_key())
        .expect("a token verifies with its signer's key");
    assert_eq!(verified.claims(), &expected);
    for other in SIGNERS.iter().filter(|other| other.kid() != signer.kid()) {
        assert!(parsed.verify(&other.verifying_key()).is_err());
    }
    leeway_only_relaxes(verified.claims());

    let position = payload.len().wrapping_mul(31) % token.len();
    let mut tampered = token.clone().into_bytes();
    tampered[position] = match tampered[position] {
        b'A' => b'B',
        b'.' => return,
        _ => b'A',
    };
    let tampered = String::from_utf8(tampered).expect("ASCII stays UTF-8");
    if let Ok(parsed) = UnverifiedToken::parse(&tampered, usize::MAX) {
        assert!(
            parsed.verify(&signer.verifying_key()).is_err(),
            "a tampered token verified: {tampered}"
        );
    }
}

/// A larger leeway never turns an accepted token into a refused one.
fn leeway_only_relaxes(claims: &Map<String, Value>) {
    for now in [0, 1_300_819_380, 1_700_000_000, i64::MAX] {
        for max_token_age in [None, Some(0), Some(3_600)] {
            let mut accepted = false;
            for leeway in [0, 60, 86_400, u64::MAX] {
                let rules = TimeRules {
                    now,
                    leeway,
                    require_exp: true,
                    max_token_age,
                };
                let ok = check_times(claims, &rules).is_ok();
                assert!(
                    ok || !accepted,
                    "leeway {leeway} refuses what a smaller one accepted"
                );
                accepted = ok;
            }
        }
    }
}
