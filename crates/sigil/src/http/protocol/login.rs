//! `POST /v1/auth/login/{trusted_issuer}`: JWT login. The external token (read from the
//! header the trusted issuer names) is verified and mapped; the answer is an internal session
//! token carrying the mapping's policies, never outliving the external token.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::Serialize;
use serde_json::Value;

use crate::clock::rfc3339;
use crate::http::auth;
use crate::http::bearer::{AuthRefused, TokenPlace, read_token};
use crate::http::{ApiError, AppState};
use crate::identity::{MappingTrace, resolve};
use crate::trust::{RedeemRefused, redeem};

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/auth/login/{trusted_issuer}", post(login))
}

/// A session.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    /// The internal session token.
    pub token: String,
    /// Its expiry (RFC 3339).
    pub expires_at: String,
    /// The identity it stands for.
    pub identity: String,
    /// Its policies.
    pub policies: Vec<String>,
    /// The mapping that applied.
    pub mapping: Option<String>,
}

#[utoipa::path(post, path = "/v1/auth/login/{trusted_issuer}", tag = "auth",
    params(("trusted_issuer" = String, Path)),
    responses((status = 200, body = LoginResponse), (status = 401), (status = 403), (status = 404)))]
async fn login(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let issuer = state
        .trust
        .find(&name)
        .filter(|i| !i.is_internal)
        .ok_or_else(|| ApiError::NotFound(format!("no trusted issuer `{name}` to log in with")))?;
    let header_name = issuer.spec.header.as_str();
    let token =
        read_token(&headers, TokenPlace::Header(header_name))?.ok_or(AuthRefused::Missing)?;
    let verified = auth::verify_from(&state, token, header_name).await?;
    if verified.issuer.spec.name != name {
        return Err(AuthRefused::WrongIssuer {
            expected: name,
            actual: verified.issuer.spec.name.clone(),
        }
        .into());
    }
    let resolved = resolve(
        &verified,
        &state.mappings.table(),
        &mut MappingTrace::default(),
    );
    if !resolved.mapped {
        return Err(ApiError::Forbidden {
            path: format!("/auth/login/{name}"),
            operation: "login (no identity mapping applies to this token)".into(),
        });
    }
    let now = state.clock.now();
    let external_exp = verified
        .claims
        .get("exp")
        .and_then(Value::as_f64)
        .map_or(now, |e| e.floor() as i64);
    let ttl = (external_exp - now)
        .min(i64::try_from(state.config.session_ttl.as_secs()).unwrap_or(i64::MAX));
    if ttl <= 0 {
        return Err(AuthRefused::Expired.into());
    }
    let policies: Vec<&str> = resolved
        .identity
        .policies
        .iter()
        .map(String::as_str)
        .collect();
    let minted = state
        .internal
        .mint(
            &state.keys.keyring(),
            now,
            &resolved.identity.id,
            &policies,
            u64::try_from(ttl).unwrap_or(0),
        )
        .ok_or(ApiError::Sealed)?;
    // Last, once nothing else can refuse: a refused login never spends a single-use token.
    redeem(state.store.replays(), &verified, now)
        .await
        .map_err(|refused| match refused {
            RedeemRefused::Storage(e) => e.into(),
            RedeemRefused::AlreadyRedeemed(_) => ApiError::Unauthenticated {
                code: "token_replayed",
                message: "this token was already used once; its issuer requires a fresh token \
                          (a new jti) for every login or exchange"
                    .into(),
            },
            RedeemRefused::JtiUnusable => ApiError::Unauthenticated {
                code: "jti_required",
                message: format!(
                    "{}; its issuer requires a jti on every login token",
                    RedeemRefused::JtiUnusable
                ),
            },
        })?;
    tracing::info!(identity = %resolved.identity.id, mapping = ?resolved.mapping, jti = %minted.jti, "login");
    let body = LoginResponse {
        token: minted.token,
        expires_at: rfc3339(minted.expires_at),
        identity: resolved.identity.id.clone(),
        policies: resolved.identity.policies.clone(),
        mapping: resolved.mapping,
    };
    let mut response = Json(body).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The OpenAPI description of this surface.
#[derive(utoipa::OpenApi)]
#[openapi(paths(login), components(schemas(LoginResponse)))]
pub struct LoginApi;
