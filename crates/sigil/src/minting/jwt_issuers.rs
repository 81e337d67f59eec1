//! JWT issuers and roles: validated, persisted as documents, compiled into the issuer table
//! the hot path reads, and registered as signing key users (so a key in use cannot be deleted
//! and retiring versions outlive every token).

use std::collections::HashMap;
use std::sync::Arc;

use super::error::MintRefused;
use super::issuer::{IssuerFields, IssuerSpec};
use super::issuer_table::{IssuerTable, LoadedIssuer, LoadedRole};
use super::role::{CompiledRole, RoleFields};
use super::target::MintTarget;
use crate::catalog::{Catalog, CatalogRefused, Snapshot};
use crate::duration::HumanDuration;
use crate::signing_keys::{KeyUser, RetentionFloor, SigningKeys};
use crate::storage::{DocumentKind, DocumentRecord, Expected, Stamps, StorageError, Store};
use crate::validation::FieldError;

/// The JWT issuer service of one node.
pub struct JwtIssuers {
    catalog: Catalog<IssuerTable>,
    keys: Arc<SigningKeys>,
    public_url: String,
    site: String,
}

impl JwtIssuers {
    /// An empty service; call `load`.
    pub fn new(
        store: Arc<dyn Store>,
        keys: Arc<SigningKeys>,
        public_url: &str,
        site: &str,
    ) -> JwtIssuers {
        JwtIssuers {
            catalog: Catalog::new(store, DocumentKind::JwtIssuer, IssuerTable::default()),
            keys,
            public_url: public_url.to_owned(),
            site: site.to_owned(),
        }
    }

    /// The issuer table: a lock-free snapshot.
    pub fn table(&self) -> Arc<IssuerTable> {
        self.catalog.snapshot()
    }

    /// Loads every issuer and role from storage.
    pub async fn load(&self) -> Result<(), MintRefused> {
        let _writer = self.catalog.writer().await;
        let mut roles_by_issuer: HashMap<String, HashMap<String, Arc<LoadedRole>>> = HashMap::new();
        self.catalog
            .for_each_stored_of(DocumentKind::Role, |doc| {
                let fields: RoleFields = decode(&doc)?;
                // Stored roles were valid when saved; an issuer cap lowered since is applied at mint.
                let role = CompiledRole::compile(fields, HumanDuration::from_secs(u64::MAX))
                    .map_err(|e| corrupt(&doc, &e))?;
                let loaded = Arc::new(LoadedRole {
                    role,
                    stamps: doc.stamps(),
                });
                roles_by_issuer
                    .entry(doc.parent.clone())
                    .or_default()
                    .insert(loaded.role.name.clone(), loaded);
                Ok(())
            })
            .await?;
        let mut issuers = HashMap::new();
        self.catalog
            .for_each_stored(|doc| {
                let spec = IssuerSpec::from_fields(decode(&doc)?).map_err(|e| corrupt(&doc, &e))?;
                let roles = roles_by_issuer.remove(&spec.name).unwrap_or_default();
                self.register_usage(&spec, stored_floor(&doc));
                let issuer = self.loaded(spec, doc.stamps(), roles);
                issuers.insert(issuer.spec.name.clone(), Arc::new(issuer));
                Ok(())
            })
            .await?;
        // Issuers another node deleted no longer hold their signing keys.
        for gone in self
            .table()
            .sorted()
            .iter()
            .filter(|old| !issuers.contains_key(&old.spec.name))
        {
            self.keys.usage().remove(&usage_id(&gone.spec.name));
        }
        self.catalog.install(IssuerTable::new(issuers));
        Ok(())
    }

    /// Validates an issuer, including that its signing key exists and is not internal.
    pub fn check_issuer(&self, fields: IssuerFields) -> Result<IssuerSpec, MintRefused> {
        let mut errors = Vec::new();
        let key_name = fields.signing_key.clone();
        let spec = IssuerSpec::from_fields(fields)
            .map_err(|e| errors.extend(e))
            .ok();
        if let Some(key) = key_name.filter(|k| {
            !errors.iter().any(|e: &FieldError| e.name == "signing_key") && !k.is_empty()
        }) {
            match self.keys.keyring().get(&key) {
                None => errors.push(FieldError::invalid(
                    "signing_key",
                    format!("no signing key named `{key}`; create it first"),
                )),
                Some(loaded) if loaded.spec.internal => errors.push(FieldError::invalid(
                    "signing_key",
                    format!("`{key}` is Sigil's internal key; create a key for this issuer"),
                )),
                Some(_) => {}
            }
        }
        match spec {
            Some(spec) if errors.is_empty() => Ok(spec),
            _ => Err(CatalogRefused::invalid("jwt issuer", errors).into()),
        }
    }

