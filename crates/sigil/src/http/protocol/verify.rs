//! `POST /v1/verify` and `POST /v1/explain`: verify any token from a trusted issuer. Explain
//! answers the same verdict plus every check in order, with the token text never echoed.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sigil_policy::Operation;

use crate::http::body::{self, BodyRules};
use crate::http::payload::Payload;
use crate::http::{ApiError, AppState};
use crate::identity::{MappingTrace, resolve};
use crate::trust::{Trace, Verified};
use crate::validation::FieldError;

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/verify", post(verify_token))
        .route("/v1/explain", post(explain_token))
}

/// A token to verify.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct VerifyRequest {
    /// The JWT.
    pub token: Option<String>,
    /// An audience the token must also carry.
    pub audience: Option<String>,
    /// (explain) A resource path to judge the identity's policies on, e.g.
    /// `/jwt-issuers/payments-api/roles/deployer/mint`.
    pub path: Option<String>,
    /// (explain) The operation on `path`: create, read, update or delete (default update).
    pub operation: Option<String>,
}

/// A verified token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VerifyResponse {
    /// The trusted issuer's name.
    pub issuer: String,
    /// Its project.
    pub project: String,
    /// The token's claims.
    #[schema(value_type = Object)]
    pub claims: Map<String, Value>,
    /// Roles after the issuer's allow-list.
    pub roles: Vec<String>,
    /// Permissions after the issuer's mask.
    pub permissions: u64,
}

/// The verdict with every check.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ExplainResponse {
    /// Whether the token is valid.
    pub valid: bool,
    /// The verification result, when valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<VerifyResponse>,
    /// Why it is not, when invalid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<&'static str>,
    /// The refusal in words.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Each check in order.
    pub trace: Trace,
    /// The identity the token maps to (valid tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<crate::identity::Identity>,
    /// Every identity mapping tried, in order, and its outcome.
    pub mappings: MappingTrace,
    /// The policy decision on the requested path and operation, with every rule consulted.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub policy: Option<Value>,
}

#[utoipa::path(post, path = "/v1/verify", tag = "verify", request_body = VerifyRequest,
    responses((status = 200, body = VerifyResponse), (status = 401, body = crate::http::error::ErrorBody)))]
async fn verify_token(
    State(state): State<AppState>,
    payload: Payload,
) -> Result<Response, ApiError> {
    let request = read(&payload)?;
    let mut trace = Trace::default();
    match state
        .trust
        .verify(&request.token, request.audience.as_deref(), &mut trace)
        .await
    {
        Ok(verified) => Ok(Json(response(&verified)).into_response()),
        Err(refused) => Err(refused.into()),
    }
}

#[utoipa::path(post, path = "/v1/explain", tag = "verify", request_body = VerifyRequest,
    responses((status = 200, body = ExplainResponse), (status = 401, body = ExplainResponse)))]
async fn explain_token(
    State(state): State<AppState>,
    payload: Payload,
) -> Result<Response, ApiError> {
    let request = read(&payload)?;
    let operation = match request.operation.as_deref() {
        None => Operation::Update,
        Some(name) => Operation::parse(name).ok_or_else(|| {
            ApiError::field("operation", "must be one of create, read, update, delete")
        })?,
    };
    let mut trace = Trace::recording();
    let outcome = state
        .trust
        .verify(&request.token, request.audience.as_deref(), &mut trace)
        .await;
    let mut mappings = MappingTrace::default();
    let (status, body) = match outcome {
        Ok(verified) => {
            let resolved = resolve(&verified, &state.mappings.table(), &mut mappings);
            let policy = match &request.path {
                Some(path) => {
                    let (decision, rules) =
                        state
                            .policies
                            .set()
                            .explain(&resolved.identity.policies, path, operation);
                    Some(
                        json!({"path": path, "operation": operation, "decision": decision, "rules": rules}),
                    )
                }
                None => None,
            };
            (
                StatusCode::OK,
                ExplainResponse {
                    valid: true,
                    result: Some(response(&verified)),
                    error_code: None,
                    message: None,
                    trace,
                    identity: Some(resolved.identity),
                    mappings,
                    policy,
                },
            )
        }
        Err(refused) => (
            StatusCode::UNAUTHORIZED,
            ExplainResponse {
                valid: false,
                result: None,
                error_code: Some(refused.code()),
                message: Some(refused.to_string()),
                trace,
                identity: None,
                mappings,
                policy: None,
            },
        ),
    };
    Ok((status, Json(body)).into_response())
}

/// A request with its token present and trimmed.
struct Checked {
    token: String,
    audience: Option<String>,
    path: Option<String>,
    operation: Option<String>,
}

fn read(payload: &Payload) -> Result<Checked, ApiError> {
    let request: VerifyRequest = body::parse_body(
        payload.content_type.as_deref(),
        &payload.bytes,
        &BodyRules::NONE,
    )?;
    let token = request
        .token
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| ApiError::invalid(vec![FieldError::required("token")]))?;
    Ok(Checked {
        token: token.trim().to_owned(),
        audience: request.audience,
        path: request.path,
        operation: request.operation,
    })
}

fn response(verified: &Verified) -> VerifyResponse {
    VerifyResponse {
        issuer: verified.issuer.spec.name.clone(),
        project: verified.issuer.spec.project.clone(),
        claims: verified.claims.clone(),
        roles: verified.roles.clone(),
        permissions: verified.permissions,
    }
}

/// The OpenAPI description of this surface.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(verify_token, explain_token),
    components(schemas(
        VerifyRequest,
        VerifyResponse,
        ExplainResponse,
        Trace,
        crate::trust::Check
    ))
)]
pub struct VerifyApi;
