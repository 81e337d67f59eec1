//! Identity mappings: validated (aliases resolved, `IssuerUri` turned into the trusted
//! issuer's name, a free-text `Name` slugged), persisted as documents, and held per trusted
//! issuer in name order in a table swapped atomically.

use std::collections::HashMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use tokio::sync::Mutex;

use super::mapping::{CompiledMapping, MappingFields, slug};
use crate::catalog::CatalogRefused;
use crate::storage::Stamps;
use crate::storage::{DocumentKind, DocumentRecord, Expected, Pages, Store};
use crate::trust::TrustedIssuers;
use crate::validation::{FieldError, check_name};

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
    fn new(mappings: Vec<Arc<LoadedMapping>>) -> MappingTable {
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

/// The identity mapping service of one node.
pub struct IdentityMappings {
    store: Arc<dyn Store>,
    trust: Arc<TrustedIssuers>,
    table: ArcSwap<MappingTable>,
    writer: Mutex<()>,
}

impl IdentityMappings {
    /// An empty service; call `load`.
    pub fn new(store: Arc<dyn Store>, trust: Arc<TrustedIssuers>) -> IdentityMappings {
        IdentityMappings {
            store,
            trust,
            table: ArcSwap::from_pointee(MappingTable::default()),
            writer: Mutex::new(()),
        }
    }

    /// The table (lock-free snapshot).
    pub fn table(&self) -> Arc<MappingTable> {
        self.table.load_full()
    }

    /// Loads every stored mapping.
    pub async fn load(&self) -> Result<(), CatalogRefused> {
        let _writer = self.writer.lock().await;
        let mut all = Vec::new();
        let mut pages = Pages::new(self.store.documents(), DocumentKind::IdentityMapping);
        while let Some(page) = pages.next().await? {
            for doc in page {
                let fields: MappingFields =
                    serde_json::from_value(doc.body.clone()).map_err(|e| {
                        CatalogRefused::corrupt("identity mapping", &doc.name, &e.to_string())
                    })?;
                let mapping = CompiledMapping::compile(fields).map_err(|e| {
                    CatalogRefused::corrupt(
                        "identity mapping",
                        &doc.name,
                        &format!("{} invalid fields", e.len()),
                    )
                })?;
                all.push(Arc::new(LoadedMapping {
                    mapping,
                    stamps: doc.stamps(),
                }));
            }
        }
        self.table.store(Arc::new(MappingTable::new(all)));
        Ok(())
    }

    /// Validates: slugs a free-text name, resolves `issuer_uri`, requires the issuer to exist.
    pub fn check(&self, mut fields: MappingFields) -> Result<CompiledMapping, CatalogRefused> {
        let mut errors = Vec::new();
        if let Some(name) = fields.name.clone()
            && check_name("name", &name).is_some()
        {
            let derived = slug(&name);
            if check_name("name", &derived).is_none() {
                fields.display_name.get_or_insert(name);
                fields.name = Some(derived);
            }
        }
        if let Some(uri) = fields.issuer_uri.clone() {
            let found = if uri == crate::trust::INTERNAL_ISS {
                Some(crate::trust::INTERNAL_ISSUER.to_owned())
            } else {
                self.trust
                    .registry()
                    .by_iss(&uri)
                    .map(|i| i.spec.name.clone())
            };
            match (found, &fields.trusted_issuer) {
                (None, _) => errors.push(FieldError::invalid(
                    "issuer_uri",
                    format!("no trusted issuer has iss {uri:?}; trust it first"),
                )),
                (Some(found), Some(named)) if &found != named => errors.push(FieldError::invalid(
                    "issuer_uri",
                    format!("is the iss of `{found}`, not of trusted_issuer `{named}`"),
                )),
                (Some(found), _) => fields.trusted_issuer = Some(found),
            }
        } else if let Some(named) = &fields.trusted_issuer
            && self.trust.find(named).is_none()
        {
            errors.push(FieldError::invalid(
                "trusted_issuer",
                format!("no trusted issuer is named `{named}`"),
            ));
        }
        match CompiledMapping::compile(fields) {
            Ok(mapping) if errors.is_empty() => Ok(mapping),
            Ok(_) => Err(CatalogRefused::invalid("identity mapping", errors)),
            Err(more) => {
                let uri_refused = errors.iter().any(|e| e.name == "issuer_uri");
                for error in more {
                    // An unresolvable issuer_uri already says why trusted_issuer is missing.
                    let explained = uri_refused && error.name == "trusted_issuer";
                    if !explained && !errors.iter().any(|e| e.name == error.name) {
                        errors.push(error);
                    }
                }
                Err(CatalogRefused::invalid("identity mapping", errors))
            }
        }
    }

    /// Creates or replaces a mapping; answers it and whether it is new.
    pub async fn save(
        &self,
        fields: MappingFields,
        expected: Expected,
    ) -> Result<(Arc<LoadedMapping>, bool), CatalogRefused> {
        let mapping = self.check(fields)?;
        let _writer = self.writer.lock().await;
        let name = mapping.name.clone();
        let record = DocumentRecord::new(
            DocumentKind::IdentityMapping,
            "",
            &name,
            serde_json::to_value(&mapping.fields)
                .map_err(|e| CatalogRefused::corrupt("identity mapping", &name, &e.to_string()))?,
        );
        let written = self
            .store
            .documents()
            .save(&record, expected)
            .await
            .map_err(|e| CatalogRefused::from_storage(e, "identity mapping", &name))?;
        let loaded = Arc::new(LoadedMapping {
            mapping,
            stamps: written,
        });
        self.table.rcu(|table| table.with(loaded.clone()));
        Ok((loaded, written.revision == 1))
    }

    /// Deletes a mapping.
    pub async fn delete(&self, name: &str, expected: Expected) -> Result<(), CatalogRefused> {
        let _writer = self.writer.lock().await;
        self.store
            .documents()
            .delete(DocumentKind::IdentityMapping, "", name, expected, &[])
            .await
            .map_err(|e| CatalogRefused::from_storage(e, "identity mapping", name))?;
        self.table.rcu(|table| table.without(name));
        Ok(())
    }
}
