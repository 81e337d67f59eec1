//! `fields=a,b,c/d`: projecting a response down to the listed fields.
//! The selection is a tree, so `c` and `c/d` together keep all of `c`, and a projection walks
//! arrays element-wise: `rules/path` keeps only `path` in every rule.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// The longest `fields=` value accepted, in bytes.
pub const MAX_FIELDS_LENGTH: usize = 4096;
/// The most `/`-separated names one field path may have.
pub const MAX_FIELD_DEPTH: usize = 16;

/// A parsed `fields=` selection.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelection(BTreeMap<String, Selected>);

#[derive(Clone, Debug, PartialEq, Eq)]
enum Selected {
    Whole,
    Part(FieldSelection),
}

/// Why a `fields=` value does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FieldSelectionError {
    /// Nothing was listed.
    #[error("must list at least one field, e.g. fields=name,type")]
    Empty,
    /// The value is longer than [`MAX_FIELDS_LENGTH`].
    #[error("is longer than {MAX_FIELDS_LENGTH} characters; list fewer fields")]
    TooLong,
    /// A field path nests deeper than [`MAX_FIELD_DEPTH`].
    #[error("field {index} has more than {MAX_FIELD_DEPTH} nested names; select a shallower field")]
    TooDeep {
        /// The 1-based index of the field in the list.
        index: usize,
    },
    /// A field path with an empty part, like `a,,b` or `a/`.
    #[error(
        "field {index} ({path:?}) has an empty name; separate fields with ',' and nested names with '/'"
    )]
    EmptySegment {
        /// The 1-based index of the field in the list.
        index: usize,
        /// The field path as written.
        path: String,
    },
}

impl FieldSelection {
    /// Parses a comma-separated list of `/`-separated paths; `-` in names is read as `_`.
    /// Bounded: at most [`MAX_FIELDS_LENGTH`] bytes and [`MAX_FIELD_DEPTH`] names per path, so
    /// the selection (and every walk over it) stays shallow whatever the input.
    pub fn parse(input: &str) -> Result<Self, FieldSelectionError> {
        if input.is_empty() {
            return Err(FieldSelectionError::Empty);
        }
        if input.len() > MAX_FIELDS_LENGTH {
            return Err(FieldSelectionError::TooLong);
        }
        let mut selection = Self::default();
        for (index, path) in input.split(',').enumerate() {
            let segments: Vec<String> = path.split('/').map(|s| s.replace('-', "_")).collect();
            if segments.iter().any(String::is_empty) {
                return Err(FieldSelectionError::EmptySegment {
                    index: index + 1,
                    path: path.to_owned(),
                });
            }
            if segments.len() > MAX_FIELD_DEPTH {
                return Err(FieldSelectionError::TooDeep { index: index + 1 });
            }
            selection.insert(segments);
        }
        Ok(selection)
    }

    /// Adds one path, walking down without recursion.
    fn insert(&mut self, segments: Vec<String>) {
        let last = segments.len().saturating_sub(1);
        let mut level = self;
        for (position, segment) in segments.into_iter().enumerate() {
            if position == last {
                level.0.insert(segment, Selected::Whole);
                return;
            }
            let entry = level
                .0
                .entry(segment)
                .or_insert_with(|| Selected::Part(Self::default()));
            match entry {
                Selected::Part(inner) => level = inner,
                // The whole field is already selected; a part of it adds nothing.
                Selected::Whole => return,
            }
        }
    }

    /// Keeps only the selected paths of `value`. Arrays are projected element-wise; a field that
    /// is absent stays absent, and a nested selection on a scalar selects nothing.
    pub fn project(&self, value: &Value) -> Value {
        match value {
            Value::Array(items) => Value::Array(
                items
                    .iter()
                    .filter_map(|item| self.project_value(item))
                    .collect(),
            ),
            other => self.project_value(other).unwrap_or(Value::Null),
        }
    }

    fn project_value(&self, value: &Value) -> Option<Value> {
        match value {
            Value::Object(map) => Some(Value::Object(self.project_object(map))),
            Value::Array(_) => Some(self.project(value)),
            _ => None,
        }
    }

