//! The PostgreSQL backend, for several nodes serving one deployment: one database every node
//! shares, with embedded migrations. Writes of one aggregate serialise on a transaction-scoped
//! advisory lock, so a check of `Expected` and the writes it guards see one state across nodes;
//! single-statement writes (seal init, token uses) are atomic on their own. The password may
//! come from a file and never appears in a message.

mod documents;
mod replays;
mod seal;
mod signing_keys;

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool, PgPoolOptions};
use sqlx::{Postgres, Transaction};
use tokio::sync::watch;

use self::documents::PostgresDocumentStore;
use self::replays::PostgresReplayStore;
use self::seal::PostgresSealStore;
use self::signing_keys::PostgresSigningKeyStore;
use super::sql::{Migrations, backend, migrator, system_now};
use super::{DocumentStore, ReplayStore, SealStore, SigningKeyStore, StorageError, Store};

/// Advisory lock held by every write of configuration documents.
const DOCUMENTS_LOCK: i64 = 0x5349_4749_4c01;
/// Advisory lock held by every write of signing keys.
const SIGNING_KEYS_LOCK: i64 = 0x5349_4749_4c02;
/// Session advisory lock the node running scheduled work holds while its connection lives.
const SCHEDULER_LOCK: i64 = 0x5349_4749_4c03;

/// Connections per node: writes are rare and serialise on a lock; reads come from memory.
const MAX_CONNECTIONS: u32 = 8;

/// How long a request waits for a connection before the database counts as unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Every migration, embedded in the binary; a test checks that no file is missing here.
const MIGRATIONS: &Migrations = &[(
    1,
    "initial",
    include_str!("../../../migrations/postgres/0001_initial.sql"),
)];

/// The channel the change-counter trigger notifies.
const CHANGES_CHANNEL: &str = "sigil_config_changes";

/// A [`Store`] backed by a PostgreSQL database that several nodes may share.
pub struct PostgresStore {
    pool: PgPool,
    notifications: watch::Receiver<u64>,
    listener: tokio::task::JoinHandle<()>,
    /// The connection holding the scheduler lock, while this node leads.
    leader: tokio::sync::Mutex<Option<PoolConnection<Postgres>>>,
    seal: PostgresSealStore,
    signing_keys: PostgresSigningKeyStore,
    documents: PostgresDocumentStore,
    replays: PostgresReplayStore,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://user@host:port/database?sslmode=verify-full`, the libpq
    /// URL syntax) and applies pending migrations. A password in `password_file` (its first
    /// line) takes the place of one in the URL. Timestamps come from the system clock.
    pub async fn connect(
        url: &str,
        password_file: Option<&Path>,
    ) -> Result<PostgresStore, StorageError> {
        let mut options = PgConnectOptions::from_str(url).map_err(|error| {
            StorageError::Backend(format!("reading the PostgreSQL URL: {}", redacted(&error)))
        })?;
        if let Some(path) = password_file {
            options = options.password(&read_password(path).await?);
        }
        Self::connect_with(options).await
    }

    /// Connects with `options` and applies pending migrations.
    pub async fn connect_with(options: PgConnectOptions) -> Result<PostgresStore, StorageError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_with(options)
            .await
            .map_err(backend("connecting to PostgreSQL"))?;
        // sqlx holds an advisory lock while it migrates: nodes starting together migrate once.
        migrator(MIGRATIONS)
            .run(&pool)
            .await
            .map_err(|error| StorageError::Backend(format!("applying migrations: {error}")))?;
        Ok(Self::from_pool(pool, Arc::new(system_now)))
    }

    /// Replaces the clock that stamps `created_at` and `updated_at` (Unix seconds); for tests.
    pub fn with_clock(self, now: impl Fn() -> i64 + Send + Sync + 'static) -> PostgresStore {
        Self::from_pool(self.pool.clone(), Arc::new(now))
    }

    fn from_pool(pool: PgPool, now: Arc<dyn Fn() -> i64 + Send + Sync>) -> PostgresStore {
        let (hints, notifications) = watch::channel(0);
        PostgresStore {
            leader: tokio::sync::Mutex::new(None),
            notifications,
            listener: tokio::spawn(listen_for_changes(pool.clone(), hints)),
            seal: PostgresSealStore::new(pool.clone()),
            signing_keys: PostgresSigningKeyStore::new(pool.clone(), now.clone()),
            documents: PostgresDocumentStore::new(pool.clone(), now),
            replays: PostgresReplayStore::new(pool.clone()),
            pool,
        }
    }
}

