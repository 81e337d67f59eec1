//! `/v1/config/trusted-issuers` and `/v1/state/trusted-issuers`: external issuers whose JWTs
//! Sigil verifies, plus the internal issuer `sigil` (read-only) and issuers from the
//! configuration file (`static`, read-only). `refresh` fetches an issuer's keys now.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::rfc3339;
use crate::http::body::BodyRules;
use crate::http::config_resource::ResourceDocs;
use crate::http::config_resource::{self, ConfigResource};
use crate::http::resource::to_value;
use crate::http::{ApiError, AppState};
use crate::storage::Expected;
use crate::trust::keyset::{KeySource, LeftOutKey};
use crate::trust::registry::SourceStatus;
use crate::trust::spec::{self, TrustedIssuerFields};
use crate::trust::{TrustRefused, TrustedIssuer};

const COLLECTION: &str = "/v1/config/trusted-issuers";

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    config_resource::routes::<TrustedIssuers>().route(
        "/v1/trusted-issuers/{name}/refresh",
        post(refresh_trusted_issuer),
    )
}

/// A key an issuer's tokens may be signed with, as shown in state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct KnownKey {
    /// `kid`.
    pub kid: Option<String>,
    /// Algorithms it verifies.
    pub algorithms: Vec<String>,
    /// Where it came from.
    pub source: KeySource,
}

/// A trusted issuer's configuration and what Sigil observed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TrustedIssuerState {
    /// The configuration.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub config: Value,
    /// Keys in use.
    pub known_keys: Vec<KnownKey>,
    /// Keys left out, and why.
    pub left_out_keys: Vec<LeftOutKey>,
    /// Each remote source's last fetch.
    pub sources: Vec<SourceState>,
    /// Next scheduled refresh (RFC 3339).
    pub next_refresh_at: Option<String>,
    /// Creation time (RFC 3339).
    pub created_at: Option<String>,
    /// Last change (RFC 3339).
    pub updated_at: Option<String>,
}

/// One remote source as shown in state.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SourceState {
    /// Which source.
    pub source: Option<KeySource>,
    /// The URL fetched.
    pub url: String,
    /// Last attempt (RFC 3339).
    pub last_fetch_at: Option<String>,
    /// Last success (RFC 3339).
    pub last_success_at: Option<String>,
    /// Last error, when the last attempt failed.
    pub last_error: Option<String>,
    /// Next refresh (RFC 3339).
    pub next_refresh_at: Option<String>,
    /// Keys it contributed.
    pub key_count: usize,
}

/// The trusted-issuers resource.
pub struct TrustedIssuers;

