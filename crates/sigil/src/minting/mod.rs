//! Minting: named JWT issuers, their roles, and the mint operation itself.

mod audience;
mod error;
mod issuer;
mod issuer_table;
mod jwt_issuers;
mod mint;
mod role;
mod target;
pub mod template;

pub(crate) use error::MintRefused;
pub(crate) use issuer::{Distribute, IssuerFields};
pub(crate) use issuer_table::{LoadedIssuer, LoadedRole};
pub(crate) use jwt_issuers::JwtIssuers;
pub(crate) use mint::{Constraints, MintRequest, Minted};
pub(crate) use role::{AllowedClaim, ClaimType, TokenType};
pub use role::{CompiledRole, RoleFields};
#[cfg(test)]
pub(crate) use target::mint_policy_path;
