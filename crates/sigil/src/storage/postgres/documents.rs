//! Configuration documents in PostgreSQL: the `documents` table, keyed by `(kind, parent,
//! name)`. Every write holds the documents' advisory lock for its transaction, so its check of
//! `Expected` and its writes see the same state on every node, as `BEGIN IMMEDIATE` gives
//! SQLite; a delete removes the listed child kinds in the same transaction.

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::PgPool;

use super::{DOCUMENTS_LOCK, write_transaction};
use crate::storage::sql::{
    backend, check_expected, column, document_from_row, is_unique_violation,
};
use crate::storage::{DocumentKind, DocumentRecord, DocumentStore, Expected, Stamps, StorageError};

/// `SELECT` of every column `document_from_row` reads; a macro so `concat!` can extend it.
macro_rules! select_documents {
    () => {
        "SELECT parent, name, body, unique_key, revision, created_at, updated_at \
         FROM documents WHERE kind = $1"
    };
}

/// [`DocumentStore`] over the `documents` table.
pub(super) struct PostgresDocumentStore {
    pool: PgPool,
    now: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl PostgresDocumentStore {
    pub(super) fn new(pool: PgPool, now: Arc<dyn Fn() -> i64 + Send + Sync>) -> Self {
        Self { pool, now }
    }
}

#[async_trait]
impl DocumentStore for PostgresDocumentStore {
    async fn list(
        &self,
        kind: DocumentKind,
        parent: Option<&str>,
    ) -> Result<Vec<DocumentRecord>, StorageError> {
        // The columns are `COLLATE "C"`: byte order, as `str`'s `Ord`.
        let query = match parent {
            None => sqlx::query(concat!(select_documents!(), " ORDER BY parent, name"))
                .bind(kind.storage_token()),
            Some(parent) => sqlx::query(concat!(
                select_documents!(),
                " AND parent = $2 ORDER BY name"
            ))
            .bind(kind.storage_token())
            .bind(parent),
        };
        let rows = query
            .fetch_all(&self.pool)
            .await
            .map_err(backend("reading documents"))?;
        rows.iter()
            .map(|row| document_from_row(kind, row))
            .collect()
    }

    async fn list_page(
        &self,
        kind: DocumentKind,
        after: Option<(&str, &str)>,
        limit: usize,
    ) -> Result<Vec<DocumentRecord>, StorageError> {
        let (parent, name) = after.unwrap_or(("", ""));
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // Without `after`, ("", "") sorts before every stored key: names are never empty.
        let rows = sqlx::query(concat!(
            select_documents!(),
            " AND (parent, name) > ($2, $3) ORDER BY parent, name LIMIT $4"
        ))
        .bind(kind.storage_token())
        .bind(parent)
        .bind(name)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend("reading a page of documents"))?;
        rows.iter()
            .map(|row| document_from_row(kind, row))
            .collect()
    }

    async fn get(
        &self,
        kind: DocumentKind,
        parent: &str,
        name: &str,
    ) -> Result<Option<DocumentRecord>, StorageError> {
        let row = sqlx::query(concat!(
            select_documents!(),
            " AND parent = $2 AND name = $3"
        ))
        .bind(kind.storage_token())
        .bind(parent)
        .bind(name)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("reading a document"))?;
        row.map(|row| document_from_row(kind, &row)).transpose()
    }

    async fn save(
        &self,
        record: &DocumentRecord,
        expected: Expected,
    ) -> Result<Stamps, StorageError> {
        let kind = record.kind.as_str();
        let body = serde_json::to_string(&record.body)
            .map_err(|error| StorageError::Backend(format!("serialising JSON: {error}")))?;
        let mut tx = write_transaction(&self.pool, DOCUMENTS_LOCK, "saving a document").await?;

        let stored = sqlx::query(
            "SELECT revision, created_at FROM documents \
             WHERE kind = $1 AND parent = $2 AND name = $3",
        )
        .bind(record.kind.storage_token())
        .bind(&record.parent)
        .bind(&record.name)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend("reading a document"))?
        .map(|row| {
            Ok::<_, StorageError>((
                column::<_, i64>(&row, kind, "revision")?,
                column::<_, i64>(&row, kind, "created_at")?,
            ))
        })
        .transpose()?;
        check_expected(
            kind,
            &record.name,
            expected,
            stored.map(|(revision, _)| revision),
        )?;
        if let Some(value) = &record.unique_key {
            // Named for the error; the unique index is the backstop.
            let holder: Option<String> = sqlx::query_scalar(
                "SELECT name FROM documents WHERE kind = $1 AND unique_key = $2 \
                 AND NOT (parent = $3 AND name = $4)",
            )
            .bind(record.kind.storage_token())
            .bind(value)
            .bind(&record.parent)
            .bind(&record.name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend("reading unique keys"))?;
            if let Some(holder) = holder {
                return Err(StorageError::UniqueKeyTaken {
                    kind,
                    value: value.clone(),
                    holder,
                });
            }
        }
        let written = Stamps::after_write(stored, (self.now)());

        sqlx::query(
            "INSERT INTO documents \
             (kind, parent, name, body, unique_key, revision, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (kind, parent, name) DO UPDATE \
             SET body = excluded.body, unique_key = excluded.unique_key, \
             revision = excluded.revision, updated_at = excluded.updated_at",
        )
        .bind(record.kind.storage_token())
        .bind(&record.parent)
        .bind(&record.name)
        .bind(body)
        .bind(&record.unique_key)
        .bind(written.revision)
        .bind(written.created_at)
        .bind(written.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(|error| match &record.unique_key {
            Some(value) if is_unique_violation(&error) => StorageError::UniqueKeyTaken {
                kind,
                value: value.clone(),
                holder: "another document".into(),
            },
            _ => backend("writing a document")(error),
        })?;

        tx.commit()
            .await
            .map_err(backend("committing a document"))?;
        Ok(written)
    }

    async fn delete(
        &self,
        kind: DocumentKind,
        parent: &str,
        name: &str,
        expected: Expected,
        children: &[DocumentKind],
    ) -> Result<(), StorageError> {
        let mut tx = write_transaction(&self.pool, DOCUMENTS_LOCK, "deleting a document").await?;
        let stored = sqlx::query(
            "SELECT revision FROM documents WHERE kind = $1 AND parent = $2 AND name = $3",
        )
        .bind(kind.storage_token())
        .bind(parent)
        .bind(name)
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend("reading a document"))?
        .map(|row| column::<_, i64>(&row, kind.as_str(), "revision"))
        .transpose()?;
        check_expected(kind.as_str(), name, expected, stored)?;
        // Children belong to a document that was there: `Expected::Any` of a missing one
        // touches nothing.
        if stored.is_none() {
            return Ok(());
        }
        sqlx::query("DELETE FROM documents WHERE kind = $1 AND parent = $2 AND name = $3")
            .bind(kind.storage_token())
            .bind(parent)
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(backend("deleting a document"))?;
        for child in children {
            sqlx::query("DELETE FROM documents WHERE kind = $1 AND parent = $2")
                .bind(child.storage_token())
                .bind(name)
                .execute(&mut *tx)
                .await
                .map_err(backend("deleting child documents"))?;
        }
        tx.commit()
            .await
            .map_err(backend("committing a document deletion"))?;
        Ok(())
    }
}
