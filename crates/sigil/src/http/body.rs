//! Request bodies: JSON or YAML into a typed request, every problem reported at once.
//! Parsing is strict (duplicate keys refused, YAML alias expansion bounded by the body's size);
//! keys are then normalised (`-` → `_`, seed aliases) outside user-data fields, and unknown
//! fields and type errors are all collected by re-deserializing without each bad field.

mod syntax;

use std::collections::{HashMap, HashSet};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::validation::FieldError;

/// The most field errors one answer lists; past this the list ends with a `body` entry counting
/// the rest, so a body of 100,000 bad keys cannot amplify into a 10 MB answer.
pub const MAX_LISTED_FIELD_ERRORS: usize = 100;
/// How many times a body is re-read without its bad fields to find more errors (each re-read
/// costs the body's size, so this keeps error collection linear).
const MAX_REREADS: usize = 32;

/// How a resource's request body maps onto its canonical field names.
#[derive(Clone, Copy, Debug)]
pub struct BodyRules {
    /// Top-level alias → canonical name, e.g. `("iss", "issuer")`, `("JWKsURL", "jwks_url")`.
    pub aliases: &'static [(&'static str, &'static str)],
    /// Top-level fields whose object values are user data (`fixed_claims`): their own name is
    /// normalised, the keys inside are kept exactly as sent.
    pub opaque: &'static [&'static str],
}

impl BodyRules {
    /// No aliases and no opaque fields.
    pub const NONE: BodyRules = BodyRules {
        aliases: &[],
        opaque: &[],
    };
}

/// Why a request body was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// The `Content-Type` is neither JSON nor YAML (415).
    #[error("unsupported media type {0:?}: send application/json or application/yaml")]
    UnsupportedMediaType(String),
    /// The body is not well-formed, or not an object (400).
    #[error("{message}")]
    Syntax {
        /// What is wrong and where (`line L, column C`).
        message: String,
    },
    /// The body parsed, but fields are unknown, duplicated or of the wrong type (400).
    #[error("the request body has {} invalid field(s)", .0.len())]
    Invalid(Vec<FieldError>),
}

/// Parses a JSON or YAML body into `T`, after normalising its keys by `rules`.
///
/// `T` must not use `deny_unknown_fields`: unknown fields are collected here (`unknown_field`),
/// together with every type error (`invalid_type`) and duplicate (`duplicate_field`).
pub fn parse_body<T: DeserializeOwned>(
    content_type: Option<&str>,
    bytes: &[u8],
    rules: &BodyRules,
) -> Result<T, BodyError> {
    let value = parse_value(content_type, bytes)?;
    let (value, mut errors) = normalize(value, rules);
    match from_value::<T>(value) {
        Ok(parsed) if errors.is_empty() => return Ok(parsed),
        Ok(_) => {}
        Err(more) => errors.extend(more),
    }
    Err(BodyError::Invalid(listed(errors)))
}

/// Sorts field errors by name and keeps at most [`MAX_LISTED_FIELD_ERRORS`] of them.
fn listed(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    errors.sort_by(|a, b| a.name.cmp(&b.name));
    capped(errors)
}

/// Keeps at most [`MAX_LISTED_FIELD_ERRORS`] field errors, in order, the last entry saying how
/// many more there were.
pub fn capped(mut errors: Vec<FieldError>) -> Vec<FieldError> {
    if errors.len() > MAX_LISTED_FIELD_ERRORS {
        let more = errors.len() - (MAX_LISTED_FIELD_ERRORS - 1);
        errors.truncate(MAX_LISTED_FIELD_ERRORS - 1);
        errors.push(FieldError::new(
            "body",
            "too_many_errors",
            format!("has {more} more invalid fields not listed; fix the ones above first"),
        ));
    }
    errors
}

/// Parses a JSON or YAML body that must be an object, without normalising its keys (for a
/// PATCH: [`normalize`] the patch, [`merge_patch`] it, then [`from_value`]).
pub fn parse_value(content_type: Option<&str>, bytes: &[u8]) -> Result<Value, BodyError> {
    syntax::parse_object(content_type, bytes)
}

