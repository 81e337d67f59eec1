//! JSON Web Keys (RFC 7517) and their RFC 7638 thumbprints, which are Sigil's key ids.
//! Private members are read only so they can be detected and refused; nothing here writes
//! or prints them.

use std::fmt;

use aws_lc_rs::digest;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use crate::{JoseError, b64, strict_json};

/// A JSON Web Key as published in a JWKS. Unknown members (`x5c`, `x5t`, ...) are ignored.
/// Private members are read so they can be refused, but never serialized or debug-printed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    /// Key type: `EC`, `RSA` or `OKP` (anything else is refused when verifying).
    pub kty: String,
    /// Curve for `EC` and `OKP` keys: `P-256`, `P-384`, `P-521`, `Ed25519`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x coordinate or OKP public key, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate, base64url.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// RSA modulus, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url big-endian.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
    /// Key id; Sigil's own keys use the RFC 7638 thumbprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    /// The one algorithm this key is for, when pinned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    /// Intended use: `sig` or `enc`.
    #[serde(default, rename = "use", skip_serializing_if = "Option::is_none")]
    pub use_: Option<String>,
    /// Permitted operations (`verify`, `sign`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_ops: Option<Vec<String>>,
    /// Private member (EC/OKP/RSA private exponent); read only to refuse it.
    #[serde(default, deserialize_with = "present", skip_serializing)]
    pub d: Option<Value>,
    /// Private member (RSA prime); read only to refuse it.
    #[serde(default, deserialize_with = "present", skip_serializing)]
    pub p: Option<Value>,
    /// Private member (RSA prime); read only to refuse it.
    #[serde(default, deserialize_with = "present", skip_serializing)]
    pub q: Option<Value>,
    /// Private member (RSA CRT exponent); read only to refuse it.
    #[serde(default, deserialize_with = "present", skip_serializing)]
    pub dp: Option<Value>,
    /// Private member (RSA CRT exponent); read only to refuse it.
    #[serde(default, deserialize_with = "present", skip_serializing)]
    pub dq: Option<Value>,
    /// Private member (RSA CRT coefficient); read only to refuse it.
    #[serde(default, deserialize_with = "present", skip_serializing)]
    pub qi: Option<Value>,
    /// Private member (RSA other primes); read only to refuse it.
    #[serde(default, deserialize_with = "present", skip_serializing)]
    pub oth: Option<Value>,
    /// Private member (symmetric key value); read only to refuse it.
    #[serde(default, deserialize_with = "present", skip_serializing)]
    pub k: Option<Value>,
}

/// A JWK Set (RFC 7517 §5), the body of a `jwks.json`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JwkSet {
    /// The keys, in publication order.
    pub keys: Vec<Jwk>,
}

impl Jwk {
    /// A public JWK with only `kty` set; fill in the members for its type.
    pub fn new(kty: &str) -> Self {
        Jwk {
            kty: kty.to_owned(),
            crv: None,
            x: None,
            y: None,
            n: None,
            e: None,
            kid: None,
            alg: None,
            use_: None,
            key_ops: None,
            d: None,
            p: None,
            q: None,
            dp: None,
            dq: None,
            qi: None,
            oth: None,
            k: None,
        }
    }

    /// Parses one JWK from JSON, refusing duplicate members.
    pub fn from_json(bytes: &[u8]) -> Result<Self, JoseError> {
        let value = strict_json::parse_value(bytes, "JWK is not a JSON object")?;
        serde_json::from_value(value).map_err(|_| JoseError::Malformed("JWK has invalid members"))
    }

    /// The RFC 7638 SHA-256 thumbprint, base64url: the required members only, in
    /// lexicographic order, without whitespace. Optional members (`kid`, `alg`) do not count.
    pub fn thumbprint(&self) -> Result<String, JoseError> {
        let kty = Some(self.kty.as_str());
        // RFC 7638 §3.2: the required members, already in lexicographic order.
        let members = match self.kty.as_str() {
            "EC" => vec![
                ("crv", self.crv.as_deref()),
                ("kty", kty),
                ("x", self.x.as_deref()),
                ("y", self.y.as_deref()),
            ],
            "RSA" => vec![
                ("e", self.e.as_deref()),
                ("kty", kty),
                ("n", self.n.as_deref()),
            ],
            "OKP" => vec![
                ("crv", self.crv.as_deref()),
                ("kty", kty),
                ("x", self.x.as_deref()),
            ],
            _ => return Err(JoseError::UnsupportedKey(format!("kty {:?}", self.kty))),
        };
        let mut canonical = String::from("{");
        for (name, value) in members {
            let value = value.ok_or(JoseError::Malformed("JWK lacks a required member"))?;
            let value = serde_json::to_string(value)
                .map_err(|_| JoseError::Malformed("JWK member cannot be encoded"))?;
            if canonical.len() > 1 {
                canonical.push(',');
            }
            canonical.push('"');
            canonical.push_str(name);
            canonical.push_str("\":");
            canonical.push_str(&value);
        }
        canonical.push('}');
        Ok(b64::encode(
            digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref(),
        ))
    }

    /// Whether any private member (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`) is present,
    /// even as `null`.
    pub fn has_private_members(&self) -> bool {
        [
            &self.d, &self.p, &self.q, &self.dp, &self.dq, &self.qi, &self.oth, &self.k,
        ]
        .iter()
        .any(|member| member.is_some())
    }
}

