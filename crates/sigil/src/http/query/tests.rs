//! Tests of query parsing and of answering lists and items.

use serde_json::json;

use super::*;

fn parse(raw: &str) -> ResourceQuery {
    ResourceQuery::parse(Some(raw)).unwrap_or_else(|e| panic!("{raw:?} should parse: {e:?}"))
}

fn errors(raw: &str) -> Vec<FieldError> {
    ResourceQuery::parse(Some(raw)).expect_err("should be refused")
}

fn keys(items: &[Value]) -> Vec<&str> {
    items.iter().map(name_of).collect()
}

fn keys_of(body: &Value) -> Vec<&str> {
    keys(body.as_array().unwrap())
}

fn sample() -> Vec<Value> {
    vec![
        json!({"name": "alpha", "type": "ecdsa-p256", "max_ttl": "1h"}),
        json!({"name": "beta", "type": "rsa-2048", "max_ttl": "2h"}),
        json!({"name": "delta", "type": "ecdsa-p256", "max_ttl": "1d"}),
        json!({"name": "gamma", "type": "ed25519", "max_ttl": "30m"}),
    ]
}

#[test]
fn no_query_means_defaults() {
    for raw in [None, Some("")] {
        let query = ResourceQuery::parse(raw).unwrap();
        assert!(!query.validate && !query.keys && !query.count);
        assert!(query.fields.is_none() && query.filter.is_none());
        assert_eq!(
            (query.limit, query.after, query.content),
            (None, None, Content::All)
        );
    }
}

#[test]
fn parses_every_parameter() {
    let query = parse(
        "validate=true&fields=name,type&where=type%20%3D%20ecdsa-p256&keys=0&count=1\
         &limit=2&after=alpha&content=config",
    );
    assert!(query.validate);
    assert_eq!(
        query.fields,
        Some(FieldSelection::parse("name,type").unwrap())
    );
    assert!(
        query
            .filter
            .unwrap()
            .matches(&json!({"type": "ecdsa-p256"}))
    );
    assert!(!query.keys);
    assert!(query.count);
    assert_eq!(query.limit, Some(2));
    assert_eq!(query.after.as_deref(), Some("alpha"));
    assert_eq!(query.content, Content::Config);
}

#[test]
fn booleans_accept_true_false_one_zero_and_a_bare_name() {
    assert!(parse("validate").validate);
    assert!(parse("validate=").validate);
    assert!(parse("validate=1").validate);
    assert!(!parse("validate=0").validate);
    assert!(!parse("validate=false").validate);
    let refused = errors("validate=yes");
    assert_eq!(refused[0].name, "validate");
    assert_eq!(
        refused[0].reason,
        "must be true, false, 1 or 0, not \"yes\""
    );
}

#[test]
fn names_and_values_are_percent_decoded() {
    let query = parse("%77here=display_name+%3D+%22Example%20JWT%22&after=a%2Eb");
    assert!(
        query
            .filter
            .unwrap()
            .matches(&json!({"display_name": "Example JWT"}))
    );
    assert_eq!(query.after.as_deref(), Some("a.b"));
}

#[test]
fn content_accepts_config_nonconfig_and_all() {
    assert_eq!(parse("content=nonconfig").content, Content::NonConfig);
    assert_eq!(parse("content=all").content, Content::All);
    assert_eq!(errors("content=derived")[0].name, "content");
}

#[test]
fn limit_must_be_between_one_and_ten_thousand() {
    assert_eq!(parse("limit=10000").limit, Some(10_000));
    assert_eq!(parse("limit=1").limit, Some(1));
    for bad in ["0", "10001", "-1", "ten", "", "1.5"] {
        let refused = errors(&format!("limit={bad}"));
        assert_eq!(refused.len(), 1, "{bad}");
        assert_eq!(refused[0].name, "limit");
        assert_eq!(refused[0].error_code, "invalid");
        assert!(
            refused[0]
                .reason
                .starts_with("must be a whole number from 1 to 10000")
        );
    }
}

#[test]
fn empty_after_means_from_the_start() {
    assert_eq!(parse("after=").after, None);
}

#[test]
fn unknown_parameters_are_all_listed_together() {
    let refused = errors("sort=name&limit=5&offset=3&page=2");
    let names: Vec<&str> = refused.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["sort", "offset", "page"]);
    assert!(refused.iter().all(|e| e.error_code == "unknown_parameter"));
    assert!(
        refused[0]
            .reason
            .starts_with("is not a known parameter; known: validate,")
    );
}

#[test]
fn every_bad_parameter_is_listed_not_just_the_first() {
    let refused = errors("limit=0&where=a%20%3D&fields=a,,b&bogus=1&keys=maybe");
    let names: Vec<&str> = refused.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["limit", "where", "fields", "bogus", "keys"]);
}

