//! JWS algorithms (RFC 7518 §3, RFC 8037 §3.1). Only asymmetric ones exist here: `none` and
//! `HS*` cannot even be named, so no code path can verify with a public key used as a secret.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::signature::{self, VerificationAlgorithm};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::JoseError;

/// An asymmetric JWS signature algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// ECDSA on P-521 with SHA-512.
    Es512,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256 and MGF1 SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384 and MGF1 SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512 and MGF1 SHA-512.
    Ps512,
    /// EdDSA; this crate supports the Ed25519 curve only.
    EdDsa,
}

impl Algorithm {
    /// Every algorithm, in declaration order.
    pub const ALL: [Algorithm; 10] = [
        Algorithm::Es256,
        Algorithm::Es384,
        Algorithm::Es512,
        Algorithm::Rs256,
        Algorithm::Rs384,
        Algorithm::Rs512,
        Algorithm::Ps256,
        Algorithm::Ps384,
        Algorithm::Ps512,
        Algorithm::EdDsa,
    ];

    /// The JOSE name, as it appears in `alg`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Algorithm::Es256 => "ES256",
            Algorithm::Es384 => "ES384",
            Algorithm::Es512 => "ES512",
            Algorithm::Rs256 => "RS256",
            Algorithm::Rs384 => "RS384",
            Algorithm::Rs512 => "RS512",
            Algorithm::Ps256 => "PS256",
            Algorithm::Ps384 => "PS384",
            Algorithm::Ps512 => "PS512",
            Algorithm::EdDsa => "EdDSA",
        }
    }

    /// Parses a JOSE name exactly (case-sensitive); `none`, `HS256` and unknown names give `None`.
    pub fn parse(name: &str) -> Option<Self> {
        Algorithm::ALL
            .into_iter()
            .find(|algorithm| algorithm.as_str() == name)
    }

    /// Parses an `alg` value, telling refused algorithms apart from unknown ones.
    pub(crate) fn from_header_value(name: &str) -> Result<Self, JoseError> {
        if let Some(algorithm) = Algorithm::parse(name) {
            return Ok(algorithm);
        }
        if name.eq_ignore_ascii_case("none") || name.starts_with("HS") {
            return Err(JoseError::AlgorithmNotAllowed);
        }
        Err(JoseError::UnknownAlgorithm(name.chars().take(32).collect()))
    }

    /// The aws-lc-rs verification algorithm; ECDSA uses the fixed-width (r || s) form of JWS.
    pub(crate) fn verification(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Algorithm::Es256 => &signature::ECDSA_P256_SHA256_FIXED,
            Algorithm::Es384 => &signature::ECDSA_P384_SHA384_FIXED,
            Algorithm::Es512 => &signature::ECDSA_P521_SHA512_FIXED,
            Algorithm::Rs256 => &signature::RSA_PKCS1_2048_8192_SHA256,
            Algorithm::Rs384 => &signature::RSA_PKCS1_2048_8192_SHA384,
            Algorithm::Rs512 => &signature::RSA_PKCS1_2048_8192_SHA512,
            Algorithm::Ps256 => &signature::RSA_PSS_2048_8192_SHA256,
            Algorithm::Ps384 => &signature::RSA_PSS_2048_8192_SHA384,
            Algorithm::Ps512 => &signature::RSA_PSS_2048_8192_SHA512,
            Algorithm::EdDsa => &signature::ED25519,
        }
    }

    /// The RSA verification parameters, for RSA algorithms only.
    pub(crate) fn rsa_parameters(self) -> Option<&'static signature::RsaParameters> {
        match self {
            Algorithm::Rs256 => Some(&signature::RSA_PKCS1_2048_8192_SHA256),
            Algorithm::Rs384 => Some(&signature::RSA_PKCS1_2048_8192_SHA384),
            Algorithm::Rs512 => Some(&signature::RSA_PKCS1_2048_8192_SHA512),
            Algorithm::Ps256 => Some(&signature::RSA_PSS_2048_8192_SHA256),
            Algorithm::Ps384 => Some(&signature::RSA_PSS_2048_8192_SHA384),
            Algorithm::Ps512 => Some(&signature::RSA_PSS_2048_8192_SHA512),
            Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512 | Algorithm::EdDsa => None,
        }
    }

    /// The RSA signing encoding, for RSA algorithms only.
    pub(crate) fn rsa_encoding(self) -> Option<&'static dyn signature::RsaEncoding> {
        match self {
            Algorithm::Rs256 => Some(&signature::RSA_PKCS1_SHA256),
            Algorithm::Rs384 => Some(&signature::RSA_PKCS1_SHA384),
            Algorithm::Rs512 => Some(&signature::RSA_PKCS1_SHA512),
            Algorithm::Ps256 => Some(&signature::RSA_PSS_SHA256),
            Algorithm::Ps384 => Some(&signature::RSA_PSS_SHA384),
            Algorithm::Ps512 => Some(&signature::RSA_PSS_SHA512),
            Algorithm::Es256 | Algorithm::Es384 | Algorithm::Es512 | Algorithm::EdDsa => None,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = JoseError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Algorithm::from_header_value(name)
    }
}

impl Serialize for Algorithm {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Algorithm {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        Algorithm::parse(&name)
            .ok_or_else(|| serde::de::Error::custom(format!("unsupported JWS algorithm {name:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_parse() {
        for algorithm in Algorithm::ALL {
            assert_eq!(Algorithm::parse(algorithm.as_str()), Some(algorithm));
            assert_eq!(algorithm.to_string(), algorithm.as_str());
        }
        assert_eq!(Algorithm::EdDsa.as_str(), "EdDSA");
    }

    #[test]
    fn parse_is_case_sensitive_and_refuses_symmetric_and_none() {
        assert_eq!(Algorithm::parse("es256"), None);
        assert_eq!(Algorithm::parse("EDDSA"), None);
        assert_eq!(Algorithm::parse("none"), None);
        assert_eq!(Algorithm::parse("HS256"), None);
    }

    #[test]
    fn from_str_tells_refused_from_unknown() {
        assert_eq!(
            "none".parse::<Algorithm>(),
            Err(JoseError::AlgorithmNotAllowed)
        );
        assert_eq!(
            "NONE".parse::<Algorithm>(),
            Err(JoseError::AlgorithmNotAllowed)
        );
        assert_eq!(
            "HS512".parse::<Algorithm>(),
            Err(JoseError::AlgorithmNotAllowed)
        );
        assert_eq!(
            "ES256K".parse::<Algorithm>(),
            Err(JoseError::UnknownAlgorithm("ES256K".into()))
        );
        assert_eq!("PS384".parse::<Algorithm>(), Ok(Algorithm::Ps384));
    }

    #[test]
    fn serde_uses_the_jose_name() {
        assert_eq!(
            serde_json::to_string(&Algorithm::Ps256).unwrap(),
            "\"PS256\""
        );
        let parsed: Algorithm = serde_json::from_str("\"EdDSA\"").unwrap();
        assert_eq!(parsed, Algorithm::EdDsa);
        assert!(serde_json::from_str::<Algorithm>("\"HS256\"").is_err());
    }
}
