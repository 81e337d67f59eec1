use serde_json::{Value, json};

use super::*;
use crate::{Jwk, KeyType, SigningKey, test_keys};

const MAX: usize = 8192;

fn encode_json(value: &Value) -> String {
    b64::encode(&serde_json::to_vec(value).unwrap())
}

/// A token from raw segments; the signature is junk, which parsing never looks at.
fn token_from(header: &str, payload: &str) -> String {
    format!(
        "{}.{}.c2lnbmF0dXJl",
        b64::encode(header.as_bytes()),
        b64::encode(payload.as_bytes())
    )
}

fn parse(token: &str) -> Result<UnverifiedToken<'_>, JoseError> {
    UnverifiedToken::parse(token, MAX)
}

fn parse_error(token: &str) -> JoseError {
    match parse(token) {
        Ok(_) => panic!("token parsed but should not have: {token}"),
        Err(error) => error,
    }
}

#[test]
fn parse_reads_routing_fields_without_verifying() {
    let token = token_from(
        r#"{"alg":"ES256","kid":"k-1","typ":"JWT"}"#,
        r#"{"iss":"https://issuer.example","sub":"a"}"#,
    );
    let parsed = parse(&token).unwrap();
    assert_eq!(parsed.algorithm(), Algorithm::Es256);
    assert_eq!(parsed.unverified_kid(), Some("k-1"));
    assert_eq!(parsed.unverified_issuer(), Some("https://issuer.example"));
    assert_eq!(parsed.unverified_claims()["sub"], "a");
    assert_eq!(parsed.header().typ.as_deref(), Some("JWT"));
}

