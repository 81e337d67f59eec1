//! `/v1/config/jwt-issuers` and `/v1/state/jwt-issuers`: named issuers, each with its signing
//! key, `iss`, TTL bounds and distribution. Reads come from the in-memory issuer table.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::{Deserialize, Serialize};

use super::super::body::{self, BodyRules};
use super::super::payload::Payload;
use super::super::resource::{self, Conventions, expected_for_put, if_match, to_value};
use super::super::{ApiError, AppState};
use crate::clock::rfc3339;
use crate::duration::HumanDuration;
use crate::minting::{Distribute, IssuerFields, LoadedIssuer};
use crate::signing_keys::lifecycle;
use crate::storage::Expected;

const CONFIG_FIELDS: &[&str] = &[
    "signing_key",
    "issuer",
    "default_ttl",
    "max_ttl",
    "verbose_logging",
    "distribute",
];
const COLLECTION: &str = "/v1/config/jwt-issuers";

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, get(list_jwt_issuers).post(create_jwt_issuer))
        .route(
            "/v1/config/jwt-issuers/{name}",
            get(read_jwt_issuer)
                .put(put_jwt_issuer)
                .patch(patch_jwt_issuer)
                .delete(delete_jwt_issuer),
        )
        .route("/v1/state/jwt-issuers", get(list_jwt_issuer_states))
        .route("/v1/state/jwt-issuers/{name}", get(read_jwt_issuer_state))
}

/// A JWT issuer as written by the operator (`-` in keys reads as `_`).
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct JwtIssuerBody {
    /// Unique name: 1-200 characters of `[A-Za-z0-9._-]`.
    pub name: Option<String>,
    /// The signing key (must exist).
    pub signing_key: Option<String>,
    /// The `iss` claim; default `<public-url>/jwt/<name>`.
    pub issuer: Option<String>,
    /// Default TTL (default `1h`).
    #[schema(value_type = Option<String>, example = "1h")]
    pub default_ttl: Option<HumanDuration>,
    /// Cap for every token (default `1d`).
    #[schema(value_type = Option<String>, example = "1d")]
    pub max_ttl: Option<HumanDuration>,
    /// Log every decision of its requests (default false).
    pub verbose_logging: Option<bool>,
    /// `{to: all}` (default) or `{sites: [..]}`.
    pub distribute: Option<Distribute>,
}

/// A JWT issuer's configuration and derived state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JwtIssuerState {
    /// Configuration.
    #[serde(flatten)]
    #[schema(inline)]
    pub config: JwtIssuerConfig,
    /// The `iss` its tokens carry.
    pub effective_issuer: String,
    /// OIDC discovery document URL.
    pub discovery_url: String,
    /// JWKS URL.
    pub jwks_url: String,
    /// `kid`s published in the JWKS now.
    pub published_kids: Vec<String>,
    /// The `kid` that signs now.
    pub signing_kid: Option<String>,
    /// Whether this node serves the issuer.
    pub distribution_status: DistributionStatus,
    /// Role names.
    pub roles: Vec<String>,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// A JWT issuer's configuration as shown.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct JwtIssuerConfig {
    /// Name.
    pub name: String,
    /// Signing key.
    pub signing_key: String,
    /// Explicit `iss`, when set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Default TTL.
    #[schema(value_type = String)]
    pub default_ttl: HumanDuration,
    /// Max TTL.
    #[schema(value_type = String)]
    pub max_ttl: HumanDuration,
    /// Verbose logging.
    pub verbose_logging: bool,
    /// Distribution.
    pub distribute: Distribute,
}

/// Where an issuer is served.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DistributionStatus {
    /// This node's site.
    pub site: String,
    /// Whether this node serves the issuer.
    pub served_here: bool,
}

#[utoipa::path(get, path = "/v1/config/jwt-issuers", tag = "jwt-issuers",
    responses((status = 200, body = [JwtIssuerConfig])))]
async fn list_jwt_issuers(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let table = state.issuers.table();
    let items = table
        .sorted()
        .into_iter()
        .map(|issuer| to_value(&config_view(issuer)))
        .collect::<Result<_, _>>()?;
    Ok(conventions.list(COLLECTION, items, CONFIG_FIELDS))
}

#[utoipa::path(post, path = "/v1/config/jwt-issuers", tag = "jwt-issuers", request_body = JwtIssuerBody,
    responses((status = 201, body = JwtIssuerConfig), (status = 400), (status = 409)))]
