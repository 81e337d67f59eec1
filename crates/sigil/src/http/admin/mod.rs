//! Operator surfaces under `/v1`: the configuration resources and the seal, one file per
//! resource family.

pub mod identity_mappings;
pub(crate) mod jwt_issuers;
pub(crate) mod policies;
pub mod roles;
mod signing_key_actions;
pub(crate) mod signing_keys;
pub(crate) mod sys;
pub mod trusted_issuers;
