//! A public key from a JWK, validated strictly and parsed once into aws-lc-rs
//! `ParsedPublicKey`s, one per algorithm it may verify, so no verification re-parses a key.
//! The algorithm a key allows comes from the key (and its pinned `alg`), never from a token.

use std::fmt;

use aws_lc_rs::signature::{ParsedPublicKey, RsaPublicKeyComponents};

use crate::{Algorithm, JoseError, Jwk, b64};

/// The RSA algorithms a key without a pinned `alg` may verify.
const RSA_ALGORITHMS: [Algorithm; 6] = [
    Algorithm::Rs256,
    Algorithm::Rs384,
    Algorithm::Rs512,
    Algorithm::Ps256,
    Algorithm::Ps384,
    Algorithm::Ps512,
];

/// Smallest RSA modulus accepted, in bits.
const RSA_MIN_BITS: usize = 2048;
/// Largest RSA modulus accepted, in bits; larger keys make verification a denial of service.
const RSA_MAX_BITS: usize = 8192;

/// A parsed public key that verifies JWS signatures.
#[derive(Clone)]
pub struct VerifyingKey {
    jwk: Jwk,
    keys: Vec<(Algorithm, ParsedPublicKey)>,
}

impl VerifyingKey {
    /// Builds a verifying key from a public JWK, refusing anything doubtful: private members,
    /// `oct` keys, `use` other than `sig`, `key_ops` without `verify`, unknown curves,
    /// coordinates of the wrong width or off the curve, RSA below 2048 bits or with an odd
    /// exponent. A present `alg` must fit the key and becomes the only algorithm allowed.
    pub fn from_jwk(jwk: &Jwk) -> Result<VerifyingKey, JoseError> {
        if jwk.has_private_members() {
            return Err(JoseError::PrivateMembersPresent);
        }
        if jwk.use_.as_deref().is_some_and(|usage| usage != "sig") {
            return Err(JoseError::KeyNotForSignatures("use is not \"sig\""));
        }
        if let Some(operations) = &jwk.key_ops
            && !operations.iter().any(|operation| operation == "verify")
        {
            return Err(JoseError::KeyNotForSignatures("key_ops lacks \"verify\""));
        }
        let pinned = jwk
            .alg
            .as_deref()
            .map(Algorithm::from_header_value)
            .transpose()?;
        let keys = match jwk.kty.as_str() {
            "EC" => ec_keys(jwk, pinned)?,
            "RSA" => rsa_keys(jwk, pinned)?,
            "OKP" => okp_keys(jwk, pinned)?,
            "oct" => {
                return Err(JoseError::UnsupportedKey(
                    "symmetric (oct) keys never verify here".into(),
                ));
            }
            other => return Err(JoseError::UnsupportedKey(format!("kty {}", short(other)))),
        };
        Ok(VerifyingKey {
            jwk: jwk.clone(),
            keys,
        })
    }

    /// The JWK's `kid`, if it has one.
    pub fn kid(&self) -> Option<&str> {
        self.jwk.kid.as_deref()
    }

    /// The JWK this key was built from.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Whether this key verifies `algorithm`: the curve's one algorithm for EC, EdDSA for
    /// Ed25519, RS*/PS* for RSA, or only the JWK's `alg` when it pins one.
    pub fn allows(&self, algorithm: Algorithm) -> bool {
        self.keys.iter().any(|(allowed, _)| *allowed == algorithm)
    }

    /// The algorithms this key verifies.
    pub fn algorithms(&self) -> impl Iterator<Item = Algorithm> + '_ {
        self.keys.iter().map(|(algorithm, _)| *algorithm)
    }

    /// Verifies `signature` over `signing_input` with `algorithm`, which must be allowed.
    pub fn verify(
        &self,
        algorithm: Algorithm,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<(), JoseError> {
        let (_, key) = self
            .keys
            .iter()
            .find(|(allowed, _)| *allowed == algorithm)
            .ok_or(JoseError::AlgorithmKeyMismatch)?;
        key.verify_sig(signing_input, signature)
            .map_err(|_| JoseError::SignatureInvalid)
    }
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let algorithms: Vec<Algorithm> = self.algorithms().collect();
        formatter
            .debug_struct("VerifyingKey")
            .field("kid", &self.jwk.kid)
            .field("kty", &self.jwk.kty)
            .field("crv", &self.jwk.crv)
            .field("algorithms", &algorithms)
            .finish()
    }
}

