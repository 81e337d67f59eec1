//! The ceiling: single-thread sign and verify rates of aws-lc-rs with keys parsed once, and of
//! sigil-jose's whole-token calls (`sign_compact`; `UnverifiedToken::parse` + `verify`), which
//! add JSON and base64 on top. Every loop is bounded by time and by count.

use std::time::{Duration, Instant};

use anyhow::Context;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{
    self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, ParsedPublicKey, RsaKeyPair,
};
use sigil_jose::{Algorithm, KeyType, SigningKey, UnverifiedToken};

/// No loop runs more often than this, whatever the duration.
const MAX_ITERATIONS: u64 = 50_000_000;
/// A JWT's claims the size Sigil mints (iss, sub, iat, nbf, exp, jti).
const CLAIMS: &str = r#"{"iss":"http://127.0.0.1:8420/jwt/bench-es256","sub":"sigil:root","iat":1767225600,"nbf":1767225600,"exp":1767226500,"jti":"6f1c1b1e-3a6c-4d8f-9d0e-2b7c8a9f0e1d"}"#;

/// The algorithms the benchmark covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alg {
    /// ECDSA P-256.
    Es256,
    /// Ed25519.
    EdDsa,
    /// RSA-2048 PKCS#1 v1.5.
    Rs256,
}

impl Alg {
    /// Every covered algorithm, in report order.
    pub const ALL: [Alg; 3] = [Alg::Es256, Alg::EdDsa, Alg::Rs256];

    /// The JOSE name.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Es256 => "ES256",
            Alg::EdDsa => "EdDSA",
            Alg::Rs256 => "RS256",
        }
    }

    /// The Sigil signing key `type`.
    pub fn key_type_name(self) -> &'static str {
        match self {
            Alg::Es256 => "ecdsa-p256",
            Alg::EdDsa => "ed25519",
            Alg::Rs256 => "rsa-2048",
        }
    }

    /// A lower-case slug for resource names.
    pub fn slug(self) -> &'static str {
        match self {
            Alg::Es256 => "es256",
            Alg::EdDsa => "eddsa",
            Alg::Rs256 => "rs256",
        }
    }

    fn jose(self) -> (KeyType, Algorithm) {
        match self {
            Alg::Es256 => (KeyType::EcdsaP256, Algorithm::Es256),
            Alg::EdDsa => (KeyType::Ed25519, Algorithm::EdDsa),
            Alg::Rs256 => (KeyType::Rsa2048, Algorithm::Rs256),
        }
    }

    /// A fresh sigil-jose signing key of this algorithm.
    pub fn generate(self) -> anyhow::Result<SigningKey> {
        let (key_type, algorithm) = self.jose();
        let (key, _) = SigningKey::generate(key_type, algorithm)?;
        Ok(key)
    }
}

/// Operations per second, single thread.
#[derive(Clone, Copy, Debug)]
pub struct Rates {
    /// Signatures per second.
    pub sign: f64,
    /// Verifications per second.
    pub verify: f64,
}

/// The two layers for one algorithm.
#[derive(Clone, Copy, Debug)]
pub struct Ceiling {
    /// Which algorithm.
    pub alg: Alg,
    /// aws-lc-rs alone over a JWT-sized signing input.
    pub raw: Rates,
    /// sigil-jose: serialise-and-sign a compact JWS; parse-and-verify one.
    pub jose: Rates,
}

/// Measures every algorithm, spending `per_op` on each of the four loops.
pub fn measure_all(per_op: Duration) -> anyhow::Result<Vec<Ceiling>> {
    Alg::ALL
        .iter()
        .map(|alg| {
            Ok(Ceiling {
                alg: *alg,
                raw: raw_rates(*alg, per_op)?,
                jose: jose_rates(*alg, per_op)?,
            })
        })
        .collect()
}

