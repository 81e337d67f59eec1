//! Durations (`HumanDuration::parse`, `Display`, serde): the parser agrees with a separate
//! reference written with wide arithmetic (10-year cap included, DESIGN §3), and
//! parse → display → parse is the identity.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sigil::duration::{HumanDuration, MAX_DURATION_CHARS, MAX_DURATION_SECS};

const UNITS: [(char, u128); 5] = [
    ('y', 365 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

fuzz_target!(|data: &[u8]| {
    if let Some(bytes) = data.first_chunk::<8>() {
        let seconds = u64::from_le_bytes(*bytes);
        if seconds <= MAX_DURATION_SECS {
            round_trips(HumanDuration::from_secs(seconds));
        } else {
            // Past the cap, neither the text nor the number of seconds is accepted.
            let shown = HumanDuration::from_secs(seconds).to_string();
            assert!(HumanDuration::parse(&shown).is_err(), "{shown} parses");
            let number = serde_json::from_str::<HumanDuration>(&seconds.to_string());
            assert!(number.is_err(), "{seconds} seconds deserialise");
        }
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = HumanDuration::parse(text);
    assert_eq!(
        parsed.as_ref().ok().map(|d| u128::from(d.as_secs())),
        reference(text),
        "parser and reference disagree on {text:?}"
    );
    match parsed {
        Ok(duration) => round_trips(duration),
        Err(error) => {
            // The input is echoed cut to 64 characters, so the message stays short.
            let message = error.to_string();
            assert!(message.chars().count() < 64 * 6 + 200, "{message}");
        }
    }
});

/// Display is canonical and parses back; serde uses the same form.
fn round_trips(duration: HumanDuration) {
    let shown = duration.to_string();
    let again = HumanDuration::parse(&shown).expect("a displayed duration parses");
    assert_eq!(again, duration, "{shown}");
    assert_eq!(again.to_string(), shown);
    let json = serde_json::to_string(&duration).expect("serialises");
    assert_eq!(json, format!("\"{shown}\""));
    let back: HumanDuration = serde_json::from_str(&json).expect("deserialises");
    assert_eq!(back, duration);
    let number: HumanDuration =
        serde_json::from_str(&duration.as_secs().to_string()).expect("seconds deserialise");
    assert_eq!(number, duration);
}

/// `[<n>y][<n>d][<n>h][<n>m][<n>s]`: at least one part, ASCII digits, at most 64 bytes of text
/// and 10 years.
fn reference(text: &str) -> Option<u128> {
    let mut rest = text;
    let mut next_unit = 0;
    let mut total: u128 = 0;
    if rest.is_empty() || rest.len() > MAX_DURATION_CHARS {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let number: u128 = rest[..digits].parse().ok()?;
        let unit = rest[digits..].chars().next()?;
        let index = UNITS.iter().position(|(u, _)| *u == unit)?;
        if index < next_unit {
            return None;
        }
        next_unit = index + 1;
        total = total.checked_add(number.checked_mul(UNITS[index].1)?)?;
        rest = &rest[digits + unit.len_utf8()..];
    }
    (total <= u128::from(MAX_DURATION_SECS)).then_some(total)
}
