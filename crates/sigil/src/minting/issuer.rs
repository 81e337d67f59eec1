//! A named JWT issuer: which signing key it uses, the `iss` it stamps, its TTL bounds, and
//! which nodes (by `--site`) serve it.

use serde::{Deserialize, Serialize};

use crate::duration::HumanDuration;
use crate::validation::{FieldError, Violations, check_name};

/// Longest `max_ttl` an issuer may have.
pub const MAX_ISSUER_TTL: u64 = 365 * 86_400;
/// Longest accepted `issuer` URL.
pub const MAX_URL_LEN: usize = 1024;

/// Which nodes serve an issuer: exactly one of `to: all` or `sites: [..]`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Distribute {
    /// `all`: every node.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// Nodes whose `--site` is listed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sites: Option<Vec<String>>,
}

impl Default for Distribute {
    fn default() -> Distribute {
        Distribute {
            to: Some("all".into()),
            sites: None,
        }
    }
}

impl Distribute {
    /// Whether a node of `site` serves the issuer.
    pub fn includes(&self, site: &str) -> bool {
        self.sites
            .as_ref()
            .is_none_or(|sites| sites.iter().any(|s| s == site))
    }

    fn check(&self, errors: &mut Violations) {
        match (&self.to, &self.sites) {
            (Some(_), Some(_)) | (None, None) => errors.push(FieldError::invalid(
                "distribute",
                "give exactly one of `to: all` or `sites: [..]`",
            )),
            (Some(to), None) if to != "all" => errors.push(FieldError::invalid(
                "distribute/to",
                "must be `all` (or give `sites: [..]` instead)",
            )),
            (None, Some(sites)) if sites.is_empty() => errors.push(FieldError::invalid(
                "distribute/sites",
                "must name at least one site",
            )),
            (None, Some(sites)) => {
                for (i, site) in sites.iter().enumerate() {
                    errors.extend(check_name(&format!("distribute/sites/{i}"), site));
                }
            }
            (Some(_), None) => {}
        }
    }
}

/// A validated issuer specification.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerSpec {
    /// Unique name; also the path segment of its discovery URLs.
    pub name: String,
    /// The signing key.
    pub signing_key: String,
    /// Explicit `iss`; `None` derives `<public-url>/jwt/<name>`.
    pub issuer: Option<String>,
    /// TTL when neither request nor role sets one.
    pub default_ttl: HumanDuration,
    /// Hard cap for every token of this issuer.
    pub max_ttl: HumanDuration,
    /// Log every decision of its requests.
    pub verbose_logging: bool,
    /// Which nodes serve it.
    pub distribute: Distribute,
}

/// The raw fields of an issuer, as parsed from a request or stored document.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct IssuerFields {
    /// `name`.
    pub name: Option<String>,
    /// `signing_key`.
    pub signing_key: Option<String>,
    /// `issuer`.
    pub issuer: Option<String>,
    /// `default_ttl`.
    pub default_ttl: Option<HumanDuration>,
    /// `max_ttl`.
    pub max_ttl: Option<HumanDuration>,
    /// `verbose_logging`.
    pub verbose_logging: Option<bool>,
    /// `distribute`.
    pub distribute: Option<Distribute>,
}

impl IssuerSpec {
    /// Validates raw fields, listing every problem. Whether the signing key exists is the
    /// service's check.
    pub fn from_fields(fields: IssuerFields) -> Result<IssuerSpec, Vec<FieldError>> {
        let mut errors = Violations::new();
        match &fields.name {
            None => errors.push(FieldError::required("name")),
            Some(name) => errors.extend(check_name("name", name)),
        }
        match &fields.signing_key {
            None => errors.push(FieldError::required("signing_key")),
            Some(key) => errors.extend(check_name("signing_key", key)),
        }
        if let Some(issuer) = &fields.issuer {
            errors.extend(check_issuer_url("issuer", issuer));
        }
        let default_ttl = fields
            .default_ttl
            .unwrap_or(HumanDuration::from_secs(3_600));
        let max_ttl = fields.max_ttl.unwrap_or(HumanDuration::from_secs(86_400));
        if default_ttl.as_secs() == 0 {
            errors.push(FieldError::invalid("default_ttl", "must be longer than 0s"));
        }
        if max_ttl.as_secs() == 0 || max_ttl.as_secs() > MAX_ISSUER_TTL {
            errors.push(FieldError::invalid(
                "max_ttl",
                "must be between 1s and 365d",
            ));
        }
        if default_ttl > max_ttl {
            errors.push(FieldError::invalid(
                "default_ttl",
                format!("is {default_ttl}, longer than max_ttl {max_ttl}"),
            ));
        }
        let distribute = fields.distribute.unwrap_or_default();
        distribute.check(&mut errors);
        let (Some(name), Some(signing_key)) = (fields.name, fields.signing_key) else {
            return Err(errors.into_vec());
        };
        errors.finish(IssuerSpec {
            name,
            signing_key,
            issuer: fields.issuer,
            default_ttl,
            max_ttl,
            verbose_logging: fields.verbose_logging.unwrap_or(false),
            distribute,
        })
    }

