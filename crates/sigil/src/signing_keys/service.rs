//! Signing key operations: create, change, rotate, taint, revoke, delete and the scheduled
//! lifecycle. Writers serialise on a node-local mutex and an optimistic revision in storage;
//! readers take the keyring snapshot and never wait.

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use sigil_jose::{SealingKey, SigningKey, VerifyingKey};
use tokio::sync::Mutex;

use super::error::KeyRefused;
use super::keyring::{Keyring, LoadedKey};
use super::lifecycle::{self, TransitionRefused};
use super::model::{KeySpec, KeyStatus, KeyVersion, sealing_aad};
use super::usage::KeyUsage;
use crate::clock::Clock;
use crate::duration::HumanDuration;
use crate::storage::{Expected, SigningKeyRecord, StorageError, Store};

/// The signing key service of one node.
pub struct SigningKeys {
    store: Arc<dyn Store>,
    clock: Arc<dyn Clock>,
    usage: Arc<KeyUsage>,
    keyring: ArcSwap<Keyring>,
    data_key: ArcSwapOption<SealingKey>,
    writer: Mutex<()>,
}

/// What `preview` checks.
#[derive(Clone, Copy, Debug)]
pub enum Preview<'a> {
    /// A replacement of the configuration.
    Update(&'a KeySpec),
    /// A rotation.
    Rotate,
    /// A taint or revoke of one version.
    Version(u32, VersionAction),
}

/// A transition asked of one version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionAction {
    /// Stop signing, stay published.
    Taint,
    /// Unpublish now.
    Revoke,
}

impl SigningKeys {
    /// A service with an empty keyring; call `load` before use.
    pub fn new(store: Arc<dyn Store>, clock: Arc<dyn Clock>, usage: Arc<KeyUsage>) -> SigningKeys {
        SigningKeys {
            store,
            clock,
            usage,
            keyring: ArcSwap::from_pointee(Keyring::default()),
            data_key: ArcSwapOption::empty(),
            writer: Mutex::new(()),
        }
    }

    /// The current keyring: a lock-free snapshot for the hot path.
    pub fn keyring(&self) -> Arc<Keyring> {
        self.keyring.load_full()
    }

    /// Who uses which key.
    pub fn usage(&self) -> &KeyUsage {
        &self.usage
    }

    /// Loads every key from storage; with a data key, private parts are opened and parsed once.
    pub async fn load(&self, data_key: Option<Arc<SealingKey>>) -> Result<(), KeyRefused> {
        let _writer = self.writer.lock().await;
        let records = self.store.signing_keys().list().await?;
        let opener = data_key.clone();
        let loaded = tokio::task::spawn_blocking(move || {
            records
                .iter()
                .map(|record| load_record(record, opener.as_deref()))
                .collect::<Result<Vec<LoadedKey>, KeyRefused>>()
        })
        .await
        .map_err(|e| KeyRefused::Crypto(format!("key loading task failed: {e}")))??;
        let keys = loaded
            .into_iter()
            .map(|key| (key.spec.name.clone(), Arc::new(key)))
            .collect();
        self.keyring.store(Arc::new(Keyring::new(keys)));
        self.data_key.store(data_key);
        Ok(())
    }

    /// Reloads every key from storage with the data key this node holds (another node changed
    /// something).
    pub async fn reload(&self) -> Result<(), KeyRefused> {
        self.load(self.data_key.load_full()).await
    }

    /// Drops the data key and every parsed private key (sealing).
    pub fn forget_private_keys(&self) {
        self.data_key.store(None);
        let sealed = self.keyring.load().sealed();
        self.keyring.store(Arc::new(sealed));
    }

    /// Creates a key with its first, active version. `data_key` overrides the unsealed one
    /// (used at init, before the first unseal).
    pub async fn create(
        &self,
        spec: KeySpec,
        data_key: Option<Arc<SealingKey>>,
    ) -> Result<Arc<LoadedKey>, KeyRefused> {
        let data_key = data_key
            .or_else(|| self.data_key.load_full())
            .ok_or(KeyRefused::Sealed)?;
        let fresh = generate(&spec).await?;
        let _writer = self.writer.lock().await;
        let now = self.clock.now();
        let mut versions = Vec::new();
        lifecycle::add_version(&mut versions, version_of(&fresh, 1, now), now, None, 0);
        let mut signers = BTreeMap::new();
        signers.insert(1, Arc::new(fresh.0));
        let mut sealed = BTreeMap::new();
        sealed.insert(1, seal_private(&data_key, &spec.name, 1, &fresh.1)?);
        let draft = Draft {
            spec,
            versions,
            sealed,
            signers,
            revision: 0,
        };
        self.save(draft, Expected::Absent).await
    }

