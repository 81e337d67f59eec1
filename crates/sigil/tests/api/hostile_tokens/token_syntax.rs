//! Tokens that are not a compact JWS of two JSON objects: segment counts, empty segments,
//! anything but strict unpadded base64url, whitespace, non-UTF-8, non-objects, duplicate
//! members, unrepresentable numbers, deep nesting, JWE shapes and the size limit.

use axum::http::Method;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE};
use serde_json::json;

use super::forge::{b64, compact, signature_of};
use super::target::{Case, Refusal, Surface, Target, case, judge, refused};
use crate::support::TestApp;

const MALFORMED: Refusal = refused("token_malformed");

/// The three segments of a good baited token of `target`.
fn parts(target: &Target) -> [String; 3] {
    let token = target.token(json!({}), json!({}));
    let mut segments = token.split('.').map(str::to_owned);
    [(); 3].map(|()| segments.next().expect("three segments"))
}

/// A token over these raw header and payload bytes with a real (but unrelated) signature.
fn raw(target: &Target, header: &[u8], payload: &[u8]) -> String {
    let signature = signature_of(&target.valid_token());
    format!("{}.{}.{}", b64(header), b64(payload), b64(signature))
}

/// The payload text of good claims.
fn claims_text(target: &Target) -> String {
    target.claims(json!({})).to_string()
}

/// The baited header text.
fn header_text(target: &Target) -> String {
    target.header(json!({})).to_string()
}