/// Normalises the keys of a body: `-` → `_` in every key except inside the opaque fields, then
/// top-level aliases to their canonical names. Two keys that end up the same are reported as
/// `duplicate_field` (the first one is kept).
pub fn normalize(value: Value, rules: &BodyRules) -> (Value, Vec<FieldError>) {
    let mut duplicates = Duplicates::default();
    let Value::Object(map) = value else {
        return (value, Vec::new());
    };
    let mut normalized = Map::new();
    let mut written_as: HashMap<String, String> = HashMap::with_capacity(map.len());
    let mut path = Vec::new();
    for (written, value) in map {
        let key = canonical_name(&written, rules);
        if let Some(first) = written_as.get(&key) {
            duplicates.record(&path, &key, first, &written);
            continue;
        }
        let value = if rules.opaque.contains(&key.as_str()) {
            value
        } else {
            path.push(key.clone());
            let value = normalize_nested(value, &mut path, &mut duplicates);
            path.pop();
            value
        };
        written_as.insert(key.clone(), written);
        normalized.insert(key, value);
    }
    (Value::Object(normalized), duplicates.into_errors())
}

/// Deserializes a normalised body into `T`, collecting every unknown field and type error.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T, Vec<FieldError>> {
    match deserialize_collecting(value) {
        (Some(parsed), errors) if errors.is_empty() => Ok(parsed),
        (_, errors) => Err(errors),
    }
}

/// Parses like [`parse_body`], but when only some fields are bad, also answers `T` built from
/// the rest, so the caller can add its own validation errors and report everything at once.
pub fn parse_body_partial<T: DeserializeOwned>(
    content_type: Option<&str>,
    bytes: &[u8],
    rules: &BodyRules,
) -> Result<(T, Vec<FieldError>), BodyError> {
    let value = parse_value(content_type, bytes)?;
    let (value, mut errors) = normalize(value, rules);
    let (parsed, more) = deserialize_collecting(value);
    errors.extend(more);
    let errors = listed(errors);
    match parsed {
        Some(parsed) => Ok((parsed, errors)),
        None => Err(BodyError::Invalid(errors)),
    }
}

/// `T` from `value` minus its bad top-level fields (when that deserializes), and every error.
fn deserialize_collecting<T: DeserializeOwned>(mut value: Value) -> (Option<T>, Vec<FieldError>) {
    let mut parsed_rest = None;
    let mut errors = Vec::new();
    let mut unknown: Vec<String> = Vec::new();
    let mut seen_unknown: HashSet<String> = HashSet::new();
    let mut removed: Vec<String> = Vec::new();
    // Each retry removes one top-level key, so this bounds the attempts; the cap keeps a body
    // whose every key is bad (a map-typed body) from costing its size once per key.
    let attempts = (value.as_object().map_or(0, Map::len) + 1).min(MAX_REREADS);
    for _ in 0..attempts {
        let mut on_ignored = |path: serde_ignored::Path<'_>| {
            let name = ignored_path(&path);
            if seen_unknown.insert(name.clone()) {
                unknown.push(name);
            }
        };
        let result: Result<T, _> = serde_path_to_error::deserialize(
            serde_ignored::Deserializer::new(&value, &mut on_ignored),
        );
        let failure = match result {
            Ok(parsed) => {
                parsed_rest = Some(parsed);
                break;
            }
            Err(failure) => failure,
        };
        let segments: Vec<String> = failure.path().iter().filter_map(segment_name).collect();
        let message = failure.inner().to_string();
        let missing = missing_field(&message);
        match segments.first() {
            Some(top) if !removed.contains(top) => {
                errors.push(field_error(&segments, &message, missing));
                let top = top.clone();
                if let Some(map) = value.as_object_mut() {
                    map.remove(&top);
                }
                removed.push(top);
            }
            // A required field that was removed above was already reported as a type error.
            None if missing.is_some_and(|m| removed.iter().any(|r| r == m)) => break,
            _ => {
                errors.push(field_error(&segments, &message, missing));
                break;
            }
        }
    }
    errors.extend(
        unknown
            .into_iter()
            .map(|name| FieldError::new(shortened(&name), "unknown_field", "is not a known field")),
    );
    errors.sort_by(|a, b| a.name.cmp(&b.name));
    (parsed_rest, errors)
}

