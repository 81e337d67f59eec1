//! A catalog of named configuration items of one document kind (policies, identity mappings,
//! trusted issuers, JWT issuers): the snapshot readers take without waiting, the node-local
//! writer lock, paged loading, and the save and delete that keep store and snapshot in step.
//! Each domain keeps only what is its own: validation, compilation and its snapshot's shape.

mod refused;

use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::Serialize;
use tokio::sync::{Mutex, MutexGuard};

pub use refused::CatalogRefused;

use crate::storage::{DocumentKind, DocumentRecord, Expected, Pages, Stamps, Store};

/// A loaded configuration item: its name and the revision that is its ETag.
pub trait Named {
    /// The item's name, unique in its collection.
    fn name(&self) -> &str;
    /// The stored revision (0 for items that are not stored, such as built-in ones).
    fn revision(&self) -> i64;
}

/// An immutable snapshot of a catalog's items, replaced whole on every change.
pub trait Snapshot: Send + Sync + 'static {
    /// An item as loaded.
    type Item;
    /// This snapshot with `item` added or replaced.
    fn with(&self, item: Arc<Self::Item>) -> Self;
    /// This snapshot without the item `name`.
    fn without(&self, name: &str) -> Self;
}

/// The catalog of one kind of top-level document.
pub struct Catalog<T> {
    store: Arc<dyn Store>,
    kind: DocumentKind,
    snapshot: ArcSwap<T>,
    writer: Mutex<()>,
}

impl<T: Snapshot> Catalog<T> {
    /// A catalog holding `initial` until it is loaded.
    pub fn new(store: Arc<dyn Store>, kind: DocumentKind, initial: T) -> Catalog<T> {
        Catalog {
            store,
            kind,
            snapshot: ArcSwap::from_pointee(initial),
            writer: Mutex::new(()),
        }
    }

    /// The current snapshot (lock-free).
    pub fn snapshot(&self) -> Arc<T> {
        self.snapshot.load_full()
    }

    /// The current snapshot for one short read on the hot path (no reference count taken).
    pub fn peek(&self) -> arc_swap::Guard<Arc<T>> {
        self.snapshot.load()
    }

    /// The node-local writer lock: held across a check and the save it guards.
    pub async fn writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().await
    }

    /// The store (for documents under an item, such as roles under their issuer).
    pub fn store(&self) -> &dyn Store {
        self.store.as_ref()
    }

    /// Visits every stored document of this kind, a page at a time.
    pub async fn for_each_stored(
        &self,
        visit: impl FnMut(DocumentRecord) -> Result<(), CatalogRefused>,
    ) -> Result<(), CatalogRefused> {
        self.for_each_stored_of(self.kind, visit).await
    }

    /// Visits every stored document of `kind` (this kind or one stored under it).
    pub async fn for_each_stored_of(
        &self,
        kind: DocumentKind,
        mut visit: impl FnMut(DocumentRecord) -> Result<(), CatalogRefused>,
    ) -> Result<(), CatalogRefused> {
        let mut pages = Pages::new(self.store.documents(), kind);
        while let Some(page) = pages.next().await? {
            for doc in page {
                visit(doc)?;
            }
        }
        Ok(())
    }

    /// Installs a freshly loaded snapshot.
    pub fn install(&self, snapshot: T) {
        self.snapshot.store(Arc::new(snapshot));
    }

    /// Stores `body` as the document `name` when `expected` holds (the caller holds the
    /// writer lock), with `unique_key` claimed when given. Answers the new stamps.
    pub async fn save(
        &self,
        name: &str,
        body: &impl Serialize,
        unique_key: Option<&str>,
        expected: Expected,
    ) -> Result<Stamps, CatalogRefused> {
        let label = self.kind.as_str();
        let body = serde_json::to_value(body)
            .map_err(|e| CatalogRefused::corrupt(label, name, &e.to_string()))?;
        let mut record = DocumentRecord::new(self.kind, "", name, body);
        if let Some(value) = unique_key {
            record = record.with_unique_key(value);
        }
        self.store
            .documents()
            .save(&record, expected)
            .await
            .map_err(|e| CatalogRefused::from_storage(e, label, name))
    }

    /// Adds or replaces an item in the snapshot, after its save.
    pub fn insert(&self, item: Arc<T::Item>) {
        self.update(|snapshot| snapshot.with(item.clone()));
    }

    /// Replaces the snapshot by `change` of it (retried if another change raced).
    pub fn update(&self, change: impl Fn(&T) -> T) {
        self.snapshot.rcu(|snapshot| change(snapshot));
    }

    /// Deletes the document `name` and the documents of the `children` kinds stored under it
    /// when `expected` holds, then drops it from the snapshot. The caller holds the writer.
    pub async fn delete(
        &self,
        name: &str,
        expected: Expected,
        children: &[DocumentKind],
    ) -> Result<(), CatalogRefused> {
        self.store
            .documents()
            .delete(self.kind, "", name, expected, children)
            .await
            .map_err(|e| CatalogRefused::from_storage(e, self.kind.as_str(), name))?;
        self.snapshot.rcu(|snapshot| snapshot.without(name));
        Ok(())
    }
}
