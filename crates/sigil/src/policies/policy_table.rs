//! The snapshot of policies every request is judged by: the compiled `PolicySet` and the
//! policies as stored, with the built-in `root` always present.

use std::collections::BTreeMap;
use std::sync::Arc;

use sigil_policy::{Decision, Operation, Policy, PolicyFields, PolicySet, RuleTrace};

use crate::catalog::{Named, Snapshot};
use crate::storage::Stamps;

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
    pub(super) fn new(items: BTreeMap<String, Arc<LoadedPolicy>>) -> PolicyTable {
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
}

impl Snapshot for PolicyTable {
    type Item = LoadedPolicy;

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

/// `items` with the built-in `root` policy.
pub(super) fn with_root(
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

impl Named for LoadedPolicy {
    fn name(&self) -> &str {
        &self.policy.name
    }

    fn revision(&self) -> i64 {
        self.stamps.revision
    }
}
