//! Admin surfaces under `/v1`: one file per resource family.

pub mod jwt_issuers;
pub mod mint;
pub mod roles;
pub mod signing_keys;
pub mod sys;
pub mod trusted_issuers;
pub mod verify;