    /// Replaces the configuration; only `rotation_period` may change after creation.
    pub async fn update(
        &self,
        spec: KeySpec,
        if_match: Option<i64>,
    ) -> Result<Arc<LoadedKey>, KeyRefused> {
        let _writer = self.writer.lock().await;
        let mut draft = self.draft(&spec.name, if_match).await?;
        draft.spec.check_replacement(&spec)?;
        draft.spec.rotation_period = spec.rotation_period;
        self.save_draft(draft).await
    }

    /// Runs every check of `update`, `rotate` or `change_version` against the in-memory
    /// keyring without writing (`validate=true`).
    pub fn preview(
        &self,
        name: &str,
        change: Preview<'_>,
        if_match: Option<i64>,
    ) -> Result<Arc<LoadedKey>, KeyRefused> {
        let key = self
            .keyring()
            .get(name)
            .cloned()
            .ok_or_else(|| KeyRefused::NotFound(name.to_owned()))?;
        if let Some(expected) = if_match
            && expected != key.revision
        {
            return Err(KeyRefused::Stale {
                name: name.to_owned(),
                actual: key.revision,
            });
        }
        match change {
            Preview::Update(spec) => key.spec.check_replacement(spec)?,
            Preview::Rotate => {
                if self.data_key.load().is_none() {
                    return Err(KeyRefused::Sealed);
                }
            }
            Preview::Version(version, action) => {
                let mut versions = key.versions.clone();
                let now = self.clock.now();
                let retention = self.usage.retention(name);
                let outcome = match action {
                    VersionAction::Taint => {
                        lifecycle::taint(&mut versions, version, now, retention)
                    }
                    VersionAction::Revoke => {
                        lifecycle::revoke(&mut versions, version, now, retention)
                    }
                };
                outcome.map_err(|reason| transition_refused(name, reason))?;
            }
        }
        Ok(key)
    }

    /// Deletes a key that nothing uses.
    pub async fn delete(&self, name: &str, if_match: Option<i64>) -> Result<(), KeyRefused> {
        let _writer = self.writer.lock().await;
        let draft = self.draft(name, if_match).await?;
        if draft.spec.internal {
            return Err(KeyRefused::Internal(name.to_owned()));
        }
        let users = self.usage.users_of(name);
        if !users.is_empty() {
            return Err(KeyRefused::InUse {
                name: name.to_owned(),
                users: users.into_iter().map(|u| u.description).collect(),
            });
        }
        let expected = Expected::Revision(draft.revision);
        self.store
            .signing_keys()
            .delete(name, expected)
            .await
            .map_err(|e| stale_or(e, name))?;
        let next = self.keyring.load().without(name);
        self.keyring.store(Arc::new(next));
        Ok(())
    }

    /// Adds a version: active now, or pending for `prepublish`.
    pub async fn rotate(
        &self,
        name: &str,
        prepublish: Option<HumanDuration>,
        if_match: Option<i64>,
    ) -> Result<Arc<LoadedKey>, KeyRefused> {
        let data_key = self.data_key.load_full().ok_or(KeyRefused::Sealed)?;
        let _writer = self.writer.lock().await;
        let mut draft = self.draft(name, if_match).await?;
        self.add_fresh_version(&mut draft, &data_key, prepublish.map(|p| p.as_secs()))
            .await?;
        self.save_draft(draft).await
    }

    /// Taints or revokes one version; a new active version replaces a tainted or revoked signer.
    pub async fn change_version(
        &self,
        name: &str,
        version: u32,
        action: VersionAction,
        if_match: Option<i64>,
    ) -> Result<Arc<LoadedKey>, KeyRefused> {
        let data_key = self.data_key.load_full().ok_or(KeyRefused::Sealed)?;
        let _writer = self.writer.lock().await;
        let mut draft = self.draft(name, if_match).await?;
        let now = self.clock.now();
        let retention = self.usage.retention(name);
        let outcome = match action {
            VersionAction::Taint => lifecycle::taint(&mut draft.versions, version, now, retention),
            VersionAction::Revoke => {
                lifecycle::revoke(&mut draft.versions, version, now, retention)
            }
        };
        let needs_replacement = outcome.map_err(|reason| transition_refused(name, reason))?;
        // The key keeps signing: a waiting version takes over at once, else a fresh one.
        if needs_replacement && !lifecycle::activate_pending_now(&mut draft.versions, now) {
            self.add_fresh_version(&mut draft, &data_key, None).await?;
        }
        self.save_draft(draft).await
    }

