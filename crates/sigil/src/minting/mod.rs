//! Minting: named JWT issuers, their roles, and the mint operation itself.

mod audience;
mod error;
mod issuer;
mod mint;
mod registry;
mod role;
mod service;
mod target;
pub mod template;

pub use audience::{AudiencePatternRefused, AudiencePatterns, MAX_AUDIENCE_PATTERN_LENGTH};
pub use error::MintRefused;
pub use issuer::{Distribute, IssuerFields, IssuerSpec, check_issuer_url};
pub use mint::{Constraints, MintRequest, Minted, mint};
pub use registry::{IssuerTable, LoadedIssuer, LoadedRole};
pub use role::{AllowedClaim, ClaimType, CompiledRole, RESERVED_CLAIMS, RoleFields, TokenType};
pub use service::JwtIssuers;
pub use target::{MintTarget, mint_policy_path};
