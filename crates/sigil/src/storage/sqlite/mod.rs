//! The SQLite backend: one WAL-mode database file, created owner-only, with embedded migrations.
//! Every check-then-write runs in a `BEGIN IMMEDIATE` transaction, so its check of `Expected`
//! and its writes see the same state: two racing read-modify-write saves cannot both succeed.
//! Single-statement writes (seal init, token uses) are atomic on their own.

mod documents;
mod replays;
mod seal;
mod signing_keys;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use self::documents::SqliteDocumentStore;
use self::replays::SqliteReplayStore;
use self::seal::SqliteSealStore;
use self::signing_keys::SqliteSigningKeyStore;
use super::sql::{
    Migrations, backend, check_expected, column, is_unique_violation, migrator, system_now,
};
use super::{DocumentStore, ReplayStore, SealStore, SigningKeyStore, StorageError, Store};

/// How long a write waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// WAL lets readers run beside the one writer; more connections would only queue on its lock.
const MAX_CONNECTIONS: u32 = 4;

/// Every migration, embedded in the binary. Versions and descriptions follow the file names,
/// as `sqlx::migrate!` would derive them; a test checks that no file is missing here.
const MIGRATIONS: &Migrations = &[
    (
        1,
        "initial",
        include_str!("../../../migrations/sqlite/0001_initial.sql"),
    ),
    (
        2,
        "documents",
        include_str!("../../../migrations/sqlite/0002_documents.sql"),
    ),
    (
        3,
        "replays",
        include_str!("../../../migrations/sqlite/0003_replays.sql"),
    ),
    (
        4,
        "changes",
        include_str!("../../../migrations/sqlite/0004_changes.sql"),
    ),
    (
        5,
        "unique keys",
        include_str!("../../../migrations/sqlite/0005_unique_keys.sql"),
    ),
];

/// A [`Store`] backed by one SQLite database file.
pub struct SqliteStore {
    pool: SqlitePool,
    seal: SqliteSealStore,
    signing_keys: SqliteSigningKeyStore,
    documents: SqliteDocumentStore,
    replays: SqliteReplayStore,
}

impl SqliteStore {
    /// Opens (creating if needed, with its parent directories) the database at `path` and
    /// applies pending migrations. Timestamps come from the system clock.
    ///
    /// A new file and new directories are owner-only (0600 / 0700 on Unix): the file holds the
    /// wrapped data key and sealed private keys. Connections run in WAL mode with
    /// `synchronous=FULL`, foreign keys on and `secure_delete` on, so a destroyed private key
    /// is overwritten with zeros rather than left in free pages.
    pub async fn open(path: &Path) -> Result<SqliteStore, StorageError> {
        create_database_file(path).await?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL rather than NORMAL, which WAL would allow: NORMAL can lose the last commits on
            // power loss. Sigil acknowledges a seal init, a rotated key or a used jti only once
            // it is durable, and tokens may already be signed by a key just written. Writes
            // are rare, so the fsync is cheap.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT)
            .pragma("secure_delete", "ON")
            // Configuration is read once into memory and written rarely: 1 MiB of page cache
            // per connection instead of SQLite's 2 MiB default keeps a large deployment small.
            .pragma("cache_size", "-1024");
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await
            .map_err(backend("opening the database"))?;
        migrator(MIGRATIONS)
            .run(&pool)
            .await
            .map_err(|error| StorageError::Backend(format!("applying migrations: {error}")))?;
        Ok(Self::from_pool(pool, Arc::new(system_now)))
    }

    /// Replaces the clock that stamps `created_at` and `updated_at` (Unix seconds); for tests.
    pub fn with_clock(self, now: impl Fn() -> i64 + Send + Sync + 'static) -> SqliteStore {
        Self::from_pool(self.pool, Arc::new(now))
    }

    fn from_pool(pool: SqlitePool, now: Arc<dyn Fn() -> i64 + Send + Sync>) -> SqliteStore {
        SqliteStore {
            seal: SqliteSealStore::new(pool.clone()),
            signing_keys: SqliteSigningKeyStore::new(pool.clone(), now.clone()),
            documents: SqliteDocumentStore::new(pool.clone(), now),
            replays: SqliteReplayStore::new(pool.clone()),
            pool,
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn seal(&self) -> &dyn SealStore {
        &self.seal
    }

    fn signing_keys(&self) -> &dyn SigningKeyStore {
        &self.signing_keys
    }

    fn documents(&self) -> &dyn DocumentStore {
        &self.documents
    }

    fn replays(&self) -> &dyn ReplayStore {
        &self.replays
    }

    async fn change_counter(&self) -> Result<i64, StorageError> {
        let row = sqlx::query("SELECT counter FROM config_changes WHERE id = 1")
            .fetch_one(&self.pool)
            .await
            .map_err(backend("reading the change counter"))?;
        column(&row, "change counter", "counter")
    }

    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend("pinging the database"))?;
        Ok(())
    }
}

/// Creates missing parent directories (0700) and an empty database file (0600). SQLite gives
/// its `-wal` and `-shm` files the main file's permissions, so they stay private too.
async fn create_database_file(path: &Path) -> Result<(), StorageError> {
    if let Some(parent) = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
    {
        let mut directories = tokio::fs::DirBuilder::new();
        directories.recursive(true);
        #[cfg(unix)]
        directories.mode(0o700);
        directories.create(parent).await.map_err(|error| {
            StorageError::Backend(format!("creating `{}`: {error}", parent.display()))
        })?;
    }
    let mut file = tokio::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    file.mode(0o600);
    match file.open(path).await {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StorageError::Backend(format!(
            "creating `{}`: {error}",
            path.display()
        ))),
    }
}

#[cfg(test)]
mod tests;
