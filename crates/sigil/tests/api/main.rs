#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The integration tests of the `sigil` crate: one binary, a module per surface. HTTP tests
//! drive `router(state)` in-process through `tower::ServiceExt` with a `TestApp` over a
//! temporary SQLite file and a `FixedClock`; `binary` runs the real `sigil` executable.

mod binary;
mod conventions;
mod discovery;
mod external_idp;
mod independent_verifiers;
mod jwt_issuers;
mod key_lifecycle;
mod minting;
mod roles;
mod signing_keys;
mod support;
mod sys;
mod trusted_issuers;
mod verification;
