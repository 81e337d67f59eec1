//! Hostile tokens: every class of malformed, confused or forged token presented to Sigil's one
//! verification, each refused with its error code, no 5xx, no panic and no outbound connection.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod algorithm_confusion;
mod claim_types;
mod crit;
mod forge;
mod header_keys;
mod issuer_audience_exactness;
mod key_ingestion;
mod signature_encoding;
mod sizes_nesting;
mod target;
mod token_syntax;
mod trap;
