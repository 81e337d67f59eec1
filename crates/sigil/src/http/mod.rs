//! The HTTP surface: one router built from each surface's `router()`, the layers every request
//! passes (request id, 5xx scrubbing, seal gate, authentication), and `serve`. Surfaces are
//! grouped by who calls them: `admin/` (operators), `protocol/` (workloads and clients
//! obtaining or checking tokens), `public/` (anyone).

pub mod admin;
pub(crate) mod auth;
pub(crate) mod bearer;
pub mod body;
pub mod config_resource;
pub(crate) mod error;
pub(crate) mod negotiate;
pub(crate) mod payload;
pub mod protocol;
pub(crate) mod public;
pub mod query;
pub(crate) mod resource;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::app::App;
pub use error::ApiError;

/// The state every handler receives.
#[derive(Clone)]
pub struct AppState(pub Arc<App>);

impl std::ops::Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

/// The whole HTTP API.
pub fn router(state: AppState) -> Router {
    let protected = Router::new()
        .merge(admin::signing_keys::router())
        .merge(admin::jwt_issuers::router())
        .merge(admin::roles::router())
        .merge(protocol::mint::router())
        .merge(admin::trusted_issuers::router())
        .merge(protocol::verify::router())
        .merge(admin::identity_mappings::router())
        .merge(admin::policies::router())
        .merge(admin::sys::protected_router())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    let needs_unsealed = Router::new()
        .merge(protected)
        .merge(admin::sys::quorum_router())
        .merge(protocol::login::router())
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_while_sealed,
        ));
    Router::new()
        .merge(needs_unsealed)
        .merge(admin::sys::open_router())
        .merge(public::discovery::router())
        .merge(protocol::oauth::router())
        .merge(public::ops::router())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(tower_http::catch_panic::CatchPanicLayer::new())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_context,
        ))
        .with_state(state)
}

/// Serves `app` on `listener` until `shutdown` resolves; in-flight requests finish first.
pub async fn serve(
    listener: TcpListener,
    app: Arc<App>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router(AppState(app));
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn refuse_while_sealed(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if state.seal.is_sealed() {
        return ApiError::Sealed.into_response();
    }
    next.run(request).await
}

/// Gives every request an id (kept from `X-Request-Id` when sane), logs it, returns it, and
/// replaces the body of every 500 by a fixed text carrying the id.
async fn request_context(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let oauth = {
        let path = request.uri().path();
        path.starts_with("/jwt/") && path.contains("/oauth/")
    };
    let span = tracing::info_span!(
        "request",
        node = %state.config.node_id,
        request_id = %request_id,
        method = %request.method(),
        path = %request.uri().path(),
    );
    async move {
        let mut response = error::rejection_as_json(next.run(request).await, oauth).await;
        let status = response.status();
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            if response.extensions().get::<error::Fault>().is_none() {
                tracing::error!("handler panicked or failed without a cause");
            }
            response = (
                status,
                axum::Json(serde_json::json!({
                    "message": "internal error; quote the request id when reporting it",
                    "error_code": "internal",
                    "request_id": request_id,
                })),
            )
                .into_response();
        }
        if status.is_server_error() || status.is_client_error() {
            tracing::info!(status = status.as_u16(), "request refused");
        } else {
            tracing::debug!(status = status.as_u16(), "request served");
        }
        if let Ok(value) = HeaderValue::from_str(&request_id) {
            response.headers_mut().insert("x-request-id", value);
        }
        response
    }
    .instrument(span)
    .await
}

async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
