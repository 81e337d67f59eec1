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

pub use audience::{AudiencePatternRefused, AudiencePatterns, MAX_AUDIENCE_PATTERN_LENGTH};
pub use error::MintRefused;
pub use issuer::{Distribute, IssuerFields, IssuerSpec, check_issuer_url};
pub use issuer_table::{IssuerTable, LoadedIssuer, LoadedRole};
pub use jwt_issuers::JwtIssuers;
pub use mint::{Constraints, MintRequest, Minted, mint};
pub use role::{AllowedClaim, ClaimType, CompiledRole, RESERVED_CLAIMS, RoleFields, TokenType};
pub use target::{MintTarget, mint_policy_path};
