//! What every catalog of named configuration items can refuse, named once: each domain's error
//! wraps `CatalogRefused` and adds only its own facts, and a storage failure becomes one of
//! these facts in exactly one function.

use crate::storage::StorageError;
use crate::validation::FieldError;

/// A refusal any catalog of named items can give, naming the kind of item.
#[derive(Debug, thiserror::Error)]
pub enum CatalogRefused {
    /// Bad fields, every one listed.
    #[error("invalid {kind}")]
    Invalid {
        /// The kind of item (`policy`, `trusted issuer`, `request`, ...).
        kind: &'static str,
        /// Each invalid field.
        fields: Vec<FieldError>,
    },
    /// No item of that name.
    #[error("{kind} `{name}` does not exist")]
    NotFound {
        /// The kind of item.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// The name is taken.
    #[error("{kind} `{name}` already exists")]
    AlreadyExists {
        /// The kind of item.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// `If-Match` did not match what is stored.
    #[error("{kind} `{name}` changed: its ETag is \"{actual}\"")]
    Stale {
        /// The kind of item.
        kind: &'static str,
        /// Its name.
        name: String,
        /// The revision stored now.
        actual: i64,
    },
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl CatalogRefused {
    /// A failed write of item `name` of `kind`, as the fact it is: taken, absent or stale;
    /// anything else stays a storage failure.
    pub fn from_storage(error: StorageError, kind: &'static str, name: &str) -> CatalogRefused {
        let name = name.to_owned();
        match error {
            StorageError::AlreadyExists { .. } => CatalogRefused::AlreadyExists { kind, name },
            StorageError::NotFound { .. } => CatalogRefused::NotFound { kind, name },
            StorageError::RevisionMismatch { actual, .. } => {
                CatalogRefused::Stale { kind, name, actual }
            }
            other => CatalogRefused::Storage(other),
        }
    }

    /// A stored item of `kind` that no longer decodes or validates.
    pub fn corrupt(kind: &'static str, name: &str, reason: &str) -> CatalogRefused {
        CatalogRefused::Storage(StorageError::Corrupt {
            kind,
            reason: format!("`{name}`: {reason}"),
        })
    }

    /// Bad fields of an item of `kind`.
    pub fn invalid(kind: &'static str, fields: Vec<FieldError>) -> CatalogRefused {
        CatalogRefused::Invalid { kind, fields }
    }

    /// No item `name` of `kind`.
    pub fn not_found(kind: &'static str, name: &str) -> CatalogRefused {
        CatalogRefused::NotFound {
            kind,
            name: name.to_owned(),
        }
    }

    /// The storage failure, if this is one; otherwise the refusal as a corrupt stored item
    /// (loading stored items refuses nothing else).
    pub fn into_storage(self, kind: &'static str) -> StorageError {
        match self {
            CatalogRefused::Storage(error) => error,
            other => StorageError::Corrupt {
                kind,
                reason: other.to_string(),
            },
        }
    }
}
