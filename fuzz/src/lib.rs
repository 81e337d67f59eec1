//! What several fuzz targets share: the request-body checks (JSON and YAML run the same
//! properties) and a JSON comparison that tolerates the last-digit float differences of a
//! re-parse.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sigil::duration::HumanDuration;
use sigil::http::admin::identity_mappings::IdentityMappings;
use sigil::http::protocol::mint::MintBody;
use sigil::http::admin::roles::Roles;
use sigil::http::admin::trusted_issuers::TrustedIssuers;
use sigil::http::body::{BodyError, BodyRules, normalize, parse_body, parse_value};
use sigil::http::config_resource::ConfigResource;
use sigil::identity::{CompiledMapping, MappingFields};
use sigil::minting::{CompiledRole, RoleFields};
use sigil::trust::{TrustedIssuerFields, TrustedIssuerSpec};
use sigil_policy::{Policy, PolicyFields};

/// The body rules of the resources, as the server's handlers use them.
pub const TRUSTED_ISSUER_RULES: BodyRules = <TrustedIssuers as ConfigResource>::RULES;
/// Roles: `fixed_claims` holds user data.
pub const ROLE_RULES: BodyRules = <Roles as ConfigResource>::RULES;
/// Identity mappings: the ZITADEL-style seed names.
pub const MAPPING_RULES: BodyRules = <IdentityMappings as ConfigResource>::RULES;
/// Mint requests: caller claims are user data.
pub const MINT_RULES: BodyRules = sigil::http::protocol::mint::RULES;

/// Runs every request-body property on `bytes` sent with `content_type`.
pub fn check_body(content_type: &str, bytes: &[u8]) {
    let parsed = parse_value(Some(content_type), bytes);
    if let Ok(value) = &parsed {
        assert!(value.is_object(), "parse_value answered a non-object");
        let reparsed = parse_value(
            Some("application/json"),
            &serde_json::to_vec(value).expect("a Value serialises"),
        )
        .expect("the JSON form of a parsed body parses");
        assert!(
            same_json(value, &reparsed),
            "JSON re-parse differs: {value} vs {reparsed}"
        );
        for rules in [
            BodyRules::NONE,
            TRUSTED_ISSUER_RULES,
            ROLE_RULES,
            MAPPING_RULES,
            MINT_RULES,
        ] {
            check_normalize(value.clone(), &rules);
        }
    }

    let role = typed::<RoleFields>(content_type, bytes, &ROLE_RULES, &parsed);
    if let Some(fields) = role {
        let compiled = CompiledRole::compile(fields.clone(), HumanDuration::from_secs(86_400));
        let again = round_trip(&fields, &ROLE_RULES);
        assert_eq!(
            compiled.is_ok(),
            CompiledRole::compile(again, HumanDuration::from_secs(86_400)).is_ok(),
            "a role's validity changed across serialise and parse"
        );
    }
    if let Some(fields) =
        typed::<TrustedIssuerFields>(content_type, bytes, &TRUSTED_ISSUER_RULES, &parsed)
        && let Ok(spec) = TrustedIssuerSpec::from_fields(fields)
    {
        let stored = spec.stored_fields();
        let again = round_trip(&stored, &TRUSTED_ISSUER_RULES);
        TrustedIssuerSpec::from_fields(again).expect("stored trusted-issuer fields validate again");
    }
    if let Some(fields) = typed::<MappingFields>(content_type, bytes, &MAPPING_RULES, &parsed)
        && let Ok(mapping) = CompiledMapping::compile(fields.clone())
    {
        let claims = match parsed.as_ref().ok().and_then(|v| v.get("claims_sample")) {
            Some(Value::Object(claims)) => claims.clone(),
            _ => Map::new(),
        };
        let _ = mapping.apply(&claims);
        let again = round_trip(&fields, &MAPPING_RULES);
        CompiledMapping::compile(again).expect("a valid mapping stays valid across a round trip");
    }
    if let Some(fields) = typed::<PolicyFields>(content_type, bytes, &BodyRules::NONE, &parsed)
        && let Ok(policy) = Policy::from_fields("p", &fields)
    {
        let back = Policy::from_fields("p", &policy.to_fields()).expect("to_fields validates");
        assert_eq!(back, policy);
    }
    let _ = typed::<MintBody>(content_type, bytes, &MINT_RULES, &parsed);
}

/// `parse_body` into `T`; a syntax error there must be one `parse_value` also reported.
fn typed<T: DeserializeOwned>(
    content_type: &str,
    bytes: &[u8],
    rules: &BodyRules,
    parsed: &Result<Value, BodyError>,
) -> Option<T> {
    match parse_body::<T>(Some(content_type), bytes, rules) {
        Ok(fields) => {
            assert!(
                parsed.is_ok(),
                "parse_body accepted what parse_value refused"
            );
            Some(fields)
        }
        Err(BodyError::Invalid(errors)) => {
            assert!(parsed.is_ok());
            assert!(!errors.is_empty(), "Invalid with no field errors");
            None
        }
        Err(error) => {
            assert_eq!(Err(&error), parsed.as_ref().map(|_| ()));
            None
        }
    }
}

/// Serialises typed fields to JSON and parses them back with the same rules.
fn round_trip<T: Serialize + DeserializeOwned>(fields: &T, rules: &BodyRules) -> T {
    let text = serde_json::to_vec(fields).expect("fields serialise");
    match parse_body::<T>(Some("application/json"), &text, rules) {
        Ok(again) => again,
        Err(error) => panic!(
            "serialised fields do not parse back: {error:?}\n{}",
            String::from_utf8_lossy(&text)
        ),
    }
}

/// Normalising renames keys only: no `-` is left outside opaque fields, every error is a
/// duplicate, nothing is lost except duplicates, and a second pass changes nothing.
fn check_normalize(value: Value, rules: &BodyRules) {
    let original_len = value.as_object().map_or(0, Map::len);
    let (normalized, errors) = normalize(value, rules);
    let map = normalized.as_object().expect("normalize keeps an object");
    for error in &errors {
        assert_eq!(error.error_code, "duplicate_field", "{error:?}");
    }
    let top_level_duplicates = original_len - map.len();
    assert!(top_level_duplicates <= errors.len());
    for (key, value) in map {
        assert!(!key.contains('-'), "key {key:?} kept a '-'");
        if !rules.opaque.contains(&key.as_str()) {
            assert_no_dash(value);
        }
    }
    let (again, more) = normalize(normalized.clone(), rules);
    assert!(more.is_empty(), "a second normalisation found {more:?}");
    assert_eq!(again, normalized, "normalisation is not idempotent");
}

fn assert_no_dash(value: &Value) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                assert!(!key.contains('-'), "nested key {key:?} kept a '-'");
                assert_no_dash(value);
            }
        }
        Value::Array(items) => items.iter().for_each(assert_no_dash),
        _ => {}
    }
}

/// Equal JSON, with floats compared to a relative 1e-15 (serde_json's default float parser
/// is not exactly round-trip).
pub fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
            match (x.as_f64(), y.as_f64()) {
                (Some(x), Some(y)) => x == y || ((x - y) / x).abs() < 1e-15,
                _ => false,
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, x)| y.get(key).is_some_and(|y| same_json(x, y)))
        }
        _ => a == b,
    }
}
