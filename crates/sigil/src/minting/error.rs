//! Why a JWT issuer, role or mint operation was refused.

use super::template::TemplateRefused;
use crate::storage::StorageError;
use crate::validation::FieldError;

/// A refused issuer, role or mint operation.
#[derive(Debug, thiserror::Error)]
pub enum MintRefused {
    /// Bad fields (request, role or issuer), every one listed.
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// No issuer of that name (or not served by this node).
    #[error("jwt issuer `{0}` does not exist")]
    IssuerNotFound(String),
    /// No role of that name.
    #[error("role `{role}` of jwt issuer `{issuer}` does not exist")]
    RoleNotFound { issuer: String, role: String },
    /// The name is taken.
    #[error("{kind} `{name}` already exists")]
    AlreadyExists { kind: &'static str, name: String },
    /// `If-Match` did not match.
    #[error("{kind} `{name}` changed: its ETag is \"{actual}\"")]
    Stale {
        kind: &'static str,
        name: String,
        actual: i64,
    },
    /// The issuer's key has no version that can sign now (sealed, or every version tainted).
    #[error("the issuer's signing key cannot sign right now")]
    NoSigner,
    /// Serialising or signing failed.
    #[error("signing failed: {0}")]
    Signing(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl MintRefused {
    /// A template that could not be rendered for this caller: a 400 naming the field.
    pub fn template(field: &str, error: &TemplateRefused) -> MintRefused {
        MintRefused::Invalid(vec![FieldError::new(field, "template", error.to_string())])
    }
}
