//! Every configuration resource (`/v1/config/<collection>` and its `/v1/state` twin) is served
//! by the same generic handlers: body parsing with every field error, `validate=true`, ETags,
//! PUT create-or-replace, PATCH merge, DELETE, lists with the query conventions. A resource
//! only says how to list, find, check, save and delete its items.

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{RawPathParams, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::body::{self, BodyRules};
use super::negotiate;
use super::payload::Payload;
use super::resource::{self, Conventions, if_match};
use super::{ApiError, AppState};
use crate::storage::Expected;
use crate::validation::FieldError;

/// A configuration resource.
pub trait ConfigResource: Send + Sync + 'static {
    /// The request body, parsed leniently (every field optional).
    type Fields: DeserializeOwned + Serialize + Default + Send + 'static;
    /// An item as loaded in memory.
    type Item: Send + Sync + 'static;

    /// How the resource is named in messages: `jwt issuer`.
    const KIND: &'static str;
    /// Top-level fields that are configuration (the rest of a state view is derived).
    const CONFIG_FIELDS: &'static [&'static str];
    /// Body parsing rules (aliases, opaque fields).
    const RULES: BodyRules;

    /// The `/v1/config/...` collection path for `scope` (the parents' names).
    fn collection(scope: &[String]) -> String;
    /// Every item under `scope`, sorted by name.
    fn list(state: &AppState, scope: &[String]) -> Result<Vec<Arc<Self::Item>>, ApiError>;
    /// One item, or `None`.
    fn find(
        state: &AppState,
        scope: &[String],
        name: &str,
    ) -> Result<Option<Arc<Self::Item>>, ApiError>;
    /// The item's name.
    fn name(item: &Self::Item) -> &str;
    /// The item's revision (its ETag).
    fn revision(item: &Self::Item) -> i64;
    /// The configured view of an item (also the base a PATCH merges into).
    fn config(item: &Self::Item) -> Result<Value, ApiError>;
    /// The configured view plus derived state.
    fn state(state: &AppState, scope: &[String], item: &Self::Item) -> Result<Value, ApiError>;
    /// The `name` field of a body.
    fn name_field(fields: &mut Self::Fields) -> &mut Option<String>;
    /// Every check a save would run, without writing; answers the would-be configuration.
    /// `existing` is the item a save would replace.
    fn check(
        state: &AppState,
        scope: &[String],
        fields: Self::Fields,
        existing: Option<&Self::Item>,
    ) -> Result<Value, ApiError>;
    /// What `validate=true` answers for a would-be create; by default `check`. Resources whose
    /// saves reach the network (trusted issuers fetch their keys) override it to do so.
    fn preview(
        state: &AppState,
        scope: &[String],
        fields: Self::Fields,
        existing: Option<&Self::Item>,
    ) -> impl Future<Output = Result<Value, ApiError>> + Send {
        let checked = Self::check(state, scope, fields, existing);
        async move { checked }
    }
    /// Whether `validate=true` on an existing item answers `preview`'s report (200) rather than
    /// the write's bare 204: resources whose saves fetch from the network report what they
    /// found.
    const VALIDATE_REPORTS: bool = false;
    /// Notes about a request the write accepted but partly ignored (read-only fields).
    fn notes(_fields: &Self::Fields) -> Vec<String> {
        Vec::new()
    }
    /// Saves when `expected` holds; answers the item and whether it was created.
    fn save(
        state: &AppState,
        scope: &[String],
        fields: Self::Fields,
        expected: Expected,
    ) -> impl Future<Output = Result<(Arc<Self::Item>, bool), ApiError>> + Send;
    /// Deletes when `expected` holds.
    fn delete(
        state: &AppState,
        scope: &[String],
        name: &str,
        expected: Expected,
    ) -> impl Future<Output = Result<(), ApiError>> + Send;
    /// Checks a delete would run beyond the ETag (`in_use`, internal items).
    fn check_delete(_state: &AppState, _item: &Self::Item) -> Result<(), ApiError> {
        Ok(())
    }
    /// The document a PATCH merges into; by default the configured view.
    fn patch_base(item: &Self::Item, _patch: &Value) -> Result<Value, ApiError> {
        Self::config(item)
    }
}

/// The routes of a resource: `config_path` is the collection template under `/v1/config`
/// (`/v1/config/jwt-issuers/{name}/roles`); the item route appends `/{item}`.
pub fn routes<R: ConfigResource>(config_path: &str) -> Router<AppState> {
    let state_path = config_path.replacen("/v1/config/", "/v1/state/", 1);
    Router::new()
        .route(config_path, get(list_configs::<R>).post(create::<R>))
        .route(
            &format!("{config_path}/{{item}}"),
            get(read_config::<R>)
                .put(put::<R>)
                .patch(patch::<R>)
                .delete(delete::<R>),
        )
        .route(&state_path, get(list_states::<R>))
        .route(&format!("{state_path}/{{item}}"), get(read_state::<R>))
}

