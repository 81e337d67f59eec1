//! Admin surfaces under `/v1`: one file per resource family.

pub mod identity_mappings;
pub mod jwt_issuers;
pub mod login;
pub mod mint;
pub mod policies;
pub mod roles;
pub mod signing_keys;
pub mod sys;
pub mod trusted_issuers;
pub mod verify;
