//! Compact JWS tokens: `UnverifiedToken` is what a token claims before its signature is checked
//! (enough to route: issuer, kid, alg); only `UnverifiedToken::verify` makes a `VerifiedToken`.
//! Parsing is strict: size first, exact segments, canonical base64url, no duplicate members.

use std::fmt;

use serde_json::{Map, Value};

use crate::{Algorithm, Header, JoseError, VerifyingKey, b64, strict_json};

/// A structurally valid token whose signature has not been checked. Nothing read from it may
/// be trusted; use it only to choose the key that will verify it.
pub struct UnverifiedToken<'a> {
    header: Header,
    signing_input: &'a str,
    signature: Vec<u8>,
    unverified_claims: Map<String, Value>,
}

/// A token whose signature verified. Its claims still need time and audience checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    header: Header,
    claims: Map<String, Value>,
}

impl<'a> UnverifiedToken<'a> {
    /// Parses a compact JWS. `max_len` is checked before any decoding. Refuses JWE, padding
    /// and non-base64url, non-object header or payload, duplicate JSON members at any depth,
    /// `alg` `none`/`HS*`/unknown, any `crit`, and unencoded payloads (`b64: false`).
    pub fn parse(token: &'a str, max_len: usize) -> Result<UnverifiedToken<'a>, JoseError> {
        if token.len() > max_len {
            return Err(JoseError::TokenTooLarge {
                size: token.len(),
                limit: max_len,
            });
        }
        match token.bytes().filter(|byte| *byte == b'.').count() {
            2 => {}
            4 => return Err(JoseError::Malformed("JWE not supported")),
            _ => return Err(JoseError::Malformed("token must have three segments")),
        }
        let (signing_input, signature_b64) = token
            .rsplit_once('.')
            .ok_or(JoseError::Malformed("token must have three segments"))?;
        let (header_b64, payload_b64) = signing_input
            .split_once('.')
            .ok_or(JoseError::Malformed("token must have three segments"))?;

        let header_json = b64::decode(header_b64, "header is not base64url")?;
        let header = Header::from_map(strict_json::parse_object(
            &header_json,
            "header is not a JSON object",
        )?)?;
        let payload_json = b64::decode(payload_b64, "payload is not base64url")?;
        let unverified_claims =
            strict_json::parse_object(&payload_json, "payload is not a JSON object")?;
        let signature = b64::decode(signature_b64, "signature is not base64url")?;
        if signature.is_empty() {
            return Err(JoseError::Malformed("signature is empty"));
        }
        Ok(UnverifiedToken {
            header,
            signing_input,
            signature,
            unverified_claims,
        })
    }

    /// The validated header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The claims, unverified: for routing only.
    pub fn unverified_claims(&self) -> &Map<String, Value> {
        &self.unverified_claims
    }

    /// The `iss` claim if it is a string, unverified: for choosing the trusted issuer only.
    pub fn unverified_issuer(&self) -> Option<&str> {
        self.unverified_claims.get("iss").and_then(Value::as_str)
    }

    /// The header's `kid`, unverified: for choosing the key only.
    pub fn unverified_kid(&self) -> Option<&str> {
        self.header.kid.as_deref()
    }

    /// The header's algorithm; `verify` checks it against the key.
    pub fn algorithm(&self) -> Algorithm {
        self.header.alg
    }

    /// Verifies the signature over `header.payload` with `key`. The header's algorithm must be
    /// one the key allows (`AlgorithmKeyMismatch` otherwise). Borrowing lets a caller try
    /// several keys when the token names no `kid`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<VerifiedToken, JoseError> {
        key.verify(
            self.header.alg,
            self.signing_input.as_bytes(),
            &self.signature,
        )?;
        Ok(VerifiedToken {
            header: self.header.clone(),
            claims: self.unverified_claims.clone(),
        })
    }
}

impl fmt::Debug for UnverifiedToken<'_> {
    /// Leaves the signature out: with it, the debug output would be a usable bearer token.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("UnverifiedToken")
            .field("header", &self.header)
            .field("unverified_claims", &self.unverified_claims)
            .finish_non_exhaustive()
    }
}

impl VerifiedToken {
    /// The verified claims.
    pub fn claims(&self) -> &Map<String, Value> {
        &self.claims
    }

    /// The verified header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The verified claims, by value.
    pub fn into_claims(self) -> Map<String, Value> {
        self.claims
    }
}

#[cfg(test)]
mod tests;
