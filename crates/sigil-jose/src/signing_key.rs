//! A private signing key, parsed once and kept parsed. Re-parsing PKCS#8 costs as much as the
//! signature itself (STACK.md), so everything that does not depend on the payload — the key
//! pair, the public JWK, the RFC 7638 kid and the base64url JWS header — is built here, once.

use std::fmt;

use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, RsaEncoding, RsaKeyPair};
use serde::Serialize;

use crate::key_type::KeyFamily;
use crate::{Algorithm, JoseError, Jwk, KeyType, Secret, VerifyingKey, b64};

/// A parsed private key that signs compact JWS with one algorithm.
pub struct SigningKey {
    pair: KeyPair,
    key_type: KeyType,
    algorithm: Algorithm,
    kid: String,
    public_jwk: Jwk,
    verifying_key: VerifyingKey,
    jwt_header_b64: String,
}

/// The aws-lc-rs key pair; RSA carries its padding, chosen once from the algorithm.
enum KeyPair {
    Ecdsa(EcdsaKeyPair),
    Rsa(RsaKeyPair, &'static dyn RsaEncoding),
    Ed25519(Ed25519KeyPair),
}

/// The protected header Sigil writes, in this member order.
#[derive(Serialize)]
struct HeaderOut<'a> {
    alg: &'a str,
    kid: &'a str,
    typ: &'a str,
}

