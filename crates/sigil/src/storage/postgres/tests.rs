//! The conformance suite on a real PostgreSQL, plus what only PostgreSQL shows: embedded
//! migrations, nodes starting together, a password from a file, and URLs never echoed. Each
//! test gets a database of its own in the cluster `SIGIL_TEST_POSTGRES_URL` names (the test
//! command starts a throwaway one); without it these tests fail, they never skip.

use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use serde_json::json;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

use super::{MIGRATIONS, PostgresStore};
use crate::storage::conformance::{TestClock, conformance_tests};
use crate::storage::{DocumentKind, DocumentRecord, Expected, StorageError, Store};

/// The cluster the tests use; its user may create databases.
fn cluster() -> PgConnectOptions {
    let url = std::env::var("SIGIL_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "SIGIL_TEST_POSTGRES_URL is not set: run ./scripts/test, which starts a throwaway \
             PostgreSQL, or name a cluster whose user may create databases"
        )
    });
    PgConnectOptions::from_str(&url).expect("SIGIL_TEST_POSTGRES_URL is a postgres:// URL")
}

/// A database that exists for one test and is dropped after it.
pub(crate) struct TestDatabase {
    name: String,
}

impl TestDatabase {
    /// Creates an empty database with a name no other test process uses.
    pub(crate) async fn create() -> (TestDatabase, PgConnectOptions) {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "sigil_test_{}_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            crate::storage::sql::system_now()
        );
        let mut admin = cluster()
            .connect()
            .await
            .expect("connect to the test cluster");
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
            .execute(&mut admin)
            .await
            .expect("create a test database");
        admin.close().await.ok();
        let options = cluster().database(&name);
        (TestDatabase { name }, options)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside async: a thread of its own with a runtime of its own.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                let mut admin = cluster().connect().await.ok()?;
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"
                )))
                .execute(&mut admin)
                .await
                .ok()
            })
        });
        let _ = dropped.join();
    }
}

async fn postgres_backend(clock: TestClock) -> (PostgresStore, TestDatabase) {
    let (database, options) = TestDatabase::create().await;
    let store = PostgresStore::connect_with(options)
        .await
        .unwrap()
        .with_clock(move || clock.now());
    (store, database)
}

conformance_tests!(postgres_backend);

#[test]
fn every_migration_file_is_embedded() {
    crate::storage::sql::assert_every_migration_embedded("postgres", MIGRATIONS);
}

#[tokio::test]
async fn nodes_starting_together_migrate_once() {
    let (_database, options) = TestDatabase::create().await;

    let starts: Vec<_> = (0..4)
        .map(|_| tokio::spawn(PostgresStore::connect_with(options.clone())))
        .collect();

    for start in starts {
        let store = start.await.unwrap().unwrap();
        assert_eq!(store.change_counter().await.unwrap(), 0);
    }
}

