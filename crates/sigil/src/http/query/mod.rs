//! The query parameters every resource path understands (DESIGN §2.1): `validate`, `fields`,
//! `where`, `keys`, `count`, `limit`, `after`, `content`. Parsed once into [`ResourceQuery`],
//! applied to a list by [`apply_to_list`]; a bad query lists every bad parameter, not the first.

mod fields;
mod where_expr;

use std::collections::HashSet;

use serde_json::{Map, Value};

pub use self::fields::{FieldSelection, FieldSelectionError};
pub use self::where_expr::{MAX_DEPTH, MAX_LENGTH, WhereError, WhereExpr};
use crate::validation::{FieldError, Violations};

/// The most parameters one query may carry; eight are known, so more is an attack or a typo.
pub const MAX_QUERY_PARAMETERS: usize = 64;

/// The largest `limit` accepted.
pub const MAX_LIMIT: usize = 10_000;

const KNOWN: [&str; 8] = [
    "validate", "fields", "where", "keys", "count", "limit", "after", "content",
];

/// The parsed query of a resource request.
#[derive(Clone, Debug, Default)]
pub struct ResourceQuery {
    /// `validate=true`: run every check, change nothing.
    pub validate: bool,
    /// `fields=a,b,c/d`: the fields to return.
    pub fields: Option<FieldSelection>,
    /// `where=EXPR`: the filter of a list.
    pub filter: Option<WhereExpr>,
    /// `keys=true`: return the names only.
    pub keys: bool,
    /// `count=true`: return the number of matches only.
    pub count: bool,
    /// `limit=N` (1..=10000): the page size.
    pub limit: Option<usize>,
    /// `after=NAME`: start after this name; empty means from the start.
    pub after: Option<String>,
    /// `content=config|nonconfig|all` (default all): which fields of a state item to keep.
    pub content: Content,
}

/// Which fields of a `/v1/state/...` item to return.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Content {
    /// Everything.
    #[default]
    All,
    /// Only what the operator configured.
    Config,
    /// Only what Sigil derived or observed.
    NonConfig,
}

/// One page of a list response.
#[derive(Clone, Debug, PartialEq)]
pub struct ListPage {
    /// The items, names, or count to answer.
    pub body: Value,
    /// Set when `limit` cut the list: the last name returned, to pass as `after`.
    pub next_after: Option<String>,
}

impl ResourceQuery {
    /// Parses the raw (percent-encoded) query string of a request.
    pub fn parse(raw_query: Option<&str>) -> Result<Self, Vec<FieldError>> {
        let mut query = Self::default();
        let mut violations = Violations::new();
        // Hash sets, so a query of many distinct or repeated names stays linear.
        let mut seen: HashSet<String> = HashSet::new();
        let mut repeated: HashSet<String> = HashSet::new();
        let pairs = form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes());
        for (index, (name, value)) in pairs.enumerate() {
            if index == MAX_QUERY_PARAMETERS {
                return Err(vec![FieldError::new(
                    "query",
                    "too_many_parameters",
                    format!(
                        "has more than {MAX_QUERY_PARAMETERS} parameters (the limit); the known \
                         ones are {}",
                        KNOWN.join(", ")
                    ),
                )]);
            }
            if seen.contains(name.as_ref()) {
                if repeated.insert(name.to_string()) {
                    violations.push(FieldError::new(
                        name.as_ref(),
                        "duplicate_parameter",
                        "is given more than once",
                    ));
                }
                continue;
            }
            seen.insert(name.to_string());
            if let Err(error) = query.set(&name, &value) {
                violations.push(error);
            }
        }
        if query.keys && query.count {
            violations.push(FieldError::invalid(
                "count",
                "cannot be combined with keys=true",
            ));
        }
        violations.finish(query).map_err(crate::http::body::capped)
    }

    fn set(&mut self, name: &str, value: &str) -> Result<(), FieldError> {
        match name {
            "validate" => self.validate = boolean(name, value)?,
            "keys" => self.keys = boolean(name, value)?,
            "count" => self.count = boolean(name, value)?,
            "fields" => {
                let selection = FieldSelection::parse(value)
                    .map_err(|error| FieldError::invalid(name, error.to_string()))?;
                self.fields = Some(selection);
            }
            "where" => {
                let filter = WhereExpr::parse(value)
                    .map_err(|error| FieldError::invalid(name, error.to_string()))?;
                self.filter = Some(filter);
            }
            "limit" => self.limit = Some(limit(value)?),
            "after" => self.after = (!value.is_empty()).then(|| value.to_owned()),
            "content" => {
                self.content = match value {
                    "all" => Content::All,
                    "config" => Content::Config,
                    "nonconfig" => Content::NonConfig,
                    _ => {
                        return Err(FieldError::invalid(
                            name,
                            format!("must be config, nonconfig or all, not {value:?}"),
                        ));
                    }
                }
            }
            _ => {
                return Err(FieldError::new(
                    name,
                    "unknown_parameter",
                    format!("is not a known parameter; known: {}", KNOWN.join(", ")),
                ));
            }
        }
        Ok(())
    }
}

