//! Path patterns: `/jwt-issuers/*/roles/deployer/mint`, `/signing-keys/**`. Compiled once into
//! segments; matching walks the concrete path in place, with no allocation, no decoding and no
//! normalisation, so `%2F`, `..`, case and trailing slashes only match what a rule spells out.

use std::fmt;
use std::str::FromStr;

use crate::PolicyRefused;

/// A compiled, absolute path pattern.
///
/// Segments are separated by `/`. A literal segment matches itself exactly (case-sensitive,
/// byte for byte); `*` matches exactly one segment; a trailing `**` matches one or more
/// segments (`/signing-keys/k1/**` matches `/signing-keys/k1/rotate` and
/// `/signing-keys/k1/versions/2/taint`, but not `/signing-keys/k1` itself: write both rules to
/// cover both). Wildcards never match an empty, `.` or `..` segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathPattern {
    source: String,
    segments: Vec<Segment>,
    any_depth: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(Box<str>),
    One,
}

impl PathPattern {
    /// The longest pattern accepted, in characters.
    pub const MAX_LENGTH: usize = 1024;

    /// Compiles a pattern, refusing anything ambiguous: relative paths, empty segments (`//`),
    /// a trailing `/`, `.` and `..`, characters outside `[A-Za-z0-9._*-]`, `*` mixed with text,
    /// `**` other than last, and patterns over [`PathPattern::MAX_LENGTH`] characters.
    pub fn parse(text: &str) -> Result<PathPattern, PolicyRefused> {
        let length = text.chars().count();
        if length > Self::MAX_LENGTH {
            return Err(PolicyRefused::PathTooLong {
                length,
                max: Self::MAX_LENGTH,
            });
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(PolicyRefused::PathNotAbsolute);
        };
        let count = rest.split('/').count();
        let mut segments = Vec::with_capacity(count);
        let mut any_depth = false;
        for (index, segment) in rest.split('/').enumerate() {
            let last = index + 1 == count;
            match parse_segment(index, segment, last)? {
                Parsed::Segment(compiled) => segments.push(compiled),
                Parsed::AnyDepth => any_depth = true,
            }
        }
        Ok(PathPattern {
            source: text.to_owned(),
            segments,
            any_depth,
        })
    }

    /// `/**`: every path.
    pub(crate) fn everything() -> PathPattern {
        PathPattern {
            source: "/**".to_owned(),
            segments: Vec::new(),
            any_depth: true,
        }
    }

    /// Whether a concrete path (`/signing-keys/payments/rotate`) is covered by this pattern.
    ///
    /// The path is taken literally: a path that is not absolute, or that has an empty, `.` or
    /// `..` segment where a wildcard would apply, does not match.
    pub fn matches(&self, path: &str) -> bool {
        let Some(rest) = path.strip_prefix('/') else {
            return false;
        };
        let mut segments = rest.split('/');
        for wanted in &self.segments {
            let Some(segment) = segments.next() else {
                return false;
            };
            let matched = match wanted {
                Segment::Literal(literal) => **literal == *segment,
                Segment::One => wildcard_accepts(segment),
            };
            if !matched {
                return false;
            }
        }
        if self.any_depth {
            // DESIGN §3: `**` is one or more segments, never the item itself.
            let mut rest = segments.peekable();
            rest.peek().is_some() && rest.all(wildcard_accepts)
        } else {
            segments.next().is_none()
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }
}

impl fmt::Display for PathPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl FromStr for PathPattern {
    type Err = PolicyRefused;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        PathPattern::parse(text)
    }
}

enum Parsed {
    Segment(Segment),
    AnyDepth,
}

fn parse_segment(index: usize, segment: &str, last: bool) -> Result<Parsed, PolicyRefused> {
    if segment.is_empty() {
        return Err(if last && index > 0 {
            PolicyRefused::TrailingSlash { index }
        } else {
            PolicyRefused::EmptySegment { index }
        });
    }
    if segment == "." || segment == ".." {
        return Err(PolicyRefused::DotSegment {
            index,
            segment: segment.to_owned(),
        });
    }
    if let Some(character) = segment
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '*')))
    {
        return Err(PolicyRefused::ForbiddenCharacter {
            index,
            segment: segment.to_owned(),
            character,
        });
    }
    match segment {
        "*" => Ok(Parsed::Segment(Segment::One)),
        "**" if last => Ok(Parsed::AnyDepth),
        "**" => Err(PolicyRefused::DoubleStarNotLast { index }),
        _ if segment.contains('*') => Err(PolicyRefused::PartialWildcard {
            index,
            segment: segment.to_owned(),
        }),
        _ => Ok(Parsed::Segment(Segment::Literal(segment.into()))),
    }
}

/// What a wildcard may stand for: a real segment, never one that is empty or could be read as
/// a step up or sideways by anything that normalises the path later.
fn wildcard_accepts(segment: &str) -> bool {
    !segment.is_empty() && segment != "." && segment != ".."
}

#[cfg(test)]
mod tests;
