//! `/v1/config/identity-mappings` and `/v1/state/identity-mappings`: rules turning verified
//! tokens into identities. Accepts the Venafi field names (`Name`, `IssuerUri`, `IdField`,
//! ...) and answers in Sigil's own.

use std::sync::Arc;

use axum::Router;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::http::body::BodyRules;
use crate::http::config_resource::ResourceDocs;
use crate::http::config_resource::{self, ConfigResource};
use crate::http::resource::to_value;
use crate::http::{ApiError, AppState};
use crate::identity::{LoadedMapping, MappingFields};
use crate::storage::Expected;

const COLLECTION: &str = "/v1/config/identity-mappings";

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    config_resource::routes::<IdentityMappings>()
}

/// The identity-mappings resource.
pub struct IdentityMappings;

impl ConfigResource for IdentityMappings {
    type Fields = MappingFields;
    type Item = LoadedMapping;
    const KIND: &'static str = "identity mapping";
    const PATH: &'static str = COLLECTION;
    const CONFIG_FIELDS: &'static [&'static str] = &[
        "display_name",
        "trusted_issuer",
        "purpose_claim",
        "purpose_match",
        "id_claim",
        "id_match",
        "grantee",
        "policies",
        "claims",
    ];
    const RULES: BodyRules = BodyRules {
        aliases: &[
            ("Name", "name"),
            ("IssuerUri", "issuer_uri"),
            ("PurposeField", "purpose_claim"),
            ("PurposeMatch", "purpose_match"),
            ("IdField", "id_claim"),
            ("IdMatch", "id_match"),
            ("GranteePrefixedUniversal", "grantee"),
        ],
        opaque: &[],
    };

    fn list(state: &AppState, _scope: &[String]) -> Result<Vec<Arc<LoadedMapping>>, ApiError> {
        Ok(state
            .mappings
            .table()
            .sorted()
            .into_iter()
            .cloned()
            .collect())
    }

    fn find(
        state: &AppState,
        _scope: &[String],
        name: &str,
    ) -> Result<Option<Arc<LoadedMapping>>, ApiError> {
        Ok(state.mappings.table().get(name).cloned())
    }

    fn config(item: &LoadedMapping) -> Result<Value, ApiError> {
        let mut view = to_value(&item.mapping.fields)?;
        if let Some(fields) = view.as_object_mut() {
            fields.retain(|_, v| !v.is_null());
        }
        Ok(view)
    }

    fn state(state: &AppState, _scope: &[String], item: &LoadedMapping) -> Result<Value, ApiError> {
        let mut view = Self::config(item)?;
        let policies = state.policies.set();
        let missing: Vec<&String> = item
            .mapping
            .policies
            .iter()
            .filter(|p| !policies.contains(p))
            .collect();
        if let Some(fields) = view.as_object_mut() {
            fields.insert("unknown_policies".into(), json!(missing));
            fields.insert("created_at".into(), json!(rfc3339(item.stamps.created_at)));
            fields.insert("updated_at".into(), json!(rfc3339(item.stamps.updated_at)));
        }
        Ok(view)
    }

    fn name_field(fields: &mut MappingFields) -> &mut Option<String> {
        &mut fields.name
    }

    fn check(
        state: &AppState,
        _scope: &[String],
        fields: MappingFields,
        _existing: Option<&LoadedMapping>,
    ) -> Result<Value, ApiError> {
        let mapping = state.mappings.check(fields)?;
        to_value(&mapping.fields)
    }

    async fn save(
        state: &AppState,
        _scope: &[String],
        fields: MappingFields,
        expected: Expected,
    ) -> Result<(Arc<LoadedMapping>, bool), ApiError> {
        Ok(state.mappings.save(fields, expected).await?)
    }

    async fn delete(
        state: &AppState,
        _scope: &[String],
        name: &str,
        expected: Expected,
    ) -> Result<(), ApiError> {
        Ok(state.mappings.delete(name, expected).await?)
    }
}

/// The OpenAPI description of this surface.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ResourceDocs {
        config_path: COLLECTION,
        tag: "identity-mappings",
        body_schema: "MappingFields",
        state_schema: "MappingFields",
    }
    .openapi();
    doc.merge(<Schemas as utoipa::OpenApi>::openapi());
    doc
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(MappingFields)))]
struct Schemas;
