//! The one place domain errors become HTTP: status, `error_code`, message and invalid fields.
//! Server faults are logged with their cause; the client only sees a fixed text and the
//! request id (added by `request_context`).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::bearer::AuthRefused;
use super::body::BodyError;
use crate::catalog::CatalogRefused;
use crate::seal::SealRefused;
use crate::signing_keys::KeyRefused;
use crate::storage::StorageError;
use crate::validation::FieldError;

/// An error answer of the admin API.
#[derive(Debug)]
pub enum ApiError {
    /// 400 with every invalid field.
    Invalid {
        /// Summary.
        message: String,
        /// Each bad field.
        fields: Vec<FieldError>,
    },
    /// 400 for a body or value that does not parse.
    Malformed(String),
    /// 400 with a specific code, for refusals that are no single field's fault.
    BadRequest { code: &'static str, message: String },
    /// 415.
    UnsupportedMediaType(String),
    /// 401 with `WWW-Authenticate: Bearer`: the caller's token, or the token submitted for
    /// verification, was refused.
    Unauthenticated { code: &'static str, message: String },
    /// 403.
    Forbidden { path: String, operation: String },
    /// 404.
    NotFound(String),
    /// 405.
    MethodNotAllowed,
    /// 409 with a specific code (`already_exists`, `in_use`, `internal_resource`, ...).
    Conflict { code: &'static str, message: String },
    /// 412.
    PreconditionFailed(String),
    /// 413.
    TooLarge { limit: usize },
    /// 503 while sealed.
    Sealed,
    /// 503 while the database cannot be reached.
    StorageUnavailable,
    /// 500: the cause is logged, never shown.
    Fault(String),
}

#[derive(Serialize, utoipa::ToSchema)]
/// The error body of every admin and `/v1` endpoint.
pub struct ErrorBody {
    /// What went wrong, for people.
    pub message: String,
    /// A stable code for programs.
    pub error_code: &'static str,
    /// Every invalid field, for 400s.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub invalid_fields: Vec<FieldError>,
}

/// Marks a response whose body `request_context` replaces with the fixed fault text.
#[derive(Clone, Copy, Debug)]
pub struct Fault;

impl ApiError {
    /// A 400 listing `fields`.
    pub fn invalid(fields: Vec<FieldError>) -> ApiError {
        let names: Vec<&str> = fields.iter().map(|f| f.name.as_str()).collect();
        ApiError::Invalid {
            message: format!("invalid request: {}", names.join(", ")),
            fields,
        }
    }

    /// A 400 for one field.
    pub fn field(name: &str, reason: impl Into<String>) -> ApiError {
        ApiError::invalid(vec![FieldError::invalid(name, reason)])
    }

    fn parts(&self) -> (StatusCode, &'static str, String) {
        match self {
            ApiError::Invalid { message, .. } => {
                (StatusCode::BAD_REQUEST, "invalid_request", message.clone())
            }
            ApiError::Malformed(m) => (StatusCode::BAD_REQUEST, "malformed_request", m.clone()),
            ApiError::BadRequest { code, message } => {
                (StatusCode::BAD_REQUEST, code, message.clone())
            }
            ApiError::UnsupportedMediaType(m) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                m.clone(),
            ),
            ApiError::Unauthenticated { code, message } => {
                (StatusCode::UNAUTHORIZED, code, message.clone())
            }
            ApiError::Forbidden { path, operation } => (
                StatusCode::FORBIDDEN,
                "permission_denied",
                format!("no policy allows `{operation}` on `{path}`"),
            ),
            ApiError::NotFound(m) => (StatusCode::NOT_FOUND, "not_found", m.clone()),
            ApiError::MethodNotAllowed => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                "this method is not allowed on this path".into(),
            ),
            ApiError::Conflict { code, message } => (StatusCode::CONFLICT, code, message.clone()),
            ApiError::PreconditionFailed(m) => (
                StatusCode::PRECONDITION_FAILED,
                "precondition_failed",
                m.clone(),
            ),
            ApiError::TooLarge { limit } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the request body is larger than the limit of {limit} bytes"),
            ),
            ApiError::Sealed => (
                StatusCode::SERVICE_UNAVAILABLE,
                "sealed",
                "Sigil is sealed; unseal it with a quorum of unseal keys".into(),
            ),
            ApiError::StorageUnavailable => (
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the database cannot be reached; retry once it is back (minting, verification, \
                 discovery and JWKS keep answering from memory)"
                    .into(),
            ),
            ApiError::Fault(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "internal error".into(),
            ),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, error_code, message) = self.parts();
        if let ApiError::Fault(cause) = &self {
            tracing::error!(cause = %cause, "request failed");
        }
        let invalid_fields = match self {
            ApiError::Invalid { fields, .. } => fields,
            _ => Vec::new(),
        };
        let body = ErrorBody {
            message,
            error_code,
            invalid_fields,
        };
        let mut response = (status, Json(body)).into_response();
        if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sigil\""),
            );
        }
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            response.extensions_mut().insert(Fault);
        }
        response
    }
}

