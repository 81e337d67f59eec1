//! `/v1/config/signing-keys` and `/v1/state/signing-keys`; the key actions (rotate, taint,
//! revoke) are in `signing_key_actions.rs`. Reads come from the in-memory keyring; writes go
//! through `SigningKeys`.

use std::sync::Arc;

use axum::Router;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sigil_jose::Jwk;

use crate::clock::rfc3339;
use crate::duration::HumanDuration;
use crate::http::body::BodyRules;
use crate::http::config_resource::ResourceDocs;
use crate::http::config_resource::{self, ConfigResource};
use crate::http::resource::to_value;
use crate::http::{ApiError, AppState};

use super::signing_key_actions;
use crate::signing_keys::{KeyRefused, KeySpec, KeyStatus, LoadedKey, Preview, lifecycle};
use crate::storage::Expected;

/// Top-level fields of the configured view.
pub(super) const CONFIG_FIELDS: &[&str] = &["type", "algorithm", "rotation_period"];
const COLLECTION: &str = "/v1/config/signing-keys";

/// Routes of this surface.
pub fn router() -> Router<AppState> {
    config_resource::routes::<SigningKeys>().merge(signing_key_actions::router())
}

/// The signing-keys resource.
pub struct SigningKeys;

impl ConfigResource for SigningKeys {
    type Fields = SigningKeyBody;
    type Item = LoadedKey;
    const KIND: &'static str = "signing key";
    const PATH: &'static str = COLLECTION;
    const CONFIG_FIELDS: &'static [&'static str] = CONFIG_FIELDS;
    const RULES: BodyRules = BodyRules::NONE;

    fn list(state: &AppState, _scope: &[String]) -> Result<Vec<Arc<LoadedKey>>, ApiError> {
        Ok(state.keys.keyring().iter().cloned().collect())
    }

    fn find(
        state: &AppState,
        _scope: &[String],
        name: &str,
    ) -> Result<Option<Arc<LoadedKey>>, ApiError> {
        Ok(state.keys.keyring().get(name).cloned())
    }

    fn config(item: &LoadedKey) -> Result<Value, ApiError> {
        to_value(&config_view(item))
    }

    fn state(state: &AppState, _scope: &[String], item: &LoadedKey) -> Result<Value, ApiError> {
        to_value(&state_view(state, item))
    }

    fn name_field(fields: &mut SigningKeyBody) -> &mut Option<String> {
        &mut fields.name
    }

    fn check(
        state: &AppState,
        _scope: &[String],
        fields: SigningKeyBody,
        existing: Option<&LoadedKey>,
    ) -> Result<Value, ApiError> {
        let spec = spec_of(fields)?;
        if let Some(existing) = existing {
            state
                .keys
                .preview(&existing.spec.name, Preview::Update(&spec), None)?;
        }
        to_value(&config_of_spec(&spec))
    }

    async fn save(
        state: &AppState,
        _scope: &[String],
        fields: SigningKeyBody,
        expected: Expected,
    ) -> Result<(Arc<LoadedKey>, bool), ApiError> {
        let spec = spec_of(fields)?;
        let exists = state.keys.keyring().get(&spec.name).is_some();
        match (expected, exists) {
            (Expected::Absent, _) | (Expected::Any, false) => {
                Ok((state.keys.create(spec, None).await?, true))
            }
            (Expected::Revision(revision), true) => {
                Ok((state.keys.update(spec, Some(revision)).await?, false))
            }
            (_, true) => Ok((state.keys.update(spec, None).await?, false)),
            (_, false) => Err(ApiError::PreconditionFailed(format!(
                "signing key `{}` does not exist",
                spec.name
            ))),
        }
    }

    async fn delete(
        state: &AppState,
        _scope: &[String],
        name: &str,
        expected: Expected,
    ) -> Result<(), ApiError> {
        let if_match = match expected {
            Expected::Revision(revision) => Some(revision),
            _ => None,
        };
        Ok(state.keys.delete(name, if_match).await?)
    }

    fn check_delete(state: &AppState, key: &LoadedKey) -> Result<(), ApiError> {
        if key.spec.internal {
            return Err(KeyRefused::Internal(key.spec.name.clone()).into());
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

    /// A patch naming a new type is judged on the type: the stored algorithm belongs to the
    /// old one and would only produce a misleading `algorithm` error.
    fn patch_base(item: &LoadedKey, patch: &Value) -> Result<Value, ApiError> {
        let mut base = to_value(&config_view(item))?;
        if patch.get("type").is_some()
            && patch.get("algorithm").is_none()
            && let Some(fields) = base.as_object_mut()
        {
            fields.remove("algorithm");
        }
        Ok(base)
    }
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

fn spec_of(body: SigningKeyBody) -> Result<KeySpec, ApiError> {
    KeySpec::from_fields(
        body.name.as_deref(),
        body.key_type.as_deref(),
        body.algorithm.as_deref(),
        body.rotation_period,
    )
    .map_err(ApiError::invalid)
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

/// The state view of a key.
pub(super) fn state_view(state: &AppState, key: &LoadedKey) -> SigningKeyState {
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
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut doc = ResourceDocs {
        config_path: COLLECTION,
        tag: "signing-keys",
        body_schema: "SigningKeyBody",
        state_schema: "SigningKeyState",
    }
    .openapi();
    doc.merge(signing_key_actions::openapi());
    doc.merge(<SchemasApi as utoipa::OpenApi>::openapi());
    doc
}

#[derive(utoipa::OpenApi)]
#[openapi(components(schemas(SigningKeyBody, SigningKeyConfig, SigningKeyState, VersionState)))]
struct SchemasApi;
