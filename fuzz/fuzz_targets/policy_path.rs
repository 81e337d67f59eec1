//! Policy path patterns (`PathPattern::parse`, `matches`) and the decisions built on them.
//! Input: the pattern on the first line, concrete paths on the following lines. Matching must
//! agree with a reference written from DESIGN §3: `*` is one segment, a trailing `**` one or
//! more, and no wildcard stands for an empty, `.` or `..` segment.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil_policy::{Decision, Operation, PathPattern, Policy, PolicyFields, PolicySet, RuleFields};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut lines = text.split('\n');
    let pattern_text = lines.next().unwrap_or_default();
    let pattern = match PathPattern::parse(pattern_text) {
        Ok(pattern) => pattern,
        Err(refused) => {
            assert!(!refused.to_string().is_empty());
            return;
        }
    };
    assert_eq!(pattern.as_str(), pattern_text);
    assert_eq!(pattern.to_string(), pattern_text);
    assert_eq!(
        PathPattern::parse(&pattern.to_string()).as_ref(),
        Ok(&pattern)
    );

    let policy = Policy::from_fields(
        "p",
        &PolicyFields {
            rules: Some(vec![RuleFields {
                path: Some(pattern_text.to_owned()),
                operations: Some(vec!["read".to_owned(), "update".to_owned()]),
            }]),
        },
    )
    .expect("a pattern that parses makes a valid rule");
    let set = PolicySet::new([policy]);
    let names = ["p".to_owned()];

    for path in lines {
        let matched = pattern.matches(path);
        assert_eq!(
            matched,
            reference_matches(pattern_text, path),
            "{pattern_text:?} on {path:?}"
        );
        for operation in Operation::ALL {
            let allowed = matched && matches!(operation, Operation::Read | Operation::Update);
            let decision = set.decide(&names, path, operation);
            assert_eq!(matches!(decision, Decision::Allow { .. }), allowed);
            assert_eq!(set.explain(&names, path, operation).0, decision);
        }
    }
});

/// A backtracking matcher over split segments, independent of the compiled form.
fn reference_matches(pattern: &str, path: &str) -> bool {
    fn real(segment: &str) -> bool {
        !matches!(segment, "" | "." | "..")
    }
    fn walk(pattern: &[&str], path: &[&str]) -> bool {
        match pattern.split_first() {
            None => path.is_empty(),
            Some((&"**", [])) => !path.is_empty() && path.iter().all(|s| real(s)),
            Some((&"*", rest)) => path.first().is_some_and(|s| real(s)) && walk(rest, &path[1..]),
            Some((literal, rest)) => path.first() == Some(literal) && walk(rest, &path[1..]),
        }
    }
    let (Some(pattern), Some(path)) = (pattern.strip_prefix('/'), path.strip_prefix('/')) else {
        return false;
    };
    let pattern: Vec<&str> = pattern.split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    walk(&pattern, &path)
}
