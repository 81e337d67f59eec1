//! Tests of body parsing: media types, syntax errors, normalisation, collected field errors.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::json;

use super::*;
use crate::duration::HumanDuration;

const JSON: Option<&str> = Some("application/json");
const YAML: Option<&str> = Some("application/yaml");

const ISSUER_RULES: BodyRules = BodyRules {
    aliases: &[("iss", "issuer"), ("JWKsURL", "jwks_url")],
    opaque: &["fixed_claims", "claims"],
};

#[derive(Debug, Default, Deserialize, PartialEq)]
struct Issuer {
    name: Option<String>,
    signing_key: Option<String>,
    issuer: Option<String>,
    jwks_url: Option<String>,
    default_ttl: Option<HumanDuration>,
    max_ttl: Option<HumanDuration>,
    leeway: Option<u32>,
    fixed_claims: Option<BTreeMap<String, Value>>,
    distribute: Option<Distribute>,
}

#[derive(Debug, Default, Deserialize, PartialEq)]
struct Distribute {
    to: Option<String>,
    sites: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
struct Required {
    #[allow(dead_code)]
    name: String,
}

fn issuer(content_type: Option<&str>, body: &str) -> Result<Issuer, BodyError> {
    parse_body(content_type, body.as_bytes(), &ISSUER_RULES)
}

fn invalid(result: Result<Issuer, BodyError>) -> Vec<(String, String, String)> {
    match result {
        Err(BodyError::Invalid(errors)) => errors
            .into_iter()
            .map(|e| (e.name, e.error_code, e.reason))
            .collect(),
        other => panic!("expected invalid fields, got {other:?}"),
    }
}

fn syntax(result: Result<Issuer, BodyError>) -> String {
    match result {
        Err(BodyError::Syntax { message }) => message,
        other => panic!("expected a syntax error, got {other:?}"),
    }
}

#[test]
fn accepts_json() {
    let parsed = issuer(
        JSON,
        r#"{"name": "payments", "signing_key": "k", "default_ttl": "1h"}"#,
    );
    assert_eq!(
        parsed.unwrap(),
        Issuer {
            name: Some("payments".into()),
            signing_key: Some("k".into()),
            default_ttl: Some(HumanDuration::from_secs(3_600)),
            ..Issuer::default()
        }
    );
}

#[test]
fn accepts_yaml_with_dashed_keys() {
    let body = "name: payments\nsigning-key: payments-jwt-key\ndefault-ttl: 1h\nmax-ttl: 1d\n";
    let parsed = issuer(YAML, body).unwrap();
    assert_eq!(parsed.signing_key.as_deref(), Some("payments-jwt-key"));
    assert_eq!(parsed.default_ttl, Some(HumanDuration::from_secs(3_600)));
    assert_eq!(parsed.max_ttl, Some(HumanDuration::from_secs(86_400)));
}

#[test]
fn every_yaml_media_type_and_json_variant_is_accepted() {
    for content_type in [
        "application/x-yaml",
        "text/yaml",
        "application/yaml; charset=utf-8",
    ] {
        assert!(
            issuer(Some(content_type), "name: a").is_ok(),
            "{content_type}"
        );
    }
    for content_type in [
        None,
        Some("*/*"),
        Some("application/json; charset=utf-8"),
        Some("Application/JSON"),
        Some("application/merge-patch+json"),
    ] {
        assert!(
            issuer(content_type, r#"{"name":"a"}"#).is_ok(),
            "{content_type:?}"
        );
    }
}

#[test]
fn other_media_types_are_unsupported() {
    let refused = issuer(Some("text/plain"), "name: a").unwrap_err();
    assert_eq!(
        refused,
        BodyError::UnsupportedMediaType("text/plain".into())
    );
    assert_eq!(
        refused.to_string(),
        "unsupported media type \"text/plain\": send application/json or application/yaml"
    );
}

#[test]
fn curl_form_bodies_are_read_as_json() {
    let form = Some("application/x-www-form-urlencoded");
    assert!(issuer(form, r#"{"name":"a"}"#).is_ok());
    assert!(matches!(
        issuer(form, "name=a"),
        Err(BodyError::Syntax { .. })
    ));
}

#[test]
fn dashes_become_underscores_in_nested_keys() {
    let parsed = issuer(JSON, r#"{"distribute": {"to": "all"}, "max-ttl": 60}"#).unwrap();
    assert_eq!(parsed.distribute.unwrap().to.as_deref(), Some("all"));
    let normalized = normalize(json!({"a-b": {"c-d": [{"e-f": 1}]}}), &BodyRules::NONE).0;
    assert_eq!(normalized, json!({"a_b": {"c_d": [{"e_f": 1}]}}));
}

#[test]
fn opaque_fields_keep_their_keys_but_not_their_own_name() {
    let parsed = issuer(
        YAML,
        "fixed-claims:\n  team-name: payments\n  nested: {a-b: 1}\n",
    )
    .unwrap();
    let claims = parsed.fixed_claims.unwrap();
    assert_eq!(claims["team-name"], json!("payments"));
    assert_eq!(claims["nested"], json!({"a-b": 1}));
}

#[test]
fn aliases_map_to_canonical_names() {
    let parsed = issuer(
        JSON,
        r#"{"iss": "https://ci.example", "JWKsURL": "https://ci.example/jwks"}"#,
    )
    .unwrap();
    assert_eq!(parsed.issuer.as_deref(), Some("https://ci.example"));
    assert_eq!(parsed.jwks_url.as_deref(), Some("https://ci.example/jwks"));
}

#[test]
fn an_alias_and_its_canonical_name_together_are_a_duplicate() {
    let errors = invalid(issuer(JSON, r#"{"iss": "a", "issuer": "b"}"#));
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].0.as_str(), errors[0].1.as_str()),
        ("issuer", "duplicate_field")
    );
    assert!(errors[0].2.contains("\"iss\"") && errors[0].2.contains("\"issuer\""));
}

#[test]
fn dashed_and_underscored_spellings_together_are_a_duplicate() {
    let errors = invalid(issuer(YAML, "max-ttl: 1h\nmax_ttl: 2h\n"));
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].0.as_str(), errors[0].1.as_str()),
        ("max_ttl", "duplicate_field")
    );
    let (_, nested) = normalize(json!({"a": [{"b-c": 1, "b_c": 2}]}), &BodyRules::NONE);
    assert_eq!(nested.len(), 1);
    assert_eq!(
        (nested[0].name.as_str(), nested[0].error_code.as_str()),
        ("a/0/b_c", "duplicate_field")
    );
}

#[test]
fn unknown_fields_are_all_listed_with_their_paths() {
    let errors = invalid(issuer(
        JSON,
        r#"{"name": "a", "colour": "red", "distribute": {"to": "all", "weight": 3}, "zzz": 1}"#,
    ));
    assert_eq!(
        errors,
        [
            (
                "colour".into(),
                "unknown_field".into(),
                "is not a known field".into()
            ),
            (
                "distribute/weight".into(),
                "unknown_field".into(),
                "is not a known field".into()
            ),
            (
                "zzz".into(),
                "unknown_field".into(),
                "is not a known field".into()
            ),
        ]
    );
}

#[test]
fn two_type_errors_are_both_listed() {
    let errors = invalid(issuer(
        JSON,
        r#"{"leeway": "x", "max_ttl": "5h1d", "name": 7}"#,
    ));
    let names: Vec<&str> = errors.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, ["leeway", "max_ttl", "name"]);
    assert!(errors.iter().all(|e| e.1 == "invalid_type"));
    assert_eq!(errors[0].2, "invalid type: string \"x\", expected u32");
    assert!(
        errors[1]
            .2
            .contains("units must appear in the order y, d, h, m, s")
    );
    assert_eq!(errors[2].2, "invalid type: integer `7`, expected a string");
}