impl SigningKey {
    /// Generates a key of `key_type` for `algorithm`. Returns it parsed, with its PKCS#8 DER
    /// (v1 for ECDSA and RSA, v2 for Ed25519) for the caller to seal and store.
    pub fn generate(
        key_type: KeyType,
        algorithm: Algorithm,
    ) -> Result<(SigningKey, Secret<Vec<u8>>), JoseError> {
        check_allowed(key_type, algorithm)?;
        let failed = |_| JoseError::CryptoFailed("key generation failed");
        let (pair, der) = match key_type.family() {
            KeyFamily::Ecdsa(signing) => {
                let pair = EcdsaKeyPair::generate(signing).map_err(failed)?;
                let der = pair.to_pkcs8v1().map_err(failed)?;
                let der = Secret::new(der.as_ref().to_vec());
                (KeyPair::Ecdsa(pair), der)
            }
            KeyFamily::Rsa(size) => {
                let pair = RsaKeyPair::generate(size).map_err(failed)?;
                let der =
                    AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&pair).map_err(failed)?;
                let der = Secret::new(der.as_ref().to_vec());
                (KeyPair::Rsa(pair, rsa_encoding(algorithm)?), der)
            }
            KeyFamily::Ed25519 => {
                let pair = Ed25519KeyPair::generate().map_err(failed)?;
                let der = pair.to_pkcs8().map_err(failed)?;
                let der = Secret::new(der.as_ref().to_vec());
                (KeyPair::Ed25519(pair), der)
            }
        };
        Ok((SigningKey::assemble(key_type, algorithm, pair)?, der))
    }

    /// Parses a PKCS#8 DER private key (v1 or v2) once, checking that it really is a
    /// `key_type` key: the same curve, or an RSA modulus of exactly that many bits.
    pub fn from_pkcs8(
        key_type: KeyType,
        algorithm: Algorithm,
        der: &[u8],
    ) -> Result<SigningKey, JoseError> {
        check_allowed(key_type, algorithm)?;
        let pair = match key_type.family() {
            KeyFamily::Ecdsa(signing) => KeyPair::Ecdsa(EcdsaKeyPair::from_pkcs8(signing, der)?),
            KeyFamily::Rsa(size) => {
                let pair = RsaKeyPair::from_pkcs8(der)?;
                if pair.public_modulus_len() != size.len() {
                    return Err(JoseError::KeyRejected(format!(
                        "RSA modulus of {} bits does not match {key_type}",
                        pair.public_modulus_len() * 8
                    )));
                }
                KeyPair::Rsa(pair, rsa_encoding(algorithm)?)
            }
            KeyFamily::Ed25519 => KeyPair::Ed25519(Ed25519KeyPair::from_pkcs8(der)?),
        };
        SigningKey::assemble(key_type, algorithm, pair)
    }

    /// The key id: the RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    /// The one algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    /// The public JWK to publish: with `kid`, `alg` and `use: "sig"`.
    pub fn public_jwk(&self) -> &Jwk {
        &self.public_jwk
    }

    /// A verifying key for this key's public half, pinned to its algorithm.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.verifying_key.clone()
    }

    /// Signs a JWT: `{"alg":..,"kid":..,"typ":"JWT"}` (cached) `.` payload `.` signature.
    /// `payload_json` must be a serialized JSON object; it is encoded, not inspected.
    pub fn sign_compact(&self, payload_json: &[u8]) -> Result<String, JoseError> {
        self.sign_with_header(&self.jwt_header_b64, payload_json)
    }

    /// Signs with another `typ`, such as `at+jwt` (RFC 9068 §2.1); the header is built per call.
    pub fn sign_compact_typed(&self, typ: &str, payload_json: &[u8]) -> Result<String, JoseError> {
        if typ == "JWT" {
            return self.sign_compact(payload_json);
        }
        let header = header_b64(self.algorithm, &self.kid, typ)?;
        self.sign_with_header(&header, payload_json)
    }

    fn assemble(
        key_type: KeyType,
        algorithm: Algorithm,
        pair: KeyPair,
    ) -> Result<SigningKey, JoseError> {
        let mut public_jwk = pair.public_jwk();
        let kid = public_jwk.thumbprint()?;
        public_jwk.kid = Some(kid.clone());
        public_jwk.alg = Some(algorithm.as_str().to_owned());
        public_jwk.use_ = Some("sig".to_owned());
        let verifying_key = VerifyingKey::from_jwk(&public_jwk)?;
        let jwt_header_b64 = header_b64(algorithm, &kid, "JWT")?;
        Ok(SigningKey {
            pair,
            key_type,
            algorithm,
            kid,
            public_jwk,
            verifying_key,
            jwt_header_b64,
        })
    }

    fn sign_with_header(&self, header_b64: &str, payload_json: &[u8]) -> Result<String, JoseError> {
        // Room for the payload and the longest signature (RSA-4096: 512 bytes) in base64url.
        let mut token = String::with_capacity(header_b64.len() + payload_json.len() * 4 / 3 + 700);
        token.push_str(header_b64);
        token.push('.');
        b64::encode_into(payload_json, &mut token);
        let signature = self.sign_raw(token.as_bytes())?;
        token.push('.');
        b64::encode_into(&signature, &mut token);
        Ok(token)
    }

    /// The raw JWS signature of `signing_input` (fixed-width r || s for ECDSA).
    pub(crate) fn sign_raw(&self, signing_input: &[u8]) -> Result<Vec<u8>, JoseError> {
        let failed = |_| JoseError::CryptoFailed("signing failed");
        match &self.pair {
            KeyPair::Ecdsa(pair) => pair
                .sign(&SystemRandom::new(), signing_input)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(failed),
            KeyPair::Rsa(pair, encoding) => {
                let mut signature = vec![0; pair.public_modulus_len()];
                pair.sign(
                    *encoding,
                    &SystemRandom::new(),
                    signing_input,
                    &mut signature,
                )
                .map_err(failed)?;
                Ok(signature)
            }
            KeyPair::Ed25519(pair) => pair
                .try_sign(signing_input)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(failed),
        }
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("algorithm", &self.algorithm)
            .field("key_type", &self.key_type)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// The public JWK members for this pair (no `kid`, `alg` or `use` yet).
    fn public_jwk(&self) -> Jwk {
        match self {
            KeyPair::Ecdsa(pair) => {
                // SEC1 uncompressed point: 0x04 || x || y, coordinates of equal width.
                let point = pair.public_key().as_ref();
                let coordinates = point.get(1..).unwrap_or_default();
                let (x, y) = coordinates.split_at(coordinates.len() / 2);
                let mut jwk = Jwk::new("EC");
                jwk.crv = Some(curve_name(x.len()).to_owned());
                jwk.x = Some(b64::encode(x));
                jwk.y = Some(b64::encode(y));
                jwk
            }
            KeyPair::Rsa(pair, _) => {
                let public = pair.public_key();
                let mut jwk = Jwk::new("RSA");
                jwk.n = Some(b64::encode(
                    public.modulus().big_endian_without_leading_zero(),
                ));
                jwk.e = Some(b64::encode(
                    public.exponent().big_endian_without_leading_zero(),
                ));
                jwk
            }
            KeyPair::Ed25519(pair) => {
                let mut jwk = Jwk::new("OKP");
                jwk.crv = Some("Ed25519".to_owned());
                jwk.x = Some(b64::encode(pair.public_key().as_ref()));
                jwk
            }
        }
    }
}

/// The JWK curve name for an ECDSA coordinate width.
fn curve_name(width: usize) -> &'static str {
    match width {
        32 => "P-256",
        48 => "P-384",
        // Anything else fails VerifyingKey::from_jwk in `assemble`, so no key is built.
        _ => "P-521",
    }
}

fn check_allowed(key_type: KeyType, algorithm: Algorithm) -> Result<(), JoseError> {
    if key_type.allows(algorithm) {
        Ok(())
    } else {
        Err(JoseError::AlgorithmKeyMismatch)
    }
}

fn rsa_encoding(algorithm: Algorithm) -> Result<&'static dyn RsaEncoding, JoseError> {
    algorithm
        .rsa_encoding()
        .ok_or(JoseError::AlgorithmKeyMismatch)
}

fn header_b64(algorithm: Algorithm, kid: &str, typ: &str) -> Result<String, JoseError> {
    let header = HeaderOut {
        alg: algorithm.as_str(),
        kid,
        typ,
    };
    let json = serde_json::to_vec(&header)
        .map_err(|_| JoseError::Malformed("header cannot be serialized"))?;
    Ok(b64::encode(&json))
}

#[cfg(test)]
mod tests;
