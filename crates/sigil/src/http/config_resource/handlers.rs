//! The generic handlers every configuration resource is served by: list and read of both
//! views, create, PUT, PATCH and DELETE, with `validate=true` and ETags.

use std::sync::Arc;

use axum::extract::{FromRequestParts, RawPathParams, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::ConfigResource;
use crate::catalog::Named;
use crate::http::body;
use crate::http::negotiate;
use crate::http::payload::Payload;
use crate::http::resource::{self, Conventions, if_match};
use crate::http::{ApiError, AppState};
use crate::storage::Expected;
use crate::validation::FieldError;

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

/// What every request to a resource starts from: the route parameters, the query string and
/// the headers. The query conventions are read in the handler, after the body, so a request
/// with both a bad body and a bad query gets the body's answer.
pub(super) struct Call {
    target: Target,
    query: Option<String>,
    headers: HeaderMap,
}

impl Call {
    /// The query conventions (`validate`, `fields`, `where`, paging) and the answer format.
    fn conventions(&self) -> Result<Conventions, ApiError> {
        Conventions::read(self.query.as_deref(), &self.headers)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Call {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Call, Response> {
        let params = RawPathParams::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Call {
            target: Target::of(&params),
            query: parts.uri.query().map(str::to_owned),
            headers: parts.headers.clone(),
        })
    }
}

/// Lists the collection: the configured views, or with `STATE` the state views.
pub(super) async fn list<R: ConfigResource, const STATE: bool>(
    State(state): State<AppState>,
    call: Call,
) -> Result<Response, ApiError> {
    let conventions = call.conventions()?;
    let scope = &call.target.scope;
    let items = R::list(&state, scope)?
        .iter()
        .map(|item| render::<R, STATE>(&state, scope, item))
        .collect::<Result<_, _>>()?;
    let mut path = R::collection(scope);
    if STATE {
        path = path.replacen("/v1/config/", "/v1/state/", 1);
    }
    Ok(conventions.list(&path, items, R::CONFIG_FIELDS))
}

/// Reads one item: its configured view, or with `STATE` its state view.
pub(super) async fn read<R: ConfigResource, const STATE: bool>(
    State(state): State<AppState>,
    call: Call,
) -> Result<Response, ApiError> {
    let conventions = call.conventions()?;
    let item = existing::<R>(&state, &call.target)?;
    let body = render::<R, STATE>(&state, &call.target.scope, &item)?;
    Ok(conventions.item(StatusCode::OK, body, item.revision(), R::CONFIG_FIELDS))
}

fn render<R: ConfigResource, const STATE: bool>(
    state: &AppState,
    scope: &[String],
    item: &R::Item,
) -> Result<Value, ApiError> {
    if STATE {
        R::state(state, scope, item)
    } else {
        R::config(item)
    }
}

/// Creates an item (`POST` on the collection).
pub(super) async fn create<R: ConfigResource>(
    State(state): State<AppState>,
    call: Call,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = call.conventions()?;
    let fields = fields_from::<R>(&state, &call.target.scope, &payload, None)?;
    write::<R>(&state, &call, &conventions, fields, Expected::Absent).await
}

/// Creates or replaces an item.
pub(super) async fn put<R: ConfigResource>(
    State(state): State<AppState>,
    call: Call,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = call.conventions()?;
    let expected = resource::expected_for_put(if_match(&call.headers)?);
    let target = &call.target;
    let fields = fields_from::<R>(&state, &target.scope, &payload, Some(target.item()?))?;
    write::<R>(&state, &call, &conventions, fields, expected).await
}

/// Merges a JSON merge patch (RFC 7396) into an item.
pub(super) async fn patch<R: ConfigResource>(
    State(state): State<AppState>,
    call: Call,
    payload: Payload,
) -> Result<Response, ApiError> {
    let conventions = call.conventions()?;
    let item = existing::<R>(&state, &call.target)?;
    let expected = Expected::Revision(if_match(&call.headers)?.unwrap_or(item.revision()));
    let patch = body::parse_value(payload.content_type.as_deref(), &payload.bytes)?;
    let (patch, errors) = body::normalize(patch, &R::RULES);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let mut merged = R::patch_base(&item, &patch)?;
    body::merge_patch(&mut merged, &patch);
    let mut fields: R::Fields = body::from_value(merged).map_err(ApiError::invalid)?;
    *R::name_field(&mut fields) = Some(item.name().to_owned());
    write::<R>(&state, &call, &conventions, fields, expected).await
}

/// Deletes an item.
pub(super) async fn delete<R: ConfigResource>(
    State(state): State<AppState>,
    call: Call,
) -> Result<Response, ApiError> {
    let conventions = call.conventions()?;
    let expected = if_match(&call.headers)?.map_or(Expected::Present, Expected::Revision);
    let target = &call.target;
    let name = target.item()?;
    if conventions.query.validate {
        let item = existing::<R>(&state, target)?;
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
    call: &Call,
    conventions: &Conventions,
    mut fields: R::Fields,
    expected: Expected,
) -> Result<Response, ApiError> {
    let scope = call.target.scope.as_slice();
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
    tracing::info!(kind = R::KIND, name = item.name(), created, "saved");
    let response = if created {
        let location = format!("{}/{}", R::collection(scope), item.name());
        let view = R::config(&item)?;
        conventions.created(&location, view, item.revision(), R::CONFIG_FIELDS)
    } else {
        resource::updated(item.revision())
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
        Expected::Revision(revision) if revision != item.revision() => {
            Err(ApiError::PreconditionFailed(format!(
                "{} `{}` changed: its ETag is \"{}\"",
                R::KIND,
                item.name(),
                item.revision()
            )))
        }
        _ => Ok(()),
    }
}
