//! `POST /jwt/{name}/oauth/introspect` (RFC 7662): a valid token of this issuer is
//! `active: true` with its claims; anything else — expired, revoked key, another issuer,
//! garbage — is exactly `{"active": false}`. The caller needs `read` on
//! `/jwt-issuers/<name>/introspect`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sigil_policy::Operation;

use super::form::{self, Form, OAuthError};
use crate::exchange::ExchangeRefused;
use crate::http::auth;
use crate::http::payload::Payload;
use crate::http::{ApiError, AppState};

#[utoipa::path(post, path = "/jwt/{name}/oauth/introspect", tag = "oauth",
    params(("name" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", content = String, description = "token"),
    responses((status = 200, description = "`{active: true, ...claims}` or exactly `{active: false}`"),
        (status = 401, body = OAuthError), (status = 403, body = OAuthError)))]
pub(super) async fn introspect_token(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    headers: axum::http::HeaderMap,
    payload: Result<Payload, ApiError>,
) -> Response {
    if state.seal.is_sealed() {
        return form::refusal(&ExchangeRefused::Unavailable("Sigil is sealed".into()));
    }
    let caller = match auth::identify(&state, &headers).await {
        Ok(caller) => caller,
        Err(error) => return unauthenticated(&error),
    };
    let resource = format!("/jwt-issuers/{issuer}/introspect");
    if auth::authorize(&state, &caller.identity, &resource, Operation::Read).is_err() {
        let body = OAuthError {
            error: "insufficient_scope",
            error_description: format!("no policy allows `read` on `{resource}`"),
        };
        return (StatusCode::FORBIDDEN, Json(body)).into_response();
    }
    let payload = match form::oauth_payload(payload) {
        Ok(payload) => payload,
        Err(refused) => return form::refusal(&refused),
    };
    let form = match Form::parse(payload.content_type.as_deref(), &payload.bytes) {
        Ok(form) => form,
        Err(refused) => return form::refusal(&refused),
    };
    let token = match form.required("token") {
        Ok(token) => token,
        Err(refused) => return form::refusal(&refused),
    };
    let answer = match active_claims(&state, &issuer, token) {
        Some(mut claims) => {
            claims.insert("active".into(), Value::Bool(true));
            Value::Object(claims)
        }
        None => json!({"active": false}),
    };
    form::no_store(Json(answer).into_response())
}

/// The claims of `token` if it is a currently valid token of `issuer`, served by this node.
fn active_claims(state: &AppState, issuer: &str, token: &str) -> Option<Map<String, Value>> {
    let table = state.issuers.table();
    let issuer = table.get(issuer).filter(|i| i.served_here)?;
    state
        .trust
        .verify_issued(token, &issuer.iss, &issuer.spec.signing_key)
        .ok()
}

fn unauthenticated(error: &ApiError) -> Response {
    let description = match error {
        ApiError::Unauthenticated { message, .. } => message.clone(),
        _ => "a valid bearer token is required".to_owned(),
    };
    let mut response = (
        StatusCode::UNAUTHORIZED,
        Json(OAuthError {
            error: "invalid_token",
            error_description: description,
        }),
    )
        .into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"sigil\", error=\"invalid_token\""),
    );
    response
}
