//! What the SQL backends (SQLite, PostgreSQL) share, so both judge and report alike: the check
//! of `Expected` against a stored revision, the refusal of duplicate version numbers, failure
//! mapping that never echoes bound values, column decoding, and the system clock.

use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{ColumnIndex, Decode, Row, SqlSafeStr, Type};

use super::{
    DocumentKind, DocumentRecord, Expected, KeyVersionRecord, SigningKeyRecord, StorageError,
};

/// Checks `expected` against the stored revision (`None`: no such item).
pub(super) fn check_expected(
    kind: &'static str,
    name: &str,
    expected: Expected,
    stored: Option<i64>,
) -> Result<(), StorageError> {
    match (expected, stored) {
        (Expected::Absent, Some(_)) => Err(StorageError::AlreadyExists {
            kind,
            name: name.to_owned(),
        }),
        (Expected::Revision(_) | Expected::Present, None) => Err(StorageError::NotFound {
            kind,
            name: name.to_owned(),
        }),
        (Expected::Revision(expected), Some(actual)) if expected != actual => {
            Err(StorageError::RevisionMismatch {
                kind,
                name: name.to_owned(),
                expected,
                actual,
            })
        }
        _ => Ok(()),
    }
}

/// Two entries with one version number would silently collapse into one row.
pub(super) fn refuse_duplicate_versions(record: &SigningKeyRecord) -> Result<(), StorageError> {
    for (position, version) in record.versions.iter().enumerate() {
        if record.versions[..position]
            .iter()
            .any(|earlier| earlier.version == version.version)
        {
            return Err(StorageError::AlreadyExists {
                kind: "signing key version",
                name: format!("{} version {}", record.name, version.version),
            });
        }
    }
    Ok(())
}

/// Maps a sqlx failure to `Unavailable` when the database cannot be reached, else `Backend`,
/// naming what was being done. sqlx's messages carry the database's text and never the bound
/// values, so no secret reaches the message.
pub(super) fn backend(doing: &'static str) -> impl FnOnce(sqlx::Error) -> StorageError {
    move |error| {
        let message = format!("{doing}: {error}");
        if is_unreachable(&error) {
            StorageError::Unavailable(message)
        } else {
            StorageError::Backend(message)
        }
    }
}

/// Whether a failure means the database cannot be reached now, as opposed to refusing the
/// statement: no connection, a lost one, or a server shutting down or starting up.
fn is_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            // SQLSTATE class 08: connection exception; 57P01-57P03: admin shutdown, crash
            // shutdown, cannot connect now.
            code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03")
        }),
        _ => false,
    }
}

/// Whether a failure is a unique constraint refusing a write.
pub(super) fn is_unique_violation(error: &sqlx::Error) -> bool {
    error
        .as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

/// Reads one column; a value that does not decode is corruption, not a backend failure.
pub(super) fn column<'r, R, T>(
    row: &'r R,
    kind: &'static str,
    name: &str,
) -> Result<T, StorageError>
where
    R: Row,
    T: Decode<'r, R::Database> + Type<R::Database>,
    for<'n> &'n str: ColumnIndex<R>,
{
    row.try_get(name).map_err(|error| StorageError::Corrupt {
        kind,
        reason: error.to_string(),
    })
}

/// Reads a JSON text column into a value.
pub(super) fn json_column<R>(
    row: &R,
    kind: &'static str,
    name: &str,
) -> Result<serde_json::Value, StorageError>
where
    R: Row,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'n> &'n str: ColumnIndex<R>,
{
    let text: String = column(row, kind, name)?;
    serde_json::from_str(&text).map_err(|error| StorageError::Corrupt {
        kind,
        reason: format!("column `{name}` is not JSON: {error}"),
    })
}

/// A row of `select_documents!`; `kind` is the one the query filtered on.
pub(super) fn document_from_row<R>(
    kind: DocumentKind,
    row: &R,
) -> Result<DocumentRecord, StorageError>
where
    R: Row,
    for<'n> &'n str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let label = kind.as_str();
    Ok(DocumentRecord {
        kind,
        parent: column(row, label, "parent")?,
        name: column(row, label, "name")?,
        body: json_column(row, label, "body")?,
        unique_key: column(row, label, "unique_key")?,
        revision: column(row, label, "revision")?,
        created_at: column(row, label, "created_at")?,
        updated_at: column(row, label, "updated_at")?,
    })
}

/// A `signing_keys` row, without its versions.
pub(super) fn key_from_row<R>(row: &R) -> Result<SigningKeyRecord, StorageError>
where
    R: Row,
    for<'n> &'n str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(SigningKeyRecord {
        name: column(row, "signing key", "name")?,
        config: json_column(row, "signing key", "config")?,
        revision: column(row, "signing key", "revision")?,
        created_at: column(row, "signing key", "created_at")?,
        updated_at: column(row, "signing key", "updated_at")?,
        versions: Vec::new(),
    })
}

/// A `signing_key_versions` row.
pub(super) fn version_from_row<R>(row: &R) -> Result<KeyVersionRecord, StorageError>
where
    R: Row,
    for<'n> &'n str: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
{
    let number: i64 = column(row, "signing key version", "version")?;
    Ok(KeyVersionRecord {
        version: u32::try_from(number).map_err(|_| StorageError::Corrupt {
            kind: "signing key version",
            reason: format!("version number {number} is outside 0..=4294967295"),
        })?,
        kid: column(row, "signing key version", "kid")?,
        status: column(row, "signing key version", "status")?,
        created_at: column(row, "signing key version", "created_at")?,
        activates_at: column(row, "signing key version", "activates_at")?,
        retires_at: column(row, "signing key version", "retires_at")?,
        public_jwk: json_column(row, "signing key version", "public_jwk")?,
        sealed_private_key: column(row, "signing key version", "sealed_private_key")?,
    })
}

/// A JSON value as the text a column holds.
pub(super) fn to_json(value: &serde_json::Value) -> Result<String, StorageError> {
    serde_json::to_string(value)
        .map_err(|error| StorageError::Backend(format!("serialising JSON: {error}")))
}

/// Unix seconds now; a host clock before 1970 is broken, and 0 keeps the store working.
pub(super) fn system_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        })
}

/// Migrations embedded in the binary: `(version, description, SQL)`, named as
/// `sqlx::migrate!` would derive them from the files.
pub(super) type Migrations = [(i64, &'static str, &'static str)];

/// A migrator over embedded migrations.
pub(super) fn migrator(migrations: &'static Migrations) -> Migrator {
    let migrations = migrations
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(
                version,
                description.into(),
                MigrationType::Simple,
                sql.into_sql_str(),
                false,
            )
        })
        .collect();
    Migrator::with_migrations(migrations)
}

/// Asserts that `migrations` are exactly the files of `migrations/<folder>`.
#[cfg(test)]
pub(super) fn assert_every_migration_embedded(folder: &str, migrations: &Migrations) {
    let directory = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(folder);
    let mut on_disk: Vec<(i64, String, String)> = std::fs::read_dir(&directory)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            let stem = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let (version, description) = stem.split_once('_').unwrap();
            let sql = std::fs::read_to_string(&path).unwrap();
            (version.parse().unwrap(), description.replace('_', " "), sql)
        })
        .collect();
    on_disk.sort();
    let embedded: Vec<(i64, String, String)> = migrations
        .iter()
        .map(|&(version, description, sql)| (version, description.to_owned(), sql.to_owned()))
        .collect();
    assert_eq!(embedded, on_disk);
}
