//! `/v1/config/jwt-issuers/{name}/roles` and their state: the token shapes of one issuer.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;

use super::super::body::{self, BodyRules};
use super::super::payload::Payload;
use super::super::resource::{self, Conventions, expected_for_put, if_match, to_value};
use super::super::{ApiError, AppState};
use crate::clock::rfc3339;
use crate::minting::{LoadedRole, RoleFields};
use crate::storage::Expected;
use crate::validation::FieldError;

const CONFIG_FIELDS: &[&str] = &[
    "subject_template",
    "fixed_claims",
    "allowed_claims",
    "allowed_audiences",
    "default_audiences",
    "require_audience",
    "required_claims",
    "default_ttl",
    "max_ttl",
    "token_type",
    "verbose_logging",
];
const RULES: BodyRules = BodyRules {
    aliases: &[],
    opaque: &["fixed_claims"],
};

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/config/jwt-issuers/{name}/roles",
            get(list_roles).post(create_role),
        )
        .route(
            "/v1/config/jwt-issuers/{name}/roles/{role}",
            get(read_role)
                .put(put_role)
                .patch(patch_role)
                .delete(delete_role),
        )
        .route("/v1/state/jwt-issuers/{name}/roles", get(list_role_states))
        .route(
            "/v1/state/jwt-issuers/{name}/roles/{role}",
            get(read_role_state),
        )
}

/// A role's state: its configuration plus its issuer and times.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleState {
    /// Configuration (defaults filled in).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub config: serde_json::Value,
    /// The issuer.
    pub jwt_issuer: String,
    /// The mint endpoint.
    pub mint_path: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

#[utoipa::path(get, path = "/v1/config/jwt-issuers/{name}/roles", tag = "roles",
    params(("name" = String, Path)), responses((status = 200, body = [Object])))]
async fn list_roles(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    list(&state, &issuer, query, &headers, false)
}

#[utoipa::path(get, path = "/v1/state/jwt-issuers/{name}/roles", tag = "roles",
    params(("name" = String, Path)), responses((status = 200, body = [RoleState])))]
async fn list_role_states(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    list(&state, &issuer, query, &headers, true)
}

#[utoipa::path(post, path = "/v1/config/jwt-issuers/{name}/roles", tag = "roles",
    params(("name" = String, Path)), request_body = Object,
    responses((status = 201), (status = 400), (status = 404), (status = 409)))]
async fn create_role(
    State(state): State<AppState>,
    Path(issuer): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let fields = fields_from(&payload, None)?;
    write(&state, &conventions, &issuer, fields, Expected::Absent).await
}

#[utoipa::path(get, path = "/v1/config/jwt-issuers/{name}/roles/{role}", tag = "roles",
    params(("name" = String, Path), ("role" = String, Path)), responses((status = 200), (status = 404)))]
async fn read_role(
    State(state): State<AppState>,
    Path((issuer, role)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let loaded = find(&state, &issuer, &role)?;
    let item = to_value(&loaded.role.fields)?;
    Ok(conventions.item(StatusCode::OK, item, loaded.stamps.revision, CONFIG_FIELDS))
}

#[utoipa::path(get, path = "/v1/state/jwt-issuers/{name}/roles/{role}", tag = "roles",
    params(("name" = String, Path), ("role" = String, Path)), responses((status = 200, body = RoleState), (status = 404)))]
async fn read_role_state(
    State(state): State<AppState>,
    Path((issuer, role)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let loaded = find(&state, &issuer, &role)?;
    let item = to_value(&state_view(&issuer, &loaded)?)?;
    Ok(conventions.item(StatusCode::OK, item, loaded.stamps.revision, CONFIG_FIELDS))
}

#[utoipa::path(put, path = "/v1/config/jwt-issuers/{name}/roles/{role}", tag = "roles",
    params(("name" = String, Path), ("role" = String, Path)), request_body = Object,
    responses((status = 201), (status = 204), (status = 400), (status = 412)))]
async fn put_role(
    State(state): State<AppState>,
    Path((issuer, role)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = expected_for_put(if_match(&headers)?);
    let fields = fields_from(&payload, Some(&role))?;
    write(&state, &conventions, &issuer, fields, expected).await
}

#[utoipa::path(patch, path = "/v1/config/jwt-issuers/{name}/roles/{role}", tag = "roles",
    params(("name" = String, Path), ("role" = String, Path)), request_body = Object,
    responses((status = 204), (status = 400), (status = 404), (status = 412)))]
async fn patch_role(
    State(state): State<AppState>,
    Path((issuer, role)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let loaded = find(&state, &issuer, &role)?;
    let expected = Expected::Revision(if_match(&headers)?.unwrap_or(loaded.stamps.revision));
    let mut fields: RoleFields = resource::patched(&loaded.role.fields, &payload, &RULES)?;
    fields.name = Some(role);
    write(&state, &conventions, &issuer, fields, expected).await
}

#[utoipa::path(delete, path = "/v1/config/jwt-issuers/{name}/roles/{role}", tag = "roles",
    params(("name" = String, Path), ("role" = String, Path)), responses((status = 204), (status = 404), (status = 412)))]
