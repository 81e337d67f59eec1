//! A role: the shape of the tokens one issuer mints for it. Validated and compiled once
//! (templates parsed, globs built) so minting only substitutes and matches.

use std::collections::BTreeMap;

use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::audience::AudiencePatterns;
use super::template::{self, Template};
use crate::duration::HumanDuration;
use crate::validation::{FieldError, Violations, check_name};

/// Claims Sigil sets itself; a caller or a role may not.
pub const RESERVED_CLAIMS: [&str; 10] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "act",
    "cnf",
    "client_id",
];
const MAX_LIST: usize = 256;

/// The JSON type a caller-supplied claim must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ClaimType {
    /// A string.
    String,
    /// A number.
    Number,
    /// `true` or `false`.
    Boolean,
    /// An array of strings.
    StringArray,
}

/// The kind of token a role mints.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub enum TokenType {
    /// A plain JWT (`typ: JWT`).
    #[default]
    #[serde(rename = "jwt")]
    Jwt,
    /// An RFC 9068 access token (`typ: at+jwt`, with `client_id`).
    #[serde(rename = "at+jwt")]
    AtJwt,
}

/// A claim callers may set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AllowedClaim {
    /// Claim name.
    pub name: String,
    /// Required JSON type.
    #[serde(rename = "type")]
    pub claim_type: ClaimType,
    /// Globs the value (each element, for arrays) must match; at least one.
    pub allowed_values: Vec<String>,
}

/// A role's fields as parsed from a request or stored document.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct RoleFields {
    /// `name`.
    pub name: Option<String>,
    /// `subject_template` (default `{{identity.id}}`).
    pub subject_template: Option<String>,
    /// `fixed_claims`.
    #[schema(value_type = Option<Object>)]
    pub fixed_claims: Option<Map<String, Value>>,
    /// `allowed_claims`.
    pub allowed_claims: Option<Vec<AllowedClaim>>,
    /// `allowed_audiences`.
    pub allowed_audiences: Option<Vec<String>>,
    /// `default_audiences`.
    pub default_audiences: Option<Vec<String>>,
    /// `require_audience`.
    pub require_audience: Option<bool>,
    /// `required_claims`.
    pub required_claims: Option<Vec<String>>,
    /// `default_ttl` (absent: the issuer's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_ttl: Option<HumanDuration>,
    /// `max_ttl` (absent: the issuer's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_ttl: Option<HumanDuration>,
    /// `token_type`.
    pub token_type: Option<TokenType>,
    /// `verbose_logging`.
    pub verbose_logging: Option<bool>,
    /// Exchanged tokens never outlive the subject token (default false).
    pub limit_to_subject_exp: Option<bool>,
}

/// A validated, compiled role.
#[derive(Debug)]
pub struct CompiledRole {
    /// Name.
    pub name: String,
    /// The fields with defaults filled in, as stored and shown.
    pub fields: RoleFields,
    /// The subject template.
    pub subject: Template,
    /// Fixed claims (values may hold templates).
    pub fixed_claims: Map<String, Value>,
    /// Caller-settable claims by name.
    pub allowed_claims: BTreeMap<String, (ClaimType, Vec<GlobMatcher>)>,
    /// Audience patterns (TLS wildcard rules).
    pub allowed_audiences: AudiencePatterns,
    /// Audiences used when the request names none.
    pub default_audiences: Vec<String>,
    /// An empty audience is refused.
    pub require_audience: bool,
    /// Claims the result must hold.
    pub required_claims: Vec<String>,
    /// Role default TTL.
    pub default_ttl: Option<HumanDuration>,
    /// Role cap.
    pub max_ttl: Option<HumanDuration>,
    /// Token kind.
    pub token_type: TokenType,
    /// Log decisions.
    pub verbose_logging: bool,
    /// Exchanged tokens never outlive the subject token.
    pub limit_to_subject_exp: bool,
}