/// The route parameters split into the parents' names and the item's name.
struct Target {
    scope: Vec<String>,
    item: Option<String>,
}

impl Target {
    fn of(params: &RawPathParams) -> Target {
        let mut scope = Vec::new();
        let mut item = None;
        for (key, value) in params.iter() {
            if key == "item" {
                item = Some(value.to_owned());
            } else {
                scope.push(value.to_owned());
            }
        }
        Target { scope, item }
    }

    fn item(&self) -> Result<&str, ApiError> {
        self.item
            .as_deref()
            .ok_or_else(|| ApiError::Fault("item route without an item parameter".into()))
    }
}

/// Which view a read answers: `/v1/config` or `/v1/state`.
#[derive(Clone, Copy)]
enum View {
    Config,
    State,
}

async fn list_configs<R: ConfigResource>(
    state: State<AppState>,
    params: RawPathParams,
    query: RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    list::<R>(state, params, query, headers, View::Config)
}

async fn list_states<R: ConfigResource>(
    state: State<AppState>,
    params: RawPathParams,
    query: RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    list::<R>(state, params, query, headers, View::State)
}

async fn read_config<R: ConfigResource>(
    state: State<AppState>,
    params: RawPathParams,
    query: RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    read::<R>(state, params, query, headers, View::Config)
}

async fn read_state<R: ConfigResource>(
    state: State<AppState>,
    params: RawPathParams,
    query: RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    read::<R>(state, params, query, headers, View::State)
}

fn list<R: ConfigResource>(
    State(state): State<AppState>,
    params: RawPathParams,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    view: View,
) -> Result<Response, ApiError> {
    let target = Target::of(&params);
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let items = R::list(&state, &target.scope)?
        .iter()
        .map(|item| render::<R>(&state, &target.scope, item, view))
        .collect::<Result<_, _>>()?;
    let path = match view {
        View::Config => R::collection(&target.scope),
        View::State => R::collection(&target.scope).replacen("/v1/config/", "/v1/state/", 1),
    };
    Ok(conventions.list(&path, items, R::CONFIG_FIELDS))
}

fn read<R: ConfigResource>(
    State(state): State<AppState>,
    params: RawPathParams,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    view: View,
) -> Result<Response, ApiError> {
    let target = Target::of(&params);
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let item = existing::<R>(&state, &target)?;
    let body = render::<R>(&state, &target.scope, &item, view)?;
    Ok(conventions.item(StatusCode::OK, body, R::revision(&item), R::CONFIG_FIELDS))
}

fn render<R: ConfigResource>(
    state: &AppState,
    scope: &[String],
    item: &R::Item,
    view: View,
) -> Result<Value, ApiError> {
    match view {
        View::Config => R::config(item),
        View::State => R::state(state, scope, item),
    }
}

async fn create<R: ConfigResource>(
    State(state): State<AppState>,
    params: RawPathParams,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let target = Target::of(&params);
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let fields = fields_from::<R>(&state, &target.scope, &payload, None)?;
    write::<R>(
        &state,
        &conventions,
        &target.scope,
        fields,
        Expected::Absent,
    )
    .await
}

async fn put<R: ConfigResource>(
    State(state): State<AppState>,
    params: RawPathParams,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let target = Target::of(&params);
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = resource::expected_for_put(if_match(&headers)?);
    let fields = fields_from::<R>(&state, &target.scope, &payload, Some(target.item()?))?;
    write::<R>(&state, &conventions, &target.scope, fields, expected).await
}

async fn patch<R: ConfigResource>(
    State(state): State<AppState>,
    params: RawPathParams,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    payload: Payload,
) -> Result<Response, ApiError> {
    let target = Target::of(&params);
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let item = existing::<R>(&state, &target)?;
    let expected = Expected::Revision(if_match(&headers)?.unwrap_or(R::revision(&item)));
    let patch = body::parse_value(payload.content_type.as_deref(), &payload.bytes)?;
    let (patch, errors) = body::normalize(patch, &R::RULES);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let mut merged = R::patch_base(&item, &patch)?;
    body::merge_patch(&mut merged, &patch);
    let mut fields: R::Fields = body::from_value(merged).map_err(ApiError::invalid)?;
    *R::name_field(&mut fields) = Some(R::name(&item).to_owned());
    write::<R>(&state, &conventions, &target.scope, fields, expected).await
}

