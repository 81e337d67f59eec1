//! Walking a kind of document a page at a time, so loading ten thousand issuers never holds
//! every stored body in memory at once.

use super::{DocumentKind, DocumentRecord, DocumentStore, StorageError};

/// Documents per page when loading.
pub const PAGE_SIZE: usize = 256;

/// A cursor over every document of one kind, in (parent, name) order.
pub struct Pages<'a> {
    store: &'a dyn DocumentStore,
    kind: DocumentKind,
    after: Option<(String, String)>,
    done: bool,
}

impl<'a> Pages<'a> {
    /// A cursor at the start.
    pub fn new(store: &'a dyn DocumentStore, kind: DocumentKind) -> Pages<'a> {
        Pages {
            store,
            kind,
            after: None,
            done: false,
        }
    }

    /// The next page, or `None` after the last.
    pub async fn next(&mut self) -> Result<Option<Vec<DocumentRecord>>, StorageError> {
        if self.done {
            return Ok(None);
        }
        let after = self.after.as_ref().map(|(p, n)| (p.as_str(), n.as_str()));
        let page = self.store.list_page(self.kind, after, PAGE_SIZE).await?;
        match page.last() {
            Some(last) if page.len() == PAGE_SIZE => {
                self.after = Some((last.parent.clone(), last.name.clone()));
            }
            _ => self.done = true,
        }
        Ok(if page.is_empty() { None } else { Some(page) })
    }
}
