//! Why an exchange was refused, as RFC 6749 §5.2 error codes. Every signature or claim
//! failure of a presented token gets the same client text; the cause is only logged, so the
//! token endpoint is no oracle.

/// A refused exchange.
#[derive(Debug, thiserror::Error)]
pub enum ExchangeRefused {
    /// A parameter is missing, repeated or unsupported.
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// The body is larger than the server's limit (413 in RFC 6749 form).
    #[error("invalid_request: the body is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes (`--max-body-bytes`).
        limit: usize,
    },
    /// RFC 6749 §5.2: the grant type is not one this endpoint supports.
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    /// The presented token is not acceptable (cause kept for the log only).
    #[error("invalid_grant: {cause}")]
    InvalidGrant {
        /// Why, for the log.
        cause: String,
    },
    /// The requested role does not exist or the identity may not mint it.
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// A requested audience or resource is not allowed.
    #[error("invalid_target: {0}")]
    InvalidTarget(String),
    /// No such issuer on this node.
    #[error("unknown issuer `{0}`")]
    UnknownIssuer(String),
    /// Sealed, or the issuer's key cannot sign now.
    #[error("temporarily_unavailable: {0}")]
    Unavailable(String),
    /// A server fault.
    #[error("server_error: {0}")]
    Fault(String),
}

/// The one description every refused subject, assertion or actor token gets.
pub const GRANT_REFUSED: &str = "the presented token is not acceptable";

impl ExchangeRefused {
    /// The RFC 6749 `error` code.
    pub fn code(&self) -> &'static str {
        match self {
            ExchangeRefused::InvalidRequest(_) | ExchangeRefused::TooLarge { .. } => {
                "invalid_request"
            }
            ExchangeRefused::UnsupportedGrantType(_) => "unsupported_grant_type",
            ExchangeRefused::InvalidGrant { .. } => "invalid_grant",
            ExchangeRefused::InvalidScope(_) => "invalid_scope",
            ExchangeRefused::InvalidTarget(_) => "invalid_target",
            ExchangeRefused::UnknownIssuer(_) => "invalid_request",
            ExchangeRefused::Unavailable(_) => "temporarily_unavailable",
            ExchangeRefused::Fault(_) => "server_error",
        }
    }

    /// The `error_description` a client sees.
    pub fn description(&self) -> String {
        match self {
            ExchangeRefused::InvalidGrant { .. } => GRANT_REFUSED.to_owned(),
            ExchangeRefused::Fault(_) => "internal error".to_owned(),
            ExchangeRefused::TooLarge { limit } => format!(
                "the request body is larger than {limit} bytes (the server's --max-body-bytes)"
            ),
            ExchangeRefused::InvalidRequest(m)
            | ExchangeRefused::UnsupportedGrantType(m)
            | ExchangeRefused::InvalidScope(m)
            | ExchangeRefused::InvalidTarget(m)
            | ExchangeRefused::Unavailable(m) => m.clone(),
            ExchangeRefused::UnknownIssuer(name) => {
                format!("no jwt issuer `{name}` is served here")
            }
        }
    }

    /// An invalid grant with its cause.
    pub fn grant(cause: impl Into<String>) -> ExchangeRefused {
        ExchangeRefused::InvalidGrant {
            cause: cause.into(),
        }
    }
}