#[async_trait]
impl Store for PostgresStore {
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
        super::sql::column(&row, "change counter", "counter")
    }

    fn change_notifications(&self) -> Option<watch::Receiver<u64>> {
        Some(self.notifications.clone())
    }

    async fn lead_scheduled_work(&self) -> Result<bool, StorageError> {
        let mut leader = self.leader.lock().await;
        if let Some(connection) = leader.as_mut() {
            // Still leading while the session that holds the lock is alive.
            if sqlx::query("SELECT 1")
                .execute(&mut **connection)
                .await
                .is_ok()
            {
                return Ok(true);
            }
            *leader = None;
        }
        let mut connection = self
            .pool
            .acquire()
            .await
            .map_err(backend("taking the scheduler lease"))?;
        let took: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
            .bind(SCHEDULER_LOCK)
            .fetch_one(&mut *connection)
            .await
            .map_err(backend("taking the scheduler lease"))?;
        if took {
            // Held out of the pool for as long as this node leads.
            *leader = Some(connection);
        }
        Ok(took)
    }

    async fn ping(&self) -> Result<(), StorageError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(backend("pinging the database"))?;
        Ok(())
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.listener.abort();
    }
}

/// Listens on the changes channel until the store is dropped, bumping `hints` at every
/// notification and after every reconnection (what was sent meanwhile is lost). A failed
/// connection is retried with backoff; the periodic reconcile covers the gap.
async fn listen_for_changes(pool: PgPool, hints: watch::Sender<u64>) {
    let mut backoff = Duration::from_millis(250);
    loop {
        let listening = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            listener.listen(CHANGES_CHANNEL).await?;
            hints.send_modify(|n| *n = n.wrapping_add(1));
            loop {
                // `None` is a reconnection: what was sent meanwhile is lost, so also "look now".
                let _notification_or_reconnection = listener.try_recv().await?;
                hints.send_modify(|n| *n = n.wrapping_add(1));
                if hints.is_closed() {
                    return Ok::<(), sqlx::Error>(());
                }
            }
        };
        match listening.await {
            Ok(()) | Err(sqlx::Error::PoolClosed) => return,
            Err(error) => {
                tracing::warn!(%error, "listening for configuration changes failed; retrying");
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(Duration::from_secs(10));
    }
}

/// A transaction holding the advisory lock `lock` until it ends: writers of one aggregate run
/// one at a time across every node.
async fn write_transaction(
    pool: &PgPool,
    lock: i64,
    doing: &'static str,
) -> Result<Transaction<'static, Postgres>, StorageError> {
    let mut tx = pool.begin().await.map_err(backend(doing))?;
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(lock)
        .execute(&mut *tx)
        .await
        .map_err(backend(doing))?;
    Ok(tx)
}

/// The first line of `path`, the database password.
async fn read_password(path: &Path) -> Result<String, StorageError> {
    let text = tokio::fs::read_to_string(path).await.map_err(|error| {
        StorageError::Backend(format!(
            "reading the PostgreSQL password file `{}`: {error}",
            path.display()
        ))
    })?;
    match text.lines().next().filter(|line| !line.is_empty()) {
        Some(password) => Ok(password.to_owned()),
        None => Err(StorageError::Backend(format!(
            "the PostgreSQL password file `{}` is empty; put the password on its first line",
            path.display()
        ))),
    }
}

/// A URL parse error without the URL it came from (it may hold a password).
fn redacted(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Configuration(_) => "not a valid postgres:// URL".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
