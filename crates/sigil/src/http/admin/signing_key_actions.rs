//! The signing key actions: `POST /v1/signing-keys/{name}/rotate` and the taint and revoke of
//! one version. Each honours `validate=true` (the same checks, no write) and `If-Match`, and
//! answers the key's state view.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde::Deserialize;

use super::signing_keys::{CONFIG_FIELDS, SigningKeyState, state_view};
use crate::duration::HumanDuration;
use crate::http::body::BodyRules;
use crate::http::payload::Payload;
use crate::http::resource::{self, Conventions, if_match, to_value};
use crate::http::{ApiError, AppState};
use crate::signing_keys::{LoadedKey, Preview, VersionAction};

/// Routes of this surface.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/signing-keys/{name}/rotate", post(rotate_signing_key))
        .route(
            "/v1/signing-keys/{name}/versions/{version}/taint",
            post(taint_signing_key_version),
        )
        .route(
            "/v1/signing-keys/{name}/versions/{version}/revoke",
            post(revoke_signing_key_version),
        )
}

#[derive(Debug, Default, Deserialize)]
struct RotateBody {
    prepublish: Option<HumanDuration>,
}

#[utoipa::path(post, path = "/v1/signing-keys/{name}/rotate", tag = "signing-keys",
    params(("name" = String, Path)), request_body(content = Object, description = "`{prepublish?: duration}`"),
    responses((status = 200, body = SigningKeyState)))]
async fn rotate_signing_key(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = if_match(&headers)?;
    let request: RotateBody = resource::optional_body(&payload, &BodyRules::NONE)?;
    let key = if conventions.query.validate {
        state.keys.preview(&name, Preview::Rotate, expected)?
    } else {
        let key = state
            .keys
            .rotate(&name, request.prepublish, expected)
            .await?;
        tracing::info!(key = %name, prepublish = ?request.prepublish.map(|p| p.to_string()), "signing key rotated");
        key
    };
    state_response(&state, &conventions, &key)
}

#[utoipa::path(post, path = "/v1/signing-keys/{name}/versions/{version}/taint", tag = "signing-keys",
    params(("name" = String, Path), ("version" = u32, Path)), responses((status = 200, body = SigningKeyState)))]
async fn taint_signing_key_version(
    state: State<AppState>,
    path: Path<(String, String)>,
    query: RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    change_version(state, path, query, headers, VersionAction::Taint).await
}

#[utoipa::path(post, path = "/v1/signing-keys/{name}/versions/{version}/revoke", tag = "signing-keys",
    params(("name" = String, Path), ("version" = u32, Path)), responses((status = 200, body = SigningKeyState)))]
async fn revoke_signing_key_version(
    state: State<AppState>,
    path: Path<(String, String)>,
    query: RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    change_version(state, path, query, headers, VersionAction::Revoke).await
}

async fn change_version(
    State(state): State<AppState>,
    Path((name, version)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    action: VersionAction,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = if_match(&headers)?;
    let version: u32 = version
        .parse()
        .map_err(|_| ApiError::field("version", "must be a positive whole number"))?;
    let key = if conventions.query.validate {
        state
            .keys
            .preview(&name, Preview::Version(version, action), expected)?
    } else {
        let key = state
            .keys
            .change_version(&name, version, action, expected)
            .await?;
        tracing::info!(key = %name, version, ?action, "signing key version changed");
        key
    };
    state_response(&state, &conventions, &key)
}

fn state_response(
    state: &AppState,
    conventions: &Conventions,
    key: &LoadedKey,
) -> Result<Response, ApiError> {
    Ok(conventions.item(
        StatusCode::OK,
        to_value(&state_view(state, key))?,
        key.revision,
        CONFIG_FIELDS,
    ))
}

/// The OpenAPI description of the actions.
pub(super) fn openapi() -> utoipa::openapi::OpenApi {
    <ActionsApi as utoipa::OpenApi>::openapi()
}

#[derive(utoipa::OpenApi)]
#[openapi(paths(
    rotate_signing_key,
    taint_signing_key_version,
    revoke_signing_key_version
))]
struct ActionsApi;
