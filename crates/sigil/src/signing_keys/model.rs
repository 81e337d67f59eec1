//! What a signing key is: its validated specification and its versions, and how both map to
//! storage records. Private material never lives here; see `keyring.rs`.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sigil_jose::{Algorithm, Jwk, KeyType};

use crate::duration::HumanDuration;
use crate::storage::{KeyVersionRecord, SigningKeyRecord, StorageError};
use crate::validation::{FieldError, Violations, check_name};

/// Shortest accepted `rotation_period`.
pub const MIN_ROTATION_PERIOD: u64 = 3600;

/// A validated signing key specification (the configured part).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySpec {
    /// Unique name.
    pub name: String,
    /// Key type; fixed at creation.
    pub key_type: KeyType,
    /// Signature algorithm; fixed at creation.
    pub algorithm: Algorithm,
    /// Scheduled rotation period, if any.
    pub rotation_period: Option<HumanDuration>,
    /// The internal key of the `sigil` issuer: cannot be deleted or replaced.
    pub internal: bool,
}

/// The lifecycle state of one version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KeyStatus {
    /// Published, not yet signing.
    Pending,
    /// Signing; at most one per key.
    Active,
    /// Published, no longer signing.
    Retiring,
    /// Unpublished; private part destroyed.
    Retired,
}

impl KeyStatus {
    /// The wire and storage spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Pending => "pending",
            KeyStatus::Active => "active",
            KeyStatus::Retiring => "retiring",
            KeyStatus::Retired => "retired",
        }
    }

    fn parse(text: &str) -> Option<KeyStatus> {
        [
            KeyStatus::Pending,
            KeyStatus::Active,
            KeyStatus::Retiring,
            KeyStatus::Retired,
        ]
        .into_iter()
        .find(|s| s.as_str() == text)
    }

    /// Whether the public key is in the JWKS.
    pub fn is_published(self) -> bool {
        !matches!(self, KeyStatus::Retired)
    }
}

/// One version's public facts.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyVersion {
    /// 1, 2, 3...
    pub version: u32,
    /// RFC 7638 thumbprint.
    pub kid: String,
    /// Lifecycle state as last persisted.
    pub status: KeyStatus,
    /// Generation time.
    pub created_at: i64,
    /// When it starts signing (pending) or started (active and later).
    pub activates_at: Option<i64>,
    /// When it leaves the JWKS (retiring) or left it (retired).
    pub retires_at: Option<i64>,
    /// The published public JWK.
    pub public_jwk: Jwk,
}

impl KeySpec {
    /// Validates raw request fields into a spec, listing every problem.
    pub fn from_fields(
        name: Option<&str>,
        key_type: Option<&str>,
        algorithm: Option<&str>,
        rotation_period: Option<HumanDuration>,
    ) -> Result<KeySpec, Vec<FieldError>> {
        let mut errors = Violations::new();
        match name {
            None => errors.push(FieldError::required("name")),
            Some(n) => errors.extend(check_name("name", n)),
        }
        let key_type = match key_type {
            None => Some(KeyType::EcdsaP256),
            Some(t) => KeyType::parse(t).or_else(|| {
                errors.push(FieldError::invalid("type", unknown_type_reason(t)));
                None
            }),
        };
        let algorithm = match (key_type, algorithm) {
            (Some(t), None) => Some(t.default_algorithm()),
            (t, Some(a)) => match Algorithm::parse(a) {
                Some(alg) if t.is_none_or(|t| t.allows(alg)) => Some(alg),
                Some(alg) => {
                    let t = t.map_or("", |t| t.as_str());
                    errors.push(FieldError::invalid(
                        "algorithm",
                        format!("{alg} cannot be used with a {t} key{}", rsa_hint(t)),
                    ));
                    None
                }
                None => {
                    errors.push(FieldError::invalid(
                        "algorithm",
                        format!("unknown algorithm {a:?}; use RS256 or PS256 for RSA keys (others follow the type)"),
                    ));
                    None
                }
            },
            (None, None) => None,
        };
        if let Some(period) = rotation_period
            && period.as_secs() < MIN_ROTATION_PERIOD
        {
            errors.push(FieldError::invalid(
                "rotation_period",
                "must be at least 1h",
            ));
        }
        match (name, key_type, algorithm) {
            (Some(name), Some(key_type), Some(algorithm)) if errors.is_empty() => Ok(KeySpec {
                name: name.to_owned(),
                key_type,
                algorithm,
                rotation_period,
                internal: false,
            }),
            _ => Err(errors.into_vec()),
        }
    }

    /// Checks that `next` may replace this spec: only `rotation_period` may change, and the
    /// internal key is never replaced.
    pub fn check_replacement(&self, next: &KeySpec) -> Result<(), super::KeyRefused> {
        if self.internal {
            return Err(super::KeyRefused::Internal(self.name.clone()));
        }
        let mut errors = Vec::new();
        if self.key_type != next.key_type {
            errors.push(FieldError::invalid(
                "type",
                format!(
                    "is {} and cannot change; create a new key instead",
                    self.key_type.as_str()
                ),
            ));
        }
        if self.algorithm != next.algorithm {
            errors.push(FieldError::invalid(
                "algorithm",
                format!(
                    "is {} and cannot change; create a new key instead",
                    self.algorithm
                ),
            ));
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(crate::catalog::CatalogRefused::invalid(super::error::KIND, errors).into())
        }
    }