#[test]
fn parse_refuses_a_token_over_the_limit_before_decoding() {
    let garbage = "!".repeat(101);
    assert_eq!(
        UnverifiedToken::parse(&garbage, 100).map(|_| ()),
        Err(JoseError::TokenTooLarge {
            size: 101,
            limit: 100
        })
    );
    let token = token_from(r#"{"alg":"ES256"}"#, "{}");
    assert!(UnverifiedToken::parse(&token, token.len()).is_ok());
    assert!(UnverifiedToken::parse(&token, token.len() - 1).is_err());
}

#[test]
fn parse_refuses_two_segments() {
    assert_eq!(
        parse_error("eyJhbGciOiJFUzI1NiJ9.e30"),
        JoseError::Malformed("token must have three segments")
    );
}

#[test]
fn parse_refuses_four_segments() {
    let token = format!("{}.x", token_from(r#"{"alg":"ES256"}"#, "{}"));
    assert_eq!(
        parse_error(&token),
        JoseError::Malformed("token must have three segments")
    );
}

#[test]
fn parse_refuses_jwe() {
    assert_eq!(
        parse_error("eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d"),
        JoseError::Malformed("JWE not supported")
    );
}

#[test]
fn parse_refuses_base64_padding() {
    // {"alg":"ES256"} encodes to 20 characters; padding it is not base64url.
    let token = "eyJhbGciOiJFUzI1NiJ9.e30=.c2ln";
    assert_eq!(
        parse_error(token),
        JoseError::Malformed("payload is not base64url")
    );
    assert_eq!(
        parse_error("eyJhbGciOiJFUzI1NiJ9.e30.c2lnbg=="),
        JoseError::Malformed("signature is not base64url")
    );
}

#[test]
fn parse_refuses_invalid_base64_characters() {
    assert_eq!(
        parse_error("eyJhbGciOiJFUzI1NiJ9.e30.c2l+bg"),
        JoseError::Malformed("signature is not base64url")
    );
    assert_eq!(
        parse_error("eyJhbGci OiJFUzI1NiJ9.e30.c2ln"),
        JoseError::Malformed("header is not base64url")
    );
}

#[test]
fn parse_refuses_a_header_that_is_not_an_object() {
    assert_eq!(
        parse_error(&token_from(r#"["ES256"]"#, "{}")),
        JoseError::Malformed("header is not a JSON object")
    );
    assert_eq!(
        parse_error(&token_from("not json", "{}")),
        JoseError::Malformed("header is not a JSON object")
    );
}

#[test]
fn parse_refuses_a_payload_that_is_not_an_object() {
    assert_eq!(
        parse_error(&token_from(r#"{"alg":"ES256"}"#, "42")),
        JoseError::Malformed("payload is not a JSON object")
    );
}

#[test]
fn parse_refuses_duplicate_member_in_header() {
    assert_eq!(
        parse_error(&token_from(r#"{"alg":"ES256","alg":"none"}"#, "{}")),
        JoseError::DuplicateMember("alg".into())
    );
}

#[test]
fn parse_refuses_duplicate_member_in_payload() {
    assert_eq!(
        parse_error(&token_from(
            r#"{"alg":"ES256"}"#,
            r#"{"sub":"a","sub":"b"}"#
        )),
        JoseError::DuplicateMember("sub".into())
    );
}

#[test]
fn parse_refuses_nested_duplicate_member() {
    let payload = r#"{"sub":"a","act":{"sub":"b","may_act":{"sub":"c","sub":"d"}}}"#;
    assert_eq!(
        parse_error(&token_from(r#"{"alg":"ES256"}"#, payload)),
        JoseError::DuplicateMember("sub".into())
    );
}

#[test]
fn parse_refuses_alg_none() {
    assert_eq!(
        parse_error("eyJhbGciOiJub25lIn0.e30."),
        JoseError::AlgorithmNotAllowed
    );
}

#[test]
fn parse_refuses_alg_hs256() {
    assert_eq!(
        parse_error(&token_from(r#"{"alg":"HS256"}"#, "{}")),
        JoseError::AlgorithmNotAllowed
    );
}

#[test]
fn parse_refuses_unknown_alg() {
    assert_eq!(
        parse_error(&token_from(r#"{"alg":"ES256K"}"#, "{}")),
        JoseError::UnknownAlgorithm("ES256K".into())
    );
}

#[test]
fn parse_refuses_unknown_crit() {
    assert_eq!(
        parse_error(&token_from(
            r#"{"alg":"ES256","crit":["exp"],"exp":1}"#,
            "{}"
        )),
        JoseError::UnsupportedCritical("exp".into())
    );
}

#[test]
fn parse_refuses_empty_crit() {
    assert_eq!(
        parse_error(&token_from(r#"{"alg":"ES256","crit":[]}"#, "{}")),
        JoseError::Malformed("crit is empty")
    );
}

#[test]
fn parse_refuses_unencoded_payload() {
    assert_eq!(
        parse_error(&token_from(
            r#"{"alg":"ES256","b64":false,"crit":["b64"]}"#,
            "{}"
        )),
        JoseError::UnsupportedCritical("b64".into())
    );
    assert_eq!(
        parse_error(&token_from(r#"{"alg":"ES256","b64":false}"#, "{}")),
        JoseError::Malformed("unencoded payload (b64) is not supported")
    );
}

#[test]
fn parse_refuses_empty_signature() {
    let token = format!(
        "{}.",
        token_from(r#"{"alg":"ES256"}"#, "{}")
            .rsplit_once('.')
            .unwrap()
            .0
    );
    assert_eq!(
        parse_error(&token),
        JoseError::Malformed("signature is empty")
    );
}

#[test]
fn debug_output_leaves_out_the_signature() {
    let parsed = parse(test_keys::RFC7515_A3_JWS).unwrap();
    let debug = format!("{parsed:?}");
    assert!(debug.contains("\"joe\""), "{debug}");
    assert!(!debug.contains("signature"), "{debug}");
}

/// Signs a token with `signer` under an arbitrary header.
fn sign_with_header(signer: &SigningKey, header: &Value, claims: &Value) -> String {
    let signing_input = format!("{}.{}", encode_json(header), encode_json(claims));
    let signature = signer.sign_raw(signing_input.as_bytes()).unwrap();
    format!("{signing_input}.{}", b64::encode(&signature))
}

#[test]
fn key_hints_in_the_header_do_not_choose_the_key() {
    let (trusted, _) = SigningKey::generate(KeyType::EcdsaP256, Algorithm::Es256).unwrap();
    let (attacker, _) = SigningKey::generate(KeyType::EcdsaP256, Algorithm::Es256).unwrap();
    let trusted_key = VerifyingKey::from_jwk(trusted.public_jwk()).unwrap();
    let attacker_jwk: &Jwk = attacker.public_jwk();
    let header = json!({
        "alg": "ES256", "kid": trusted.kid(), "jwk": attacker_jwk,
        "jku": "https://attacker.example/jwks.json", "x5u": "https://attacker.example/cert",
        "x5c": ["MIIB"]
    });
    let claims = json!({"sub": "admin"});

    let forged = sign_with_header(&attacker, &header, &claims);
    let parsed = parse(&forged).unwrap();
    let recorded = parsed.header();
    assert!(recorded.has_jku && recorded.has_x5u && recorded.has_x5c && recorded.has_jwk);
    assert_eq!(
        parsed.verify(&trusted_key),
        Err(JoseError::SignatureInvalid)
    );

    let genuine = sign_with_header(&trusted, &header, &claims);
    let verified = parse(&genuine).unwrap().verify(&trusted_key).unwrap();
    assert_eq!(verified.claims()["sub"], "admin");
    assert!(verified.header().has_jwk);
    assert_eq!(verified.into_claims().len(), 1);
}
