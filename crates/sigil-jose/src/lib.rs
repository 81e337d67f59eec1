//! # sigil-jose
//!
//! Compact JWS on aws-lc-rs, with every key parsed once: signing keys keep their parsed key
//! pair, public JWK, RFC 7638 kid and encoded header; verifying keys keep one parsed public key
//! per algorithm. No I/O, no clock: callers pass the time in [`TimeRules`].
//!
//! # Layout
//! - [`Algorithm`], [`KeyType`]: what may sign and verify (no `none`, no `HS*`).
//! - [`Jwk`], [`JwkSet`]: public keys and RFC 7638 thumbprints.
//! - [`SigningKey`]: generate or load PKCS#8, then `sign_compact`.
//! - [`VerifyingKey`]: strict JWK import, then `verify`.
//! - [`UnverifiedToken`] → [`VerifiedToken`]: strict parsing, then signature check;
//!   [`check_times`] judges `exp`, `nbf`, `iat`.
//! - [`SealingKey`], [`Secret`], [`random_bytes`]: private keys at rest.
//! - [`dangerous`]: decoding without verification, for display only.

#![warn(missing_docs)]

mod algorithm;
mod b64;
mod claims;
pub mod dangerous;
mod error;
mod header;
mod jwk;
mod key_type;
mod seal;
mod secret;
mod signing_key;
mod strict_json;
#[cfg(test)]
mod test_keys;
mod token;
mod verifying_key;

pub use algorithm::Algorithm;
pub use claims::{TimeRules, check_times};
pub use error::JoseError;
pub use header::Header;
pub use jwk::{Jwk, JwkSet};
pub use key_type::KeyType;
pub use seal::{SealingKey, random_bytes};
pub use secret::Secret;
pub use signing_key::SigningKey;
pub use token::{UnverifiedToken, VerifiedToken};
pub use verifying_key::VerifyingKey;
