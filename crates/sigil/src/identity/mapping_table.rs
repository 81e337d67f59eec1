//! The snapshot of identity mappings the hot path reads: by name, and per trusted issuer in
//! name order (the order mappings are tried in).

use std::collections::HashMap;
use std::sync::Arc;

use super::mapping::CompiledMapping;
use crate::catalog::{Named, Snapshot};
use crate::storage::Stamps;

/// A mapping as loaded.
#[derive(Debug)]
pub struct LoadedMapping {
    /// The compiled mapping.
    pub mapping: CompiledMapping,
    /// Document stamps.
    pub stamps: Stamps,
}

/// Every mapping, by name and per trusted issuer (in name order).
#[derive(Debug, Default)]
pub struct MappingTable {
    by_name: HashMap<String, Arc<LoadedMapping>>,
    by_issuer: HashMap<String, Vec<Arc<LoadedMapping>>>,
}

impl MappingTable {
    pub(super) fn new(mappings: Vec<Arc<LoadedMapping>>) -> MappingTable {
        let mut table = MappingTable::default();
        for mapping in mappings {
            table
                .by_name
                .insert(mapping.mapping.name.clone(), mapping.clone());
            table
                .by_issuer
                .entry(mapping.mapping.trusted_issuer.clone())
                .or_default()
                .push(mapping);
        }
        for list in table.by_issuer.values_mut() {
            list.sort_by(|a, b| a.mapping.name.cmp(&b.mapping.name));
        }
        table
    }

    /// The mappings of one trusted issuer, in name order.
    pub fn for_issuer(&self, issuer: &str) -> impl Iterator<Item = &CompiledMapping> {
        self.by_issuer
            .get(issuer)
            .into_iter()
            .flatten()
            .map(|m| &m.mapping)
    }

    /// One mapping.
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedMapping>> {
        self.by_name.get(name)
    }

    /// Every mapping, sorted by name.
    pub fn sorted(&self) -> Vec<&Arc<LoadedMapping>> {
        let mut all: Vec<&Arc<LoadedMapping>> = self.by_name.values().collect();
        all.sort_by(|a, b| a.mapping.name.cmp(&b.mapping.name));
        all
    }
}

impl Snapshot for MappingTable {
    type Item = LoadedMapping;

    fn with(&self, mapping: Arc<LoadedMapping>) -> MappingTable {
        let mut all: Vec<Arc<LoadedMapping>> = self
            .by_name
            .values()
            .filter(|m| m.mapping.name != mapping.mapping.name)
            .cloned()
            .collect();
        all.push(mapping);
        MappingTable::new(all)
    }

    fn without(&self, name: &str) -> MappingTable {
        MappingTable::new(
            self.by_name
                .values()
                .filter(|m| m.mapping.name != name)
                .cloned()
                .collect(),
        )
    }
}

impl Named for LoadedMapping {
    fn name(&self) -> &str {
        &self.mapping.name
    }

    fn revision(&self) -> i64 {
        self.stamps.revision
    }
}
