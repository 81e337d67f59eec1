//! Discovery and JWKS parsing: what refuses a whole document, what only drops one key.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sigil_jose::{KeyType, SigningKey};

use super::*;

const ISSUER: &str = "https://idp.example.com";

/// A fresh public P-256 JWK with `kid`, `alg` and `use`.
fn ec_jwk() -> Value {
    let (key, _) = SigningKey::generate(KeyType::EcdsaP256, Algorithm::Es256).unwrap();
    serde_json::to_value(key.public_jwk()).unwrap()
}

fn with(mut jwk: Value, member: &str, value: Value) -> Value {
    jwk[member] = value;
    jwk
}

fn without(mut jwk: Value, member: &str) -> Value {
    jwk.as_object_mut().unwrap().remove(member);
    jwk
}

fn jwks(keys: Vec<Value>) -> Vec<u8> {
    serde_json::to_vec(&json!({ "keys": keys })).unwrap()
}

fn discovery(members: Value) -> Vec<u8> {
    serde_json::to_vec(&members).unwrap()
}

fn reasons(parsed: &ParsedJwks) -> Vec<(Option<&str>, &str)> {
    parsed
        .dropped
        .iter()
        .map(|dropped| (dropped.kid.as_deref(), dropped.reason.as_str()))
        .collect()
}

#[test]
fn discovery_url_appends_the_well_known_path_to_an_issuer() {
    assert_eq!(
        discovery_url("https://idp.example.com"),
        "https://idp.example.com/.well-known/openid-configuration"
    );
    assert_eq!(
        discovery_url("https://idp.example.com/"),
        "https://idp.example.com/.well-known/openid-configuration"
    );
}

#[test]
fn discovery_url_drops_the_trailing_slash_of_an_issuer_path() {
    assert_eq!(
        discovery_url("https://x/tenant/"),
        "https://x/tenant/.well-known/openid-configuration"
    );
    assert_eq!(
        discovery_url("https://x/tenant"),
        "https://x/tenant/.well-known/openid-configuration"
    );
}

#[test]
fn discovery_url_keeps_a_url_already_under_well_known() {
    let url = "https://token.actions.githubusercontent.com/.well-known/openid-configuration";
    assert_eq!(discovery_url(url), url);
    let custom = "https://idp.example.com/.well-known/oauth-authorization-server";
    assert_eq!(discovery_url(custom), custom);
}

#[test]
fn discovery_gives_jwks_uri_and_algorithms() {
    let body = discovery(json!({
        "issuer": ISSUER,
        "jwks_uri": "https://idp.example.com/keys",
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "response_types_supported": ["id_token"],
    }));
    assert_eq!(
        parse_discovery(&body, ISSUER),
        Ok(DiscoveryInfo {
            issuer: ISSUER.into(),
            jwks_uri: "https://idp.example.com/keys".into(),
            algorithms: Some(vec!["RS256".into(), "ES256".into()]),
        })
    );
    let minimal = discovery(json!({ "issuer": ISSUER, "jwks_uri": "http://127.0.0.1:8080/k" }));
    assert_eq!(parse_discovery(&minimal, ISSUER).unwrap().algorithms, None);
}

#[test]
fn discovery_naming_another_issuer_is_refused() {
    let body = discovery(
        json!({ "issuer": "https://evil.example.com", "jwks_uri": "https://evil.example.com/k" }),
    );
    assert_eq!(
        parse_discovery(&body, ISSUER),
        Err(DocumentRefused::IssuerMismatch {
            found: "https://evil.example.com".into()
        })
    );
}

#[test]
fn discovery_issuer_differing_by_a_trailing_slash_is_a_mismatch() {
    let body = discovery(
        json!({ "issuer": "https://idp.example.com/", "jwks_uri": "https://idp.example.com/k" }),
    );
    assert_eq!(
        parse_discovery(&body, ISSUER),
        Err(DocumentRefused::IssuerMismatch {
            found: "https://idp.example.com/".into()
        })
    );
}

#[test]
fn discovery_without_jwks_uri_is_refused() {
    let body = discovery(json!({ "issuer": ISSUER }));
    assert_eq!(
        parse_discovery(&body, ISSUER),
        Err(DocumentRefused::MissingField("jwks_uri"))
    );
    let no_issuer = discovery(json!({ "jwks_uri": "https://idp.example.com/k" }));
    assert_eq!(
        parse_discovery(&no_issuer, ISSUER),
        Err(DocumentRefused::MissingField("issuer"))
    );
}

#[test]
fn discovery_with_a_relative_or_non_http_jwks_uri_is_refused() {
    for uri in [
        json!("/keys"),
        json!("ftp://idp.example.com/keys"),
        json!(42),
        json!(""),
    ] {
        let body = discovery(json!({ "issuer": ISSUER, "jwks_uri": uri }));
        assert_eq!(
            parse_discovery(&body, ISSUER),
            Err(DocumentRefused::InvalidField("jwks_uri")),
            "{uri}"
        );
    }
}