/// aws-lc-rs sign and verify with the key pair and public key parsed once.
pub fn raw_rates(alg: Alg, per_op: Duration) -> anyhow::Result<Rates> {
    let rng = SystemRandom::new();
    let message = signing_input();
    let failed = |_| anyhow::anyhow!("{} failed", alg.name());
    match alg {
        Alg::Es256 => {
            let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING)
                .map_err(failed)?;
            let public = ParsedPublicKey::new(
                &signature::ECDSA_P256_SHA256_FIXED,
                pair.public_key().as_ref(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let sig = pair.sign(&rng, &message).map_err(failed)?;
            Ok(Rates {
                sign: rate(per_op, || pair.sign(&rng, &message).is_ok())?,
                verify: rate(per_op, || public.verify_sig(&message, sig.as_ref()).is_ok())?,
            })
        }
        Alg::EdDsa => {
            let pair = Ed25519KeyPair::generate().map_err(failed)?;
            let public = ParsedPublicKey::new(&signature::ED25519, pair.public_key().as_ref())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let sig = pair.sign(&message);
            Ok(Rates {
                sign: rate(per_op, || !pair.sign(&message).as_ref().is_empty())?,
                verify: rate(per_op, || public.verify_sig(&message, sig.as_ref()).is_ok())?,
            })
        }
        Alg::Rs256 => {
            let pair = RsaKeyPair::generate(KeySize::Rsa2048).map_err(failed)?;
            let public = ParsedPublicKey::new(
                &signature::RSA_PKCS1_2048_8192_SHA256,
                pair.public_key().as_ref(),
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let mut sig = vec![0; pair.public_modulus_len()];
            pair.sign(&signature::RSA_PKCS1_SHA256, &rng, &message, &mut sig)
                .map_err(failed)?;
            let mut out = vec![0; pair.public_modulus_len()];
            Ok(Rates {
                sign: rate(per_op, || {
                    pair.sign(&signature::RSA_PKCS1_SHA256, &rng, &message, &mut out)
                        .is_ok()
                })?,
                verify: rate(per_op, || public.verify_sig(&message, &sig).is_ok())?,
            })
        }
    }
}

/// sigil-jose: `sign_compact` (base64 of the payload, signature, assembly) and
/// `UnverifiedToken::parse` + `verify` (strict JSON, base64, signature, claim copy).
pub fn jose_rates(alg: Alg, per_op: Duration) -> anyhow::Result<Rates> {
    let key = alg.generate()?;
    let verifying = key.verifying_key();
    let token = key.sign_compact(CLAIMS.as_bytes())?;
    Ok(Rates {
        sign: rate(per_op, || key.sign_compact(CLAIMS.as_bytes()).is_ok())?,
        verify: rate(per_op, || {
            UnverifiedToken::parse(&token, 16_384)
                .and_then(|parsed| parsed.verify(&verifying))
                .is_ok()
        })?,
    })
}

/// `header.payload` of a typical token: what aws-lc-rs hashes and signs.
fn signing_input() -> Vec<u8> {
    use base64::Engine as _;
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = engine.encode(
        br#"{"alg":"ES256","kid":"T5xYtJp0yQmC1uQ2Yx3QZ8mKpFv0f6b1Q4x2hL9o3aE","typ":"JWT"}"#,
    );
    format!("{header}.{}", engine.encode(CLAIMS)).into_bytes()
}

/// Calls `op` in batches until `duration` has passed (or [`MAX_ITERATIONS`]); answers calls
/// per second. Every call must succeed.
fn rate(duration: Duration, mut op: impl FnMut() -> bool) -> anyhow::Result<f64> {
    const BATCH: u64 = 32;
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < duration && done < MAX_ITERATIONS {
        for _ in 0..BATCH {
            if !op() {
                anyhow::bail!("a crypto operation failed");
            }
        }
        done += BATCH;
    }
    let seconds = start.elapsed().as_secs_f64();
    Some(done as f64 / seconds)
        .filter(|r| r.is_finite())
        .context("no time elapsed")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_signs_and_verifies() {
        for alg in Alg::ALL {
            let raw = raw_rates(alg, Duration::from_millis(5)).unwrap();
            let jose = jose_rates(alg, Duration::from_millis(5)).unwrap();
            assert!(raw.sign > 0.0 && raw.verify > 0.0 && jose.sign > 0.0 && jose.verify > 0.0);
        }
    }
}
