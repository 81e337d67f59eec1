//! The conventions every resource shares, applied once: query parsing, `If-Match`, ETags,
//! content negotiation, `content=config|nonconfig`, and list paging with a `Link` header.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::Value;

use super::ApiError;
use super::negotiate::{self, Format};
use super::query::{self, ResourceQuery};

/// The request's query and response format.
pub struct Conventions {
    /// Parsed query parameters.
    pub query: ResourceQuery,
    /// The format the client accepts.
    pub format: Format,
}

impl Conventions {
    /// Parses the query string and the `Accept` header; every bad parameter is a 400.
    pub fn read(raw_query: Option<&str>, headers: &HeaderMap) -> Result<Conventions, ApiError> {
        let query = ResourceQuery::parse(raw_query).map_err(ApiError::invalid)?;
        Ok(Conventions {
            query,
            format: negotiate::from_accept(headers.get(header::ACCEPT)),
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
        if let (Some(after), Some(limit)) = (page.next_after, self.query.limit) {
            let link = format!(
                "<{path}?limit={limit}&after={}>; rel=\"next\"",
                percent_encode(&after)
            );
            if let Ok(value) = HeaderValue::from_str(&link) {
                response.headers_mut().insert(header::LINK, value);
            }
        }
        response
    }
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

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
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
