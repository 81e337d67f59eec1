//! Unpadded base64url (RFC 7515 §2), strict: no `=`, no `+`/`/`, no stray trailing bits,
//! so one token has exactly one encoding and cannot be re-spelled to dodge a replay check.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::JoseError;

/// Encodes `bytes` as unpadded base64url.
pub(crate) fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Appends the unpadded base64url encoding of `bytes` to `out`.
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    URL_SAFE_NO_PAD.encode_string(bytes, out);
}

/// Decodes strict unpadded base64url; `what` names the part for the error.
pub(crate) fn decode(text: &str, what: &'static str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JoseError::Malformed(what))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_round_trips_encode() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(decode(&encode(&bytes), "x").unwrap(), bytes);
    }

    #[test]
    fn decode_rejects_padding() {
        assert_eq!(decode("YQ==", "seg"), Err(JoseError::Malformed("seg")));
        assert_eq!(decode("YQ", "seg").unwrap(), b"a");
    }

    #[test]
    fn decode_rejects_standard_alphabet() {
        assert!(decode("+/", "seg").is_err());
        assert_eq!(decode("-_8", "seg").unwrap(), [0xfb, 0xff]);
    }

    #[test]
    fn decode_rejects_non_canonical_trailing_bits() {
        // "YR" carries the same byte as "YQ" plus set padding bits.
        assert!(decode("YR", "seg").is_err());
    }
}
