//! Decisions over several policies, default deny, and explain traces.

use super::*;
use crate::{PathPattern, Rule};

fn policy(name: &str, rules: &[(&str, &[Operation])]) -> Policy {
    Policy {
        name: name.to_owned(),
        rules: rules
            .iter()
            .map(|(path, operations)| Rule {
                path: PathPattern::parse(path).unwrap(),
                operations: operations.to_vec(),
            })
            .collect(),
    }
}

fn names(names: &[&str]) -> Vec<String> {
    names.iter().map(|name| (*name).to_owned()).collect()
}

fn allow(policy: &str, rule: usize) -> Decision {
    Decision::Allow {
        policy: policy.to_owned(),
        rule,
    }
}

fn sample() -> PolicySet {
    PolicySet::new([
        policy(
            "deployers",
            &[
                ("/signing-keys/*", &[Operation::Read]),
                ("/jwt-issuers/*/roles/deployer/mint", &[Operation::Update]),
            ],
        ),
        policy("readers", &[("/**", &[Operation::Read])]),
        policy("empty", &[]),
    ])
}

#[test]
fn root_allows_every_operation_on_every_path() {
    let set = PolicySet::default();
    for op in Operation::ALL {
        for path in ["/signing-keys", "/jwt-issuers/a/roles/b/mint", "/sys/seal"] {
            assert_eq!(set.decide(&names(&["root"]), path, op), allow("root", 0));
        }
    }
}

#[test]
fn requests_are_denied_by_default() {
    let set = sample();
    assert_eq!(
        set.decide(&[], "/signing-keys/a", Operation::Read),
        Decision::Deny
    );
    assert_eq!(
        set.decide(
            &names(&["deployers"]),
            "/trusted-issuers/a",
            Operation::Read
        ),
        Decision::Deny
    );
    assert_eq!(
        set.decide(&names(&["empty"]), "/signing-keys/a", Operation::Read),
        Decision::Deny
    );
}

#[test]
fn unknown_policy_names_are_ignored() {
    let set = sample();
    assert_eq!(
        set.decide(&names(&["nope"]), "/signing-keys/a", Operation::Read),
        Decision::Deny
    );
    assert_eq!(
        set.decide(
            &names(&["nope", "deployers"]),
            "/signing-keys/a",
            Operation::Read
        ),
        allow("deployers", 0)
    );
}

#[test]
fn rules_allow_only_their_operations() {
    let set = sample();
    let deployers = names(&["deployers"]);
    assert!(
        set.decide(&deployers, "/signing-keys/a", Operation::Read)
            .is_allowed()
    );
    for op in [Operation::Create, Operation::Update, Operation::Delete] {
        assert_eq!(
            set.decide(&deployers, "/signing-keys/a", op),
            Decision::Deny
        );
    }
}

#[test]
fn minting_needs_update_on_the_mint_path() {
    let set = sample();
    let deployers = names(&["deployers"]);
    let mint = "/jwt-issuers/payments-api/roles/deployer/mint";
    assert_eq!(
        set.decide(&deployers, mint, Operation::Update),
        allow("deployers", 1)
    );
    assert_eq!(
        set.decide(&deployers, mint, Operation::Read),
        Decision::Deny
    );
    assert_eq!(
        set.decide(
            &deployers,
            "/jwt-issuers/payments-api/roles/admin/mint",
            Operation::Update
        ),
        Decision::Deny
    );
}

#[test]
fn first_allowing_policy_in_the_callers_order_is_reported() {
    let set = sample();
    let path = "/signing-keys/a";
    assert_eq!(
        set.decide(&names(&["readers", "deployers"]), path, Operation::Read),
        allow("readers", 0)
    );
    assert_eq!(
        set.decide(&names(&["deployers", "readers"]), path, Operation::Read),
        allow("deployers", 0)
    );
}

#[test]
fn a_later_policy_allows_what_an_earlier_one_does_not() {
    let set = sample();
    assert_eq!(
        set.decide(
            &names(&["deployers", "readers"]),
            "/trusted-issuers/a",
            Operation::Read
        ),
        allow("readers", 0)
    );
}

