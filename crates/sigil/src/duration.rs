//! Human-readable durations (`1y2d5h`, `10m30s`), the one spelling of every TTL and period.
//! Whole seconds only: every duration Sigil deals in is a token lifetime or a schedule, and a
//! single canonical spelling (largest units first) keeps stored config and `where` filters stable.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer, de};

/// Units in the order they must appear, with their length in seconds (`y` is 365 days).
const UNITS: [(char, u64); 5] = [
    ('y', 365 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

/// The longest duration accepted anywhere: 10 years of 365 days (DESIGN §3). Nothing Sigil
/// schedules needs more, and the cap keeps every sum of durations and times far from overflow.
pub const MAX_DURATION_SECS: u64 = 10 * 365 * 86_400;

/// The longest duration text accepted: `9y364d23h59m59s` is 15 characters, so anything near
/// this is padding (leading zeros) and is refused before it is read.
pub const MAX_DURATION_CHARS: usize = 64;

/// Inputs longer than this are cut in error messages.
const MAX_ECHOED_CHARS: usize = 64;

/// A duration in whole seconds, written `[<n>y][<n>d][<n>h][<n>m][<n>s]`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HumanDuration(u64);

impl HumanDuration {
    /// Parses `1y2d5h`, `10m30s`, `0s`...: at least one part, units in the order y, d, h, m, s,
    /// each at most once, digits only.
    pub fn parse(input: &str) -> Result<Self, DurationError> {
        parse_seconds(input)
            .map(Self)
            .map_err(|problem| DurationError {
                input: echo(input),
                problem,
            })
    }

    /// A duration of `seconds`.
    pub const fn from_secs(seconds: u64) -> Self {
        Self(seconds)
    }

    /// The duration in seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// The duration as a [`std::time::Duration`].
    pub const fn as_std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }
}

/// A string that is not a duration; the message shows the expected format.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a duration: {problem} (examples: 1h, 10m30s, 1y2d)")]
pub struct DurationError {
    input: String,
    problem: DurationProblem,
}

impl DurationError {
    /// What exactly is wrong with the input.
    pub fn problem(&self) -> &DurationProblem {
        &self.problem
    }
}

/// The reason a string is not a duration.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationProblem {
    /// The input is empty.
    #[error("it is empty")]
    Empty,
    /// A character that is not a digit where a number must start (1-based position).
    #[error("expected a number at position {position}")]
    ExpectedNumber {
        /// 1-based character position.
        position: usize,
    },
    /// A number not followed by a unit.
    #[error("the number at position {position} needs a unit: y, d, h, m or s")]
    MissingUnit {
        /// 1-based character position of the number.
        position: usize,
    },
    /// A unit letter that is not one of y, d, h, m, s.
    #[error("unknown unit {unit:?}; the units are y, d, h, m and s")]
    UnknownUnit {
        /// The unit as written.
        unit: char,
    },
    /// A unit written twice.
    #[error("the unit {unit:?} appears more than once")]
    RepeatedUnit {
        /// The repeated unit.
        unit: char,
    },
    /// Units out of order.
    #[error("units must appear in the order y, d, h, m, s")]
    UnitsOutOfOrder,
    /// The text is longer than [`MAX_DURATION_CHARS`].
    #[error("it is longer than {MAX_DURATION_CHARS} bytes")]
    TooLong,
    /// Longer than [`MAX_DURATION_SECS`].
    #[error("it is longer than 10 years (10y), the longest duration accepted")]
    TooLarge,
}

fn parse_seconds(input: &str) -> Result<u64, DurationProblem> {
    if input.is_empty() {
        return Err(DurationProblem::Empty);
    }
    if input.len() > MAX_DURATION_CHARS {
        return Err(DurationProblem::TooLong);
    }
    let chars: Vec<char> = input.chars().collect();
    let mut total: u64 = 0;
    let mut next_unit = 0;
    let mut i = 0;
    while i < chars.len() {
        let start = i;
        let mut number: u64 = 0;
        while let Some(digit) = chars.get(i).and_then(|c| c.to_digit(10)) {
            number = number
                .checked_mul(10)
                .and_then(|n| n.checked_add(u64::from(digit)))
                .ok_or(DurationProblem::TooLarge)?;
            i += 1;
        }
        if i == start {
            return Err(DurationProblem::ExpectedNumber {
                position: start + 1,
            });
        }
        let Some(&unit) = chars.get(i) else {
            return Err(DurationProblem::MissingUnit {
                position: start + 1,
            });
        };
        let Some(index) = UNITS.iter().position(|(u, _)| *u == unit) else {
            return Err(DurationProblem::UnknownUnit { unit });
        };
        if index + 1 == next_unit {
            return Err(DurationProblem::RepeatedUnit { unit });
        }
        if index < next_unit {
            return Err(DurationProblem::UnitsOutOfOrder);
        }
        next_unit = index + 1;
        total = number
            .checked_mul(UNITS[index].1)
            .and_then(|seconds| total.checked_add(seconds))
            .filter(|total| *total <= MAX_DURATION_SECS)
            .ok_or(DurationProblem::TooLarge)?;
        i += 1;
    }
    Ok(total)
}

