//! The conventions every resource shares, applied once: query parsing, `If-Match`, ETags,
//! content negotiation, `content=config|nonconfig`, and list paging with a `Link` header.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ApiError;
use super::body::{self, BodyRules};
use super::negotiate::{self, Format};
use super::payload::Payload;
use super::query::{self, ResourceQuery};
use crate::storage::Expected;

/// The request's query and response format.
pub struct Conventions {
    /// Parsed query parameters.
    pub query: ResourceQuery,
    /// The format the client accepts.
    pub format: Format,
    raw_query: Option<String>,
}

impl Conventions {
    /// Parses the query string and the `Accept` header; every bad parameter is a 400.
    pub fn read(raw_query: Option<&str>, headers: &HeaderMap) -> Result<Conventions, ApiError> {
        let query = ResourceQuery::parse(raw_query).map_err(ApiError::invalid)?;
        Ok(Conventions {
            query,
            format: negotiate::from_accept(headers.get(header::ACCEPT)),
            raw_query: raw_query.map(str::to_owned),
        })
    }

    /// One item with its ETag, after `content` and `fields`.
    pub fn item(
        &self,
        status: StatusCode,
        item: Value,
        revision: i64,
        config_fields: &[&str],
    ) -> Response {
        let item = query::split_content(item, config_fields, self.query.content);
        let item = query::apply_to_item(item, &self.query);
        let mut response = negotiate::render(status, self.format, &item);
        response.headers_mut().insert(header::ETAG, etag(revision));
        response
    }

    /// A list (items sorted by name) after `where`, paging, `keys`, `count` and `fields`.
    /// When `limit` cut the list, a `Link: <...>; rel="next"` header names the next page.
    pub fn list(&self, path: &str, items: Vec<Value>, config_fields: &[&str]) -> Response {
        let items = items
            .into_iter()
            .map(|item| query::split_content(item, config_fields, self.query.content))
            .collect();
        let page = query::apply_to_list(items, &self.query);
        let mut response = negotiate::render(StatusCode::OK, self.format, &page.body);
        if let Some(after) = page.next_after {
            let link = format!("<{path}?{}>; rel=\"next\"", self.next_query(&after));
            if let Ok(value) = HeaderValue::from_str(&link) {
                response.headers_mut().insert(header::LINK, value);
            }
        }
        response
    }
}

impl Conventions {
    /// The request's query with `after` set to `after`: every other parameter is kept, so the
    /// next page has the same filter and shape.
    fn next_query(&self, after: &str) -> String {
        let mut next = form_urlencoded::Serializer::new(String::new());
        let pairs = form_urlencoded::parse(self.raw_query.as_deref().unwrap_or("").as_bytes());
        for (name, value) in pairs.filter(|(name, _)| name != "after") {
            next.append_pair(&name, &value);
        }
        next.append_pair("after", after);
        next.finish()
    }

    /// 201 with the item, its ETag and `Location`.
    pub fn created(
        &self,
        location: &str,
        item: Value,
        revision: i64,
        config_fields: &[&str],
    ) -> Response {
        let mut response = self.item(StatusCode::CREATED, item, revision, config_fields);
        if let Ok(value) = HeaderValue::from_str(location) {
            response.headers_mut().insert(header::LOCATION, value);
        }
        response
    }

    /// What `validate=true` answers for a create: the would-be item, no ETag.
    pub fn would_create(&self, item: &impl Serialize) -> Response {
        negotiate::render(StatusCode::CREATED, self.format, item)
    }
}

/// 204 carrying the new ETag.
pub fn updated(revision: i64) -> Response {
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::ETAG, etag(revision));
    response
}

/// What a PUT expects: the `If-Match` revision, else create-or-replace.
pub fn expected_for_put(if_match: Option<i64>) -> Expected {
    if_match.map_or(Expected::Any, Expected::Revision)
}

/// A body that may be omitted (actions): `T::default()` when empty.
pub fn optional_body<T: DeserializeOwned + Default>(
    payload: &Payload,
    rules: &BodyRules,
) -> Result<T, ApiError> {
    if payload.is_empty() {
        return Ok(T::default());
    }
    Ok(body::parse_body(
        payload.content_type.as_deref(),
        &payload.bytes,
        rules,
    )?)
}

/// Serialises a view for the conventions (a server fault if it cannot be).
pub fn to_value(view: &impl Serialize) -> Result<Value, ApiError> {
    serde_json::to_value(view).map_err(|e| ApiError::Fault(e.to_string()))
}

/// The ETag of a revision.
pub fn etag(revision: i64) -> HeaderValue {
    HeaderValue::from_str(&format!("\"{revision}\"")).unwrap_or(HeaderValue::from_static("\"0\""))
}

/// What `If-Match` asks for: `None` without the header or with `*`, else the revision.
/// A value that is not one of our ETags can never match: 412.
pub fn if_match(headers: &HeaderMap) -> Result<Option<i64>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::PreconditionFailed("If-Match is not a valid ETag".into()))?
        .trim();
    if text == "*" {
        return Ok(None);
    }
    text.trim_start_matches("W/")
        .strip_prefix('"')
        .and_then(|t| t.strip_suffix('"'))
        .and_then(|t| t.parse::<i64>().ok())
        .map(Some)
        .ok_or_else(|| {
            ApiError::PreconditionFailed(format!("If-Match {text} does not match the current ETag"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(header::IF_MATCH, HeaderValue::from_str(value).unwrap());
        map
    }

    #[test]
    fn if_match_reads_our_etags() {
        assert_eq!(if_match(&HeaderMap::new()).unwrap(), None);
        assert_eq!(if_match(&headers("\"7\"")).unwrap(), Some(7));
        assert_eq!(if_match(&headers("W/\"7\"")).unwrap(), Some(7));
        assert_eq!(if_match(&headers("*")).unwrap(), None);
        assert!(matches!(
            if_match(&headers("\"abc\"")),
            Err(ApiError::PreconditionFailed(_))
        ));
    }
}
