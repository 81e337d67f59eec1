//! Tests of the `where` language: precedence, operators, types, arrays and error positions.

use serde_json::{Value, json};

use super::*;

fn matches(expression: &str, item: &Value) -> bool {
    WhereExpr::parse(expression)
        .unwrap_or_else(|e| panic!("{expression:?} should parse: {e}"))
        .matches(item)
}

fn error(expression: &str) -> WhereError {
    WhereExpr::parse(expression).expect_err("should not parse")
}

#[test]
fn and_binds_tighter_than_or() {
    let expression = "a = 1 or b = 1 and c = 1";
    assert!(matches(expression, &json!({"a": 1, "b": 0, "c": 0})));
    assert!(matches(expression, &json!({"a": 0, "b": 1, "c": 1})));
    assert!(!matches(expression, &json!({"a": 0, "b": 1, "c": 0})));
}

#[test]
fn not_binds_tighter_than_and() {
    let expression = "not a = 1 and b = 1";
    assert!(matches(expression, &json!({"a": 0, "b": 1})));
    assert!(!matches(expression, &json!({"a": 1, "b": 1})));
    assert!(!matches(expression, &json!({"a": 0, "b": 0})));
}

#[test]
fn parentheses_group_before_precedence() {
    let expression = "(a = 1 or b = 1) and c = 1";
    assert!(!matches(expression, &json!({"a": 1, "b": 0, "c": 0})));
    assert!(matches(expression, &json!({"a": 0, "b": 1, "c": 1})));
    assert!(matches("not (a = 1 or b = 1)", &json!({"a": 0, "b": 0})));
    assert!(matches("((((a=1))))", &json!({"a": 1})));
}

#[test]
fn keywords_are_case_insensitive() {
    let expression = "a = 1 AND b = 2 Or NOT c = 3";
    assert!(matches(expression, &json!({"a": 1, "b": 2, "c": 3})));
    assert!(matches(expression, &json!({"a": 0, "b": 0, "c": 0})));
    assert!(!matches(expression, &json!({"a": 0, "b": 0, "c": 3})));
}

#[test]
fn a_field_named_like_a_keyword_is_still_a_field() {
    assert!(matches("not = 1", &json!({"not": 1})));
    assert!(matches("nothing = 1", &json!({"nothing": 1})));
    assert!(matches("order = 1 or x = 1", &json!({"order": 1})));
}

#[test]
fn every_operator_compares_numbers_numerically() {
    let item = json!({"n": 10});
    for (expression, expected) in [
        ("n = 10", true),
        ("n = 9", false),
        ("n != 9", true),
        ("n != 10", false),
        ("n < 11", true),
        ("n < 10", false),
        ("n <= 10", true),
        ("n <= 9", false),
        ("n > 9", true),
        ("n > 10", false),
        ("n >= 10", true),
        ("n >= 11", false),
        ("n > 9.5", true),
        ("n > -3", true),
        ("n=10", true),
        ("n>=2", true),
    ] {
        assert_eq!(matches(expression, &item), expected, "{expression}");
    }
}

#[test]
fn floats_and_negative_numbers_compare() {
    let item = json!({"ratio": 0.5, "offset": -4});
    assert!(matches("ratio >= 0.5", &item));
    assert!(matches("ratio < 1", &item));
    assert!(matches("offset < -3", &item));
    assert!(matches("offset = -4", &item));
    assert!(matches("ratio = 5e-1", &item));
}

#[test]
fn strings_compare_lexicographically() {
    let item = json!({"name": "beta"});
    assert!(matches("name = beta", &item));
    assert!(matches("name > alpha", &item));
    assert!(matches("name < gamma", &item));
    assert!(matches("name >= beta", &item));
    assert!(!matches("name <= alpha", &item));
    assert!(matches("name != gamma", &item));
}

#[test]
fn bare_words_with_dashes_are_strings() {
    let item = json!({"type": "ecdsa-p256"});
    assert!(matches("type = ecdsa-p256", &item));
    assert!(!matches("type = ecdsa-p384", &item));
}

