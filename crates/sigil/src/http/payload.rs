//! The request body extractor: reads at most the configured number of bytes (413 above, before
//! reading when `Content-Length` already says so) and keeps the content type for `body.rs`.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::header;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::{ApiError, AppState};

/// A request body within the size limit.
pub struct Payload {
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The bytes.
    pub bytes: Bytes,
}

impl Payload {
    /// Whether the body is empty (an optional body was omitted).
    pub fn is_empty(&self) -> bool {
        self.bytes.iter().all(u8::is_ascii_whitespace)
    }
}

impl FromRequest<AppState> for Payload {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &AppState) -> Result<Payload, ApiError> {
        let limit = state.config.max_body_bytes;
        let headers = request.headers();
        let declared = headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(ApiError::TooLarge { limit });
        }
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let collected = Limited::new(request.into_body(), limit).collect().await;
        match collected {
            Ok(body) => Ok(Payload {
                content_type,
                bytes: body.to_bytes(),
            }),
            Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                Err(ApiError::TooLarge { limit })
            }
            Err(e) => Err(ApiError::Malformed(format!(
                "the request body could not be read: {e}"
            ))),
        }
    }
}