async fn create_jwt_issuer(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let fields = fields_from(&payload, None)?;
    write(&state, &conventions, fields, Expected::Absent).await
}

#[utoipa::path(get, path = "/v1/config/jwt-issuers/{name}", tag = "jwt-issuers",
    params(("name" = String, Path)), responses((status = 200, body = JwtIssuerConfig), (status = 404)))]
async fn read_jwt_issuer(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let issuer = find(&state, &name)?;
    let item = to_value(&config_view(&issuer))?;
    Ok(conventions.item(StatusCode::OK, item, issuer.stamps.revision, CONFIG_FIELDS))
}

#[utoipa::path(put, path = "/v1/config/jwt-issuers/{name}", tag = "jwt-issuers",
    params(("name" = String, Path)), request_body = JwtIssuerBody,
    responses((status = 201), (status = 204), (status = 400), (status = 412)))]
async fn put_jwt_issuer(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = expected_for_put(if_match(&headers)?);
    let fields = fields_from(&payload, Some(&name))?;
    write(&state, &conventions, fields, expected).await
}

#[utoipa::path(patch, path = "/v1/config/jwt-issuers/{name}", tag = "jwt-issuers",
    params(("name" = String, Path)), request_body = Object,
    responses((status = 204), (status = 400), (status = 404), (status = 412)))]
async fn patch_jwt_issuer(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let issuer = find(&state, &name)?;
    let expected = Expected::Revision(if_match(&headers)?.unwrap_or(issuer.stamps.revision));
    let mut body: JwtIssuerBody = resource::patched(&config_view(&issuer), &payload, &RULES)?;
    body.name = Some(name);
    write(&state, &conventions, into_fields(body), expected).await
}

#[utoipa::path(delete, path = "/v1/config/jwt-issuers/{name}", tag = "jwt-issuers",
    params(("name" = String, Path)), responses((status = 204), (status = 404), (status = 412)))]
async fn delete_jwt_issuer(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = if_match(&headers)?.map_or(Expected::Present, Expected::Revision);
    if conventions.query.validate {
        let issuer = find(&state, &name)?;
        if let Expected::Revision(r) = expected
            && r != issuer.stamps.revision
        {
            return Err(ApiError::PreconditionFailed(format!(
                "jwt issuer `{name}` changed: its ETag is \"{}\"",
                issuer.stamps.revision
            )));
        }
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    state.issuers.delete_issuer(&name, expected).await?;
    tracing::info!(issuer = %name, "jwt issuer deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/v1/state/jwt-issuers", tag = "jwt-issuers",
    responses((status = 200, body = [JwtIssuerState])))]
async fn list_jwt_issuer_states(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let table = state.issuers.table();
    let items = table
        .sorted()
        .into_iter()
        .map(|issuer| to_value(&state_view(&state, issuer)))
        .collect::<Result<_, _>>()?;
    Ok(conventions.list("/v1/state/jwt-issuers", items, CONFIG_FIELDS))
}

#[utoipa::path(get, path = "/v1/state/jwt-issuers/{name}", tag = "jwt-issuers",
    params(("name" = String, Path)), responses((status = 200, body = JwtIssuerState), (status = 404)))]
async fn read_jwt_issuer_state(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let issuer = find(&state, &name)?;
    let item = to_value(&state_view(&state, &issuer))?;
    Ok(conventions.item(StatusCode::OK, item, issuer.stamps.revision, CONFIG_FIELDS))
}

const RULES: BodyRules = BodyRules::NONE;

async fn write(
    state: &AppState,
    conventions: &Conventions,
    fields: IssuerFields,
    expected: Expected,
) -> Result<Response, ApiError> {
    if conventions.query.validate {
        let spec = state.issuers.check_issuer(fields)?;
        let existing = state.issuers.table().get(&spec.name).cloned();
        match (existing, expected) {
            (Some(_), Expected::Absent) => {
                return Err(ApiError::Conflict {
                    code: "already_exists",
                    message: format!("jwt issuer `{}` already exists", spec.name),
                });
            }
            (Some(current), Expected::Revision(r)) if r != current.stamps.revision => {
                return Err(ApiError::PreconditionFailed(format!(
                    "jwt issuer `{}` changed: its ETag is \"{}\"",
                    spec.name, current.stamps.revision
                )));
            }
            (Some(_), _) => return Ok(StatusCode::NO_CONTENT.into_response()),
            (None, Expected::Revision(_) | Expected::Present) => {
                return Err(ApiError::PreconditionFailed(format!(
                    "jwt issuer `{}` does not exist",
                    spec.name
                )));
            }
            (None, _) => return Ok(conventions.would_create(&spec.to_fields())),
        }
    }
    let (issuer, created) = state.issuers.save_issuer(fields, expected).await?;
    tracing::info!(issuer = %issuer.spec.name, created, "jwt issuer saved");
    if created {
        let location = format!("{COLLECTION}/{}", issuer.spec.name);
        let item = to_value(&config_view(&issuer))?;
        return Ok(conventions.created(&location, item, issuer.stamps.revision, CONFIG_FIELDS));
    }
    Ok(resource::updated(issuer.stamps.revision))
}