    /// Applies due activations, retirements and scheduled rotations to every key.
    /// Answers the names of the keys that changed. Conflicts with another node are skipped:
    /// whoever saved first did the work.
    pub async fn run_lifecycle(&self) -> Result<Vec<String>, KeyRefused> {
        let Some(data_key) = self.data_key.load_full() else {
            return Ok(Vec::new());
        };
        let now = self.clock.now();
        let due: Vec<String> = self
            .keyring()
            .iter()
            .filter(|key| {
                let retention = self.usage.retention(&key.spec.name);
                lifecycle::as_of(&key.versions, now, retention) != key.versions
                    || lifecycle::rotation_due(&key.spec, &key.versions, now)
            })
            .map(|key| key.spec.name.clone())
            .collect();
        let mut changed = Vec::new();
        for name in due {
            let _writer = self.writer.lock().await;
            let mut draft = match self.draft(&name, None).await {
                Ok(draft) => draft,
                Err(KeyRefused::NotFound(_)) => continue,
                Err(other) => return Err(other),
            };
            let retention = self.usage.retention(&name);
            let mut dirty = lifecycle::advance(&mut draft.versions, now, retention);
            if lifecycle::rotation_due(&draft.spec, &draft.versions, now) {
                self.add_fresh_version(&mut draft, &data_key, None).await?;
                dirty = true;
            }
            if !dirty {
                continue;
            }
            match self.save_draft(draft).await {
                Ok(_) => changed.push(name),
                Err(KeyRefused::Stale { .. }) => {}
                Err(other) => return Err(other),
            }
        }
        Ok(changed)
    }

    /// The earliest time any key changes by itself.
    pub fn next_change(&self) -> Option<i64> {
        let now = self.clock.now();
        self.keyring()
            .iter()
            .filter_map(|key| {
                let retention = self.usage.retention(&key.spec.name);
                lifecycle::next_change(&key.spec, &key.versions, now, retention)
            })
            .min()
    }

    async fn add_fresh_version(
        &self,
        draft: &mut Draft,
        data_key: &SealingKey,
        prepublish: Option<u64>,
    ) -> Result<(), KeyRefused> {
        let fresh = generate(&draft.spec).await?;
        let number = draft.versions.iter().map(|v| v.version).max().unwrap_or(0) + 1;
        let now = self.clock.now();
        let retention = self.usage.retention(&draft.spec.name);
        let version = version_of(&fresh, number, now);
        lifecycle::add_version(&mut draft.versions, version, now, prepublish, retention);
        draft.sealed.insert(
            number,
            seal_private(data_key, &draft.spec.name, number, &fresh.1)?,
        );
        draft.signers.insert(number, Arc::new(fresh.0));
        Ok(())
    }

    async fn draft(&self, name: &str, if_match: Option<i64>) -> Result<Draft, KeyRefused> {
        let record = self
            .store
            .signing_keys()
            .get(name)
            .await?
            .ok_or_else(|| KeyRefused::NotFound(name.to_owned()))?;
        if let Some(expected) = if_match
            && expected != record.revision
        {
            return Err(KeyRefused::Stale {
                name: name.to_owned(),
                actual: record.revision,
            });
        }
        let current = self.keyring().get(name).cloned();
        let signers = record
            .versions
            .iter()
            .filter_map(|v| {
                let signer = current.as_ref()?.signer_of(v.version)?;
                Some((v.version, signer.clone()))
            })
            .collect();
        Ok(Draft {
            spec: KeySpec::from_record(&record)?,
            versions: record
                .versions
                .iter()
                .map(KeyVersion::from_record)
                .collect::<Result<_, _>>()?,
            sealed: record
                .versions
                .iter()
                .filter_map(|v| Some((v.version, v.sealed_private_key.clone()?)))
                .collect(),
            signers,
            revision: record.revision,
        })
    }

    async fn save_draft(&self, draft: Draft) -> Result<Arc<LoadedKey>, KeyRefused> {
        let expected = Expected::Revision(draft.revision);
        self.save(draft, expected).await
    }

    async fn save(
        &self,
        mut draft: Draft,
        expected: Expected,
    ) -> Result<Arc<LoadedKey>, KeyRefused> {
        let name = draft.spec.name.clone();
        // Retired versions lose their private part for good, in storage and in memory.
        for version in draft
            .versions
            .iter()
            .filter(|v| v.status == KeyStatus::Retired)
        {
            draft.sealed.remove(&version.version);
            draft.signers.remove(&version.version);
        }
        let record = SigningKeyRecord {
            name: name.clone(),
            config: draft.spec.to_config(),
            revision: 0,
            created_at: 0,
            updated_at: 0,
            versions: draft
                .versions
                .iter()
                .map(|v| v.to_record(draft.sealed.get(&v.version).cloned()))
                .collect(),
        };
        let written = match self.store.signing_keys().save(&record, expected).await {
            Err(StorageError::AlreadyExists { .. }) => return Err(KeyRefused::AlreadyExists(name)),
            other => other.map_err(|e| stale_or(e, &name))?,
        };
        let verifiers = verifiers_of(&draft.versions)?;
        let loaded = Arc::new(LoadedKey::new(
            draft.spec,
            draft.versions,
            (written.revision, written.created_at, written.updated_at),
            draft.signers.into_iter().collect(),
            verifiers,
        ));
        let next = self.keyring.load().with(loaded.clone());
        self.keyring.store(Arc::new(next));
        Ok(loaded)
    }
}

