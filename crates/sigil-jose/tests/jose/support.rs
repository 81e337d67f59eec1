//! Helpers shared by the integration tests: base64url, token surgery and claims.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

/// Token size limit used throughout the tests.
pub const MAX_TOKEN: usize = 16 * 1024;

pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

pub fn decode(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).unwrap()
}

pub fn now() -> i64 {
    let elapsed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap();
    i64::try_from(elapsed.as_secs()).unwrap()
}

pub fn claims() -> Value {
    json!({
        "iss": "https://sigil.example/jwt/payments",
        "sub": "deployer",
        "aud_hint": ["a", "b"],
        "iat": now(),
        "exp": now() + 600,
    })
}

/// The three segments of a compact token.
pub fn segments(token: &str) -> [String; 3] {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a compact JWS: {token}");
    [parts[0].into(), parts[1].into(), parts[2].into()]
}

/// Rewrites the header JSON of `token`, keeping payload and signature.
pub fn with_header(token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let [header, payload, signature] = segments(token);
    let mut header: Value = serde_json::from_slice(&decode(&header)).unwrap();
    edit(&mut header);
    let header = encode(&serde_json::to_vec(&header).unwrap());
    format!("{header}.{payload}.{signature}")
}

/// Replaces the payload of `token`, keeping header and signature.
pub fn with_payload(token: &str, payload: &Value) -> String {
    let [header, _, signature] = segments(token);
    let payload = encode(&serde_json::to_vec(payload).unwrap());
    format!("{header}.{payload}.{signature}")
}

/// Flips one bit of the decoded signature of `token`.
pub fn with_flipped_signature_bit(token: &str, byte: usize) -> String {
    let [header, payload, signature] = segments(token);
    let mut signature = decode(&signature);
    signature[byte] ^= 0x80;
    format!("{header}.{payload}.{}", encode(&signature))
}

/// The RFC 8017 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo`, which is what
/// `jsonwebtoken::EncodingKey::from_rsa_der` wants.
pub fn pkcs1_from_pkcs8(pkcs8: &[u8]) -> Vec<u8> {
    let (tag, info, _) = read_tlv(pkcs8);
    assert_eq!(tag, 0x30);
    let (version_tag, _, rest) = read_tlv(info);
    assert_eq!(version_tag, 0x02);
    let (algorithm_tag, _, rest) = read_tlv(rest);
    assert_eq!(algorithm_tag, 0x30);
    let (key_tag, key, _) = read_tlv(rest);
    assert_eq!(key_tag, 0x04);
    key.to_vec()
}

/// Reads one DER tag-length-value; returns (tag, contents, rest).
fn read_tlv(bytes: &[u8]) -> (u8, &[u8], &[u8]) {
    let tag = bytes[0];
    let (length, header_len) = match bytes[1] {
        short @ 0..=0x7f => (usize::from(short), 2),
        long => {
            let count = usize::from(long & 0x7f);
            let length = bytes[2..2 + count]
                .iter()
                .fold(0usize, |length, byte| (length << 8) | usize::from(*byte));
            (length, 2 + count)
        }
    };
    let contents = &bytes[header_len..header_len + length];
    (tag, contents, &bytes[header_len + length..])
}
