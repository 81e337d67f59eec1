//! Operations endpoints: liveness, readiness and the OpenAPI document generated from the code.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;
use utoipa::OpenApi;

use crate::http::AppState;

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
        components(schemas(crate::http::error::ErrorBody, crate::validation::FieldError))
    )]
    struct Root;
    let mut doc = Root::openapi();
    doc.merge(crate::http::admin::signing_keys::openapi());
    doc.merge(crate::http::admin::sys::SysApi::openapi());
    doc.merge(crate::http::admin::jwt_issuers::openapi());
    doc.merge(crate::http::admin::roles::openapi());
    doc.merge(crate::http::protocol::mint::MintApi::openapi());
    doc.merge(crate::http::public::discovery::DiscoveryApi::openapi());
    doc.merge(crate::http::admin::trusted_issuers::openapi());
    doc.merge(crate::http::protocol::verify::VerifyApi::openapi());
    doc.merge(crate::http::admin::identity_mappings::openapi());
    doc.merge(crate::http::admin::policies::openapi());
    doc.merge(crate::http::protocol::login::LoginApi::openapi());
    doc.merge(crate::http::protocol::oauth::openapi());
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
    let body = json!({
        "ready": ready,
        "sealed": sealed,
        "storage": if storage.is_ok() { "ok" } else { "unreachable" },
        "node": state.config.node_id,
    });
    (status, Json(body)).into_response()
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(openapi_document())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(value: &serde_json::Value, found: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, inner) in map {
                    match (key.as_str(), inner.as_str()) {
                        ("$ref", Some(target)) => found.push(target.to_owned()),
                        _ => refs(inner, found),
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter().for_each(|i| refs(i, found)),
            _ => {}
        }
    }

    #[test]
    fn every_schema_reference_in_the_openapi_document_resolves() {
        let doc = serde_json::to_value(openapi_document()).unwrap();
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty());
        for target in found {
            let name = target.trim_start_matches("#/components/schemas/");
            assert!(
                doc["components"]["schemas"].get(name).is_some(),
                "{target} is referenced but not defined"
            );
        }
    }

    #[test]
    fn the_openapi_document_lists_every_resource_path() {
        let doc = serde_json::to_value(openapi_document()).unwrap();
        for path in [
            "/v1/config/signing-keys/{item}",
            "/v1/state/jwt-issuers",
            "/v1/config/jwt-issuers/{name}/roles/{item}",
            "/v1/jwt-issuers/{name}/roles/{role}/mint",
            "/jwt/{name}/.well-known/jwks.json",
            "/v1/sys/unseal",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path} missing");
        }
    }
}
