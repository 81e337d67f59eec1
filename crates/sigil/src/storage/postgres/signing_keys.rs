//! Signing keys in PostgreSQL: `signing_keys` rows plus their `signing_key_versions`. A save
//! replaces the whole version set in one transaction holding the signing keys' advisory lock;
//! reads run in one `REPEATABLE READ` transaction, so a key and its versions come from one
//! snapshot.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use sqlx::postgres::{PgConnection, PgPool};

use super::{SIGNING_KEYS_LOCK, write_transaction};
use crate::storage::sql::{
    backend, check_expected, column, key_from_row, refuse_duplicate_versions, to_json,
    version_from_row,
};
use crate::storage::{
    Expected, KeyVersionRecord, SigningKeyRecord, SigningKeyStore, Stamps, StorageError,
};

const KIND: &str = "signing key";
const VERSION_KIND: &str = "signing key version";

/// `SELECT` of every column `key_from_row` reads; a macro so `concat!` can extend it.
macro_rules! select_keys {
    () => {
        "SELECT name, config, revision, created_at, updated_at FROM signing_keys"
    };
}

/// `SELECT` of every column `version_from_row` reads, plus `key_name`.
macro_rules! select_versions {
    () => {
        "SELECT key_name, version, kid, status, created_at, activates_at, retires_at, \
         public_jwk, sealed_private_key FROM signing_key_versions"
    };
}

/// [`SigningKeyStore`] over the `signing_keys` and `signing_key_versions` tables.
pub(super) struct PostgresSigningKeyStore {
    pool: PgPool,
    now: Arc<dyn Fn() -> i64 + Send + Sync>,
}

impl PostgresSigningKeyStore {
    pub(super) fn new(pool: PgPool, now: Arc<dyn Fn() -> i64 + Send + Sync>) -> Self {
        Self { pool, now }
    }

    async fn snapshot(&self) -> Result<sqlx::Transaction<'static, sqlx::Postgres>, StorageError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(backend("reading signing keys"))?;
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(backend("reading signing keys"))?;
        Ok(tx)
    }
}

