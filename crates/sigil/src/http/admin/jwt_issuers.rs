//! `/v1/config/jwt-issuers` and `/v1/state/jwt-issuers`: named issuers, each with its signing
//! key, `iss`, TTL bounds and distribution. Reads come from the in-memory issuer table.

use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::clock::rfc3339;
use crate::duration::HumanDuration;
use crate::http::body::BodyRules;
use crate::http::config_resource::ResourceDocs;
use crate::http::config_resource::{self, ConfigResource};
use crate::http::resource::to_value;
use crate::http::{ApiError, AppState};
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

/// The jwt-issuers resource.
pub struct JwtIssuers;

impl ConfigResource for JwtIssuers {
    type Fields = JwtIssuerBody;
    type Item = LoadedIssuer;
    const KIND: &'static str = "jwt issuer";
    const PATH: &'static str = COLLECTION;
    const CONFIG_FIELDS: &'static [&'static str] = CONFIG_FIELDS;
    const RULES: BodyRules = BodyRules::NONE;

    fn list(state: &AppState, _scope: &[String]) -> Result<Vec<Arc<LoadedIssuer>>, ApiError> {
        Ok(state
            .issuers
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
    ) -> Result<Option<Arc<LoadedIssuer>>, ApiError> {
        Ok(state.issuers.table().get(name).cloned())
    }

    fn config(item: &LoadedIssuer) -> Result<Value, ApiError> {
        to_value(&config_view(item))
    }

    fn state(state: &AppState, _scope: &[String], item: &LoadedIssuer) -> Result<Value, ApiError> {
        to_value(&state_view(state, item))
    }

    fn name_field(fields: &mut JwtIssuerBody) -> &mut Option<String> {
        &mut fields.name
    }

    fn check(
        state: &AppState,
        _scope: &[String],
        fields: JwtIssuerBody,
        existing: Option<&LoadedIssuer>,
    ) -> Result<Value, ApiError> {
        let spec = state.issuers.check_issuer(into_fields(fields))?;
        if existing.is_some() {
            state.issuers.check_replacement(&spec)?;
        }
        to_value(&spec.to_fields())
    }

    /// `distribute` is replaced whole: `{sites: [..]}` means "only these sites", not "these
    /// sites and all".
    fn patch_base(item: &LoadedIssuer, patch: &Value) -> Result<Value, ApiError> {
        let mut base = to_value(&config_view(item))?;
        if patch.get("distribute").is_some()
            && let Some(fields) = base.as_object_mut()
        {
            fields.remove("distribute");
        }
        Ok(base)
    }

    async fn save(
        state: &AppState,
        _scope: &[String],
        fields: JwtIssuerBody,
        expected: Expected,
    ) -> Result<(Arc<LoadedIssuer>, bool), ApiError> {
        Ok(state
            .issuers
            .save_issuer(into_fields(fields), expected)
            .await?)
    }

    async fn delete(
        state: &AppState,
        _scope: &[String],
        name: &str,
        expected: Expected,
    ) -> Result<(), ApiError> {
        Ok(state.issuers.delete_issuer(name, expected).await?)
    }
}

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    config_resource::routes::<JwtIssuers>()
}

/// The OpenAPI description of this surface.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ResourceDocs {
        config_path: COLLECTION,
        tag: "jwt-issuers",
        body_schema: "JwtIssuerBody",
        state_schema: "JwtIssuerState",
    }
    .openapi();
    doc.merge(<Schemas as utoipa::OpenApi>::openapi());
    doc
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(
    JwtIssuerBody,
    JwtIssuerConfig,
    JwtIssuerState,
    DistributionStatus,
    Distribute
)))]
struct Schemas;

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
