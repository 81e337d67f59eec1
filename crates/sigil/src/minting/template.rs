//! Claim templates: `{{identity.id}}`, `{{identity.claims.<name>}}` and the like, substituted
//! into strings. No code, no conditionals; a missing value fails closed instead of yielding an
//! empty claim. A string that is exactly one placeholder keeps the value's JSON type.

use serde_json::{Map, Value};

use crate::identity::Identity;

/// A parsed template string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Text(String),
    Value(Source),
}

/// Where a placeholder reads from.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Source {
    Id,
    Project,
    TrustedIssuer,
    Roles,
    Claim(Vec<String>),
}

/// Why a template cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TemplateRefused {
    /// `{{` without `}}`, or an empty placeholder.
    #[error("unclosed or empty placeholder at character {0}")]
    Unclosed(usize),
    /// A placeholder that names nothing we know.
    #[error(
        "unknown placeholder {{{{{0}}}}}; use identity.id, identity.project, identity.trusted_issuer, identity.roles or identity.claims.<name>"
    )]
    UnknownPlaceholder(String),
    /// The identity has no such value.
    #[error("{{{{{0}}}}} has no value for this caller")]
    Missing(String),
    /// An object or array cannot be placed inside a longer string.
    #[error("{{{{{0}}}}} is not a string, number or boolean and cannot be embedded in text")]
    NotScalar(String),
}

impl Template {
    /// Parses `text`; text without placeholders is a constant.
    pub fn parse(text: &str) -> Result<Template, TemplateRefused> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Text(rest[..start].to_owned()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or(TemplateRefused::Unclosed(offset + start))?;
            let name = after[..end].trim();
            if name.is_empty() {
                return Err(TemplateRefused::Unclosed(offset + start));
            }
            parts.push(Part::Value(source(name)?));
            let consumed = start + 2 + end + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// Whether the template has placeholders.
    pub fn is_constant(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Text(_)))
    }

    /// Substitutes the identity's values.
    pub fn render(&self, identity: &Identity) -> Result<Value, TemplateRefused> {
        if let [Part::Value(source)] = self.parts.as_slice() {
            return lookup(source, identity).cloned_value();
        }
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Value(source) => match lookup(source, identity).cloned_value()? {
                    Value::String(s) => out.push_str(&s),
                    Value::Number(n) => out.push_str(&n.to_string()),
                    Value::Bool(b) => out.push_str(if b { "true" } else { "false" }),
                    _ => return Err(TemplateRefused::NotScalar(name_of(source))),
                },
            }
        }
        Ok(Value::String(out))
    }
}

/// Renders every string inside `value` (objects and arrays recursively) as a template.
pub fn render_value(value: &Value, identity: &Identity) -> Result<Value, TemplateRefused> {
    match value {
        Value::String(text) => Template::parse(text)?.render(identity),
        Value::Array(items) => items
            .iter()
            .map(|item| render_value(item, identity))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| Ok((k.clone(), render_value(v, identity)?)))
            .collect::<Result<Map<_, _>, _>>()
            .map(Value::Object),
        other => Ok(other.clone()),
    }
}

/// Checks every string inside `value` parses as a template.
pub fn check_value(value: &Value) -> Result<(), TemplateRefused> {
    match value {
        Value::String(text) => Template::parse(text).map(|_| ()),
        Value::Array(items) => items.iter().try_for_each(check_value),
        Value::Object(map) => map.values().try_for_each(check_value),
        _ => Ok(()),
    }
}

struct Lookup<'a> {
    value: Option<Value>,
    borrowed: Option<&'a Value>,
    name: String,
}

impl Lookup<'_> {
    fn cloned_value(self) -> Result<Value, TemplateRefused> {
        match (self.value, self.borrowed) {
            (Some(v), _) => Ok(v),
            (None, Some(Value::Null)) | (None, None) => Err(TemplateRefused::Missing(self.name)),
            (None, Some(v)) => Ok(v.clone()),
        }
    }
}

fn lookup<'a>(source: &Source, identity: &'a Identity) -> Lookup<'a> {
    let owned = |v: Value| Lookup {
        value: Some(v),
        borrowed: None,
        name: name_of(source),
    };
    match source {
        Source::Id => owned(Value::String(identity.id.clone())),
        Source::Project => owned(Value::String(identity.project.clone())),
        Source::TrustedIssuer => owned(Value::String(identity.trusted_issuer.clone())),
        Source::Roles => owned(Value::Array(
            identity.roles.iter().cloned().map(Value::String).collect(),
        )),
        Source::Claim(path) => {
            let mut current = path.first().and_then(|first| identity.claims.get(first));
            for segment in path.iter().skip(1) {
                current = current.and_then(|v| v.get(segment));
            }
            Lookup {
                value: None,
                borrowed: current,
                name: name_of(source),
            }
        }
    }
}

