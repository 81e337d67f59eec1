//! The seal in PostgreSQL: one row, written once. `ON CONFLICT DO NOTHING` makes a second
//! `init`, on any node, a clear `AlreadyExists` instead of a replaced data key.

use async_trait::async_trait;
use sqlx::postgres::{PgPool, PgRow};

use crate::storage::sql::{backend, column};
use crate::storage::{SealRecord, SealStore, StorageError};

const KIND: &str = "seal";

/// [`SealStore`] over the `seal` table.
pub(super) struct PostgresSealStore {
    pool: PgPool,
}

impl PostgresSealStore {
    pub(super) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl SealStore for PostgresSealStore {
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
        let inserted = sqlx::query(
            "INSERT INTO seal (id, shares, threshold, wrapped_data_key, initialised_at) \
             VALUES (1, $1, $2, $3, $4) ON CONFLICT (id) DO NOTHING",
        )
        .bind(i16::from(record.shares))
        .bind(i16::from(record.threshold))
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

fn seal_from_row(row: &PgRow) -> Result<SealRecord, StorageError> {
    let count = |name: &str| {
        let stored: i16 = column(row, KIND, name)?;
        u8::try_from(stored).map_err(|_| StorageError::Corrupt {
            kind: KIND,
            reason: format!("`{name}` is {stored}, outside 0..=255"),
        })
    };
    Ok(SealRecord {
        shares: count("shares")?,
        threshold: count("threshold")?,
        wrapped_data_key: column(row, KIND, "wrapped_data_key")?,
        initialised_at: column(row, KIND, "initialised_at")?,
    })
}
