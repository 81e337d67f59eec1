//! `/v1/config/signing-keys`, `/v1/state/signing-keys` and the key actions (rotate, taint,
//! revoke). Reads come from the in-memory keyring; writes go through `SigningKeys`.

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use sigil_jose::Jwk;

use super::super::body::{self, BodyRules};
use super::super::payload::Payload;
use super::super::resource::{self, Conventions, if_match, to_value};
use super::super::{ApiError, AppState};
use crate::clock::rfc3339;
use crate::duration::HumanDuration;
use crate::signing_keys::{KeySpec, KeyStatus, LoadedKey, Preview, VersionAction, lifecycle};
use crate::validation::FieldError;

const CONFIG_FIELDS: &[&str] = &["type", "algorithm", "rotation_period"];
const COLLECTION: &str = "/v1/config/signing-keys";

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(COLLECTION, get(list_signing_keys).post(create_signing_key))
        .route(
            "/v1/config/signing-keys/{name}",
            get(read_signing_key)
                .put(put_signing_key)
                .patch(patch_signing_key)
                .delete(delete_signing_key),
        )
        .route("/v1/state/signing-keys", get(list_signing_key_states))
        .route("/v1/state/signing-keys/{name}", get(read_signing_key_state))
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

/// A signing key as written by the operator.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct SigningKeyBody {
    /// Unique name: 1-200 characters of `[A-Za-z0-9._-]`.
    pub name: Option<String>,
    /// `ecdsa-p256` (default), `ecdsa-p384`, `ecdsa-p521`, `rsa-2048`, `rsa-3072`, `rsa-4096`,
    /// `ed25519`.
    #[serde(rename = "type")]
    pub key_type: Option<String>,
    /// `RS256` or `PS256` for RSA keys; the others have exactly one.
    pub algorithm: Option<String>,
    /// Scheduled rotation, at least `1h`; none by default.
    #[schema(value_type = Option<String>, example = "30d")]
    pub rotation_period: Option<HumanDuration>,
}

/// A signing key's configuration.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SigningKeyConfig {
    /// Name.
    pub name: String,
    /// Key type.
    #[serde(rename = "type")]
    pub key_type: String,
    /// Signature algorithm.
    pub algorithm: String,
    /// Scheduled rotation period.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub rotation_period: Option<HumanDuration>,
}

/// A signing key's configuration and derived state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SigningKeyState {
    /// The configuration.
    #[serde(flatten)]
    pub config: SigningKeyConfig,
    /// Sigil's own key: cannot be deleted or replaced.
    pub internal: bool,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
    /// The `kid` that signs now.
    pub signing_kid: Option<String>,
    /// When the key next changes by itself (activation, retirement, rotation).
    pub next_change_at: Option<String>,
    /// Every version.
    pub versions: Vec<VersionState>,
}

/// One version as shown in state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VersionState {
    /// Version number.
    pub version: u32,
    /// RFC 7638 thumbprint.
    pub kid: String,
    /// Status now.
    pub status: KeyStatus,
    /// Generated at.
    pub created_at: String,
    /// Signs (or signed) from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub activates_at: Option<String>,
    /// Unpublished (or will be) at.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retires_at: Option<String>,
    /// The public JWK.
    #[schema(value_type = Object)]
    pub public_jwk: Jwk,
}

#[derive(Debug, Default, Deserialize)]
struct RotateBody {
    prepublish: Option<HumanDuration>,
}

#[utoipa::path(get, path = "/v1/config/signing-keys", tag = "signing-keys",
    responses((status = 200, body = [SigningKeyConfig])))]
async fn list_signing_keys(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let items = state
        .keys
        .keyring()
        .iter()
        .map(|key| to_value(&config_view(key)))
        .collect::<Result<_, _>>()?;
    Ok(conventions.list(COLLECTION, items, CONFIG_FIELDS))
}

#[utoipa::path(post, path = "/v1/config/signing-keys", tag = "signing-keys",
    request_body = SigningKeyBody,
    responses((status = 201, body = SigningKeyConfig), (status = 400, body = super::super::error::ErrorBody),
        (status = 409, body = super::super::error::ErrorBody)))]
async fn create_signing_key(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let spec = spec_from(&payload, None)?;
    if state.keys.keyring().get(&spec.name).is_some() {
        return Err(ApiError::Conflict {
            code: "already_exists",
            message: format!("signing key `{}` already exists", spec.name),
        });
    }
    if conventions.query.validate {
        return Ok(conventions.would_create(&config_of_spec(&spec)));
    }
    let key = state.keys.create(spec, None).await?;
    tracing::info!(key = %key.spec.name, kind = key.spec.key_type.as_str(), "signing key created");
    created(&conventions, &key)
}

