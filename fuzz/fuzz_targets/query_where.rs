//! `where=` expressions (`WhereExpr::parse` and evaluation) and the whole query string
//! (`ResourceQuery::parse`, `apply_to_list`). Input: the expression (or query string) on the
//! first line; the rest, when it is JSON, is one more item to evaluate against.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use sigil::http::query::{MAX_LENGTH, ResourceQuery, WhereExpr, apply_to_list};

static ITEMS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    vec![
        json!({"name": "a-key", "type": "ecdsa-p256", "rotation_period": "30d",
               "versions": [{"version": 1, "status": "active", "kid": "k1"},
                            {"version": 2, "status": "pending", "kid": "k2"}]}),
        json!({"name": "github", "issuer": "https://token.actions.githubusercontent.com",
               "audiences": ["sigil", "https://api.example.com"], "permissions": 18446744073709551615u64,
               "leeway": "1m", "enabled": true, "max_token_age": null}),
        json!({"name": "payments", "default_ttl": "1h", "max_ttl": 86400, "ratio": -2.5,
               "distribute": {"to": "all", "sites": []}, "enabled": false}),
        json!({"name": "z", "nested": {"deep": {"deeper": "1y2d"}}, "list": [[1, 2], [3]]}),
    ]
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (line, rest) = text.split_once('\n').unwrap_or((text, ""));
    let mut items = ITEMS.clone();
    if let Ok(item) = serde_json::from_str::<Value>(rest) {
        items.push(item);
    }
    check_expression(line, &items);
    check_query(line, items);
});

fn check_expression(text: &str, items: &[Value]) {
    let expression = match WhereExpr::parse(text) {
        Ok(expression) => expression,
        Err(error) => {
            let length = text.chars().count();
            assert!(
                (1..=length.min(MAX_LENGTH) + 1).contains(&error.position),
                "position {} outside 1..={} for {text:?}",
                error.position,
                length + 1
            );
            return;
        }
    };
    let results: Vec<bool> = items.iter().map(|item| expression.matches(item)).collect();
    if text.chars().count() * 2 + 9 > MAX_LENGTH {
        return;
    }
    // Parenthesising, negating and repeating an expression mean what they say.
    let variants: [(String, fn(bool) -> bool); 3] = [
        (format!("not ({text})"), |m| !m),
        (format!("({text}) and ({text})"), |m| m),
        (format!("({text}) OR ({text})"), |m| m),
    ];
    for (variant, expected) in variants {
        match WhereExpr::parse(&variant) {
            Ok(wrapped) => {
                for (item, result) in items.iter().zip(&results) {
                    assert_eq!(
                        wrapped.matches(item),
                        expected(*result),
                        "{variant:?} disagrees with {text:?} on {item}"
                    );
                }
            }
            Err(error) => assert!(
                error.message.contains("nests deeper"),
                "{text:?} parses but {variant:?} does not: {error}"
            ),
        }
    }
}

fn check_query(raw: &str, mut items: Vec<Value>) {
    let Ok(query) = ResourceQuery::parse(Some(raw)) else {
        return;
    };
    let name = |item: &Value| {
        item.get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    items.sort_by_key(name);
    let matching: Vec<&Value> = items
        .iter()
        .filter(|item| query.filter.as_ref().is_none_or(|f| f.matches(item)))
        .collect();
    let page = apply_to_list(items.clone(), &query);
    if query.count {
        assert_eq!(page.body, Value::from(matching.len()));
        return;
    }
    let remaining = matching
        .iter()
        .filter(|item| {
            query
                .after
                .as_deref()
                .is_none_or(|after| name(item).as_str() > after)
        })
        .count();
    let listed = page.body.as_array().expect("a page is an array").len();
    let limit = query.limit.unwrap_or(usize::MAX);
    assert_eq!(listed, remaining.min(limit));
    assert_eq!(page.next_after.is_some(), remaining > limit);
    if query.keys {
        assert!(
            page.body
                .as_array()
                .into_iter()
                .flatten()
                .all(Value::is_string)
        );
    }
}