    /// The fields, as stored and shown.
    pub fn to_fields(&self) -> IssuerFields {
        IssuerFields {
            name: Some(self.name.clone()),
            signing_key: Some(self.signing_key.clone()),
            issuer: self.issuer.clone(),
            default_ttl: Some(self.default_ttl),
            max_ttl: Some(self.max_ttl),
            verbose_logging: Some(self.verbose_logging),
            distribute: Some(self.distribute.clone()),
        }
    }

    /// The `iss` claim: explicit, or derived from the public URL.
    pub fn iss(&self, public_url: &str) -> String {
        self.issuer
            .clone()
            .unwrap_or_else(|| format!("{public_url}/jwt/{}", self.name))
    }
}

/// Checks an issuer identifier: an absolute `https://` (or `http://`) URL without query or
/// fragment, at most 1024 characters (OIDC Discovery §3 and RFC 8414 §2).
pub fn check_issuer_url(field: &str, url: &str) -> Option<FieldError> {
    if url.is_empty() || url.len() > MAX_URL_LEN {
        return Some(FieldError::invalid(field, "must be 1 to 1024 characters"));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.starts_with('/') => {}
        _ => {
            return Some(FieldError::invalid(
                field,
                "must be an absolute https:// URL (http:// only for tests)",
            ));
        }
    }
    if url.contains(['?', '#']) || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Some(FieldError::invalid(
            field,
            "must not contain a query, a fragment or white space",
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(name: &str, key: &str) -> IssuerFields {
        IssuerFields {
            name: Some(name.into()),
            signing_key: Some(key.into()),
            ..IssuerFields::default()
        }
    }

    #[test]
    fn defaults_are_one_hour_and_one_day_for_all_sites() {
        let spec = IssuerSpec::from_fields(fields("payments-api", "k")).unwrap();
        assert_eq!(spec.default_ttl.as_secs(), 3_600);
        assert_eq!(spec.max_ttl.as_secs(), 86_400);
        assert!(spec.distribute.includes("anywhere"));
        assert_eq!(
            spec.iss("https://s.example.com"),
            "https://s.example.com/jwt/payments-api"
        );
    }

    #[test]
    fn every_problem_is_listed() {
        let errors = IssuerSpec::from_fields(IssuerFields {
            name: Some("a b".into()),
            signing_key: None,
            issuer: Some("ftp://x".into()),
            default_ttl: Some(HumanDuration::from_secs(7_200)),
            max_ttl: Some(HumanDuration::from_secs(3_600)),
            verbose_logging: None,
            distribute: Some(Distribute {
                to: None,
                sites: Some(vec![]),
            }),
        })
        .unwrap_err();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "name",
                "signing_key",
                "issuer",
                "default_ttl",
                "distribute/sites"
            ]
        );
    }

    #[test]
    fn sites_limit_which_nodes_serve() {
        let distribute = Distribute {
            to: None,
            sites: Some(vec!["eu-1".into()]),
        };
        assert!(distribute.includes("eu-1"));
        assert!(!distribute.includes("us-1"));
    }

    #[test]
    fn issuer_urls_must_be_absolute_without_query() {
        assert!(check_issuer_url("issuer", "https://idp.example.com").is_none());
        assert!(check_issuer_url("issuer", "https://idp.example.com/x?y=1").is_some());
        assert!(check_issuer_url("issuer", "idp.example.com").is_some());
        assert!(check_issuer_url("issuer", "https:///path").is_some());
    }
}
