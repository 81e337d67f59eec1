//! Pattern matching and refusal, plus a seeded comparison with a naive reference matcher.

use super::*;

fn pattern(text: &str) -> PathPattern {
    PathPattern::parse(text).unwrap()
}

fn refusal(text: &str) -> String {
    PathPattern::parse(text).unwrap_err().to_string()
}

#[test]
fn literal_pattern_matches_exactly_the_same_path() {
    let p = pattern("/jwt-issuers/payments-api/roles/deployer/mint");
    assert!(p.matches("/jwt-issuers/payments-api/roles/deployer/mint"));
    assert!(!p.matches("/jwt-issuers/payments-api/roles/deployer"));
    assert!(!p.matches("/jwt-issuers/payments-api/roles/deployer/mint/x"));
    assert!(!p.matches("/jwt-issuers/payments-api/roles/deployer2/mint"));
}

#[test]
fn star_matches_any_single_segment() {
    let p = pattern("/jwt-issuers/*/roles/*/mint");
    assert!(p.matches("/jwt-issuers/payments-api/roles/deployer/mint"));
    assert!(p.matches("/jwt-issuers/x/roles/y.z_1/mint"));
    assert!(!p.matches("/jwt-issuers/x/roles/y/rotate"));
}

#[test]
fn star_never_matches_an_empty_segment() {
    let p = pattern("/signing-keys/*/rotate");
    assert!(!p.matches("/signing-keys//rotate"));
    assert!(!pattern("/signing-keys/*").matches("/signing-keys/"));
}

#[test]
fn star_never_matches_two_segments() {
    let p = pattern("/signing-keys/*/rotate");
    assert!(!p.matches("/signing-keys/a/b/rotate"));
    assert!(!pattern("/signing-keys/*").matches("/signing-keys/a/b"));
}

#[test]
fn star_never_matches_a_missing_segment() {
    let p = pattern("/signing-keys/*");
    assert!(!p.matches("/signing-keys"));
}

#[test]
fn trailing_double_star_does_not_match_the_prefix_itself() {
    assert!(!pattern("/jwt-issuers/**").matches("/jwt-issuers"));
    assert!(!pattern("/signing-keys/k1/**").matches("/signing-keys/k1"));
    assert!(pattern("/signing-keys/k1/**").matches("/signing-keys/k1/rotate"));
    assert!(!pattern("/policies/p/**").matches("/policies/p/"));
    assert!(!pattern("/policies/p/**").matches("/policies/p//"));
}

#[test]
fn trailing_double_star_matches_every_depth() {
    let p = pattern("/jwt-issuers/**");
    let mut path = String::from("/jwt-issuers");
    for depth in 1..=8 {
        path.push_str(&format!("/s{depth}"));
        assert!(p.matches(&path), "depth {depth}: {path}");
    }
}

#[test]
fn trailing_double_star_does_not_match_a_longer_sibling_name() {
    let p = pattern("/jwt-issuers/**");
    assert!(!p.matches("/jwt-issuers-extra"));
    assert!(!p.matches("/jwt-issuersx/a"));
    assert!(!p.matches("/signing-keys/a"));
}

#[test]
fn double_star_after_a_star_needs_the_star_segment() {
    let p = pattern("/jwt-issuers/*/**");
    assert!(!p.matches("/jwt-issuers"));
    assert!(!p.matches("/jwt-issuers/a"));
    assert!(p.matches("/jwt-issuers/a/roles"));
    assert!(p.matches("/jwt-issuers/a/roles/b/mint"));
}

#[test]
fn root_pattern_matches_every_well_formed_path() {
    let p = pattern("/**");
    assert!(p.matches("/signing-keys"));
    assert!(p.matches("/jwt-issuers/a/roles/b/mint"));
    assert_eq!(p, PathPattern::everything());
}

#[test]
fn literal_segments_are_case_sensitive() {
    assert!(!pattern("/signing-keys/a").matches("/signing-keys/A"));
    assert!(!pattern("/signing-keys/a").matches("/Signing-keys/a"));
}

#[test]
fn trailing_slash_in_the_path_does_not_match_a_literal_rule() {
    assert!(!pattern("/signing-keys/a").matches("/signing-keys/a/"));
}

