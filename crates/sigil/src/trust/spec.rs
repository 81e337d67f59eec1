//! A trusted issuer as configured: where its keys come from and the rules its tokens must
//! meet. Validation here is pure; whether the sources answer is checked by the service.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sigil_jose::{Algorithm, Jwk, VerifyingKey};

use crate::duration::HumanDuration;
use crate::validation::{FieldError, Violations, check_name};

/// Longest issuer, URL and header value accepted.
pub const MAX_TEXT: usize = 200;
/// Largest accepted leeway.
pub const MAX_LEEWAY: u64 = 300;
/// Default leeway for `exp`, `nbf` and `iat`.
pub const DEFAULT_LEEWAY: u64 = 60;
const MAX_LIST: usize = 256;

/// A project an issuer belongs to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Project {
    /// Project id.
    pub id: String,
}

/// The fields of a trusted issuer, as parsed from a request, the config file or storage.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
pub struct TrustedIssuerFields {
    /// Unique name.
    pub name: Option<String>,
    /// The exact `iss` its tokens carry (alias `iss`).
    pub issuer: Option<String>,
    /// Project (default `{id: default}`).
    pub project: Option<Project>,
    /// A JWKS URL (alias `JWKsURL`).
    pub jwks_url: Option<String>,
    /// An issuer URL or a full `.well-known` discovery URL.
    pub discovery_url: Option<String>,
    /// Inline public JWKs.
    #[schema(value_type = Option<Vec<Object>>)]
    pub keys: Option<Vec<Value>>,
    /// Accepted audiences (alias `aud`).
    pub audiences: Option<Vec<String>>,
    /// Accept any audience (dangerous; default false).
    pub audiences_unchecked: Option<bool>,
    /// Roles kept from the token's `roles` claim (empty: all).
    pub roles: Option<Vec<String>>,
    /// Mask ANDed with the token's `prm` (alias `prm`; absent: all bits).
    pub permissions: Option<u64>,
    /// Allowed `alg` values (default: those of the keys' types).
    pub algorithms: Option<Vec<String>>,
    /// Clock skew allowed for `exp`, `nbf`, `iat` (default 60s, at most 5m).
    #[schema(value_type = Option<String>)]
    pub leeway: Option<HumanDuration>,
    /// Refuse tokens whose `iat` is older than this.
    #[schema(value_type = Option<String>)]
    pub max_token_age: Option<HumanDuration>,
    /// Tokens must carry `jti`; exchange refuses a second use.
    pub require_jti: Option<bool>,
    /// Header the JWT arrives in (default `authorization`, with the Bearer scheme).
    pub header: Option<String>,
    /// Allow plain HTTP key sources (dangerous; default false).
    pub allow_insecure_http: Option<bool>,
    /// Disabled issuers verify nothing (default true).
    pub enabled: Option<bool>,
    /// Read-only; ignored in requests.
    #[schema(read_only)]
    pub internal: Option<Value>,
    /// Read-only; ignored in requests.
    #[serde(rename = "static")]
    #[schema(read_only)]
    pub static_: Option<Value>,
}

/// A validated trusted issuer.
#[derive(Clone, Debug)]
pub struct TrustedIssuerSpec {
    /// Unique name.
    pub name: String,
    /// Exact `iss`.
    pub issuer: String,
    /// Project id.
    pub project: String,
    /// JWKS URL.
    pub jwks_url: Option<String>,
    /// Discovery document URL (already expanded to `.well-known/...`).
    pub discovery_url: Option<String>,
    /// Inline keys, parsed.
    pub inline_keys: Vec<std::sync::Arc<VerifyingKey>>,
    /// Accepted audiences.
    pub audiences: Vec<String>,
    /// Accept any audience.
    pub audiences_unchecked: bool,
    /// Allowed roles (empty: all).
    pub roles: Vec<String>,
    /// Permission mask.
    pub permissions: u64,
    /// Explicit algorithm allow-list.
    pub algorithms: Option<Vec<Algorithm>>,
    /// Leeway in seconds.
    pub leeway: u64,
    /// Maximum token age in seconds.
    pub max_token_age: Option<u64>,
    /// `jti` required.
    pub require_jti: bool,
    /// Lower-case header name.
    pub header: String,
    /// Plain HTTP sources allowed.
    pub allow_insecure_http: bool,
    /// Verifies tokens.
    pub enabled: bool,
    /// The fields as given (read-only ones cleared; inline keys held parsed in
    /// `inline_keys` only, not twice): see `stored_fields`.
    pub fields: TrustedIssuerFields,
}