    /// Checks that `spec` may replace the stored issuer of its name: the signing key is fixed
    /// (tokens already issued must stay verifiable through this issuer's JWKS; rotate the key
    /// instead).
    pub fn check_replacement(&self, spec: &IssuerSpec) -> Result<(), MintRefused> {
        match self.table().get(&spec.name) {
            Some(current) if current.spec.signing_key != spec.signing_key => {
                Err(CatalogRefused::invalid(
                    "jwt issuer",
                    vec![FieldError::invalid(
                        "signing_key",
                        format!(
                            "is `{}` and cannot change: tokens it signed must stay verifiable; rotate the key instead",
                            current.spec.signing_key
                        ),
                    )],
                )
                .into())
            }
            _ => Ok(()),
        }
    }

    /// Creates or replaces an issuer when `expected` holds. Answers it and whether it is new.
    pub async fn save_issuer(
        &self,
        fields: IssuerFields,
        expected: Expected,
    ) -> Result<(Arc<LoadedIssuer>, bool), MintRefused> {
        let spec = self.check_issuer(fields)?;
        let _writer = self.catalog.writer().await;
        self.check_replacement(&spec)?;
        let mut body = serde_json::to_value(spec.to_fields())
            .map_err(|e| MintRefused::Encoding(e.to_string()))?;
        // A lowered max_ttl keeps counting for retention until the tokens minted under the old
        // one expire: stored with the issuer so a restart or another node keeps counting.
        let floor = self.keys.usage().floor_after(
            &usage_id(&spec.name),
            &spec.signing_key,
            spec.max_ttl.as_secs(),
        );
        if let (Some(floor), Some(object)) = (floor, body.as_object_mut()) {
            object.insert(RETENTION_FLOOR.into(), serde_json::json!(floor));
        }
        let written = self
            .save_document(DocumentKind::JwtIssuer, "", &spec.name, body, expected)
            .await?;
        let roles = self
            .table()
            .get(&spec.name)
            .map(|i| i.roles.clone())
            .unwrap_or_default();
        self.register_usage(&spec, floor);
        let issuer = Arc::new(self.loaded(spec, written, roles));
        self.catalog.update(|table| table.with(issuer.clone()));
        Ok((issuer, written.revision == 1))
    }

    /// Deletes an issuer and its roles.
    pub async fn delete_issuer(&self, name: &str, expected: Expected) -> Result<(), MintRefused> {
        let _writer = self.catalog.writer().await;
        self.catalog
            .delete(name, expected, &[DocumentKind::Role])
            .await
            .map_err(|e| issuer_refused(e, name))?;
        self.keys.usage().remove(&usage_id(name));
        Ok(())
    }

    /// Validates a role against its issuer.
    pub fn check_role(
        &self,
        issuer: &str,
        fields: RoleFields,
    ) -> Result<CompiledRole, MintRefused> {
        let loaded = self
            .table()
            .get(issuer)
            .cloned()
            .ok_or_else(|| MintRefused::IssuerNotFound(issuer.to_owned()))?;
        CompiledRole::compile(fields, loaded.spec.max_ttl)
            .map_err(|fields| CatalogRefused::invalid("role", fields).into())
    }

    /// Creates or replaces a role when `expected` holds. Answers it and whether it is new.
    pub async fn save_role(
        &self,
        issuer: &str,
        fields: RoleFields,
        expected: Expected,
    ) -> Result<(Arc<LoadedRole>, bool), MintRefused> {
        let role = self.check_role(issuer, fields)?;
        let _writer = self.catalog.writer().await;
        let body =
            serde_json::to_value(&role.fields).map_err(|e| MintRefused::Encoding(e.to_string()))?;
        let written = self
            .save_document(DocumentKind::Role, issuer, &role.name, body, expected)
            .await?;
        let loaded = Arc::new(LoadedRole {
            role,
            stamps: written,
        });
        let current = self
            .table()
            .get(issuer)
            .cloned()
            .ok_or_else(|| MintRefused::IssuerNotFound(issuer.to_owned()))?;
        let mut roles = current.roles.clone();
        roles.insert(loaded.role.name.clone(), loaded.clone());
        let updated = Arc::new(current.with_roles(roles));
        self.catalog.update(|table| table.with(updated.clone()));
        Ok((loaded, written.revision == 1))
    }

