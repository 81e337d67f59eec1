//! The conformance suite on SQLite, plus what only a file-backed SQLite can show: pragmas,
//! file permissions, embedded migrations, destroyed key bytes leaving the file, corruption.

use std::path::{Path, PathBuf};

use serde_json::json;
use tempfile::TempDir;

use super::{MIGRATIONS, SqliteStore};
use crate::storage::conformance::{T0, TestClock, conformance_tests};
use crate::storage::{
    DocumentKind, DocumentRecord, Expected, KeyVersionRecord, SealRecord, SigningKeyRecord,
    StorageError, Store,
};

async fn sqlite_backend(clock: TestClock) -> (SqliteStore, TempDir) {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("sigil.sqlite"))
        .await
        .unwrap()
        .with_clock(move || clock.now());
    (store, directory)
}

conformance_tests!(sqlite_backend);

#[tokio::test]
async fn open_creates_missing_parent_directories() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("data/nested/sigil.sqlite");

    let store = SqliteStore::open(&path).await.unwrap();

    store.ping().await.unwrap();
    assert!(path.is_file());
}

#[cfg(unix)]
#[tokio::test]
async fn new_database_and_directory_are_private_to_the_owner() {
    use std::os::unix::fs::PermissionsExt;
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("data/sigil.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    store.seal().initialise(&seal_record()).await.unwrap();

    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;

    assert_eq!(mode(&directory.path().join("data")), 0o700);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&sibling(&path, "-wal")), 0o600);
}

#[tokio::test]
async fn reopening_keeps_the_data_and_reapplies_no_migration() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("sigil.sqlite");
    let first = SqliteStore::open(&path).await.unwrap();
    first.seal().initialise(&seal_record()).await.unwrap();
    first.pool.close().await;

    let second = SqliteStore::open(&path).await.unwrap();

    assert_eq!(second.seal().load().await.unwrap(), Some(seal_record()));
}

#[tokio::test]
async fn replay_records_survive_a_reopen() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("sigil.sqlite");
    let first = SqliteStore::open(&path).await.unwrap();
    let issuer = "https://idp.example.com";
    assert!(
        first
            .replays()
            .first_use(issuer, "jti-1", T0 + 300, T0)
            .await
            .unwrap()
    );
    first.pool.close().await;

    let second = SqliteStore::open(&path).await.unwrap();

    let replayed = second
        .replays()
        .first_use(issuer, "jti-1", T0 + 300, T0 + 1)
        .await
        .unwrap();
    assert!(!replayed);
}

#[tokio::test]
async fn replay_purge_uses_the_expiry_index() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("sigil.sqlite"))
        .await
        .unwrap();

    // Columns: id, parent, notused, detail.
    let plan: Vec<(i64, i64, i64, String)> =
        sqlx::query_as("EXPLAIN QUERY PLAN DELETE FROM replays WHERE expires_at <= ?")
            .bind(T0)
            .fetch_all(&store.pool)
            .await
            .unwrap();

    // A scan of the whole table would hold the write lock for as long as it is large.
    assert!(
        plan.iter()
            .any(|(_, _, _, detail)| detail.contains("USING COVERING INDEX replays_by_expiry")),
        "{plan:?}"
    );
}

#[tokio::test]
async fn connections_use_wal_full_sync_foreign_keys_and_secure_delete() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("sigil.sqlite"))
        .await
        .unwrap();
    let mut connection = store.pool.acquire().await.unwrap();

    let journal_mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut *connection)
        .await
        .unwrap();
    let mut flags = Vec::new();
    for pragma in [
        "PRAGMA synchronous",
        "PRAGMA foreign_keys",
        "PRAGMA secure_delete",
    ] {
        let value: i64 = sqlx::query_scalar(pragma)
            .fetch_one(&mut *connection)
            .await
            .unwrap();
        flags.push(value);
    }

    assert_eq!(journal_mode, "wal");
    // synchronous: 2 is FULL.
    assert_eq!(flags, [2, 1, 1]);
}

#[test]
fn every_migration_file_is_embedded() {
    crate::storage::sql::assert_every_migration_embedded("sqlite", MIGRATIONS);
}

#[tokio::test]
async fn destroyed_private_key_bytes_leave_the_database_files() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("sigil.sqlite");
    let store = SqliteStore::open(&path).await.unwrap();
    // Larger than a page, so it also spills into overflow pages.
    let secret = pseudo_random_bytes(6000);
    let mut version = key_version(Some(secret.clone()));
    let keys = store.signing_keys();
    keys.save(&key(vec![version.clone()]), Expected::Absent)
        .await
        .unwrap();
    checkpoint(&store).await;
    let before = database_files(&path);
    // Fragments straddling an overflow page boundary are split on disk; the rest must show.
    let present = fragments(&secret)
        .filter(|fragment| contains(&before, fragment))
        .count();
    assert!(
        present >= 370,
        "only {present} of 375 fragments found before destruction"
    );

    version.status = "retired".to_owned();
    version.sealed_private_key = None;
    keys.save(&key(vec![version]), Expected::Revision(1))
        .await
        .unwrap();
    checkpoint(&store).await;

    let after = database_files(&path);
    let left: Vec<&[u8]> = fragments(&secret)
        .filter(|fragment| contains(&after, fragment))
        .collect();
    assert!(left.is_empty(), "{} fragments remain on disk", left.len());
}

