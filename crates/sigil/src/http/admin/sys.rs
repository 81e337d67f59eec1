//! The seal lifecycle under `/v1/sys`: status, init and unseal are open (they are how a sealed
//! server is reached); seal needs a token; generate-root needs a quorum of unseal keys.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};

use crate::clock::rfc3339;
use crate::http::body::{self, BodyRules};
use crate::http::payload::Payload;
use crate::http::{ApiError, AppState};
use crate::seal::{SealStatus, Share};
use crate::validation::FieldError;

/// Seal status, init and unseal: reachable while sealed, no token.
pub fn open_router() -> Router<AppState> {
    Router::new()
        .route("/v1/sys/seal-status", get(read_seal_status))
        .route("/v1/sys/init", post(initialise))
        .route("/v1/sys/unseal", post(unseal))
}

/// Seal: needs an authorised token.
pub fn protected_router() -> Router<AppState> {
    Router::new().route("/v1/sys/seal", post(seal))
}

/// Generate-root: needs the server unsealed and a quorum of unseal keys.
pub fn quorum_router() -> Router<AppState> {
    Router::new().route("/v1/sys/generate-root", post(generate_root))
}

/// `POST /v1/sys/init`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct InitRequest {
    /// Number of unseal key shares, 1-16 (default 5).
    pub shares: Option<u8>,
    /// Shares needed to unseal (default 3; 1 only with a single share).
    pub threshold: Option<u8>,
}

/// The answer to init, shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InitResponse {
    /// The unseal key shares (base64). Store them apart; Sigil keeps no copy.
    pub keys: Vec<String>,
    /// Shares needed to unseal.
    pub threshold: u8,
    /// A root token.
    pub root_token: String,
    /// When the root token expires (RFC 3339).
    pub root_token_expires_at: String,
}

/// `POST /v1/sys/unseal`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct UnsealRequest {
    /// One unseal key share.
    pub key: Option<String>,
    /// Forget the shares given so far instead.
    pub reset: Option<bool>,
}

/// `POST /v1/sys/generate-root`.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct GenerateRootRequest {
    /// At least the threshold of unseal key shares.
    pub keys: Option<Vec<String>>,
}

/// A new root token.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RootTokenResponse {
    /// The token.
    pub root_token: String,
    /// Its expiry (RFC 3339).
    pub expires_at: String,
}

#[utoipa::path(get, path = "/v1/sys/seal-status", tag = "sys", responses((status = 200, body = SealStatus)))]
async fn read_seal_status(State(state): State<AppState>) -> Result<Json<SealStatus>, ApiError> {
    Ok(Json(state.seal.status().await?))
}

#[utoipa::path(post, path = "/v1/sys/init", tag = "sys", request_body = InitRequest,
    responses((status = 200, body = InitResponse), (status = 409)))]
async fn initialise(State(state): State<AppState>, payload: Payload) -> Result<Response, ApiError> {
    let request: InitRequest = if payload.is_empty() {
        InitRequest::default()
    } else {
        body::parse_body(
            payload.content_type.as_deref(),
            &payload.bytes,
            &BodyRules::NONE,
        )?
    };
    let init = state
        .0
        .initialise(request.shares.unwrap_or(5), request.threshold.unwrap_or(3))
        .await?;
    tracing::info!(shares = init.shares.len(), "initialised");
    let body = InitResponse {
        keys: init.shares.iter().map(Share::encode).collect(),
        threshold: request.threshold.unwrap_or(3),
        root_token: init.root_token.token,
        root_token_expires_at: rfc3339(init.root_token.expires_at),
    };
    Ok(no_store(Json(body).into_response()))
}

#[utoipa::path(post, path = "/v1/sys/unseal", tag = "sys", request_body = UnsealRequest,
    responses((status = 200, body = SealStatus), (status = 400)))]
async fn unseal(
    State(state): State<AppState>,
    payload: Payload,
) -> Result<Json<SealStatus>, ApiError> {
    // An unsealed server answers its status and does nothing else: no body is parsed, no share
    // judged, no key opened again (this endpoint needs no token).
    if !state.seal.is_sealed() {
        return Ok(Json(state.seal.status().await?));
    }
    let request: UnsealRequest = body::parse_body(
        payload.content_type.as_deref(),
        &payload.bytes,
        &BodyRules::NONE,
    )?;
    if request.reset == Some(true) {
        if state.seal.is_sealed() {
            state.seal.seal().await;
        }
        return Ok(Json(state.seal.status().await?));
    }
    let key = request
        .key
        .ok_or_else(|| ApiError::invalid(vec![FieldError::required("key")]))?;
    let share = Share::decode(&key).map_err(|e| ApiError::field("key", e.to_string()))?;
    match state.0.unseal(share).await {
        Ok(status) => Ok(Json(status)),
        Err(refused) => {
            tracing::warn!(reason = %refused, "unseal refused");
            Err(refused.into())
        }
    }
}

#[utoipa::path(post, path = "/v1/sys/seal", tag = "sys", responses((status = 204)))]
async fn seal(State(state): State<AppState>) -> StatusCode {
    state.seal_now().await;
    StatusCode::NO_CONTENT
}

#[utoipa::path(post, path = "/v1/sys/generate-root", tag = "sys", request_body = GenerateRootRequest,
    responses((status = 200, body = RootTokenResponse), (status = 400)))]
async fn generate_root(
    State(state): State<AppState>,
    payload: Payload,
) -> Result<Response, ApiError> {
    let request: GenerateRootRequest = body::parse_body(
        payload.content_type.as_deref(),
        &payload.bytes,
        &BodyRules::NONE,
    )?;
    let keys = request
        .keys
        .ok_or_else(|| ApiError::invalid(vec![FieldError::required("keys")]))?;
    let mut shares = Vec::with_capacity(keys.len());
    let mut errors = Vec::new();
    for (i, key) in keys.iter().enumerate() {
        match Share::decode(key) {
            Ok(share) => shares.push(share),
            Err(e) => errors.push(FieldError::invalid(format!("keys/{i}"), e.to_string())),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let minted = state.0.generate_root(shares).await?;
    tracing::info!(jti = %minted.jti, "root token generated");
    let body = RootTokenResponse {
        root_token: minted.token,
        expires_at: rfc3339(minted.expires_at),
    };
    Ok(no_store(Json(body).into_response()))
}

fn no_store(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The OpenAPI description of this surface.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(read_seal_status, initialise, unseal, seal, generate_root),
    components(schemas(
        SealStatus,
        InitRequest,
        InitResponse,
        UnsealRequest,
        GenerateRootRequest,
        RootTokenResponse
    ))
)]
pub struct SysApi;
