//! Operations endpoints: liveness, readiness and the OpenAPI document generated from the code.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use utoipa::OpenApi;

use super::AppState;

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/v1/openapi.json", get(openapi))
}

/// The whole API description.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    #[derive(OpenApi)]
    #[openapi(
        info(title = "Sigil", description = "JWT issuer and trust broker"),
        components(schemas(super::error::ErrorBody, crate::validation::FieldError))
    )]
    struct Root;
    let mut doc = Root::openapi();
    doc.merge(super::admin::signing_keys::SigningKeysApi::openapi());
    doc.merge(super::admin::sys::SysApi::openapi());
    doc.merge(super::admin::jwt_issuers::JwtIssuersApi::openapi());
    doc.merge(super::admin::roles::RolesApi::openapi());
    doc.merge(super::admin::mint::MintApi::openapi());
    doc.merge(super::discovery::DiscoveryApi::openapi());
    doc
}

async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready when unsealed and the store answers.
async fn readyz(State(state): State<AppState>) -> Response {
    let sealed = state.seal.is_sealed();
    let storage = state.store.ping().await;
    if let Err(e) = &storage {
        tracing::warn!(error = %e, "storage not reachable");
    }
    let ready = !sealed && storage.is_ok();
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({"ready": ready, "sealed": sealed, "storage": if storage.is_ok() {"ok"} else {"unreachable"}});
    (status, Json(body)).into_response()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}
