//! The one error type of this crate. Each variant names a fact about the input or the key,
//! so callers map them to responses without parsing messages; none carries key material.

/// Everything that can go wrong while parsing, signing, verifying or sealing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoseError {
    /// The input is not well-formed; the text says which part (never the input itself).
    #[error("malformed input: {0}")]
    Malformed(&'static str),

    /// The token is longer than the caller's limit; nothing was decoded.
    #[error("token is {size} bytes, above the limit of {limit}")]
    TokenTooLarge {
        /// Length of the token in bytes.
        size: usize,
        /// The limit it exceeded.
        limit: usize,
    },

    /// The algorithm is one this crate refuses on principle: `none` and the HMAC family.
    #[error("algorithm is not allowed")]
    AlgorithmNotAllowed,

    /// The algorithm name is not one this crate knows.
    #[error("unknown algorithm {0:?}")]
    UnknownAlgorithm(String),

    /// The algorithm does not belong to the key (wrong family, curve or pinned `alg`).
    #[error("algorithm does not match the key")]
    AlgorithmKeyMismatch,

    /// The signature does not verify under the key.
    #[error("signature is invalid")]
    SignatureInvalid,

    /// The header lists a `crit` extension this crate does not understand.
    #[error("unsupported critical header parameter {0:?}")]
    UnsupportedCritical(String),

    /// A JSON object names the same member twice; parsers disagree on which one wins.
    #[error("duplicate JSON member {0:?}")]
    DuplicateMember(String),

    /// The key material was refused by the crypto library or by a sanity check.
    #[error("key rejected: {0}")]
    KeyRejected(String),

    /// The RSA modulus is shorter than 2048 bits.
    #[error("RSA key of {bits} bits is too weak")]
    WeakRsaKey {
        /// Modulus length in bits.
        bits: usize,
    },

    /// The key type or curve is not one this crate verifies with (`oct`, `X25519`, ...).
    #[error("unsupported key: {0}")]
    UnsupportedKey(String),

    /// The JWK says it is not for verifying signatures (`use` or `key_ops`).
    #[error("key is not meant for signatures: {0}")]
    KeyNotForSignatures(&'static str),

    /// A public JWK carries private members (`d`, `p`, `q`, `k`, ...).
    #[error("JWK carries private key members")]
    PrivateMembersPresent,

    /// A sealed blob could not be opened: wrong key, wrong associated data, tampered or cut.
    #[error("sealed data could not be opened")]
    SealOpenFailed,

    /// The crypto library failed where it should not (randomness, key generation, encoding).
    #[error("crypto operation failed: {0}")]
    CryptoFailed(&'static str),

    /// A claim the rules require is absent.
    #[error("claim {0:?} is missing")]
    ClaimMissing(&'static str),

    /// A claim has the wrong JSON type (`exp` as a string, ...).
    #[error("claim {0:?} has the wrong type")]
    ClaimWrongType(&'static str),

    /// A time claim is negative or absurdly far in the future.
    #[error("claim {0:?} is out of range")]
    ClaimOutOfRange(&'static str),

    /// `exp` has passed (with leeway).
    #[error("token has expired")]
    Expired,

    /// `nbf` is still in the future (with leeway).
    #[error("token is not valid yet")]
    NotYetValid,

    /// `iat` is in the future (with leeway).
    #[error("token was issued in the future")]
    IssuedInFuture,

    /// `iat` is older than the caller's maximum token age (with leeway).
    #[error("token is older than the maximum age")]
    TooOld,
}

impl From<aws_lc_rs::error::KeyRejected> for JoseError {
    fn from(rejected: aws_lc_rs::error::KeyRejected) -> Self {
        JoseError::KeyRejected(rejected.description_().to_owned())
    }
}