fn capped<E: de::Error>(seconds: u64) -> Result<HumanDuration, E> {
    if seconds > MAX_DURATION_SECS {
        return Err(E::custom(format!(
            "{seconds} seconds is not a duration: {}",
            DurationProblem::TooLarge
        )));
    }
    Ok(HumanDuration(seconds))
}

fn echo(input: &str) -> String {
    if input.chars().count() <= MAX_ECHOED_CHARS {
        input.to_owned()
    } else {
        let mut cut: String = input.chars().take(MAX_ECHOED_CHARS).collect();
        cut.push('…');
        cut
    }
}

impl fmt::Display for HumanDuration {
    /// The canonical form: largest units first, zero parts left out, `0s` for zero.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.0;
        for (unit, seconds) in UNITS {
            let count = rest / seconds;
            if count > 0 {
                write!(f, "{count}{unit}")?;
                rest %= seconds;
            }
        }
        Ok(())
    }
}

impl FromStr for HumanDuration {
    type Err = DurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for HumanDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for HumanDuration {
    /// Reads a duration string, or a non-negative integer number of seconds.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(DurationVisitor)
    }
}

struct DurationVisitor;

impl de::Visitor<'_> for DurationVisitor {
    type Value = HumanDuration;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a duration such as 1h, 10m30s or 1y2d, or a whole number of seconds")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<HumanDuration, E> {
        HumanDuration::parse(v).map_err(E::custom)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<HumanDuration, E> {
        capped(v)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<HumanDuration, E> {
        match u64::try_from(v) {
            Ok(v) => capped(v),
            Err(_) => Err(E::invalid_value(de::Unexpected::Signed(v), &self)),
        }
    }
}

impl utoipa::PartialSchema for HumanDuration {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::Type::String)
            .description(Some(
                "A duration `[<n>y][<n>d][<n>h][<n>m][<n>s]` (y = 365 days); \
                 a whole number of seconds is also accepted on input.",
            ))
            .pattern(Some("^([0-9]+y)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"))
            .examples(["1h", "10m30s", "1y2d"])
            .into()
    }
}

