//! One identity mapping: which trusted issuer's tokens it applies to (optionally only those
//! whose purpose claim matches), how the identity is read (a regex capture from a claim, or a
//! fixed grantee), and the policies and claims the identity gets.

use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::validation::{FieldError, Violations, check_name};

const MAX_PATTERN: usize = 1024;
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
const MAX_LIST: usize = 256;

/// A mapping's fields as parsed from a request or stored document.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct MappingFields {
    /// Unique name (alias `Name`; a `Name` that is not a valid name becomes `display_name`
    /// and `name` its slug).
    pub name: Option<String>,
    /// Free text shown in listings.
    pub display_name: Option<String>,
    /// The trusted issuer whose tokens it maps.
    pub trusted_issuer: Option<String>,
    /// The trusted issuer by its `iss` (alias `IssuerUri`); resolved to `trusted_issuer`.
    pub issuer_uri: Option<String>,
    /// A claim that must equal `purpose_match` (alias `PurposeField`).
    pub purpose_claim: Option<String>,
    /// The value it must have; for an array claim, any element (alias `PurposeMatch`).
    pub purpose_match: Option<String>,
    /// Claim name or JSON Pointer holding the identity (alias `IdField`; default `sub`).
    pub id_claim: Option<String>,
    /// Regex matched against the whole value; its first group is the identity unless a
    /// grantee is set (alias `IdMatch`).
    pub id_match: Option<String>,
    /// A fixed identity (alias `GranteePrefixedUniversal`).
    pub grantee: Option<String>,
    /// Policies the identity gets.
    pub policies: Option<Vec<String>>,
    /// Claims copied into the identity (absent: all of the token's claims).
    pub claims: Option<Vec<String>>,
}

/// Where a claim is read from: a top-level name or a JSON Pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimPath {
    /// A top-level claim.
    Name(String),
    /// An RFC 6901 pointer into the claims (`/realm_access/roles`).
    Pointer(String),
}

impl ClaimPath {
    fn parse(text: &str) -> ClaimPath {
        if text.starts_with('/') {
            ClaimPath::Pointer(text.to_owned())
        } else {
            ClaimPath::Name(text.to_owned())
        }
    }

    /// The value at this path.
    pub fn read<'a>(&self, claims: &'a Map<String, Value>) -> Option<&'a Value> {
        match self {
            ClaimPath::Name(name) => claims.get(name),
            ClaimPath::Pointer(pointer) => {
                let (first, rest) = split_pointer(pointer)?;
                let top = claims.get(&first)?;
                if rest.is_empty() {
                    Some(top)
                } else {
                    top.pointer(&rest)
                }
            }
        }
    }
}

/// A validated, compiled mapping.
#[derive(Debug)]
pub struct CompiledMapping {
    /// Name.
    pub name: String,
    /// The trusted issuer's name.
    pub trusted_issuer: String,
    /// Purpose claim and the value it must have.
    pub purpose: Option<(ClaimPath, String)>,
    /// Identity claim and its anchored regex.
    pub id: (ClaimPath, Regex),
    /// Fixed identity.
    pub grantee: Option<String>,
    /// Policies granted.
    pub policies: Vec<String>,
    /// Claims copied (None: all).
    pub claims: Option<Vec<String>>,
    /// The fields as stored and shown (aliases resolved).
    pub fields: MappingFields,
}

/// Whether a mapping applied to a token, and if not, why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum MappingOutcome {
    /// It applied: the identity value.
    Applied {
        /// The identity.
        identity: String,
    },
    /// The token's purpose claim does not match.
    PurposeMismatch {
        /// What the claim held.
        found: String,
    },
    /// The identity claim is missing or does not match the regex.
    IdMismatch {
        /// What the claim held.
        found: String,
    },
}