/// Rewrites a framework rejection (axum answers extractor failures, such as a path parameter
/// that is not UTF-8, as `text/plain`) into the error body of its surface: RFC 6749 JSON at the
/// OAuth endpoints, [`ErrorBody`] everywhere else. Other answers pass unchanged.
pub async fn rejection_as_json(response: Response, oauth: bool) -> Response {
    let status = response.status();
    let plain = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/plain"));
    if !status.is_client_error() || !plain {
        return response;
    }
    let text = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .unwrap_or_default();
    let message = format!("the request could not be read: {}", text.trim());
    if oauth {
        let body = super::protocol::oauth::OAuthError {
            error: "invalid_request",
            error_description: message,
        };
        return (status, Json(body)).into_response();
    }
    let error_code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        _ => "malformed_request",
    };
    let body = ErrorBody {
        message,
        error_code,
        invalid_fields: Vec::new(),
    };
    (status, Json(body)).into_response()
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> ApiError {
        match error {
            BodyError::UnsupportedMediaType(m) => ApiError::UnsupportedMediaType(format!(
                "unsupported content type {m:?}; send application/json or application/yaml"
            )),
            BodyError::Syntax { message } => ApiError::Malformed(message),
            BodyError::Invalid(fields) => ApiError::invalid(fields),
        }
    }
}

impl From<StorageError> for ApiError {
    fn from(error: StorageError) -> ApiError {
        match error {
            StorageError::AlreadyExists { .. } | StorageError::UniqueKeyTaken { .. } => {
                ApiError::Conflict {
                    code: "already_exists",
                    message: error.to_string(),
                }
            }
            StorageError::NotFound { .. } => ApiError::NotFound(error.to_string()),
            StorageError::RevisionMismatch { .. } => {
                ApiError::PreconditionFailed(error.to_string())
            }
            StorageError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::StorageUnavailable
            }
            other => ApiError::Fault(other.to_string()),
        }
    }
}

impl From<KeyRefused> for ApiError {
    fn from(error: KeyRefused) -> ApiError {
        let message = error.to_string();
        match error {
            KeyRefused::Catalog(e) => e.into(),
            KeyRefused::VersionNotFound { .. } => ApiError::NotFound(message),
            KeyRefused::InUse { .. } => ApiError::Conflict {
                code: "in_use",
                message,
            },
            KeyRefused::Internal(_) => ApiError::Conflict {
                code: "internal_resource",
                message,
            },
            KeyRefused::Transition { .. } => ApiError::Conflict {
                code: "invalid_transition",
                message,
            },
            KeyRefused::Sealed => ApiError::Sealed,
            KeyRefused::Crypto(cause) => ApiError::Fault(cause),
        }
    }
}