impl JwkSet {
    /// Parses a JWKS document, refusing duplicate members anywhere in it.
    pub fn from_json(bytes: &[u8]) -> Result<Self, JoseError> {
        let value = strict_json::parse_value(bytes, "JWKS is not a JSON object")?;
        serde_json::from_value(value).map_err(|_| JoseError::Malformed("JWKS has invalid members"))
    }

    /// The first key whose `kid` equals `kid`.
    pub fn find(&self, kid: &str) -> Option<&Jwk> {
        self.keys.iter().find(|key| key.kid.as_deref() == Some(kid))
    }
}

impl fmt::Debug for Jwk {
    /// Public members as they are; private members only as `[redacted]` when present.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |member: &Option<Value>| member.as_ref().map(|_| "[redacted]");
        formatter
            .debug_struct("Jwk")
            .field("kty", &self.kty)
            .field("crv", &self.crv)
            .field("x", &self.x)
            .field("y", &self.y)
            .field("n", &self.n)
            .field("e", &self.e)
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("use", &self.use_)
            .field("key_ops", &self.key_ops)
            .field("d", &redacted(&self.d))
            .field("p", &redacted(&self.p))
            .field("q", &redacted(&self.q))
            .field("dp", &redacted(&self.dp))
            .field("dq", &redacted(&self.dq))
            .field("qi", &redacted(&self.qi))
            .field("oth", &redacted(&self.oth))
            .field("k", &redacted(&self.k))
            .finish()
    }
}

/// Deserializes a member that is present, even as `null`, into `Some`.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_keys;

    #[test]
    fn thumbprint_matches_rfc7638_example() {
        let jwk = Jwk::from_json(test_keys::RFC7638_RSA_JWK.as_bytes()).unwrap();
        assert_eq!(jwk.kid.as_deref(), Some("2011-04-29"));
        assert_eq!(
            jwk.thumbprint().unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn thumbprint_matches_rfc8037_ed25519_example() {
        let mut jwk = Jwk::new("OKP");
        jwk.crv = Some("Ed25519".into());
        jwk.x = Some(test_keys::RFC8037_X.into());
        assert_eq!(
            jwk.thumbprint().unwrap(),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn thumbprint_ignores_optional_members() {
        let mut jwk = Jwk::from_json(test_keys::RFC7638_RSA_JWK.as_bytes()).unwrap();
        let before = jwk.thumbprint().unwrap();
        jwk.kid = Some("other".into());
        jwk.use_ = Some("sig".into());
        assert_eq!(jwk.thumbprint().unwrap(), before);
        jwk.e = Some("AQAC".into());
        assert_ne!(jwk.thumbprint().unwrap(), before);
    }

    #[test]
    fn thumbprint_requires_members_and_known_kty() {
        let mut jwk = Jwk::new("EC");
        jwk.crv = Some("P-256".into());
        jwk.x = Some("AA".into());
        assert!(matches!(jwk.thumbprint(), Err(JoseError::Malformed(_))));
        assert!(matches!(
            Jwk::new("oct").thumbprint(),
            Err(JoseError::UnsupportedKey(_))
        ));
    }

    #[test]
    fn private_members_are_detected_even_when_null() {
        let jwk = Jwk::from_json(br#"{"kty":"OKP","crv":"Ed25519","x":"AA","d":null}"#).unwrap();
        assert!(jwk.has_private_members());
        let jwk = Jwk::from_json(br#"{"kty":"oct","k":"c2VjcmV0"}"#).unwrap();
        assert!(jwk.has_private_members());
        let jwk = Jwk::from_json(test_keys::RFC7638_RSA_JWK.as_bytes()).unwrap();
        assert!(!jwk.has_private_members());
    }

    #[test]
    fn private_members_are_never_serialized_or_printed() {
        let jwk = Jwk::from_json(
            br#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"c2VjcmV0LXNjYWxhcg"}"#,
        )
        .unwrap();
        assert!(jwk.has_private_members());
        assert_eq!(
            serde_json::to_string(&jwk).unwrap(),
            r#"{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}"#
        );
        let debug = format!("{jwk:?}");
        assert!(debug.contains(r#"d: Some("[redacted]")"#), "{debug}");
        assert!(!debug.contains("c2VjcmV0"), "{debug}");
    }

    #[test]
    fn serialization_skips_absent_members_and_renames_use() {
        let mut jwk = Jwk::new("OKP");
        jwk.crv = Some("Ed25519".into());
        jwk.x = Some("AA".into());
        jwk.use_ = Some("sig".into());
        assert_eq!(
            serde_json::to_string(&jwk).unwrap(),
            r#"{"kty":"OKP","crv":"Ed25519","x":"AA","use":"sig"}"#
        );
    }

    #[test]
    fn jwks_parsing_refuses_duplicates_and_finds_by_kid() {
        let text = format!(r#"{{"keys":[{}]}}"#, test_keys::RFC7638_RSA_JWK);
        let set = JwkSet::from_json(text.as_bytes()).unwrap();
        assert_eq!(set.find("2011-04-29").map(|k| k.kty.as_str()), Some("RSA"));
        assert!(set.find("missing").is_none());
        let duplicated = br#"{"keys":[{"kty":"RSA","n":"AQAB","n":"AQAB","e":"AQAB"}]}"#;
        assert_eq!(
            JwkSet::from_json(duplicated),
            Err(JoseError::DuplicateMember("n".into()))
        );
    }
}
