//! The OAuth endpoints of each JWT issuer: RFC 8693 / RFC 7523 token endpoint and RFC 7662
//! introspection. Form-encoded in, RFC 6749 §5.2 errors out.

mod form;
mod introspect;
mod token;

pub use form::OAuthError;

use axum::Router;
use axum::routing::post;

use crate::http::AppState;

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/jwt/{name}/oauth/token", post(token::exchange_token))
        .route(
            "/jwt/{name}/oauth/introspect",
            post(introspect::introspect_token),
        )
}

/// The OpenAPI description of this surface.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <Docs as utoipa::OpenApi>::openapi()
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(token::exchange_token, introspect::introspect_token),
    components(schemas(token::TokenResponse, form::OAuthError))
)]
struct Docs;
