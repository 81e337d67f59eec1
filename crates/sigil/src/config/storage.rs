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
pub struct StorageUrl(pub(super) String);

impl StorageUrl {
    /// The URL itself, to connect with.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for StorageUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Some((scheme, rest)) = self.0.split_once("://") else {
            return f.write_str("[unparsed]");
        };
        // `user:password@host...` → `user:[redacted]@host...`
        let rest = match rest.split_once('@') {
            Some((user, host)) if user.contains(':') => {
                let name = user.split(':').next().unwrap_or_default();
                format!("{name}:[redacted]@{host}")
            }
            _ => rest.to_owned(),
        };
        // libpq also takes `?password=...` among the query parameters.
        let shown = match rest.split_once('?') {
            Some((path, query)) => {
                let parameters: Vec<&str> = query
                    .split('&')
                    .map(|pair| match pair.split_once('=') {
                        Some((key, _)) if key.eq_ignore_ascii_case("password") => {
                            "password=[redacted]"
                        }
                        _ => pair,
                    })
                    .collect();
                format!("{path}?{}", parameters.join("&"))
            }
            None => rest,
        };
        write!(f, "{scheme}://{shown}")
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
