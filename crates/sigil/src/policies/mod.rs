//! Policies: named allow-rules over resource paths and operations, persisted as documents and
//! compiled into the `sigil_policy::PolicySet` every request is judged by. The built-in
//! `root` allows everything and cannot be changed.

mod policy_table;

use std::collections::BTreeMap;
use std::sync::Arc;

use sigil_policy::{Policy, PolicyFields};

use policy_table::with_root;
pub use policy_table::{LoadedPolicy, PolicyTable};

use crate::catalog::{Catalog, CatalogRefused};
use crate::storage::{DocumentKind, Expected, Store};
use crate::validation::{FieldError, check_name};

/// The kind of item, in messages.
const KIND: &str = "policy";

/// Why a policy operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum PolicyRefused {
    /// A refusal every catalog shares (fields, names, revisions, storage).
    #[error(transparent)]
    Catalog(#[from] CatalogRefused),
    /// The built-in `root` policy.
    #[error("policy `root` is built in and cannot be changed")]
    BuiltIn,
}

/// The policy service of one node.
pub struct Policies {
    catalog: Catalog<PolicyTable>,
}

impl Policies {
    /// A service holding only `root`; call `load`.
    pub fn new(store: Arc<dyn Store>) -> Policies {
        let root_only = PolicyTable::new(with_root(BTreeMap::new()));
        Policies {
            catalog: Catalog::new(store, DocumentKind::Policy, root_only),
        }
    }

    /// The table (lock-free snapshot).
    pub fn set(&self) -> Arc<PolicyTable> {
        self.catalog.snapshot()
    }

    /// Loads every stored policy.
    pub async fn load(&self) -> Result<(), CatalogRefused> {
        let _writer = self.catalog.writer().await;
        let mut items = BTreeMap::new();
        self.catalog
            .for_each_stored(|doc| {
                let corrupt = |reason: &str| CatalogRefused::corrupt(KIND, &doc.name, reason);
                let fields: PolicyFields = serde_json::from_value(doc.body.clone())
                    .map_err(|e| corrupt(&e.to_string()))?;
                let policy = Policy::from_fields(doc.name.clone(), &fields)
                    .map_err(|e| corrupt(&format!("{} invalid fields", e.len())))?;
                let loaded = LoadedPolicy {
                    policy,
                    fields,
                    stamps: doc.stamps(),
                    built_in: false,
                };
                items.insert(doc.name, Arc::new(loaded));
                Ok(())
            })
            .await?;
        self.catalog.install(PolicyTable::new(with_root(items)));
        Ok(())
    }

    /// Validates a policy.
    pub fn check(
        &self,
        name: Option<&str>,
        fields: &PolicyFields,
    ) -> Result<Policy, PolicyRefused> {
        let mut errors = Vec::new();
        let name = match name {
            None => {
                errors.push(FieldError::required("name"));
                String::new()
            }
            Some(Policy::ROOT_NAME) => return Err(PolicyRefused::BuiltIn),
            Some(name) => {
                errors.extend(check_name("name", name));
                name.to_owned()
            }
        };
        match Policy::from_fields(name, fields) {
            Ok(policy) if errors.is_empty() => Ok(policy),
            Ok(_) => Err(CatalogRefused::invalid(KIND, errors).into()),
            Err(more) => {
                errors.extend(
                    more.into_iter()
                        .map(|e| FieldError::new(e.name, e.code, e.reason)),
                );
                Err(CatalogRefused::invalid(KIND, errors).into())
            }
        }
    }

    /// Creates or replaces a policy; answers it and whether it is new.
    pub async fn save(
        &self,
        name: Option<&str>,
        fields: PolicyFields,
        expected: Expected,
    ) -> Result<(Arc<LoadedPolicy>, bool), PolicyRefused> {
        let policy = self.check(name, &fields)?;
        let _writer = self.catalog.writer().await;
        let stamps = self
            .catalog
            .save(&policy.name, &fields, None, expected)
            .await?;
        let loaded = Arc::new(LoadedPolicy {
            policy,
            fields,
            stamps,
            built_in: false,
        });
        self.catalog.insert(loaded.clone());
        Ok((loaded, stamps.revision == 1))
    }

    /// Deletes a policy.
    pub async fn delete(&self, name: &str, expected: Expected) -> Result<(), PolicyRefused> {
        if name == Policy::ROOT_NAME {
            return Err(PolicyRefused::BuiltIn);
        }
        let _writer = self.catalog.writer().await;
        Ok(self.catalog.delete(name, expected, &[]).await?)
    }
}