/// An aggregate being changed: public versions, sealed blobs and parsed signers by version.
struct Draft {
    spec: KeySpec,
    versions: Vec<KeyVersion>,
    sealed: BTreeMap<u32, Vec<u8>>,
    signers: BTreeMap<u32, Arc<SigningKey>>,
    revision: i64,
}

async fn generate(spec: &KeySpec) -> Result<(SigningKey, sigil_jose::Secret<Vec<u8>>), KeyRefused> {
    let (key_type, algorithm) = (spec.key_type, spec.algorithm);
    // RSA-4096 generation takes seconds: keep it off the async workers.
    tokio::task::spawn_blocking(move || SigningKey::generate(key_type, algorithm))
        .await
        .map_err(|e| KeyRefused::Crypto(format!("key generation task failed: {e}")))?
        .map_err(|e| KeyRefused::Crypto(e.to_string()))
}

fn version_of(
    fresh: &(SigningKey, sigil_jose::Secret<Vec<u8>>),
    number: u32,
    now: i64,
) -> KeyVersion {
    KeyVersion {
        version: number,
        kid: fresh.0.kid().to_owned(),
        status: KeyStatus::Pending,
        created_at: now,
        activates_at: None,
        retires_at: None,
        public_jwk: fresh.0.public_jwk().clone(),
    }
}

fn seal_private(
    data_key: &SealingKey,
    name: &str,
    version: u32,
    pkcs8: &sigil_jose::Secret<Vec<u8>>,
) -> Result<Vec<u8>, KeyRefused> {
    data_key
        .seal(pkcs8.expose(), &sealing_aad(name, version))
        .map_err(|e| KeyRefused::Crypto(e.to_string()))
}

fn verifiers_of(versions: &[KeyVersion]) -> Result<Vec<(u32, Arc<VerifyingKey>)>, KeyRefused> {
    versions
        .iter()
        .filter(|v| v.status.is_published())
        .map(|v| {
            VerifyingKey::from_jwk(&v.public_jwk)
                .map(|key| (v.version, Arc::new(key)))
                .map_err(|e| {
                    KeyRefused::Crypto(format!("stored public key of version {}: {e}", v.version))
                })
        })
        .collect()
}

/// Builds a loaded key from storage, opening private parts when a data key is given.
fn load_record(
    record: &SigningKeyRecord,
    data_key: Option<&SealingKey>,
) -> Result<LoadedKey, KeyRefused> {
    let spec = KeySpec::from_record(record)?;
    let versions: Vec<KeyVersion> = record
        .versions
        .iter()
        .map(KeyVersion::from_record)
        .collect::<Result<_, _>>()?;
    let mut signers = Vec::new();
    if let Some(data_key) = data_key {
        for stored in &record.versions {
            let Some(sealed) = &stored.sealed_private_key else {
                continue;
            };
            let pkcs8 = data_key
                .open(sealed, &sealing_aad(&record.name, stored.version))
                .map_err(|_| {
                    KeyRefused::Crypto(format!(
                        "sealed private key of `{}` version {} does not open",
                        record.name, stored.version
                    ))
                })?;
            let key = SigningKey::from_pkcs8(spec.key_type, spec.algorithm, pkcs8.expose())
                .map_err(|e| KeyRefused::Crypto(e.to_string()))?;
            if key.kid() != stored.kid {
                return Err(KeyRefused::Crypto(format!(
                    "sealed private key of `{}` version {} does not match its kid",
                    record.name, stored.version
                )));
            }
            signers.push((stored.version, Arc::new(key)));
        }
    }
    let verifiers = verifiers_of(&versions)?;
    Ok(LoadedKey::new(
        spec,
        versions,
        (record.revision, record.created_at, record.updated_at),
        signers,
        verifiers,
    ))
}

fn transition_refused(name: &str, reason: TransitionRefused) -> KeyRefused {
    match reason {
        TransitionRefused::UnknownVersion(version) => KeyRefused::VersionNotFound {
            name: name.to_owned(),
            version,
        },
        reason => KeyRefused::Transition {
            name: name.to_owned(),
            reason,
        },
    }
}

fn stale_or(error: StorageError, name: &str) -> KeyRefused {
    match error {
        StorageError::RevisionMismatch { actual, .. } => KeyRefused::Stale {
            name: name.to_owned(),
            actual,
        },
        StorageError::NotFound { .. } => KeyRefused::NotFound(name.to_owned()),
        other => KeyRefused::Storage(other),
    }
}
