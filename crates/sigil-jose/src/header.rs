//! The JWS protected header as read from a token. `jku`, `x5u`, `x5c` and `jwk` are recorded so
//! callers can log them, and never followed: keys come from configuration, not from the token.

use serde_json::{Map, Value};

use crate::{Algorithm, JoseError};

/// A validated JWS protected header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// The signature algorithm; `none`, `HS*` and unknown names never get this far.
    pub alg: Algorithm,
    /// The key id, if the token names one.
    pub kid: Option<String>,
    /// The media type, such as `JWT` or `at+jwt`; checking it is the caller's business.
    pub typ: Option<String>,
    /// The header has a `jku` (a JWKS URL). Recorded, never fetched.
    pub has_jku: bool,
    /// The header has an `x5u` (a certificate URL). Recorded, never fetched.
    pub has_x5u: bool,
    /// The header has an `x5c` (a certificate chain). Recorded, never trusted.
    pub has_x5c: bool,
    /// The header embeds a `jwk`. Recorded, never trusted.
    pub has_jwk: bool,
    /// Every member, as parsed (duplicates were refused).
    pub raw: Map<String, Value>,
}

impl Header {
    /// Validates a parsed header object.
    pub(crate) fn from_map(raw: Map<String, Value>) -> Result<Header, JoseError> {
        let alg = match raw.get("alg") {
            Some(Value::String(name)) => Algorithm::from_header_value(name)?,
            Some(_) => return Err(JoseError::Malformed("alg is not a string")),
            None => return Err(JoseError::Malformed("header has no alg")),
        };
        if let Some(crit) = raw.get("crit") {
            refuse_critical(crit)?;
        }
        // RFC 7797: an unencoded payload changes what is signed; Sigil never uses one.
        match raw.get("b64") {
            None | Some(Value::Bool(true)) => {}
            Some(_) => {
                return Err(JoseError::Malformed(
                    "unencoded payload (b64) is not supported",
                ));
            }
        }
        let kid = optional_string(&raw, "kid", "kid is not a string")?;
        let typ = optional_string(&raw, "typ", "typ is not a string")?;
        Ok(Header {
            alg,
            kid,
            typ,
            has_jku: raw.contains_key("jku"),
            has_x5u: raw.contains_key("x5u"),
            has_x5c: raw.contains_key("x5c"),
            has_jwk: raw.contains_key("jwk"),
            raw,
        })
    }
}

/// RFC 7515 §4.1.11: `crit` is a non-empty array of names the recipient must understand.
/// This crate understands no extension, so any valid `crit` is refused by its first name.
fn refuse_critical(crit: &Value) -> Result<(), JoseError> {
    let names = crit
        .as_array()
        .ok_or(JoseError::Malformed("crit is not an array"))?;
    match names.first() {
        None => Err(JoseError::Malformed("crit is empty")),
        Some(Value::String(name)) => Err(JoseError::UnsupportedCritical(
            name.chars().take(64).collect(),
        )),
        Some(_) => Err(JoseError::Malformed("crit holds a non-string")),
    }
}

fn optional_string(
    raw: &Map<String, Value>,
    name: &str,
    wrong_type: &'static str,
) -> Result<Option<String>, JoseError> {
    match raw.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(JoseError::Malformed(wrong_type)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn header(value: Value) -> Result<Header, JoseError> {
        match value {
            Value::Object(map) => Header::from_map(map),
            _ => panic!("test header must be an object"),
        }
    }

    #[test]
    fn reads_alg_kid_typ_and_records_key_hints() {
        let parsed = header(json!({
            "alg": "ES256", "kid": "k1", "typ": "at+jwt",
            "jku": "https://evil.example/jwks", "x5c": ["AA"]
        }))
        .unwrap();
        assert_eq!(parsed.alg, Algorithm::Es256);
        assert_eq!(parsed.kid.as_deref(), Some("k1"));
        assert_eq!(parsed.typ.as_deref(), Some("at+jwt"));
        assert!(parsed.has_jku && parsed.has_x5c);
        assert!(!parsed.has_x5u && !parsed.has_jwk);
    }

    #[test]
    fn refuses_missing_or_non_string_alg() {
        assert_eq!(
            header(json!({"kid": "k"})),
            Err(JoseError::Malformed("header has no alg"))
        );
        assert_eq!(
            header(json!({"alg": ["ES256"]})),
            Err(JoseError::Malformed("alg is not a string"))
        );
    }

    #[test]
    fn refuses_crit_that_is_not_an_array_of_strings() {
        assert_eq!(
            header(json!({"alg": "ES256", "crit": "exp"})),
            Err(JoseError::Malformed("crit is not an array"))
        );
        assert_eq!(
            header(json!({"alg": "ES256", "crit": [1]})),
            Err(JoseError::Malformed("crit holds a non-string"))
        );
    }

    #[test]
    fn refuses_non_string_kid_and_unencoded_payload() {
        assert_eq!(
            header(json!({"alg": "ES256", "kid": 7})),
            Err(JoseError::Malformed("kid is not a string"))
        );
        assert!(header(json!({"alg": "ES256", "b64": true})).is_ok());
        assert_eq!(
            header(json!({"alg": "ES256", "b64": false})),
            Err(JoseError::Malformed(
                "unencoded payload (b64) is not supported"
            ))
        );
    }
}
