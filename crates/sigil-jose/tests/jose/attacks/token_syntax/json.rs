//! Token syntax, JSON layer: encodings, shapes, duplicate members, numbers and depth inside
//! the header and payload, all refused by `UnverifiedToken::parse` (numbers by `check_times`).

use serde_json::{Map, Value};
use sigil_jose::{JoseError, TimeRules, UnverifiedToken, check_times};

use super::{HEADER, HEADER_NOT_OBJECT, PAYLOAD_NOT_OBJECT, token, with_payload};
use crate::attacks::{Cases, parsed};

#[test]
fn parse_refuses_json_that_is_not_utf8() {
    let mut cases = Cases::new("syntax/non-UTF-8 JSON");
    let mut utf16 = Vec::new();
    for unit in HEADER.encode_utf16() {
        utf16.extend(unit.to_le_bytes());
    }
    let header_table: [(&str, Vec<u8>); 4] = [
        (
            "0xff in a header string",
            b"{\"alg\":\"ES256\",\"kid\":\"\xff\"}".to_vec(),
        ),
        (
            "0xff in a header member name",
            b"{\"alg\":\"ES256\",\"\xff\":1}".to_vec(),
        ),
        (
            "UTF-8 byte order mark before the header",
            [b"\xef\xbb\xbf", HEADER.as_bytes()].concat(),
        ),
        ("header in UTF-16LE", utf16),
    ];
    for (case, header) in header_table {
        cases.expect(case, Err(HEADER_NOT_OBJECT), || {
            parsed(&token(&header, b"{}"))
        });
    }
    let payload_table: [(&str, &[u8]); 6] = [
        ("0xff in a claim", b"{\"sub\":\"\xff\"}"),
        ("overlong encoding of /", b"{\"sub\":\"\xc0\xaf\"}"),
        (
            "UTF-8-encoded surrogate (CESU-8)",
            b"{\"sub\":\"\xed\xa0\x80\"}",
        ),
        ("lone surrogate escape", br#"{"sub":"\ud800"}"#),
        ("truncated multi-byte sequence", b"{\"sub\":\"\xe2\x82\"}"),
        ("raw control character in a string", b"{\"sub\":\"a\x01b\"}"),
    ];
    for (case, payload) in payload_table {
        cases.expect(case, Err(PAYLOAD_NOT_OBJECT), || {
            parsed(&with_payload(payload))
        });
    }
    cases.finish();
}

#[test]
fn parse_refuses_json_that_is_not_one_object() {
    let mut cases = Cases::new("syntax/JSON not an object");
    for text in [
        "[]",
        r#"["ES256"]"#,
        r#""ES256""#,
        "42",
        "null",
        "true",
        "",
        "   ",
        r#"{"alg":"ES256"} {}"#,
        r#"{"alg":"ES256"}x"#,
        r#"{"alg":"ES256"},"#,
        r#"{"alg":"ES256""#,
        r#"{'alg':'ES256'}"#,
        r#"{"alg":"ES256",}"#,
        r#"{/*c*/"alg":"ES256"}"#,
        r#"{alg:"ES256"}"#,
    ] {
        cases.expect(format!("header {text:?}"), Err(HEADER_NOT_OBJECT), || {
            parsed(&token(text.as_bytes(), b"{}"))
        });
    }
    for text in [
        "[]",
        r#"[{"sub":"a"}]"#,
        r#""sub""#,
        "1",
        "null",
        "false",
        "",
        r#"{"sub":"a"}{"sub":"b"}"#,
        r#"{"exp":NaN}"#,
        r#"{"exp":Infinity}"#,
        r#"{"exp":0x10}"#,
        r#"{"exp":01}"#,
        r#"{"exp":+1}"#,
        r#"{"a":1,}"#,
    ] {
        cases.expect(format!("payload {text:?}"), Err(PAYLOAD_NOT_OBJECT), || {
            parsed(&with_payload(text.as_bytes()))
        });
    }
    cases.finish();
}

#[test]
fn parse_refuses_duplicate_members_at_any_depth() {
    let mut cases = Cases::new("syntax/duplicate members");
    let duplicate = |name: &str| Err(JoseError::DuplicateMember(name.to_owned()));
    let deep = format!(
        r#"{{"a":{}{{"k":1,"k":2}}{}}}"#,
        r#"{"a":"#.repeat(60),
        "}".repeat(60)
    );
    let header_table = [
        (
            "same alg twice, same value",
            r#"{"alg":"ES256","alg":"ES256"}"#,
            "alg",
        ),
        ("alg then none", r#"{"alg":"ES256","alg":"none"}"#, "alg"),
        ("none then alg", r#"{"alg":"none","alg":"ES256"}"#, "alg"),
        (
            "alg spelled with an escape",
            r#"{"alg":"ES256","\u0061lg":"none"}"#,
            "alg",
        ),
        ("kid twice", r#"{"alg":"ES256","kid":"a","kid":"b"}"#, "kid"),
        (
            "crit twice",
            r#"{"alg":"ES256","crit":["x"],"crit":[]}"#,
            "crit",
        ),
        (
            "inside an embedded jwk",
            r#"{"alg":"ES256","jwk":{"kty":"EC","kty":"RSA"}}"#,
            "kty",
        ),
    ];
    for (case, header, name) in header_table {
        cases.expect(format!("header: {case}"), duplicate(name), || {
            parsed(&token(header.as_bytes(), b"{}"))
        });
    }
    let payload_table = [
        ("sub twice", r#"{"sub":"a","sub":"b"}"#.to_owned(), "sub"),
        (
            "exp twice",
            r#"{"exp":1,"exp":4102444800}"#.to_owned(),
            "exp",
        ),
        (
            "inside act",
            r#"{"act":{"sub":"a","sub":"b"}}"#.to_owned(),
            "sub",
        ),
        (
            "inside an array",
            r#"{"x":[1,{"k":1,"k":2}]}"#.to_owned(),
            "k",
        ),
        ("sixty objects deep", deep, "k"),
        ("empty name twice", r#"{"":1,"":2}"#.to_owned(), ""),
    ];
    for (case, payload, name) in payload_table {
        cases.expect(format!("payload: {case}"), duplicate(name), || {
            parsed(&with_payload(payload.as_bytes()))
        });
    }
    // Not duplicates: the same name in sibling objects, and two spellings of é (NFC, NFD).
    cases.expect("same name in sibling objects", Ok(()), || {
        parsed(&with_payload(br#"{"a":{"k":1},"b":{"k":2}}"#))
    });
    cases.expect("composed and decomposed e-acute", Ok(()), || {
        parsed(&with_payload("{\"\u{e9}\":1,\"e\u{301}\":2}".as_bytes()))
    });
    cases.finish();
}

/// Parses a token with `payload` under a generous limit, then judges its times at a fixed now.
fn parse_then_check_times(payload: &[u8]) -> Result<(), JoseError> {
    let token = with_payload(payload);
    let parsed = UnverifiedToken::parse(&token, usize::MAX)?;
    let rules = TimeRules {
        now: 1_700_000_000,
        leeway: 60,
        require_exp: false,
        max_token_age: None,
    };
    let claims: &Map<String, Value> = parsed.unverified_claims();
    check_times(claims, &rules)
}

#[test]
fn huge_numbers_are_refused_by_the_parser_or_the_time_rules() {
    let mut cases = Cases::new("syntax/huge numbers");
    let long_digits = format!(r#"{{"exp":{}}}"#, "9".repeat(400));
    let very_long_digits = format!(r#"{{"exp":{}}}"#, "9".repeat(100_000));
    let too_long = [
        ("exp 1e400 overflows f64", r#"{"exp":1e400}"#.to_owned()),
        ("exp -1e400", r#"{"exp":-1e400}"#.to_owned()),
        ("exp of 400 nines", long_digits),
        ("exp of 100,000 nines", very_long_digits),
    ];
    for (case, payload) in too_long {
        cases.expect(case, Err(PAYLOAD_NOT_OBJECT), || {
            parse_then_check_times(payload.as_bytes())
        });
    }
    let out_of_range = [
        ("exp u64::MAX", r#"{"exp":18446744073709551615}"#, "exp"),
        ("exp u64::MAX + 1", r#"{"exp":18446744073709551616}"#, "exp"),
        ("exp i64::MAX", r#"{"exp":9223372036854775807}"#, "exp"),
        ("exp i64::MIN", r#"{"exp":-9223372036854775808}"#, "exp"),
        ("exp 1e308", r#"{"exp":1e308}"#, "exp"),
        ("exp year 10000", r#"{"exp":253402300800}"#, "exp"),
        ("nbf 1e300", r#"{"nbf":1e300}"#, "nbf"),
        ("iat -1", r#"{"iat":-1}"#, "iat"),
    ];
    for (case, payload, claim) in out_of_range {
        cases.expect(case, Err(JoseError::ClaimOutOfRange(claim)), || {
            parse_then_check_times(payload.as_bytes())
        });
    }
    cases.expect(
        "exp 1e-400 underflows to 0",
        Err(JoseError::Expired),
        || parse_then_check_times(br#"{"exp":1e-400}"#),
    );
    let wrong_type = Err(JoseError::ClaimWrongType("exp"));
    cases.expect("exp as a string", wrong_type, || {
        parse_then_check_times(br#"{"exp":"4102444800"}"#)
    });
    cases.expect("kid 1e999 in the header", Err(HEADER_NOT_OBJECT), || {
        parsed(&token(br#"{"alg":"ES256","kid":1e999}"#, b"{}"))
    });
    cases.finish();
}

#[test]
fn deep_nesting_is_refused_within_a_small_stack() {
    // 512 KiB is a quarter of a test thread's stack: parsing must not recurse per level.
    std::thread::Builder::new()
        .stack_size(512 * 1024)
        .spawn(deep_nesting_cases)
        .unwrap()
        .join()
        .unwrap();
}

fn deep_nesting_cases() {
    let mut cases = Cases::new("syntax/deep nesting");
    let arrays = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = |depth: usize| format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let in_claim = |value: String| format!(r#"{{"x":{value}}}"#);
    let header_table = [
        (
            "10,000 [ in header",
            format!(r#"{{"alg":"ES256","x":{}}}"#, arrays(10_000)),
        ),
        (
            "10,000 objects in header",
            format!(r#"{{"alg":"ES256","x":{}}}"#, objects(10_000)),
        ),
        ("10,000 [ as the header", arrays(10_000)),
        (
            "10,000 unclosed [ in header",
            format!(r#"{{"alg":"ES256","x":{}"#, "[".repeat(10_000)),
        ),
    ];
    for (case, header) in header_table {
        cases.expect(case, Err(HEADER_NOT_OBJECT), || {
            UnverifiedToken::parse(&token(header.as_bytes(), b"{}"), usize::MAX).map(|_| ())
        });
    }
    let payload_table = [
        ("10,000 [ in a claim", in_claim(arrays(10_000))),
        ("10,000 objects in a claim", in_claim(objects(10_000))),
        ("1,000,000 [ in a claim", in_claim(arrays(1_000_000))),
        ("1,000,000 unclosed [", in_claim("[".repeat(1_000_000))),
        ("129 [ in a claim", in_claim(arrays(129))),
    ];
    for (case, payload) in payload_table {
        cases.expect(case, Err(PAYLOAD_NOT_OBJECT), || {
            UnverifiedToken::parse(&with_payload(payload.as_bytes()), usize::MAX).map(|_| ())
        });
    }
    cases.expect("64 levels are fine", Ok(()), || {
        parsed(&with_payload(in_claim(arrays(64)).as_bytes()))
    });
    cases.finish();
}
