//! Signing keys: named, versioned asymmetric keys whose private parts are sealed at rest and
//! parsed once into ready key pairs when unsealed or rotated.

mod error;
mod keyring;
mod keys;
pub(crate) mod lifecycle;
mod material;
mod model;
mod usage;
mod versions;

pub(crate) use error::KeyRefused;
pub(crate) use keyring::{Keyring, LoadedKey};
pub(crate) use keys::SigningKeys;
#[cfg(test)]
pub(crate) use model::KeyVersion;
pub(crate) use model::{KeySpec, KeyStatus};
pub(crate) use usage::{KeyUsage, KeyUser, RetentionFloor};
pub(crate) use versions::{Preview, VersionAction};