    /// Deletes a role.
    pub async fn delete_role(
        &self,
        issuer: &str,
        role: &str,
        expected: Expected,
    ) -> Result<(), MintRefused> {
        let _writer = self.catalog.writer().await;
        self.catalog
            .store()
            .documents()
            .delete(DocumentKind::Role, issuer, role, expected, &[])
            .await
            .map_err(|e| match e {
                StorageError::NotFound { .. } => MintRefused::RoleNotFound {
                    issuer: issuer.to_owned(),
                    role: role.to_owned(),
                },
                other => refused(other, DocumentKind::Role, role),
            })?;
        if let Some(current) = self.table().get(issuer).cloned() {
            let mut roles = current.roles.clone();
            roles.remove(role);
            let updated = Arc::new(current.with_roles(roles));
            self.catalog.update(|table| table.with(updated.clone()));
        }
        Ok(())
    }

    /// The role to mint with (hot path: two hash lookups on a snapshot).
    pub fn resolve(&self, issuer: &str, role: &str) -> Result<MintTarget, MintRefused> {
        let table = self.catalog.peek();
        let loaded = table
            .get(issuer)
            .filter(|i| i.served_here)
            .ok_or_else(|| MintRefused::IssuerNotFound(issuer.to_owned()))?;
        let role = loaded
            .roles
            .get(role)
            .ok_or_else(|| MintRefused::RoleNotFound {
                issuer: issuer.to_owned(),
                role: role.to_owned(),
            })?;
        Ok(MintTarget {
            issuer: loaded.clone(),
            role: role.clone(),
        })
    }

    async fn save_document(
        &self,
        kind: DocumentKind,
        parent: &str,
        name: &str,
        body: serde_json::Value,
        expected: Expected,
    ) -> Result<Stamps, MintRefused> {
        let record = DocumentRecord::new(kind, parent, name, body);
        self.catalog
            .store()
            .documents()
            .save(&record, expected)
            .await
            .map_err(|e| refused(e, kind, name))
    }

    fn loaded(
        &self,
        spec: IssuerSpec,
        stamps: Stamps,
        roles: HashMap<String, Arc<LoadedRole>>,
    ) -> LoadedIssuer {
        LoadedIssuer {
            iss: spec.iss(&self.public_url),
            served_here: spec.distribute.includes(&self.site),
            spec,
            stamps,
            roles,
        }
    }

    fn register_usage(&self, spec: &IssuerSpec, floor: Option<RetentionFloor>) {
        self.keys.usage().set(
            &usage_id(&spec.name),
            &spec.signing_key,
            KeyUser {
                description: format!("jwt-issuer {}", spec.name),
                max_ttl: spec.max_ttl.as_secs(),
            },
            floor,
        );
    }
}

fn usage_id(issuer: &str) -> String {
    format!("jwt-issuer:{issuer}")
}

/// The member of a stored issuer document holding its [`RetentionFloor`]: bookkeeping, not
/// configuration (no request may set it, and no view shows it).
const RETENTION_FLOOR: &str = "_retention_floor";

fn stored_floor(doc: &DocumentRecord) -> Option<RetentionFloor> {
    doc.body
        .get(RETENTION_FLOOR)
        .and_then(|value| serde_json::from_value(value.clone()).ok())
}

fn decode<T: serde::de::DeserializeOwned>(doc: &DocumentRecord) -> Result<T, CatalogRefused> {
    serde_json::from_value(doc.body.clone())
        .map_err(|e| CatalogRefused::corrupt(doc.kind.as_str(), &doc.name, &e.to_string()))
}

fn corrupt(doc: &DocumentRecord, errors: &[FieldError]) -> CatalogRefused {
    let names: Vec<&str> = errors.iter().map(|e| e.name.as_str()).collect();
    let reason = format!("no longer validates: {}", names.join(", "));
    CatalogRefused::corrupt(doc.kind.as_str(), &doc.name, &reason)
}

fn refused(error: StorageError, kind: DocumentKind, name: &str) -> MintRefused {
    match error {
        StorageError::NotFound { .. } if kind == DocumentKind::JwtIssuer => {
            MintRefused::IssuerNotFound(name.to_owned())
        }
        other => CatalogRefused::from_storage(other, kind.as_str(), name).into(),
    }
}

/// A deleted issuer that is not there is the issuer-not-found fact minting answers with.
fn issuer_refused(error: CatalogRefused, name: &str) -> MintRefused {
    match error {
        CatalogRefused::NotFound { .. } => MintRefused::IssuerNotFound(name.to_owned()),
        other => other.into(),
    }
}
