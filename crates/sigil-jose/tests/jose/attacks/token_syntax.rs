//! Token syntax: segment counts, base64url strictness, JSON shape, duplicates, numbers, depth
//! and size. None of these needs a key: `UnverifiedToken::parse` must refuse them all, by name.
//! The JSON inside the segments is attacked in `json`.

mod json;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
use sigil_jose::{JoseError, UnverifiedToken};

use super::{Cases, parsed};
use crate::support::encode;

const HEADER: &str = r#"{"alg":"ES256"}"#;
/// `{"alg":"ES256"}`, base64url.
const H: &str = "eyJhbGciOiJFUzI1NiJ9";
/// `{}`, base64url.
const P: &str = "e30";
/// `sign`, base64url.
const S: &str = "c2lnbg";

const THREE_SEGMENTS: JoseError = JoseError::Malformed("token must have three segments");
const JWE: JoseError = JoseError::Malformed("JWE not supported");
const HEADER_NOT_B64: JoseError = JoseError::Malformed("header is not base64url");
const PAYLOAD_NOT_B64: JoseError = JoseError::Malformed("payload is not base64url");
const SIGNATURE_NOT_B64: JoseError = JoseError::Malformed("signature is not base64url");
const HEADER_NOT_OBJECT: JoseError = JoseError::Malformed("header is not a JSON object");
const PAYLOAD_NOT_OBJECT: JoseError = JoseError::Malformed("payload is not a JSON object");

/// A token from raw header and payload bytes, with a junk signature parsing never checks.
fn token(header: &[u8], payload: &[u8]) -> String {
    format!("{}.{}.{S}", encode(header), encode(payload))
}

fn with_payload(payload: &[u8]) -> String {
    token(HEADER.as_bytes(), payload)
}

#[test]
fn parse_refuses_every_segment_count_but_three() {
    let mut cases = Cases::new("syntax/segment counts");
    let many_dots = ".".repeat(100);
    let table = [
        ("empty token", String::new(), THREE_SEGMENTS),
        ("one segment", H.to_owned(), THREE_SEGMENTS),
        ("two segments", format!("{H}.{P}"), THREE_SEGMENTS),
        ("four segments", format!("{H}.{P}.{S}.{S}"), THREE_SEGMENTS),
        ("five segments (JWE)", format!("{H}.{P}.{S}.{S}.{S}"), JWE),
        (
            "six segments",
            format!("{H}.{P}.{S}.{S}.{S}.{S}"),
            THREE_SEGMENTS,
        ),
        ("a lone dot", ".".to_owned(), THREE_SEGMENTS),
        ("four dots only", "....".to_owned(), JWE),
        ("one hundred dots", many_dots, THREE_SEGMENTS),
        (
            "trailing dot after signature",
            format!("{H}.{P}.{S}."),
            THREE_SEGMENTS,
        ),
    ];
    for (case, input, expected) in table {
        cases.expect(case, Err(expected), || parsed(&input));
    }
    cases.finish();
}

#[test]
fn parse_refuses_empty_segments() {
    let mut cases = Cases::new("syntax/empty segments");
    let table = [
        ("all three empty", "..".to_owned(), HEADER_NOT_OBJECT),
        ("empty header", format!(".{P}.{S}"), HEADER_NOT_OBJECT),
        ("empty payload", format!("{H}..{S}"), PAYLOAD_NOT_OBJECT),
        (
            "empty signature",
            format!("{H}.{P}."),
            JoseError::Malformed("signature is empty"),
        ),
        (
            "empty payload and signature",
            format!("{H}.."),
            PAYLOAD_NOT_OBJECT,
        ),
    ];
    for (case, input, expected) in table {
        cases.expect(case, Err(expected), || parsed(&input));
    }
    cases.finish();
}

