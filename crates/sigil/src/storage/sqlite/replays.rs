//! Single-use token identifiers in SQLite: the `replays` table, keyed by `(issuer, jti)`.
//! A use is one upsert statement: SQLite runs it under its single write lock, so racing uses
//! of one pair are serialised and only the first changes a row.

use async_trait::async_trait;
use sqlx::sqlite::SqlitePool;

use super::backend;
use crate::storage::{ReplayStore, StorageError};

/// [`ReplayStore`] over the `replays` table.
pub(super) struct SqliteReplayStore {
    pool: SqlitePool,
}

impl SqliteReplayStore {
    pub(super) fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl ReplayStore for SqliteReplayStore {
    async fn first_use(
        &self,
        issuer: &str,
        jti: &str,
        expires_at: i64,
        now: i64,
    ) -> Result<bool, StorageError> {
        // One statement rather than a `BEGIN IMMEDIATE` read-then-write: it is atomic on its
        // own, takes one round trip while holding the write lock, and PostgreSQL runs the same
        // `ON CONFLICT ... DO UPDATE ... WHERE` atomically under READ COMMITTED. A row changes
        // (insert, or replacement of an expired record) exactly when this is a first use; a
        // live record fails the `WHERE` and changes nothing.
        let changed = sqlx::query(
            "INSERT INTO replays (issuer, jti, expires_at) VALUES (?, ?, ?) \
             ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE replays.expires_at <= ?",
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
        let purged = sqlx::query("DELETE FROM replays WHERE expires_at <= ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .map_err(backend("purging expired token uses"))?;
        Ok(purged.rows_affected())
    }

    async fn unexpired(&self, now: i64) -> Result<Vec<(String, String, i64)>, StorageError> {
        sqlx::query_as(
            "SELECT issuer, jti, expires_at FROM replays WHERE expires_at > ? \
             ORDER BY issuer, jti",
        )
        .bind(now)
        .fetch_all(&self.pool)
        .await
        .map_err(backend("reading token uses"))
    }
}
