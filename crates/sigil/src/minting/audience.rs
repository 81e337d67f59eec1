//! Audience patterns of a role (`allowed_audiences`), with TLS wildcard semantics (DESIGN §3):
//! `*` matches one or more characters other than `.`, `/`, `?`, `#`, `@`, `\` and `:`, so
//! `https://*.example.com` admits `https://api.example.com` and nothing else shaped like it.
//! Every other character is literal. All patterns compile into one linear-time regex.

use regex::Regex;

/// The characters a `*` never crosses: host label separators and every URL delimiter.
const WILDCARD_CLASS: &str = r"[^./?#@\\:]+";
/// The longest pattern accepted, in bytes.
pub const MAX_AUDIENCE_PATTERN_LENGTH: usize = 1024;

/// A role's allowed audiences, compiled once.
#[derive(Debug, Clone)]
pub struct AudiencePatterns {
    matcher: Option<Regex>,
}

/// Why one audience pattern is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AudiencePatternRefused {
    /// Empty patterns admit nothing and are always a mistake.
    #[error("is empty; write the audience, or a pattern such as https://*.example.com")]
    Empty,
    /// Longer than [`MAX_AUDIENCE_PATTERN_LENGTH`].
    #[error("is longer than {MAX_AUDIENCE_PATTERN_LENGTH} bytes")]
    TooLong,
    /// `**` has no meaning under wildcard rules.
    #[error(
        "has `**`; a `*` matches one host label (one or more characters other than . / ? # @ \\ :)"
    )]
    DoubleStar,
}

impl AudiencePatterns {
    /// Compiles `patterns`; the error lists the index and reason of every bad one.
    pub fn compile(patterns: &[String]) -> Result<Self, Vec<(usize, AudiencePatternRefused)>> {
        let mut refused = Vec::new();
        let mut alternatives = Vec::with_capacity(patterns.len());
        for (index, pattern) in patterns.iter().enumerate() {
            match translate(pattern) {
                Ok(regex) => alternatives.push(regex),
                Err(reason) => refused.push((index, reason)),
            }
        }
        if !refused.is_empty() {
            return Err(refused);
        }
        if alternatives.is_empty() {
            return Ok(Self::none());
        }
        let source = format!("^(?:{})$", alternatives.join("|"));
        let matcher = regex::RegexBuilder::new(&source)
            .size_limit(8 * 1024 * 1024)
            .build()
            .map_err(|_| vec![(0, AudiencePatternRefused::TooLong)])?;
        Ok(Self {
            matcher: Some(matcher),
        })
    }

    /// No patterns: admits nothing.
    pub fn none() -> Self {
        Self { matcher: None }
    }

    /// Whether `audience` matches any pattern.
    pub fn admits(&self, audience: &str) -> bool {
        self.matcher.as_ref().is_some_and(|m| m.is_match(audience))
    }
}

fn translate(pattern: &str) -> Result<String, AudiencePatternRefused> {
    if pattern.is_empty() {
        return Err(AudiencePatternRefused::Empty);
    }
    if pattern.len() > MAX_AUDIENCE_PATTERN_LENGTH {
        return Err(AudiencePatternRefused::TooLong);
    }
    if pattern.contains("**") {
        return Err(AudiencePatternRefused::DoubleStar);
    }
    let pieces: Vec<String> = pattern.split('*').map(regex::escape).collect();
    Ok(pieces.join(WILDCARD_CLASS))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn patterns(list: &[&str]) -> AudiencePatterns {
        let owned: Vec<String> = list.iter().map(|s| (*s).to_owned()).collect();
        AudiencePatterns::compile(&owned).unwrap()
    }

    #[test]
    fn a_star_admits_one_host_label() {
        let p = patterns(&["https://*.example.com"]);
        assert!(p.admits("https://api.example.com"));
        assert!(p.admits("https://a-b-1.example.com"));
    }

    #[test]
    fn a_star_never_crosses_a_url_delimiter_or_a_label() {
        let p = patterns(&["https://*.example.com"]);
        for hostile in [
            "https://evil.com/.example.com",
            "https://evil.com?.example.com",
            "https://evil.com#.example.com",
            "https://evil.com@.example.com",
            "https://evil.com\\.example.com",
            "https://evil.com:443.example.com",
            "https://a.b.example.com",
            "https://.example.com",
            "https://example.com",
            "https://api.example.com/",
            "https://api.example.com.evil.com",
            "http://api.example.com",
            "HTTPS://api.example.com",
        ] {
            assert!(!p.admits(hostile), "{hostile} must not match");
        }
    }

    #[test]
    fn every_other_character_is_literal() {
        let p = patterns(&["https://api.example.com/v1?x=[a]{b}"]);
        assert!(p.admits("https://api.example.com/v1?x=[a]{b}"));
        assert!(!p.admits("https://apixexample.com/v1?x=[a]{b}"));
        assert!(!p.admits("https://api.example.com/v1?x=a"));
    }

    #[test]
    fn no_patterns_admit_nothing() {
        let p = patterns(&[]);
        assert!(!p.admits("https://api.example.com"));
        assert!(!p.admits(""));
    }

    #[test]
    fn bad_patterns_are_refused_with_their_index() {
        let list = vec![
            "https://ok".to_owned(),
            String::new(),
            "https://**".to_owned(),
            "x".repeat(MAX_AUDIENCE_PATTERN_LENGTH + 1),
        ];
        let refused = AudiencePatterns::compile(&list).unwrap_err();
        assert_eq!(
            refused,
            vec![
                (1, AudiencePatternRefused::Empty),
                (2, AudiencePatternRefused::DoubleStar),
                (3, AudiencePatternRefused::TooLong),
            ]
        );
    }

    #[test]
    fn many_stars_against_a_long_audience_stay_linear() {
        let pattern = "*a".repeat(400);
        let p = patterns(&[pattern.as_str()]);
        let audience = format!("{}/", "a".repeat(100_000));
        assert!(!p.admits(&audience));
        assert!(p.admits(&"ba".repeat(400)));
    }
}
