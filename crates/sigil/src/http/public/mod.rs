//! Surfaces anyone may call without a token: each JWT issuer's discovery document and JWKS,
//! health and readiness, and the OpenAPI document.

pub mod discovery;
pub mod ops;
