//! Hostile tokens and keys against the crate's public API, one module per attack class. Each
//! case asserts the exact `JoseError` and runs under `catch_unwind`, so a panic is a failure that
//! names its case. Keys that sign arbitrary headers are raw aws-lc-rs pairs loaded from the same
//! PKCS#8 as a `SigningKey`, because `SigningKey` only signs its own header.

mod algorithm_selection;
mod header_parameters;
mod key_ingestion;
mod signature_encoding;
mod token_syntax;

use std::fmt::Debug;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING,
    ECDSA_P521_SHA512_FIXED_SIGNING, EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaKeyPair,
};
use serde_json::{Value, json};
use sigil_jose::{Algorithm, JoseError, KeyType, SigningKey, UnverifiedToken, VerifyingKey};

use crate::support::{MAX_TOKEN, encode};

/// A P-256 key signing ES256.
pub static P256: LazyLock<TestKey> =
    LazyLock::new(|| TestKey::generate(KeyType::EcdsaP256, Algorithm::Es256));
/// A P-384 key signing ES384.
pub static P384: LazyLock<TestKey> =
    LazyLock::new(|| TestKey::generate(KeyType::EcdsaP384, Algorithm::Es384));
/// A P-521 key signing ES512.
pub static P521: LazyLock<TestKey> =
    LazyLock::new(|| TestKey::generate(KeyType::EcdsaP521, Algorithm::Es512));
/// An RSA-2048 key signing RS256 (its public JWK pins `alg: RS256`).
pub static RSA: LazyLock<TestKey> =
    LazyLock::new(|| TestKey::generate(KeyType::Rsa2048, Algorithm::Rs256));
/// An Ed25519 key.
pub static ED25519: LazyLock<TestKey> =
    LazyLock::new(|| TestKey::generate(KeyType::Ed25519, Algorithm::EdDsa));
/// A second P-256 key: the attacker's.
pub static ATTACKER_P256: LazyLock<TestKey> =
    LazyLock::new(|| TestKey::generate(KeyType::EcdsaP256, Algorithm::Es256));
/// A second RSA-2048 key: the attacker's.
pub static ATTACKER_RSA: LazyLock<TestKey> =
    LazyLock::new(|| TestKey::generate(KeyType::Rsa2048, Algorithm::Rs256));
/// A second Ed25519 key: the attacker's.
pub static ATTACKER_ED25519: LazyLock<TestKey> =
    LazyLock::new(|| TestKey::generate(KeyType::Ed25519, Algorithm::EdDsa));

/// A generated key that can sign any signing input, and the `SigningKey` it also loads as.
pub struct TestKey {
    pub signing: SigningKey,
    pub pkcs8: Vec<u8>,
    raw: RawPair,
}