impl CompiledRole {
    /// Validates and compiles `fields` for an issuer whose cap is `issuer_max_ttl`.
    pub fn compile(
        fields: RoleFields,
        issuer_max_ttl: HumanDuration,
    ) -> Result<CompiledRole, Vec<FieldError>> {
        let mut errors = Violations::new();
        match &fields.name {
            None => errors.push(FieldError::required("name")),
            Some(name) => errors.extend(check_name("name", name)),
        }
        let subject_text = fields
            .subject_template
            .clone()
            .unwrap_or_else(|| "{{identity.id}}".to_owned());
        let subject = Template::parse(&subject_text)
            .map_err(|e| errors.push(FieldError::invalid("subject_template", e.to_string())))
            .ok();
        let fixed_claims = fields.fixed_claims.clone().unwrap_or_default();
        for (name, value) in &fixed_claims {
            if RESERVED_CLAIMS.contains(&name.as_str()) {
                errors.push(FieldError::invalid(
                    format!("fixed_claims/{name}"),
                    "is set by Sigil and cannot be fixed by a role",
                ));
            } else if let Err(e) = template::check_value(value) {
                errors.push(FieldError::invalid(
                    format!("fixed_claims/{name}"),
                    e.to_string(),
                ));
            }
        }
        let mut allowed_claims = BTreeMap::new();
        for (i, claim) in fields.allowed_claims.iter().flatten().enumerate() {
            let field = format!("allowed_claims/{i}");
            if RESERVED_CLAIMS.contains(&claim.name.as_str()) {
                errors.push(FieldError::invalid(
                    format!("{field}/name"),
                    format!(
                        "`{}` is set by Sigil and cannot be supplied by callers",
                        claim.name
                    ),
                ));
            } else if fixed_claims.contains_key(&claim.name) {
                errors.push(FieldError::invalid(
                    format!("{field}/name"),
                    format!("`{}` is already a fixed claim", claim.name),
                ));
            } else if claim.name.is_empty() {
                errors.push(FieldError::invalid(
                    format!("{field}/name"),
                    "must not be empty",
                ));
            } else if allowed_claims.contains_key(&claim.name) {
                errors.push(FieldError::invalid(
                    format!("{field}/name"),
                    "is listed twice",
                ));
            }
            if claim.allowed_values.is_empty() {
                errors.push(FieldError::invalid(
                    format!("{field}/allowed_values"),
                    "must list at least one glob (`*` allows any value)",
                ));
            }
            let globs = compile_globs(
                &format!("{field}/allowed_values"),
                &claim.allowed_values,
                &mut errors,
            );
            allowed_claims.insert(claim.name.clone(), (claim.claim_type, globs));
        }
        let audience_patterns = fields.allowed_audiences.as_deref().unwrap_or_default();
        check_len(&mut errors, "allowed_audiences", audience_patterns.len());
        let allowed_audiences = match AudiencePatterns::compile(audience_patterns) {
            Ok(compiled) => compiled,
            Err(refused) => {
                for (i, reason) in refused {
                    errors.push(FieldError::invalid(
                        format!("allowed_audiences/{i}"),
                        reason.to_string(),
                    ));
                }
                AudiencePatterns::none()
            }
        };
        let default_audiences = fields.default_audiences.clone().unwrap_or_default();
        for (i, audience) in default_audiences.iter().enumerate() {
            if !allowed_audiences.admits(audience) {
                errors.push(FieldError::invalid(
                    format!("default_audiences/{i}"),
                    format!("{audience:?} matches none of allowed_audiences"),
                ));
            }
        }
        let required_claims = fields.required_claims.clone().unwrap_or_default();
        check_len(&mut errors, "required_claims", required_claims.len());
        check_len(&mut errors, "default_audiences", default_audiences.len());
        check_len(&mut errors, "allowed_claims", allowed_claims.len());
        check_ttls(&fields, issuer_max_ttl, &mut errors);
        let (Some(name), Some(subject)) = (fields.name.clone(), subject) else {
            return Err(errors.into_vec());
        };
        // What is stored and shown has every default filled in.
        let mut stored = fields;
        stored.subject_template = Some(subject_text);
        stored.fixed_claims = Some(fixed_claims.clone());
        stored.allowed_claims = Some(stored.allowed_claims.unwrap_or_default());
        stored.allowed_audiences = Some(stored.allowed_audiences.unwrap_or_default());
        stored.default_audiences = Some(default_audiences.clone());
        stored.require_audience = Some(stored.require_audience.unwrap_or(false));
        stored.required_claims = Some(required_claims.clone());
        stored.token_type = Some(stored.token_type.unwrap_or_default());
        stored.verbose_logging = Some(stored.verbose_logging.unwrap_or(false));
        stored.limit_to_subject_exp = Some(stored.limit_to_subject_exp.unwrap_or(false));
        let token_type = stored.token_type.unwrap_or_default();
        errors.finish(CompiledRole {
            name,
            subject,
            fixed_claims,
            allowed_claims,
            allowed_audiences,
            require_audience: stored.require_audience.unwrap_or(false),
            default_audiences,
            required_claims,
            default_ttl: stored.default_ttl,
            max_ttl: stored.max_ttl,
            token_type,
            verbose_logging: stored.verbose_logging.unwrap_or(false),
            limit_to_subject_exp: stored.limit_to_subject_exp.unwrap_or(false),
            fields: stored,
        })
    }
}

