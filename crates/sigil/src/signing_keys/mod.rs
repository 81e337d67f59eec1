//! Signing keys: named, versioned asymmetric keys whose private parts are sealed at rest and
//! parsed once into ready key pairs when unsealed or rotated.

mod error;
mod keyring;
mod keys;
pub mod lifecycle;
mod material;
mod model;
mod usage;
mod versions;

pub use error::KeyRefused;
pub use keyring::{Keyring, LoadedKey};
pub use keys::SigningKeys;
pub use model::{KeySpec, KeyStatus, KeyVersion, MIN_ROTATION_PERIOD, sealing_aad};
pub use usage::{KeyUsage, KeyUser, RetentionFloor};
pub use versions::{Preview, VersionAction};
