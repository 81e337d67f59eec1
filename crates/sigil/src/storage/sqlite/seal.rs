//! The seal record in SQLite: a single row (`id = 1`), written once by init and never updated.

use async_trait::async_trait;
use sqlx::sqlite::{SqlitePool, SqliteRow};

use super::{backend, column};
use crate::storage::{SealRecord, SealStore, StorageError};

const KIND: &str = "seal";

/// [`SealStore`] over the `seal` table.
pub(super) struct SqliteSealStore {
    pool: SqlitePool,
}

impl SqliteSealStore {
    pub(super) fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl SealStore for SqliteSealStore {
    async fn load(&self) -> Result<Option<SealRecord>, StorageError> {
        let row = sqlx::query(
            "SELECT shares, threshold, wrapped_data_key, initialised_at FROM seal WHERE id = 1",
        )
        .fetch_optional(&self.pool)
        .await
        .map_err(backend("reading the seal"))?;
        row.as_ref().map(seal_from_row).transpose()
    }

    async fn initialise(&self, record: &SealRecord) -> Result<(), StorageError> {
        // One statement is atomic on its own: of two racing inits, exactly one inserts.
        let inserted = sqlx::query(
            "INSERT INTO seal (id, shares, threshold, wrapped_data_key, initialised_at) \
             VALUES (1, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
        )
        .bind(i64::from(record.shares))
        .bind(i64::from(record.threshold))
        .bind(record.wrapped_data_key.as_slice())
        .bind(record.initialised_at)
        .execute(&self.pool)
        .await
        .map_err(backend("writing the seal"))?;
        if inserted.rows_affected() == 0 {
            return Err(StorageError::AlreadyExists {
                kind: KIND,
                name: KIND.to_owned(),
            });
        }
        Ok(())
    }
}

fn seal_from_row(row: &SqliteRow) -> Result<SealRecord, StorageError> {
    Ok(SealRecord {
        shares: share_count(row, "shares")?,
        threshold: share_count(row, "threshold")?,
        wrapped_data_key: column(row, KIND, "wrapped_data_key")?,
        initialised_at: column(row, KIND, "initialised_at")?,
    })
}

fn share_count(row: &SqliteRow, name: &str) -> Result<u8, StorageError> {
    let stored: i64 = column(row, KIND, name)?;
    u8::try_from(stored).map_err(|_| StorageError::Corrupt {
        kind: KIND,
        reason: format!("`{name}` is {stored}, outside 0..=255"),
    })
}