enum RawPair {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

impl TestKey {
    pub fn generate(key_type: KeyType, algorithm: Algorithm) -> TestKey {
        let (signing, der) = SigningKey::generate(key_type, algorithm).unwrap();
        let pkcs8 = der.expose().clone();
        let raw = match key_type {
            KeyType::EcdsaP256 => RawPair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8).unwrap(),
            ),
            KeyType::EcdsaP384 => RawPair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P384_SHA384_FIXED_SIGNING, &pkcs8).unwrap(),
            ),
            KeyType::EcdsaP521 => RawPair::Ecdsa(
                EcdsaKeyPair::from_pkcs8(&ECDSA_P521_SHA512_FIXED_SIGNING, &pkcs8).unwrap(),
            ),
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
                RawPair::Rsa(RsaKeyPair::from_pkcs8(&pkcs8).unwrap())
            }
            KeyType::Ed25519 => RawPair::Ed25519(Ed25519KeyPair::from_pkcs8(&pkcs8).unwrap()),
        };
        TestKey {
            signing,
            pkcs8,
            raw,
        }
    }

    pub fn kid(&self) -> &str {
        self.signing.kid()
    }

    /// The verifying key Sigil publishes for this key: pinned to its algorithm.
    pub fn verifying_key(&self) -> VerifyingKey {
        VerifyingKey::from_jwk(self.signing.public_jwk()).unwrap()
    }

    /// The same public key imported from a JWK without `alg`, as many JWKS publish it.
    pub fn unpinned_verifying_key(&self) -> VerifyingKey {
        let mut jwk = self.signing.public_jwk().clone();
        jwk.alg = None;
        VerifyingKey::from_jwk(&jwk).unwrap()
    }

    /// The raw public key: SEC1 uncompressed point, PKCS#1 `RSAPublicKey`, or Ed25519 bytes.
    pub fn raw_public_key(&self) -> Vec<u8> {
        match &self.raw {
            RawPair::Ecdsa(pair) => pair.public_key().as_ref().to_vec(),
            RawPair::Rsa(pair) => pair.public_key().as_ref().to_vec(),
            RawPair::Ed25519(pair) => pair.public_key().as_ref().to_vec(),
        }
    }

    /// The X.509 `SubjectPublicKeyInfo` DER of the public key.
    pub fn spki_der(&self) -> Vec<u8> {
        use aws_lc_rs::encoding::{AsDer, PublicKeyX509Der};
        let der: PublicKeyX509Der<'static> = match &self.raw {
            RawPair::Ecdsa(pair) => pair.public_key().as_der().unwrap(),
            RawPair::Rsa(pair) => pair.public_key().as_der().unwrap(),
            RawPair::Ed25519(pair) => pair.public_key().as_der().unwrap(),
        };
        der.as_ref().to_vec()
    }

    /// Signs `signing_input` with `algorithm`'s padding (RSA) or the key's own scheme.
    pub fn sign_raw(&self, algorithm: Algorithm, signing_input: &[u8]) -> Vec<u8> {
        let random = SystemRandom::new();
        match &self.raw {
            RawPair::Ecdsa(pair) => pair.sign(&random, signing_input).unwrap().as_ref().to_vec(),
            RawPair::Rsa(pair) => {
                use aws_lc_rs::signature::{
                    RSA_PKCS1_SHA256, RSA_PKCS1_SHA384, RSA_PKCS1_SHA512, RSA_PSS_SHA256,
                    RSA_PSS_SHA384, RSA_PSS_SHA512, RsaEncoding,
                };
                let encoding: &'static dyn RsaEncoding = match algorithm {
                    Algorithm::Rs384 => &RSA_PKCS1_SHA384,
                    Algorithm::Rs512 => &RSA_PKCS1_SHA512,
                    Algorithm::Ps256 => &RSA_PSS_SHA256,
                    Algorithm::Ps384 => &RSA_PSS_SHA384,
                    Algorithm::Ps512 => &RSA_PSS_SHA512,
                    _ => &RSA_PKCS1_SHA256,
                };
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(encoding, &random, signing_input, &mut signature)
                    .unwrap();
                signature
            }
            RawPair::Ed25519(pair) => pair.sign(signing_input).as_ref().to_vec(),
        }
    }

    /// A token under an arbitrary `header`, signed with this key (RSA padding from the
    /// header's `alg` when it names one, RS256 otherwise).
    pub fn token(&self, header: &Value, claims: &Value) -> String {
        let algorithm = header["alg"]
            .as_str()
            .and_then(Algorithm::parse)
            .unwrap_or(self.signing.algorithm());
        self.token_signed_as(algorithm, header, claims)
    }

    /// A token under `header` whose signature uses `algorithm`, whatever the header says.
    pub fn token_signed_as(&self, algorithm: Algorithm, header: &Value, claims: &Value) -> String {
        let signing_input = signing_input(header, claims);
        let signature = self.sign_raw(algorithm, signing_input.as_bytes());
        format!("{signing_input}.{}", encode(&signature))
    }
}

/// `BASE64URL(header) . BASE64URL(claims)` of two JSON values.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!(
        "{}.{}",
        encode(&serde_json::to_vec(header).unwrap()),
        encode(&serde_json::to_vec(claims).unwrap())
    )
}

/// Bytes from a hex string.
pub fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|at| u8::from_str_radix(&text[at..at + 2], 16).unwrap())
        .collect()
}

/// Claims that would pass any time check; the attacks are elsewhere.
pub fn claims() -> Value {
    json!({"iss": "https://issuer.example", "sub": "admin", "exp": 4_102_444_800_i64})
}

/// Parses `token` with the tests' size limit, keeping only the outcome.
pub fn parsed(token: &str) -> Result<(), JoseError> {
    UnverifiedToken::parse(token, MAX_TOKEN).map(|_| ())
}

/// Parses and verifies `token` with `key`, keeping only the outcome.
pub fn verified(token: &str, key: &VerifyingKey) -> Result<(), JoseError> {
    UnverifiedToken::parse(token, MAX_TOKEN)?
        .verify(key)
        .map(|_| ())
}

/// A table of cases for one failure mode. Every case runs, even after one fails or panics;
/// `finish` reports them all.
pub struct Cases {
    mode: &'static str,
    count: usize,
    failures: Vec<String>,
}

impl Cases {
    pub fn new(mode: &'static str) -> Cases {
        Cases {
            mode,
            count: 0,
            failures: Vec::new(),
        }
    }

    /// Runs `run` and checks that it returns exactly `expected`, without panicking.
    pub fn expect<T: PartialEq + Debug>(
        &mut self,
        case: impl AsRef<str>,
        expected: T,
        run: impl FnOnce() -> T,
    ) {
        self.count += 1;
        let case = case.as_ref();
        match catch_unwind(AssertUnwindSafe(run)) {
            Ok(actual) if actual == expected => {}
            Ok(actual) => self
                .failures
                .push(format!("{case}: expected {expected:?}, got {actual:?}")),
            Err(_) => self.failures.push(format!("{case}: panicked")),
        }
    }

    /// Fails the test listing every failed case.
    pub fn finish(self) {
        eprintln!("cases: {} {}", self.mode, self.count);
        assert!(
            self.failures.is_empty(),
            "{}: {} of {} cases failed:\n{}",
            self.mode,
            self.failures.len(),
            self.count,
            self.failures.join("\n")
        );
    }
}