fn source(name: &str) -> Result<Source, TemplateRefused> {
    match name {
        "identity.id" => Ok(Source::Id),
        "identity.project" => Ok(Source::Project),
        "identity.trusted_issuer" => Ok(Source::TrustedIssuer),
        "identity.roles" => Ok(Source::Roles),
        _ => {
            let claim = name
                .strip_prefix("identity.claims.")
                .filter(|rest| !rest.is_empty() && rest.split('.').all(|s| !s.is_empty()))
                .ok_or_else(|| TemplateRefused::UnknownPlaceholder(name.to_owned()))?;
            Ok(Source::Claim(claim.split('.').map(str::to_owned).collect()))
        }
    }
}

fn name_of(source: &Source) -> String {
    match source {
        Source::Id => "identity.id".into(),
        Source::Project => "identity.project".into(),
        Source::TrustedIssuer => "identity.trusted_issuer".into(),
        Source::Roles => "identity.roles".into(),
        Source::Claim(path) => format!("identity.claims.{}", path.join(".")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn identity() -> Identity {
        let claims = json!({"repository": "acme/payments", "run": 7, "ctx": {"env": "prod"}, "groups": ["a", "b"]});
        Identity {
            id: "github:acme/payments".into(),
            trusted_issuer: "github".into(),
            project: "p1".into(),
            roles: vec!["deployer".into()],
            permissions: 3,
            policies: vec![],
            claims: claims.as_object().unwrap().clone(),
        }
    }

    fn render(text: &str) -> Result<Value, TemplateRefused> {
        Template::parse(text)?.render(&identity())
    }

    #[test]
    fn placeholders_substitute_identity_values() {
        assert_eq!(
            render("{{identity.id}}").unwrap(),
            json!("github:acme/payments")
        );
        assert_eq!(
            render("repo:{{ identity.claims.repository }}@{{identity.project}}").unwrap(),
            json!("repo:acme/payments@p1")
        );
        assert_eq!(
            render("run-{{identity.claims.run}}").unwrap(),
            json!("run-7")
        );
        assert_eq!(
            render("{{identity.claims.ctx.env}}").unwrap(),
            json!("prod")
        );
    }

    #[test]
    fn a_lone_placeholder_keeps_the_json_type() {
        assert_eq!(render("{{identity.claims.run}}").unwrap(), json!(7));
        assert_eq!(
            render("{{identity.claims.groups}}").unwrap(),
            json!(["a", "b"])
        );
        assert_eq!(render("{{identity.roles}}").unwrap(), json!(["deployer"]));
    }

    #[test]
    fn a_missing_value_fails_closed() {
        assert_eq!(
            render("x-{{identity.claims.nope}}").unwrap_err(),
            TemplateRefused::Missing("identity.claims.nope".into())
        );
        assert!(render("{{identity.claims.ctx.nope}}").is_err());
    }

    #[test]
    fn arrays_cannot_be_embedded_in_text() {
        assert_eq!(
            render("g={{identity.claims.groups}}").unwrap_err(),
            TemplateRefused::NotScalar("identity.claims.groups".into())
        );
    }

    #[test]
    fn malformed_templates_are_refused() {
        assert_eq!(
            Template::parse("a {{identity.id").unwrap_err(),
            TemplateRefused::Unclosed(2)
        );
        assert_eq!(
            Template::parse("{{ }}").unwrap_err(),
            TemplateRefused::Unclosed(0)
        );
        assert!(matches!(
            Template::parse("{{env.HOME}}").unwrap_err(),
            TemplateRefused::UnknownPlaceholder(_)
        ));
        assert!(Template::parse("{{identity.claims.}}").is_err());
    }

    #[test]
    fn constant_text_renders_as_itself() {
        let template = Template::parse("plain").unwrap();
        assert!(template.is_constant());
        assert_eq!(template.render(&identity()).unwrap(), json!("plain"));
    }

    #[test]
    fn nested_values_render_recursively() {
        let value =
            json!({"team": "{{identity.project}}", "tags": ["x", "{{identity.id}}"], "n": 1});
        assert_eq!(
            render_value(&value, &identity()).unwrap(),
            json!({"team": "p1", "tags": ["x", "github:acme/payments"], "n": 1})
        );
    }
}
