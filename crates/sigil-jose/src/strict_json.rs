//! JSON parsing that refuses duplicate member names at every depth. `serde_json` keeps the last
//! duplicate while other parsers keep the first, so `{"sub":"a","sub":"b"}` would mean one thing
//! to Sigil and another to a relying party (RFC 7515 §5.2, RFC 8725 §3.6).

use std::cell::RefCell;
use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::JoseError;

/// Parses `bytes` as a JSON object, refusing duplicate members anywhere inside it.
pub(crate) fn parse_object(
    bytes: &[u8],
    what: &'static str,
) -> Result<Map<String, Value>, JoseError> {
    match parse_value(bytes, what)? {
        Value::Object(map) => Ok(map),
        _ => Err(JoseError::Malformed(what)),
    }
}

/// Parses `bytes` as any JSON value, refusing duplicate members anywhere inside it.
pub(crate) fn parse_value(bytes: &[u8], what: &'static str) -> Result<Value, JoseError> {
    let duplicate = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let parsed = StrictSeed {
        duplicate: &duplicate,
    }
    .deserialize(&mut deserializer)
    .and_then(|value| deserializer.end().map(|()| value));
    match (parsed, duplicate.into_inner()) {
        (_, Some(name)) => Err(JoseError::DuplicateMember(name)),
        (Ok(value), None) => Ok(value),
        (Err(_), None) => Err(JoseError::Malformed(what)),
    }
}

/// Builds a `Value`, recording the first duplicate member name it meets.
#[derive(Clone, Copy)]
struct StrictSeed<'a> {
    duplicate: &'a RefCell<Option<String>>,
}

impl<'de> DeserializeSeed<'de> for StrictSeed<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed<'_> {
    type Value = Value;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_bool<E>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Number(value.into()))
    }

    fn visit_f64<E: serde::de::Error>(self, value: f64) -> Result<Value, E> {
        Number::from_f64(value)
            .map(Value::Number)
            .ok_or_else(|| E::custom("number is not finite"))
    }

    fn visit_str<E>(self, value: &str) -> Result<Value, E> {
        Ok(Value::String(value.to_owned()))
    }

    fn visit_string<E>(self, value: String) -> Result<Value, E> {
        Ok(Value::String(value))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(name) = access.next_key::<String>()? {
            if map.contains_key(&name) {
                let message = format!("duplicate member {name:?}");
                *self.duplicate.borrow_mut() = Some(name);
                return Err(serde::de::Error::custom(message));
            }
            let value = access.next_value_seed(self)?;
            map.insert(name, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_nested_objects_like_serde_json() {
        let text = br#"{"a":[1,-2,3.5,{"b":null}],"c":{"d":true,"e":"x"}}"#;
        let expected: Value = serde_json::from_slice(text).unwrap();
        assert_eq!(parse_value(text, "t").unwrap(), expected);
    }

    #[test]
    fn refuses_top_level_duplicate() {
        let parsed = parse_object(br#"{"sub":"a","sub":"b"}"#, "t");
        assert_eq!(parsed, Err(JoseError::DuplicateMember("sub".into())));
    }

    #[test]
    fn refuses_duplicate_inside_arrays_and_objects() {
        let parsed = parse_object(br#"{"x":[{"k":1},{"a":{"k":1,"k":2}}]}"#, "t");
        assert_eq!(parsed, Err(JoseError::DuplicateMember("k".into())));
    }

    #[test]
    fn refuses_duplicate_spelled_with_escapes() {
        let parsed = parse_object(br#"{"alg":"ES256","\u0061lg":"none"}"#, "t");
        assert_eq!(parsed, Err(JoseError::DuplicateMember("alg".into())));
    }

    #[test]
    fn allows_same_name_in_sibling_objects() {
        assert!(parse_object(br#"{"a":{"k":1},"b":{"k":2}}"#, "t").is_ok());
    }

    #[test]
    fn refuses_non_objects_and_trailing_garbage() {
        assert_eq!(parse_object(b"[1]", "t"), Err(JoseError::Malformed("t")));
        assert_eq!(parse_object(b"{} {}", "t"), Err(JoseError::Malformed("t")));
        assert_eq!(
            parse_object(b"{\"a\":", "t"),
            Err(JoseError::Malformed("t"))
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            parse_value(deep.as_bytes(), "t"),
            Err(JoseError::Malformed("t"))
        );
    }
}
