//! Reading what was fetched from an external issuer: its OIDC discovery document and its JWKS.
//! No I/O. A JWKS that is not a key set, or that has no usable key left, is refused whole so the
//! caller keeps its previous keys; each unusable key (private, symmetric, weak, of a type Sigil
//! does not know, such as a post-quantum key an IdP adds) is only dropped and reported.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use reqwest::Url;
use serde_json::{Map, Value};
use sigil_jose::{Algorithm, JoseError, Jwk, JwkSet, VerifyingKey};

/// Most keys one JWKS may hold; more is refused as a denial-of-service attempt.
pub const MAX_KEYS: usize = 100;

/// JWK members that only private or symmetric keys have (RFC 7518 §6).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// OIDC Discovery §4: the path appended to an issuer.
const WELL_KNOWN: &str = "/.well-known/openid-configuration";

/// Why a fetched document was refused whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DocumentRefused {
    /// Not JSON, or a member named twice; the text locates the fault.
    #[error("not JSON: {0}")]
    NotJson(String),
    /// JSON, but not an object.
    #[error("not a JSON object")]
    NotAnObject,
    /// A JWKS without a `keys` array.
    #[error("no \"keys\" array")]
    MissingKeysArray,
    /// Every key was left out; the reasons say why, key by key.
    #[error("no usable key: {reasons}")]
    NoUsableKey {
        /// Each dropped key's `kid` and reason, joined.
        reasons: String,
    },
    /// The discovery document names another issuer (OIDC Discovery §4.3).
    #[error("discovery document names issuer {found:?}")]
    IssuerMismatch {
        /// The `issuer` it names.
        found: String,
    },
    /// A required member is absent.
    #[error("member {0:?} is missing")]
    MissingField(&'static str),
    /// A member has the wrong type or an unusable value.
    #[error("member {0:?} is invalid")]
    InvalidField(&'static str),
    /// More keys than anyone needs.
    #[error("more than {limit} keys")]
    TooManyKeys {
        /// The most keys accepted.
        limit: usize,
    },
}

/// What Sigil uses from a discovery document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveryInfo {
    /// The issuer, equal to the one expected.
    pub issuer: String,
    /// Where the keys are: an absolute `https` (or `http`, judged by the fetch) URL.
    pub jwks_uri: String,
    /// `id_token_signing_alg_values_supported`, when published.
    pub algorithms: Option<Vec<String>>,
}

/// The usable keys of a JWKS and the ones left out.
#[derive(Debug, Clone, Default)]
pub struct ParsedJwks {
    /// Keys that verify, in publication order.
    pub keys: Vec<ParsedKey>,
    /// Keys left out, with the reason.
    pub dropped: Vec<DroppedKey>,
}

/// One usable key.
#[derive(Debug, Clone)]
pub struct ParsedKey {
    /// The JWK's `kid`, exactly as published.
    pub kid: Option<String>,
    /// The algorithms the key verifies (its pinned `alg`, or all its type allows).
    pub algorithms: Vec<Algorithm>,
    /// The parsed key.
    pub key: Arc<VerifyingKey>,
}

/// A key left out of a JWKS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DroppedKey {
    /// The key's `kid` if it has one (shortened when absurdly long).
    pub kid: Option<String>,
    /// Why it was left out.
    pub reason: String,
}

/// The discovery URL of an issuer: `/.well-known/openid-configuration` appended after one
/// trailing `/` is removed (OIDC Discovery §4); a URL already under `/.well-known/` is kept.
pub fn discovery_url(issuer_or_url: &str) -> String {
    if issuer_or_url.contains("/.well-known/") {
        return issuer_or_url.to_owned();
    }
    let base = issuer_or_url.strip_suffix('/').unwrap_or(issuer_or_url);
    format!("{base}{WELL_KNOWN}")
}

/// Reads a discovery document whose `issuer` must equal `expected_issuer` byte for byte
/// (OIDC Discovery §4.3: a trailing `/` makes another issuer).
pub fn parse_discovery(
    body: &[u8],
    expected_issuer: &str,
) -> Result<DiscoveryInfo, DocumentRefused> {
    let document = object(body)?;
    let issuer = string_member(&document, "issuer")?;
    if issuer != expected_issuer {
        return Err(DocumentRefused::IssuerMismatch {
            found: shown(issuer),
        });
    }
    let jwks_uri = string_member(&document, "jwks_uri")?;
    let absolute = Url::parse(jwks_uri).is_ok_and(|url| {
        matches!(url.scheme(), "https" | "http") && url.host_str().is_some_and(|h| !h.is_empty())
    });
    if !absolute {
        return Err(DocumentRefused::InvalidField("jwks_uri"));
    }
    const ALGORITHMS: &str = "id_token_signing_alg_values_supported";
    let algorithms = match document.get(ALGORITHMS) {
        None | Some(Value::Null) => None,
        Some(Value::Array(names)) => Some(
            names
                .iter()
                .map(|name| name.as_str().map(str::to_owned))
                .collect::<Option<Vec<String>>>()
                .ok_or(DocumentRefused::InvalidField(ALGORITHMS))?,
        ),
        Some(_) => return Err(DocumentRefused::InvalidField(ALGORITHMS)),
    };
    Ok(DiscoveryInfo {
        issuer: issuer.to_owned(),
        jwks_uri: jwks_uri.to_owned(),
        algorithms,
    })
}