    fn project_object(&self, map: &Map<String, Value>) -> Map<String, Value> {
        let mut projected = Map::new();
        for (key, value) in map {
            match self.0.get(key) {
                Some(Selected::Whole) => {
                    projected.insert(key.clone(), value.clone());
                }
                Some(Selected::Part(inner)) => {
                    if let Some(value) = inner.project_value(value) {
                        projected.insert(key.clone(), value);
                    }
                }
                None => {}
            }
        }
        projected
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn project(fields: &str, value: &Value) -> Value {
        FieldSelection::parse(fields).unwrap().project(value)
    }

    #[test]
    fn keeps_only_the_listed_top_level_fields() {
        let item = json!({"name": "k", "type": "ecdsa-p256", "rotation_period": "30d"});
        assert_eq!(
            project("name,type", &item),
            json!({"name": "k", "type": "ecdsa-p256"})
        );
    }

    #[test]
    fn slash_selects_inside_objects() {
        let item = json!({"name": "i", "distribute": {"to": "all", "sites": ["a"]}});
        assert_eq!(
            project("distribute/to", &item),
            json!({"distribute": {"to": "all"}})
        );
    }

    #[test]
    fn a_whole_field_wins_over_a_part_of_it() {
        let item = json!({"distribute": {"to": "all", "sites": ["a"]}});
        assert_eq!(project("distribute/to,distribute", &item), item);
        assert_eq!(project("distribute,distribute/to", &item), item);
    }

    #[test]
    fn projects_arrays_of_objects_element_wise() {
        let items = json!([{"name": "a", "x": 1}, {"name": "b", "x": 2}]);
        assert_eq!(
            project("name", &items),
            json!([{"name": "a"}, {"name": "b"}])
        );
        let policy = json!({"name": "p", "rules": [
            {"path": "/a", "operations": ["read"]},
            {"path": "/b", "operations": ["update"]}
        ]});
        assert_eq!(
            project("rules/path", &policy),
            json!({"rules": [{"path": "/a"}, {"path": "/b"}]})
        );
    }

    #[test]
    fn missing_fields_are_simply_absent() {
        let item = json!({"name": "k", "versions": "scalar"});
        assert_eq!(
            project("name,absent,versions/kid", &item),
            json!({"name": "k"})
        );
        assert_eq!(project("absent", &item), json!({}));
    }

    #[test]
    fn dashes_in_field_names_read_as_underscores() {
        let item = json!({"default_ttl": "1h", "max_ttl": "1d"});
        assert_eq!(project("default-ttl", &item), json!({"default_ttl": "1h"}));
    }

    #[test]
    fn empty_segments_are_errors_naming_the_field() {
        assert_eq!(
            FieldSelection::parse("a,,b"),
            Err(FieldSelectionError::EmptySegment {
                index: 2,
                path: String::new()
            })
        );
        assert_eq!(
            FieldSelection::parse("a/").unwrap_err().to_string(),
            "field 1 (\"a/\") has an empty name; separate fields with ',' and nested names with '/'"
        );
        assert!(FieldSelection::parse("a,").is_err());
        assert!(FieldSelection::parse("/a").is_err());
        assert_eq!(FieldSelection::parse(""), Err(FieldSelectionError::Empty));
    }

    #[test]
    fn deep_and_long_selections_are_refused_before_they_are_built() {
        let deep = vec!["a"; MAX_FIELD_DEPTH + 1].join("/");
        assert_eq!(
            FieldSelection::parse(&deep),
            Err(FieldSelectionError::TooDeep { index: 1 })
        );
        let just_deep_enough = vec!["a"; MAX_FIELD_DEPTH].join("/");
        assert!(FieldSelection::parse(&just_deep_enough).is_ok());
        let hostile = vec!["a"; 100_000].join("/");
        assert_eq!(
            FieldSelection::parse(&hostile),
            Err(FieldSelectionError::TooLong)
        );
        let many = vec!["a"; MAX_FIELDS_LENGTH].join(",");
        assert_eq!(
            FieldSelection::parse(&many),
            Err(FieldSelectionError::TooLong)
        );
    }
}
