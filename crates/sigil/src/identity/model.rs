//! The identity a verified token maps to: who is calling, with the policies, roles and
//! permission bitmask that decide what it may do.

use serde::Serialize;
use serde_json::{Map, Value};

/// A verified, mapped caller.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Identity {
    /// `"<trusted-issuer>:<value>"`, e.g. `sigil:root`.
    pub id: String,
    /// The trusted issuer that vouched for the token.
    pub trusted_issuer: String,
    /// The issuer's project.
    pub project: String,
    /// Roles kept after the issuer's allow-list.
    pub roles: Vec<String>,
    /// Permission bits after the issuer's mask.
    pub permissions: u64,
    /// Names of the policies that apply.
    pub policies: Vec<String>,
    /// Claims carried into templates and explain output.
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
}
