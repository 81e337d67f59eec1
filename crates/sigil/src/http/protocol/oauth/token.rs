//! `POST /jwt/{name}/oauth/token`: RFC 8693 token exchange and RFC 7523 jwt-bearer. The
//! presented token is the credential; `scope` names the role to mint.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::form::{self, Form};
use crate::exchange::{Exchange, ExchangeParameters, ExchangeRefused, ExchangeRequest, TokenType};
use crate::http::payload::Payload;
use crate::http::{ApiError, AppState};

const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";

/// RFC 8693 §2.2.1 / RFC 6749 §5.1 answer.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    /// The minted JWT.
    pub access_token: String,
    /// `urn:ietf:params:oauth:token-type:jwt` (token exchange only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    /// `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// The role granted.
    pub scope: String,
}

#[utoipa::path(post, path = "/jwt/{name}/oauth/token", tag = "oauth",
    params(("name" = String, Path)),
    request_body(content_type = "application/x-www-form-urlencoded", content = String,
        description = "grant_type, subject_token, subject_token_type, scope, audience, resource, requested_token_type, actor_token, actor_token_type, assertion"),
    responses((status = 200, body = TokenResponse), (status = 400, body = super::form::OAuthError)))]
pub(super) async fn exchange_token(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    payload: Result<Payload, ApiError>,
) -> Response {
    let result = match form::oauth_payload(payload) {
        Ok(payload) => exchange(&state, &issuer, &payload).await,
        Err(refused) => Err(refused),
    };
    match result {
        Ok(response) => response,
        Err(refused) => {
            tracing::info!(issuer = %issuer, error = %refused, "token exchange refused");
            form::refusal(&refused)
        }
    }
}

async fn exchange(
    state: &AppState,
    issuer: &str,
    payload: &Payload,
) -> Result<Response, ExchangeRefused> {
    if state.seal.is_sealed() {
        return Err(ExchangeRefused::Unavailable("Sigil is sealed".into()));
    }
    let form = Form::parse(payload.content_type.as_deref(), &payload.bytes)?;
    let grant_type = form.required("grant_type")?;
    let (is_exchange, presented) = match grant_type {
        TOKEN_EXCHANGE => (true, "subject_token"),
        JWT_BEARER => (false, "assertion"),
        other => {
            return Err(ExchangeRefused::UnsupportedGrantType(format!(
                "unsupported grant_type {other:?}; use {TOKEN_EXCHANGE} or {JWT_BEARER}"
            )));
        }
    };
    let request = ExchangeRequest {
        subject_token: form.required(presented)?.to_owned(),
        parameters: parameters(&form, is_exchange),
    };
    let mappings = state.mappings.table();
    let policies = state.policies.set();
    let keyring = state.keys.keyring();
    let now = state.clock.now();
    let exchange = Exchange {
        trust: &state.trust,
        mappings: &mappings,
        policies: &policies.set,
        issuers: &state.issuers,
        keyring: &keyring,
        replays: state.store.replays(),
        now,
    };
    let exchanged = exchange.run(issuer, request).await?;
    tracing::info!(issuer = %issuer, role = %exchanged.role, identity = %exchanged.identity,
        jti = %exchanged.minted.jti, "token exchanged");
    let body = TokenResponse {
        access_token: exchanged.minted.token,
        issued_token_type: is_exchange.then_some(JWT_TYPE),
        token_type: "Bearer",
        expires_in: exchanged.minted.expires_at - now,
        scope: exchanged.role,
    };
    Ok(form::no_store(Json(body).into_response()))
}

/// Every parameter besides the presented token; judged only once that token has verified.
fn parameters(form: &Form, is_exchange: bool) -> Result<ExchangeParameters, ExchangeRefused> {
    let mut audiences = form.all("audience");
    audiences.extend(form.all("resource"));
    let scope = form.one("scope")?.map(str::to_owned);
    if !is_exchange {
        return Ok(ExchangeParameters {
            actor_token: None,
            scope,
            audiences,
        });
    }
    token_type(form.required("subject_token_type")?, "subject_token_type")?;
    if let Some(requested) = form.one("requested_token_type")?
        && !matches!(
            TokenType::parse(requested),
            Some(TokenType::Jwt | TokenType::AccessToken)
        )
    {
        return Err(ExchangeRefused::InvalidRequest(format!(
            "requested_token_type {requested:?} cannot be issued; Sigil issues {JWT_TYPE}"
        )));
    }
    let actor_token = match (form.one("actor_token")?, form.one("actor_token_type")?) {
        (Some(token), Some(kind)) => {
            token_type(kind, "actor_token_type")?;
            Some(token.to_owned())
        }
        (None, None) => None,
        (Some(_), None) => {
            return Err(ExchangeRefused::InvalidRequest(
                "actor_token_type is required with actor_token".into(),
            ));
        }
        (None, Some(_)) => {
            return Err(ExchangeRefused::InvalidRequest(
                "actor_token_type was given without actor_token".into(),
            ));
        }
    };
    Ok(ExchangeParameters {
        actor_token,
        scope,
        audiences,
    })
}

fn token_type(urn: &str, field: &str) -> Result<TokenType, ExchangeRefused> {
    TokenType::parse(urn).ok_or_else(|| {
        ExchangeRefused::InvalidRequest(format!(
            "{field} must be a JWT type (…:jwt, …:id_token or …:access_token), not {urn:?}"
        ))
    })
}
