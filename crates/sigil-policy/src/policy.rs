//! A named policy: allow-rules of a path pattern and the operations it permits. Built from the
//! wire's [`PolicyFields`] with every problem reported at once, so a 400 lists them all.

use serde::{Deserialize, Serialize};

use crate::{Operation, PathPattern, PolicyFieldError};

/// A named set of allow-rules. A policy never denies; anything no rule allows is denied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The policy's name, as identities refer to it.
    pub name: String,
    /// The rules, in the order they were written; decisions and traces cite their index.
    pub rules: Vec<Rule>,
}

/// One allow-rule: the operations it permits on the paths its pattern covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Which resource paths the rule covers.
    pub path: PathPattern,
    /// Which operations it allows there.
    pub operations: Vec<Operation>,
}

/// A policy as it arrives on the wire or from storage: everything optional, so that missing
/// fields become field errors rather than deserialisation failures.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyFields {
    /// The rules; required, may be empty.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules: Option<Vec<RuleFields>>,
}

/// One rule as it arrives on the wire.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleFields {
    /// The path pattern; required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Operation names (`create`, `read`, `update`, `delete`); required, at least one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operations: Option<Vec<String>>,
}

impl Policy {
    /// The name of the built-in policy that allows everything.
    pub const ROOT_NAME: &str = "root";

    /// Validates wire fields into a policy, listing every invalid field (`rules/2/path`,
    /// `rules/0/operations/1`). The name is taken as given: the caller checks it.
    /// Repeated operations in a rule are kept once.
    pub fn from_fields(
        name: impl Into<String>,
        fields: &PolicyFields,
    ) -> Result<Policy, Vec<PolicyFieldError>> {
        let mut errors = Vec::new();
        let Some(rule_fields) = &fields.rules else {
            return Err(vec![PolicyFieldError::required("rules".to_owned())]);
        };
        let mut rules = Vec::with_capacity(rule_fields.len());
        for (index, fields) in rule_fields.iter().enumerate() {
            if let Some(rule) = rule_from_fields(index, fields, &mut errors) {
                rules.push(rule);
            }
        }
        if errors.is_empty() {
            Ok(Policy {
                name: name.into(),
                rules,
            })
        } else {
            Err(errors)
        }
    }

    /// The built-in policy `root`: every operation on `/**`.
    pub fn root() -> Policy {
        Policy {
            name: Self::ROOT_NAME.to_owned(),
            rules: vec![Rule {
                path: PathPattern::everything(),
                operations: Operation::ALL.to_vec(),
            }],
        }
    }

    /// The policy's rules as wire fields, for answering reads; `from_fields` reverses it.
    pub fn to_fields(&self) -> PolicyFields {
        let rules = self
            .rules
            .iter()
            .map(|rule| RuleFields {
                path: Some(rule.path.as_str().to_owned()),
                operations: Some(rule.operations.iter().map(|op| op.to_string()).collect()),
            })
            .collect();
        PolicyFields { rules: Some(rules) }
    }
}

impl Rule {
    /// Whether this rule allows `operation` on the concrete `path`.
    pub fn allows(&self, path: &str, operation: Operation) -> bool {
        self.operations.contains(&operation) && self.path.matches(path)
    }
}

fn rule_from_fields(
    index: usize,
    fields: &RuleFields,
    errors: &mut Vec<PolicyFieldError>,
) -> Option<Rule> {
    let path = match &fields.path {
        None => {
            errors.push(PolicyFieldError::required(format!("rules/{index}/path")));
            None
        }
        Some(text) => match PathPattern::parse(text) {
            Ok(pattern) => Some(pattern),
            Err(refused) => {
                errors.push(PolicyFieldError {
                    name: format!("rules/{index}/path"),
                    reason: refused.to_string(),
                    code: refused.code(),
                });
                None
            }
        },
    };
    let operations = operations_from_fields(index, fields.operations.as_deref(), errors);
    Some(Rule {
        path: path?,
        operations: operations?,
    })
}

fn operations_from_fields(
    index: usize,
    names: Option<&[String]>,
    errors: &mut Vec<PolicyFieldError>,
) -> Option<Vec<Operation>> {
    let field = format!("rules/{index}/operations");
    let Some(names) = names else {
        errors.push(PolicyFieldError::required(field));
        return None;
    };
    if names.is_empty() {
        errors.push(PolicyFieldError::invalid(
            field,
            format!("must list at least one of {}", valid_operations()),
        ));
        return None;
    }
    let mut operations = Vec::with_capacity(names.len());
    let mut valid = true;
    for (position, name) in names.iter().enumerate() {
        match Operation::parse(name) {
            Some(op) if !operations.contains(&op) => operations.push(op),
            Some(_) => {}
            None => {
                valid = false;
                errors.push(PolicyFieldError::invalid(
                    format!("{field}/{position}"),
                    format!(
                        "unknown operation {name:?}; expected one of {}",
                        valid_operations()
                    ),
                ));
            }
        }
    }
    valid.then_some(operations)
}

fn valid_operations() -> String {
    Operation::ALL.map(Operation::as_str).join(", ")
}

#[cfg(test)]
mod tests;