impl ConfigResource for TrustedIssuers {
    type Fields = TrustedIssuerFields;
    type Item = TrustedIssuer;
    const KIND: &'static str = "trusted issuer";
    const PATH: &'static str = COLLECTION;
    const VALIDATE_REPORTS: bool = true;
    const CONFIG_FIELDS: &'static [&'static str] = &[
        "issuer",
        "project",
        "jwks_url",
        "discovery_url",
        "keys",
        "audiences",
        "audiences_unchecked",
        "roles",
        "permissions",
        "algorithms",
        "leeway",
        "max_token_age",
        "require_jti",
        "header",
        "allow_insecure_http",
        "enabled",
        "internal",
        "static",
    ];
    const RULES: BodyRules = BodyRules {
        aliases: &[
            ("iss", "issuer"),
            ("JWKsURL", "jwks_url"),
            ("aud", "audiences"),
            ("prm", "permissions"),
        ],
        opaque: &["keys"],
    };

    fn list(state: &AppState, _scope: &[String]) -> Result<Vec<Arc<TrustedIssuer>>, ApiError> {
        Ok(state.trust.all())
    }

    fn find(
        state: &AppState,
        _scope: &[String],
        name: &str,
    ) -> Result<Option<Arc<TrustedIssuer>>, ApiError> {
        Ok(state.trust.find(name))
    }

    fn config(item: &TrustedIssuer) -> Result<Value, ApiError> {
        let mut view = to_value(&item.spec.stored_fields())?;
        if let Some(fields) = view.as_object_mut() {
            fields.retain(|_, v| !v.is_null());
            fields.insert("internal".into(), json!(item.is_internal));
            fields.insert("static".into(), json!(item.is_static));
        }
        Ok(view)
    }

    fn state(state: &AppState, _scope: &[String], item: &TrustedIssuer) -> Result<Value, ApiError> {
        let keys = item.keys();
        let stamp = |t: i64| (t > 0).then(|| rfc3339(t));
        let mut known_keys: Vec<KnownKey> = keys
            .keys()
            .into_iter()
            .map(|k| KnownKey {
                kid: k.kid.clone(),
                algorithms: k.algorithms.iter().map(ToString::to_string).collect(),
                source: k.source,
            })
            .collect();
        if item.is_internal {
            // The internal issuer's keys are the published versions of the internal key.
            let keyring = state.keys.keyring();
            let now = state.clock.now();
            if let Some(key) = keyring.get(crate::trust::INTERNAL_KEY) {
                known_keys.extend(key.published(now).map(|v| KnownKey {
                    kid: Some(v.kid.clone()),
                    algorithms: vec![key.spec.algorithm.to_string()],
                    source: KeySource::Internal,
                }));
            }
        }
        to_value(&TrustedIssuerState {
            config: Self::config(item)?,
            known_keys,
            left_out_keys: keys.left_out().to_vec(),
            sources: item
                .source_statuses()
                .into_iter()
                .map(source_state)
                .collect(),
            next_refresh_at: item.next_refresh_at().map(rfc3339),
            created_at: stamp(item.stamps.created_at),
            updated_at: stamp(item.stamps.updated_at),
        })
    }

    fn name_field(fields: &mut TrustedIssuerFields) -> &mut Option<String> {
        &mut fields.name
    }

    fn check(
        state: &AppState,
        _scope: &[String],
        fields: TrustedIssuerFields,
        _existing: Option<&TrustedIssuer>,
    ) -> Result<Value, ApiError> {
        let spec = state.trust.check(fields)?;
        to_value(&spec.stored_fields())
    }

    /// `validate=true` fetches the keys and reports what it found.
    async fn preview(
        state: &AppState,
        _scope: &[String],
        fields: TrustedIssuerFields,
        _existing: Option<&TrustedIssuer>,
    ) -> Result<Value, ApiError> {
        let (probed, outcome) = state.trust.probe(fields).await?;
        let mut view = Self::state(state, &[], &probed)?;
        if let Some(fields) = view.as_object_mut() {
            fields.insert("key_count".into(), json!(outcome.key_count));
        }
        Ok(view)
    }

    fn notes(fields: &TrustedIssuerFields) -> Vec<String> {
        spec::ignored_fields(fields)
    }

    async fn save(
        state: &AppState,
        _scope: &[String],
        fields: TrustedIssuerFields,
        expected: Expected,
    ) -> Result<(Arc<TrustedIssuer>, bool), ApiError> {
        Ok(state.trust.save(fields, expected).await?)
    }

    async fn delete(
        state: &AppState,
        _scope: &[String],
        name: &str,
        expected: Expected,
    ) -> Result<(), ApiError> {
        Ok(state.trust.delete(name, expected).await?)
    }

    fn check_delete(_state: &AppState, item: &TrustedIssuer) -> Result<(), ApiError> {
        match (item.is_internal, item.is_static) {
            (true, _) => Err(TrustRefused::Internal(item.spec.name.clone()).into()),
            (_, true) => Err(TrustRefused::Static(item.spec.name.clone()).into()),
            _ => Ok(()),
        }
    }
}

/// What a refresh found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefreshResponse {
    /// The issuer.
    pub name: String,
    /// Usable keys after the refresh.
    pub key_count: usize,
    /// Sources that failed, and why (their last good keys stay in use up to 24h).
    pub failures: Vec<RefreshFailure>,
    /// The issuer's state after the refresh.
    #[schema(value_type = Object)]
    pub state: Value,
}

/// One failed source.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RefreshFailure {
    /// The field naming the source.
    pub field: String,
    /// Why it failed.
    pub reason: String,
}

#[utoipa::path(post, path = "/v1/trusted-issuers/{name}/refresh", tag = "trusted-issuers",
    params(("name" = String, Path)), responses((status = 200, body = RefreshResponse), (status = 404)))]
async fn refresh_trusted_issuer(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<RefreshResponse>, ApiError> {
    let (issuer, outcome) = state.trust.refresh(&name).await?;
    Ok(Json(RefreshResponse {
        name,
        key_count: outcome.key_count,
        failures: outcome
            .failures
            .into_iter()
            .map(|(field, reason)| RefreshFailure {
                field: field.to_owned(),
                reason,
            })
            .collect(),
        state: TrustedIssuers::state(&state, &[], &issuer)?,
    }))
}

fn source_state(status: SourceStatus) -> SourceState {
    SourceState {
        source: status.source,
        url: status.url,
        last_fetch_at: status.last_fetch_at.map(rfc3339),
        last_success_at: status.last_success_at.map(rfc3339),
        last_error: status.last_error,
        next_refresh_at: status.next_refresh_at.map(rfc3339),
        key_count: status.key_count,
    }
}

/// The OpenAPI description of this surface.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ResourceDocs {
        config_path: COLLECTION,
        tag: "trusted-issuers",
        body_schema: "TrustedIssuerFields",
        state_schema: "TrustedIssuerState",
    }
    .openapi();
    doc.merge(<ActionsApi as utoipa::OpenApi>::openapi());
    doc
}

#[derive(utoipa::OpenApi)]
#[openapi(
    paths(refresh_trusted_issuer),
    components(schemas(
        TrustedIssuerFields,
        crate::trust::spec::Project,
        TrustedIssuerState,
        KnownKey,
        SourceState,
        LeftOutKey,
        KeySource,
        RefreshResponse,
        RefreshFailure
    ))
)]
struct ActionsApi;
