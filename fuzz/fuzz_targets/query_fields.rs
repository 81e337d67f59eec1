//! `fields=` selections: `FieldSelection::parse` and `project`. Input: the selection on the
//! first line; the rest, when it is JSON, is one more value to project.
#![no_main]

use std::sync::LazyLock;

use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use sigil::http::query::FieldSelection;

static ITEMS: LazyLock<Vec<Value>> = LazyLock::new(|| {
    vec![
        json!({"name": "k", "type": "ecdsa-p256", "rotation_period": "30d",
               "versions": [{"version": 1, "kid": "k1", "public_jwk": {"kty": "EC", "x": "AA"}},
                            {"version": 2, "kid": "k2"}]}),
        json!([{"name": "a", "x": 1, "rules": [{"path": "/a", "operations": ["read"]}]},
               {"name": "b", "x": [{"y": 2}], "rules": "scalar"}]),
        json!({"distribute": {"to": "all", "sites": ["a", "b"]}, "a": {"b": {"c": {"d": 1}}}}),
    ]
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (line, rest) = text.split_once('\n').unwrap_or((text, ""));
    let Ok(selection) = FieldSelection::parse(line) else {
        return;
    };

    // The order of the list and the spelling of `-` do not matter.
    let reversed: Vec<&str> = line.split(',').rev().collect();
    assert_eq!(
        FieldSelection::parse(&reversed.join(",")).as_ref(),
        Ok(&selection)
    );
    assert_eq!(
        FieldSelection::parse(&line.replace('-', "_")).as_ref(),
        Ok(&selection)
    );
    // Listing a field twice changes nothing.
    let doubled = format!("{line},{line}");
    if let Ok(again) = FieldSelection::parse(&doubled) {
        assert_eq!(again, selection);
    }

    let mut items = ITEMS.clone();
    if let Ok(item) = serde_json::from_str::<Value>(rest) {
        items.push(item);
    }
    for item in &items {
        let projected = selection.project(item);
        assert_eq!(selection.project(&projected), projected, "not idempotent");
        assert!(
            within(&projected, item),
            "{projected} is not part of {item}"
        );
    }
});

/// Whether `part` keeps only what `whole` has: the same keys, elements in order and scalars.
fn within(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(part), Value::Object(whole)) => part
            .iter()
            .all(|(key, value)| whole.get(key).is_some_and(|w| within(value, w))),
        // Scalars drop out of a projected array, so `part` is a subsequence of `whole`.
        (Value::Array(part), Value::Array(whole)) => {
            let mut rest = whole.iter();
            part.iter().all(|p| rest.any(|w| within(p, w)))
        }
        (Value::Null, _) => true,
        _ => part == whole,
    }
}
