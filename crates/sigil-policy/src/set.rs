//! The policies known to the server and the decision for one request: default deny, the first
//! allowing rule wins. `decide` runs on every request, so it only looks things up and compares;
//! `explain` does the same walk but records every rule for `/v1/explain`.

use std::collections::HashMap;

use serde::Serialize;

use crate::{Operation, Policy};

/// Every policy by name, always including the built-in `root`.
#[derive(Debug, Clone)]
pub struct PolicySet {
    policies: HashMap<String, Policy>,
}

/// The outcome of a policy check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "decision", rename_all = "snake_case")]
pub enum Decision {
    /// A rule allows the request: the first one found, in the caller's policy order.
    Allow {
        /// The policy holding the rule.
        policy: String,
        /// The rule's index within that policy.
        rule: usize,
    },
    /// No rule of the named policies allows the request.
    Deny,
}

/// One step of an explained decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RuleTrace {
    /// A rule of a named policy, and how it judged the request.
    Rule {
        /// The policy holding the rule.
        policy: String,
        /// The rule's index within the policy.
        rule: usize,
        /// The rule's path pattern.
        path: String,
        /// The operations the rule allows.
        operations: Vec<Operation>,
        /// Whether the pattern covers the request's path.
        path_matched: bool,
        /// Whether the rule allows the request's operation.
        operation_allowed: bool,
    },
    /// A named policy that exists but has no rules, so allows nothing.
    EmptyPolicy {
        /// The policy's name.
        policy: String,
    },
    /// A name that is no known policy; it allows nothing.
    UnknownPolicy {
        /// The name as the identity carried it.
        policy: String,
    },
}

impl PolicySet {
    /// Indexes policies by name. The built-in `root` is always present and cannot be replaced:
    /// a listed policy named `root` is ignored. Of two policies with one name, the last wins.
    pub fn new(policies: impl IntoIterator<Item = Policy>) -> PolicySet {
        let mut by_name: HashMap<String, Policy> = policies
            .into_iter()
            .map(|policy| (policy.name.clone(), policy))
            .collect();
        by_name.insert(Policy::ROOT_NAME.to_owned(), Policy::root());
        PolicySet { policies: by_name }
    }

    /// The policy with this name, if any.
    pub fn get(&self, name: &str) -> Option<&Policy> {
        self.policies.get(name)
    }

    /// Every policy, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Policy> {
        self.policies.values()
    }

    /// Whether `operation` on `path` is allowed by any of the named policies. Policies are
    /// tried in the order given and rules in their written order; the first allowing rule is
    /// reported. Unknown names allow nothing. Apart from the allowing policy's name in the
    /// answer, nothing is allocated.
    pub fn decide(&self, policy_names: &[String], path: &str, operation: Operation) -> Decision {
        for name in policy_names {
            let Some(policy) = self.policies.get(name.as_str()) else {
                continue;
            };
            if let Some(rule) = policy
                .rules
                .iter()
                .position(|rule| rule.allows(path, operation))
            {
                return Decision::Allow {
                    policy: policy.name.clone(),
                    rule,
                };
            }
        }
        Decision::Deny
    }

    /// The same decision as [`PolicySet::decide`], with a trace of every rule of every named
    /// policy (not only up to the deciding one) and of every unknown name, in order.
    pub fn explain(
        &self,
        policy_names: &[String],
        path: &str,
        operation: Operation,
    ) -> (Decision, Vec<RuleTrace>) {
        let mut decision = Decision::Deny;
        let mut trace = Vec::new();
        for name in policy_names {
            let Some(policy) = self.policies.get(name.as_str()) else {
                trace.push(RuleTrace::UnknownPolicy {
                    policy: name.clone(),
                });
                continue;
            };
            if policy.rules.is_empty() {
                trace.push(RuleTrace::EmptyPolicy {
                    policy: policy.name.clone(),
                });
            }
            for (index, rule) in policy.rules.iter().enumerate() {
                let path_matched = rule.path.matches(path);
                let operation_allowed = rule.operations.contains(&operation);
                if path_matched && operation_allowed && decision == Decision::Deny {
                    decision = Decision::Allow {
                        policy: policy.name.clone(),
                        rule: index,
                    };
                }
                trace.push(RuleTrace::Rule {
                    policy: policy.name.clone(),
                    rule: index,
                    path: rule.path.as_str().to_owned(),
                    operations: rule.operations.clone(),
                    path_matched,
                    operation_allowed,
                });
            }
        }
        (decision, trace)
    }
}

impl Default for PolicySet {
    /// Only the built-in `root`.
    fn default() -> PolicySet {
        PolicySet::new([])
    }
}

impl FromIterator<Policy> for PolicySet {
    fn from_iter<I: IntoIterator<Item = Policy>>(policies: I) -> PolicySet {
        PolicySet::new(policies)
    }
}

impl Decision {
    /// Whether the request is allowed.
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow { .. })
    }
}

impl RuleTrace {
    /// Whether this step allows the request on its own.
    pub fn allows(&self) -> bool {
        matches!(
            self,
            RuleTrace::Rule {
                path_matched: true,
                operation_allowed: true,
                ..
            }
        )
    }
}

#[cfg(test)]
mod tests;