#[tokio::test]
async fn corrupt_config_json_is_reported_as_corrupt() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("sigil.sqlite"))
        .await
        .unwrap();
    store
        .signing_keys()
        .save(&key(vec![]), Expected::Absent)
        .await
        .unwrap();
    tamper(
        &store,
        "UPDATE signing_keys SET config = '{\"type\": ' WHERE name = 'primary'",
    )
    .await;

    let got = store.signing_keys().get("primary").await.unwrap_err();
    let listed = store.signing_keys().list().await.unwrap_err();

    for error in [got, listed] {
        assert!(
            matches!(
                &error,
                StorageError::Corrupt { kind: "signing key", reason } if reason.contains("config")
            ),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn version_number_out_of_range_is_reported_as_corrupt() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("sigil.sqlite"))
        .await
        .unwrap();
    store
        .signing_keys()
        .save(&key(vec![key_version(None)]), Expected::Absent)
        .await
        .unwrap();
    tamper(
        &store,
        "UPDATE signing_key_versions SET version = -1 WHERE key_name = 'primary'",
    )
    .await;

    let error = store.signing_keys().get("primary").await.unwrap_err();

    assert!(
        matches!(
            error,
            StorageError::Corrupt {
                kind: "signing key version",
                ..
            }
        ),
        "{error:?}"
    );
}

#[tokio::test]
async fn seal_share_count_out_of_range_is_reported_as_corrupt() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("sigil.sqlite"))
        .await
        .unwrap();
    store.seal().initialise(&seal_record()).await.unwrap();
    tamper(&store, "UPDATE seal SET shares = 256, threshold = 256").await;

    let error = store.seal().load().await.unwrap_err();

    assert!(
        matches!(error, StorageError::Corrupt { kind: "seal", .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn corrupt_document_body_is_reported_as_corrupt() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("sigil.sqlite"))
        .await
        .unwrap();
    store
        .documents()
        .save(&role("reader"), Expected::Absent)
        .await
        .unwrap();
    tamper(
        &store,
        "UPDATE documents SET body = '{\"audiences\": ' WHERE name = 'reader'",
    )
    .await;

    let documents = store.documents();
    let got = documents
        .get(DocumentKind::Role, "alpha", "reader")
        .await
        .unwrap_err();
    let listed = documents.list(DocumentKind::Role, None).await.unwrap_err();

    for error in [got, listed] {
        assert!(
            matches!(
                &error,
                StorageError::Corrupt { kind: "role", reason } if reason.contains("body")
            ),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn document_kinds_are_stored_as_stable_tokens() {
    let directory = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&directory.path().join("sigil.sqlite"))
        .await
        .unwrap();
    for kind in [
        DocumentKind::JwtIssuer,
        DocumentKind::Role,
        DocumentKind::TrustedIssuer,
        DocumentKind::IdentityMapping,
        DocumentKind::Policy,
    ] {
        let mut record = role("same");
        record.kind = kind;
        store
            .documents()
            .save(&record, Expected::Absent)
            .await
            .unwrap();
    }

    let stored: Vec<String> = sqlx::query_scalar("SELECT kind FROM documents ORDER BY kind")
        .fetch_all(&store.pool)
        .await
        .unwrap();

    // Renaming a token orphans every stored document of that kind.
    assert_eq!(
        stored,
        [
            "identity_mapping",
            "jwt_issuer",
            "policy",
            "role",
            "trusted_issuer"
        ]
    );
}

/// Writes what the schema's CHECKs refuse, as disk corruption or a hand edit would.
async fn tamper(store: &SqliteStore, statement: &'static str) {
    let mut connection = store.pool.acquire().await.unwrap();
    for sql in [
        "PRAGMA ignore_check_constraints = ON",
        statement,
        "PRAGMA ignore_check_constraints = OFF",
    ] {
        sqlx::query(sql).execute(&mut *connection).await.unwrap();
    }
}

/// Copies every committed page into the main file and empties the WAL.
async fn checkpoint(store: &SqliteStore) {
    let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&store.pool)
        .await
        .unwrap();
    assert_eq!(busy, 0, "checkpoint was blocked");
}

/// The main file, the WAL and the shared-memory index, as they are on disk.
fn database_files(path: &Path) -> Vec<Vec<u8>> {
    [
        path.to_owned(),
        sibling(path, "-wal"),
        sibling(path, "-shm"),
    ]
    .iter()
    .filter_map(|file| std::fs::read(file).ok())
    .collect()
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

fn fragments(secret: &[u8]) -> impl Iterator<Item = &[u8]> {
    secret.chunks_exact(16)
}

fn contains(files: &[Vec<u8>], fragment: &[u8]) -> bool {
    files.iter().any(|file| {
        file.windows(fragment.len())
            .any(|window| window == fragment)
    })
}

/// Bytes no page header or zeroed page could contain by chance (xorshift64).
fn pseudo_random_bytes(length: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..length)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

fn seal_record() -> SealRecord {
    SealRecord {
        shares: 3,
        threshold: 2,
        wrapped_data_key: vec![7; 60],
        initialised_at: T0,
    }
}

fn key(versions: Vec<KeyVersionRecord>) -> SigningKeyRecord {
    SigningKeyRecord {
        name: "primary".to_owned(),
        config: json!({"type": "ecdsa-p256"}),
        revision: 0,
        created_at: 0,
        updated_at: 0,
        versions,
    }
}

fn role(name: &str) -> DocumentRecord {
    DocumentRecord {
        kind: DocumentKind::Role,
        parent: "alpha".to_owned(),
        name: name.to_owned(),
        body: json!({"audiences": ["https://api.example.com"]}),
        unique_key: None,
        revision: 0,
        created_at: 0,
        updated_at: 0,
    }
}

fn key_version(sealed_private_key: Option<Vec<u8>>) -> KeyVersionRecord {
    KeyVersionRecord {
        version: 1,
        kid: "kid-1".to_owned(),
        status: "retiring".to_owned(),
        created_at: T0,
        activates_at: Some(T0),
        retires_at: Some(T0 + 60),
        public_jwk: json!({
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
        }),
        sealed_private_key,
    }
}
