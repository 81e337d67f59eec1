//! Public per-issuer metadata: OIDC discovery, RFC 8414 metadata and the JWKS. No token, and
//! served while sealed, from public keys only, so verifiers never notice a seal.

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use sigil_jose::Jwk;

use crate::http::{ApiError, AppState};
use crate::minting::LoadedIssuer;
use crate::signing_keys::lifecycle;

/// The longest a verifier may cache a JWKS, before any scheduled key change shortens it.
pub const JWKS_MAX_AGE: i64 = 300;

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/jwt/{name}/.well-known/openid-configuration",
            get(read_discovery),
        )
        .route(
            "/jwt/{name}/.well-known/oauth-authorization-server",
            get(read_discovery),
        )
        .route("/jwt/{name}/.well-known/jwks.json", get(read_jwks))
}

/// OIDC Discovery 1.0 / RFC 8414 metadata.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DiscoveryDocument {
    /// Byte-equal to the `iss` of the issuer's tokens.
    pub issuer: String,
    /// Absolute JWKS URL.
    pub jwks_uri: String,
    /// Token endpoint (RFC 8693 exchange, RFC 7523 jwt-bearer).
    pub token_endpoint: String,
    /// Grant types of the token endpoint.
    pub grant_types_supported: Vec<&'static str>,
    /// RFC 7662 introspection endpoint.
    pub introspection_endpoint: String,
    /// `["id_token"]`.
    pub response_types_supported: Vec<&'static str>,
    /// `["public"]`.
    pub subject_types_supported: Vec<&'static str>,
    /// The signing key's algorithm; never `none`.
    pub id_token_signing_alg_values_supported: Vec<String>,
    /// Claims its tokens carry.
    pub claims_supported: Vec<&'static str>,
}

/// A JWK Set.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JwksDocument {
    /// Public keys: pending, active and retiring versions.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<Jwk>,
}

#[utoipa::path(get, path = "/jwt/{name}/.well-known/openid-configuration", tag = "discovery",
    description = "Also served at `/jwt/{name}/.well-known/oauth-authorization-server` (RFC 8414).",
    params(("name" = String, Path)), responses((status = 200, body = DiscoveryDocument), (status = 404)))]
async fn read_discovery(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let issuer = served(&state, &name)?;
    let base = format!("{}/jwt/{}", state.config.public_url, issuer.spec.name);
    let algorithm = state
        .keys
        .keyring()
        .get(&issuer.spec.signing_key)
        .map(|k| k.spec.algorithm.to_string());
    let document = DiscoveryDocument {
        issuer: issuer.iss.clone(),
        jwks_uri: format!("{base}/.well-known/jwks.json"),
        token_endpoint: format!("{base}/oauth/token"),
        grant_types_supported: vec![
            "urn:ietf:params:oauth:grant-type:token-exchange",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ],
        introspection_endpoint: format!("{base}/oauth/introspect"),
        response_types_supported: vec!["id_token"],
        subject_types_supported: vec!["public"],
        id_token_signing_alg_values_supported: algorithm.into_iter().collect(),
        claims_supported: vec!["iss", "sub", "aud", "exp", "nbf", "iat", "jti"],
    };
    Ok(cached(Json(document).into_response(), JWKS_MAX_AGE))
}

#[utoipa::path(get, path = "/jwt/{name}/.well-known/jwks.json", tag = "discovery",
    params(("name" = String, Path)), responses((status = 200, body = JwksDocument), (status = 404)))]
async fn read_jwks(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let issuer = served(&state, &name)?;
    let now = state.clock.now();
    let keyring = state.keys.keyring();
    let Some(key) = keyring.get(&issuer.spec.signing_key) else {
        return Ok(cached(
            Json(JwksDocument { keys: Vec::new() }).into_response(),
            0,
        ));
    };
    let keys = key.published(now).map(|v| v.public_jwk.clone()).collect();
    let retention = state.keys.usage().retention(&key.spec.name);
    let max_age = lifecycle::next_change(&key.spec, &key.versions, now, retention)
        .map_or(JWKS_MAX_AGE, |next| (next - now).clamp(0, JWKS_MAX_AGE));
    Ok(cached(Json(JwksDocument { keys }).into_response(), max_age))
}

fn served(state: &AppState, name: &str) -> Result<std::sync::Arc<LoadedIssuer>, ApiError> {
    state
        .issuers
        .table()
        .get(name)
        .filter(|i| i.served_here)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("no jwt issuer `{name}` is served here")))
}

fn cached(mut response: Response, max_age: i64) -> Response {
    if let Ok(value) = HeaderValue::from_str(&format!("public, max-age={max_age}")) {
        response.headers_mut().insert(header::CACHE_CONTROL, value);
    }
    response
}

/// The OpenAPI description of this surface.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(read_discovery, read_jwks),
    components(schemas(DiscoveryDocument, JwksDocument))
)]
pub struct DiscoveryApi;
