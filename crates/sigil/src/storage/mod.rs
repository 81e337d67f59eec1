//! Storage seams: one trait per aggregate, implemented by `sqlite/` (and later `postgres/`).
//! The domains depend on these traits only; rows here are storage records, never wire types,
//! and private key material is only ever stored sealed.

mod error;
pub mod migrate;
mod pages;
pub mod postgres;
mod records;
mod sql;
pub mod sqlite;

#[cfg(test)]
pub(crate) mod conformance;

use async_trait::async_trait;

pub(crate) use error::StorageError;
pub(crate) use pages::Pages;
pub(crate) use records::{
    DocumentKind, DocumentRecord, KeyVersionRecord, SealRecord, SigningKeyRecord, Stamps,
};

/// What a write expects to find: optimistic concurrency for every aggregate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expected {
    /// The item must not exist yet (create).
    Absent,
    /// The item must exist with exactly this revision (`If-Match`, read-modify-write).
    Revision(i64),
    /// The item must exist, any revision.
    Present,
    /// Create or replace, whatever is there.
    Any,
}

/// The whole store: one handle per aggregate.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// The seal configuration (wrapped data key, share parameters).
    fn seal(&self) -> &dyn SealStore;
    /// Signing keys with their versions.
    fn signing_keys(&self) -> &dyn SigningKeyStore;
    /// Configuration documents (jwt issuers, roles, trusted issuers, mappings, policies).
    fn documents(&self) -> &dyn DocumentStore;
    /// Single-use token identifiers already exchanged.
    fn replays(&self) -> &dyn ReplayStore;
    /// A counter every configuration write (documents, signing keys) increments, by any node:
    /// a node that sees it move reloads its in-memory configuration.
    async fn change_counter(&self) -> Result<i64, StorageError>;
    /// Pushed hints that the change counter may have moved (PostgreSQL's LISTEN/NOTIFY): each
    /// notification, and each reconnection of the listener (notifications may have been lost),
    /// bumps the value. `None` for a backend that can only be polled.
    fn change_notifications(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        None
    }
    /// Whether this node runs the scheduled work (rotation, retirement, purges) now: one node
    /// of those sharing the store leads at a time, and another takes over when its connection
    /// goes. A backend with one writer process answers `true`. The work stays safe without it
    /// (each save expects the revision it read); the lease keeps it from running twice.
    async fn lead_scheduled_work(&self) -> Result<bool, StorageError> {
        Ok(true)
    }
    /// Cheap round trip proving the backend answers (for `/readyz`).
    async fn ping(&self) -> Result<(), StorageError>;
}

/// The seal record is written once, at init.
#[async_trait]
pub trait SealStore: Send + Sync {
    /// The record, or `None` before init.
    async fn load(&self) -> Result<Option<SealRecord>, StorageError>;
    /// Writes the record; `AlreadyExists` if init already happened.
    async fn initialise(&self, record: &SealRecord) -> Result<(), StorageError>;
}

/// Signing keys are saved as whole aggregates (config plus every version) in one transaction.
#[async_trait]
pub trait SigningKeyStore: Send + Sync {
    /// Every key, sorted by name, with versions sorted by version number.
    async fn list(&self) -> Result<Vec<SigningKeyRecord>, StorageError>;
    /// One key with its versions.
    async fn get(&self, name: &str) -> Result<Option<SigningKeyRecord>, StorageError>;
    /// Writes the key and all of its versions atomically when `expected` holds; the record's
    /// own `revision` is ignored. Versions absent from `record` but stored are deleted.
    /// Answers the new revision and timestamps.
    async fn save(
        &self,
        record: &SigningKeyRecord,
        expected: Expected,
    ) -> Result<Stamps, StorageError>;
    /// Deletes the key and its versions when `expected` holds.
    async fn delete(&self, name: &str, expected: Expected) -> Result<(), StorageError>;
}

/// Configuration documents: one JSON body per `(kind, parent, name)`, each with its own
/// revision. Top-level items have `parent == ""`; roles have their issuer's name as parent.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    /// Every document of `kind` (under `parent` when given), sorted by parent then name.
    async fn list(
        &self,
        kind: DocumentKind,
        parent: Option<&str>,
    ) -> Result<Vec<DocumentRecord>, StorageError>;
    /// Up to `limit` documents of `kind` after `(parent, name)` in (parent, name) order: loads
    /// large configurations a page at a time instead of all at once.
    async fn list_page(
        &self,
        kind: DocumentKind,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<DocumentRecord>, StorageError>;
    /// One document.
    async fn get(
        &self,
        kind: DocumentKind,
        parent: &str,
        name: &str,
    ) -> Result<Option<DocumentRecord>, StorageError>;
    /// Writes `record.body` when `expected` holds; the record's revision and times are ignored.
    async fn save(
        &self,
        record: &DocumentRecord,
        expected: Expected,
    ) -> Result<Stamps, StorageError>;
    /// Deletes one document when `expected` holds, and in the same transaction every
    /// document whose parent is its name and whose kind is in `children`.
    async fn delete(
        &self,
        kind: DocumentKind,
        parent: &str,
        name: &str,
        expected: Expected,
        children: &[DocumentKind],
    ) -> Result<(), StorageError>;
}

/// The longest issuer a [`ReplayStore`] records, in bytes; callers refuse longer ones.
pub const REPLAY_ISSUER_MAX_BYTES: usize = 1024;

/// The longest `jti` a [`ReplayStore`] records, in bytes; callers refuse longer ones.
pub const REPLAY_JTI_MAX_BYTES: usize = 512;

/// Single-use token identifiers: `(issuer, jti)` pairs seen before they expire.
///
/// A record is live while `now < expires_at`, as RFC 7519 §4.1.4 refuses a token at or after
/// its `exp`; a verifier that grants leeway must pass `exp` plus that leeway. Issuer and `jti`
/// are non-empty and at most [`REPLAY_ISSUER_MAX_BYTES`] and [`REPLAY_JTI_MAX_BYTES`] long,
/// and `expires_at` is positive; anything else is refused with `Backend`, so the caller checks
/// the sizes first.
#[async_trait]
pub trait ReplayStore: Send + Sync {
    /// Records the first use of `(issuer, jti)` valid until `expires_at` (Unix seconds).
    /// Answers `true` for a first use, `false` when the pair is already recorded and not yet
    /// expired at `now`. An expired record is replaced (its token can no longer be used anyway).
    /// Atomic across every node sharing the store: of racing uses, exactly one answers `true`.
    async fn first_use(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StorageError>;
    /// Deletes records that expired at or before `now` (`expires_at <= now`); answers how many.
    async fn purge_expired(&self, now: i64) -> Result<u64, StorageError>;
    /// Every record still live at `now`, as `(issuer, jti, expires_at)` sorted by issuer and
    /// `jti` (for copying a deployment to another store).
    async fn unexpired(&self, now: i64) -> Result<Vec<(String, String, i64)>, StorageError>;
}