#[test]
fn trailing_slash_in_the_path_does_not_match_a_double_star() {
    assert!(!pattern("/signing-keys/**").matches("/signing-keys/"));
    assert!(!pattern("/signing-keys/**").matches("/signing-keys/a/"));
    assert!(!pattern("/**").matches("/"));
}

#[test]
fn percent_encoding_is_not_decoded() {
    assert!(!pattern("/signing-keys/a").matches("/signing-keys/%61"));
    assert!(!pattern("/signing-keys/a/rotate").matches("/signing-keys/a%2Frotate"));
    assert!(!pattern("/signing-keys/*/rotate").matches("/signing-keys/a%2Frotate"));
}

#[test]
fn dot_segments_in_the_path_are_not_normalised() {
    assert!(!pattern("/signing-keys/a").matches("/signing-keys/x/../a"));
    assert!(!pattern("/signing-keys/a").matches("/signing-keys/./a"));
}

#[test]
fn wildcards_never_match_dot_segments() {
    assert!(!pattern("/jwt-issuers/*").matches("/jwt-issuers/.."));
    assert!(!pattern("/jwt-issuers/*").matches("/jwt-issuers/."));
    assert!(!pattern("/jwt-issuers/**").matches("/jwt-issuers/../signing-keys/a"));
    assert!(!pattern("/jwt-issuers/**").matches("/jwt-issuers/a/./b"));
}

#[test]
fn relative_paths_never_match() {
    assert!(!pattern("/**").matches("signing-keys/a"));
    assert!(!pattern("/**").matches(""));
}

#[test]
fn pattern_displays_as_written() {
    let p: PathPattern = "/jwt-issuers/*/roles/**".parse().unwrap();
    assert_eq!(p.as_str(), "/jwt-issuers/*/roles/**");
    assert_eq!(p.to_string(), "/jwt-issuers/*/roles/**");
}

#[test]
fn relative_pattern_is_refused() {
    assert_eq!(
        refusal("jwt-issuers/a"),
        "the path must be absolute: start it with `/`"
    );
    assert_eq!(refusal(""), "the path must be absolute: start it with `/`");
}

#[test]
fn empty_segment_is_refused_with_its_index() {
    assert_eq!(
        PathPattern::parse("/jwt-issuers//roles"),
        Err(PolicyRefused::EmptySegment { index: 1 })
    );
    assert_eq!(
        refusal("/jwt-issuers//roles"),
        "segment 1 is empty: remove the doubled `/`"
    );
}

#[test]
fn bare_slash_is_refused_as_an_empty_segment() {
    assert_eq!(refusal("/"), "segment 0 is empty: remove the doubled `/`");
}

#[test]
fn trailing_slash_is_refused() {
    assert_eq!(
        refusal("/jwt-issuers/a/"),
        "segment 2 is empty: the path ends with `/`; remove it"
    );
}

#[test]
fn dot_segments_are_refused() {
    assert_eq!(
        refusal("/jwt-issuers/../signing-keys"),
        "segment 1 is `..`: `.` and `..` are not allowed"
    );
    assert_eq!(
        refusal("/./jwt-issuers"),
        "segment 0 is `.`: `.` and `..` are not allowed"
    );
}

#[test]
fn dots_inside_a_segment_are_allowed() {
    assert!(pattern("/signing-keys/key.v2/...").matches("/signing-keys/key.v2/..."));
}

#[test]
fn characters_outside_the_segment_alphabet_are_refused() {
    assert_eq!(
        refusal("/signing-keys/a%2Fb"),
        "segment 1 (`a%2Fb`) contains '%'; only A-Z, a-z, 0-9, '.', '_', '-' and the wildcards \
         `*` and `**` are allowed"
    );
    for bad in ["/a b", "/a?x", "/é", "/a:b", "/a\\b", "/a\u{0}"] {
        assert!(
            matches!(
                PathPattern::parse(bad),
                Err(PolicyRefused::ForbiddenCharacter { index: 0, .. })
            ),
            "{bad:?}"
        );
    }
}

