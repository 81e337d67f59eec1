//! Form parameters (`application/x-www-form-urlencoded`) and RFC 6749 §5.2 error answers.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::exchange::ExchangeRefused;
use crate::http::ApiError;
use crate::http::payload::Payload;

/// An RFC 6749 §5.2 error body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct OAuthError {
    /// The error code.
    pub error: &'static str,
    /// What went wrong, for people.
    pub error_description: String,
}

/// The parameters of a form body; single-valued ones must not repeat.
pub struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    /// Parses a form body; refuses other content types.
    pub fn parse(content_type: Option<&str>, bytes: &[u8]) -> Result<Form, ExchangeRefused> {
        let essence = content_type
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        if essence.as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(ExchangeRefused::InvalidRequest(
                "send the parameters as application/x-www-form-urlencoded".into(),
            ));
        }
        let pairs = form_urlencoded::parse(bytes)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Ok(Form { pairs })
    }

    /// A single-valued parameter (`None` when absent or empty; repeated is an error).
    pub fn one(&self, name: &str) -> Result<Option<&str>, ExchangeRefused> {
        let mut values = self
            .pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str());
        let first = values.next();
        if values.next().is_some() {
            return Err(ExchangeRefused::InvalidRequest(format!(
                "`{name}` must not repeat"
            )));
        }
        Ok(first.filter(|v| !v.is_empty()))
    }

    /// A required single-valued parameter.
    pub fn required(&self, name: &str) -> Result<&str, ExchangeRefused> {
        self.one(name)?
            .ok_or_else(|| ExchangeRefused::InvalidRequest(format!("`{name}` is required")))
    }

    /// Every value of a repeatable parameter.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.pairs
            .iter()
            .filter(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.clone())
            .collect()
    }
}

/// The body of an OAuth request, its failures in RFC 6749 terms (a body over the limit is a
/// 413 `invalid_request`, not the admin API's error shape).
pub fn oauth_payload(payload: Result<Payload, ApiError>) -> Result<Payload, ExchangeRefused> {
    payload.map_err(|error| match error {
        ApiError::TooLarge { limit } => ExchangeRefused::TooLarge { limit },
        ApiError::Malformed(message) => ExchangeRefused::InvalidRequest(message),
        _ => ExchangeRefused::InvalidRequest("the request body could not be read".into()),
    })
}

/// The answer to a refused request: 400 (503 while unavailable, 500 on a fault), no-store.
pub fn refusal(refused: &ExchangeRefused) -> Response {
    let status = match refused {
        ExchangeRefused::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        ExchangeRefused::Fault(_) => StatusCode::INTERNAL_SERVER_ERROR,
        ExchangeRefused::UnknownIssuer(_) => StatusCode::NOT_FOUND,
        ExchangeRefused::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        _ => StatusCode::BAD_REQUEST,
    };
    let body = OAuthError {
        error: refused.code(),
        error_description: refused.description(),
    };
    no_store((status, Json(body)).into_response())
}

/// RFC 6749 §5.1: token answers must not be cached.
pub fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}
