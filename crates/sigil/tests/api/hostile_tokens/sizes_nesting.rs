//! Sizes and nesting: the token limit is exact, in bytes, and checked before anything is
//! decoded; huge, wide and deep tokens are refused as too large at once; within a raised limit,
//! deep nesting is malformed and wide objects are judged in bounded time.

use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Map, Value, json};

use super::forge::{b64, signature_of};
use super::target::{Findings, Refusal, Surface, Target, case, refused, served, served_if};
use crate::support::TestApp;

const TOO_LARGE: Refusal = refused("token_too_large");
const MALFORMED: Refusal = refused("token_malformed");
/// How long one case (three surfaces) may take on a busy, unoptimised test build.
const QUICKLY: Duration = Duration::from_secs(3);

/// An object of `count` members `m0`, `m1`, ...
fn members(count: usize) -> Value {
    Value::Object(
        (0..count)
            .map(|i| (format!("m{i}"), json!(i)))
            .collect::<Map<String, Value>>(),
    )
}

/// The JSON text of `depth` nested arrays around `1`.
fn nested(depth: usize) -> String {
    format!("{}1{}", "[".repeat(depth), "]".repeat(depth))
}

#[tokio::test]
async fn the_token_limit_is_exact_in_bytes_and_checked_before_decoding() {
    let target = Target::start_with(
        TestApp::builder().max_token_bytes(4096),
        Vec::new(),
        json!({}),
    )
    .await;
    let garbage = |length: usize| format!("{}.!.!", "!".repeat(length - 4));
    let mut findings = Findings::default();

    let at_limit = target.padded_token(4096);
    for surface in Surface::ALL {
        let answer = target.present(surface, &at_limit).await;
        findings.note(
            &format!("a signed token of exactly 4096 bytes on {surface:?}"),
            served(&answer),
        );
    }
    for case in [
        case(
            "a signed token of 4097 bytes",
            target.padded_token(4097),
            TOO_LARGE,
        ),
        case("4097 bytes of garbage", garbage(4097), TOO_LARGE),
        case("4096 bytes of garbage", garbage(4096), MALFORMED),
        case(
            "2049 two-byte characters (4098 bytes)",
            "\u{e9}".repeat(2049),
            TOO_LARGE,
        ),
        case(
            "2048 two-byte characters (4096 bytes)",
            "\u{e9}".repeat(2048),
            MALFORMED,
        ),
    ] {
        findings.note(
            &case.name,
            target
                .quick_refusal(&case.token, case.expected, QUICKLY)
                .await,
        );
    }
    target.assert_no_findings(findings).await;
}

#[tokio::test]
async fn huge_wide_and_deep_tokens_are_refused_as_too_large_at_once() {
    let target = Target::start().await;
    let claims = target.claims(json!({})).to_string();
    let header = target.header(json!({})).to_string();
    let with_claim = |member: String| claims.replacen('{', &format!("{{{member},"), 1);
    let with_header = |member: String| header.replacen('{', &format!("{{{member},"), 1);
    let mut findings = Findings::default();

    for case in [
        case(
            "a header with 10,000 members",
            target.token(json!({"wide": members(10_000)}), json!({})),
            TOO_LARGE,
        ),
        case(
            "claims with 10,000 members",
            target.token(json!({}), json!({"wide": members(10_000)})),
            TOO_LARGE,
        ),
        case(
            "claims nested 10,000 arrays deep",
            target.token_text(
                &header,
                &with_claim(format!(r#""deep":{}"#, nested(10_000))),
            ),
            TOO_LARGE,
        ),
        case(
            "a header nested 10,000 arrays deep",
            target.token_text(
                &with_header(format!(r#""deep":{}"#, nested(10_000))),
                &claims,
            ),
            TOO_LARGE,
        ),
        case(
            "a claim of 100,000 characters",
            target.token(json!({}), json!({"long": "x".repeat(100_000)})),
            TOO_LARGE,
        ),
        case(
            "a kid of 100,000 characters",
            target.token(json!({"kid": "k".repeat(100_000)}), json!({})),
            TOO_LARGE,
        ),
        case(
            "one byte over the default 16 KiB",
            target.padded_token(16 * 1024 + 1),
            TOO_LARGE,
        ),
        case("900,000 bytes of 'a'", "a".repeat(900_000), TOO_LARGE),
    ] {
        findings.note(
            &case.name,
            target
                .quick_refusal(&case.token, case.expected, QUICKLY)
                .await,
        );
    }
    target.assert_no_findings(findings).await;
}

#[tokio::test]
async fn within_a_raised_limit_deep_json_is_malformed_and_wide_json_is_judged_quickly() {
    let target = Target::start_with(
        TestApp::builder().max_token_bytes(1024 * 1024),
        Vec::new(),
        json!({}),
    )
    .await;
    let claims = target.claims(json!({})).to_string();
    let header = target.header(json!({})).to_string();
    let with_claim = |member: &str| claims.replacen('{', &format!("{{{member},"), 1);
    let deep_objects = format!(
        r#""deep":{}1{}"#,
        r#"{"a":"#.repeat(50_000),
        "}".repeat(50_000)
    );
    let wide_duplicate = {
        let wide = members(10_000).to_string();
        with_claim(&format!(r#""wide":{},"wide":1"#, wide))
    };
    let mut findings = Findings::default();

    for case in [
        case(
            "claims nested 100,000 arrays deep",
            target.token_text(
                &header,
                &with_claim(&format!(r#""deep":{}"#, nested(100_000))),
            ),
            MALFORMED,
        ),
        case(
            "a header nested 50,000 objects deep",
            target.token_text(
                &header.replacen('{', &format!("{{{deep_objects},"), 1),
                &claims,
            ),
            MALFORMED,
        ),
        case(
            "claims of 10,000 members followed by a duplicate",
            target.token_text(&header, &wide_duplicate),
            MALFORMED,
        ),
        case(
            "a 500,000-character claim under another token's signature",
            format!(
                "{}.{}.{}",
                b64(&header),
                b64(target
                    .claims(json!({"long": "x".repeat(500_000)}))
                    .to_string()),
                b64(signature_of(&target.valid_token()))
            ),
            refused("signature_invalid"),
        ),
    ] {
        findings.note(
            &case.name,
            target
                .quick_refusal(&case.token, case.expected, QUICKLY)
                .await,
        );
    }
    for (name, token) in [
        (
            "a header of 10,000 members",
            target.token(json!({"wide": members(10_000)}), json!({})),
        ),
        (
            "claims of 10,000 members",
            target.token(json!({}), json!({"wide": members(10_000)})),
        ),
    ] {
        let started = std::time::Instant::now();
        let answer = target.present(Surface::Verify, &token).await;
        let took = started.elapsed();
        findings.note(
            &format!("{name} verifies quickly"),
            served_if(answer.status == StatusCode::OK && took < QUICKLY, &answer)
                .map_err(|problem| format!("{problem} (in {took:?})")),
        );
    }
    target.assert_no_findings(findings).await;
}