fn boolean(name: &str, value: &str) -> Result<bool, FieldError> {
    match value {
        "" | "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(FieldError::invalid(
            name,
            format!("must be true, false, 1 or 0, not {value:?}"),
        )),
    }
}

fn limit(value: &str) -> Result<usize, FieldError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|n| (1..=MAX_LIMIT).contains(n))
        .ok_or_else(|| {
            FieldError::invalid(
                "limit",
                format!("must be a whole number from 1 to {MAX_LIMIT}, not {value:?}"),
            )
        })
}

/// Answers a list: filters by `where`, then pages by `after` (names strictly greater) and
/// `limit`, then shapes the page as names (`keys`) or projected items (`fields`).
///
/// `items` must be sorted by `name`. `count=true` answers the number of items matching `where`
/// and ignores `limit` and `after`, so a client can learn the total before paging.
pub fn apply_to_list(items: Vec<Value>, query: &ResourceQuery) -> ListPage {
    let matching = items
        .into_iter()
        .filter(|item| query.filter.as_ref().is_none_or(|f| f.matches(item)));
    if query.count {
        return ListPage {
            body: Value::from(matching.count()),
            next_after: None,
        };
    }
    let mut page: Vec<Value> = matching
        .filter(|item| {
            query
                .after
                .as_deref()
                .is_none_or(|after| name_of(item) > after)
        })
        .take(
            query
                .limit
                .map_or(usize::MAX, |limit| limit.saturating_add(1)),
        )
        .collect();
    let next_after = match query.limit {
        Some(limit) if page.len() > limit => {
            page.truncate(limit);
            page.last().map(|item| name_of(item).to_owned())
        }
        _ => None,
    };
    let body = if query.keys {
        page.iter().map(|item| Value::from(name_of(item))).collect()
    } else {
        page.into_iter()
            .map(|item| apply_to_item(item, query))
            .collect()
    };
    ListPage { body, next_after }
}

/// Answers one item: the `fields` projection, if any.
pub fn apply_to_item(item: Value, query: &ResourceQuery) -> Value {
    match &query.fields {
        Some(fields) => fields.project(&item),
        None => item,
    }
}

/// Keeps the configured (`Config`) or the derived (`NonConfig`) top-level fields of a state
/// item; `name` is always kept, and `All` keeps everything.
pub fn split_content(item: Value, config_fields: &[&str], content: Content) -> Value {
    let keep_config = match content {
        Content::All => return item,
        Content::Config => true,
        Content::NonConfig => false,
    };
    match item {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(key, _)| {
                    key == "name" || config_fields.contains(&key.as_str()) == keep_config
                })
                .collect::<Map<String, Value>>(),
        ),
        other => other,
    }
}

fn name_of(item: &Value) -> &str {
    item.get("name").and_then(Value::as_str).unwrap_or_default()
}

#[cfg(test)]
mod tests;
