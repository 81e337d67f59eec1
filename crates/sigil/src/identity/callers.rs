//! A cache of authenticated callers: a bearer token verified and mapped once is not verified
//! again on every request. It skips the signature only, never a rule (DESIGN §3): at every use
//! the time rules (`exp`, `nbf`, `iat`, `max_token_age`) are judged again with the issuer's
//! current settings, the issuer must still be enabled and its key still published at that
//! moment, and every snapshot the entry came from (issuer, keys or keyring, mappings) must
//! still be the current one, compared by pointer; policies are judged per request anyway.

use std::sync::Arc;

use moka::sync::Cache;
use serde_json::{Map, Value};

use super::mapping_table::MappingTable;
use super::resolve::Resolved;
use crate::signing_keys::Keyring;
use crate::trust::keyset::KeySet;
use crate::trust::{INTERNAL_KEY, TrustRegistry, TrustedIssuer, Verified, check_times};

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
    /// The key that verified the token (internal tokens: checked against the keyring at use).
    kid: Option<String>,
    /// `exp`, `nbf` and `iat` as the token carries them, judged again at every use.
    times: Map<String, Value>,
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
            && entry.issuer.spec.enabled
            && check_times(&entry.issuer, &entry.times, current.now).is_ok()
            && Arc::ptr_eq(&entry.mappings, current.mappings)
            && Arc::ptr_eq(&entry.keys, &entry.issuer.keys())
            && match &entry.keyring {
                Some(keyring) => {
                    Arc::ptr_eq(&entry.issuer, current.internal)
                        && Arc::ptr_eq(keyring, current.keyring)
                        && still_published(keyring, entry.kid.as_deref(), current.now)
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
        let times: Map<String, Value> = ["exp", "nbf", "iat"]
            .into_iter()
            .filter_map(|name| Some((name.to_owned(), verified.claims.get(name)?.clone())))
            .collect();
        let entry = Entry {
            resolved,
            header: header.to_owned(),
            issuer: verified.issuer.clone(),
            keys: verified.issuer.keys(),
            keyring: verified.issuer.is_internal.then(|| current.keyring.clone()),
            mappings: current.mappings.clone(),
            kid: verified.kid.clone(),
            times,
        };
        self.cache.insert(Arc::from(token), Arc::new(entry));
    }
}

/// Whether the internal key version `kid` still verifies at `now` (retirement is timed).
fn still_published(keyring: &Keyring, kid: Option<&str>, now: i64) -> bool {
    kid.is_some_and(|kid| {
        keyring
            .get(INTERNAL_KEY)
            .is_some_and(|key| key.verifier(kid, now).is_some())
    })
}
