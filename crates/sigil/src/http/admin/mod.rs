//! Admin surfaces under `/v1`: one file per resource family.

pub mod signing_keys;
pub mod sys;