#[utoipa::path(get, path = "/v1/config/signing-keys/{name}", tag = "signing-keys",
    params(("name" = String, Path)), responses((status = 200, body = SigningKeyConfig), (status = 404)))]
async fn read_signing_key(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let key = find(&state, &name)?;
    Ok(conventions.item(
        StatusCode::OK,
        to_value(&config_view(&key))?,
        key.revision,
        CONFIG_FIELDS,
    ))
}

#[utoipa::path(put, path = "/v1/config/signing-keys/{name}", tag = "signing-keys",
    params(("name" = String, Path)), request_body = SigningKeyBody,
    responses((status = 201), (status = 204), (status = 400), (status = 412)))]
async fn put_signing_key(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = if_match(&headers)?;
    let spec = spec_from(&payload, Some(&name))?;
    replace_or_create(&state, &conventions, spec, expected).await
}

#[utoipa::path(patch, path = "/v1/config/signing-keys/{name}", tag = "signing-keys",
    params(("name" = String, Path)), request_body = Object,
    responses((status = 204), (status = 400), (status = 404), (status = 412)))]
async fn patch_signing_key(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = if_match(&headers)?;
    let key = find(&state, &name)?;
    let mut current = to_value(&config_view(&key))?;
    let patch = body::parse_value(payload.content_type.as_deref(), &payload.bytes)?;
    // A patch naming a new type is judged on the type: the stored algorithm belongs to the
    // old one and would only produce a misleading `algorithm` error.
    if patch.get("type").is_some()
        && patch.get("algorithm").is_none()
        && let Some(fields) = current.as_object_mut()
    {
        fields.remove("algorithm");
    }
    let merged: SigningKeyBody = resource::patched(&current, &payload, &BodyRules::NONE)?;
    let spec = spec_of(merged, Some(&name), Vec::new())?;
    replace_or_create(&state, &conventions, spec, expected.or(Some(key.revision))).await
}

#[utoipa::path(delete, path = "/v1/config/signing-keys/{name}", tag = "signing-keys",
    params(("name" = String, Path)), responses((status = 204), (status = 404), (status = 409), (status = 412)))]
async fn delete_signing_key(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = if_match(&headers)?;
    if conventions.query.validate {
        let key = find(&state, &name)?;
        check_deletable(&state, &key, expected)?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    state.keys.delete(&name, expected).await?;
    tracing::info!(key = %name, "signing key deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[utoipa::path(get, path = "/v1/state/signing-keys", tag = "signing-keys",
    responses((status = 200, body = [SigningKeyState])))]
async fn list_signing_key_states(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let items = state
        .keys
        .keyring()
        .iter()
        .map(|key| to_value(&state_view(&state, key)))
        .collect::<Result<_, _>>()?;
    Ok(conventions.list("/v1/state/signing-keys", items, CONFIG_FIELDS))
}

#[utoipa::path(get, path = "/v1/state/signing-keys/{name}", tag = "signing-keys",
    params(("name" = String, Path)), responses((status = 200, body = SigningKeyState), (status = 404)))]