#[async_trait]
impl SigningKeyStore for PostgresSigningKeyStore {
    async fn list(&self) -> Result<Vec<SigningKeyRecord>, StorageError> {
        let mut tx = self.snapshot().await?;
        let key_rows = sqlx::query(concat!(select_keys!(), " ORDER BY name"))
            .fetch_all(&mut *tx)
            .await
            .map_err(backend("reading signing keys"))?;
        let version_rows = sqlx::query(concat!(select_versions!(), " ORDER BY key_name, version"))
            .fetch_all(&mut *tx)
            .await
            .map_err(backend("reading signing key versions"))?;
        tx.commit().await.map_err(backend("reading signing keys"))?;

        let mut keys = key_rows
            .iter()
            .map(key_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let positions: HashMap<String, usize> = keys
            .iter()
            .enumerate()
            .map(|(position, key)| (key.name.clone(), position))
            .collect();
        for row in &version_rows {
            let key_name: String = column(row, VERSION_KIND, "key_name")?;
            let position =
                positions
                    .get(&key_name)
                    .copied()
                    .ok_or_else(|| StorageError::Corrupt {
                        kind: VERSION_KIND,
                        reason: format!("version of unknown signing key `{key_name}`"),
                    })?;
            keys[position].versions.push(version_from_row(row)?);
        }
        Ok(keys)
    }

    async fn get(&self, name: &str) -> Result<Option<SigningKeyRecord>, StorageError> {
        let mut tx = self.snapshot().await?;
        let Some(key_row) = sqlx::query(concat!(select_keys!(), " WHERE name = $1"))
            .bind(name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend("reading a signing key"))?
        else {
            return Ok(None);
        };
        let version_rows = sqlx::query(concat!(
            select_versions!(),
            " WHERE key_name = $1 ORDER BY version"
        ))
        .bind(name)
        .fetch_all(&mut *tx)
        .await
        .map_err(backend("reading signing key versions"))?;
        tx.commit()
            .await
            .map_err(backend("reading a signing key"))?;

        let mut key = key_from_row(&key_row)?;
        key.versions = version_rows
            .iter()
            .map(version_from_row)
            .collect::<Result<_, _>>()?;
        Ok(Some(key))
    }

    async fn save(
        &self,
        record: &SigningKeyRecord,
        expected: Expected,
    ) -> Result<Stamps, StorageError> {
        refuse_duplicate_versions(record)?;
        let config = to_json(&record.config)?;
        let mut tx =
            write_transaction(&self.pool, SIGNING_KEYS_LOCK, "saving a signing key").await?;
        let stored = sqlx::query("SELECT revision, created_at FROM signing_keys WHERE name = $1")
            .bind(&record.name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend("reading a signing key"))?
            .map(|row| {
                Ok::<_, StorageError>((
                    column::<_, i64>(&row, KIND, "revision")?,
                    column::<_, i64>(&row, KIND, "created_at")?,
                ))
            })
            .transpose()?;
        check_expected(
            KIND,
            &record.name,
            expected,
            stored.map(|(revision, _)| revision),
        )?;
        let written = Stamps::after_write(stored, (self.now)());

        sqlx::query(
            "INSERT INTO signing_keys (name, config, revision, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET \
             config = excluded.config, revision = excluded.revision, \
             updated_at = excluded.updated_at",
        )
        .bind(&record.name)
        .bind(config)
        .bind(written.revision)
        .bind(written.created_at)
        .bind(written.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(backend("writing a signing key"))?;
        replace_versions(&mut tx, record).await?;

        tx.commit()
            .await
            .map_err(backend("committing a signing key"))?;
        Ok(written)
    }

    async fn delete(&self, name: &str, expected: Expected) -> Result<(), StorageError> {
        let mut tx =
            write_transaction(&self.pool, SIGNING_KEYS_LOCK, "deleting a signing key").await?;
        let stored = sqlx::query("SELECT revision FROM signing_keys WHERE name = $1")
            .bind(name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend("reading a signing key"))?
            .map(|row| column::<_, i64>(&row, KIND, "revision"))
            .transpose()?;
        check_expected(KIND, name, expected, stored)?;
        // Versions go with the key (ON DELETE CASCADE).
        sqlx::query("DELETE FROM signing_keys WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(backend("deleting a signing key"))?;
        tx.commit()
            .await
            .map_err(backend("committing a signing key deletion"))?;
        Ok(())
    }
}

/// Deletes stored versions the record no longer lists, then upserts the ones it does.
/// Deleting first frees the kids of dropped versions before the uniqueness checks.
async fn replace_versions(
    connection: &mut PgConnection,
    record: &SigningKeyRecord,
) -> Result<(), StorageError> {
    let kept: Vec<i64> = record
        .versions
        .iter()
        .map(|v| i64::from(v.version))
        .collect();
    sqlx::query("DELETE FROM signing_key_versions WHERE key_name = $1 AND NOT (version = ANY($2))")
        .bind(&record.name)
        .bind(&kept)
        .execute(&mut *connection)
        .await
        .map_err(backend("deleting signing key versions"))?;
    for version in &record.versions {
        refuse_kid_in_use(connection, &record.name, version).await?;
        sqlx::query(
            "INSERT INTO signing_key_versions (key_name, version, kid, status, created_at, \
             activates_at, retires_at, public_jwk, sealed_private_key) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (key_name, version) DO UPDATE SET \
             kid = excluded.kid, status = excluded.status, created_at = excluded.created_at, \
             activates_at = excluded.activates_at, retires_at = excluded.retires_at, \
             public_jwk = excluded.public_jwk, sealed_private_key = excluded.sealed_private_key",
        )
        .bind(&record.name)
        .bind(i64::from(version.version))
        .bind(&version.kid)
        .bind(&version.status)
        .bind(version.created_at)
        .bind(version.activates_at)
        .bind(version.retires_at)
        .bind(to_json(&version.public_jwk)?)
        .bind(version.sealed_private_key.as_deref())
        .execute(&mut *connection)
        .await
        .map_err(backend("writing a signing key version"))?;
    }
    Ok(())
}

/// Refuses a `kid` held by any other version: the same thumbprint is the same key pair.
async fn refuse_kid_in_use(
    connection: &mut PgConnection,
    name: &str,
    version: &KeyVersionRecord,
) -> Result<(), StorageError> {
    let holder = sqlx::query(
        "SELECT 1 FROM signing_key_versions \
         WHERE kid = $1 AND NOT (key_name = $2 AND version = $3)",
    )
    .bind(&version.kid)
    .bind(name)
    .bind(i64::from(version.version))
    .fetch_optional(&mut *connection)
    .await
    .map_err(backend("checking a kid"))?;
    match holder {
        Some(_) => Err(StorageError::AlreadyExists {
            kind: "kid",
            name: version.kid.clone(),
        }),
        None => Ok(()),
    }
}