#[test]
fn first_allowing_rule_within_a_policy_is_reported() {
    let set = PolicySet::new([policy(
        "p",
        &[
            ("/a", &[Operation::Delete]),
            ("/*", &[Operation::Read]),
            ("/**", &[Operation::Read]),
        ],
    )]);
    assert_eq!(
        set.decide(&names(&["p"]), "/a", Operation::Read),
        allow("p", 1)
    );
}

#[test]
fn a_listed_root_policy_cannot_replace_the_builtin() {
    let set = PolicySet::new([policy("root", &[("/nothing", &[Operation::Read])])]);
    assert_eq!(set.get("root"), Some(&Policy::root()));
    assert!(
        set.decide(&names(&["root"]), "/signing-keys/a", Operation::Delete)
            .is_allowed()
    );
}

#[test]
fn the_last_policy_with_a_name_wins() {
    let set = PolicySet::new([
        policy("p", &[("/a", &[Operation::Read])]),
        policy("p", &[("/b", &[Operation::Read])]),
    ]);
    assert_eq!(
        set.decide(&names(&["p"]), "/a", Operation::Read),
        Decision::Deny
    );
    assert!(
        set.decide(&names(&["p"]), "/b", Operation::Read)
            .is_allowed()
    );
}

#[test]
fn explain_traces_every_rule_of_every_named_policy() {
    let set = sample();
    let (decision, trace) = set.explain(
        &names(&["deployers", "readers"]),
        "/signing-keys/a",
        Operation::Read,
    );
    assert_eq!(decision, allow("deployers", 0));
    assert_eq!(
        trace,
        [
            RuleTrace::Rule {
                policy: "deployers".to_owned(),
                rule: 0,
                path: "/signing-keys/*".to_owned(),
                operations: vec![Operation::Read],
                path_matched: true,
                operation_allowed: true,
            },
            RuleTrace::Rule {
                policy: "deployers".to_owned(),
                rule: 1,
                path: "/jwt-issuers/*/roles/deployer/mint".to_owned(),
                operations: vec![Operation::Update],
                path_matched: false,
                operation_allowed: false,
            },
            RuleTrace::Rule {
                policy: "readers".to_owned(),
                rule: 0,
                path: "/**".to_owned(),
                operations: vec![Operation::Read],
                path_matched: true,
                operation_allowed: true,
            },
        ]
    );
    assert_eq!(
        trace.iter().map(RuleTrace::allows).collect::<Vec<_>>(),
        [true, false, true]
    );
}

#[test]
fn explain_shows_a_matching_path_with_a_refused_operation() {
    let (decision, trace) =
        sample().explain(&names(&["deployers"]), "/signing-keys/a", Operation::Delete);
    assert_eq!(decision, Decision::Deny);
    assert!(matches!(
        trace[0],
        RuleTrace::Rule {
            path_matched: true,
            operation_allowed: false,
            ..
        }
    ));
}

#[test]
fn explain_lists_unknown_and_empty_policies() {
    let (decision, trace) = sample().explain(
        &names(&["nope", "empty"]),
        "/signing-keys/a",
        Operation::Read,
    );
    assert_eq!(decision, Decision::Deny);
    assert_eq!(
        trace,
        [
            RuleTrace::UnknownPolicy {
                policy: "nope".to_owned()
            },
            RuleTrace::EmptyPolicy {
                policy: "empty".to_owned()
            },
        ]
    );
}

#[test]
fn explain_reaches_the_same_decision_as_decide() {
    let set = sample();
    let lists = [
        names(&[]),
        names(&["deployers"]),
        names(&["readers", "deployers"]),
        names(&["nope", "empty", "deployers", "readers"]),
        names(&["root", "deployers"]),
    ];
    let paths = [
        "/signing-keys/a",
        "/signing-keys/a/rotate",
        "/jwt-issuers/x/roles/deployer/mint",
        "/jwt-issuers/x/roles/deployer/mint/",
        "/trusted-issuers",
    ];
    for list in &lists {
        for path in paths {
            for op in Operation::ALL {
                let (decision, trace) = set.explain(list, path, op);
                assert_eq!(decision, set.decide(list, path, op), "{list:?} {path} {op}");
                assert_eq!(decision.is_allowed(), trace.iter().any(RuleTrace::allows));
            }
        }
    }
}