    /// The stored configuration document.
    pub fn to_config(&self) -> Value {
        json!({
            "type": self.key_type.as_str(),
            "algorithm": self.algorithm.as_str(),
            "rotation_period": self.rotation_period.map(|p| p.to_string()),
            "internal": self.internal,
        })
    }

    /// Reads a stored configuration document.
    pub fn from_record(record: &SigningKeyRecord) -> Result<KeySpec, StorageError> {
        let config = &record.config;
        let text = |field: &str| config.get(field).and_then(Value::as_str);
        let key_type = text("type")
            .and_then(KeyType::parse)
            .ok_or_else(|| corrupt("type"))?;
        let algorithm = text("algorithm")
            .and_then(Algorithm::parse)
            .ok_or_else(|| corrupt("algorithm"))?;
        let rotation_period = match text("rotation_period") {
            Some(p) => Some(HumanDuration::parse(p).map_err(|_| corrupt("rotation_period"))?),
            None => None,
        };
        Ok(KeySpec {
            name: record.name.clone(),
            key_type,
            algorithm,
            rotation_period,
            internal: config.get("internal").and_then(Value::as_bool) == Some(true),
        })
    }
}

impl KeyVersion {
    /// Reads a stored version.
    pub fn from_record(record: &KeyVersionRecord) -> Result<KeyVersion, StorageError> {
        Ok(KeyVersion {
            version: record.version,
            kid: record.kid.clone(),
            status: KeyStatus::parse(&record.status).ok_or_else(|| corrupt("status"))?,
            created_at: record.created_at,
            activates_at: record.activates_at,
            retires_at: record.retires_at,
            public_jwk: serde_json::from_value(record.public_jwk.clone())
                .map_err(|_| corrupt("public_jwk"))?,
        })
    }

    /// The storage record, with the sealed private key when there still is one.
    pub fn to_record(&self, sealed_private_key: Option<Vec<u8>>) -> KeyVersionRecord {
        KeyVersionRecord {
            version: self.version,
            kid: self.kid.clone(),
            status: self.status.as_str().to_owned(),
            created_at: self.created_at,
            activates_at: self.activates_at,
            retires_at: self.retires_at,
            public_jwk: serde_json::to_value(&self.public_jwk).unwrap_or(Value::Null),
            sealed_private_key,
        }
    }
}

/// Associated data binding a sealed private key to its key name and version, so a blob
/// copied to another row does not open.
pub fn sealing_aad(name: &str, version: u32) -> Vec<u8> {
    format!("sigil:signing-key:{name}:{version}").into_bytes()
}

fn unknown_type_reason(given: &str) -> String {
    let known: Vec<&str> = KeyType::ALL.iter().map(|t| t.as_str()).collect();
    let weak = given.starts_with("rsa-") || given.starts_with("rsa") && given.len() > 3;
    let prefix = if weak {
        format!("{given:?} is not allowed: RSA keys must be 2048, 3072 or 4096 bits")
    } else {
        format!("unknown key type {given:?}")
    };
    format!("{prefix}; use one of {}", known.join(", "))
}

fn rsa_hint(key_type: &str) -> &'static str {
    if key_type.starts_with("rsa") {
        " (RSA keys sign with RS256 or PS256)"
    } else {
        " (EC and Ed25519 keys have exactly one algorithm; omit `algorithm`)"
    }
}

fn corrupt(field: &str) -> StorageError {
    StorageError::Corrupt {
        kind: "signing key",
        reason: format!("field `{field}` is missing or invalid"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_to_ecdsa_p256_with_es256() {
        let spec = KeySpec::from_fields(Some("k"), None, None, None).unwrap();
        assert_eq!(spec.key_type, KeyType::EcdsaP256);
        assert_eq!(spec.algorithm, Algorithm::Es256);
    }

    #[test]
    fn rsa_accepts_ps256() {
        let spec = KeySpec::from_fields(Some("k"), Some("rsa-3072"), Some("PS256"), None).unwrap();
        assert_eq!(spec.algorithm, Algorithm::Ps256);
    }

    #[test]
    fn weak_rsa_is_refused_naming_type() {
        let errors = KeySpec::from_fields(Some("k"), Some("rsa-1024"), None, None).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].name, "type");
        assert!(errors[0].reason.contains("2048"), "{}", errors[0].reason);
    }

    #[test]
    fn every_problem_is_listed() {
        let errors = KeySpec::from_fields(
            Some("bad name"),
            Some("ecdsa-p256"),
            Some("PS256"),
            Some(HumanDuration::from_secs(60)),
        )
        .unwrap_err();
        let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["name", "algorithm", "rotation_period"]);
    }

    #[test]
    fn config_round_trips_through_a_record() {
        let spec = KeySpec::from_fields(
            Some("k"),
            Some("rsa-2048"),
            Some("PS256"),
            Some(HumanDuration::from_secs(86_400)),
        )
        .unwrap();
        let record = SigningKeyRecord {
            name: "k".into(),
            config: spec.to_config(),
            revision: 1,
            created_at: 0,
            updated_at: 0,
            versions: vec![],
        };
        assert_eq!(KeySpec::from_record(&record).unwrap(), spec);
    }
}
