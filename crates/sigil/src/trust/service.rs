//! Trusted issuers: validated, probed (their key sources must answer before a save), persisted
//! as documents, held in a registry swapped atomically, refreshed in the background, and used
//! by the one verification every caller shares.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use sigil_jose::Algorithm;
use tokio::sync::{Mutex, watch};

use super::fetch::JwksFetcher;
use super::internal::{INTERNAL_ISS, INTERNAL_ISSUER, INTERNAL_KEY};
use super::keyset::{KeySet, KeySource, TrustedKey};
use super::registry::{TrustRegistry, TrustedIssuer};
use super::sources::{self, RefreshOutcome};
use super::spec::{TrustedIssuerFields, TrustedIssuerSpec};
use super::verify::{self, Request, Trace, Verified, VerifyRefused};
use crate::clock::Clock;
use crate::signing_keys::SigningKeys;
use crate::storage::Stamps;
use crate::storage::{DocumentKind, DocumentRecord, Expected, Pages, StorageError, Store};
use crate::validation::FieldError;

/// At most one unknown-`kid` refetch per issuer in this many seconds.
pub const UNKNOWN_KID_COOLDOWN: i64 = 10;

/// Why a trusted issuer operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum TrustRefused {
    /// Bad fields, or key sources that do not answer.
    #[error("invalid trusted issuer")]
    Invalid(Vec<FieldError>),
    /// No such issuer.
    #[error("trusted issuer `{0}` does not exist")]
    NotFound(String),
    /// The name is taken.
    #[error("trusted issuer `{0}` already exists")]
    AlreadyExists(String),
    /// Another trusted issuer already holds this `iss`: two could not both verify its tokens.
    #[error("issuer {iss:?} is already trusted as `{holder}`; change that trusted issuer instead")]
    IssuerTaken {
        /// The `iss`.
        iss: String,
        /// The trusted issuer holding it.
        holder: String,
    },
    /// `If-Match` did not match.
    #[error("trusted issuer `{name}` changed: its ETag is \"{actual}\"")]
    Stale { name: String, actual: i64 },
    /// The internal issuer cannot be changed.
    #[error("trusted issuer `{0}` is Sigil's internal issuer and cannot be changed")]
    Internal(String),
    /// Issuers from the configuration file cannot be changed through the API.
    #[error(
        "trusted issuer `{0}` comes from the configuration file and cannot be changed through the API"
    )]
    Static(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Where the service gets what it needs.
pub struct TrustSetup {
    /// The store.
    pub store: Arc<dyn Store>,
    /// Signing keys (the internal issuer's keys).
    pub keys: Arc<SigningKeys>,
    /// Fetches JWKS and discovery documents.
    pub fetcher: Arc<dyn JwksFetcher>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Allow key sources on private networks (tests on loopback).
    pub allow_private_networks: bool,
    /// Largest token accepted.
    pub max_token_bytes: usize,
}

/// The trusted issuer service of one node.
pub struct TrustedIssuers {
    setup: TrustSetup,
    registry: ArcSwap<TrustRegistry>,
    internal: Arc<TrustedIssuer>,
    writer: Mutex<()>,
}

impl TrustedIssuers {
    /// A service with only the internal issuer; call `load`.
    pub fn new(setup: TrustSetup) -> TrustedIssuers {
        TrustedIssuers {
            setup,
            registry: ArcSwap::from_pointee(TrustRegistry::default()),
            internal: Arc::new(TrustedIssuer::internal(internal_spec())),
            writer: Mutex::new(()),
        }
    }

    /// Loads stored issuers and installs `statics` (from the configuration file) over them.
    /// Keys are fetched by the refresher, not here, so a slow issuer cannot delay a start.
    pub async fn load(&self, statics: Vec<TrustedIssuerFields>) -> Result<(), TrustRefused> {
        let _writer = self.writer.lock().await;
        let mut issuers = Vec::new();
        let mut static_names = Vec::new();
        for fields in statics {
            let spec = TrustedIssuerSpec::from_fields(fields).map_err(TrustRefused::Invalid)?;
            static_names.push(spec.name.clone());
            issuers.push(Arc::new(installed(
                spec,
                Stamps {
                    revision: 1,
                    ..Stamps::NONE
                },
                true,
            )));
        }
        let mut pages = Pages::new(self.setup.store.documents(), DocumentKind::TrustedIssuer);
        while let Some(page) = pages.next().await? {
            for doc in page {
                if static_names.contains(&doc.name) {
                    continue;
                }
                // An issuer this node already holds at the same revision keeps its fetched keys.
                if let Some(current) = self.registry().by_name(&doc.name)
                    && !current.is_static
                    && current.stamps.revision == doc.revision
                {
                    issuers.push(current.clone());
                    continue;
                }
                let fields: TrustedIssuerFields = serde_json::from_value(doc.body.clone())
                    .map_err(|e| corrupt(&doc, &e.to_string()))?;
                let spec = TrustedIssuerSpec::from_fields(fields)
                    .map_err(|e| corrupt(&doc, &format!("{} invalid fields", e.len())))?;
                issuers.push(Arc::new(installed(spec, doc.stamps(), false)));
            }
        }
        self.registry.store(Arc::new(TrustRegistry::new(issuers)));
        Ok(())
    }

    /// The registry (lock-free snapshot).
    pub fn registry(&self) -> Arc<TrustRegistry> {
        self.registry.load_full()
    }

    /// The internal issuer `sigil`.
    pub fn internal(&self) -> &Arc<TrustedIssuer> {
        &self.internal
    }

    /// Every issuer including the internal one, sorted by name.
    pub fn all(&self) -> Vec<Arc<TrustedIssuer>> {
        let registry = self.registry();
        let mut all: Vec<Arc<TrustedIssuer>> = registry.sorted().into_iter().cloned().collect();
        all.push(self.internal.clone());
        all.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        all
    }

    /// One issuer by name, including the internal one.
    pub fn find(&self, name: &str) -> Option<Arc<TrustedIssuer>> {
        if name == INTERNAL_ISSUER {
            return Some(self.internal.clone());
        }
        self.registry().by_name(name).cloned()
    }

    /// Validates fields without touching the network.
    pub fn check(&self, fields: TrustedIssuerFields) -> Result<TrustedIssuerSpec, TrustRefused> {
        let name = fields.name.clone().unwrap_or_default();
        self.refuse_read_only(&name)?;
        let spec = TrustedIssuerSpec::from_fields(fields).map_err(TrustRefused::Invalid)?;
        self.refuse_taken_issuer(&spec)?;
        Ok(spec)
    }

    /// Refuses an `iss` that another issuer (static, internal or stored) already holds.
    fn refuse_taken_issuer(&self, spec: &TrustedIssuerSpec) -> Result<(), TrustRefused> {
        let taken = self
            .registry()
            .by_iss(&spec.issuer)
            .filter(|other| other.spec.name != spec.name)
            .map(|other| other.spec.name.clone());
        match taken.or_else(|| (spec.issuer == INTERNAL_ISS).then(|| INTERNAL_ISSUER.to_owned())) {
            Some(holder) => Err(TrustRefused::IssuerTaken {
                iss: spec.issuer.clone(),
                holder,
            }),
            None => Ok(()),
        }
    }

    /// Validates and fetches every key source now: what a save would install.
    pub async fn probe(
        &self,
        fields: TrustedIssuerFields,
    ) -> Result<(TrustedIssuer, RefreshOutcome), TrustRefused> {
        let spec = self.check(fields)?;
        let issuer = installed(spec, Stamps::NONE, false);
        let outcome = self.fetch_now(&issuer).await;
        if !outcome.failures.is_empty() {
            let errors = outcome
                .failures
                .iter()
                .map(|(field, reason)| {
                    FieldError::new(*field, "unreachable", format!("cannot be used: {reason}"))
                })
                .collect();
            return Err(TrustRefused::Invalid(errors));
        }
        Ok((issuer, outcome))
    }

    /// Saves an issuer whose sources answered; answers it and whether it is new.
    pub async fn save(
        &self,
        fields: TrustedIssuerFields,
        expected: Expected,
    ) -> Result<(Arc<TrustedIssuer>, bool), TrustRefused> {
        let (probed, _) = self.probe(fields).await?;
        let _writer = self.writer.lock().await;
        // Judged again under the writer lock: the check in `probe` ran before a fetch, and
        // another save may have claimed the `iss` since. The store enforces it across nodes.
        self.refuse_taken_issuer(&probed.spec)?;
        let name = probed.spec.name.clone();
        let record = DocumentRecord::new(
            DocumentKind::TrustedIssuer,
            "",
            &name,
            serde_json::to_value(probed.spec.stored_fields())
                .map_err(|e| corrupt_new(&name, &e.to_string()))?,
        )
        .with_unique_key(&probed.spec.issuer);
        let written = self
            .setup
            .store
            .documents()
            .save(&record, expected)
            .await
            .map_err(|e| refused(e, &name))?;
        let stamps = written;
        let issuer = Arc::new(TrustedIssuer::new(
            probed.spec.clone(),
            stamps,
            false,
            KeySet::clone(&probed.keys()),
        ));
        if let (Ok(mut to), Ok(from)) = (issuer.sources.lock(), probed.sources.lock()) {
            *to = from.clone();
        }
        self.registry.rcu(|registry| registry.with(issuer.clone()));
        Ok((issuer, written.revision == 1))
    }

    /// Deletes an issuer.
    pub async fn delete(&self, name: &str, expected: Expected) -> Result<(), TrustRefused> {
        self.refuse_read_only(name)?;
        let _writer = self.writer.lock().await;
        self.setup
            .store
            .documents()
            .delete(DocumentKind::TrustedIssuer, "", name, expected, &[])
            .await
            .map_err(|e| refused(e, name))?;
        self.registry.rcu(|registry| registry.without(name));
        Ok(())
    }

    /// Fetches an issuer's keys now.
    pub async fn refresh(
        &self,
        name: &str,
    ) -> Result<(Arc<TrustedIssuer>, RefreshOutcome), TrustRefused> {
        let issuer = self
            .find(name)
            .filter(|i| !i.is_internal)
            .ok_or_else(|| TrustRefused::NotFound(name.to_owned()))?;
        let outcome = {
            let _gate = issuer.refetch_gate.lock().await;
            self.fetch_now(&issuer).await
        };
        Ok((issuer, outcome))
    }

    /// Verifies a token from any trusted issuer.
    pub async fn verify(
        &self,
        token: &str,
        audience: Option<&str>,
        trace: &mut Trace,
    ) -> Result<Verified, VerifyRefused> {
        let now = self.setup.clock.now();
        let request = Request {
            now,
            max_token_bytes: self.setup.max_token_bytes,
            audience,
        };
        let parsed = verify::parse(token, &request, trace)?;
        let Some(iss) = parsed.unverified_claims().get("iss") else {
            trace.record("issuer", false, || "no iss claim".to_owned());
            return Err(VerifyRefused::ClaimInvalid {
                claim: "iss".into(),
                reason: "is required".into(),
            });
        };
        let Some(iss) = iss.as_str() else {
            trace.record("issuer", false, || "iss is not a string".to_owned());
            return Err(VerifyRefused::ClaimInvalid {
                claim: "iss".into(),
                reason: "must be a string".into(),
            });
        };
        let issuer = if iss == INTERNAL_ISS {
            self.internal.clone()
        } else {
            match self.registry.load().by_iss(iss) {
                Some(issuer) => issuer.clone(),
                None => {
                    trace.record("issuer", false, || format!("{iss:?} is not trusted"));
                    return Err(VerifyRefused::UnknownIssuer);
                }
            }
        };
        trace.record("issuer", true, || {
            format!("{iss:?} is trusted issuer `{}`", issuer.spec.name)
        });
        if !issuer.spec.enabled {
            trace.record("enabled", false, || "the issuer is disabled".to_owned());
            return Err(VerifyRefused::IssuerDisabled);
        }
        if parsed.header().has_jku
            || parsed.header().has_x5u
            || parsed.header().has_x5c
            || parsed.header().has_jwk
        {
            trace.record("embedded keys", true, || {
                "jku/x5u/x5c/jwk present and ignored".to_owned()
            });
        }
        let algorithm = parsed.algorithm();
        let candidates = self
            .candidate_keys(&issuer, parsed.unverified_kid(), algorithm, now, trace)
            .await?;
        verify::finish(&issuer, &parsed, &candidates, &request, trace)
    }

    /// Refreshes due issuers until `shutdown` flips.
    pub fn spawn_refresher(self: &Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let service = self.clone();
        tokio::spawn(async move {
            loop {
                let now = service.setup.clock.now();
                let due: Vec<Arc<TrustedIssuer>> = service
                    .registry()
                    .sorted()
                    .into_iter()
                    .filter(|i| {
                        i.spec.has_remote_sources() && i.next_refresh_at().is_none_or(|t| t <= now)
                    })
                    .cloned()
                    .collect();
                for issuer in due {
                    let _gate = issuer.refetch_gate.lock().await;
                    let outcome = service.fetch_now(&issuer).await;
                    if !outcome.failures.is_empty() {
                        tracing::warn!(issuer = %issuer.spec.name, failures = ?outcome.failures, keys = outcome.key_count, "key refresh failed; last good keys kept");
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return,
                }
            }
        });
    }

    async fn candidate_keys(
        &self,
        issuer: &Arc<TrustedIssuer>,
        kid: Option<&str>,
        algorithm: Algorithm,
        now: i64,
        trace: &mut Trace,
    ) -> Result<Vec<TrustedKey>, VerifyRefused> {
        if issuer.is_internal {
            return self.internal_key(kid, algorithm, now, trace);
        }
        // An explicit allow-list refuses before any fetch; otherwise the key decides.
        if let Some(allowed) = &issuer.spec.algorithms
            && !allowed.contains(&algorithm)
        {
            trace.record("algorithm", false, || {
                format!("{algorithm} not in {allowed:?}")
            });
            return Err(VerifyRefused::AlgorithmNotAllowed(algorithm.to_string()));
        }
        let mut keys = issuer.keys();
        if pick(&keys, kid, algorithm).is_empty() && issuer.spec.has_remote_sources() {
            // Unknown kid: at most one refetch per issuer per cooldown, shared by every
            // request that waits on the gate.
            let mut last = issuer.refetch_gate.lock().await;
            keys = issuer.keys();
            if pick(&keys, kid, algorithm).is_empty()
                && now.saturating_sub(*last) >= UNKNOWN_KID_COOLDOWN
            {
                *last = now;
                let outcome = self.fetch_now(issuer).await;
                trace.record("refetch", outcome.failures.is_empty(), || {
                    format!("unknown kid: fetched {} key(s)", outcome.key_count)
                });
                keys = issuer.keys();
            }
        }
        let found = pick(&keys, kid, algorithm);
        if found.is_empty() && kid.is_none() && !keys.keys().is_empty() {
            // Without a kid the algorithm chose the candidates: none of the keys allows it.
            trace.record("algorithm", false, || {
                format!("{algorithm} fits none of the issuer's keys")
            });
            return Err(VerifyRefused::AlgorithmNotAllowed(algorithm.to_string()));
        }
        if found.is_empty() {
            trace.record("key", false, || {
                format!("no key with kid {}", kid.unwrap_or("(none)"))
            });
            return Err(VerifyRefused::UnknownKey);
        }
        trace.record("key", true, || {
            format!(
                "kid {} ({} candidate(s))",
                kid.unwrap_or("(none)"),
                found.len()
            )
        });
        // The header's alg must agree with the key's type and curve.
        let usable: Vec<TrustedKey> = found
            .into_iter()
            .filter(|k| k.algorithms.contains(&algorithm))
            .collect();
        if usable.is_empty() {
            trace.record("algorithm", false, || {
                format!("{algorithm} does not fit the key's type")
            });
            return Err(VerifyRefused::AlgorithmNotAllowed(algorithm.to_string()));
        }
        trace.record("algorithm", true, || format!("{algorithm} allowed"));
        Ok(usable)
    }

    fn internal_key(
        &self,
        kid: Option<&str>,
        algorithm: Algorithm,
        now: i64,
        trace: &mut Trace,
    ) -> Result<Vec<TrustedKey>, VerifyRefused> {
        let keyring = self.setup.keys.keyring();
        let loaded = keyring.get(INTERNAL_KEY);
        if loaded.is_none_or(|k| k.spec.algorithm != algorithm) {
            trace.record("algorithm", false, || {
                format!("{algorithm} is not the internal key's algorithm")
            });
            return Err(VerifyRefused::AlgorithmNotAllowed(algorithm.to_string()));
        }
        trace.record("algorithm", true, || format!("{algorithm} allowed"));
        let key = kid.and_then(|kid| loaded.and_then(|k| k.verifier(kid, now)));
        match key {
            Some(key) => {
                trace.record("key", true, || {
                    format!("internal kid {}", kid.unwrap_or_default())
                });
                Ok(vec![TrustedKey {
                    kid: kid.map(str::to_owned),
                    algorithms: vec![algorithm],
                    key: key.clone(),
                    source: KeySource::Internal,
                }])
            }
            None => {
                trace.record("key", false, || {
                    "no published internal key has this kid".to_owned()
                });
                Err(VerifyRefused::UnknownKey)
            }
        }
    }

    async fn fetch_now(&self, issuer: &TrustedIssuer) -> RefreshOutcome {
        sources::refresh(
            issuer,
            self.setup.fetcher.as_ref(),
            self.setup.clock.now(),
            self.setup.allow_private_networks,
        )
        .await
    }

    fn refuse_read_only(&self, name: &str) -> Result<(), TrustRefused> {
        if name == INTERNAL_ISSUER {
            return Err(TrustRefused::Internal(name.to_owned()));
        }
        if self.registry().by_name(name).is_some_and(|i| i.is_static) {
            return Err(TrustRefused::Static(name.to_owned()));
        }
        Ok(())
    }
}

fn pick(keys: &KeySet, kid: Option<&str>, algorithm: Algorithm) -> Vec<TrustedKey> {
    match kid {
        Some(kid) => keys.get(kid).cloned().into_iter().collect(),
        None => keys.candidates(algorithm).take(8).cloned().collect(),
    }
}

fn installed(spec: TrustedIssuerSpec, stamps: Stamps, is_static: bool) -> TrustedIssuer {
    let keys = KeySet::merge(&spec.inline_keys, &[]);
    TrustedIssuer::new(spec, stamps, is_static, keys)
}

fn internal_spec() -> TrustedIssuerSpec {
    TrustedIssuerSpec {
        name: INTERNAL_ISSUER.to_owned(),
        issuer: INTERNAL_ISS.to_owned(),
        project: "default".to_owned(),
        jwks_url: None,
        discovery_url: None,
        inline_keys: Vec::new(),
        audiences: Vec::new(),
        audiences_unchecked: false,
        roles: Vec::new(),
        permissions: u64::MAX,
        algorithms: Some(vec![Algorithm::Es256]),
        leeway: super::spec::DEFAULT_LEEWAY,
        max_token_age: None,
        require_jti: false,
        header: "authorization".to_owned(),
        allow_insecure_http: false,
        enabled: true,
        fields: TrustedIssuerFields {
            name: Some(INTERNAL_ISSUER.to_owned()),
            issuer: Some(INTERNAL_ISS.to_owned()),
            algorithms: Some(vec![Algorithm::Es256.to_string()]),
            enabled: Some(true),
            ..TrustedIssuerFields::default()
        },
    }
}

fn corrupt(doc: &DocumentRecord, reason: &str) -> TrustRefused {
    corrupt_new(&doc.name, reason)
}

fn corrupt_new(name: &str, reason: &str) -> TrustRefused {
    TrustRefused::Storage(StorageError::Corrupt {
        kind: "trusted issuer",
        reason: format!("`{name}`: {reason}"),
    })
}

fn refused(error: StorageError, name: &str) -> TrustRefused {
    match error {
        StorageError::UniqueKeyTaken { value, holder, .. } => {
            TrustRefused::IssuerTaken { iss: value, holder }
        }
        StorageError::AlreadyExists { .. } => TrustRefused::AlreadyExists(name.to_owned()),
        StorageError::RevisionMismatch { actual, .. } => TrustRefused::Stale {
            name: name.to_owned(),
            actual,
        },
        StorageError::NotFound { .. } => TrustRefused::NotFound(name.to_owned()),
        other => TrustRefused::Storage(other),
    }
}