#[test]
fn parse_refuses_characters_outside_base64url() {
    let mut cases = Cases::new("syntax/non-base64url characters");
    for stray in [
        "!", "*", "%", "~", "$", "#", "\\", "\"", "é", "\u{0}", "\u{ff0d}", "\u{2024}",
    ] {
        let shown = stray.escape_default();
        cases.expect(format!("{shown} in header"), Err(HEADER_NOT_B64), || {
            parsed(&format!("{H}{stray}.{P}.{S}"))
        });
        cases.expect(format!("{shown} in payload"), Err(PAYLOAD_NOT_B64), || {
            parsed(&format!("{H}.{P}{stray}.{S}"))
        });
        cases.expect(
            format!("{shown} in signature"),
            Err(SIGNATURE_NOT_B64),
            || parsed(&format!("{H}.{P}.{S}{stray}")),
        );
    }
    cases.finish();
}

#[test]
fn parse_refuses_padding() {
    let mut cases = Cases::new("syntax/padding");
    // {"a":1} is 7 bytes: unpadded "eyJhIjoxfQ", padded "eyJhIjoxfQ==".
    let payload = URL_SAFE.encode(br#"{"a":1}"#);
    assert!(payload.ends_with("=="));
    let signature = URL_SAFE.encode(b"sign");
    let table = [
        (
            "padded payload",
            format!("{H}.{payload}.{S}"),
            PAYLOAD_NOT_B64,
        ),
        (
            "padded signature",
            format!("{H}.{P}.{signature}"),
            SIGNATURE_NOT_B64,
        ),
        (
            "one stray = on header",
            format!("{H}=.{P}.{S}"),
            HEADER_NOT_B64,
        ),
        (
            "two stray = on header",
            format!("{H}==.{P}.{S}"),
            HEADER_NOT_B64,
        ),
        (
            "= at the start of header",
            format!("={H}.{P}.{S}"),
            HEADER_NOT_B64,
        ),
        (
            "= inside the payload",
            format!("{H}.e3=0.{S}"),
            PAYLOAD_NOT_B64,
        ),
        (
            "one = on signature",
            format!("{H}.{P}.{S}="),
            SIGNATURE_NOT_B64,
        ),
    ];
    for (case, input, expected) in table {
        cases.expect(case, Err(expected), || parsed(&input));
    }
    cases.finish();
}

#[test]
fn parse_refuses_the_standard_base64_alphabet() {
    let mut cases = Cases::new("syntax/standard base64 alphabet");
    // `~~~` encodes as "fn5+" in the standard alphabet and "fn5-" in base64url; 0xfb 0xff
    // as "+/8" and "-_8".
    let header = br#"{"alg":"ES256","kid":"~~~?"}"#;
    let payload = br#"{"sub":"~~~?>>>"}"#;
    let signature = [0xfb, 0xff, 0xfb, 0xff];
    for (name, bytes) in [
        ("header", &header[..]),
        ("payload", &payload[..]),
        ("signature", &signature[..]),
    ] {
        let standard = STANDARD_NO_PAD.encode(bytes);
        assert!(standard.contains(['+', '/']), "{name}: {standard}");
    }
    let table = [
        (
            "header with + or /",
            format!("{}.{P}.{S}", STANDARD_NO_PAD.encode(header)),
            HEADER_NOT_B64,
        ),
        (
            "payload with + or /",
            format!("{H}.{}.{S}", STANDARD_NO_PAD.encode(payload)),
            PAYLOAD_NOT_B64,
        ),
        (
            "signature with + or /",
            format!("{H}.{P}.{}", STANDARD_NO_PAD.encode(signature)),
            SIGNATURE_NOT_B64,
        ),
        (
            "signature in padded standard base64",
            format!("{H}.{P}.{}", STANDARD.encode([0xfb, 0xff])),
            SIGNATURE_NOT_B64,
        ),
    ];
    for (case, input, expected) in table {
        cases.expect(case, Err(expected), || parsed(&input));
    }
    cases.finish();
}

#[test]
fn parse_refuses_non_canonical_base64url() {
    let mut cases = Cases::new("syntax/non-canonical base64url");
    // "e30" is `{}`; "e31" carries the same bytes with a set trailing bit.
    let table = [
        (
            "payload with set trailing bits",
            format!("{H}.e31.{S}"),
            PAYLOAD_NOT_B64,
        ),
        (
            "signature with set trailing bits",
            format!("{H}.{P}.c2lnbh"),
            SIGNATURE_NOT_B64,
        ),
        (
            "header one character too long",
            format!("{H}A.{P}.{S}"),
            HEADER_NOT_B64,
        ),
        (
            "payload of length 1 mod 4",
            format!("{H}.e30AA.{S}"),
            PAYLOAD_NOT_B64,
        ),
        (
            "signature of length 1 mod 4",
            format!("{H}.{P}.c"),
            SIGNATURE_NOT_B64,
        ),
    ];
    for (case, input, expected) in table {
        cases.expect(case, Err(expected), || parsed(&input));
    }
    cases.finish();
}

#[test]
fn parse_refuses_whitespace_anywhere_in_the_token() {
    let mut cases = Cases::new("syntax/whitespace");
    let rfc_line_wrapped = format!("{}\n{}.{P}.{S}", &H[..10], &H[10..]);
    let table = [
        ("leading space", format!(" {H}.{P}.{S}"), HEADER_NOT_B64),
        ("trailing space", format!("{H}.{P}.{S} "), SIGNATURE_NOT_B64),
        (
            "trailing newline",
            format!("{H}.{P}.{S}\n"),
            SIGNATURE_NOT_B64,
        ),
        (
            "trailing CRLF",
            format!("{H}.{P}.{S}\r\n"),
            SIGNATURE_NOT_B64,
        ),
        (
            "tab inside header",
            format!("{}\t{}.{P}.{S}", &H[..4], &H[4..]),
            HEADER_NOT_B64,
        ),
        (
            "space before a dot",
            format!("{H} .{P}.{S}"),
            HEADER_NOT_B64,
        ),
        (
            "space after a dot",
            format!("{H}. {P}.{S}"),
            PAYLOAD_NOT_B64,
        ),
        (
            "line-wrapped as in the RFCs",
            rfc_line_wrapped,
            HEADER_NOT_B64,
        ),
        (
            "no-break space",
            format!("{H}.{P}\u{a0}.{S}"),
            PAYLOAD_NOT_B64,
        ),
        ("whitespace only", "  .  .  ".to_owned(), HEADER_NOT_B64),
        (
            "Bearer prefix left on",
            format!("Bearer {H}.{P}.{S}"),
            HEADER_NOT_B64,
        ),
    ];
    for (case, input, expected) in table {
        cases.expect(case, Err(expected), || parsed(&input));
    }
    cases.finish();
}

#[test]
fn parse_refuses_oversized_tokens_before_decoding() {
    let mut cases = Cases::new("syntax/oversized tokens");
    let valid = format!("{H}.{P}.{S}");
    let huge_garbage = "!".repeat(10 * 1024 * 1024);
    let huge_dots = ".".repeat(10 * 1024 * 1024);
    let too_large = |size, limit| Err(JoseError::TokenTooLarge { size, limit });
    cases.expect(
        "one byte over the limit",
        too_large(valid.len(), valid.len() - 1),
        || UnverifiedToken::parse(&valid, valid.len() - 1).map(|_| ()),
    );
    cases.expect("limit of zero", too_large(valid.len(), 0), || {
        UnverifiedToken::parse(&valid, 0).map(|_| ())
    });
    cases.expect(
        "10 MiB of garbage",
        too_large(huge_garbage.len(), 16 * 1024),
        || UnverifiedToken::parse(&huge_garbage, 16 * 1024).map(|_| ()),
    );
    cases.expect(
        "10 MiB of dots",
        too_large(huge_dots.len(), 16 * 1024),
        || UnverifiedToken::parse(&huge_dots, 16 * 1024).map(|_| ()),
    );
    cases.expect("exactly at the limit parses", Ok(()), || {
        UnverifiedToken::parse(&valid, valid.len()).map(|_| ())
    });
    cases.expect(
        "empty token under a zero limit is not too large",
        Err(THREE_SEGMENTS),
        || UnverifiedToken::parse("", 0).map(|_| ()),
    );
    cases.finish();
}
