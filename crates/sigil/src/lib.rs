//! # Sigil
//! A JWT issuer and trust broker: mints short-lived JWTs from named issuers, verifies JWTs
//! from trusted external issuers, maps them to identities and exchanges them.
//!
//! # Layout
//! - `config`, `app`, `clock`, `duration`, `validation`: configuration, wiring, time,
//!   durations, field errors.
//! - `catalog`: the skeleton every configuration catalog shares (snapshot, writer, paged
//!   load, save, delete) and `CatalogRefused`, what each can refuse.
//! - `seal`: Shamir-split root key, wrapped data key, unseal progress.
//! - `signing_keys`: key specs, the version lifecycle, the in-memory keyring.
//! - `minting`: JWT issuers, roles (compiled templates and globs), the one mint path.
//! - `trust`: trusted issuers (external and the internal `sigil`), fetching their keys, and
//!   the one verification every caller shares.
//! - `identity`: identity mappings and the identity a verified token resolves to.
//! - `policies`: named allow-rules (the engine is the `sigil-policy` crate).
//! - `exchange`: RFC 8693 token exchange and RFC 7523 jwt-bearer.
//! - `storage`: one trait per aggregate; `storage/sqlite` implements them.
//! - `http`: router, error mapping, conventions, the one bearer reader, authentication, and
//!   the surfaces by caller: `admin/`, `protocol/`, `public/`.
//! - `cli`: the `sigil` command, one file per command group.
//!
//! Dependencies run one way: `http → exchange → {trust, identity, policies, minting} →
//! signing_keys → catalog → storage`. Modules that tests, the benchmark and the fuzz targets
//! do not reach are `pub(crate)`, so dead code is reported. `docs/architecture.md` is the
//! design as built.

pub mod app;
pub(crate) mod catalog;
pub mod cli;
pub mod clock;
pub mod config;
pub mod duration;
pub(crate) mod exchange;
pub mod http;
pub mod identity;
pub mod minting;
pub(crate) mod policies;
pub mod seal;
pub mod signing_keys;
pub mod storage;
pub mod trust;
pub(crate) mod validation;
