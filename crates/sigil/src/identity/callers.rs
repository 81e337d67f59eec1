//! A cache of authenticated callers: a bearer token verified and mapped once is not verified
//! again on every request. An entry is used only while the token is inside its validity
//! window and while every snapshot it was derived from (the issuer, its keys or Sigil's
//! keyring, the mappings) is still the current one, compared by pointer, so any rotation,
//! revocation, refresh or configuration change sends the token through full verification.

use std::sync::Arc;

use moka::sync::Cache;
use serde_json::Value;

use super::mappings::MappingTable;
use super::resolve::Resolved;
use crate::signing_keys::Keyring;
use crate::trust::keyset::KeySet;
use crate::trust::{TrustRegistry, TrustedIssuer, Verified};

/// Most callers remembered at once.
pub const MAX_CALLERS: u64 = 10_000;

/// What a cached identity was derived from.
struct Entry {
    resolved: Arc<Resolved>,
    header: String,
    issuer: Arc<TrustedIssuer>,
    keys: Arc<KeySet>,
    keyring: Option<Arc<Keyring>>,
    mappings: Arc<MappingTable>,
    valid_from: i64,
    valid_until: i64,
}

/// The snapshots current now, to compare an entry with.
pub struct Current<'a> {
    /// The trust registry.
    pub registry: &'a TrustRegistry,
    /// The internal issuer.
    pub internal: &'a Arc<TrustedIssuer>,
    /// The keyring.
    pub keyring: &'a Arc<Keyring>,
    /// The mapping table.
    pub mappings: &'a Arc<MappingTable>,
    /// Now.
    pub now: i64,
}

/// Verified and mapped bearer tokens.
pub struct Callers {
    cache: Cache<Arc<str>, Arc<Entry>>,
}

impl Default for Callers {
    fn default() -> Callers {
        Callers::new()
    }
}

impl Callers {
    /// An empty cache of at most [`MAX_CALLERS`] entries.
    pub fn new() -> Callers {
        Callers {
            cache: Cache::new(MAX_CALLERS),
        }
    }

    /// The identity of `token` if it was verified before and nothing it depends on changed.
    pub fn get(&self, token: &str, header: &str, current: &Current<'_>) -> Option<Arc<Resolved>> {
        let entry = self.cache.get(token)?;
        let fresh = entry.header == header
            && (entry.valid_from..entry.valid_until).contains(&current.now)
            && Arc::ptr_eq(&entry.mappings, current.mappings)
            && Arc::ptr_eq(&entry.keys, &entry.issuer.keys())
            && match &entry.keyring {
                Some(keyring) => {
                    Arc::ptr_eq(&entry.issuer, current.internal)
                        && Arc::ptr_eq(keyring, current.keyring)
                }
                None => current
                    .registry
                    .by_iss(&entry.issuer.spec.issuer)
                    .is_some_and(|issuer| Arc::ptr_eq(issuer, &entry.issuer)),
            };
        if fresh {
            Some(entry.resolved.clone())
        } else {
            self.cache.invalidate(token);
            None
        }
    }

    /// Remembers a token just verified and mapped against `current`.
    pub fn insert(
        &self,
        token: &str,
        header: &str,
        verified: &Verified,
        resolved: Arc<Resolved>,
        current: &Current<'_>,
    ) {
        let leeway = i64::try_from(verified.issuer.spec.leeway).unwrap_or(0);
        let time = |name: &str| verified.claims.get(name).and_then(Value::as_f64);
        let Some(exp) = time("exp") else {
            return;
        };
        let valid_until = (exp.floor() as i64).saturating_add(leeway);
        let valid_from =
            time("nbf").map_or(i64::MIN, |nbf| (nbf.ceil() as i64).saturating_sub(leeway));
        let entry = Entry {
            resolved,
            header: header.to_owned(),
            issuer: verified.issuer.clone(),
            keys: verified.issuer.keys(),
            keyring: verified.issuer.is_internal.then(|| current.keyring.clone()),
            mappings: current.mappings.clone(),
            valid_from,
            valid_until,
        };
        self.cache.insert(Arc::from(token), Arc::new(entry));
    }
}
