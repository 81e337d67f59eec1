//! Why a signing key operation was refused, as facts `http/error.rs` maps to statuses.

use super::lifecycle::TransitionRefused;
use crate::catalog::CatalogRefused;
use crate::storage::StorageError;

/// The kind of item, in messages.
pub(super) const KIND: &str = "signing key";

/// A refused signing key operation.
#[derive(Debug, thiserror::Error)]
pub enum KeyRefused {
    /// A refusal every catalog shares (fields, names, revisions, storage).
    #[error(transparent)]
    Catalog(#[from] CatalogRefused),
    /// No such version.
    #[error("signing key `{name}` has no version {version}")]
    VersionNotFound { name: String, version: u32 },
    /// Something still signs with it.
    #[error("signing key `{name}` is in use by {}", users.join(", "))]
    InUse { name: String, users: Vec<String> },
    /// The internal key cannot be replaced or deleted.
    #[error("signing key `{0}` is Sigil's internal key and cannot be changed this way")]
    Internal(String),
    /// The version cannot make that transition.
    #[error("signing key `{name}`: {reason}")]
    Transition {
        name: String,
        reason: TransitionRefused,
    },
    /// The operation needs private keys.
    #[error("sealed")]
    Sealed,
    /// Key generation or sealing failed.
    #[error("key material failure: {0}")]
    Crypto(String),
}

impl From<StorageError> for KeyRefused {
    fn from(error: StorageError) -> KeyRefused {
        KeyRefused::Catalog(CatalogRefused::Storage(error))
    }
}

/// `If-Match` named another revision than `actual`.
pub(super) fn stale(name: &str, actual: i64) -> KeyRefused {
    CatalogRefused::Stale {
        kind: KIND,
        name: name.to_owned(),
        actual,
    }
    .into()
}