fn fields_from(payload: &Payload, path_name: Option<&str>) -> Result<IssuerFields, ApiError> {
    let (mut body, mut errors): (JwtIssuerBody, _) =
        body::parse_body_partial(payload.content_type.as_deref(), &payload.bytes, &RULES)?;
    if let Some(path) = path_name {
        match body.name.as_deref() {
            Some(given) if given != path => errors.push(crate::validation::FieldError::invalid(
                "name",
                format!("is {given:?} but the path names {path:?}"),
            )),
            _ => body.name = Some(path.to_owned()),
        }
    }
    if !errors.is_empty() {
        // Report the body's own errors together with the domain's, one per field.
        let domain = crate::minting::IssuerSpec::from_fields(into_fields(body)).err();
        for error in domain.into_iter().flatten() {
            if !errors.iter().any(|e| e.name == error.name) {
                errors.push(error);
            }
        }
        return Err(ApiError::invalid(errors));
    }
    Ok(into_fields(body))
}

fn into_fields(body: JwtIssuerBody) -> IssuerFields {
    IssuerFields {
        name: body.name,
        signing_key: body.signing_key,
        issuer: body.issuer,
        default_ttl: body.default_ttl,
        max_ttl: body.max_ttl,
        verbose_logging: body.verbose_logging,
        distribute: body.distribute,
    }
}

fn find(state: &AppState, name: &str) -> Result<std::sync::Arc<LoadedIssuer>, ApiError> {
    state
        .issuers
        .table()
        .get(name)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("jwt issuer `{name}` does not exist")))
}

fn config_view(issuer: &LoadedIssuer) -> JwtIssuerConfig {
    let spec = &issuer.spec;
    JwtIssuerConfig {
        name: spec.name.clone(),
        signing_key: spec.signing_key.clone(),
        issuer: spec.issuer.clone(),
        default_ttl: spec.default_ttl,
        max_ttl: spec.max_ttl,
        verbose_logging: spec.verbose_logging,
        distribute: spec.distribute.clone(),
    }
}

fn state_view(state: &AppState, issuer: &LoadedIssuer) -> JwtIssuerState {
    let now = state.clock.now();
    let base = format!("{}/jwt/{}", state.config.public_url, issuer.spec.name);
    let keyring = state.keys.keyring();
    let key = keyring.get(&issuer.spec.signing_key);
    let published_kids = key
        .map(|k| k.published(now).map(|v| v.kid.clone()).collect())
        .unwrap_or_default();
    let signing_kid = key
        .and_then(|k| lifecycle::signing_version(&k.versions, now))
        .map(|v| v.kid.clone());
    JwtIssuerState {
        config: config_view(issuer),
        effective_issuer: issuer.iss.clone(),
        discovery_url: format!("{base}/.well-known/openid-configuration"),
        jwks_url: format!("{base}/.well-known/jwks.json"),
        published_kids,
        signing_kid,
        distribution_status: DistributionStatus {
            site: state.config.site.clone(),
            served_here: issuer.served_here,
        },
        roles: issuer
            .sorted_roles()
            .into_iter()
            .map(|r| r.role.name.clone())
            .collect(),
        created_at: rfc3339(issuer.stamps.created_at),
        updated_at: rfc3339(issuer.stamps.updated_at),
    }
}

/// The OpenAPI description of this surface.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_jwt_issuers,
        create_jwt_issuer,
        read_jwt_issuer,
        put_jwt_issuer,
        patch_jwt_issuer,
        delete_jwt_issuer,
        list_jwt_issuer_states,
        read_jwt_issuer_state
    ),
    components(schemas(
        JwtIssuerBody,
        JwtIssuerConfig,
        JwtIssuerState,
        DistributionStatus,
        Distribute
    ))
)]
pub struct JwtIssuersApi;
