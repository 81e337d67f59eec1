//! Every configuration resource (`/v1/config/<collection>` and its `/v1/state` twin) is served
//! by the same generic handlers: body parsing with every field error, `validate=true`, ETags,
//! PUT create-or-replace, PATCH merge, DELETE, lists with the query conventions. A resource
//! only says how to list, find, check, save and delete its items.

mod docs;
mod handlers;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use docs::ResourceDocs;
use handlers::{create, delete, list, patch, put, read};

use super::body::BodyRules;
use super::{ApiError, AppState};
use crate::catalog::Named;
use crate::storage::Expected;

/// A configuration resource.
pub trait ConfigResource: Send + Sync + 'static {
    /// The request body, parsed leniently (every field optional).
    type Fields: DeserializeOwned + Serialize + Default + Send + 'static;
    /// An item as loaded in memory.
    type Item: Named + Send + Sync + 'static;

    /// How the resource is named in messages: `jwt issuer`.
    const KIND: &'static str;
    /// Top-level fields that are configuration (the rest of a state view is derived).
    const CONFIG_FIELDS: &'static [&'static str];
    /// Body parsing rules (aliases, opaque fields).
    const RULES: BodyRules;

    /// The collection's route under `/v1/config` (`/v1/config/jwt-issuers/{name}/roles`); the
    /// `/v1/state` twin and the item routes derive from it.
    const PATH: &'static str;

    /// The `/v1/config/...` collection path for `scope` (the parents' names, in route order).
    fn collection(scope: &[String]) -> String {
        let mut parents = scope.iter();
        Self::PATH
            .split('/')
            .map(|segment| match segment.starts_with('{') {
                true => parents.next().map_or(segment, String::as_str),
                false => segment,
            })
            .collect::<Vec<_>>()
            .join("/")
    }
    /// Every item under `scope`, sorted by name.
    fn list(state: &AppState, scope: &[String]) -> Result<Vec<Arc<Self::Item>>, ApiError>;
    /// One item, or `None`.
    fn find(
        state: &AppState,
        scope: &[String],
        name: &str,
    ) -> Result<Option<Arc<Self::Item>>, ApiError>;
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

/// The routes of a resource: its collection (`R::PATH`), the item route that appends
/// `/{item}`, and their `/v1/state` twins.
pub fn routes<R: ConfigResource>() -> Router<AppState> {
    let config_path = R::PATH;
    let state_path = config_path.replacen("/v1/config/", "/v1/state/", 1);
    Router::new()
        .route(config_path, get(list::<R, false>).post(create::<R>))
        .route(
            &format!("{config_path}/{{item}}"),
            get(read::<R, false>)
                .put(put::<R>)
                .patch(patch::<R>)
                .delete(delete::<R>),
        )
        .route(&state_path, get(list::<R, true>))
        .route(&format!("{state_path}/{{item}}"), get(read::<R, true>))
}