#[test]
fn nested_type_errors_name_the_full_path() {
    let errors = invalid(issuer(YAML, "distribute:\n  sites: [a, 3]\n"));
    assert_eq!(errors[0].0, "distribute/sites/1");
    assert_eq!(errors[0].1, "invalid_type");
}

#[test]
fn type_errors_and_unknown_fields_are_listed_together() {
    let errors = invalid(issuer(JSON, r#"{"leeway": -1, "extra": true}"#));
    let names: Vec<&str> = errors.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(names, ["extra", "leeway"]);
}

#[test]
fn a_missing_required_field_is_reported_as_required() {
    let refused = parse_body::<Required>(JSON, br#"{"other": 1}"#, &BodyRules::NONE).unwrap_err();
    let BodyError::Invalid(errors) = refused else {
        panic!("{refused:?}")
    };
    let codes: Vec<(&str, &str)> = errors
        .iter()
        .map(|e| (e.name.as_str(), e.error_code.as_str()))
        .collect();
    assert_eq!(codes, [("name", "required"), ("other", "unknown_field")]);
}

#[test]
fn a_required_field_of_the_wrong_type_is_reported_once() {
    let refused = parse_body::<Required>(JSON, br#"{"name": 1}"#, &BodyRules::NONE).unwrap_err();
    let BodyError::Invalid(errors) = refused else {
        panic!("{refused:?}")
    };
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].error_code, "invalid_type");
}

#[test]
fn json_syntax_errors_give_line_and_column() {
    let message = syntax(issuer(JSON, "{\n  \"name\": \"a\",\n  oops\n}"));
    assert!(
        message.starts_with("invalid JSON at line 3, column 3: "),
        "{message}"
    );
    assert!(message.contains("key must be a string"), "{message}");
}

#[test]
fn yaml_syntax_errors_give_line_and_column() {
    let message = syntax(issuer(YAML, "name: a\nsigning-key: [unclosed\n"));
    assert!(message.starts_with("invalid YAML at line "), "{message}");
    assert!(message.contains(", column "), "{message}");
}

#[test]
fn duplicate_json_keys_are_refused() {
    let message = syntax(issuer(JSON, r#"{"name": "a", "name": "b"}"#));
    assert!(
        message.starts_with("invalid JSON at line 1, column "),
        "{message}"
    );
    assert!(message.contains("duplicate key \"name\""), "{message}");
}

#[test]
fn duplicate_yaml_keys_are_refused() {
    let message = syntax(issuer(YAML, "name: a\nname: b\n"));
    assert!(
        message.starts_with("invalid YAML at line 2, column 1"),
        "{message}"
    );
    assert!(message.contains("name"), "{message}");
}

#[test]
fn an_empty_body_is_a_syntax_error() {
    assert_eq!(syntax(issuer(JSON, "")), "request body is empty");
    assert_eq!(syntax(issuer(YAML, " \n ")), "request body is empty");
}

#[test]
fn a_body_that_is_not_an_object_is_refused() {
    assert_eq!(
        syntax(issuer(JSON, "[1, 2]")),
        "the request body must be an object of field names and values, not an array"
    );
    assert!(syntax(issuer(YAML, "just a string")).ends_with("not a string"));
    assert!(syntax(issuer(YAML, "---\n")).ends_with("not null"));
}

#[test]
fn yaml_alias_bombs_are_refused() {
    let mut bomb = String::from("a: &a [\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"]\n");
    let mut previous = 'a';
    for level in ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'] {
        let refs = vec![format!("*{previous}"); 9].join(", ");
        bomb.push_str(&format!("{level}: &{level} [{refs}]\n"));
        previous = level;
    }
    let message = syntax(issuer(YAML, &bomb));
    assert!(message.starts_with("invalid YAML"), "{message}");
}

#[test]
fn modest_yaml_anchors_still_work() {
    let body = "distribute: &d {sites: [a, b]}\nfixed-claims: {copy: *d}\n";
    let parsed = issuer(YAML, body).unwrap();
    assert_eq!(
        parsed.fixed_claims.unwrap()["copy"],
        json!({"sites": ["a", "b"]})
    );
}

#[test]
fn parse_value_returns_the_object_as_sent() {
    let value = parse_value(YAML, b"max-ttl: 1h\nlist: [1, 2.5, true, null]\n").unwrap();
    assert_eq!(
        value,
        json!({"max-ttl": "1h", "list": [1, 2.5, true, null]})
    );
}

#[test]
fn merge_patch_follows_the_rfc_7396_examples() {
    // RFC 7396 Appendix A.
    let cases = [
        (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
        (
            json!({"a": "b"}),
            json!({"b": "c"}),
            json!({"a": "b", "b": "c"}),
        ),
        (json!({"a": "b"}), json!({"a": null}), json!({})),
        (
            json!({"a": "b", "b": "c"}),
            json!({"a": null}),
            json!({"b": "c"}),
        ),
        (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
        (json!({"a": "c"}), json!({"a": ["b"]}), json!({"a": ["b"]})),
        (
            json!({"a": {"b": "c"}}),
            json!({"a": {"b": "d", "c": null}}),
            json!({"a": {"b": "d"}}),
        ),
        (
            json!({"a": [{"b": "c"}]}),
            json!({"a": [1]}),
            json!({"a": [1]}),
        ),
        (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
        (json!({"a": "b"}), json!(["c"]), json!(["c"])),
        (json!({"a": "foo"}), json!(null), json!(null)),
        (json!({"a": "foo"}), json!("bar"), json!("bar")),
        (
            json!({"e": null}),
            json!({"a": 1}),
            json!({"e": null, "a": 1}),
        ),
        (
            json!([1, 2]),
            json!({"a": "b", "c": null}),
            json!({"a": "b"}),
        ),
        (
            json!({}),
            json!({"a": {"bb": {"ccc": null}}}),
            json!({"a": {"bb": {}}}),
        ),
    ];
    for (mut target, patch, expected) in cases {
        merge_patch(&mut target, &patch);
        assert_eq!(target, expected, "patch {patch}");
    }
}

#[test]
fn normalized_patch_merges_into_a_canonical_document() {
    let mut current = json!({"name": "a", "max_ttl": "1h", "fixed_claims": {"team-name": "x"}});
    let patch = parse_value(
        YAML,
        b"max-ttl: 2h\nfixed-claims:\n  team-name: null\n  env: prod\n",
    )
    .unwrap();
    let (patch, errors) = normalize(patch, &ISSUER_RULES);
    assert!(errors.is_empty());
    merge_patch(&mut current, &patch);
    let merged: Issuer = from_value(current).unwrap();
    assert_eq!(merged.max_ttl, Some(HumanDuration::from_secs(7_200)));
    assert_eq!(
        merged.fixed_claims.unwrap(),
        BTreeMap::from([("env".into(), json!("prod"))])
    );
}
