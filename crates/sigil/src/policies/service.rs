//! The policy service: validation (name, every rule), storage, and the table swapped
//! atomically so the next request on this node is judged by the new rules.

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use sigil_policy::{Decision, Operation, Policy, PolicyFields, PolicySet, RuleTrace};
use tokio::sync::Mutex;

use crate::catalog::CatalogRefused;
use crate::storage::Stamps;
use crate::storage::{DocumentKind, DocumentRecord, Expected, Pages, Store};
use crate::validation::{FieldError, check_name};

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

/// A policy as loaded.
#[derive(Debug)]
pub struct LoadedPolicy {
    /// The compiled policy.
    pub policy: Policy,
    /// Its fields as stored and shown.
    pub fields: PolicyFields,
    /// Document stamps (revision 0 for `root`).
    pub stamps: Stamps,
    /// Whether it is the built-in `root`.
    pub built_in: bool,
}

/// Every policy, compiled for decisions and kept for listings.
pub struct PolicyTable {
    /// The compiled set.
    pub set: PolicySet,
    items: BTreeMap<String, Arc<LoadedPolicy>>,
}

impl PolicyTable {
    fn new(items: BTreeMap<String, Arc<LoadedPolicy>>) -> PolicyTable {
        let set = PolicySet::new(items.values().map(|p| p.policy.clone()));
        PolicyTable { set, items }
    }

    /// Default deny: whether one of `policies` allows `operation` on `path`.
    pub fn decide(&self, policies: &[String], path: &str, operation: Operation) -> Decision {
        self.set.decide(policies, path, operation)
    }

    /// The decision and every rule consulted, for `explain`.
    pub fn explain(
        &self,
        policies: &[String],
        path: &str,
        operation: Operation,
    ) -> (Decision, Vec<RuleTrace>) {
        self.set.explain(policies, path, operation)
    }

    /// Whether a policy of that name exists.
    pub fn contains(&self, name: &str) -> bool {
        self.items.contains_key(name)
    }

    /// One policy.
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedPolicy>> {
        self.items.get(name)
    }

    /// Every policy, sorted by name.
    pub fn sorted(&self) -> Vec<&Arc<LoadedPolicy>> {
        self.items.values().collect()
    }

    fn with(&self, policy: Arc<LoadedPolicy>) -> PolicyTable {
        let mut items = self.items.clone();
        items.insert(policy.policy.name.clone(), policy);
        PolicyTable::new(items)
    }

    fn without(&self, name: &str) -> PolicyTable {
        let mut items = self.items.clone();
        items.remove(name);
        PolicyTable::new(items)
    }
}

/// The policy service of one node.
pub struct Policies {
    store: Arc<dyn Store>,
    table: ArcSwap<PolicyTable>,
    writer: Mutex<()>,
}

impl Policies {
    /// A service holding only `root`; call `load`.
    pub fn new(store: Arc<dyn Store>) -> Policies {
        Policies {
            store,
            table: ArcSwap::from_pointee(PolicyTable::new(with_root(BTreeMap::new()))),
            writer: Mutex::new(()),
        }
    }

    /// The table (lock-free snapshot).
    pub fn set(&self) -> Arc<PolicyTable> {
        self.table.load_full()
    }

    /// Loads every stored policy.
    pub async fn load(&self) -> Result<(), CatalogRefused> {
        let _writer = self.writer.lock().await;
        let mut items = BTreeMap::new();
        let mut pages = Pages::new(self.store.documents(), DocumentKind::Policy);
        while let Some(page) = pages.next().await? {
            for doc in page {
                let fields: PolicyFields = serde_json::from_value(doc.body.clone())
                    .map_err(|e| CatalogRefused::corrupt("policy", &doc.name, &e.to_string()))?;
                let policy = Policy::from_fields(doc.name.clone(), &fields).map_err(|e| {
                    CatalogRefused::corrupt(
                        "policy",
                        &doc.name,
                        &format!("{} invalid fields", e.len()),
                    )
                })?;
                let stamps = doc.stamps();
                items.insert(
                    doc.name.clone(),
                    Arc::new(LoadedPolicy {
                        policy,
                        fields,
                        stamps,
                        built_in: false,
                    }),
                );
            }
        }
        self.table
            .store(Arc::new(PolicyTable::new(with_root(items))));
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
            Ok(_) => Err(CatalogRefused::invalid("policy", errors).into()),
            Err(more) => {
                errors.extend(
                    more.into_iter()
                        .map(|e| FieldError::new(e.name, e.code, e.reason)),
                );
                Err(CatalogRefused::invalid("policy", errors).into())
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
        let _writer = self.writer.lock().await;
        let record = DocumentRecord::new(
            DocumentKind::Policy,
            "",
            &policy.name,
            serde_json::to_value(&fields)
                .map_err(|e| CatalogRefused::corrupt("policy", &policy.name, &e.to_string()))?,
        );
        let written = self
            .store
            .documents()
            .save(&record, expected)
            .await
            .map_err(|e| CatalogRefused::from_storage(e, "policy", &policy.name))?;
        let loaded = Arc::new(LoadedPolicy {
            policy,
            fields,
            stamps: written,
            built_in: false,
        });
        self.table.rcu(|table| table.with(loaded.clone()));
        Ok((loaded, written.revision == 1))
    }

    /// Deletes a policy.
    pub async fn delete(&self, name: &str, expected: Expected) -> Result<(), PolicyRefused> {
        if name == Policy::ROOT_NAME {
            return Err(PolicyRefused::BuiltIn);
        }
        let _writer = self.writer.lock().await;
        self.store
            .documents()
            .delete(DocumentKind::Policy, "", name, expected, &[])
            .await
            .map_err(|e| CatalogRefused::from_storage(e, "policy", name))?;
        self.table.rcu(|table| table.without(name));
        Ok(())
    }
}

fn with_root(
    mut items: BTreeMap<String, Arc<LoadedPolicy>>,
) -> BTreeMap<String, Arc<LoadedPolicy>> {
    let root = Policy::root();
    let fields = root.to_fields();
    items.insert(
        root.name.clone(),
        Arc::new(LoadedPolicy {
            policy: root,
            fields,
            stamps: Stamps::NONE,
            built_in: true,
        }),
    );
    items
}
