//! Key material: generating a key pair off the async workers, sealing its private part under
//! the data key, and opening and parsing stored versions once when a key is loaded.

use std::sync::Arc;

use sigil_jose::{SealingKey, SigningKey, VerifyingKey};

use super::error::KeyRefused;
use super::keyring::LoadedKey;
use super::model::{KeySpec, KeyStatus, KeyVersion, sealing_aad};
use crate::storage::SigningKeyRecord;

/// A fresh key pair for `spec` and its PKCS#8 private part.
pub(super) async fn generate(
    spec: &KeySpec,
) -> Result<(SigningKey, sigil_jose::Secret<Vec<u8>>), KeyRefused> {
    let (key_type, algorithm) = (spec.key_type, spec.algorithm);
    // RSA-4096 generation takes seconds: keep it off the async workers.
    tokio::task::spawn_blocking(move || SigningKey::generate(key_type, algorithm))
        .await
        .map_err(|e| KeyRefused::Crypto(format!("key generation task failed: {e}")))?
        .map_err(|e| KeyRefused::Crypto(e.to_string()))
}

/// The public record of a fresh key pair as version `number`, pending.
pub(super) fn version_of(
    fresh: &(SigningKey, sigil_jose::Secret<Vec<u8>>),
    number: u32,
    now: i64,
) -> KeyVersion {
    KeyVersion {
        version: number,
        kid: fresh.0.kid().to_owned(),
        status: KeyStatus::Pending,
        created_at: now,
        activates_at: None,
        retires_at: None,
        public_jwk: fresh.0.public_jwk().clone(),
    }
}

/// The private part sealed under `data_key`, bound to the key name and version.
pub(super) fn seal_private(
    data_key: &SealingKey,
    name: &str,
    version: u32,
    pkcs8: &sigil_jose::Secret<Vec<u8>>,
) -> Result<Vec<u8>, KeyRefused> {
    data_key
        .seal(pkcs8.expose(), &sealing_aad(name, version))
        .map_err(|e| KeyRefused::Crypto(e.to_string()))
}

/// The parsed public keys of every published version.
pub(super) fn verifiers_of(
    versions: &[KeyVersion],
) -> Result<Vec<(u32, Arc<VerifyingKey>)>, KeyRefused> {
    versions
        .iter()
        .filter(|v| v.status.is_published())
        .map(|v| {
            VerifyingKey::from_jwk(&v.public_jwk)
                .map(|key| (v.version, Arc::new(key)))
                .map_err(|e| {
                    KeyRefused::Crypto(format!("stored public key of version {}: {e}", v.version))
                })
        })
        .collect()
}

/// Builds a loaded key from storage, opening private parts when a data key is given.
pub(super) fn load_record(
    record: &SigningKeyRecord,
    data_key: Option<&SealingKey>,
) -> Result<LoadedKey, KeyRefused> {
    let spec = KeySpec::from_record(record)?;
    let versions: Vec<KeyVersion> = record
        .versions
        .iter()
        .map(KeyVersion::from_record)
        .collect::<Result<_, _>>()?;
    let mut signers = Vec::new();
    if let Some(data_key) = data_key {
        for stored in &record.versions {
            let Some(sealed) = &stored.sealed_private_key else {
                continue;
            };
            let pkcs8 = data_key
                .open(sealed, &sealing_aad(&record.name, stored.version))
                .map_err(|_| {
                    KeyRefused::Crypto(format!(
                        "sealed private key of `{}` version {} does not open",
                        record.name, stored.version
                    ))
                })?;
            let key = SigningKey::from_pkcs8(spec.key_type, spec.algorithm, pkcs8.expose())
                .map_err(|e| KeyRefused::Crypto(e.to_string()))?;
            if key.kid() != stored.kid {
                return Err(KeyRefused::Crypto(format!(
                    "sealed private key of `{}` version {} does not match its kid",
                    record.name, stored.version
                )));
            }
            signers.push((stored.version, Arc::new(key)));
        }
    }
    let verifiers = verifiers_of(&versions)?;
    Ok(LoadedKey::new(
        spec,
        versions,
        (record.revision, record.created_at, record.updated_at),
        signers,
        verifiers,
    ))
}
