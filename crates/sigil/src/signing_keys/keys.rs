//! The signing keys of one node: loading, create, update and delete of whole aggregates
//! (configuration plus every version), saved through a draft. Writers serialise on a
//! node-local mutex and an optimistic revision in storage; readers take the keyring snapshot
//! and never wait. Version changes live in `versions.rs`, key material in `material.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::{ArcSwap, ArcSwapOption};
use sigil_jose::{SealingKey, SigningKey};
use tokio::sync::Mutex;

use super::error::{KIND, KeyRefused, stale};
use super::keyring::{Keyring, LoadedKey};
use super::lifecycle;
use super::material::{generate, load_record, seal_private, verifiers_of, version_of};
use super::model::{KeySpec, KeyStatus, KeyVersion};
use super::usage::KeyUsage;
use crate::catalog::CatalogRefused;
use crate::clock::Clock;
use crate::storage::{Expected, SigningKeyRecord, Store};

/// The signing key service of one node.
pub struct SigningKeys {
    store: Arc<dyn Store>,
    pub(super) clock: Arc<dyn Clock>,
    pub(super) usage: Arc<KeyUsage>,
    keyring: ArcSwap<Keyring>,
    pub(super) data_key: ArcSwapOption<SealingKey>,
    pub(super) writer: Mutex<()>,
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
        self.load_locked(data_key).await
    }

    /// Reloads every key from storage with the data key this node holds (another node changed
    /// something). The data key is read once the writer lock is held: an unseal or a seal that
    /// ran while this waited decides, never the state from before it.
    pub async fn reload(&self) -> Result<(), KeyRefused> {
        let _writer = self.writer.lock().await;
        self.load_locked(self.data_key.load_full()).await
    }

    /// Drops the data key and every parsed private key (sealing). Waits for a load or write in
    /// progress, so none can put a private key back after this returns.
    pub async fn forget_private_keys(&self) {
        let _writer = self.writer.lock().await;
        self.data_key.store(None);
        let sealed = self.keyring.load().sealed();
        self.keyring.store(Arc::new(sealed));
    }

    async fn load_locked(&self, data_key: Option<Arc<SealingKey>>) -> Result<(), KeyRefused> {
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
            .map_err(|e| CatalogRefused::from_storage(e, KIND, name))?;
        let next = self.keyring.load().without(name);
        self.keyring.store(Arc::new(next));
        Ok(())
    }

    pub(super) async fn draft(
        &self,
        name: &str,
        if_match: Option<i64>,
    ) -> Result<Draft, KeyRefused> {
        let record = self
            .store
            .signing_keys()
            .get(name)
            .await?
            .ok_or_else(|| CatalogRefused::not_found(KIND, name))?;
        if let Some(expected) = if_match
            && expected != record.revision
        {
            return Err(stale(name, record.revision));
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

    pub(super) async fn save_draft(&self, draft: Draft) -> Result<Arc<LoadedKey>, KeyRefused> {
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
        let written = self
            .store
            .signing_keys()
            .save(&record, expected)
            .await
            .map_err(|e| CatalogRefused::from_storage(e, KIND, &name))?;
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
pub(super) struct Draft {
    pub(super) spec: KeySpec,
    pub(super) versions: Vec<KeyVersion>,
    pub(super) sealed: BTreeMap<u32, Vec<u8>>,
    pub(super) signers: BTreeMap<u32, Arc<SigningKey>>,
    pub(super) revision: i64,
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use sigil_jose::SealingKey;

    use super::SigningKeys;
    use crate::clock::FixedClock;
    use crate::signing_keys::usage::KeyUsage;
    use crate::storage::sqlite::SqliteStore;

    async fn service() -> (SigningKeys, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("sigil.sqlite"))
            .await
            .unwrap();
        let clock = Arc::new(FixedClock::at(1_000_000));
        let usage = Arc::new(KeyUsage::new(clock.clone()));
        (SigningKeys::new(Arc::new(store), clock, usage), dir)
    }

    fn data_key() -> Arc<SealingKey> {
        Arc::new(SealingKey::generate().unwrap().0)
    }

    /// A reload queued behind an unseal (another node's change arrived meanwhile) must not
    /// put back the sealed state it would have seen before waiting.
    #[tokio::test]
    async fn a_reload_waiting_behind_an_unseal_keeps_the_data_key() {
        let (keys, _dir) = service().await;
        let keys = Arc::new(keys);
        let unsealing = keys.writer.lock().await;
        let reload = tokio::spawn({
            let keys = keys.clone();
            async move { keys.reload().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        keys.load_locked(Some(data_key())).await.unwrap();
        drop(unsealing);

        reload.await.unwrap().unwrap();

        assert!(
            keys.data_key.load().is_some(),
            "the reload undid the unseal"
        );
    }

    /// A reload queued behind a seal must not open the private keys again.
    #[tokio::test]
    async fn a_reload_waiting_behind_a_seal_leaves_the_keys_sealed() {
        let (keys, _dir) = service().await;
        let keys = Arc::new(keys);
        keys.load(Some(data_key())).await.unwrap();
        let sealing = keys.writer.lock().await;
        let reload = tokio::spawn({
            let keys = keys.clone();
            async move { keys.reload().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        keys.data_key.store(None);
        drop(sealing);

        reload.await.unwrap().unwrap();

        assert!(keys.data_key.load().is_none(), "the reload undid the seal");
    }
}
