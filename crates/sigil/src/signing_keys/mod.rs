//! Signing keys: named, versioned asymmetric keys whose private parts are sealed at rest and
//! parsed once into ready key pairs when unsealed or rotated.

mod error;
mod keyring;
pub mod lifecycle;
mod model;
mod service;
mod usage;

pub use error::KeyRefused;
pub use keyring::{Keyring, LoadedKey};
pub use model::{KeySpec, KeyStatus, KeyVersion, MIN_ROTATION_PERIOD, sealing_aad};
pub use service::{Preview, SigningKeys, VersionAction};
pub use usage::{KeyUsage, KeyUser, RetentionFloor};
