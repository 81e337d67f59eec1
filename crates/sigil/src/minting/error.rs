//! Why a JWT issuer, role or mint operation was refused: the catalog refusals every
//! configuration item shares, and the facts of minting.

use super::template::TemplateRefused;
use crate::catalog::CatalogRefused;
use crate::validation::FieldError;

/// A refused issuer, role or mint operation.
#[derive(Debug, thiserror::Error)]
pub enum MintRefused {
    /// A refusal every catalog shares, for issuers and roles.
    #[error(transparent)]
    Catalog(#[from] CatalogRefused),
    /// Bad fields of a mint request (or a template that does not render for this caller).
    #[error("invalid request")]
    Invalid(Vec<FieldError>),
    /// No issuer of that name (or not served by this node).
    #[error("jwt issuer `{0}` does not exist")]
    IssuerNotFound(String),
    /// No role of that name.
    #[error("role `{role}` of jwt issuer `{issuer}` does not exist")]
    RoleNotFound { issuer: String, role: String },
    /// The issuer's key has no version that can sign now (sealed, or every version tainted).
    #[error("the issuer's signing key cannot sign right now")]
    NoSigner,
    /// Requested audiences the role does not allow, or none where the role requires one.
    /// `fields` lists every invalid field of the request, these included.
    #[error("invalid request")]
    AudienceNotAllowed {
        /// The requested audiences the role's `allowed_audiences` refuse (empty: none given).
        requested: Vec<String>,
        /// Every invalid field.
        fields: Vec<FieldError>,
    },
    /// Claims could not be encoded as JSON.
    #[error("encoding failed: {0}")]
    Encoding(String),
    /// The signature could not be made.
    #[error("signing failed: {0}")]
    Signing(String),
}

impl MintRefused {
    /// A template that could not be rendered for this caller: a 400 naming the field.
    pub fn template(field: &str, error: &TemplateRefused) -> MintRefused {
        MintRefused::Invalid(vec![FieldError::new(field, "template", error.to_string())])
    }
}
