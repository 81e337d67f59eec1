//! Bytes to a JSON object: the media type, JSON or YAML syntax, and the strictness rules
//! (no duplicate keys, bounded YAML alias expansion) that serde_json and YAML leave open.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::BodyError;

/// Bodies may expand (YAML aliases) to this many times their size, at least to the floor below;
/// alias replays are bounded the same way, so the work stays linear in the body's size.
const EXPANSION_FACTOR: usize = 4;
const EXPANSION_FLOOR: usize = 8 * 1024;
const REPLAYED_EVENTS_FLOOR: usize = 1_000;
const REPLAYED_EVENTS_MAX: usize = 100_000;

/// Parses `bytes` as the `content_type` says; the result must be an object.
pub(super) fn parse_object(content_type: Option<&str>, bytes: &[u8]) -> Result<Value, BodyError> {
    let syntax = syntax_of(content_type)?;
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(syntax_error("request body is empty"));
    }
    let limit = bytes
        .len()
        .saturating_mul(EXPANSION_FACTOR)
        .max(EXPANSION_FLOOR);
    let seed = StrictValue {
        remaining: &Cell::new(limit),
        limit,
    };
    let value = match syntax {
        Syntax::Json => parse_json(bytes, seed)?,
        Syntax::Yaml => parse_yaml(bytes, seed, limit)?,
    };
    match value {
        Value::Object(_) => Ok(value),
        other => Err(syntax_error(&format!(
            "the request body must be an object of field names and values, not {}",
            kind(&other)
        ))),
    }
}

#[derive(Clone, Copy)]
enum Syntax {
    Json,
    Yaml,
}

fn syntax_of(content_type: Option<&str>) -> Result<Syntax, BodyError> {
    let Some(content_type) = content_type else {
        return Ok(Syntax::Json);
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        // curl's `-d` labels every body as a form; Sigil has no form endpoints under /v1, so
        // such a body is read as JSON (and fails as JSON when it is not).
        "" | "*/*" | "application/json" | "application/x-www-form-urlencoded" => Ok(Syntax::Json),
        "application/yaml" | "application/x-yaml" | "text/yaml" => Ok(Syntax::Yaml),
        // Structured syntax suffixes (RFC 6839), e.g. application/merge-patch+json.
        e if e.starts_with("application/") && e.ends_with("+json") => Ok(Syntax::Json),
        e if e.starts_with("application/") && e.ends_with("+yaml") => Ok(Syntax::Yaml),
        _ => Err(BodyError::UnsupportedMediaType(content_type.to_owned())),
    }
}

fn parse_json(bytes: &[u8], seed: StrictValue<'_>) -> Result<Value, BodyError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = seed
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value))
        .map_err(|error| {
            let full = error.to_string();
            let suffix = format!(" at line {} column {}", error.line(), error.column());
            let reason = full.strip_suffix(&suffix).unwrap_or(&full);
            syntax_error(&format!(
                "invalid JSON at line {}, column {}: {reason}",
                error.line(),
                error.column()
            ))
        })?;
    Ok(value)
}

fn parse_yaml(bytes: &[u8], seed: StrictValue<'_>, limit: usize) -> Result<Value, BodyError> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        syntax_error(&format!(
            "invalid YAML: the body is not UTF-8 (at byte {})",
            error.valid_up_to() + 1
        ))
    })?;
    let replayed = (limit / 8).clamp(REPLAYED_EVENTS_FLOOR, REPLAYED_EVENTS_MAX);
    serde_saphyr::with_deserializer_from_str_with_options(
        text,
        yaml_options(replayed),
        |deserializer| seed.deserialize(deserializer),
    )
    .map_err(|error| {
        let error = error.without_snippet();
        let reason = yaml_reason(error);
        match error.location() {
            Some(at) => syntax_error(&format!(
                "invalid YAML at line {}, column {}: {reason}",
                at.line(),
                at.column()
            )),
            None => syntax_error(&format!("invalid YAML: {reason}")),
        }
    })
}

/// The YAML error's message in user terms, without the location (reported separately).
fn yaml_reason(error: &serde_saphyr::Error) -> String {
    use serde_saphyr::MessageFormatter;
    match error {
        serde_saphyr::Error::DuplicateMappingKey { key: Some(key), .. } => {
            format!("duplicate key {key:?}; each key may appear once")
        }
        other => serde_saphyr::UserMessageFormatter
            .format_message(other)
            .into_owned(),
    }
}

fn yaml_options(max_replayed_events: usize) -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 200_000;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_nodes = 100_000;
    budget.max_depth = 64;
    // A second document is then refused as "multiple documents", not as a budget breach.
    budget.max_documents = 2;
    budget.max_merge_keys = 1_000;
    budget.max_inclusion_depth = 0;
    let mut aliases = serde_saphyr::options::AliasLimits::default();
    aliases.max_total_replayed_events = max_replayed_events;
    aliases.max_replay_stack_depth = 16;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    options.alias_limits = aliases;
    options.duplicate_keys = serde_saphyr::DuplicateKeyPolicy::Error;
    options.with_snippet = false;
    options
}

fn syntax_error(message: &str) -> BodyError {
    BodyError::Syntax {
        message: message.to_owned(),
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Builds a [`Value`] refusing duplicate keys and charging every node against a size budget, so
/// YAML aliases cannot expand a small body into a huge one.
#[derive(Clone, Copy)]
struct StrictValue<'a> {
    remaining: &'a Cell<usize>,
    limit: usize,
}

impl StrictValue<'_> {
    fn charge<E: de::Error>(self, size: usize) -> Result<(), E> {
        let remaining = self.remaining.get();
        if size > remaining {
            return Err(E::custom(format!(
                "the body expands to more than {} bytes of data (are YAML aliases repeating \
                 large parts?)",
                self.limit
            )));
        }
        self.remaining.set(remaining - size);
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for StrictValue<'_> {
    type Value = Value;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON or YAML value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.charge(1)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.charge(8)?;
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.charge(8)?;
        Ok(Value::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        match i64::try_from(v) {
            Ok(v) => self.visit_i64(v),
            Err(_) => self.visit_u128(u128::try_from(v).map_err(|_| too_large(v))?),
        }
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        self.visit_u64(u64::try_from(v).map_err(|_| too_large(v))?)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.charge(8)?;
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom(format!("the number {v} is not finite")))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.charge(v.len() + 1)?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.charge(v.len() + 1)?;
        Ok(Value::String(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.charge(1)?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.charge(1)?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(self)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.charge(1)?;
        let mut object = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            self.charge(key.len() + 1)?;
            if object.contains_key(&key) {
                return Err(de::Error::custom(format!(
                    "duplicate key {key:?}; each key may appear once"
                )));
            }
            let value = map.next_value_seed(self)?;
            object.insert(key, value);
        }
        Ok(Value::Object(object))
    }
}

fn too_large<E: de::Error>(v: impl fmt::Display) -> E {
    E::custom(format!("the number {v} is too large"))
}
