//! Storage seams: one trait per aggregate, implemented by `sqlite/` (and later `postgres/`).
//! The domains depend on these traits only; rows here are storage records, never wire types,
//! and private key material is only ever stored sealed.

mod error;
mod records;
pub mod sqlite;

#[cfg(test)]
pub(crate) mod conformance;

use async_trait::async_trait;

pub use error::StorageError;
pub use records::{KeyVersionRecord, SealRecord, SigningKeyRecord, Written};

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
    ) -> Result<Written, StorageError>;
    /// Deletes the key and its versions when `expected` holds.
    async fn delete(&self, name: &str, expected: Expected) -> Result<(), StorageError>;
}