async fn read_signing_key_state(
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let key = find(&state, &name)?;
    Ok(conventions.item(
        StatusCode::OK,
        to_value(&state_view(&state, &key))?,
        key.revision,
        CONFIG_FIELDS,
    ))
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
    let request: RotateBody = if payload.is_empty() {
        RotateBody::default()
    } else {
        body::parse_body(
            payload.content_type.as_deref(),
            &payload.bytes,
            &BodyRules::NONE,
        )?
    };
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

async fn replace_or_create(
    state: &AppState,
    conventions: &Conventions,
    spec: KeySpec,
    expected: Option<i64>,
) -> Result<Response, ApiError> {
    let existing = state.keys.keyring().get(&spec.name).cloned();
    match (existing, conventions.query.validate) {
        (None, true) => Ok(conventions.would_create(&config_of_spec(&spec))),
        (None, false) => {
            if expected.is_some() {
                return Err(ApiError::PreconditionFailed(format!(
                    "signing key `{}` does not exist",
                    spec.name
                )));
            }
            let key = state.keys.create(spec, None).await?;
            created(conventions, &key)
        }
        (Some(_), true) => {
            state
                .keys
                .preview(&spec.name, Preview::Update(&spec), expected)?;
            Ok(StatusCode::NO_CONTENT.into_response())
        }
        (Some(_), false) => {
            let key = state.keys.update(spec, expected).await?;
            Ok(resource::updated(key.revision))
        }
    }
}

fn check_deletable(
    state: &AppState,
    key: &LoadedKey,
    expected: Option<i64>,
) -> Result<(), ApiError> {
    use crate::signing_keys::KeyRefused;
    if key.spec.internal {
        return Err(KeyRefused::Internal(key.spec.name.clone()).into());
    }
    if let Some(expected) = expected
        && expected != key.revision
    {
        return Err(KeyRefused::Stale {
            name: key.spec.name.clone(),
            actual: key.revision,
        }
        .into());
    }
    let users = state.keys.usage().users_of(&key.spec.name);
    if !users.is_empty() {
        return Err(KeyRefused::InUse {
            name: key.spec.name.clone(),
            users: users.into_iter().map(|u| u.description).collect(),
        }
        .into());
    }
    Ok(())
}

fn spec_from(payload: &Payload, path_name: Option<&str>) -> Result<KeySpec, ApiError> {
    let (body, errors) = body::parse_body_partial(
        payload.content_type.as_deref(),
        &payload.bytes,
        &BodyRules::NONE,
    )?;
    spec_of(body, path_name, errors)
}

/// Validates a parsed body; `earlier` holds the body's own field errors, reported together
/// with the domain's (one error per field).
fn spec_of(
    body: SigningKeyBody,
    path_name: Option<&str>,
    mut earlier: Vec<FieldError>,
) -> Result<KeySpec, ApiError> {
    let name = match (path_name, body.name.as_deref()) {
        (Some(path), Some(given)) if path != given => {
            earlier.push(FieldError::invalid(
                "name",
                format!("is {given:?} but the path names {path:?}"),
            ));
            Some(path)
        }
        (Some(path), _) => Some(path),
        (None, given) => given,
    };
    let checked = KeySpec::from_fields(
        name,
        body.key_type.as_deref(),
        body.algorithm.as_deref(),
        body.rotation_period,
    );
    match checked {
        Ok(spec) if earlier.is_empty() => Ok(spec),
        Ok(_) => Err(ApiError::invalid(earlier)),
        Err(more) => {
            for error in more {
                if !earlier.iter().any(|e| e.name == error.name) {
                    earlier.push(error);
                }
            }
            Err(ApiError::invalid(earlier))
        }
    }
}

fn find(state: &AppState, name: &str) -> Result<std::sync::Arc<LoadedKey>, ApiError> {
    state
        .keys
        .keyring()
        .get(name)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("signing key `{name}` does not exist")))
}

fn created(conventions: &Conventions, key: &LoadedKey) -> Result<Response, ApiError> {
    let location = format!("{COLLECTION}/{}", key.spec.name);
    let item = to_value(&config_view(key))?;
    Ok(conventions.created(&location, item, key.revision, CONFIG_FIELDS))
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

fn config_of_spec(spec: &KeySpec) -> SigningKeyConfig {
    SigningKeyConfig {
        name: spec.name.clone(),
        key_type: spec.key_type.as_str().to_owned(),
        algorithm: spec.algorithm.as_str().to_owned(),
        rotation_period: spec.rotation_period,
    }
}

fn config_view(key: &LoadedKey) -> SigningKeyConfig {
    config_of_spec(&key.spec)
}

fn state_view(state: &AppState, key: &LoadedKey) -> SigningKeyState {
    let now = state.clock.now();
    let retention = state.keys.usage().retention(&key.spec.name);
    let versions = lifecycle::as_of(&key.versions, now, retention);
    SigningKeyState {
        config: config_view(key),
        internal: key.spec.internal,
        created_at: rfc3339(key.created_at),
        updated_at: rfc3339(key.updated_at),
        signing_kid: lifecycle::signing_version(&versions, now).map(|v| v.kid.clone()),
        next_change_at: lifecycle::next_change(&key.spec, &key.versions, now, retention)
            .map(rfc3339),
        versions: versions
            .into_iter()
            .map(|v| VersionState {
                version: v.version,
                kid: v.kid,
                status: v.status,
                created_at: rfc3339(v.created_at),
                activates_at: v.activates_at.map(rfc3339),
                retires_at: v.retires_at.map(rfc3339),
                public_jwk: v.public_jwk,
            })
            .collect(),
    }
}

/// The OpenAPI description of this surface.
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        list_signing_keys,
        create_signing_key,
        read_signing_key,
        put_signing_key,
        patch_signing_key,
        delete_signing_key,
        list_signing_key_states,
        read_signing_key_state,
        rotate_signing_key,
        taint_signing_key_version,
        revoke_signing_key_version
    ),
    components(schemas(SigningKeyBody, SigningKeyConfig, SigningKeyState, VersionState))
)]
pub struct SigningKeysApi;