impl CompiledMapping {
    /// Validates and compiles; `trusted_issuer` must already be resolved (from `issuer_uri`).
    pub fn compile(mut fields: MappingFields) -> Result<CompiledMapping, Vec<FieldError>> {
        let mut errors = Violations::new();
        match &fields.name {
            None => errors.push(FieldError::required("name")),
            Some(name) => errors.extend(check_name("name", name)),
        }
        match &fields.trusted_issuer {
            None => errors.push(FieldError::new(
                "trusted_issuer",
                "required",
                "is required (or give issuer_uri, the issuer's iss)",
            )),
            Some(issuer) => errors.extend(check_name("trusted_issuer", issuer)),
        }
        let purpose = match (&fields.purpose_claim, &fields.purpose_match) {
            (Some(claim), Some(value)) if !claim.is_empty() => {
                Some((ClaimPath::parse(claim), value.clone()))
            }
            (None, None) => None,
            (Some(_), None) => {
                errors.push(FieldError::required("purpose_match"));
                None
            }
            _ => {
                errors.push(FieldError::new(
                    "purpose_claim",
                    "required",
                    "is required with purpose_match",
                ));
                None
            }
        };
        let id_claim = fields.id_claim.clone().unwrap_or_else(|| "sub".to_owned());
        let pattern = fields.id_match.clone().unwrap_or_else(|| "(.+)".to_owned());
        let regex = compile_regex(&pattern, &mut errors);
        if let Some(regex) = &regex
            && fields.grantee.is_none()
            && regex.captures_len() < 2
        {
            errors.push(FieldError::invalid(
                "id_match",
                "has no capture group: without a grantee, its first group ( ... ) is the identity",
            ));
        }
        if let Some(grantee) = &fields.grantee
            && (grantee.is_empty() || grantee.len() > 512)
        {
            errors.push(FieldError::invalid(
                "grantee",
                "must be 1 to 512 characters",
            ));
        }
        for (field, list) in [("policies", &fields.policies), ("claims", &fields.claims)] {
            let list = list.as_deref().unwrap_or_default();
            if list.len() > MAX_LIST {
                errors.push(FieldError::invalid(
                    field,
                    format!("may list at most {MAX_LIST} entries"),
                ));
            }
        }
        for (i, policy) in fields.policies.iter().flatten().enumerate() {
            errors.extend(check_name(&format!("policies/{i}"), policy));
        }
        let (Some(name), Some(trusted_issuer), Some(regex)) =
            (fields.name.clone(), fields.trusted_issuer.clone(), regex)
        else {
            return Err(errors.into_vec());
        };
        fields.issuer_uri = None;
        fields.id_claim = Some(id_claim.clone());
        fields.id_match = Some(pattern);
        fields.policies = Some(fields.policies.unwrap_or_default());
        errors.finish(CompiledMapping {
            name,
            trusted_issuer,
            purpose,
            id: (ClaimPath::parse(&id_claim), regex),
            grantee: fields.grantee.clone(),
            policies: fields.policies.clone().unwrap_or_default(),
            claims: fields.claims.clone(),
            fields,
        })
    }

    /// Applies the mapping to a verified token's claims.
    pub fn apply(&self, claims: &Map<String, Value>) -> MappingOutcome {
        if let Some((path, expected)) = &self.purpose {
            let value = path.read(claims);
            if !any_text(value).iter().any(|v| v == expected) {
                return MappingOutcome::PurposeMismatch {
                    found: describe(value),
                };
            }
        }
        let (path, regex) = &self.id;
        let value = path.read(claims);
        for text in any_text(value) {
            if let Some(captures) = regex.captures(&text) {
                let identity = match &self.grantee {
                    Some(grantee) => grantee.clone(),
                    None => match captures.get(1) {
                        Some(group) if !group.as_str().is_empty() => group.as_str().to_owned(),
                        _ => continue,
                    },
                };
                return MappingOutcome::Applied { identity };
            }
        }
        MappingOutcome::IdMismatch {
            found: describe(value),
        }
    }
}

/// A resource name derived from free text: lower case, runs of other characters become `-`
/// (`Example JWT mapping 2` → `example-jwt-mapping-2`).
pub fn slug(text: &str) -> String {
    let mut slug = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '.' || c == '_' {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    slug.chars().take(200).collect()
}

fn compile_regex(pattern: &str, errors: &mut Violations) -> Option<Regex> {
    if pattern.len() > MAX_PATTERN {
        errors.push(FieldError::invalid(
            "id_match",
            format!("must be at most {MAX_PATTERN} characters"),
        ));
        return None;
    }
    let build = |source: &str| {
        RegexBuilder::new(source)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT)
            .nest_limit(64)
            .build()
    };
    // The pattern is validated on its own first: `a)|(.*` is unbalanced alone, yet wrapped in
    // `^(?:…)$` it would balance and escape the anchors, matching anything.
    if let Err(e) = build(pattern) {
        errors.push(FieldError::invalid(
            "id_match",
            format!("is not a valid regex: {e}"),
        ));
        return None;
    }
    // The whole value must match: anchor outside the operator's pattern.
    build(&format!("^(?:{pattern})$"))
        .map_err(|e| {
            errors.push(FieldError::invalid(
                "id_match",
                format!("is not a valid regex: {e}"),
            ))
        })
        .ok()
}

/// The string forms a claim value offers for matching (each element of an array).
fn any_text(value: Option<&Value>) -> Vec<String> {
    match value {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Number(n)) => vec![n.to_string()],
        Some(Value::Bool(b)) => vec![b.to_string()],
        Some(Value::Array(items)) => items.iter().flat_map(|i| any_text(Some(i))).collect(),
        _ => Vec::new(),
    }
}

