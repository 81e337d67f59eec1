//! AES-256-GCM sealing of private keys at rest (DESIGN §4), with a random 96-bit nonce per
//! seal. The layout is versioned — `0x01 || nonce || ciphertext || tag` — so the format can
//! change later without guessing; the caller binds each blob to its owner through `aad`.

use std::fmt;

use aws_lc_rs::aead::{AES_256_GCM, Aad, NONCE_LEN, Nonce, RandomizedNonceKey};
use aws_lc_rs::rand;
use zeroize::Zeroize;

use crate::{JoseError, Secret};

/// The layout version written as the first byte of every sealed blob.
const VERSION: u8 = 0x01;
/// AES-GCM tag length in bytes.
const TAG_LEN: usize = 16;
/// Bytes before the ciphertext: version and nonce.
const PREFIX_LEN: usize = 1 + NONCE_LEN;

/// An AES-256-GCM key that seals and opens blobs.
pub struct SealingKey {
    key: RandomizedNonceKey,
}

impl SealingKey {
    /// Builds a sealing key from 32 key bytes; the caller keeps (and zeroizes) the bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Result<SealingKey, JoseError> {
        let key = RandomizedNonceKey::new(&AES_256_GCM, bytes)
            .map_err(|_| JoseError::CryptoFailed("AES-256-GCM key setup failed"))?;
        Ok(SealingKey { key })
    }

    /// Generates a fresh key; returns it with its bytes, for the caller to wrap and store.
    pub fn generate() -> Result<(SealingKey, Secret<[u8; 32]>), JoseError> {
        let bytes = random_bytes::<32>()?;
        Ok((SealingKey::from_bytes(bytes.expose())?, bytes))
    }

    /// Encrypts `plaintext`, authenticating `aad` with it, under a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8], aad: &[u8]) -> Result<Vec<u8>, JoseError> {
        let mut sealed = Vec::with_capacity(PREFIX_LEN + plaintext.len() + TAG_LEN);
        sealed.push(VERSION);
        sealed.extend_from_slice(&[0; NONCE_LEN]);
        sealed.extend_from_slice(plaintext);
        let Some(body) = sealed.get_mut(PREFIX_LEN..) else {
            return Err(JoseError::CryptoFailed("sealing buffer too short"));
        };
        match self.key.seal_in_place_separate_tag(Aad::from(aad), body) {
            Ok((nonce, tag)) => {
                sealed[1..PREFIX_LEN].copy_from_slice(nonce.as_ref());
                sealed.extend_from_slice(tag.as_ref());
                Ok(sealed)
            }
            Err(_) => {
                sealed.zeroize();
                Err(JoseError::CryptoFailed("sealing failed"))
            }
        }
    }

    /// Decrypts a blob made by [`SealingKey::seal`] with the same `aad`. Any mismatch —
    /// wrong key, wrong `aad`, a flipped bit, a cut blob, an unknown version — is
    /// `SealOpenFailed`, with no hint which.
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Secret<Vec<u8>>, JoseError> {
        if sealed.len() < PREFIX_LEN + TAG_LEN || sealed.first() != Some(&VERSION) {
            return Err(JoseError::SealOpenFailed);
        }
        let (prefix, body) = sealed.split_at(PREFIX_LEN);
        let nonce = Nonce::try_assume_unique_for_key(&prefix[1..])
            .map_err(|_| JoseError::SealOpenFailed)?;
        let mut buffer = Secret::new(body.to_vec());
        let plaintext_len = {
            let in_out = buffer.expose_mut();
            self.key
                .open_in_place(nonce, Aad::from(aad), in_out)
                .map_err(|_| JoseError::SealOpenFailed)?
                .len()
        };
        buffer.expose_mut().truncate(plaintext_len);
        Ok(buffer)
    }
}

impl fmt::Debug for SealingKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("SealingKey([redacted])")
    }
}

/// `N` bytes from the operating system's CSPRNG (via aws-lc-rs), wrapped as a secret.
pub fn random_bytes<const N: usize>() -> Result<Secret<[u8; N]>, JoseError> {
    let mut bytes = Secret::new([0u8; N]);
    rand::fill(bytes.expose_mut())
        .map_err(|_| JoseError::CryptoFailed("randomness unavailable"))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> SealingKey {
        SealingKey::from_bytes(&[byte; 32]).unwrap()
    }

    #[test]
    fn open_returns_what_was_sealed() {
        let sealing = key(1);
        let sealed = sealing.seal(b"private key der", b"payments-key/3").unwrap();
        assert_eq!(sealed[0], VERSION);
        assert_eq!(sealed.len(), PREFIX_LEN + 15 + TAG_LEN);
        let opened = sealing.open(&sealed, b"payments-key/3").unwrap();
        assert_eq!(opened.expose().as_slice(), b"private key der");
    }

    #[test]
    fn empty_plaintext_round_trips() {
        let sealing = key(1);
        let sealed = sealing.seal(b"", b"").unwrap();
        assert!(sealing.open(&sealed, b"").unwrap().expose().is_empty());
    }

    #[test]
    fn open_fails_with_wrong_aad() {
        let sealing = key(1);
        let sealed = sealing.seal(b"secret", b"payments-key/3").unwrap();
        assert_eq!(
            sealing.open(&sealed, b"payments-key/4").map(|_| ()),
            Err(JoseError::SealOpenFailed)
        );
    }

    #[test]
    fn open_fails_with_wrong_key() {
        let sealed = key(1).seal(b"secret", b"aad").unwrap();
        assert_eq!(
            key(2).open(&sealed, b"aad").map(|_| ()),
            Err(JoseError::SealOpenFailed)
        );
    }

    #[test]
    fn open_fails_on_any_flipped_bit() {
        let sealing = key(1);
        let sealed = sealing.seal(b"secret", b"aad").unwrap();
        for index in 0..sealed.len() {
            let mut tampered = sealed.clone();
            tampered[index] ^= 0x01;
            assert_eq!(
                sealing.open(&tampered, b"aad").map(|_| ()),
                Err(JoseError::SealOpenFailed),
                "bit flip at byte {index} was not detected"
            );
        }
    }

    #[test]
    fn open_fails_on_truncation() {
        let sealing = key(1);
        let sealed = sealing.seal(b"secret", b"aad").unwrap();
        for len in 0..sealed.len() {
            assert_eq!(
                sealing.open(&sealed[..len], b"aad").map(|_| ()),
                Err(JoseError::SealOpenFailed)
            );
        }
    }

    #[test]
    fn each_seal_uses_a_fresh_nonce() {
        let sealing = key(1);
        let first = sealing.seal(b"same", b"aad").unwrap();
        let second = sealing.seal(b"same", b"aad").unwrap();
        assert_ne!(first[1..PREFIX_LEN], second[1..PREFIX_LEN]);
        assert_ne!(first, second);
    }

    #[test]
    fn generated_key_bytes_rebuild_the_same_key() {
        let (sealing, bytes) = SealingKey::generate().unwrap();
        let sealed = sealing.seal(b"secret", b"aad").unwrap();
        let rebuilt = SealingKey::from_bytes(bytes.expose()).unwrap();
        assert_eq!(rebuilt.open(&sealed, b"aad").unwrap().expose(), b"secret");
        assert_eq!(format!("{sealing:?}"), "SealingKey([redacted])");
    }

    #[test]
    fn random_bytes_differ_between_calls() {
        let first = random_bytes::<32>().unwrap();
        let second = random_bytes::<32>().unwrap();
        assert_ne!(first.expose(), second.expose());
    }
}