async fn delete<R: ConfigResource>(
    State(state): State<AppState>,
    params: RawPathParams,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let target = Target::of(&params);
    let conventions = Conventions::read(query.as_deref(), &headers)?;
    let expected = if_match(&headers)?.map_or(Expected::Present, Expected::Revision);
    let name = target.item()?;
    if conventions.query.validate {
        let item = existing::<R>(&state, &target)?;
        check_revision::<R>(&item, expected)?;
        R::check_delete(&state, &item)?;
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    R::delete(&state, &target.scope, name, expected).await?;
    tracing::info!(kind = R::KIND, name, "deleted");
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn write<R: ConfigResource>(
    state: &AppState,
    conventions: &Conventions,
    scope: &[String],
    mut fields: R::Fields,
    expected: Expected,
) -> Result<Response, ApiError> {
    if conventions.query.validate {
        let name = R::name_field(&mut fields).clone().unwrap_or_default();
        let existing = R::find(state, scope, &name)?;
        if let Some(item) = &existing {
            if expected == Expected::Absent {
                return Err(ApiError::Conflict {
                    code: "already_exists",
                    message: format!("{} `{name}` already exists", R::KIND),
                });
            }
            check_revision::<R>(item, expected)?;
        } else if matches!(expected, Expected::Revision(_) | Expected::Present) {
            return Err(ApiError::PreconditionFailed(format!(
                "{} `{name}` does not exist",
                R::KIND
            )));
        }
        let notes = R::notes(&fields);
        let would_be = R::preview(state, scope, fields, existing.as_deref()).await?;
        let response = match existing {
            Some(_) if R::VALIDATE_REPORTS => {
                negotiate::render(StatusCode::OK, conventions.format, &would_be)
            }
            Some(_) => StatusCode::NO_CONTENT.into_response(),
            None => conventions.would_create(&would_be),
        };
        return Ok(with_notes(response, &notes));
    }
    let notes = R::notes(&fields);
    let (item, created) = R::save(state, scope, fields, expected).await?;
    tracing::info!(kind = R::KIND, name = R::name(&item), created, "saved");
    let response = if created {
        let location = format!("{}/{}", R::collection(scope), R::name(&item));
        let view = R::config(&item)?;
        conventions.created(&location, view, R::revision(&item), R::CONFIG_FIELDS)
    } else {
        resource::updated(R::revision(&item))
    };
    Ok(with_notes(response, &notes))
}

/// Carries notes (fields accepted but ignored) in `Sigil-Note` headers.
fn with_notes(mut response: Response, notes: &[String]) -> Response {
    for note in notes {
        if let Ok(value) = axum::http::HeaderValue::from_str(note) {
            response.headers_mut().append("sigil-note", value);
        }
    }
    response
}

/// Parses a body, reporting the body's own field errors together with the domain's (one error
/// per field). A name in the body must agree with the one in the path.
fn fields_from<R: ConfigResource>(
    state: &AppState,
    scope: &[String],
    payload: &Payload,
    path_name: Option<&str>,
) -> Result<R::Fields, ApiError> {
    let (mut fields, mut errors): (R::Fields, Vec<FieldError>) =
        body::parse_body_partial(payload.content_type.as_deref(), &payload.bytes, &R::RULES)?;
    if let Some(path) = path_name {
        let name = R::name_field(&mut fields);
        match name.as_deref() {
            Some(given) if given != path => errors.push(FieldError::invalid(
                "name",
                format!("is {given:?} but the path names {path:?}"),
            )),
            _ => *name = Some(path.to_owned()),
        }
    }
    if errors.is_empty() {
        return Ok(fields);
    }
    if let Err(ApiError::Invalid { fields: more, .. }) = R::check(state, scope, fields, None) {
        for error in more {
            if !errors.iter().any(|e| e.name == error.name) {
                errors.push(error);
            }
        }
    }
    Err(ApiError::invalid(errors))
}

fn existing<R: ConfigResource>(
    state: &AppState,
    target: &Target,
) -> Result<Arc<R::Item>, ApiError> {
    let name = target.item()?;
    R::find(state, &target.scope, name)?
        .ok_or_else(|| ApiError::NotFound(format!("{} `{name}` does not exist", R::KIND)))
}

fn check_revision<R: ConfigResource>(item: &R::Item, expected: Expected) -> Result<(), ApiError> {
    match expected {
        Expected::Revision(revision) if revision != R::revision(item) => {
            Err(ApiError::PreconditionFailed(format!(
                "{} `{}` changed: its ETag is \"{}\"",
                R::KIND,
                R::name(item),
                R::revision(item)
            )))
        }
        _ => Ok(()),
    }
}
