//! The key types Sigil generates and signs with (DESIGN §4). Anything weaker is not a variant,
//! so a 1024-bit RSA or a P-192 signing key cannot be asked for.

use std::fmt;
use std::str::FromStr;

use aws_lc_rs::rsa::KeySize;
use aws_lc_rs::signature::{self, EcdsaSigningAlgorithm};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Algorithm;

/// A signing key type: curve or RSA modulus size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum KeyType {
    /// ECDSA on P-256 (ES256), the default.
    #[default]
    EcdsaP256,
    /// ECDSA on P-384 (ES384).
    EcdsaP384,
    /// ECDSA on P-521 (ES512).
    EcdsaP521,
    /// RSA with a 2048-bit modulus (RS256 or PS256).
    Rsa2048,
    /// RSA with a 3072-bit modulus (RS256 or PS256).
    Rsa3072,
    /// RSA with a 4096-bit modulus (RS256 or PS256).
    Rsa4096,
    /// Ed25519 (EdDSA).
    Ed25519,
}

impl KeyType {
    /// Every key type, in declaration order.
    pub const ALL: [KeyType; 7] = [
        KeyType::EcdsaP256,
        KeyType::EcdsaP384,
        KeyType::EcdsaP521,
        KeyType::Rsa2048,
        KeyType::Rsa3072,
        KeyType::Rsa4096,
        KeyType::Ed25519,
    ];

    /// The configuration name: `ecdsa-p256`, `rsa-2048`, `ed25519`, ...
    pub fn as_str(&self) -> &'static str {
        match self {
            KeyType::EcdsaP256 => "ecdsa-p256",
            KeyType::EcdsaP384 => "ecdsa-p384",
            KeyType::EcdsaP521 => "ecdsa-p521",
            KeyType::Rsa2048 => "rsa-2048",
            KeyType::Rsa3072 => "rsa-3072",
            KeyType::Rsa4096 => "rsa-4096",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// Parses a configuration name exactly; unknown names give `None`.
    pub fn parse(name: &str) -> Option<Self> {
        KeyType::ALL.into_iter().find(|kind| kind.as_str() == name)
    }

    /// The algorithm a key of this type signs with unless told otherwise.
    pub fn default_algorithm(&self) -> Algorithm {
        match self {
            KeyType::EcdsaP256 => Algorithm::Es256,
            KeyType::EcdsaP384 => Algorithm::Es384,
            KeyType::EcdsaP521 => Algorithm::Es512,
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => Algorithm::Rs256,
            KeyType::Ed25519 => Algorithm::EdDsa,
        }
    }

    /// Whether a signing key of this type may sign with `algorithm`.
    pub fn allows(&self, algorithm: Algorithm) -> bool {
        match self {
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
                matches!(algorithm, Algorithm::Rs256 | Algorithm::Ps256)
            }
            KeyType::EcdsaP256 | KeyType::EcdsaP384 | KeyType::EcdsaP521 | KeyType::Ed25519 => {
                algorithm == self.default_algorithm()
            }
        }
    }

    /// How aws-lc-rs builds a key of this type.
    pub(crate) fn family(self) -> KeyFamily {
        match self {
            KeyType::EcdsaP256 => KeyFamily::Ecdsa(&signature::ECDSA_P256_SHA256_FIXED_SIGNING),
            KeyType::EcdsaP384 => KeyFamily::Ecdsa(&signature::ECDSA_P384_SHA384_FIXED_SIGNING),
            KeyType::EcdsaP521 => KeyFamily::Ecdsa(&signature::ECDSA_P521_SHA512_FIXED_SIGNING),
            KeyType::Rsa2048 => KeyFamily::Rsa(KeySize::Rsa2048),
            KeyType::Rsa3072 => KeyFamily::Rsa(KeySize::Rsa3072),
            KeyType::Rsa4096 => KeyFamily::Rsa(KeySize::Rsa4096),
            KeyType::Ed25519 => KeyFamily::Ed25519,
        }
    }
}

/// The aws-lc-rs parameters behind a [`KeyType`].
pub(crate) enum KeyFamily {
    /// ECDSA with its fixed-width (JWS) signing algorithm.
    Ecdsa(&'static EcdsaSigningAlgorithm),
    /// RSA with its modulus size.
    Rsa(KeySize),
    /// Ed25519.
    Ed25519,
}

impl fmt::Display for KeyType {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

impl FromStr for KeyType {
    type Err = crate::JoseError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        KeyType::parse(name).ok_or_else(|| crate::JoseError::UnsupportedKey(name.to_owned()))
    }
}

impl Serialize for KeyType {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for KeyType {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        KeyType::parse(&name).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "unsupported key type {name:?}; expected one of ecdsa-p256, ecdsa-p384, \
                 ecdsa-p521, rsa-2048, rsa-3072, rsa-4096, ed25519"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_default_is_p256() {
        for kind in KeyType::ALL {
            assert_eq!(KeyType::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(KeyType::default(), KeyType::EcdsaP256);
        assert_eq!(KeyType::parse("rsa-1024"), None);
        assert_eq!(KeyType::parse("RSA-2048"), None);
    }

    #[test]
    fn default_algorithms_follow_the_design() {
        let expected = [
            (KeyType::EcdsaP256, Algorithm::Es256),
            (KeyType::EcdsaP384, Algorithm::Es384),
            (KeyType::EcdsaP521, Algorithm::Es512),
            (KeyType::Rsa2048, Algorithm::Rs256),
            (KeyType::Rsa3072, Algorithm::Rs256),
            (KeyType::Rsa4096, Algorithm::Rs256),
            (KeyType::Ed25519, Algorithm::EdDsa),
        ];
        for (kind, algorithm) in expected {
            assert_eq!(kind.default_algorithm(), algorithm);
            assert!(kind.allows(algorithm));
        }
    }

    #[test]
    fn rsa_signs_with_rs256_or_ps256_only() {
        let allowed: Vec<Algorithm> = Algorithm::ALL
            .into_iter()
            .filter(|algorithm| KeyType::Rsa3072.allows(*algorithm))
            .collect();
        assert_eq!(allowed, [Algorithm::Rs256, Algorithm::Ps256]);
        assert!(!KeyType::EcdsaP256.allows(Algorithm::Es384));
        assert!(!KeyType::Ed25519.allows(Algorithm::Es256));
    }

    #[test]
    fn serde_uses_the_configuration_name() {
        assert_eq!(
            serde_json::to_string(&KeyType::Rsa4096).unwrap(),
            "\"rsa-4096\""
        );
        let parsed: KeyType = serde_json::from_str("\"ecdsa-p521\"").unwrap();
        assert_eq!(parsed, KeyType::EcdsaP521);
        assert!(serde_json::from_str::<KeyType>("\"rsa-1024\"").is_err());
    }
}
