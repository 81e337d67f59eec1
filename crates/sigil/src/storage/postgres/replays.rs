//! Single-use token identifiers in PostgreSQL: one upsert decides a first use atomically for
//! every node (the row lock of `ON CONFLICT DO UPDATE` serialises racing uses of one pair).

use async_trait::async_trait;
use sqlx::postgres::PgPool;

use crate::storage::sql::backend;
use crate::storage::{ReplayStore, StorageError};

/// [`ReplayStore`] over the `replays` table.
pub(super) struct PostgresReplayStore {
    pool: PgPool,
}

impl PostgresReplayStore {
    pub(super) fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl ReplayStore for PostgresReplayStore {
    async fn first_use(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StorageError> {
        // An expired record protects nothing: a new use replaces it. A live one refuses.
        let changed = sqlx::query(
            "INSERT INTO replays (issuer, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE replays.expires_at <= $4",
        )
        .bind(issuer)
        .bind(jti)
        .bind(expires_at)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(backend("recording a token use"))?;
        Ok(changed.rows_affected() == 1)
    }

    async fn purge_expired(&self, now: i64) -> Result<u64, StorageError> {
        let purged = sqlx::query("DELETE FROM replays WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend("purging expired token uses"))?;
        Ok(purged.rows_affected())
    }

    async fn unexpired(&self, now: i64) -> Result<Vec<(String, String, i64)>, StorageError> {
        sqlx::query_as(
            "SELECT issuer, jti, expires_at FROM replays WHERE expires_at > $1 \
             ORDER BY issuer, jti",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(backend("reading token uses"))
    }
}
