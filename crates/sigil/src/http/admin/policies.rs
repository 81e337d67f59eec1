//! `/v1/config/policies` and `/v1/state/policies`: named allow-rules. The built-in `root` is
//! listed and cannot be changed (409 `internal_resource`).

use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sigil_policy::{PolicyFields, RuleFields};

use crate::clock::rfc3339;
use crate::http::body::BodyRules;
use crate::http::config_resource::ResourceDocs;
use crate::http::config_resource::{self, ConfigResource};
use crate::http::resource::to_value;
use crate::http::{ApiError, AppState};
use crate::policies::{LoadedPolicy, PolicyRefused};
use crate::storage::Expected;

const COLLECTION: &str = "/v1/config/policies";

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    config_resource::routes::<Policies>()
}

/// A policy as written: `rules: [{path, operations}]`.
#[derive(Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
pub struct PolicyBody {
    /// Unique name.
    pub name: Option<String>,
    /// Allow-rules: `path` (`*` one segment, trailing `**` one or more segments) and `operations`
    /// (`create`, `read`, `update`, `delete`).
    #[schema(value_type = Option<Vec<Object>>)]
    pub rules: Option<Vec<RuleFields>>,
    /// Read-only; ignored in requests.
    #[schema(read_only, value_type = Option<bool>)]
    pub built_in: Option<Value>,
}

/// The policies resource.
pub struct Policies;

impl ConfigResource for Policies {
    type Fields = PolicyBody;
    type Item = LoadedPolicy;
    const KIND: &'static str = "policy";
    const PATH: &'static str = COLLECTION;
    const CONFIG_FIELDS: &'static [&'static str] = &["rules", "built_in"];
    const RULES: BodyRules = BodyRules::NONE;

    fn list(state: &AppState, _scope: &[String]) -> Result<Vec<Arc<LoadedPolicy>>, ApiError> {
        Ok(state.policies.set().sorted().into_iter().cloned().collect())
    }

    fn find(
        state: &AppState,
        _scope: &[String],
        name: &str,
    ) -> Result<Option<Arc<LoadedPolicy>>, ApiError> {
        Ok(state.policies.set().get(name).cloned())
    }

    fn config(item: &LoadedPolicy) -> Result<Value, ApiError> {
        Ok(json!({
            "name": item.policy.name,
            "rules": to_value(&item.fields.rules)?,
            "built_in": item.built_in,
        }))
    }

    fn state(_state: &AppState, _scope: &[String], item: &LoadedPolicy) -> Result<Value, ApiError> {
        let mut view = Self::config(item)?;
        if let Some(fields) = view.as_object_mut()
            && !item.built_in
        {
            fields.insert("created_at".into(), json!(rfc3339(item.stamps.created_at)));
            fields.insert("updated_at".into(), json!(rfc3339(item.stamps.updated_at)));
        }
        Ok(view)
    }

    fn notes(fields: &PolicyBody) -> Vec<String> {
        match fields.built_in {
            Some(_) => vec!["`built_in` is read-only and was ignored".to_owned()],
            None => Vec::new(),
        }
    }

    fn name_field(fields: &mut PolicyBody) -> &mut Option<String> {
        &mut fields.name
    }

    fn check(
        state: &AppState,
        _scope: &[String],
        body: PolicyBody,
        _existing: Option<&LoadedPolicy>,
    ) -> Result<Value, ApiError> {
        let fields = PolicyFields { rules: body.rules };
        let policy = state.policies.check(body.name.as_deref(), &fields)?;
        Ok(json!({"name": policy.name, "rules": to_value(&fields.rules)?}))
    }

    async fn save(
        state: &AppState,
        _scope: &[String],
        body: PolicyBody,
        expected: Expected,
    ) -> Result<(Arc<LoadedPolicy>, bool), ApiError> {
        let fields = PolicyFields { rules: body.rules };
        Ok(state
            .policies
            .save(body.name.as_deref(), fields, expected)
            .await?)
    }

    async fn delete(
        state: &AppState,
        _scope: &[String],
        name: &str,
        expected: Expected,
    ) -> Result<(), ApiError> {
        Ok(state.policies.delete(name, expected).await?)
    }

    fn check_delete(_state: &AppState, item: &LoadedPolicy) -> Result<(), ApiError> {
        if item.built_in {
            return Err(PolicyRefused::BuiltIn.into());
        }
        Ok(())
    }
}

/// The OpenAPI description of this surface.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ResourceDocs {
        config_path: COLLECTION,
        tag: "policies",
        body_schema: "PolicyBody",
        state_schema: "PolicyBody",
    }
    .openapi();
    doc.merge(<Schemas as utoipa::OpenApi>::openapi());
    doc
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(PolicyBody)))]
struct Schemas;