async fn delete_role(
    State(state): State<AppState>,
    Path((issuer, role)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = if_match(&headers)?.map_or(Expected::Present, Expected::Revision);
    if conventions.query.validate {
        let loaded = find(&state, &issuer, &role)?;
        if let Expected::Revision(r) = expected
            && r != loaded.stamps.revision
        {
            return Err(stale(&role, loaded.stamps.revision));
        }
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    state.issuers.delete_role(&issuer, &role, expected).await?;
    tracing::info!(issuer = %issuer, role = %role, "role deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn list(
    state: &AppState,
    issuer: &str,
    query: Option<String>,
    headers: &HeaderMap,
    with_state: bool,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), headers)?;
    let table = state.issuers.table();
    let loaded = table
        .get(issuer)
        .ok_or_else(|| ApiError::NotFound(format!("jwt issuer `{issuer}` does not exist")))?;
    let items = loaded
        .sorted_roles()
        .into_iter()
        .map(|role| {
            if with_state {
                to_value(&state_view(issuer, role)?)
            } else {
                to_value(&role.role.fields)
            }
        })
        .collect::<Result<_, _>>()?;
    let prefix = if with_state { "state" } else { "config" };
    let path = format!("/v1/{prefix}/jwt-issuers/{issuer}/roles");
    Ok(conventions.list(&path, items, CONFIG_FIELDS))
}

async fn write(
    state: &AppState,
    conventions: &Conventions,
    issuer: &str,
    fields: RoleFields,
    expected: Expected,
) -> Result<Response, ApiError> {
    if conventions.query.validate {
        let role = state.issuers.check_role(issuer, fields)?;
        let existing = state
            .issuers
            .table()
            .get(issuer)
            .and_then(|i| i.roles.get(&role.name).cloned());
        return match (existing, expected) {
            (Some(_), Expected::Absent) => Err(ApiError::Conflict {
                code: "already_exists",
                message: format!("role `{}` already exists", role.name),
            }),
            (Some(current), Expected::Revision(r)) if r != current.stamps.revision => {
                Err(stale(&role.name, current.stamps.revision))
            }
            (Some(_), _) => Ok(StatusCode::NO_CONTENT.into_response()),
            (None, Expected::Revision(_) | Expected::Present) => Err(ApiError::PreconditionFailed(
                format!("role `{}` does not exist", role.name),
            )),
            (None, _) => Ok(conventions.would_create(&role.fields)),
        };
    }
    let (loaded, created) = state.issuers.save_role(issuer, fields, expected).await?;
    tracing::info!(issuer = %issuer, role = %loaded.role.name, created, "role saved");
    if created {
        let location = format!("/v1/config/jwt-issuers/{issuer}/roles/{}", loaded.role.name);
        let item = to_value(&loaded.role.fields)?;
        return Ok(conventions.created(&location, item, loaded.stamps.revision, CONFIG_FIELDS));
    }
    Ok(resource::updated(loaded.stamps.revision))
}

fn fields_from(payload: &Payload, path_name: Option<&str>) -> Result<RoleFields, ApiError> {
    let (mut fields, mut errors): (RoleFields, Vec<FieldError>) =
        body::parse_body_partial(payload.content_type.as_deref(), &payload.bytes, &RULES)?;
    if let Some(path) = path_name {
        match fields.name.as_deref() {
            Some(given) if given != path => errors.push(FieldError::invalid(
                "name",
                format!("is {given:?} but the path names {path:?}"),
            )),
            _ => fields.name = Some(path.to_owned()),
        }
    }
    if errors.is_empty() {
        Ok(fields)
    } else {
        Err(ApiError::invalid(errors))
    }
}

fn find(
    state: &AppState,
    issuer: &str,
    role: &str,
) -> Result<std::sync::Arc<LoadedRole>, ApiError> {
    let table = state.issuers.table();
    let loaded = table
        .get(issuer)
        .ok_or_else(|| ApiError::NotFound(format!("jwt issuer `{issuer}` does not exist")))?;
    loaded.roles.get(role).cloned().ok_or_else(|| {
        ApiError::NotFound(format!(
            "role `{role}` of jwt issuer `{issuer}` does not exist"
        ))
    })
}

fn state_view(issuer: &str, loaded: &LoadedRole) -> Result<RoleState, ApiError> {
    Ok(RoleState {
        config: to_value(&loaded.role.fields)?,
        jwt_issuer: issuer.to_owned(),
        mint_path: format!("/v1/jwt-issuers/{issuer}/roles/{}/mint", loaded.role.name),
        created_at: rfc3339(loaded.stamps.created_at),
        updated_at: rfc3339(loaded.stamps.updated_at),
    })
}

fn stale(role: &str, actual: i64) -> ApiError {
    ApiError::PreconditionFailed(format!("role `{role}` changed: its ETag is \"{actual}\""))
}

/// The OpenAPI description of this surface.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_roles,
        list_role_states,
        create_role,
        read_role,
        read_role_state,
        put_role,
        patch_role,
        delete_role
    ),
    components(schemas(RoleState))
)]
pub struct RolesApi;
