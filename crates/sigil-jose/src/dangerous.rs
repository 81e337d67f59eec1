//! Reading a token without checking it, for the offline `sigil decode` command only. Nothing
//! returned here is verified; the `insecure_` prefix is there so that reviews catch misuse.

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::Value;

use crate::JoseError;

/// The largest token `insecure_decode` looks at: 64 KiB.
pub const INSECURE_DECODE_MAX_LEN: usize = 64 * 1024;

/// Lenient base64url: padding optional, stray trailing bits tolerated.
const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Decodes a compact JWS's header and claims WITHOUT verifying anything: no signature, no
/// algorithm, no time or duplicate checks. For displaying a token to a human, never for
/// deciding anything. Refuses tokens over 64 KiB, JWE, and segments that are not JSON.
pub fn insecure_decode(token: &str) -> Result<(Value, Value), JoseError> {
    let token = token.trim();
    if token.len() > INSECURE_DECODE_MAX_LEN {
        return Err(JoseError::TokenTooLarge {
            size: token.len(),
            limit: INSECURE_DECODE_MAX_LEN,
        });
    }
    let segments: Vec<&str> = token.split('.').collect();
    let (header, payload) = match segments.as_slice() {
        [header, payload, _signature] => (*header, *payload),
        [_, _, _, _, _] => return Err(JoseError::Malformed("JWE not supported")),
        _ => return Err(JoseError::Malformed("token must have three segments")),
    };
    Ok((
        decode_json(header, "header is not base64url JSON")?,
        decode_json(payload, "payload is not base64url JSON")?,
    ))
}

fn decode_json(segment: &str, what: &'static str) -> Result<Value, JoseError> {
    let bytes = LENIENT
        .decode(segment)
        .map_err(|_| JoseError::Malformed(what))?;
    serde_json::from_slice(&bytes).map_err(|_| JoseError::Malformed(what))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn decodes_header_and_claims_without_a_valid_signature() {
        let token = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIiwic3ViIjoiYiJ9.";
        let (header, claims) = insecure_decode(token).unwrap();
        assert_eq!(header, json!({"alg": "none"}));
        // Tolerant: serde_json keeps the last duplicate.
        assert_eq!(claims, json!({"sub": "b"}));
    }

    #[test]
    fn tolerates_padding_and_surrounding_whitespace() {
        let token = " eyJhbGciOiJFUzI1NiJ9.eyJhIjoxfQ==.c2ln\n";
        let (header, claims) = insecure_decode(token).unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(claims, json!({"a": 1}));
    }

    #[test]
    fn refuses_oversized_tokens() {
        let token = format!("e30.{}.x", "A".repeat(INSECURE_DECODE_MAX_LEN));
        assert!(matches!(
            insecure_decode(&token),
            Err(JoseError::TokenTooLarge {
                limit: INSECURE_DECODE_MAX_LEN,
                ..
            })
        ));
    }

    #[test]
    fn refuses_jwe_and_wrong_segment_counts() {
        assert_eq!(
            insecure_decode("a.b.c.d.e"),
            Err(JoseError::Malformed("JWE not supported"))
        );
        assert_eq!(
            insecure_decode("e30.e30"),
            Err(JoseError::Malformed("token must have three segments"))
        );
        assert_eq!(
            insecure_decode("e30.bm90IGpzb24.x"),
            Err(JoseError::Malformed("payload is not base64url JSON"))
        );
    }
}
