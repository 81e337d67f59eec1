//! `POST /v1/jwt-issuers/{name}/roles/{role}/mint`: mints a token of a role for the caller.
//! The policy check on the mint path already happened in `auth.rs`; this only shapes the token.

use axum::Extension;
use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::clock::rfc3339;
use crate::duration::HumanDuration;
use crate::http::auth::Caller;
use crate::http::body::BodyRules;
use crate::http::payload::Payload;
use crate::http::resource;
use crate::http::{ApiError, AppState};
use crate::minting::{Constraints, MintRequest};

/// How a mint body maps onto its fields: caller claims are user data.
pub const RULES: BodyRules = BodyRules {
    aliases: &[("audience", "audiences")],
    opaque: &["claims"],
};

/// The mint route; its resource path is [`crate::minting::mint_policy_path`].
pub const MINT_ROUTE: &str = "/v1/jwt-issuers/{name}/roles/{role}/mint";

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    Router::new().route(MINT_ROUTE, post(mint_token))
}

/// What to mint; every field optional.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
pub struct MintBody {
    /// Lifetime; default the role's, else the issuer's `default_ttl`.
    #[schema(value_type = Option<String>, example = "15m")]
    pub ttl: Option<HumanDuration>,
    /// Audiences, each matching the role's `allowed_audiences`.
    pub audiences: Option<Vec<String>>,
    /// Claims the role's `allowed_claims` permit.
    #[schema(value_type = Option<Object>)]
    pub claims: Option<Map<String, Value>>,
}

/// A minted token.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MintResponse {
    /// The JWT.
    pub token: String,
    /// Its `exp` (RFC 3339).
    pub expires_at: String,
    /// The signing key version that signed it.
    pub kid: String,
    /// Its `jti`.
    pub jti: String,
}

#[utoipa::path(post, path = "/v1/jwt-issuers/{name}/roles/{role}/mint", tag = "roles",
    params(("name" = String, Path), ("role" = String, Path)), request_body = MintBody,
    responses((status = 200, body = MintResponse), (status = 400), (status = 403), (status = 404)))]
async fn mint_token(
    State(state): State<AppState>,
    Path((issuer, role)): Path<(String, String)>,
    Extension(caller): Extension<Caller>,
    payload: Payload,
) -> Result<Response, ApiError> {
    let body: MintBody = resource::optional_body(&payload, &RULES)?;
    let request = MintRequest {
        ttl: body.ttl,
        audiences: body.audiences,
        claims: body.claims,
    };
    let minted = state.issuers.resolve(&issuer, &role)?.mint(
        &state.keys.keyring(),
        &request,
        &caller.resolved.identity,
        state.clock.now(),
        &Constraints::default(),
    )?;
    let mut response = Json(MintResponse {
        token: minted.token,
        expires_at: rfc3339(minted.expires_at),
        kid: minted.kid,
        jti: minted.jti,
    })
    .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// The OpenAPI description of this surface.
#[derive(utoipa::OpenApi)]
#[openapi(paths(mint_token), components(schemas(MintBody, MintResponse)))]
pub struct MintApi;
