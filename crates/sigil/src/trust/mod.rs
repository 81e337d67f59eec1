//! Trusted issuers: whose JWTs Sigil accepts. For now the internal issuer `sigil`, which signs
//! root tokens and sessions with the internal signing key.

mod internal;

pub use internal::{AuthRefused, INTERNAL_ISSUER, INTERNAL_KEY, InternalIssuer, MintedToken};
