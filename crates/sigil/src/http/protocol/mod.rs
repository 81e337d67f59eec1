//! Surfaces that workloads and clients call to obtain or check tokens: minting a role, JWT
//! login, verify and explain under `/v1`, and each JWT issuer's OAuth endpoints.

pub mod login;
pub mod mint;
pub mod oauth;
pub mod verify;
