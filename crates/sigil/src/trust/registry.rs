//! The in-memory trusted issuers the hot path reads: looked up by exact `iss` and by name in
//! hash maps of a snapshot swapped whole. Each issuer's keys live behind their own atomic
//! pointer, so a key refresh never rebuilds the registry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::Serialize;

use super::keyset::{KeySet, KeySource};
use super::spec::TrustedIssuerSpec;
use crate::catalog::{Named, Snapshot};
use crate::storage::Stamps;

/// What is known about one key source's fetches.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SourceStatus {
    /// Which source.
    #[schema(value_type = String)]
    pub source: Option<KeySource>,
    /// The URL fetched (the JWKS URL of a discovery document once known).
    pub url: String,
    /// Last attempt (Unix seconds).
    pub last_fetch_at: Option<i64>,
    /// Last success (Unix seconds).
    pub last_success_at: Option<i64>,
    /// The last failure, if the last attempt failed.
    pub last_error: Option<String>,
    /// When the keys are refreshed next (Unix seconds).
    pub next_refresh_at: Option<i64>,
    /// Keys this source contributed at its last success.
    pub key_count: usize,
}

/// A trusted issuer as loaded.
pub struct TrustedIssuer {
    /// The configuration.
    pub spec: TrustedIssuerSpec,
    /// Document stamps (0 for static and internal issuers).
    pub stamps: Stamps,
    /// Declared in the configuration file.
    pub is_static: bool,
    /// Sigil's own issuer.
    pub is_internal: bool,
    keys: ArcSwap<KeySet>,
    /// Per-source fetch results, for state and stale-if-error.
    pub sources: Mutex<Vec<SourceFetch>>,
    /// Serialises key fetches of this issuer; holds the time of the last unknown-kid refetch.
    pub refetch_gate: tokio::sync::Mutex<i64>,
}

/// The last result of one source, kept so failures can fall back to the last good keys.
#[derive(Clone, Debug)]
pub struct SourceFetch {
    /// Its status.
    pub status: SourceStatus,
    /// The keys of the last success.
    pub last_good: Option<super::fetched::ParsedJwks>,
}

impl TrustedIssuer {
    /// An issuer with `keys` to start with.
    pub fn new(
        spec: TrustedIssuerSpec,
        stamps: Stamps,
        is_static: bool,
        keys: KeySet,
    ) -> TrustedIssuer {
        TrustedIssuer {
            spec,
            stamps,
            is_static,
            is_internal: false,
            keys: ArcSwap::from_pointee(keys),
            sources: Mutex::new(Vec::new()),
            refetch_gate: tokio::sync::Mutex::new(i64::MIN),
        }
    }

    /// The internal issuer's placeholder (its keys come from the keyring at verification).
    pub fn internal(spec: TrustedIssuerSpec) -> TrustedIssuer {
        let mut issuer = TrustedIssuer::new(spec, Stamps::NONE, false, KeySet::default());
        issuer.is_internal = true;
        issuer
    }

    /// The current key set (lock-free).
    pub fn keys(&self) -> Arc<KeySet> {
        self.keys.load_full()
    }

    /// Replaces the key set.
    pub fn set_keys(&self, keys: KeySet) {
        self.keys.store(Arc::new(keys));
    }

    /// The source statuses, for state.
    pub fn source_statuses(&self) -> Vec<SourceStatus> {
        self.sources
            .lock()
            .map(|s| s.iter().map(|f| f.status.clone()).collect())
            .unwrap_or_default()
    }

    /// The earliest scheduled refresh of any source.
    pub fn next_refresh_at(&self) -> Option<i64> {
        self.source_statuses()
            .iter()
            .filter_map(|s| s.next_refresh_at)
            .min()
    }
}

/// Every trusted issuer, by name and by `iss`.
#[derive(Default)]
pub struct TrustRegistry {
    by_name: HashMap<String, Arc<TrustedIssuer>>,
    by_iss: HashMap<String, Arc<TrustedIssuer>>,
    custom_headers: Vec<String>,
}

impl TrustRegistry {
    /// A registry of `issuers`; on an `iss` claimed twice the earlier name wins (saving
    /// refuses duplicates, so this only guards static configuration).
    pub fn new(issuers: Vec<Arc<TrustedIssuer>>) -> TrustRegistry {
        let mut registry = TrustRegistry::default();
        let mut sorted = issuers;
        sorted.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        for issuer in sorted {
            registry.insert(issuer);
        }
        registry.index_headers();
        registry
    }

    /// Header names other than `authorization` that some issuer's tokens arrive in.
    pub fn custom_headers(&self) -> &[String] {
        &self.custom_headers
    }

    /// The issuer whose tokens carry `iss` (exact, byte-equal).
    pub fn by_iss(&self, iss: &str) -> Option<&Arc<TrustedIssuer>> {
        self.by_iss.get(iss)
    }

    /// The issuer named `name`.
    pub fn by_name(&self, name: &str) -> Option<&Arc<TrustedIssuer>> {
        self.by_name.get(name)
    }

    /// Every issuer, sorted by name.
    pub fn sorted(&self) -> Vec<&Arc<TrustedIssuer>> {
        let mut all: Vec<&Arc<TrustedIssuer>> = self.by_name.values().collect();
        all.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        all
    }

    fn index_headers(&mut self) {
        let mut headers: Vec<String> = self
            .by_name
            .values()
            .map(|i| i.spec.header.clone())
            .filter(|h| h != "authorization")
            .collect();
        headers.sort();
        headers.dedup();
        self.custom_headers = headers;
    }

    fn insert(&mut self, issuer: Arc<TrustedIssuer>) {
        self.by_iss
            .entry(issuer.spec.issuer.clone())
            .or_insert_with(|| issuer.clone());
        self.by_name.insert(issuer.spec.name.clone(), issuer);
    }
}

impl Snapshot for TrustRegistry {
    type Item = TrustedIssuer;

    /// A copy with `issuer` inserted or replaced (by name).
    fn with(&self, issuer: Arc<TrustedIssuer>) -> TrustRegistry {
        let mut next = self.without(&issuer.spec.name);
        next.insert(issuer);
        next.index_headers();
        next
    }

    /// A copy without `name`.
    fn without(&self, name: &str) -> TrustRegistry {
        let mut next = TrustRegistry {
            by_name: self.by_name.clone(),
            by_iss: self.by_iss.clone(),
            custom_headers: Vec::new(),
        };
        if let Some(old) = next.by_name.remove(name)
            && next
                .by_iss
                .get(&old.spec.issuer)
                .is_some_and(|i| i.spec.name == name)
        {
            next.by_iss.remove(&old.spec.issuer);
        }
        next.index_headers();
        next
    }
}

impl Named for TrustedIssuer {
    fn name(&self) -> &str {
        &self.spec.name
    }

    fn revision(&self) -> i64 {
        self.stamps.revision
    }
}