#[tokio::test]
async fn reconnecting_keeps_the_data_and_reapplies_no_migration() {
    let (_database, options) = TestDatabase::create().await;
    let first = PostgresStore::connect_with(options.clone()).await.unwrap();
    first
        .replays()
        .first_use("https://idp", "jti-1", 100, 1)
        .await
        .unwrap();
    first.pool.close().await;

    let second = PostgresStore::connect_with(options).await.unwrap();

    assert!(
        !second
            .replays()
            .first_use("https://idp", "jti-1", 100, 2)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn neither_a_password_file_nor_a_password_in_the_url_is_ever_echoed() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("password");
    std::fs::write(&file, "not-the-password\nsecond line ignored\n").unwrap();
    let url = "postgres://sigil:hunter2-secret@127.0.0.1:1/sigil?sslmode=disable";

    let refused = PostgresStore::connect(url, Some(&file)).await;

    let Err(StorageError::Unavailable(message)) = refused else {
        panic!("a closed port is an unavailable database");
    };
    assert!(!message.contains("hunter2"), "{message}");
    assert!(!message.contains("not-the-password"), "{message}");

    let Err(StorageError::Backend(message)) =
        PostgresStore::connect("postgres://sigil:hunter2-secret@[bad/sigil", None).await
    else {
        panic!("a malformed URL must be refused");
    };
    assert!(!message.contains("hunter2"), "{message}");

    let empty = directory.path().join("empty");
    std::fs::write(&empty, "\n").unwrap();
    let Err(StorageError::Backend(message)) = PostgresStore::connect(url, Some(&empty)).await
    else {
        panic!("an empty password file must be refused before connecting");
    };
    assert!(message.contains("is empty"), "{message}");
}

#[tokio::test]
async fn a_write_through_one_node_notifies_another_within_a_second() {
    let (_database, options) = TestDatabase::create().await;
    let writer = PostgresStore::connect_with(options.clone()).await.unwrap();
    let reader = PostgresStore::connect_with(options).await.unwrap();
    let mut hints = reader
        .change_notifications()
        .expect("PostgreSQL pushes changes");
    // The first hint says the listener is connected (and to look once).
    tokio::time::timeout(Duration::from_secs(5), hints.changed())
        .await
        .expect("the listener connects")
        .unwrap();
    hints.borrow_and_update();

    let record = DocumentRecord::new(DocumentKind::Policy, "", "p", json!({"rules": []}));
    writer
        .documents()
        .save(&record, Expected::Absent)
        .await
        .unwrap();

    tokio::time::timeout(Duration::from_secs(1), hints.changed())
        .await
        .expect("notified within a second")
        .unwrap();
    assert_eq!(reader.change_counter().await.unwrap(), 1);
}

#[tokio::test]
async fn one_node_leads_scheduled_work_and_another_takes_over_when_it_goes() {
    let (_database, options) = TestDatabase::create().await;
    let first = PostgresStore::connect_with(options.clone()).await.unwrap();
    let second = PostgresStore::connect_with(options).await.unwrap();

    assert!(first.lead_scheduled_work().await.unwrap());
    assert!(
        first.lead_scheduled_work().await.unwrap(),
        "a leader keeps leading"
    );
    assert!(!second.lead_scheduled_work().await.unwrap());

    // The node goes: its connections close, and with them the session holding the lease.
    drop(first);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !second.lead_scheduled_work().await.unwrap() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "nobody took over the lease"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_write_cut_off_half_way_leaves_no_partial_rows_and_the_pool_reconnects() {
    use crate::storage::conformance::{key, version};
    let (_database, options) = TestDatabase::create().await;
    let store = std::sync::Arc::new(PostgresStore::connect_with(options.clone()).await.unwrap());
    // Stalls the write once its key row and first version row are in, until the test cuts it.
    let mut admin = options.connect().await.unwrap();
    sqlx::raw_sql(
        "CREATE FUNCTION stall() RETURNS trigger LANGUAGE plpgsql AS \
         $$ BEGIN PERFORM pg_sleep(60); RETURN NULL; END $$; \
         CREATE TRIGGER stall AFTER INSERT ON signing_key_versions FOR EACH ROW \
         WHEN (NEW.version = 2) EXECUTE FUNCTION stall();",
    )
    .execute(&mut admin)
    .await
    .unwrap();
    let record = key(
        "cut",
        vec![
            version(1, "kid-1", "retiring"),
            version(2, "kid-2", "active"),
        ],
    );
    let write = tokio::spawn({
        let (store, record) = (store.clone(), record.clone());
        async move { store.signing_keys().save(&record, Expected::Absent).await }
    });

    // The connection is lost half-way: the backend that holds the write is killed.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let stalled: Option<i32> = sqlx::query_scalar(
            "SELECT pid FROM pg_stat_activity \
             WHERE datname = current_database() AND wait_event = 'PgSleep'",
        )
        .fetch_optional(&mut admin)
        .await
        .unwrap();
        if let Some(pid) = stalled {
            let killed: bool = sqlx::query_scalar("SELECT pg_terminate_backend($1)")
                .bind(pid)
                .fetch_one(&mut admin)
                .await
                .unwrap();
            assert!(killed);
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the write never reached its second version"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let outcome = tokio::time::timeout(Duration::from_secs(10), write)
        .await
        .expect("the cut write answers")
        .unwrap();
    assert!(
        matches!(outcome, Err(StorageError::Unavailable(_))),
        "{outcome:?}"
    );

    let (keys, versions): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM signing_keys), (SELECT count(*) FROM signing_key_versions)",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert_eq!((keys, versions), (0, 0), "no row of the cut write is left");
    assert_eq!(store.signing_keys().get("cut").await.unwrap(), None);

    // The same store writes again, on a fresh connection, without a restart.
    sqlx::raw_sql("DROP TRIGGER stall ON signing_key_versions")
        .execute(&mut admin)
        .await
        .unwrap();
    store
        .signing_keys()
        .save(&record, Expected::Absent)
        .await
        .unwrap();
    let saved = store.signing_keys().get("cut").await.unwrap().unwrap();
    assert_eq!(saved.versions, record.versions);
}

#[tokio::test]
async fn a_sqlite_deployment_copies_into_an_empty_postgres_and_nowhere_else() {
    use crate::storage::migrate::{Copied, copy_store};
    use crate::storage::sqlite::SqliteStore;
    use crate::storage::{KeyVersionRecord, SealRecord, SigningKeyRecord};

    let directory = tempfile::tempdir().unwrap();
    let source = SqliteStore::open(&directory.path().join("sigil.sqlite"))
        .await
        .unwrap();
    let seal = SealRecord {
        shares: 3,
        threshold: 2,
        wrapped_data_key: vec![7; 60],
        initialised_at: 1_000,
    };
    source.seal().initialise(&seal).await.unwrap();
    let version = |number: u32, status: &str| KeyVersionRecord {
        version: number,
        kid: format!("kid-{number}"),
        status: status.to_owned(),
        created_at: 100 + i64::from(number),
        activates_at: Some(100),
        retires_at: None,
        public_jwk: json!({"kty": "EC", "kid": format!("kid-{number}")}),
        sealed_private_key: Some(format!("sealed v{number}").into_bytes()),
    };
    let key = SigningKeyRecord {
        name: "k1".into(),
        config: json!({"type": "ecdsa-p256", "algorithm": "ES256"}),
        revision: 0,
        created_at: 0,
        updated_at: 0,
        versions: vec![version(1, "retiring"), version(2, "active")],
    };
    source
        .signing_keys()
        .save(&key, Expected::Absent)
        .await
        .unwrap();
    for record in [
        DocumentRecord::new(
            DocumentKind::JwtIssuer,
            "",
            "ci",
            json!({"signing_key": "k1"}),
        ),
        DocumentRecord::new(DocumentKind::Role, "ci", "deployer", json!({"ttl": "1h"})),
        DocumentRecord::new(
            DocumentKind::TrustedIssuer,
            "",
            "gh",
            json!({"issuer": "https://gh"}),
        )
        .with_unique_key("https://gh"),
    ] {
        source
            .documents()
            .save(&record, Expected::Absent)
            .await
            .unwrap();
    }
    source
        .replays()
        .first_use("https://gh", "j1", 5_000, 1_000)
        .await
        .unwrap();
    source
        .replays()
        .first_use("https://gh", "old", 1_500, 1_000)
        .await
        .unwrap();
    let (_database, options) = TestDatabase::create().await;
    let target = PostgresStore::connect_with(options).await.unwrap();

    let copied = copy_store(&source, &target, 2_000).await.unwrap();

    assert_eq!(
        copied,
        Copied {
            signing_keys: 1,
            key_versions: 2,
            documents: 3,
            replays: 1,
        }
    );
    assert_eq!(target.seal().load().await.unwrap(), Some(seal));
    let copied_key = target.signing_keys().get("k1").await.unwrap().unwrap();
    assert_eq!(copied_key.versions, key.versions);
    assert!(
        !target
            .replays()
            .first_use("https://gh", "j1", 5_000, 2_000)
            .await
            .unwrap()
    );
    let again = copy_store(&source, &target, 2_000).await.unwrap_err();
    assert!(again.to_string().contains("not empty"), "{again}");
}