fn describe(value: Option<&Value>) -> String {
    match value {
        None => "(absent)".to_owned(),
        Some(v) => {
            let text = v.to_string();
            if text.chars().count() > 120 {
                format!("{}…", text.chars().take(120).collect::<String>())
            } else {
                text
            }
        }
    }
}

fn split_pointer(pointer: &str) -> Option<(String, String)> {
    let rest = pointer.strip_prefix('/')?;
    let (first, tail) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    // RFC 6901 §4: `~1` is `/`, `~0` is `~`.
    Some((first.replace("~1", "/").replace("~0", "~"), tail.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn mapping(value: Value) -> Result<CompiledMapping, Vec<FieldError>> {
        CompiledMapping::compile(serde_json::from_value(value).unwrap())
    }

    fn claims(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn the_first_group_is_the_identity() {
        let m = mapping(json!({"name": "gh", "trusted_issuer": "github",
            "id_match": "repo:([^:]+/[^:]+):ref:refs/heads/main"}))
        .unwrap();
        let outcome = m.apply(&claims(
            json!({"sub": "repo:acme/payments:ref:refs/heads/main"}),
        ));
        assert_eq!(
            outcome,
            MappingOutcome::Applied {
                identity: "acme/payments".into()
            }
        );
    }

    #[test]
    fn the_regex_must_match_the_whole_value() {
        let m =
            mapping(json!({"name": "gh", "trusted_issuer": "g", "id_match": "(acme)"})).unwrap();
        assert!(matches!(
            m.apply(&claims(json!({"sub": "acme/x"}))),
            MappingOutcome::IdMismatch { .. }
        ));
    }

    #[test]
    fn a_regex_without_a_group_needs_a_grantee() {
        let errors =
            mapping(json!({"name": "m", "trusted_issuer": "g", "id_match": "acme.*"})).unwrap_err();
        assert_eq!(errors[0].name, "id_match");
        assert!(errors[0].reason.contains("capture group"));
        let m = mapping(json!({"name": "m", "trusted_issuer": "g", "id_match": "acme.*", "grantee": "team:acme"})).unwrap();
        assert_eq!(
            m.apply(&claims(json!({"sub": "acme-1"}))),
            MappingOutcome::Applied {
                identity: "team:acme".into()
            }
        );
    }

    #[test]
    fn purpose_matches_any_element_of_an_array_claim() {
        let m = mapping(
            json!({"name": "m", "trusted_issuer": "g", "purpose_claim": "aud",
            "purpose_match": "https://example.venafi.com/vedauth", "id_match": "(.*@example.com)"}),
        )
        .unwrap();
        let ok = claims(
            json!({"aud": ["x", "https://example.venafi.com/vedauth"], "sub": "ann@example.com"}),
        );
        assert_eq!(
            m.apply(&ok),
            MappingOutcome::Applied {
                identity: "ann@example.com".into()
            }
        );
        let wrong = claims(json!({"aud": "other", "sub": "ann@example.com"}));
        assert!(matches!(
            m.apply(&wrong),
            MappingOutcome::PurposeMismatch { .. }
        ));
    }

    #[test]
    fn json_pointers_reach_nested_claims() {
        let m = mapping(
            json!({"name": "m", "trusted_issuer": "kc", "id_claim": "/realm_access/roles",
            "id_match": "team-(.+)"}),
        )
        .unwrap();
        let token = claims(json!({"realm_access": {"roles": ["user", "team-payments"]}}));
        assert_eq!(
            m.apply(&token),
            MappingOutcome::Applied {
                identity: "payments".into()
            }
        );
    }

    #[test]
    fn oversized_or_invalid_regexes_are_refused() {
        let errors =
            mapping(json!({"name": "m", "trusted_issuer": "g", "id_match": "(a"})).unwrap_err();
        assert_eq!(errors[0].name, "id_match");
        let huge = format!("({})", "a{100}{100}{100}");
        assert!(mapping(json!({"name": "m", "trusted_issuer": "g", "id_match": huge})).is_err());
    }

    #[test]
    fn a_regex_that_only_balances_inside_the_anchors_is_refused() {
        for escaping in ["a)|(.*", ".*)|(", "x)|(?:.*", "a))((b"] {
            let errors = mapping(
                json!({"name": "m", "trusted_issuer": "g", "id_match": escaping, "grantee": "x"}),
            )
            .unwrap_err();
            assert_eq!(errors[0].name, "id_match", "{escaping}");
        }
    }

    #[test]
    fn names_slug_from_free_text() {
        assert_eq!(slug("Example JWT mapping 2"), "example-jwt-mapping-2");
        assert_eq!(slug("  Über  Team!! "), "ber-team");
    }
}
