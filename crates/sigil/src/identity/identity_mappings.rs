//! The identity mappings of one node: validated (aliases resolved, `IssuerUri` turned into the
//! trusted issuer's name, a free-text `Name` slugged), persisted as documents and held in a
//! [`MappingTable`] swapped atomically.

use std::sync::Arc;

use super::mapping::{CompiledMapping, MappingFields, slug};
use super::mapping_table::{LoadedMapping, MappingTable};
use crate::catalog::{Catalog, CatalogRefused};
use crate::storage::{DocumentKind, Expected, Store};
use crate::trust::TrustedIssuers;
use crate::validation::{FieldError, check_name};

/// The kind of item, in messages.
const KIND: &str = "identity mapping";

/// The identity mapping service of one node.
pub struct IdentityMappings {
    catalog: Catalog<MappingTable>,
    trust: Arc<TrustedIssuers>,
}

impl IdentityMappings {
    /// An empty service; call `load`.
    pub fn new(store: Arc<dyn Store>, trust: Arc<TrustedIssuers>) -> IdentityMappings {
        IdentityMappings {
            catalog: Catalog::new(
                store,
                DocumentKind::IdentityMapping,
                MappingTable::default(),
            ),
            trust,
        }
    }

    /// The table (lock-free snapshot).
    pub fn table(&self) -> Arc<MappingTable> {
        self.catalog.snapshot()
    }

    /// Loads every stored mapping.
    pub async fn load(&self) -> Result<(), CatalogRefused> {
        let _writer = self.catalog.writer().await;
        let mut all = Vec::new();
        self.catalog
            .for_each_stored(|doc| {
                let corrupt = |reason: &str| CatalogRefused::corrupt(KIND, &doc.name, reason);
                let fields: MappingFields = serde_json::from_value(doc.body.clone())
                    .map_err(|e| corrupt(&e.to_string()))?;
                let mapping = CompiledMapping::compile(fields)
                    .map_err(|e| corrupt(&format!("{} invalid fields", e.len())))?;
                all.push(Arc::new(LoadedMapping {
                    mapping,
                    stamps: doc.stamps(),
                }));
                Ok(())
            })
            .await?;
        self.catalog.install(MappingTable::new(all));
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
            Ok(_) => Err(CatalogRefused::invalid(KIND, errors)),
            Err(more) => {
                let uri_refused = errors.iter().any(|e| e.name == "issuer_uri");
                for error in more {
                    // An unresolvable issuer_uri already says why trusted_issuer is missing.
                    let explained = uri_refused && error.name == "trusted_issuer";
                    if !explained && !errors.iter().any(|e| e.name == error.name) {
                        errors.push(error);
                    }
                }
                Err(CatalogRefused::invalid(KIND, errors))
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
        let _writer = self.catalog.writer().await;
        let stamps = self
            .catalog
            .save(&mapping.name, &mapping.fields, None, expected)
            .await?;
        let loaded = Arc::new(LoadedMapping { mapping, stamps });
        self.catalog.insert(loaded.clone());
        Ok((loaded, stamps.revision == 1))
    }

    /// Deletes a mapping.
    pub async fn delete(&self, name: &str, expected: Expected) -> Result<(), CatalogRefused> {
        let _writer = self.catalog.writer().await;
        self.catalog.delete(name, expected, &[]).await
    }
}