fn ec_keys(
    jwk: &Jwk,
    pinned: Option<Algorithm>,
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, JoseError> {
    let (algorithm, width) = match jwk.crv.as_deref() {
        Some("P-256") => (Algorithm::Es256, 32),
        Some("P-384") => (Algorithm::Es384, 48),
        Some("P-521") => (Algorithm::Es512, 66),
        Some(other) => {
            return Err(JoseError::UnsupportedKey(format!(
                "EC curve {}",
                short(other)
            )));
        }
        None => return Err(JoseError::Malformed("EC JWK has no crv")),
    };
    let algorithms = select(&[algorithm], pinned)?;
    let x = member(&jwk.x, "EC JWK x is missing or not base64url")?;
    let y = member(&jwk.y, "EC JWK y is missing or not base64url")?;
    // RFC 7518 §6.2.1.2: each coordinate is the full width of the curve's field.
    if x.len() != width || y.len() != width {
        return Err(JoseError::Malformed(
            "EC JWK coordinate has the wrong length",
        ));
    }
    let mut point = Vec::with_capacity(1 + 2 * width);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    parse_each(&algorithms, |algorithm| {
        ParsedPublicKey::new(algorithm.verification(), &point)
            .map_err(|_| JoseError::KeyRejected("EC point is not on the curve".into()))
    })
}

fn rsa_keys(
    jwk: &Jwk,
    pinned: Option<Algorithm>,
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, JoseError> {
    let algorithms = select(&RSA_ALGORITHMS, pinned)?;
    let modulus = member(&jwk.n, "RSA JWK n is missing or not base64url")?;
    let exponent = member(&jwk.e, "RSA JWK e is missing or not base64url")?;
    // Base64urlUInt forbids leading zeros (RFC 7518 §2), but some publishers emit one;
    // the value is unchanged by dropping them.
    let modulus = without_leading_zeros(&modulus);
    let exponent = without_leading_zeros(&exponent);
    let bits = match modulus.first() {
        Some(top) => modulus.len() * 8 - top.leading_zeros() as usize,
        None => return Err(JoseError::Malformed("RSA JWK n is zero")),
    };
    if bits < RSA_MIN_BITS {
        return Err(JoseError::WeakRsaKey { bits });
    }
    if bits > RSA_MAX_BITS {
        return Err(JoseError::KeyRejected(format!(
            "RSA modulus of {bits} bits is too large"
        )));
    }
    check_rsa_exponent(exponent)?;
    let components = RsaPublicKeyComponents {
        n: modulus,
        e: exponent,
    };
    parse_each(&algorithms, |algorithm| {
        let parameters = algorithm
            .rsa_parameters()
            .ok_or(JoseError::AlgorithmKeyMismatch)?;
        Ok(components.to_parsed_public_key(parameters)?)
    })
}

fn okp_keys(
    jwk: &Jwk,
    pinned: Option<Algorithm>,
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, JoseError> {
    match jwk.crv.as_deref() {
        Some("Ed25519") => {}
        Some(other) => {
            return Err(JoseError::UnsupportedKey(format!(
                "OKP curve {}",
                short(other)
            )));
        }
        None => return Err(JoseError::Malformed("OKP JWK has no crv")),
    }
    let algorithms = select(&[Algorithm::EdDsa], pinned)?;
    let x = member(&jwk.x, "OKP JWK x is missing or not base64url")?;
    let Ok(encoded) = <[u8; 32]>::try_from(x.as_slice()) else {
        return Err(JoseError::Malformed("Ed25519 JWK x is not 32 bytes"));
    };
    check_ed25519_point(&encoded)?;
    parse_each(&algorithms, |algorithm| {
        Ok(ParsedPublicKey::new(algorithm.verification(), &x)?)
    })
}

/// Refuses an Ed25519 public key that is not the canonical encoding of a curve point of large
/// order: with a small-order key (the identity, the all-zero encoding) a forged signature
/// `R = identity, S = 0` verifies for many or all messages, and aws-lc-rs does not refuse it.
fn check_ed25519_point(encoded: &[u8; 32]) -> Result<(), JoseError> {
    use curve25519_dalek::edwards::CompressedEdwardsY;
    let compressed = CompressedEdwardsY(*encoded);
    let point = compressed
        .decompress()
        .ok_or_else(|| JoseError::KeyRejected("Ed25519 x is not a curve point".into()))?;
    if point.compress() != compressed {
        return Err(JoseError::KeyRejected(
            "Ed25519 x is not canonically encoded".into(),
        ));
    }
    if point.is_small_order() {
        return Err(JoseError::KeyRejected(
            "Ed25519 x is a point of small order (a forgery key)".into(),
        ));
    }
    Ok(())
}

/// The key's algorithms, narrowed to the pinned one, which must be among them.
fn select(
    candidates: &[Algorithm],
    pinned: Option<Algorithm>,
) -> Result<Vec<Algorithm>, JoseError> {
    match pinned {
        None => Ok(candidates.to_vec()),
        Some(algorithm) if candidates.contains(&algorithm) => Ok(vec![algorithm]),
        Some(_) => Err(JoseError::AlgorithmKeyMismatch),
    }
}

fn parse_each(
    algorithms: &[Algorithm],
    parse: impl Fn(Algorithm) -> Result<ParsedPublicKey, JoseError>,
) -> Result<Vec<(Algorithm, ParsedPublicKey)>, JoseError> {
    algorithms
        .iter()
        .map(|algorithm| parse(*algorithm).map(|key| (*algorithm, key)))
        .collect()
}

/// A required base64url member, decoded.
fn member(value: &Option<String>, what: &'static str) -> Result<Vec<u8>, JoseError> {
    let text = value.as_deref().ok_or(JoseError::Malformed(what))?;
    b64::decode(text, what)
}

/// The exponent must be odd, at least 3 and below 2^33 (aws-lc-rs's own bound).
fn check_rsa_exponent(exponent: &[u8]) -> Result<(), JoseError> {
    if exponent.len() > 5 {
        return Err(JoseError::KeyRejected("RSA exponent is too large".into()));
    }
    let value = exponent
        .iter()
        .fold(0u64, |value, byte| (value << 8) | u64::from(*byte));
    if value < 3 || value % 2 == 0 || value >= 1 << 33 {
        return Err(JoseError::KeyRejected(
            "RSA exponent is not a sane odd value".into(),
        ));
    }
    Ok(())
}

fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|byte| *byte != 0)
        .unwrap_or(bytes.len());
    &bytes[start..]
}

/// Caps a name taken from untrusted input before it goes into an error message.
fn short(name: &str) -> String {
    format!("{:?}", name.chars().take(32).collect::<String>())
}

#[cfg(test)]
mod tests;
