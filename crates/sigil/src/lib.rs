//! # Sigil
//! A JWT issuer and trust broker: mints short-lived JWTs from named issuers, verifies JWTs
//! from trusted external issuers, maps them to identities and exchanges them.
//!
//! # Layout
//! - `config`, `app`, `clock`, `duration`, `validation`: configuration, wiring, time,
//!   durations, field errors.
//! - `seal`: Shamir-split root key, wrapped data key, unseal progress.
//! - `signing_keys`: key specs, the version lifecycle, the in-memory keyring.
//! - `minting`: JWT issuers, roles (compiled templates and globs), the mint operation.
//! - `trust`: trusted issuers (today the internal issuer `sigil`); `identity`: callers.
//! - `storage`: one trait per aggregate; `storage/sqlite` implements them.
//! - `http`: router, error mapping, conventions, authentication, admin surfaces.
//! - `cli`: the `sigil` command, one file per command group.
//!
//! Dependencies run one way: `http → {minting, trust, identity} → signing_keys → storage`.

pub mod app;
pub mod cli;
pub mod clock;
pub mod config;
pub mod duration;
pub mod http;
pub mod identity;
pub mod minting;
pub mod seal;
pub mod signing_keys;
pub mod storage;
pub mod trust;
pub mod validation;
