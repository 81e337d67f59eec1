//! Why a signing key operation was refused, as facts `http/error.rs` maps to statuses.

use super::lifecycle::TransitionRefused;
use crate::storage::StorageError;
use crate::validation::FieldError;

/// A refused signing key operation.
#[derive(Debug, thiserror::Error)]
pub enum KeyRefused {
    /// Bad fields.
    #[error("invalid signing key")]
    Invalid(Vec<FieldError>),
    /// No key of that name.
    #[error("signing key `{0}` does not exist")]
    NotFound(String),
    /// No such version.
    #[error("signing key `{name}` has no version {version}")]
    VersionNotFound { name: String, version: u32 },
    /// The name is taken.
    #[error("signing key `{0}` already exists")]
    AlreadyExists(String),
    /// Something still signs with it.
    #[error("signing key `{name}` is in use by {}", users.join(", "))]
    InUse { name: String, users: Vec<String> },
    /// The internal key cannot be replaced or deleted.
    #[error("signing key `{0}` is Sigil's internal key and cannot be changed this way")]
    Internal(String),
    /// `If-Match` did not match.
    #[error("signing key `{name}` changed: its ETag is \"{actual}\"")]
    Stale { name: String, actual: i64 },
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
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}