#[tokio::test]
async fn tokens_without_exactly_three_segments_are_malformed() {
    let target = Target::start().await;
    let [h, p, s] = parts(&target);
    let good = format!("{h}.{p}.{s}");

    let cases: Vec<Case> = [
        ("one segment", h.clone()),
        ("two segments", format!("{h}.{p}")),
        ("four segments", format!("{h}.{p}.{s}.{s}")),
        ("six segments", format!("{h}.{p}.{s}.{h}.{p}.{s}")),
        ("a trailing dot", format!("{good}.")),
        ("a leading dot", format!(".{good}")),
        ("two tokens joined by a dot", format!("{good}.{good}")),
        ("percent-encoded dots", format!("{h}%2E{p}%2E{s}")),
        ("fullwidth dots", format!("{h}\u{ff0e}{p}\u{ff0e}{s}")),
        (
            "ideographic full stops",
            format!("{h}\u{3002}{p}\u{3002}{s}"),
        ),
        ("not a token at all", "not-a-token".to_owned()),
        (
            "JWS JSON serialization",
            json!({"protected": h, "payload": p, "signature": s}).to_string(),
        ),
    ]
    .into_iter()
    .map(|(name, token)| case(name, token, MALFORMED))
    .collect();

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn tokens_with_an_empty_segment_are_malformed() {
    let target = Target::start().await;
    let [h, p, s] = parts(&target);

    let cases: Vec<Case> = [
        ("empty header", format!(".{p}.{s}")),
        ("empty payload", format!("{h}..{s}")),
        ("empty signature", format!("{h}.{p}.")),
        ("header only", format!("{h}..")),
        ("signature only", format!("..{s}")),
        ("three empty segments", "..".to_owned()),
    ]
    .into_iter()
    .map(|(name, token)| case(name, token, MALFORMED))
    .collect();

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn segments_outside_strict_unpadded_base64url_are_malformed() {
    let target = Target::start().await;
    let [h, p, s] = parts(&target);
    let alphabet = standard_alphabet_token(&target);

    let cases: Vec<Case> = [
        ("'=' after the header", format!("{h}=.{p}.{s}")),
        ("'==' after the payload", format!("{h}.{p}==.{s}")),
        ("the signature correctly padded", format!("{h}.{p}.{s}==")),
        (
            "the header correctly padded",
            format!("{}.{p}.{s}", padded_header(&target)),
        ),
        ("'+' and '/' in the header", alphabet.header),
        ("'+' and '/' in the signature", alphabet.signature),
        (
            "'*' in the header",
            format!("{}*.{p}.{s}", &h[..h.len() - 1]),
        ),
        ("'!' in the payload", format!("{h}.!{}.{s}", &p[1..])),
        ("'%' in the signature", format!("{h}.{p}.%{}", &s[1..])),
        (
            "'$' in the payload",
            format!("{h}.{}$.{s}", &p[..p.len() - 1]),
        ),
        (
            "non-canonical trailing bits in the signature",
            format!("{h}.{p}.{}", with_trailing_bit(&s)),
        ),
        (
            "the header base64url-encoded twice",
            format!("{}.{p}.{s}", b64(&h)),
        ),
    ]
    .into_iter()
    .map(|(name, token)| case(name, token, MALFORMED))
    .collect();

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn whitespace_and_control_characters_inside_a_token_are_malformed() {
    let target = Target::start().await;
    let [h, p, s] = parts(&target);
    let inside = |text: &str, insert: &str| {
        let middle = text.len() / 2;
        format!("{}{insert}{}", &text[..middle], &text[middle..])
    };

    let cases: Vec<Case> = [
        (
            "a space inside the header",
            format!("{}.{p}.{s}", inside(&h, " ")),
        ),
        (
            "a space inside the payload",
            format!("{h}.{}.{s}", inside(&p, " ")),
        ),
        (
            "a space inside the signature",
            format!("{h}.{p}.{}", inside(&s, " ")),
        ),
        ("a space after a dot", format!("{h}. {p}.{s}")),
        (
            "a tab inside the payload",
            format!("{h}.{}.{s}", inside(&p, "\t")),
        ),
        (
            "a newline inside the payload",
            format!("{h}.{}.{s}", inside(&p, "\n")),
        ),
        ("CRLF between segments", format!("{h}.\r\n{p}.{s}")),
        (
            "a carriage return inside the signature",
            format!("{h}.{p}.{}", inside(&s, "\r")),
        ),
        (
            "a vertical tab inside the header",
            format!("{}.{p}.{s}", inside(&h, "\u{b}")),
        ),
        (
            "a form feed inside the header",
            format!("{}.{p}.{s}", inside(&h, "\u{c}")),
        ),
        (
            "a NUL inside the payload",
            format!("{h}.{}.{s}", inside(&p, "\0")),
        ),
        (
            "a no-break space inside the payload",
            format!("{h}.{}.{s}", inside(&p, "\u{a0}")),
        ),
        (
            "a line separator inside the payload",
            format!("{h}.{}.{s}", inside(&p, "\u{2028}")),
        ),
        (
            "a zero-width space inside the header",
            format!("{}.{p}.{s}", inside(&h, "\u{200b}")),
        ),
        (
            "a byte order mark before the token",
            format!("\u{feff}{h}.{p}.{s}"),
        ),
    ]
    .into_iter()
    .map(|(name, token)| case(name, token, MALFORMED))
    .collect();

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn segments_that_are_not_utf8_json_objects_are_malformed() {
    let target = Target::start().await;
    let header = header_text(&target);
    let claims = claims_text(&target);
    let mut utf16 = vec![0xff, 0xfe];
    utf16.extend(claims.encode_utf16().flat_map(u16::to_le_bytes));
    let invalid_utf8_kid = [
        br#"{"alg":"ES256","kid":"k"#.as_slice(),
        b"\xff\"}".as_slice(),
    ]
    .concat();

    let mut cases: Vec<Case> = [
        (
            "a header of bytes that are not UTF-8",
            raw(&target, b"\xff\xfe\x7b\x7d", claims.as_bytes()),
        ),
        (
            "a kid holding a byte that is not UTF-8",
            raw(&target, &invalid_utf8_kid, claims.as_bytes()),
        ),
        ("claims in UTF-16", raw(&target, header.as_bytes(), &utf16)),
        (
            "claims with invalid UTF-8 inside a string",
            raw(&target, header.as_bytes(), b"{\"iss\":\"\xc3\x28\"}"),
        ),
        (
            "a lone surrogate escape in the kid",
            target.token_text(r#"{"alg":"ES256","kid":"\ud800"}"#, &claims),
        ),
        (
            "a UTF-8 byte order mark before the claims",
            target.token_text(&header, &format!("\u{feff}{claims}")),
        ),
    ]
    .into_iter()
    .map(|(name, token)| case(name, token, MALFORMED))
    .collect();
    for text in ["[]", "null", "1", "\"ES256\"", "true", "", "{}{}"] {
        cases.push(case(
            format!("header {text:?}"),
            target.token_text(text, &claims),
            MALFORMED,
        ));
    }
    for text in ["[]", "null", "42", "\"claims\"", "false", ""] {
        cases.push(case(
            format!("payload {text:?}"),
            target.token_text(&header, text),
            MALFORMED,
        ));
    }
    for header in [
        r#"{"kid":"k1"}"#,
        r#"{"alg":null,"kid":"k1"}"#,
        r#"{"alg":256,"kid":"k1"}"#,
        r#"{"alg":["ES256"],"kid":"k1"}"#,
        r#"{"alg":{"name":"ES256"},"kid":"k1"}"#,
        r#"{"alg":"ES256","kid":"k1"} trailing"#,
        r#"{'alg':'ES256','kid':'k1'}"#,
        r#"{"alg":"ES256","kid":"k1",}"#,
    ] {
        cases.push(case(
            format!("header {header}"),
            target.token_text(header, &claims),
            MALFORMED,
        ));
    }
    let near_json = claims.replacen('{', "{/* comment */", 1);
    cases.push(case(
        "claims with a comment",
        target.token_text(&header, &near_json),
        MALFORMED,
    ));
    let trailing_comma = claims.replacen('}', ",}", 1);
    cases.push(case(
        "claims with a trailing comma",
        target.token_text(&header, &trailing_comma),
        MALFORMED,
    ));
    cases.push(case(
        "claims with NaN",
        target.token_text(&header, &claims.replacen('{', r#"{"n":NaN,"#, 1)),
        MALFORMED,
    ));

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn duplicate_json_members_anywhere_are_malformed() {
    let target = Target::start().await;
    let header = header_text(&target);
    let claims = claims_text(&target);
    // Each member is added in front of the good text, so the good one is the second copy.
    let in_header = |member: &str| header.replacen('{', &format!("{{{member},"), 1);
    let in_claims = |member: &str| claims.replacen('{', &format!("{{{member},"), 1);
    let now = target.app.now();

    let cases: Vec<Case> = [
        (
            "alg twice, none first",
            target.token_text(&in_header(r#""alg":"none""#), &claims),
        ),
        (
            "alg twice, spelled with an escape",
            target.token_text(&in_header(r#""\u0061lg":"none""#), &claims),
        ),
        (
            "kid twice",
            target.token_text(&in_header(r#""kid":"attacker""#), &claims),
        ),
        (
            "typ twice",
            target.token_text(&in_header(r#""typ":"at+jwt""#), &claims),
        ),
        (
            "iss twice",
            target.token_text(&header, &in_claims(r#""iss":"https://evil.example.com""#)),
        ),
        (
            "iss twice, spelled with an escape",
            target.token_text(
                &header,
                &in_claims(r#""\u0069ss":"https://evil.example.com""#),
            ),
        ),
        (
            "sub twice",
            target.token_text(&header, &in_claims(r#""sub":"admin""#)),
        ),
        (
            "sub twice, spelled with another escape",
            target.token_text(&header, &in_claims(r#""s\u0075b":"admin""#)),
        ),
        (
            "exp twice",
            target.token_text(&header, &in_claims(&format!(r#""exp":{}"#, now - 3600))),
        ),
        (
            "aud twice",
            target.token_text(&header, &in_claims(r#""aud":"a","aud":"b""#)),
        ),
        (
            "a duplicate inside a nested object",
            target.token_text(
                &header,
                &in_claims(r#""ctx":{"role":"user","role":"admin"}"#),
            ),
        ),
        (
            "a duplicate inside an array",
            target.token_text(&header, &in_claims(r#""ctx":[{"a":1,"a":2}]"#)),
        ),
        (
            "a duplicate inside a header object",
            target.token_text(&in_header(r#""ext":{"x":1,"x":2}"#), &claims),
        ),
    ]
    .into_iter()
    .map(|(name, token)| case(name, token, MALFORMED))
    .collect();

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn numbers_no_float_can_hold_and_deep_nesting_are_malformed() {
    let target = Target::start().await;
    let header = header_text(&target);
    let claims = claims_text(&target);
    let with_claim = |member: &str| claims.replacen('{', &format!("{{{member},"), 1);
    let nested = |depth: usize, open: &str, close: &str| {
        format!("{}1{}", open.repeat(depth), close.repeat(depth))
    };

    let cases: Vec<Case> = [
        (
            "exp 1e400",
            target.token_text(
                &header,
                &claims.replacen("\"exp\":", "\"exp\":1e400,\"was\":", 1),
            ),
        ),
        (
            "a claim of -1e400",
            target.token_text(&header, &with_claim(r#""n":-1e400"#)),
        ),
        (
            "a claim of 1 and 400 zeros",
            target.token_text(
                &header,
                &with_claim(&format!(r#""n":1{}"#, "0".repeat(400))),
            ),
        ),
        (
            "a header member of 1e999",
            target.token_text(&header.replacen('{', r#"{"n":1e999,"#, 1), &claims),
        ),
        (
            "claims nested 200 arrays deep",
            target.token_text(
                &header,
                &with_claim(&format!(r#""n":{}"#, nested(200, "[", "]"))),
            ),
        ),
        (
            "claims nested 200 objects deep",
            target.token_text(
                &header,
                &with_claim(&format!(r#""n":{}"#, nested(200, "{\"a\":", "}"))),
            ),
        ),
        (
            "a header nested 200 arrays deep",
            target.token_text(
                &header.replacen('{', &format!(r#"{{"n":{},"#, nested(200, "[", "]")), 1),
                &claims,
            ),
        ),
        (
            "claims nested 5,000 arrays deep",
            target.token_text(
                &header,
                &with_claim(&format!(r#""n":{}"#, nested(5000, "[", "]"))),
            ),
        ),
    ]
    .into_iter()
    .map(|(name, token)| case(name, token, MALFORMED))
    .collect();

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn a_token_just_over_the_size_limit_is_too_large() {
    let target = Target::start_with(
        TestApp::builder().max_token_bytes(2048),
        Vec::new(),
        json!({}),
    )
    .await;
    let too_large = refused("token_too_large");
    let garbage = format!("{}.{}.{}", "!".repeat(2045), "!", "!");
    assert_eq!(garbage.len(), 2049);
    let signed = target.padded_token(2049);
    let multibyte = "\u{e9}".repeat(1025);

    let cases = [
        case("2049 bytes of garbage", garbage, too_large),
        case("a signed token of 2049 bytes", signed, too_large),
        case(
            "1025 two-byte characters (2050 bytes)",
            multibyte,
            too_large,
        ),
    ];

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn jwe_shaped_tokens_are_refused() {
    let target = Target::start().await;
    let jwe = |header: &str, key: &[u8]| {
        format!(
            "{}.{}.{}.{}.{}",
            b64(header),
            b64(key),
            b64([7u8; 12]),
            b64(b"ciphertext of claims"),
            b64([9u8; 16])
        )
    };
    let claims = claims_text(&target);
    let epk = target.attacker.jwk();
    let ecdh = json!({"alg": "ECDH-ES", "enc": "A256GCM", "epk": epk,
                      "jku": target.trap.url("/jwks.json")})
    .to_string();

    let cases = [
        case(
            "RSA-OAEP with A256GCM",
            jwe(
                r#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"k1"}"#,
                &[1u8; 256],
            ),
            MALFORMED,
        ),
        case(
            "dir with an empty encrypted key",
            jwe(r#"{"alg":"dir","enc":"A128CBC-HS256"}"#, &[]),
            MALFORMED,
        ),
        case("ECDH-ES with an epk and a jku", jwe(&ecdh, &[]), MALFORMED),
        case(
            "five parts under a JWS header",
            jwe(&header_text(&target), &[1u8; 32]),
            MALFORMED,
        ),
        case(
            "five parts under alg none",
            jwe(r#"{"alg":"none"}"#, &[]),
            MALFORMED,
        ),
        case(
            "a JWE header on a three-part token",
            target.token_text(r#"{"alg":"RSA-OAEP","enc":"A256GCM","kid":"k1"}"#, &claims),
            refused("algorithm_not_allowed"),
        ),
        case(
            "a dir header on a three-part token",
            target.token_text(r#"{"alg":"dir","enc":"A128GCM","kid":"k1"}"#, &claims),
            refused("algorithm_not_allowed"),
        ),
        case(
            "a JWS whose payload is a JWE",
            compact(
                &header_text(&target),
                &jwe(r#"{"alg":"dir","enc":"A128GCM"}"#, &[]),
                &signature_of(&target.valid_token()),
            ),
            MALFORMED,
        ),
    ];

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn an_empty_token_is_refused_on_every_surface() {
    let target = Target::start().await;

    for token in ["", "   "] {
        let verify = target.present(Surface::Verify, token).await;
        verify.assert_invalid(&["token"]);
        for surface in [Surface::Bearer, Surface::Login] {
            let answer = target.present(surface, token).await;
            judge(&answer, token, MALFORMED)
                .unwrap_or_else(|problem| panic!("{surface:?} with {token:?}: {problem}"));
        }
    }
    target.still_serving().await.expect("still serving");
}

#[tokio::test]
async fn a_bearer_header_that_is_not_ascii_is_malformed() {
    let target = Target::start().await;
    let token = format!("{}\u{e9}", target.valid_token());

    for (surface, path, method) in [
        (Surface::Bearer, "/v1/config/policies", Method::GET),
        (Surface::Login, "/v1/auth/login/ci", Method::POST),
    ] {
        let answer = target
            .app
            .call(method, path)
            .header("authorization", &format!("Bearer {token}"))
            .send()
            .await;
        judge(&answer, &token, MALFORMED)
            .unwrap_or_else(|problem| panic!("{surface:?}: {problem}"));
    }
    target.still_serving().await.expect("still serving");
}

/// A good token re-spelled in the standard alphabet, once in the header and once in the
/// signature (each spelling differs from the original in at least one character).
struct Respelled {
    header: String,
    signature: String,
}

fn standard_alphabet_token(target: &Target) -> Respelled {
    let to_standard = |segment: &str| segment.replace('-', "+").replace('_', "/");
    // Six equal bytes hold an aligned group of three: "~~~" encodes to "fn5-", "???" to "Pz8_".
    let header = target.header(json!({"pad": "~~~~~~??????"}));
    let encoded = b64(header.to_string());
    assert!(encoded.contains('-') && encoded.contains('_'), "{encoded}");
    let claims = claims_text(target);
    let token = target.token_text(&header.to_string(), &claims);
    let [h, p, s]: [&str; 3] = token
        .split('.')
        .collect::<Vec<_>>()
        .try_into()
        .expect("three segments");
    let respelled_header = format!("{}.{p}.{s}", to_standard(h));
    let signed = (0..256)
        .map(|n| target.token(json!({}), json!({"n": n})))
        .find(|t| {
            let signature = t.rsplit('.').next().unwrap_or_default();
            signature.contains('-') || signature.contains('_')
        })
        .expect("a signature with '-' or '_'");
    let (input, signature) = signed.rsplit_once('.').expect("three segments");
    let standard = STANDARD_NO_PAD.encode(signature_of(&signed));
    assert_eq!(standard, to_standard(signature));
    Respelled {
        header: respelled_header,
        signature: format!("{input}.{standard}"),
    }
}

/// The header segment of a baited header with padding: its encoding needs one or two `=`.
fn padded_header(target: &Target) -> String {
    (0..3)
        .map(|n| URL_SAFE.encode(target.header(json!({"pad": "x".repeat(n)})).to_string()))
        .find(|encoded| encoded.ends_with('='))
        .expect("a header that needs padding")
}

/// `segment` with the lowest unused bit of its last character set.
fn with_trailing_bit(segment: &str) -> String {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    assert_ne!(segment.len() % 4, 0, "a segment with unused bits");
    let last = segment.chars().last().expect("not empty");
    let value = ALPHABET.find(last).expect("base64url");
    let flipped = ALPHABET.chars().nth(value ^ 1).expect("in the alphabet");
    format!("{}{flipped}", &segment[..segment.len() - 1])
}
