//! The in-memory keyring the hot path reads: every signing key with its versions, parsed
//! verifying keys, and (while unsealed) parsed signing key pairs. Swapped whole, never locked.

use std::collections::BTreeMap;
use std::sync::Arc;

use sigil_jose::{SigningKey, VerifyingKey};

use super::lifecycle;
use super::model::{KeySpec, KeyVersion};
use crate::catalog::Named;

/// One signing key as loaded.
#[derive(Debug)]
pub struct LoadedKey {
    /// The configuration.
    pub spec: KeySpec,
    /// Every version, sorted by number, as last persisted.
    pub versions: Vec<KeyVersion>,
    /// Revision of the stored aggregate (the ETag).
    pub revision: i64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    signers: Vec<(u32, Arc<SigningKey>)>,
    verifiers: Vec<(u32, Arc<VerifyingKey>)>,
}

impl LoadedKey {
    /// Assembles a loaded key; `signers` is empty while sealed.
    pub fn new(
        spec: KeySpec,
        versions: Vec<KeyVersion>,
        stamps: (i64, i64, i64),
        signers: Vec<(u32, Arc<SigningKey>)>,
        verifiers: Vec<(u32, Arc<VerifyingKey>)>,
    ) -> LoadedKey {
        let (revision, created_at, updated_at) = stamps;
        LoadedKey {
            spec,
            versions,
            revision,
            created_at,
            updated_at,
            signers,
            verifiers,
        }
    }

    /// The key pair that signs at `now`, if unsealed and a version is active.
    pub fn signer_at(&self, now: i64) -> Option<&Arc<SigningKey>> {
        let version = lifecycle::signing_version(&self.versions, now)?.version;
        self.signers
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, key)| key)
    }

    /// The verifying key for `kid` if that version is published at `now`.
    pub fn verifier(&self, kid: &str, now: i64) -> Option<&Arc<VerifyingKey>> {
        let version = self
            .versions
            .iter()
            .find(|v| v.kid == kid && lifecycle::effective_status(v, now).is_published())?;
        self.verifiers
            .iter()
            .find(|(v, _)| *v == version.version)
            .map(|(_, key)| key)
    }

    /// The versions published at `now`, oldest first.
    pub fn published(&self, now: i64) -> impl Iterator<Item = &KeyVersion> {
        self.versions
            .iter()
            .filter(move |v| lifecycle::effective_status(v, now).is_published())
    }

    /// Whether private key pairs are loaded.
    pub fn has_signers(&self) -> bool {
        !self.signers.is_empty()
    }

    /// The parsed key pair of `version`, to carry over when the aggregate changes.
    pub fn signer_of(&self, version: u32) -> Option<&Arc<SigningKey>> {
        self.signers
            .iter()
            .find(|(v, _)| *v == version)
            .map(|(_, key)| key)
    }

    /// The same key without private key pairs (for sealing).
    pub fn without_signers(&self) -> LoadedKey {
        LoadedKey {
            spec: self.spec.clone(),
            versions: self.versions.clone(),
            revision: self.revision,
            created_at: self.created_at,
            updated_at: self.updated_at,
            signers: Vec::new(),
            verifiers: self.verifiers.clone(),
        }
    }
}

/// Every signing key, by name.
#[derive(Debug, Default)]
pub struct Keyring {
    keys: BTreeMap<String, Arc<LoadedKey>>,
}

impl Keyring {
    /// A keyring of `keys`.
    pub fn new(keys: BTreeMap<String, Arc<LoadedKey>>) -> Keyring {
        Keyring { keys }
    }

    /// One key.
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedKey>> {
        self.keys.get(name)
    }

    /// Every key in name order.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<LoadedKey>> {
        self.keys.values()
    }

    /// A copy with `key` inserted or replaced.
    pub fn with(&self, key: Arc<LoadedKey>) -> Keyring {
        let mut keys = self.keys.clone();
        keys.insert(key.spec.name.clone(), key);
        Keyring { keys }
    }

    /// A copy without `name`.
    pub fn without(&self, name: &str) -> Keyring {
        let mut keys = self.keys.clone();
        keys.remove(name);
        Keyring { keys }
    }

    /// A copy holding no private key pairs.
    pub fn sealed(&self) -> Keyring {
        Keyring {
            keys: self
                .keys
                .iter()
                .map(|(name, key)| (name.clone(), Arc::new(key.without_signers())))
                .collect(),
        }
    }
}

impl Named for LoadedKey {
    fn name(&self) -> &str {
        &self.spec.name
    }

    fn revision(&self) -> i64 {
        self.revision
    }
}
