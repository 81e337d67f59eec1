//! Surfaces that workloads and clients call to obtain or check tokens: minting a role, JWT
//! login, verify and explain under `/v1`, and each JWT issuer's OAuth endpoints.

pub(crate) mod login;
pub mod mint;
pub(crate) mod oauth;
pub(crate) mod verify;
