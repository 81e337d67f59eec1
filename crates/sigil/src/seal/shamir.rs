//! Shamir secret sharing of the 256-bit root key over GF(256) (vsss-rs, constant time).
//! A share is one identifier byte followed by 32 bytes; it travels as standard base64.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sigil_jose::Secret;
use subtle::ConstantTimeEq;
use vsss_rs::Gf256;
use zeroize::Zeroize;

/// Length of the root key in bytes.
pub const ROOT_KEY_LEN: usize = 32;
const SHARE_LEN: usize = ROOT_KEY_LEN + 1;

/// One unseal key share. Prints as `[redacted]`.
pub struct Share(Secret<Vec<u8>>);

/// Why shares could not be made or used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ShareRefused {
    /// `threshold` or `shares` out of range.
    #[error("{0}")]
    Parameters(&'static str),
    /// Not base64 or not the right length.
    #[error("is not an unseal key: expected base64 of {SHARE_LEN} bytes")]
    Malformed,
    /// The sharing library refused the shares.
    #[error("the shares cannot be combined")]
    Uncombinable,
}

impl Share {
    /// Decodes a base64 share as handed out by init.
    pub fn decode(text: &str) -> Result<Share, ShareRefused> {
        let mut bytes = STANDARD
            .decode(text.trim())
            .map_err(|_| ShareRefused::Malformed)?;
        if bytes.len() != SHARE_LEN || bytes[0] == 0 {
            bytes.zeroize();
            return Err(ShareRefused::Malformed);
        }
        Ok(Share(Secret::new(bytes)))
    }

    /// The base64 text to hand to an operator.
    pub fn encode(&self) -> String {
        STANDARD.encode(self.0.expose())
    }

    /// The share's identifier (its x coordinate), never 0.
    pub fn identifier(&self) -> u8 {
        self.0.expose()[0]
    }

    /// Constant-time equality of two shares.
    pub fn same_as(&self, other: &Share) -> bool {
        self.0.expose().ct_eq(other.0.expose()).into()
    }
}

impl std::fmt::Debug for Share {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Share([redacted])")
    }
}

/// Splits `secret` into `shares` shares of which any `threshold` recover it.
/// A threshold of 1 is the degree-0 polynomial: every share carries the secret.
pub fn split(
    secret: &Secret<[u8; ROOT_KEY_LEN]>,
    shares: u8,
    threshold: u8,
) -> Result<Vec<Share>, ShareRefused> {
    if shares == 0 || threshold == 0 || threshold > shares {
        return Err(ShareRefused::Parameters(
            "threshold must be between 1 and the number of shares",
        ));
    }
    if threshold == 1 {
        return Ok((1..=shares)
            .map(|id| {
                let mut bytes = Vec::with_capacity(SHARE_LEN);
                bytes.push(id);
                bytes.extend_from_slice(secret.expose());
                Share(Secret::new(bytes))
            })
            .collect());
    }
    let raw = Gf256::split_bytes(
        usize::from(threshold),
        usize::from(shares),
        secret.expose(),
        rand::rng(),
    )
    .map_err(|_| ShareRefused::Parameters("the shares could not be generated"))?;
    Ok(raw.into_iter().map(|b| Share(Secret::new(b))).collect())
}

/// Recombines shares (already deduplicated, at least the threshold) into the secret.
/// Wrong shares yield a wrong secret, which the caller detects by failing to open the data key.
pub fn combine(shares: &[Share]) -> Result<Secret<[u8; ROOT_KEY_LEN]>, ShareRefused> {
    let mut out = [0u8; ROOT_KEY_LEN];
    if let [only] = shares {
        out.copy_from_slice(&only.0.expose()[1..]);
        return Ok(Secret::new(out));
    }
    let mut raw: Vec<Vec<u8>> = shares.iter().map(|s| s.0.expose().clone()).collect();
    let combined = Gf256::combine_bytes(&raw);
    raw.iter_mut().for_each(Zeroize::zeroize);
    let mut combined = combined.map_err(|_| ShareRefused::Uncombinable)?;
    if combined.len() != ROOT_KEY_LEN {
        combined.zeroize();
        return Err(ShareRefused::Uncombinable);
    }
    out.copy_from_slice(&combined);
    combined.zeroize();
    Ok(Secret::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> Secret<[u8; ROOT_KEY_LEN]> {
        let mut bytes = [0u8; ROOT_KEY_LEN];
        bytes
            .iter_mut()
            .enumerate()
            .for_each(|(i, b)| *b = i as u8 * 7 + 1);
        Secret::new(bytes)
    }

    #[test]
    fn any_threshold_subset_recovers_the_secret() {
        let shares = split(&secret(), 5, 3).unwrap();
        assert_eq!(shares.len(), 5);
        let picked: Vec<Share> = [4, 0, 2]
            .iter()
            .map(|&i| Share::decode(&shares[i].encode()).unwrap())
            .collect();
        assert_eq!(combine(&picked).unwrap().expose(), secret().expose());
    }

    #[test]
    fn fewer_than_threshold_shares_give_a_different_secret() {
        let shares = split(&secret(), 5, 3).unwrap();
        let picked: Vec<Share> = shares.into_iter().take(2).collect();
        let result = combine(&picked).unwrap();
        assert_ne!(result.expose(), secret().expose());
    }

    #[test]
    fn a_single_share_of_one_carries_the_secret() {
        let shares = split(&secret(), 1, 1).unwrap();
        assert_eq!(combine(&shares).unwrap().expose(), secret().expose());
    }

    #[test]
    fn bad_parameters_are_refused() {
        assert!(split(&secret(), 3, 4).is_err());
        assert!(split(&secret(), 0, 0).is_err());
    }

    #[test]
    fn malformed_shares_are_refused() {
        assert_eq!(
            Share::decode("not base64!").unwrap_err(),
            ShareRefused::Malformed
        );
        assert_eq!(Share::decode("AAAA").unwrap_err(), ShareRefused::Malformed);
    }

    #[test]
    fn shares_never_print() {
        let shares = split(&secret(), 1, 1).unwrap();
        assert_eq!(format!("{:?}", shares[0]), "Share([redacted])");
    }
}
