//! The trusted issuers of one node: validated, probed (their key sources must answer before a
//! save), persisted as documents and held in a registry swapped atomically. Verification
//! (`verification.rs`), key choice and the background refresher extend this type in their
//! own files.

use std::sync::Arc;

use super::fetch::JwksFetcher;
use super::internal::{INTERNAL_ISS, INTERNAL_ISSUER, internal_spec};
use super::keyset::KeySet;
use super::registry::{TrustRegistry, TrustedIssuer};
use super::sources::RefreshOutcome;
use super::spec::{TrustedIssuerFields, TrustedIssuerSpec};
use crate::catalog::{Catalog, CatalogRefused};
use crate::clock::Clock;
use crate::signing_keys::SigningKeys;
use crate::storage::Stamps;
use crate::storage::{DocumentKind, Expected, StorageError, Store};
use crate::validation::FieldError;

/// The kind of item, in messages.
const KIND: &str = "trusted issuer";

/// Why a trusted issuer operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum TrustRefused {
    /// A refusal every catalog shares; bad fields include key sources that do not answer.
    #[error(transparent)]
    Catalog(#[from] CatalogRefused),
    /// Another trusted issuer already holds this `iss`: two could not both verify its tokens.
    #[error("issuer {iss:?} is already trusted as `{holder}`; change that trusted issuer instead")]
    IssuerTaken {
        /// The `iss`.
        iss: String,
        /// The trusted issuer holding it.
        holder: String,
    },
    /// The internal issuer cannot be changed.
    #[error("trusted issuer `{0}` is Sigil's internal issuer and cannot be changed")]
    Internal(String),
    /// Issuers from the configuration file cannot be changed through the API.
    #[error(
        "trusted issuer `{0}` comes from the configuration file and cannot be changed through the API"
    )]
    Static(String),
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
    pub(super) setup: TrustSetup,
    pub(super) catalog: Catalog<TrustRegistry>,
    pub(super) internal: Arc<TrustedIssuer>,
}

impl TrustedIssuers {
    /// A service with only the internal issuer; call `load`.
    pub fn new(setup: TrustSetup) -> TrustedIssuers {
        let catalog = Catalog::new(
            setup.store.clone(),
            DocumentKind::TrustedIssuer,
            TrustRegistry::default(),
        );
        TrustedIssuers {
            setup,
            catalog,
            internal: Arc::new(TrustedIssuer::internal(internal_spec())),
        }
    }

    /// Loads stored issuers and installs `statics` (from the configuration file) over them.
    /// Keys are fetched by the refresher, not here, so a slow issuer cannot delay a start.
    pub async fn load(&self, statics: Vec<TrustedIssuerFields>) -> Result<(), TrustRefused> {
        let _writer = self.catalog.writer().await;
        let mut issuers = Vec::new();
        let mut static_names = Vec::new();
        for fields in statics {
            let spec = TrustedIssuerSpec::from_fields(fields)
                .map_err(|fields| CatalogRefused::invalid(KIND, fields))?;
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
        let current = self.registry();
        self.catalog
            .for_each_stored(|doc| {
                if static_names.contains(&doc.name) {
                    return Ok(());
                }
                // An issuer this node already holds at the same revision keeps its fetched keys.
                if let Some(held) = current.by_name(&doc.name)
                    && !held.is_static
                    && held.stamps.revision == doc.revision
                {
                    issuers.push(held.clone());
                    return Ok(());
                }
                let corrupt = |reason: &str| CatalogRefused::corrupt(KIND, &doc.name, reason);
                let fields: TrustedIssuerFields = serde_json::from_value(doc.body.clone())
                    .map_err(|e| corrupt(&e.to_string()))?;
                let spec = TrustedIssuerSpec::from_fields(fields)
                    .map_err(|e| corrupt(&format!("{} invalid fields", e.len())))?;
                issuers.push(Arc::new(installed(spec, doc.stamps(), false)));
                Ok(())
            })
            .await?;
        self.catalog.install(TrustRegistry::new(issuers));
        Ok(())
    }

    /// The registry (lock-free snapshot).
    pub fn registry(&self) -> Arc<TrustRegistry> {
        self.catalog.snapshot()
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
        let spec = TrustedIssuerSpec::from_fields(fields)
            .map_err(|fields| CatalogRefused::invalid(KIND, fields))?;
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
            return Err(CatalogRefused::invalid(KIND, errors).into());
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
        let _writer = self.catalog.writer().await;
        // Judged again under the writer lock: the check in `probe` ran before a fetch, and
        // another save may have claimed the `iss` since. The store enforces it across nodes.
        self.refuse_taken_issuer(&probed.spec)?;
        let name = probed.spec.name.clone();
        let issuer_taken = |error| match error {
            CatalogRefused::Storage(StorageError::UniqueKeyTaken { value, holder, .. }) => {
                TrustRefused::IssuerTaken { iss: value, holder }
            }
            other => other.into(),
        };
        let written = self
            .catalog
            .save(
                &name,
                &probed.spec.stored_fields(),
                Some(&probed.spec.issuer),
                expected,
            )
            .await
            .map_err(issuer_taken)?;
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
        self.catalog.insert(issuer.clone());
        Ok((issuer, written.revision == 1))
    }

    /// Deletes an issuer.
    pub async fn delete(&self, name: &str, expected: Expected) -> Result<(), TrustRefused> {
        self.refuse_read_only(name)?;
        let _writer = self.catalog.writer().await;
        Ok(self.catalog.delete(name, expected, &[]).await?)
    }

    /// Fetches an issuer's keys now.
    pub async fn refresh(
        &self,
        name: &str,
    ) -> Result<(Arc<TrustedIssuer>, RefreshOutcome), TrustRefused> {
        let issuer = self
            .find(name)
            .filter(|i| !i.is_internal)
            .ok_or_else(|| CatalogRefused::not_found(KIND, name))?;
        let outcome = {
            let _gate = issuer.refetch_gate.lock().await;
            self.fetch_now(&issuer).await
        };
        Ok((issuer, outcome))
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

fn installed(spec: TrustedIssuerSpec, stamps: Stamps, is_static: bool) -> TrustedIssuer {
    let keys = KeySet::merge(&spec.inline_keys, &[]);
    TrustedIssuer::new(spec, stamps, is_static, keys)
}