/// Applies an RFC 7396 JSON merge patch: objects merge recursively, `null` deletes, anything
/// else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(target) = target {
        for (key, value) in patch {
            if value.is_null() {
                target.remove(key);
            } else {
                merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

fn canonical_name(written: &str, rules: &BodyRules) -> String {
    let key = written.replace('-', "_");
    rules
        .aliases
        .iter()
        .find(|(alias, _)| alias.replace('-', "_") == key)
        .map_or(key, |(_, canonical)| (*canonical).to_owned())
}

/// Normalises the keys below `path`. The path is a stack of segments, joined into a name only
/// when a duplicate is recorded, so a long key above many values costs its length once, not
/// once per value below it.
fn normalize_nested(value: Value, path: &mut Vec<String>, duplicates: &mut Duplicates) -> Value {
    match value {
        Value::Object(map) => {
            let mut normalized = Map::new();
            let mut written_as: HashMap<String, String> = HashMap::with_capacity(map.len());
            for (written, value) in map {
                let key = written.replace('-', "_");
                if let Some(first) = written_as.get(&key) {
                    duplicates.record(path, &key, first, &written);
                    continue;
                }
                path.push(key.clone());
                let value = normalize_nested(value, path, duplicates);
                path.pop();
                written_as.insert(key.clone(), written);
                normalized.insert(key, value);
            }
            Value::Object(normalized)
        }
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(index, item)| {
                    path.push(index.to_string());
                    let item = normalize_nested(item, path, duplicates);
                    path.pop();
                    item
                })
                .collect(),
        ),
        other => other,
    }
}

/// The `duplicate_field` errors of one body: at most [`MAX_LISTED_FIELD_ERRORS`] are built
/// (names and keys shortened), the rest only counted.
#[derive(Default)]
struct Duplicates {
    errors: Vec<FieldError>,
    unlisted: usize,
}

impl Duplicates {
    fn record(&mut self, path: &[String], key: &str, first: &str, second: &str) {
        if self.errors.len() >= MAX_LISTED_FIELD_ERRORS {
            self.unlisted += 1;
            return;
        }
        let mut name: Vec<String> = path.iter().map(|s| shortened(s)).collect();
        name.push(shortened(key));
        self.errors.push(FieldError::new(
            name.join("/"),
            "duplicate_field",
            format!(
                "is given twice, as {:?} and as {:?}; keep one",
                shortened(first),
                shortened(second)
            ),
        ));
    }

    fn into_errors(mut self) -> Vec<FieldError> {
        if self.unlisted > 0 {
            self.errors.push(FieldError::new(
                "body",
                "too_many_errors",
                format!(
                    "has {} more duplicate fields not listed; fix the ones above first",
                    self.unlisted
                ),
            ));
        }
        self.errors
    }
}

/// A key as it appears in an error: at most 64 characters, then `…`.
fn shortened(text: &str) -> String {
    const LIMIT: usize = 64;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn segment_name(segment: &serde_path_to_error::Segment) -> Option<String> {
    match segment {
        serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
        serde_path_to_error::Segment::Map { key } => Some(key.clone()),
        serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
        serde_path_to_error::Segment::Unknown => None,
    }
}

fn ignored_path(path: &serde_ignored::Path<'_>) -> String {
    let mut segments = Vec::new();
    let mut current = path;
    loop {
        current = match current {
            serde_ignored::Path::Root => break,
            serde_ignored::Path::Seq { parent, index } => {
                segments.push(index.to_string());
                parent
            }
            serde_ignored::Path::Map { parent, key } => {
                segments.push(key.clone());
                parent
            }
            serde_ignored::Path::Some { parent }
            | serde_ignored::Path::NewtypeStruct { parent }
            | serde_ignored::Path::NewtypeVariant { parent } => parent,
        };
    }
    segments.reverse();
    segments.join("/")
}

/// `missing field `x`` → `x`.
fn missing_field(message: &str) -> Option<&str> {
    message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.strip_suffix('`'))
}

fn field_error(segments: &[String], message: &str, missing: Option<&str>) -> FieldError {
    let mut name = segments.join("/");
    if let Some(field) = missing {
        if !name.is_empty() {
            name.push('/');
        }
        name.push_str(field);
        return FieldError::required(name);
    }
    if name.is_empty() {
        name.push_str("body");
    }
    FieldError::new(name, "invalid_type", message)
}

#[cfg(test)]
mod tests;
