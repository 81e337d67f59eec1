#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The integration tests of the `sigil` crate: one binary, a module per surface. HTTP tests
//! drive `router(state)` in-process through `tower::ServiceExt` with a `TestApp` over a
//! temporary SQLite file and a `FixedClock`; `binary` runs the real `sigil` executable.

mod authorization;
mod binary;
mod conventions;
mod discovery;
mod exchange;
mod external_idp;
mod hostile_requests;
mod hostile_tokens;
mod identity_mappings;
mod independent_verifiers;
mod introspection;
mod jwt_issuers;
mod key_lifecycle;
mod login;
mod minting;
mod policies;
mod roles;
mod signing_keys;
mod support;
mod sys;
mod trusted_issuers;
mod verification;