#[test]
fn star_mixed_with_text_is_refused() {
    assert_eq!(
        refusal("/jwt-issuers/pay*/roles"),
        "segment 1 (`pay*`) mixes `*` with other characters; a wildcard is a whole segment, \
         `*` or `**`"
    );
    assert!(matches!(
        PathPattern::parse("/a/*b"),
        Err(PolicyRefused::PartialWildcard { index: 1, .. })
    ));
}

#[test]
fn three_stars_are_refused() {
    assert!(matches!(
        PathPattern::parse("/a/***"),
        Err(PolicyRefused::PartialWildcard { index: 1, .. })
    ));
}

#[test]
fn double_star_before_the_last_segment_is_refused() {
    assert_eq!(
        refusal("/jwt-issuers/**/mint"),
        "segment 1 is `**`, which is only allowed as the last segment"
    );
}

#[test]
fn patterns_up_to_1024_characters_are_accepted() {
    let text = format!("/{}", "a".repeat(PathPattern::MAX_LENGTH - 1));
    assert!(pattern(&text).matches(&text));
}

#[test]
fn patterns_over_1024_characters_are_refused() {
    let text = format!("/{}", "a".repeat(PathPattern::MAX_LENGTH));
    assert_eq!(
        refusal(&text),
        "the path is 1025 characters long; the limit is 1024"
    );
    assert_eq!(PathPattern::parse(&text).unwrap_err().code(), "too_long");
    assert_eq!(PathPattern::parse("a").unwrap_err().code(), "invalid");
}

/// A deliberately different formulation: recursive, with `**` trying every split.
fn reference_matches(pattern: &str, path: &str) -> bool {
    fn real(segment: &str) -> bool {
        !matches!(segment, "" | "." | "..")
    }
    fn walk(pattern: &[&str], path: &[&str]) -> bool {
        match pattern.split_first() {
            None => path.is_empty(),
            Some((&"**", rest)) => (1..=path.len())
                .any(|k| path[..k].iter().all(|s| real(s)) && walk(rest, &path[k..])),
            Some((&"*", rest)) => !path.is_empty() && real(path[0]) && walk(rest, &path[1..]),
            Some((literal, rest)) => path.first() == Some(literal) && walk(rest, &path[1..]),
        }
    }
    let Some(path) = path.strip_prefix('/') else {
        return false;
    };
    let pattern: Vec<&str> = pattern[1..].split('/').collect();
    let path: Vec<&str> = path.split('/').collect();
    walk(&pattern, &path)
}

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.next() % choices.len()]
    }
}

#[test]
fn wildcards_agree_with_a_naive_reference_matcher() {
    const PATTERN_SEGMENTS: [&str; 4] = ["a", "b", "A", "*"];
    const PATH_SEGMENTS: [&str; 12] = [
        "a", "a", "b", "b", "A", "ab", "", ".", "..", "%61", "a%2Fb", "b",
    ];
    let mut random = Lcg(0x0051_6711);
    let (mut matched, mut total) = (0, 0);
    for _ in 0..50_000 {
        let mut segments = Vec::new();
        for _ in 0..=random.next() % 4 {
            segments.push(random.pick(&PATTERN_SEGMENTS));
        }
        if random.next().is_multiple_of(2) {
            segments.push("**");
        }
        let text = format!("/{}", segments.join("/"));
        // Half the paths follow the pattern's shape, so that matches are common.
        let mut path = String::new();
        if random.next().is_multiple_of(2) {
            for segment in &segments {
                let count = match *segment {
                    "**" => random.next() % 4,
                    _ => 1,
                };
                for _ in 0..count {
                    let chosen = match *segment {
                        "*" | "**" => random.pick(&PATH_SEGMENTS),
                        literal => literal,
                    };
                    path.push('/');
                    path.push_str(chosen);
                }
            }
        } else {
            if random.next().is_multiple_of(10) {
                path.push_str(random.pick(&PATH_SEGMENTS));
            }
            for _ in 0..random.next() % 7 {
                path.push('/');
                path.push_str(random.pick(&PATH_SEGMENTS));
            }
        }
        let expected = reference_matches(&text, &path);
        assert_eq!(
            pattern(&text).matches(&path),
            expected,
            "{text} on {path:?}"
        );
        matched += usize::from(expected);
        total += 1;
    }
    // Guard against a generator that only ever produces misses.
    assert!(matched * 5 > total, "only {matched} of {total} matched");
}