#[test]
fn quoted_strings_keep_spaces_and_escapes() {
    let item = json!({"display_name": "Example JWT mapping 2", "note": "it's \"quoted\""});
    assert!(matches(r#"display_name = "Example JWT mapping 2""#, &item));
    assert!(matches("display_name = 'Example JWT mapping 2'", &item));
    assert!(matches(r#"note = 'it\'s "quoted"'"#, &item));
    assert!(matches(r#"note = "it's \"quoted\"""#, &item));
}

#[test]
fn quoted_values_are_always_strings() {
    let item = json!({"flag": "true", "count": 3});
    assert!(matches(r#"flag = "true""#, &item));
    assert!(!matches("flag = true", &item));
    assert!(!matches(r#"count = "3""#, &item));
}

#[test]
fn booleans_compare_with_equality_only() {
    let item = json!({"internal": true});
    assert!(matches("internal = true", &item));
    assert!(matches("internal = TRUE", &item));
    assert!(matches("internal != false", &item));
    assert!(!matches("internal = false", &item));
    let refused = error("internal < true");
    assert_eq!(refused.position, 10);
    assert_eq!(refused.message, "'<' cannot compare booleans; use = or !=");
}

#[test]
fn glob_matches_with_star_question_mark_and_classes() {
    let item = json!({"name": "payments-jwt-key", "path": "/jwt-issuers/a/roles"});
    assert!(matches("name ~ pay*", &item));
    assert!(matches("name ~ \"*-jwt-*\"", &item));
    assert!(matches("name ~ payments-jwt-ke?", &item));
    assert!(matches("name ~ [op]ayments-*", &item));
    assert!(matches("name ~ {billing,payments}-*", &item));
    assert!(!matches("name ~ billing*", &item));
    assert!(!matches("name ~ pay", &item));
}

#[test]
fn glob_star_crosses_slashes() {
    assert!(matches(
        "path ~ /jwt-issuers/*",
        &json!({"path": "/jwt-issuers/a/roles"})
    ));
}

#[test]
fn glob_matches_the_text_of_numbers_and_booleans() {
    let item = json!({"version": 12, "internal": false});
    assert!(matches("version ~ 1*", &item));
    assert!(matches("internal ~ f*", &item));
}

#[test]
fn duration_literal_compares_duration_strings_as_seconds() {
    assert!(matches("max_ttl > 1h", &json!({"max_ttl": "2h"})));
    assert!(!matches("max_ttl > 1h", &json!({"max_ttl": "30m"})));
    assert!(matches("max_ttl = 60m", &json!({"max_ttl": "1h"})));
    assert!(matches("max_ttl >= 1d", &json!({"max_ttl": "1y"})));
    assert!(matches("max_ttl < 10m30s", &json!({"max_ttl": "10m"})));
}

#[test]
fn duration_literal_compares_numbers_as_seconds() {
    assert!(matches("leeway = 1m", &json!({"leeway": 60})));
    assert!(matches("leeway < 1m", &json!({"leeway": 59})));
}

#[test]
fn number_literal_compares_duration_strings_as_seconds() {
    assert!(matches("max_ttl = 3600", &json!({"max_ttl": "1h"})));
    assert!(matches("max_ttl > 60", &json!({"max_ttl": "1h"})));
}

#[test]
fn duration_literal_against_other_strings_compares_the_text() {
    assert!(matches("name = 1h", &json!({"name": "1h"})));
    assert!(!matches("name = 1h", &json!({"name": "key"})));
    assert!(matches("name != 1h", &json!({"name": "key"})));
}

#[test]
fn paths_select_inside_objects_and_accept_dashes() {
    let item = json!({"default_ttl": "5m", "distribute": {"to": "all"}});
    assert!(matches("default-ttl = 5m", &item));
    assert!(matches("distribute/to = all", &item));
    assert!(!matches("distribute/sites = a", &item));
}

#[test]
fn arrays_match_when_any_element_does() {
    let item = json!({"audiences": ["a", "b"]});
    assert!(matches("audiences = b", &item));
    assert!(!matches("audiences = c", &item));
    assert!(matches("audiences != a", &item));
    assert!(!matches("not audiences = a", &item));
    assert!(matches("audiences ~ \"[ab]\"", &item));
}

#[test]
fn paths_step_into_arrays_of_objects() {
    let item = json!({"rules": [{"path": "/policies/*"}, {"path": "/jwt-issuers/**"}]});
    assert!(matches("rules/path ~ /jwt-issuers/*", &item));
    assert!(!matches("rules/path = /signing-keys", &item));
}

#[test]
fn missing_fields_fail_every_comparison_except_not_equal() {
    let item = json!({"name": "a", "nothing": null, "empty": []});
    for path in ["missing", "nothing", "empty", "name/deeper"] {
        assert!(!matches(&format!("{path} = 1"), &item), "{path}");
        assert!(!matches(&format!("{path} < 1"), &item), "{path}");
        assert!(!matches(&format!("{path} ~ *"), &item), "{path}");
        assert!(matches(&format!("{path} != 1"), &item), "{path}");
    }
}

#[test]
fn type_mismatches_are_false_even_for_not_equal() {
    let item = json!({"enabled": true, "count": 3, "object": {"a": 1}, "name": "x"});
    assert!(!matches("enabled != x", &item));
    assert!(!matches("count != abc", &item));
    assert!(!matches("object = 1", &item));
    assert!(!matches("object != 1", &item));
    assert!(!matches("name < 5", &item));
}

#[test]
fn missing_value_error_names_the_operator_and_position() {
    let refused = error("default_ttl >=");
    assert_eq!(
        refused.to_string(),
        "expected a value after '>=' at position 15"
    );
    assert_eq!(error("(a = )").position, 6);
}

#[test]
fn missing_operator_error_lists_the_operators() {
    let refused = error("name ecdsa");
    assert_eq!(refused.position, 6);
    assert_eq!(
        refused.message,
        "expected an operator (=, !=, <, <=, >, >=, ~) after 'name'"
    );
}

#[test]
fn unclosed_parenthesis_error_points_at_the_end_and_names_the_opening() {
    let refused = error("a = 1 and (b = 2");
    assert_eq!(refused.position, 17);
    assert!(
        refused.message.contains("'(' at position 11"),
        "{}",
        refused.message
    );
}

#[test]
fn stray_tokens_are_errors_at_their_position() {
    assert_eq!(error("a = 1)").to_string(), "unmatched ')' at position 6");
    let refused = error("a = 1 b = 2");
    assert_eq!(refused.position, 7);
    assert!(
        refused
            .message
            .starts_with("expected 'and', 'or' or the end")
    );
    let inside = error("(a = 1 b = 2)");
    assert_eq!(inside.position, 8);
    assert!(inside.message.starts_with("expected 'and', 'or' or ')'"));
}

#[test]
fn incomplete_expressions_say_what_was_expected() {
    assert_eq!(error("").position, 1);
    assert!(
        error("")
            .message
            .starts_with("expected a field name, 'not' or '('")
    );
    let dangling = error("a = 1 and");
    assert_eq!(dangling.position, 10);
    assert!(dangling.message.contains("the expression ended"));
    assert_eq!(error("5 = a").position, 1);
    assert_eq!(error("not").position, 4);
}

#[test]
fn path_errors_point_after_the_slash() {
    let refused = error("a/ = 1");
    assert_eq!(
        refused.to_string(),
        "expected a field name after '/' at position 3"
    );
}

#[test]
fn unterminated_strings_point_at_the_opening_quote() {
    let refused = error("name = \"abc");
    assert_eq!(refused.position, 8);
    assert!(refused.message.starts_with("unterminated string"));
    assert_eq!(error("name = 'abc\\'").position, 8);
}

#[test]
fn invalid_globs_are_errors_at_the_value() {
    let refused = error("name ~ \"a[b\"");
    assert_eq!(refused.position, 8);
    assert!(
        refused.message.starts_with("invalid glob pattern"),
        "{}",
        refused.message
    );
}

#[test]
fn positions_count_characters_not_bytes() {
    assert_eq!(error("name = \"é\" é").position, 12);
}

#[test]
fn expressions_longer_than_the_limit_are_refused() {
    let long = format!("name = {}", "a".repeat(MAX_LENGTH));
    let refused = error(&long);
    assert_eq!(refused.position, MAX_LENGTH + 1);
    assert!(refused.message.contains("longer than 4096 characters"));
    let at_limit = format!("name = {}", "a".repeat(MAX_LENGTH - 7));
    assert!(WhereExpr::parse(&at_limit).is_ok());
}

#[test]
fn nesting_deeper_than_the_limit_is_refused() {
    let deep = format!(
        "{}a = 1{}",
        "(".repeat(MAX_DEPTH + 1),
        ")".repeat(MAX_DEPTH + 1)
    );
    let refused = error(&deep);
    assert_eq!(refused.position, MAX_DEPTH + 1);
    assert!(refused.message.contains("deeper than 64"));
    let nots = format!("{}a = 1", "not ".repeat(MAX_DEPTH + 1));
    assert_eq!(error(&nots).position, MAX_DEPTH * 4 + 1);
    let allowed = format!("{}a = 1{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
    assert!(matches(&allowed, &json!({"a": 1})));
}

#[test]
fn long_chains_of_and_do_not_count_as_nesting() {
    let chain = vec!["a = 1"; 300].join(" and ");
    assert!(matches(&chain, &json!({"a": 1})));
}

#[test]
fn random_garbage_never_panics_the_parser() {
    const PIECES: &[&str] = &[
        "a", "b/c", "name", "-", "_", "1", "-2.5", "1h", "10m30s", "=", "!=", "<", "<=", ">", ">=",
        "~", "!", "(", ")", "\"", "'", "\\", " ", "  ", "and", "OR", "not", "true", "*", "[", "]",
        "{", "}", "é", "\u{0}", "\t", "/", ".", "1e999", "nan", "ß", "🦀",
    ];
    let item = json!({"a": 1, "name": "x", "b": {"c": ["1h", 2]}});
    let mut state: u64 = 0x5eed_1234_abcd_0001;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from(state >> 33).unwrap()
    };
    let mut parsed = 0;
    for _ in 0..20_000 {
        let length = next() % 12;
        let input: String = (0..length).map(|_| PIECES[next() % PIECES.len()]).collect();
        match WhereExpr::parse(&input) {
            Ok(expression) => {
                parsed += 1;
                expression.matches(&item);
            }
            Err(refused) => assert!(
                (1..=input.chars().count() + 1).contains(&refused.position),
                "{input:?}: {refused}"
            ),
        }
    }
    assert!(parsed > 0);
}

#[test]
fn a_doubled_operator_is_an_error_not_a_value() {
    let refused = error("type == ecdsa-p256");
    assert_eq!(refused.position, 7);
    assert!(
        refused.message.contains("expected a value after '='"),
        "{}",
        refused.message
    );
    assert!(WhereExpr::parse("type = '=x'").is_ok());
}
