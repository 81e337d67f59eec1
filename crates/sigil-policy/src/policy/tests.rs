//! Building policies from wire fields, with every field error listed, and the `root` policy.

use super::*;

fn rule(path: Option<&str>, operations: Option<&[&str]>) -> RuleFields {
    RuleFields {
        path: path.map(str::to_owned),
        operations: operations.map(|ops| ops.iter().map(|op| (*op).to_owned()).collect()),
    }
}

fn fields(rules: Vec<RuleFields>) -> PolicyFields {
    PolicyFields { rules: Some(rules) }
}

fn errors(fields: &PolicyFields) -> Vec<(String, &'static str, String)> {
    Policy::from_fields("p", fields)
        .unwrap_err()
        .into_iter()
        .map(|e| (e.name, e.code, e.reason))
        .collect()
}

#[test]
fn policy_from_fields_keeps_rules_in_order() {
    let policy = Policy::from_fields(
        "deployers",
        &fields(vec![
            rule(
                Some("/jwt-issuers/*/roles/deployer/mint"),
                Some(&["update"]),
            ),
            rule(Some("/signing-keys/**"), Some(&["read", "delete"])),
        ]),
    )
    .unwrap();
    assert_eq!(policy.name, "deployers");
    assert_eq!(policy.rules.len(), 2);
    assert_eq!(
        policy.rules[0].path.as_str(),
        "/jwt-issuers/*/roles/deployer/mint"
    );
    assert_eq!(policy.rules[0].operations, [Operation::Update]);
    assert_eq!(
        policy.rules[1].operations,
        [Operation::Read, Operation::Delete]
    );
}

#[test]
fn missing_rules_are_required() {
    assert_eq!(
        errors(&PolicyFields::default()),
        [("rules".to_owned(), "required", "is required".to_owned())]
    );
}

#[test]
fn empty_rules_make_a_policy_that_allows_nothing() {
    let policy = Policy::from_fields("empty", &fields(vec![])).unwrap();
    assert!(policy.rules.is_empty());
}

#[test]
fn rule_without_path_is_required() {
    assert_eq!(
        errors(&fields(vec![rule(None, Some(&["read"]))])),
        [(
            "rules/0/path".to_owned(),
            "required",
            "is required".to_owned()
        )]
    );
}

#[test]
fn rule_without_operations_is_required() {
    assert_eq!(
        errors(&fields(vec![rule(Some("/a"), None)])),
        [(
            "rules/0/operations".to_owned(),
            "required",
            "is required".to_owned()
        )]
    );
}

#[test]
fn empty_operations_list_is_refused() {
    assert_eq!(
        errors(&fields(vec![rule(Some("/a"), Some(&[]))])),
        [(
            "rules/0/operations".to_owned(),
            "invalid",
            "must list at least one of create, read, update, delete".to_owned()
        )]
    );
}

#[test]
fn unknown_operation_names_the_valid_ones() {
    assert_eq!(
        errors(&fields(vec![rule(Some("/a"), Some(&["read", "write"]))])),
        [(
            "rules/0/operations/1".to_owned(),
            "invalid",
            "unknown operation \"write\"; expected one of create, read, update, delete".to_owned()
        )]
    );
}

#[test]
fn operation_names_are_case_sensitive() {
    assert_eq!(
        errors(&fields(vec![rule(Some("/a"), Some(&["Read"]))]))[0].0,
        "rules/0/operations/0"
    );
}

#[test]
fn invalid_path_reports_the_pattern_refusal() {
    assert_eq!(
        errors(&fields(vec![rule(Some("/a/**/b"), Some(&["read"]))])),
        [(
            "rules/0/path".to_owned(),
            "invalid",
            "segment 1 is `**`, which is only allowed as the last segment".to_owned()
        )]
    );
}

#[test]
fn overlong_path_is_reported_as_too_long() {
    let long = format!("/{}", "a".repeat(2000));
    assert_eq!(
        errors(&fields(vec![rule(Some(&long), Some(&["read"]))]))[0].1,
        "too_long"
    );
}

#[test]
fn every_field_error_is_listed_together() {
    let found = errors(&fields(vec![
        rule(Some("/fine/**"), Some(&["read"])),
        rule(None, Some(&["read", "write", "erase"])),
        rule(Some("relative"), Some(&[])),
        rule(Some("/a//b"), None),
    ]));
    let names: Vec<&str> = found.iter().map(|(name, _, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "rules/1/path",
            "rules/1/operations/1",
            "rules/1/operations/2",
            "rules/2/path",
            "rules/2/operations",
            "rules/3/path",
            "rules/3/operations",
        ]
    );
}

#[test]
fn repeated_operations_are_kept_once() {
    let policy = Policy::from_fields(
        "p",
        &fields(vec![rule(Some("/a"), Some(&["read", "update", "read"]))]),
    )
    .unwrap();
    assert_eq!(
        policy.rules[0].operations,
        [Operation::Read, Operation::Update]
    );
}

#[test]
fn rule_allows_only_its_operations() {
    let rule = Rule {
        path: PathPattern::parse("/signing-keys/*").unwrap(),
        operations: vec![Operation::Read],
    };
    assert!(rule.allows("/signing-keys/a", Operation::Read));
    assert!(!rule.allows("/signing-keys/a", Operation::Update));
    assert!(!rule.allows("/signing-keys/a", Operation::Delete));
    assert!(!rule.allows("/jwt-issuers/a", Operation::Read));
}

#[test]
fn root_policy_allows_every_operation_on_every_path() {
    let root = Policy::root();
    assert_eq!(root.name, "root");
    for op in Operation::ALL {
        for path in ["/signing-keys", "/jwt-issuers/a/roles/b/mint", "/sys/seal"] {
            assert!(root.rules.iter().any(|r| r.allows(path, op)), "{op} {path}");
        }
    }
}

#[test]
fn policy_round_trips_through_its_fields() {
    let original = fields(vec![
        rule(Some("/jwt-issuers/*/roles/**"), Some(&["create", "read"])),
        rule(Some("/signing-keys/a"), Some(&["delete"])),
    ]);
    let policy = Policy::from_fields("p", &original).unwrap();
    assert_eq!(policy.to_fields(), original);
    assert_eq!(Policy::from_fields("p", &policy.to_fields()), Ok(policy));
}