fn check_ttls(fields: &RoleFields, issuer_max: HumanDuration, errors: &mut Violations) {
    if let Some(max) = fields.max_ttl {
        if max.as_secs() == 0 {
            errors.push(FieldError::invalid("max_ttl", "must be longer than 0s"));
        } else if max > issuer_max {
            errors.push(FieldError::invalid(
                "max_ttl",
                format!("is {max}, longer than the issuer's max_ttl {issuer_max}"),
            ));
        }
    }
    if let Some(default) = fields.default_ttl {
        let cap = fields.max_ttl.unwrap_or(issuer_max).min(issuer_max);
        if default.as_secs() == 0 {
            errors.push(FieldError::invalid("default_ttl", "must be longer than 0s"));
        } else if default > cap {
            errors.push(FieldError::invalid(
                "default_ttl",
                format!("is {default}, longer than the cap {cap}"),
            ));
        }
    }
}

fn check_len(errors: &mut Violations, field: &str, len: usize) {
    if len > MAX_LIST {
        errors.push(FieldError::invalid(
            field,
            format!("may list at most {MAX_LIST} entries"),
        ));
    }
}

fn compile_globs(field: &str, patterns: &[String], errors: &mut Violations) -> Vec<GlobMatcher> {
    check_len(errors, field, patterns.len());
    patterns
        .iter()
        .enumerate()
        .filter_map(|(i, pattern)| {
            match GlobBuilder::new(pattern).literal_separator(false).build() {
                Ok(glob) => Some(glob.compile_matcher()),
                Err(e) => {
                    errors.push(FieldError::invalid(
                        format!("{field}/{i}"),
                        format!("is not a glob: {e}"),
                    ));
                    None
                }
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn day() -> HumanDuration {
        HumanDuration::from_secs(86_400)
    }

    fn fields(value: Value) -> RoleFields {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_minimal_role_defaults_to_the_identity_as_subject() {
        let role = CompiledRole::compile(fields(json!({"name": "deployer"})), day()).unwrap();
        assert_eq!(
            role.fields.subject_template.as_deref(),
            Some("{{identity.id}}")
        );
        assert_eq!(role.token_type, TokenType::Jwt);
    }

    #[test]
    fn reserved_fixed_claims_are_refused() {
        let errors = CompiledRole::compile(
            fields(json!({"name": "r", "fixed_claims": {"sub": "x", "team": "{{identity.nope}}"}})),
            day(),
        )
        .unwrap_err();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["fixed_claims/sub", "fixed_claims/team"]);
    }

    #[test]
    fn role_max_ttl_cannot_exceed_the_issuer() {
        let errors = CompiledRole::compile(fields(json!({"name": "r", "max_ttl": "2d"})), day())
            .unwrap_err();
        assert_eq!(errors[0].name, "max_ttl");
        assert!(errors[0].reason.contains("1d"), "{}", errors[0].reason);
    }

    #[test]
    fn allowed_claims_need_a_glob_and_a_free_name() {
        let errors = CompiledRole::compile(
            fields(
                json!({"name": "r", "fixed_claims": {"env": "prod"}, "allowed_claims": [
                    {"name": "env", "type": "string", "allowed_values": ["*"]},
                    {"name": "jti", "type": "string", "allowed_values": ["*"]},
                    {"name": "ok", "type": "string-array", "allowed_values": []}
                ]}),
            ),
            day(),
        )
        .unwrap_err();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "allowed_claims/0/name",
                "allowed_claims/1/name",
                "allowed_claims/2/allowed_values"
            ]
        );
    }

    #[test]
    fn default_audiences_must_be_allowed() {
        let errors = CompiledRole::compile(
            fields(
                json!({"name": "r", "allowed_audiences": ["https://*.example.com"],
                "default_audiences": ["https://api.example.com", "https://evil.test"]}),
            ),
            day(),
        )
        .unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].name, "default_audiences/1");
    }
}
