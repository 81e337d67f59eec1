//! The one reader of bearer tokens, for every endpoint: `Authorization` needs the `Bearer`
//! scheme (any case, RFC 7235 §2.1); a custom header or a cookie carries the token either bare
//! or after `Bearer `. `AuthRefused` names why a credential could not be read or used.

use axum::http::{HeaderMap, header};

/// Why the caller's credential was not accepted, with a stable machine-readable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthRefused {
    /// No credential at all.
    #[error("a bearer token is required")]
    Missing,
    /// A header that should carry a token holds bytes that are not ASCII.
    #[error("the token is malformed: the {header} header is not ASCII")]
    NotAscii {
        /// The header, as people write it.
        header: String,
    },
    /// `Authorization` without the `Bearer` scheme.
    #[error("the token is malformed: expected `Authorization: Bearer <token>`")]
    NotBearer,
    /// The token arrived in another header than the one its issuer names.
    #[error("the token is malformed: tokens of this issuer must arrive in the `{expected}` header")]
    WrongHeader {
        /// The header the issuer names.
        expected: String,
    },
    /// A login token from another trusted issuer than the one in the path.
    #[error("the token is malformed: the token comes from `{actual}`, not `{expected}`")]
    WrongIssuer {
        /// The trusted issuer in the path.
        expected: String,
        /// The trusted issuer that verified the token.
        actual: String,
    },
    /// The token expires before anything could be issued for it.
    #[error("the token has expired")]
    Expired,
}

impl AuthRefused {
    /// The `error_code` of the 401 body.
    pub fn code(&self) -> &'static str {
        match self {
            AuthRefused::Missing => "token_missing",
            AuthRefused::NotAscii { .. }
            | AuthRefused::NotBearer
            | AuthRefused::WrongHeader { .. }
            | AuthRefused::WrongIssuer { .. } => "token_malformed",
            AuthRefused::Expired => "token_expired",
        }
    }
}

/// Where a token is carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPlace<'a> {
    /// A request header (lower case), `authorization` included.
    Header(&'a str),
    /// A cookie of this name.
    #[cfg_attr(
        not(test),
        expect(
            dead_code,
            reason = "gates (DESIGN §8) read tokens from a configured cookie"
        )
    )]
    Cookie(&'a str),
}

/// The token in `place`; `None` when the place is absent, refused when it is present but
/// holds no token.
pub fn read_token<'h>(
    headers: &'h HeaderMap,
    place: TokenPlace<'_>,
) -> Result<Option<&'h str>, AuthRefused> {
    let value = match place {
        TokenPlace::Header(name) => match headers.get(name) {
            None => return Ok(None),
            Some(value) => value.to_str().map_err(|_| AuthRefused::NotAscii {
                header: display_name(name),
            })?,
        },
        TokenPlace::Cookie(name) => match cookie(headers, name)? {
            None => return Ok(None),
            Some(value) => value,
        },
    };
    let value = value.trim();
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ if place == TokenPlace::Header("authorization") => return Err(AuthRefused::NotBearer),
        _ => value,
    };
    // A place that is present but empty is refused, never skipped for the next one.
    match (token.is_empty(), place) {
        (true, TokenPlace::Header("authorization")) => Err(AuthRefused::NotBearer),
        (true, _) => Err(AuthRefused::Missing),
        (false, _) => Ok(Some(token)),
    }
}

/// The value of cookie `name` (RFC 6265 §5.4: `name=value` pairs separated by `; `).
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, AuthRefused> {
    for value in headers.get_all(header::COOKIE) {
        let value = value.to_str().map_err(|_| AuthRefused::NotAscii {
            header: "Cookie".to_owned(),
        })?;
        let found = value
            .split(';')
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.trim_matches('"'));
        if found.is_some() {
            return Ok(found);
        }
    }
    Ok(None)
}

fn display_name(name: &str) -> String {
    if name == "authorization" {
        "Authorization".to_owned()
    } else {
        name.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn authorization_scheme_is_case_insensitive() {
        for value in ["Bearer abc", "bearer abc", "BEARER  abc ", " Bearer abc"] {
            let map = headers(&[("authorization", value)]);
            assert_eq!(
                read_token(&map, TokenPlace::Header("authorization")),
                Ok(Some("abc")),
                "{value:?}"
            );
        }
    }

    #[test]
    fn authorization_without_bearer_scheme_is_refused() {
        for value in ["abc", "Basic abc", "Bearer", "Bearer   "] {
            let map = headers(&[("authorization", value)]);
            assert_eq!(
                read_token(&map, TokenPlace::Header("authorization")),
                Err(AuthRefused::NotBearer),
                "{value:?}"
            );
        }
    }

    #[test]
    fn custom_headers_and_cookies_take_bare_or_bearer_tokens() {
        let map = headers(&[
            ("x-token", "bEaReR abc"),
            ("x-bare", "abc"),
            ("cookie", "a=1; session=abc; b=2"),
        ]);
        assert_eq!(
            read_token(&map, TokenPlace::Header("x-token")),
            Ok(Some("abc"))
        );
        assert_eq!(
            read_token(&map, TokenPlace::Header("x-bare")),
            Ok(Some("abc"))
        );
        assert_eq!(
            read_token(&map, TokenPlace::Cookie("session")),
            Ok(Some("abc"))
        );
        assert_eq!(read_token(&map, TokenPlace::Cookie("missing")), Ok(None));
        assert_eq!(read_token(&map, TokenPlace::Header("x-absent")), Ok(None));
    }

    #[test]
    fn a_present_but_empty_place_is_refused_not_skipped() {
        let map = headers(&[("x-token", "  "), ("cookie", "session=")]);
        assert_eq!(
            read_token(&map, TokenPlace::Header("x-token")),
            Err(AuthRefused::Missing)
        );
        assert_eq!(
            read_token(&map, TokenPlace::Cookie("session")),
            Err(AuthRefused::Missing)
        );
    }

    #[test]
    fn non_ascii_header_is_refused_naming_it() {
        let mut map = HeaderMap::new();
        map.insert("x-token", HeaderValue::from_bytes(b"\xff").unwrap());
        assert_eq!(
            read_token(&map, TokenPlace::Header("x-token")),
            Err(AuthRefused::NotAscii {
                header: "x-token".into()
            })
        );
    }
}