/// Reads a JWKS. Refused whole: not JSON, duplicate members, no `keys` array, more than
/// [`MAX_KEYS`] keys, or no usable key at all. Dropped one by one: keys with private members
/// (the publisher leaks a secret: that key is never trusted), keys that do not verify here
/// (`oct`, `use: enc`, weak RSA, off-curve points, unknown types), keys without `kid` among
/// several usable ones, and every key of a `kid` shared by different material.
pub fn parse_jwks(body: &[u8]) -> Result<ParsedJwks, DocumentRefused> {
    let document = object(body)?;
    // serde_json keeps the last of two equal names while other parsers keep the first.
    if let Err(JoseError::DuplicateMember(name)) = JwkSet::from_json(body) {
        return Err(DocumentRefused::NotJson(format!(
            "member {:?} appears twice",
            shown(&name)
        )));
    }
    let Some(Value::Array(entries)) = document.get("keys") else {
        return Err(DocumentRefused::MissingKeysArray);
    };
    if entries.len() > MAX_KEYS {
        return Err(DocumentRefused::TooManyKeys { limit: MAX_KEYS });
    }
    let mut dropped = Vec::new();
    let mut candidates = Vec::new();
    for entry in entries {
        if has_private_members(entry) {
            dropped.push(DroppedKey {
                kid: reported_kid(entry),
                reason: "private or symmetric key material is published (members d, p, q, \
                         dp, dq, qi, oth or k): never trusted"
                    .into(),
            });
            continue;
        }
        match candidate(entry) {
            Ok(usable) => candidates.push(usable),
            Err(reason) => dropped.push(DroppedKey {
                kid: reported_kid(entry),
                reason,
            }),
        }
    }
    if candidates.len() > 1 {
        // A token without `kid` could not tell these keys apart.
        for keyless in candidates.extract_if(.., |usable| usable.key.kid.is_none()) {
            dropped.push(DroppedKey {
                kid: None,
                reason: format!(
                    "no kid among several keys (thumbprint {})",
                    keyless.thumbprint
                ),
            });
        }
    }
    let conflicting = conflicting_kids(&candidates);
    for shadowed in candidates.extract_if(.., |usable| {
        usable
            .key
            .kid
            .as_ref()
            .is_some_and(|kid| conflicting.contains(kid))
    }) {
        dropped.push(DroppedKey {
            kid: shadowed.key.kid.as_deref().map(shown),
            reason: "conflicting kid: another key with different material has it".into(),
        });
    }
    if candidates.is_empty() {
        let reasons = if dropped.is_empty() {
            "the key set is empty".to_owned()
        } else {
            dropped
                .iter()
                .map(|d| format!("kid {:?}: {}", d.kid.as_deref().unwrap_or("-"), d.reason))
                .collect::<Vec<_>>()
                .join("; ")
        };
        return Err(DocumentRefused::NoUsableKey { reasons });
    }
    Ok(ParsedJwks {
        keys: candidates.into_iter().map(|usable| usable.key).collect(),
        dropped,
    })
}

/// A key that verifies, with its RFC 7638 thumbprint to compare material.
struct Candidate {
    key: ParsedKey,
    thumbprint: String,
}

fn candidate(entry: &Value) -> Result<Candidate, String> {
    // A fixed text: serde's messages would quote the member's value.
    let jwk: Jwk = serde_json::from_value(entry.clone()).map_err(|_| "malformed JWK".to_owned())?;
    let key = VerifyingKey::from_jwk(&jwk).map_err(|error| error.to_string())?;
    let thumbprint = jwk.thumbprint().map_err(|error| error.to_string())?;
    Ok(Candidate {
        key: ParsedKey {
            kid: jwk.kid.clone(),
            algorithms: key.algorithms().collect(),
            key: Arc::new(key),
        },
        thumbprint,
    })
}

/// The kids that two keys of different material share.
fn conflicting_kids(candidates: &[Candidate]) -> HashSet<String> {
    let mut material: HashMap<&str, &str> = HashMap::new();
    let mut conflicting = HashSet::new();
    for usable in candidates {
        let Some(kid) = usable.key.kid.as_deref() else {
            continue;
        };
        let first = *material.entry(kid).or_insert(&usable.thumbprint);
        if first != usable.thumbprint {
            conflicting.insert(kid.to_owned());
        }
    }
    conflicting
}

/// Whether a JWK object names any private member, even as `null`.
fn has_private_members(entry: &Value) -> bool {
    entry.as_object().is_some_and(|members| {
        PRIVATE_MEMBERS
            .iter()
            .any(|name| members.contains_key(*name))
    })
}

fn reported_kid(entry: &Value) -> Option<String> {
    entry.get("kid").and_then(Value::as_str).map(shown)
}

fn object(body: &[u8]) -> Result<Map<String, Value>, DocumentRefused> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(members)) => Ok(members),
        Ok(_) => Err(DocumentRefused::NotAnObject),
        // serde_json's syntax errors give a position, never the input.
        Err(error) => Err(DocumentRefused::NotJson(error.to_string())),
    }
}

fn string_member<'a>(
    document: &'a Map<String, Value>,
    name: &'static str,
) -> Result<&'a str, DocumentRefused> {
    match document.get(name) {
        None | Some(Value::Null) => Err(DocumentRefused::MissingField(name)),
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(DocumentRefused::InvalidField(name)),
    }
}

/// Caps text from a document before it goes into a report.
fn shown(text: &str) -> String {
    const LIMIT: usize = 128;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
