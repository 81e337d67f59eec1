//! What can go wrong in storage, as facts the domains and `http/error.rs` can act on.

/// A storage failure. `NotFound` is only for writes: lookups answer `Ok(None)`.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// A create found the name taken.
    #[error("{kind} `{name}` already exists")]
    AlreadyExists { kind: &'static str, name: String },
    /// A save would give a document the unique key another document of its kind holds.
    #[error("{kind} `{holder}` already holds {value:?}")]
    UniqueKeyTaken {
        kind: &'static str,
        /// The unique value (an `iss`), never a secret.
        value: String,
        /// The document holding it.
        holder: String,
    },
    /// A write or delete found nothing to change.
    #[error("{kind} `{name}` does not exist")]
    NotFound { kind: &'static str, name: String },
    /// `Expected::Revision` did not match what is stored.
    #[error("{kind} `{name}` is at revision {actual}, not {expected}")]
    RevisionMismatch {
        kind: &'static str,
        name: String,
        expected: i64,
        actual: i64,
    },
    /// A stored row could not be decoded (corruption or a newer schema).
    #[error("stored {kind} is corrupt: {reason}")]
    Corrupt { kind: &'static str, reason: String },
    /// The database cannot be reached (connection refused or lost, pool exhausted, server
    /// shutting down): the request may succeed once it is back.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// The backend failed (a constraint we did not expect, an unexpected answer).
    #[error("storage backend failed: {0}")]
    Backend(String),
}