impl From<SealRefused> for ApiError {
    fn from(error: SealRefused) -> ApiError {
        let message = error.to_string();
        match error {
            SealRefused::NotInitialised => ApiError::Conflict {
                code: "not_initialised",
                message,
            },
            SealRefused::AlreadyInitialised => ApiError::Conflict {
                code: "already_initialised",
                message,
            },
            SealRefused::Sealed => ApiError::Sealed,
            SealRefused::Parameter { field, reason } => ApiError::field(field, reason),
            SealRefused::MalformedShare(reason) => ApiError::field("key", reason.to_string()),
            SealRefused::ConflictingShare => ApiError::BadRequest {
                code: "conflicting_share",
                message,
            },
            SealRefused::WrongShares => ApiError::BadRequest {
                code: "unseal_failed",
                message,
            },
            SealRefused::NotEnoughShares { .. } => ApiError::field("keys", message),
            SealRefused::Crypto(cause) => ApiError::Fault(cause),
            SealRefused::Storage(e) => e.into(),
        }
    }
}

impl From<AuthRefused> for ApiError {
    fn from(error: AuthRefused) -> ApiError {
        ApiError::Unauthenticated {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl From<crate::trust::VerifyRefused> for ApiError {
    fn from(error: crate::trust::VerifyRefused) -> ApiError {
        ApiError::Unauthenticated {
            code: error.code(),
            message: error.to_string(),
        }
    }
}

impl From<crate::trust::TrustRefused> for ApiError {
    fn from(error: crate::trust::TrustRefused) -> ApiError {
        use crate::trust::TrustRefused;
        let message = error.to_string();
        match error {
            TrustRefused::Catalog(e) => e.into(),
            TrustRefused::IssuerTaken { .. } => ApiError::Conflict {
                code: "already_exists",
                message,
            },
            TrustRefused::Internal(_) => ApiError::Conflict {
                code: "internal_resource",
                message,
            },
            TrustRefused::Static(_) => ApiError::Conflict {
                code: "static_resource",
                message,
            },
        }
    }
}

impl From<crate::minting::MintRefused> for ApiError {
    fn from(error: crate::minting::MintRefused) -> ApiError {
        use crate::minting::MintRefused;
        let message = error.to_string();
        match error {
            MintRefused::Catalog(e) => e.into(),
            MintRefused::Invalid(fields) | MintRefused::AudienceNotAllowed { fields, .. } => {
                ApiError::invalid(fields)
            }
            MintRefused::IssuerNotFound(_) | MintRefused::RoleNotFound { .. } => {
                ApiError::NotFound(message)
            }
            MintRefused::NoSigner => ApiError::Conflict {
                code: "no_signing_key_version",
                message: "the issuer's signing key has no version that can sign now; rotate it"
                    .into(),
            },
            MintRefused::Encoding(cause) | MintRefused::Signing(cause) => ApiError::Fault(cause),
        }
    }
}

impl From<crate::policies::PolicyRefused> for ApiError {
    fn from(error: crate::policies::PolicyRefused) -> ApiError {
        use crate::policies::PolicyRefused;
        let message = error.to_string();
        match error {
            PolicyRefused::Catalog(e) => e.into(),
            PolicyRefused::BuiltIn => ApiError::Conflict {
                code: "internal_resource",
                message,
            },
        }
    }
}

impl From<CatalogRefused> for ApiError {
    fn from(error: CatalogRefused) -> ApiError {
        let message = error.to_string();
        match error {
            CatalogRefused::Invalid { fields, .. } => ApiError::invalid(fields),
            CatalogRefused::NotFound { .. } => ApiError::NotFound(message),
            CatalogRefused::AlreadyExists { .. } => ApiError::Conflict {
                code: "already_exists",
                message,
            },
            CatalogRefused::Stale { .. } => ApiError::PreconditionFailed(message),
            CatalogRefused::Storage(e) => e.into(),
        }
    }
}
