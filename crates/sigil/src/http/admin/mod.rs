//! Operator surfaces under `/v1`: the configuration resources and the seal, one file per
//! resource family.

pub mod identity_mappings;
pub mod jwt_issuers;
pub mod policies;
pub mod roles;
pub mod signing_keys;
pub mod sys;
pub mod trusted_issuers;
