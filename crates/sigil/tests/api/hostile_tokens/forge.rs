//! Raw material for forged tokens: hand-assembled compact JWS, HMACs keyed with public keys,
//! and just enough DER for the encodings an attacker tries (SPKI, PKCS#1, ECDSA signatures).

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::EncodingKey;

/// Unpadded base64url.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url; panics on anything else (test input only).
pub fn unb64(text: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD.decode(text).expect("base64url")
}

/// `b64(header).b64(payload).b64(signature)`.
pub fn compact(header: &str, payload: &str, signature: &[u8]) -> String {
    format!("{}.{}.{}", b64(header), b64(payload), b64(signature))
}

/// The signature bytes of a compact JWS.
pub fn signature_of(token: &str) -> Vec<u8> {
    let (_, signature) = token.rsplit_once('.').expect("a compact JWS");
    unb64(signature)
}

/// `token` with its signature replaced by `signature`.
pub fn with_signature(token: &str, signature: &[u8]) -> String {
    let (signing_input, _) = token.rsplit_once('.').expect("a compact JWS");
    format!("{signing_input}.{}", b64(signature))
}

/// A token over these header and payload texts, MACed with `secret` by `algorithm` (HS*).
pub fn hmac(
    algorithm: jsonwebtoken::Algorithm,
    secret: &[u8],
    header: &str,
    payload: &str,
) -> String {
    let signing_input = format!("{}.{}", b64(header), b64(payload));
    let mac = jsonwebtoken::crypto::sign(
        signing_input.as_bytes(),
        &EncodingKey::from_secret(secret),
        algorithm,
    )
    .expect("HMAC");
    format!("{signing_input}.{mac}")
}

/// One DER element.
pub fn der(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let length = content.len();
    if length < 0x80 {
        out.push(u8::try_from(length).expect("short length"));
    } else {
        let bytes: Vec<u8> = length
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | u8::try_from(bytes.len()).expect("length of length"));
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

/// A DER SEQUENCE of already-encoded parts.
pub fn sequence(parts: &[Vec<u8>]) -> Vec<u8> {
    der(0x30, &parts.concat())
}

/// A DER INTEGER of the unsigned big-endian `bytes`.
pub fn integer(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    let mut content = Vec::with_capacity(trimmed.len() + 1);
    if trimmed.first().is_none_or(|top| top & 0x80 != 0) {
        content.push(0);
    }
    content.extend(trimmed);
    der(0x02, &content)
}

/// A DER BIT STRING with no unused bits.
pub fn bit_string(bytes: &[u8]) -> Vec<u8> {
    let mut content = vec![0];
    content.extend_from_slice(bytes);
    der(0x03, &content)
}

/// OID 1.2.840.10045.2.1 (id-ecPublicKey).
const EC_PUBLIC_KEY: &[u8] = &[0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
/// OID 1.2.840.10045.3.1.7 (P-256).
pub const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// OID 1.3.132.0.34 (P-384).
pub const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
/// OID 1.2.840.113549.1.1.1 (rsaEncryption) and its NULL parameters.
const RSA_ENCRYPTION: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00,
];
/// OID 1.3.101.112 (Ed25519).
const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

/// SubjectPublicKeyInfo of an EC point on the curve `curve` (an OID above).
pub fn spki_ec(curve: &[u8], point: &[u8]) -> Vec<u8> {
    sequence(&[
        der(0x30, &[EC_PUBLIC_KEY, curve].concat()),
        bit_string(point),
    ])
}

/// PKCS#1 RSAPublicKey.
pub fn pkcs1_rsa(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    sequence(&[integer(modulus), integer(exponent)])
}

/// SubjectPublicKeyInfo of an RSA key.
pub fn spki_rsa(modulus: &[u8], exponent: &[u8]) -> Vec<u8> {
    sequence(&[
        der(0x30, RSA_ENCRYPTION),
        bit_string(&pkcs1_rsa(modulus, exponent)),
    ])
}

/// SubjectPublicKeyInfo of an Ed25519 key.
pub fn spki_ed25519(public: &[u8]) -> Vec<u8> {
    sequence(&[der(0x30, ED25519), bit_string(public)])
}

/// PEM armour of `der` under `label`, lines of 64 joined by `newline`, ending with one.
pub fn pem(label: &str, der: &[u8], newline: &str) -> String {
    let body = STANDARD.encode(der);
    let lines: Vec<&str> = body
        .as_bytes()
        .chunks(64)
        .map(|chunk| std::str::from_utf8(chunk).expect("base64 is ASCII"))
        .collect();
    format!(
        "-----BEGIN {label}-----{newline}{}{newline}-----END {label}-----{newline}",
        lines.join(newline)
    )
}

/// An ECDSA signature as DER `SEQUENCE { r, s }` (what X.509 uses and JWS does not).
pub fn ecdsa_der(r: &[u8], s: &[u8]) -> Vec<u8> {
    sequence(&[integer(r), integer(s)])
}

/// `a + b` over big-endian numbers of one width; `None` when it overflows that width.
pub fn add(a: &[u8], b: &[u8]) -> Option<Vec<u8>> {
    assert_eq!(a.len(), b.len(), "same width");
    let mut sum = vec![0u8; a.len()];
    let mut carry = 0u16;
    for i in (0..a.len()).rev() {
        let total = u16::from(a[i]) + u16::from(b[i]) + carry;
        sum[i] = (total & 0xff) as u8;
        carry = total >> 8;
    }
    (carry == 0).then_some(sum)
}

/// The big-endian `width`-byte encoding of a small number.
pub fn small(width: usize, value: u8) -> Vec<u8> {
    let mut bytes = vec![0u8; width];
    bytes[width - 1] = value;
    bytes
}

/// Decodes hex (test constants only).
pub fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}