impl utoipa::ToSchema for HumanDuration {}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(input: &str) -> u64 {
        HumanDuration::parse(input).unwrap().as_secs()
    }

    fn problem(input: &str) -> DurationProblem {
        HumanDuration::parse(input).unwrap_err().problem().clone()
    }

    #[test]
    fn durations_are_capped_at_ten_years() {
        assert_eq!(secs("10y"), MAX_DURATION_SECS);
        assert_eq!(secs("3650d"), MAX_DURATION_SECS);
        for too_long in [
            "11y",
            "10y1s",
            "3651d",
            "87601h",
            "315360001s",
            "99999999999999999999y",
        ] {
            assert_eq!(problem(too_long), DurationProblem::TooLarge, "{too_long}");
        }
        assert_eq!(
            problem(&format!("{}1h", "0".repeat(MAX_DURATION_CHARS))),
            DurationProblem::TooLong
        );
        assert_eq!(
            secs(&format!("{}1h", "0".repeat(MAX_DURATION_CHARS - 2))),
            3_600
        );
        let error = HumanDuration::parse("11y").unwrap_err().to_string();
        assert!(error.contains("10 years"), "{error}");
        let from_number: Result<HumanDuration, _> = serde_json::from_str("315360001");
        assert!(from_number.is_err());
        let from_number: HumanDuration = serde_json::from_str("315360000").unwrap();
        assert_eq!(from_number.as_secs(), MAX_DURATION_SECS);
    }

    #[test]
    fn parses_every_unit_combined_in_order() {
        assert_eq!(secs("1y2d5h"), 365 * 86_400 + 2 * 86_400 + 5 * 3_600);
        assert_eq!(secs("1y1d1h1m1s"), 31_536_000 + 86_400 + 3_600 + 60 + 1);
    }

    #[test]
    fn parses_single_units_and_zero() {
        assert_eq!(secs("5h"), 18_000);
        assert_eq!(secs("10m30s"), 630);
        assert_eq!(secs("0s"), 0);
        assert_eq!(secs("90s"), 90);
        assert_eq!(secs("007m"), 420);
    }

    #[test]
    fn rejects_units_out_of_order_and_says_the_order() {
        let error = HumanDuration::parse("5h1d").unwrap_err();
        assert_eq!(error.problem(), &DurationProblem::UnitsOutOfOrder);
        assert_eq!(
            error.to_string(),
            "\"5h1d\" is not a duration: units must appear in the order y, d, h, m, s \
             (examples: 1h, 10m30s, 1y2d)"
        );
    }

    #[test]
    fn rejects_unknown_units() {
        assert_eq!(problem("1x"), DurationProblem::UnknownUnit { unit: 'x' });
        assert_eq!(problem("1H"), DurationProblem::UnknownUnit { unit: 'H' });
    }

    #[test]
    fn rejects_a_unit_without_a_number() {
        assert_eq!(
            problem("h"),
            DurationProblem::ExpectedNumber { position: 1 }
        );
        assert_eq!(
            problem("1hm"),
            DurationProblem::ExpectedNumber { position: 3 }
        );
    }

    #[test]
    fn rejects_a_number_without_a_unit() {
        assert_eq!(problem("5"), DurationProblem::MissingUnit { position: 1 });
        assert_eq!(
            problem("1h30"),
            DurationProblem::MissingUnit { position: 3 }
        );
    }

    #[test]
    fn rejects_empty_input() {
        assert_eq!(problem(""), DurationProblem::Empty);
    }

    #[test]
    fn rejects_repeated_units() {
        assert_eq!(problem("1h1h"), DurationProblem::RepeatedUnit { unit: 'h' });
    }

    #[test]
    fn rejects_spaces_signs_and_decimals() {
        assert_eq!(
            problem(" 1h"),
            DurationProblem::ExpectedNumber { position: 1 }
        );
        assert_eq!(
            problem("1h "),
            DurationProblem::ExpectedNumber { position: 3 }
        );
        assert_eq!(problem("1 h"), DurationProblem::UnknownUnit { unit: ' ' });
        assert_eq!(
            problem("-1h"),
            DurationProblem::ExpectedNumber { position: 1 }
        );
        assert_eq!(
            problem("+1h"),
            DurationProblem::ExpectedNumber { position: 1 }
        );
        assert_eq!(problem("1.5h"), DurationProblem::UnknownUnit { unit: '.' });
    }

    #[test]
    fn rejects_durations_that_overflow_seconds() {
        assert_eq!(problem("18446744073709551616s"), DurationProblem::TooLarge);
        assert_eq!(problem("584942417356y"), DurationProblem::TooLarge);
        assert_eq!(problem("584942417355y27d"), DurationProblem::TooLarge);
        assert_eq!(problem("18446744073709551615s"), DurationProblem::TooLarge);
    }

    #[test]
    fn error_messages_cut_long_inputs() {
        let message = HumanDuration::parse(&"x".repeat(1000))
            .unwrap_err()
            .to_string();
        assert!(
            message.starts_with(&format!("\"{}…\"", "x".repeat(64))),
            "{message}"
        );
    }

    #[test]
    fn displays_the_canonical_form_with_the_largest_units() {
        let shown = |s: u64| HumanDuration::from_secs(s).to_string();
        assert_eq!(shown(86_400), "1d");
        assert_eq!(shown(90), "1m30s");
        assert_eq!(shown(0), "0s");
        assert_eq!(shown(31_536_000), "1y");
        assert_eq!(shown(31_536_000 + 2 * 86_400 + 5 * 3_600), "1y2d5h");
        assert_eq!(shown(3_601), "1h1s");
    }

    #[test]
    fn canonical_form_parses_back_to_the_same_duration() {
        for seconds in [
            0,
            1,
            59,
            60,
            61,
            3_599,
            3_600,
            86_399,
            86_401,
            31_535_999,
            MAX_DURATION_SECS,
        ] {
            let duration = HumanDuration::from_secs(seconds);
            assert_eq!(
                HumanDuration::parse(&duration.to_string()).unwrap(),
                duration
            );
        }
    }

    #[test]
    fn converts_to_std_and_from_str() {
        let duration: HumanDuration = "2m".parse().unwrap();
        assert_eq!(duration.as_std(), std::time::Duration::from_secs(120));
        assert_eq!(HumanDuration::from_secs(120), duration);
    }

    #[test]
    fn serializes_as_the_canonical_string() {
        let json = serde_json::to_string(&HumanDuration::from_secs(5_400)).unwrap();
        assert_eq!(json, "\"1h30m\"");
    }

    #[test]
    fn deserializes_from_a_string_or_whole_seconds() {
        let from_string: HumanDuration = serde_json::from_str("\"10m30s\"").unwrap();
        assert_eq!(from_string.as_secs(), 630);
        let from_number: HumanDuration = serde_json::from_str("3600").unwrap();
        assert_eq!(from_number.as_secs(), 3_600);
    }

    #[test]
    fn deserializing_refuses_negative_numbers_floats_and_bad_strings() {
        let negative = serde_json::from_str::<HumanDuration>("-5").unwrap_err();
        assert!(
            negative
                .to_string()
                .starts_with("invalid value: integer `-5`, expected a duration")
        );
        let float = serde_json::from_str::<HumanDuration>("1.5").unwrap_err();
        assert!(
            float
                .to_string()
                .starts_with("invalid type: floating point `1.5`")
        );
        let bad = serde_json::from_str::<HumanDuration>("\"5h1d\"").unwrap_err();
        assert!(
            bad.to_string()
                .contains("units must appear in the order y, d, h, m, s")
        );
    }

    #[test]
    fn orders_by_length() {
        assert!(HumanDuration::parse("59m").unwrap() < HumanDuration::parse("1h").unwrap());
    }
}