impl TrustedIssuerSpec {
    /// Validates fields, listing every problem.
    pub fn from_fields(
        mut fields: TrustedIssuerFields,
    ) -> Result<TrustedIssuerSpec, Vec<FieldError>> {
        fields.internal = None;
        fields.static_ = None;
        let mut errors = Violations::new();
        match &fields.name {
            None => errors.push(FieldError::required("name")),
            Some(name) => errors.extend(check_name("name", name)),
        }
        match &fields.issuer {
            None => errors.push(FieldError::required("issuer")),
            Some(issuer) => errors.extend(check_text("issuer", issuer)),
        }
        for (field, url) in [
            ("jwks_url", &fields.jwks_url),
            ("discovery_url", &fields.discovery_url),
        ] {
            if let Some(url) = url {
                errors.extend(check_text(field, url).or_else(|| check_url(field, url)));
            }
        }
        let inline_keys =
            parse_inline_keys(fields.keys.as_deref().unwrap_or_default(), &mut errors);
        if fields.jwks_url.is_none() && fields.discovery_url.is_none() && inline_keys.is_empty() {
            errors.push(FieldError::new(
                "keys",
                "required",
                "give at least one key source: jwks_url, discovery_url or keys",
            ));
        }
        let project = fields
            .project
            .clone()
            .map_or_else(|| "default".to_owned(), |p| p.id);
        errors.extend(check_name("project/id", &project));
        let algorithms = fields.algorithms.as_ref().map(|names| {
            names
                .iter()
                .enumerate()
                .filter_map(|(i, name)| {
                    Algorithm::parse(name).or_else(|| {
                        errors.push(FieldError::invalid(
                            format!("algorithms/{i}"),
                            format!(
                                "{name:?} is not an allowed algorithm (none and HS* never are)"
                            ),
                        ));
                        None
                    })
                })
                .collect::<Vec<_>>()
        });
        if algorithms.as_ref().is_some_and(Vec::is_empty) {
            errors.push(FieldError::invalid(
                "algorithms",
                "must list at least one algorithm",
            ));
        }
        let leeway = fields.leeway.map_or(DEFAULT_LEEWAY, |l| l.as_secs());
        if leeway > MAX_LEEWAY {
            errors.push(FieldError::invalid("leeway", "must be at most 5m"));
        }
        if fields.max_token_age.is_some_and(|a| a.as_secs() == 0) {
            errors.push(FieldError::invalid(
                "max_token_age",
                "must be longer than 0s",
            ));
        }
        let header = fields
            .header
            .clone()
            .unwrap_or_else(|| "authorization".to_owned())
            .to_ascii_lowercase();
        if header.is_empty()
            || header.len() > MAX_TEXT
            || !header
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            errors.push(FieldError::invalid("header", "must be an HTTP header name"));
        }
        for (field, list) in [("audiences", &fields.audiences), ("roles", &fields.roles)] {
            let list = list.as_deref().unwrap_or_default();
            if list.len() > MAX_LIST {
                errors.push(FieldError::invalid(
                    field,
                    format!("may list at most {MAX_LIST} entries"),
                ));
            }
            for (i, item) in list.iter().enumerate() {
                errors.extend(check_text(&format!("{field}/{i}"), item));
            }
        }
        let (Some(name), Some(issuer)) = (fields.name.clone(), fields.issuer.clone()) else {
            return Err(errors.into_vec());
        };
        let discovery_url = fields
            .discovery_url
            .as_deref()
            .map(super::fetched::discovery_url);
        // The parsed keys are the one copy kept; `stored_fields` writes them back out.
        let mut fields = fields;
        fields.keys = None;
        errors.finish(TrustedIssuerSpec {
            name,
            issuer,
            project,
            jwks_url: fields.jwks_url.clone(),
            discovery_url,
            inline_keys,
            audiences: fields.audiences.clone().unwrap_or_default(),
            audiences_unchecked: fields.audiences_unchecked.unwrap_or(false),
            roles: fields.roles.clone().unwrap_or_default(),
            permissions: fields.permissions.unwrap_or(u64::MAX),
            algorithms,
            leeway,
            max_token_age: fields.max_token_age.map(|a| a.as_secs()),
            require_jti: fields.require_jti.unwrap_or(false),
            header,
            allow_insecure_http: fields.allow_insecure_http.unwrap_or(false),
            enabled: fields.enabled.unwrap_or(true),
            fields,
        })
    }

    /// The fields to store and show, inline keys included.
    pub fn stored_fields(&self) -> TrustedIssuerFields {
        let mut fields = self.fields.clone();
        if !self.inline_keys.is_empty() {
            fields.keys = Some(
                self.inline_keys
                    .iter()
                    .filter_map(|key| serde_json::to_value(key.jwk()).ok())
                    .collect(),
            );
        }
        fields
    }

    /// Whether keys come from the network.
    pub fn has_remote_sources(&self) -> bool {
        self.jwks_url.is_some() || self.discovery_url.is_some()
    }
}

