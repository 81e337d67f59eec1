//! Changing the versions of a key: rotate (now or prepublished), taint, revoke, the scheduled
//! lifecycle every node runs, and `preview`, which runs the same checks without writing.

use std::sync::Arc;

use sigil_jose::SealingKey;

use super::error::{KIND, KeyRefused, stale};
use super::keyring::LoadedKey;
use super::keys::{Draft, SigningKeys};
use super::lifecycle::{self, TransitionRefused};
use super::material::{generate, seal_private, version_of};
use super::model::KeySpec;
use crate::catalog::CatalogRefused;
use crate::duration::HumanDuration;

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
            .ok_or_else(|| CatalogRefused::not_found(KIND, name))?;
        if let Some(expected) = if_match
            && expected != key.revision
        {
            return Err(stale(name, key.revision));
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
                Err(KeyRefused::Catalog(CatalogRefused::NotFound { .. })) => continue,
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
                Err(KeyRefused::Catalog(CatalogRefused::Stale { .. })) => {}
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

    /// Generates a version, seals its private part and adds it to `draft` (active, or pending
    /// for `prepublish`).
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
