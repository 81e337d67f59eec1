//! Where the store lives: a SQLite file, or a PostgreSQL database several nodes share, whose
//! URL may hold a password and so never prints whole.

use std::path::PathBuf;

use super::{ConfigInvalid, value};

/// Where the store lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StorageTarget {
    /// A SQLite database file.
    Sqlite(PathBuf),
    /// A PostgreSQL database several nodes may share.
    Postgres {
        /// The libpq-style URL; it may hold a password, so it never prints.
        url: StorageUrl,
        /// A file whose first line is the password.
        password_file: Option<PathBuf>,
    },
}

/// A database URL, which may carry a password: `Debug` shows it without one.
#[derive(Clone, PartialEq, Eq)]
pub struct StorageUrl(String);

impl StorageUrl {
    /// The URL itself, to connect with.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for StorageUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // `scheme://user:password@host...` → `scheme://user:[redacted]@host...`
        let shown = match self.0.split_once("://") {
            Some((scheme, rest)) => match rest.split_once('@') {
                Some((user, host)) => match user.split_once(':') {
                    Some((name, _)) => format!("{scheme}://{name}:[redacted]@{host}"),
                    None => self.0.clone(),
                },
                None => self.0.clone(),
            },
            None => "[unparsed]".to_owned(),
        };
        f.write_str(&shown)
    }
}

impl StorageTarget {
    /// The store `url` names (`sqlite:PATH` or `postgres://...`), with the PostgreSQL password
    /// file when one is given.
    pub fn parse(
        url: &str,
        password_file: Option<PathBuf>,
    ) -> Result<StorageTarget, ConfigInvalid> {
        parse_storage(url, password_file)
    }
}

/// The store `url` names, with the PostgreSQL password file when one is given.
pub(super) fn parse_storage(
    url: &str,
    password_file: Option<PathBuf>,
) -> Result<StorageTarget, ConfigInvalid> {
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        && !path.is_empty()
    {
        if password_file.is_some() {
            return Err(value(
                "storage_password_file",
                "applies to PostgreSQL only; SQLite has no password",
            ));
        }
        return Ok(StorageTarget::Sqlite(PathBuf::from(path)));
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(StorageTarget::Postgres {
            url: StorageUrl(url.to_owned()),
            password_file,
        });
    }
    Err(value(
        "storage",
        "must be sqlite:PATH or postgres://user@host:port/database",
    ))
}