#[test]
fn discovery_with_malformed_algorithms_is_refused() {
    let body = discovery(json!({
        "issuer": ISSUER,
        "jwks_uri": "https://idp.example.com/k",
        "id_token_signing_alg_values_supported": "RS256",
    }));
    assert_eq!(
        parse_discovery(&body, ISSUER),
        Err(DocumentRefused::InvalidField(
            "id_token_signing_alg_values_supported"
        ))
    );
}

#[test]
fn discovery_that_is_not_a_json_object_is_refused() {
    assert!(matches!(
        parse_discovery(b"<html>", ISSUER),
        Err(DocumentRefused::NotJson(_))
    ));
    assert_eq!(
        parse_discovery(b"[1,2]", ISSUER),
        Err(DocumentRefused::NotAnObject)
    );
}

#[test]
fn jwks_that_is_not_json_is_refused() {
    for body in [&b""[..], b"garbage", b"{\"keys\":[", b"\xff\xfe"] {
        assert!(
            matches!(parse_jwks(body), Err(DocumentRefused::NotJson(_))),
            "{body:?}"
        );
    }
    assert_eq!(parse_jwks(b"[]").unwrap_err(), DocumentRefused::NotAnObject);
}

#[test]
fn jwks_naming_a_member_twice_is_refused() {
    let key = ec_jwk();
    let body = format!(r#"{{"keys":[{key}],"keys":[]}}"#);
    assert!(matches!(
        parse_jwks(body.as_bytes()),
        Err(DocumentRefused::NotJson(_))
    ));
    let inner = format!(r#"{{"keys":[{{"kty":"EC","kty":"RSA"}}, {key}]}}"#);
    assert!(matches!(
        parse_jwks(inner.as_bytes()),
        Err(DocumentRefused::NotJson(_))
    ));
}

#[test]
fn jwks_without_a_keys_array_is_refused() {
    for body in [
        json!({}),
        json!({ "keys": {} }),
        json!({ "keys": null }),
        json!({ "key": [] }),
    ] {
        assert_eq!(
            parse_jwks(&serde_json::to_vec(&body).unwrap()).unwrap_err(),
            DocumentRefused::MissingKeysArray,
            "{body}"
        );
    }
}

#[test]
fn a_key_with_private_members_is_dropped_and_the_others_stay() {
    let good = ec_jwk();
    let leaking = with(ec_jwk(), "d", json!("c2VjcmV0"));
    let leaking = with(leaking, "kid", json!("leaky"));
    let parsed = parse_jwks(&jwks(vec![good.clone(), leaking])).unwrap();
    assert_eq!(parsed.keys.len(), 1);
    assert_eq!(parsed.dropped.len(), 1);
    assert_eq!(parsed.dropped[0].kid.as_deref(), Some("leaky"));
    assert!(parsed.dropped[0].reason.contains("never trusted"));
    for member in ["p", "q", "dp", "dq", "qi", "oth", "k"] {
        let leaking = with(with(ec_jwk(), member, Value::Null), "kid", json!("other"));
        let parsed = parse_jwks(&jwks(vec![good.clone(), leaking])).unwrap();
        assert_eq!(parsed.keys.len(), 1, "{member}");
        assert_eq!(parsed.dropped.len(), 1, "{member}");
    }
}

#[test]
fn a_jwks_with_no_usable_key_is_refused_with_every_reason() {
    let leaking = with(with(ec_jwk(), "d", json!("c2VjcmV0")), "kid", json!("a"));
    let symmetric = json!({"kty": "oct", "k": "c2VjcmV0", "kid": "b"});
    let future = json!({"kty": "AKP", "alg": "ML-DSA-44", "pub": "AAAA", "kid": "c"});
    match parse_jwks(&jwks(vec![leaking, symmetric, future])).unwrap_err() {
        DocumentRefused::NoUsableKey { reasons } => {
            for kid in ["\"a\"", "\"b\"", "\"c\""] {
                assert!(reasons.contains(kid), "{reasons}");
            }
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn unusable_keys_are_dropped_with_reasons_and_the_good_key_stays() {
    let good = ec_jwk();
    let encryption = with(ec_jwk(), "use", json!("enc"));
    let symmetric = json!({ "kty": "oct", "kid": "shared" });
    let weak_rsa = json!({
        "kty": "RSA",
        "kid": "weak",
        "n": URL_SAFE_NO_PAD.encode([0xc5u8; 128]),
        "e": "AQAB",
    });
    let even_exponent = json!({
        "kty": "RSA",
        "kid": "even",
        "n": URL_SAFE_NO_PAD.encode([0xc5u8; 256]),
        "e": "Ag",
    });
    let mut off_curve = ec_jwk();
    let mut y = URL_SAFE_NO_PAD
        .decode(off_curve["y"].as_str().unwrap())
        .unwrap();
    y[31] ^= 1;
    off_curve["y"] = json!(URL_SAFE_NO_PAD.encode(y));
    let unknown_type = json!({ "kty": "XYZ", "kid": "odd" });
    let unknown_curve =
        json!({ "kty": "EC", "kid": "curve", "crv": "secp256k1", "x": "AA", "y": "AA" });
    let malformed = json!({ "kty": 7, "kid": "seven" });

    let parsed = parse_jwks(&jwks(vec![
        encryption.clone(),
        symmetric,
        weak_rsa,
        even_exponent,
        off_curve.clone(),
        good.clone(),
        unknown_type,
        unknown_curve,
        malformed,
    ]))
    .unwrap();

    assert_eq!(parsed.keys.len(), 1);
    assert_eq!(parsed.keys[0].kid.as_deref(), good["kid"].as_str());
    assert_eq!(parsed.keys[0].algorithms, vec![Algorithm::Es256]);
    let dropped = reasons(&parsed);
    assert_eq!(dropped.len(), 8, "{dropped:?}");
    let reason_of = |kid: Option<&str>| {
        dropped
            .iter()
            .find(|(dropped_kid, _)| *dropped_kid == kid)
            .map(|(_, reason)| *reason)
            .unwrap()
    };
    assert!(reason_of(encryption["kid"].as_str()).contains("not meant for signatures"));
    assert!(reason_of(Some("shared")).contains("oct"));
    assert!(reason_of(Some("weak")).contains("1024 bits is too weak"));
    assert!(reason_of(Some("even")).contains("exponent"));
    assert!(reason_of(off_curve["kid"].as_str()).contains("not on the curve"));
    assert!(reason_of(Some("odd")).contains("unsupported key"));
    assert!(reason_of(Some("curve")).contains("secp256k1"));
    assert_eq!(reason_of(Some("seven")), "malformed JWK");
}

#[test]
fn two_keys_sharing_a_kid_with_different_material_are_both_dropped() {
    let first = with(ec_jwk(), "kid", json!("shared"));
    let second = with(ec_jwk(), "kid", json!("shared"));
    let other = ec_jwk();
    let parsed = parse_jwks(&jwks(vec![first, other.clone(), second])).unwrap();
    assert_eq!(parsed.keys.len(), 1);
    assert_eq!(parsed.keys[0].kid.as_deref(), other["kid"].as_str());
    let dropped = reasons(&parsed);
    assert_eq!(dropped.len(), 2);
    assert!(
        dropped
            .iter()
            .all(|(kid, reason)| *kid == Some("shared") && reason.starts_with("conflicting kid"))
    );
}

#[test]
fn the_same_key_published_twice_under_one_kid_is_kept() {
    let key = ec_jwk();
    let parsed = parse_jwks(&jwks(vec![key.clone(), key])).unwrap();
    assert_eq!(parsed.keys.len(), 2);
    assert!(parsed.dropped.is_empty());
}

#[test]
fn a_single_key_without_kid_is_kept() {
    let parsed = parse_jwks(&jwks(vec![without(ec_jwk(), "kid")])).unwrap();
    assert_eq!(parsed.keys.len(), 1);
    assert_eq!(parsed.keys[0].kid, None);
}

#[test]
fn keys_without_kid_among_several_are_dropped() {
    let named = ec_jwk();
    let parsed = parse_jwks(&jwks(vec![without(ec_jwk(), "kid"), named.clone()])).unwrap();
    assert_eq!(parsed.keys.len(), 1);
    assert_eq!(parsed.keys[0].kid.as_deref(), named["kid"].as_str());
    assert_eq!(parsed.dropped.len(), 1);
    assert!(
        parsed.dropped[0]
            .reason
            .starts_with("no kid among several keys")
    );
}

#[test]
fn more_than_a_hundred_keys_are_refused_and_a_hundred_are_not() {
    let key = ec_jwk();
    assert_eq!(
        parse_jwks(&jwks(vec![key.clone(); 101])).unwrap_err(),
        DocumentRefused::TooManyKeys { limit: 100 }
    );
    assert_eq!(parse_jwks(&jwks(vec![key; 100])).unwrap().keys.len(), 100);
}

#[test]
fn an_empty_key_set_has_no_usable_key() {
    assert_eq!(
        parse_jwks(br#"{"keys":[]}"#).unwrap_err(),
        DocumentRefused::NoUsableKey {
            reasons: "the key set is empty".into()
        }
    );
}

#[test]
fn absurdly_long_kids_are_shortened_in_reports() {
    let long_kid = "k".repeat(10_000);
    let parsed = parse_jwks(&jwks(vec![
        ec_jwk(),
        json!({ "kty": "oct", "kid": long_kid }),
    ]))
    .unwrap();
    let reported = parsed.dropped[0].kid.as_deref().unwrap();
    assert!(reported.len() < 200 && reported.ends_with('…'));
    let alone = parse_jwks(&jwks(vec![
        json!({ "kty": "oct", "kid": "k".repeat(10_000) }),
    ]));
    match alone {
        Err(DocumentRefused::NoUsableKey { reasons }) => assert!(reasons.len() < 400, "{reasons}"),
        other => panic!("unexpected {other:?}"),
    }
}