/// Notes for read-only fields a request tried to set.
pub fn ignored_fields(fields: &TrustedIssuerFields) -> Vec<String> {
    let mut notes = Vec::new();
    if fields.internal.is_some() {
        notes.push("`internal` is read-only and was ignored".to_owned());
    }
    if fields.static_.is_some() {
        notes.push("`static` is read-only and was ignored".to_owned());
    }
    notes
}

fn parse_inline_keys(
    values: &[Value],
    errors: &mut Violations,
) -> Vec<std::sync::Arc<VerifyingKey>> {
    // Sized exactly: ten thousand issuers with one key each must not carry room for four.
    let mut keys: Vec<std::sync::Arc<VerifyingKey>> = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        let field = format!("keys/{i}");
        let jwk: Jwk = match serde_json::from_value(value.clone()) {
            Ok(jwk) => jwk,
            Err(e) => {
                errors.push(FieldError::invalid(field, format!("is not a JWK: {e}")));
                continue;
            }
        };
        let key = match VerifyingKey::from_jwk(&jwk) {
            Ok(key) => key,
            Err(e) => {
                errors.push(FieldError::invalid(field, e.to_string()));
                continue;
            }
        };
        if let Some(kid) = &jwk.kid
            && let Some(other) = keys.iter().find(|k| k.jwk().kid.as_ref() == Some(kid))
        {
            if other.jwk().thumbprint().ok() != jwk.thumbprint().ok() {
                errors.push(FieldError::invalid(
                    field,
                    format!("kid {kid:?} is already used by another key with different material"),
                ));
            }
            continue;
        }
        keys.push(std::sync::Arc::new(key));
    }
    keys
}

fn check_text(field: &str, text: &str) -> Option<FieldError> {
    if text.is_empty() {
        Some(FieldError::invalid(field, "must not be empty"))
    } else if text.chars().count() > MAX_TEXT {
        Some(FieldError::new(
            field,
            "too_long",
            "must be at most 200 characters",
        ))
    } else {
        None
    }
}

fn check_url(field: &str, url: &str) -> Option<FieldError> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty() && !host.starts_with('/') && !url.contains(char::is_whitespace) =>
        {
            None
        }
        _ => Some(FieldError::invalid(
            field,
            "must be an absolute https:// URL",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(value: Value) -> TrustedIssuerFields {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn defaults_are_strict() {
        let spec = TrustedIssuerSpec::from_fields(fields(json!({
            "name": "idp", "issuer": "https://idp.example.com", "jwks_url": "https://idp.example.com/jwks"
        })))
        .unwrap();
        assert_eq!(spec.leeway, 60);
        assert_eq!(spec.permissions, u64::MAX);
        assert!(!spec.audiences_unchecked);
        assert!(!spec.allow_insecure_http);
        assert!(spec.enabled);
        assert_eq!(spec.header, "authorization");
        assert_eq!(spec.project, "default");
    }

    #[test]
    fn a_key_source_is_required() {
        let errors = TrustedIssuerSpec::from_fields(fields(json!({
            "name": "idp", "issuer": "https://idp.example.com", "keys": []
        })))
        .unwrap_err();
        assert_eq!(errors[0].name, "keys");
    }

    #[test]
    fn every_problem_is_listed() {
        let errors = TrustedIssuerSpec::from_fields(fields(json!({
            "name": "", "issuer": "x".repeat(201), "jwks_url": "ftp://x",
            "algorithms": ["HS256"], "leeway": "10m", "header": "bad header"
        })))
        .unwrap_err();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "name",
                "issuer",
                "jwks_url",
                "algorithms/0",
                "algorithms",
                "leeway",
                "header"
            ]
        );
    }

    #[test]
    fn read_only_fields_are_dropped_with_a_note() {
        let given = fields(
            json!({"name": "a", "issuer": "i", "jwks_url": "https://x/j", "internal": true, "static": true}),
        );
        assert_eq!(ignored_fields(&given).len(), 2);
        let spec = TrustedIssuerSpec::from_fields(given).unwrap();
        assert!(spec.fields.internal.is_none() && spec.fields.static_.is_none());
    }
}