#[test]
fn repeated_parameters_are_refused_once_each() {
    let refused = errors("limit=1&limit=2&limit=3&keys&keys");
    assert_eq!(refused.len(), 2);
    assert_eq!(
        (refused[0].name.as_str(), refused[0].error_code.as_str()),
        ("limit", "duplicate_parameter")
    );
    assert_eq!(refused[1].name, "keys");
}

#[test]
fn where_errors_name_the_position_and_what_was_expected() {
    let refused = errors("where=max_ttl%20%3E%3D");
    assert_eq!(refused[0].name, "where");
    assert_eq!(
        refused[0].reason,
        "expected a value after '>=' at position 11"
    );
}

#[test]
fn keys_and_count_together_are_refused() {
    assert_eq!(errors("keys&count")[0].name, "count");
}

#[test]
fn list_without_parameters_answers_every_item() {
    let page = apply_to_list(sample(), &parse(""));
    assert_eq!(page.body, Value::Array(sample()));
    assert_eq!(page.next_after, None);
}

#[test]
fn list_filters_with_where() {
    let page = apply_to_list(sample(), &parse("where=max_ttl%20>%3D%201h"));
    assert_eq!(keys_of(&page.body), ["alpha", "beta", "delta"]);
}

#[test]
fn list_pages_with_limit_and_after() {
    let first = apply_to_list(sample(), &parse("limit=2"));
    assert_eq!(keys_of(&first.body), ["alpha", "beta"]);
    assert_eq!(first.next_after.as_deref(), Some("beta"));
    let second = apply_to_list(sample(), &parse("limit=2&after=beta"));
    assert_eq!(keys_of(&second.body), ["delta", "gamma"]);
    assert_eq!(second.next_after, None);
}

#[test]
fn after_keeps_names_strictly_greater_even_when_absent_from_the_list() {
    let page = apply_to_list(sample(), &parse("after=c"));
    assert_eq!(keys_of(&page.body), ["delta", "gamma"]);
}

#[test]
fn paging_applies_to_the_filtered_list() {
    let page = apply_to_list(sample(), &parse("where=type%3Decdsa-p256&limit=1"));
    assert_eq!(keys_of(&page.body), ["alpha"]);
    assert_eq!(page.next_after.as_deref(), Some("alpha"));
    let next = apply_to_list(
        sample(),
        &parse("where=type%3Decdsa-p256&limit=1&after=alpha"),
    );
    assert_eq!(keys_of(&next.body), ["delta"]);
    assert_eq!(next.next_after, None);
}

#[test]
fn keys_answers_names_only() {
    let page = apply_to_list(sample(), &parse("keys=true&limit=3"));
    assert_eq!(page.body, json!(["alpha", "beta", "delta"]));
    assert_eq!(page.next_after.as_deref(), Some("delta"));
}

#[test]
fn count_answers_the_number_of_matches_ignoring_limit_and_after() {
    let page = apply_to_list(
        sample(),
        &parse("count&where=type%3Decdsa-p256&limit=1&after=b"),
    );
    assert_eq!(page.body, json!(2));
    assert_eq!(page.next_after, None);
}

#[test]
fn fields_project_every_listed_item() {
    let page = apply_to_list(sample(), &parse("fields=name&limit=2"));
    assert_eq!(page.body, json!([{"name": "alpha"}, {"name": "beta"}]));
}

#[test]
fn item_answers_apply_the_projection() {
    let item =
        json!({"name": "k", "type": "ed25519", "versions": [{"kid": "x", "status": "active"}]});
    assert_eq!(
        apply_to_item(item.clone(), &parse("fields=name,versions/kid")),
        json!({"name": "k", "versions": [{"kid": "x"}]})
    );
    assert_eq!(apply_to_item(item.clone(), &parse("")), item);
}

#[test]
fn split_content_keeps_configured_or_derived_fields_and_always_the_name() {
    let item = json!({"name": "k", "type": "ed25519", "rotation_period": "30d", "versions": [1]});
    let config = ["name", "type", "rotation_period"];
    assert_eq!(
        split_content(item.clone(), &config, Content::Config),
        json!({"name": "k", "type": "ed25519", "rotation_period": "30d"})
    );
    assert_eq!(
        split_content(item.clone(), &config, Content::NonConfig),
        json!({"name": "k", "versions": [1]})
    );
    assert_eq!(split_content(item.clone(), &config, Content::All), item);
}

#[test]
fn a_query_of_too_many_parameters_is_refused_naming_the_limit() {
    let raw: Vec<String> = (0..20_000).map(|i| format!("p{i}=1")).collect();
    let refused = errors(&raw.join("&"));
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].name, "query");
    assert_eq!(refused[0].error_code, "too_many_parameters");
    assert!(refused[0].reason.contains("64"), "{}", refused[0].reason);
    let at_the_limit: Vec<String> = (0..MAX_QUERY_PARAMETERS)
        .map(|i| format!("p{i}=1"))
        .collect();
    assert_eq!(errors(&at_the_limit.join("&")).len(), MAX_QUERY_PARAMETERS);
}
