//! `/v1/config/jwt-issuers/{name}/roles` and their state: the token shapes of one issuer.

use std::sync::Arc;

use axum::Router;
use serde::Serialize;
use serde_json::Value;

use crate::clock::rfc3339;
use crate::http::body::BodyRules;
use crate::http::config_resource::ResourceDocs;
use crate::http::config_resource::{self, ConfigResource};
use crate::http::resource::to_value;
use crate::http::{ApiError, AppState};
use crate::minting::{LoadedIssuer, LoadedRole, RoleFields};
use crate::storage::Expected;

const CONFIG_PATH: &str = "/v1/config/jwt-issuers/{name}/roles";

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    config_resource::routes::<Roles>()
}

/// A role's state: its configuration plus its issuer, mint path and times.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RoleState {
    /// Configuration (defaults filled in).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub config: Value,
    /// The issuer.
    pub jwt_issuer: String,
    /// The mint endpoint.
    pub mint_path: String,
    /// Creation time (RFC 3339).
    pub created_at: String,
    /// Last change (RFC 3339).
    pub updated_at: String,
}

/// The roles resource; its scope is the issuer's name.
pub struct Roles;

impl ConfigResource for Roles {
    type Fields = RoleFields;
    type Item = LoadedRole;
    const KIND: &'static str = "role";
    const PATH: &'static str = CONFIG_PATH;
    const CONFIG_FIELDS: &'static [&'static str] = &[
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
        "limit_to_subject_exp",
    ];
    const RULES: BodyRules = BodyRules {
        aliases: &[],
        opaque: &["fixed_claims"],
    };

    fn list(state: &AppState, scope: &[String]) -> Result<Vec<Arc<LoadedRole>>, ApiError> {
        Ok(issuer(state, scope)?
            .sorted_roles()
            .into_iter()
            .cloned()
            .collect())
    }

    fn find(
        state: &AppState,
        scope: &[String],
        name: &str,
    ) -> Result<Option<Arc<LoadedRole>>, ApiError> {
        Ok(issuer(state, scope)?.roles.get(name).cloned())
    }

    fn config(item: &LoadedRole) -> Result<Value, ApiError> {
        to_value(&item.role.fields)
    }

    fn state(_state: &AppState, scope: &[String], item: &LoadedRole) -> Result<Value, ApiError> {
        let issuer = issuer_name(scope);
        to_value(&RoleState {
            config: to_value(&item.role.fields)?,
            jwt_issuer: issuer.to_owned(),
            mint_path: format!("/v1/jwt-issuers/{issuer}/roles/{}/mint", item.role.name),
            created_at: rfc3339(item.stamps.created_at),
            updated_at: rfc3339(item.stamps.updated_at),
        })
    }

    fn name_field(fields: &mut RoleFields) -> &mut Option<String> {
        &mut fields.name
    }

    fn check(
        state: &AppState,
        scope: &[String],
        fields: RoleFields,
        _existing: Option<&LoadedRole>,
    ) -> Result<Value, ApiError> {
        let role = state.issuers.check_role(issuer_name(scope), fields)?;
        to_value(&role.fields)
    }

    async fn save(
        state: &AppState,
        scope: &[String],
        fields: RoleFields,
        expected: Expected,
    ) -> Result<(Arc<LoadedRole>, bool), ApiError> {
        Ok(state
            .issuers
            .save_role(issuer_name(scope), fields, expected)
            .await?)
    }

    async fn delete(
        state: &AppState,
        scope: &[String],
        name: &str,
        expected: Expected,
    ) -> Result<(), ApiError> {
        Ok(state
            .issuers
            .delete_role(issuer_name(scope), name, expected)
            .await?)
    }
}

fn issuer_name(scope: &[String]) -> &str {
    scope.first().map_or("", String::as_str)
}

fn issuer(state: &AppState, scope: &[String]) -> Result<Arc<LoadedIssuer>, ApiError> {
    let name = issuer_name(scope);
    state
        .issuers
        .table()
        .get(name)
        .cloned()
        .ok_or_else(|| ApiError::NotFound(format!("jwt issuer `{name}` does not exist")))
}

/// The OpenAPI description of this surface.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ResourceDocs {
        config_path: CONFIG_PATH,
        tag: "roles",
        body_schema: "RoleFields",
        state_schema: "RoleState",
    }
    .openapi();
    doc.merge(<Schemas as utoipa::OpenApi>::openapi());
    doc
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    RoleState,
    RoleFields,
    crate::minting::AllowedClaim,
    crate::minting::ClaimType,
    crate::minting::TokenType
)))]
struct Schemas;
