//! Server configuration: flags, `SIGIL_*` environment variables and an optional TOML file,
//! resolved once into a validated `Config` (flags beat the environment, which beats the file,
//! which beats the defaults). Nothing else in the service reads the environment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::duration::HumanDuration;

mod storage;

pub use storage::{StorageTarget, StorageUrl};

/// `sigil serve` as typed on the command line (or in `SIGIL_*` variables); every value optional.
#[derive(Clone, Debug, Default, clap::Args)]
pub struct ServeArgs {
    /// TOML configuration file; its keys are the long flag names with `_` for `-`.
    #[arg(long, env = "SIGIL_CONFIG")]
    pub config: Option<PathBuf>,
    /// Run a throwaway, initialised and unsealed server in a temporary directory.
    #[arg(long)]
    pub dev: bool,
    /// Address to listen on [default: 127.0.0.1:8420].
    #[arg(long, env = "SIGIL_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Directory for the SQLite database [default: ./sigil-data].
    #[arg(long, env = "SIGIL_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// Base URL clients reach this server at [default: http://<listen>].
    #[arg(long, env = "SIGIL_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Storage URL: `sqlite:PATH`, or `postgres://user@host:port/database?sslmode=verify-full`
    /// for several nodes sharing one deployment [default: sqlite in the data directory].
    /// Put the password in `--storage-password-file`, not in the URL.
    #[arg(long, env = "SIGIL_STORAGE")]
    pub storage: Option<String>,
    /// File whose first line is the PostgreSQL password (it then takes the place of one in the
    /// URL); never logged.
    #[arg(long, env = "SIGIL_STORAGE_PASSWORD_FILE")]
    pub storage_password_file: Option<PathBuf>,
    /// File with unseal key shares, one per line, applied at start (auto-unseal).
    #[arg(long, env = "SIGIL_UNSEAL_KEY_FILE")]
    pub unseal_key_file: Option<PathBuf>,
    /// Largest accepted request body in bytes [default: 1048576].
    #[arg(long, env = "SIGIL_MAX_BODY_BYTES")]
    pub max_body_bytes: Option<usize>,
    /// Largest accepted JWT in bytes, refused before decoding [default: 16384].
    #[arg(long, env = "SIGIL_MAX_TOKEN_BYTES")]
    pub max_token_bytes: Option<usize>,
    /// Lifetime of root tokens from init and generate-root [default: 24h].
    #[arg(long, env = "SIGIL_ROOT_TOKEN_TTL")]
    pub root_token_ttl: Option<HumanDuration>,
    /// Lifetime of JWT-login sessions, never past the external token's `exp` [default: 1h].
    #[arg(long, env = "SIGIL_SESSION_TTL")]
    pub session_ttl: Option<HumanDuration>,
    /// How often the key lifecycle (activation, retirement, scheduled rotation) is checked
    /// [default: 10s].
    #[arg(long, env = "SIGIL_LIFECYCLE_INTERVAL")]
    pub lifecycle_interval: Option<HumanDuration>,
    /// Log format: `pretty` or `json` [default: pretty].
    #[arg(long, env = "SIGIL_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Log filter in `tracing` syntax, e.g. `info,sigil=debug` [default: info].
    #[arg(long, env = "SIGIL_LOG")]
    pub log_filter: Option<String>,
    /// This node's site: it serves the JWT issuers distributed to all or to this site
    /// [default: default].
    #[arg(long, env = "SIGIL_SITE")]
    pub site: Option<String>,
    /// This node's name in logs and `/readyz`, unique among the nodes of a deployment
    /// [default: <hostname>-<listen port>].
    #[arg(long, env = "SIGIL_NODE_ID")]
    pub node_id: Option<String>,
    /// Allow key sources (JWKS, discovery) on private, loopback and link-local addresses.
    /// Dangerous outside tests: it lets issuer URLs reach internal services.
    #[arg(long, env = "SIGIL_ALLOW_PRIVATE_NETWORKS")]
    pub allow_private_networks: bool,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// The validated configuration every other module reads.
#[derive(Clone, Debug)]
pub struct Config {
    /// Socket address to bind.
    pub listen: SocketAddr,
    /// Data directory (SQLite lives here by default).
    pub data_dir: PathBuf,
    /// Public base URL without a trailing slash.
    pub public_url: String,
    /// The store.
    pub storage: StorageTarget,
    /// Auto-unseal shares file.
    pub unseal_key_file: Option<PathBuf>,
    /// Request body limit in bytes (413 above).
    pub max_body_bytes: usize,
    /// JWT size limit in bytes.
    pub max_token_bytes: usize,
    /// Root token lifetime.
    pub root_token_ttl: HumanDuration,
    /// Login session lifetime.
    pub session_ttl: HumanDuration,
    /// Period of the key lifecycle task.
    pub lifecycle_interval: HumanDuration,
    /// Log format.
    pub log_format: LogFormat,
    /// Log filter directives.
    pub log_filter: String,
    /// This node's site.
    pub site: String,
    /// This node's name among the nodes of a deployment.
    pub node_id: String,
    /// Whether `node_id` was derived from the host and port (and follows the bound port).
    pub node_id_derived: bool,
    /// Key sources on private networks are allowed.
    pub allow_private_networks: bool,
    /// Trusted issuers declared in the configuration file (`static: true`).
    pub static_trusted_issuers: Vec<crate::trust::TrustedIssuerFields>,
    /// Whether this is a `--dev` server.
    pub dev: bool,
    /// Whether `public_url` was derived from `listen` (and follows the bound port).
    pub public_url_derived: bool,
}

/// The TOML file: the same keys as the flags; unknown keys are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    data_dir: Option<PathBuf>,
    public_url: Option<String>,
    storage: Option<String>,
    storage_password_file: Option<PathBuf>,
    unseal_key_file: Option<PathBuf>,
    max_body_bytes: Option<usize>,
    max_token_bytes: Option<usize>,
    root_token_ttl: Option<HumanDuration>,
    session_ttl: Option<HumanDuration>,
    lifecycle_interval: Option<HumanDuration>,
    log_format: Option<LogFormat>,
    log_filter: Option<String>,
    site: Option<String>,
    node_id: Option<String>,
    allow_private_networks: Option<bool>,
    #[serde(default)]
    trusted_issuers: Vec<crate::trust::TrustedIssuerFields>,
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigInvalid {
    /// The file could not be read.
    #[error("cannot read config file {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    /// The file is not valid TOML for this schema.
    #[error("config file {path}: {reason}")]
    Malformed { path: PathBuf, reason: String },
    /// A value is out of range or inconsistent.
    #[error("{field}: {reason}")]
    Value { field: &'static str, reason: String },
}

impl Config {
    /// Resolves flags, environment and file into a validated configuration.
    pub fn resolve(args: &ServeArgs) -> Result<Config, ConfigInvalid> {
        let file = match &args.config {
            Some(path) => read_file(path)?,
            None => FileConfig::default(),
        };
        let listen = args
            .listen
            .or(file.listen)
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 8420)));
        let data_dir = args
            .data_dir
            .clone()
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("sigil-data"));
        let given_url = args.public_url.clone().or(file.public_url);
        let public_url_derived = given_url.is_none();
        let public_url = given_url.unwrap_or_else(|| format!("http://{listen}"));
        let public_url = check_public_url(&public_url)?;
        let password_file = args
            .storage_password_file
            .clone()
            .or(file.storage_password_file);
        let storage = match args.storage.clone().or(file.storage) {
            Some(url) => storage::parse_storage(&url, password_file)?,
            None if password_file.is_some() => {
                return Err(value(
                    "storage_password_file",
                    "needs a postgres:// --storage to apply to",
                ));
            }
            None => StorageTarget::Sqlite(data_dir.join("sigil.sqlite")),
        };
        let max_body_bytes = args
            .max_body_bytes
            .or(file.max_body_bytes)
            .unwrap_or(1024 * 1024);
        let max_token_bytes = args
            .max_token_bytes
            .or(file.max_token_bytes)
            .unwrap_or(16 * 1024);
        if !(1024..=64 * 1024 * 1024).contains(&max_body_bytes) {
            return Err(value("max_body_bytes", "must be between 1024 and 67108864"));
        }
        if !(512..=1024 * 1024).contains(&max_token_bytes) {
            return Err(value("max_token_bytes", "must be between 512 and 1048576"));
        }
        let root_token_ttl = args
            .root_token_ttl
            .or(file.root_token_ttl)
            .unwrap_or(HumanDuration::from_secs(24 * 3600));
        if root_token_ttl.as_secs() < 60 {
            return Err(value("root_token_ttl", "must be at least 1m"));
        }
        let session_ttl = args
            .session_ttl
            .or(file.session_ttl)
            .unwrap_or(HumanDuration::from_secs(3600));
        if !(60..=31_536_000).contains(&session_ttl.as_secs()) {
            return Err(value("session_ttl", "must be between 1m and 365d"));
        }
        let lifecycle_interval = args
            .lifecycle_interval
            .or(file.lifecycle_interval)
            .unwrap_or(HumanDuration::from_secs(10));
        if !(1..=3600).contains(&lifecycle_interval.as_secs()) {
            return Err(value("lifecycle_interval", "must be between 1s and 1h"));
        }
        let site = args
            .site
            .clone()
            .or(file.site)
            .unwrap_or_else(|| "default".to_owned());
        if let Some(problem) = crate::validation::check_name("site", &site) {
            return Err(value("site", &problem.reason));
        }
        let given_node_id = args.node_id.clone().or(file.node_id);
        let node_id_derived = given_node_id.is_none();
        let node_id = given_node_id.unwrap_or_else(|| derived_node_id(listen.port()));
        if let Some(problem) = crate::validation::check_name("node_id", &node_id) {
            return Err(value("node_id", &problem.reason));
        }
        Ok(Config {
            site,
            node_id,
            node_id_derived,
            allow_private_networks: args.allow_private_networks
                || file.allow_private_networks.unwrap_or(false),
            static_trusted_issuers: file.trusted_issuers,
            listen,
            data_dir,
            public_url,
            storage,
            unseal_key_file: args.unseal_key_file.clone().or(file.unseal_key_file),
            max_body_bytes,
            max_token_bytes,
            root_token_ttl,
            session_ttl,
            lifecycle_interval,
            log_format: args.log_format.or(file.log_format).unwrap_or_default(),
            log_filter: args
                .log_filter
                .clone()
                .or(file.log_filter)
                .unwrap_or_else(|| "info".to_owned()),
            dev: args.dev,
            public_url_derived,
        })
    }

    /// Records the address actually bound (port 0 picks one); a derived public URL follows it.
    pub fn bound_to(&mut self, address: SocketAddr) {
        self.listen = address;
        if self.public_url_derived {
            self.public_url = format!("http://{address}");
        }
        if self.node_id_derived {
            self.node_id = derived_node_id(address.port());
        }
    }
}

fn read_file(path: &Path) -> Result<FileConfig, ConfigInvalid> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigInvalid::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    toml::from_str(&text).map_err(|e| ConfigInvalid::Malformed {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn check_public_url(url: &str) -> Result<String, ConfigInvalid> {
    let trimmed = url.trim_end_matches('/');
    let rest = trimmed
        .strip_prefix("https://")
        .or_else(|| trimmed.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['?', '#', ' ']) => Ok(trimmed.to_owned()),
        _ => Err(value(
            "public_url",
            "must be an absolute http:// or https:// URL without query or fragment",
        )),
    }
}

/// `<hostname>-<port>`, lower case, with anything but letters, digits and `-` as `-`.
fn derived_node_id(port: u16) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "sigil".to_owned());
    let host: String = host
        .chars()
        .take(48)
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-') => c,
            _ => '-',
        })
        .collect();
    format!("{}-{port}", host.trim_matches('-'))
}

fn value(field: &'static str, reason: &str) -> ConfigInvalid {
    ConfigInvalid::Value {
        field,
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_follow_the_documented_values() {
        let config = Config::resolve(&ServeArgs::default()).unwrap();
        assert_eq!(config.listen.to_string(), "127.0.0.1:8420");
        assert_eq!(config.public_url, "http://127.0.0.1:8420");
        assert_eq!(
            config.storage,
            StorageTarget::Sqlite(PathBuf::from("sigil-data/sigil.sqlite"))
        );
        assert_eq!(config.max_body_bytes, 1024 * 1024);
        assert_eq!(config.max_token_bytes, 16 * 1024);
        assert_eq!(config.root_token_ttl.as_secs(), 86_400);
    }

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sigil.toml");
        std::fs::write(
            &path,
            "listen = \"127.0.0.1:9000\"\npublic_url = \"https://sigil.example.com/\"\nroot_token_ttl = \"2h\"\n",
        )
        .unwrap();
        let args = ServeArgs {
            config: Some(path),
            listen: Some("127.0.0.1:9001".parse().unwrap()),
            ..ServeArgs::default()
        };
        let config = Config::resolve(&args).unwrap();
        assert_eq!(config.listen.port(), 9001);
        assert_eq!(config.public_url, "https://sigil.example.com");
        assert_eq!(config.root_token_ttl.as_secs(), 7_200);
    }

    #[test]
    fn unknown_file_keys_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sigil.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:9000\"\n").unwrap();
        let args = ServeArgs {
            config: Some(path),
            ..ServeArgs::default()
        };
        let err = Config::resolve(&args).unwrap_err().to_string();
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn a_relative_public_url_is_refused() {
        let args = ServeArgs {
            public_url: Some("sigil.example.com".into()),
            ..ServeArgs::default()
        };
        let err = Config::resolve(&args).unwrap_err().to_string();
        assert!(err.starts_with("public_url:"), "{err}");
    }

    #[test]
    fn out_of_range_limits_are_refused() {
        let args = ServeArgs {
            max_token_bytes: Some(10),
            ..ServeArgs::default()
        };
        let err = Config::resolve(&args).unwrap_err().to_string();
        assert!(err.starts_with("max_token_bytes:"), "{err}");
    }

    #[test]
    fn a_postgres_url_selects_postgres_and_never_prints_its_password() {
        let args = ServeArgs {
            storage: Some(
                "postgres://sigil:s3cret@db.internal:5432/sigil?sslmode=verify-full".into(),
            ),
            storage_password_file: Some(PathBuf::from("/run/secrets/db")),
            ..ServeArgs::default()
        };

        let config = Config::resolve(&args).unwrap();

        let StorageTarget::Postgres { url, password_file } = &config.storage else {
            panic!("expected PostgreSQL, got {:?}", config.storage);
        };
        assert_eq!(password_file.as_deref(), Some(Path::new("/run/secrets/db")));
        assert!(url.expose().contains("s3cret"));
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(
            shown.contains("postgres://sigil:[redacted]@db.internal:5432/sigil"),
            "{shown}"
        );
    }

    #[test]
    fn a_password_file_without_postgres_is_refused() {
        for storage in [None, Some("sqlite:/tmp/x.sqlite".to_owned())] {
            let args = ServeArgs {
                storage,
                storage_password_file: Some(PathBuf::from("/run/secrets/db")),
                ..ServeArgs::default()
            };
            let refused = Config::resolve(&args).unwrap_err();
            assert!(
                refused.to_string().starts_with("storage_password_file:"),
                "{refused}"
            );
        }
    }

    #[test]
    fn an_unknown_storage_scheme_names_both_schemes() {
        let args = ServeArgs {
            storage: Some("mysql://x".into()),
            ..ServeArgs::default()
        };
        let refused = Config::resolve(&args).unwrap_err().to_string();
        assert!(
            refused.contains("sqlite:PATH") && refused.contains("postgres://"),
            "{refused}"
        );
    }

    #[test]
    fn the_node_id_defaults_to_the_host_and_port_and_must_be_a_name() {
        let config = Config::resolve(&ServeArgs::default()).unwrap();
        assert!(config.node_id.ends_with("-8420"), "{}", config.node_id);
        assert!(crate::validation::check_name("node_id", &config.node_id).is_none());

        let args = ServeArgs {
            node_id: Some("Node A/1".into()),
            ..ServeArgs::default()
        };
        let refused = Config::resolve(&args).unwrap_err().to_string();
        assert!(refused.starts_with("node_id:"), "{refused}");

        let mut on_any_port = Config::resolve(&ServeArgs {
            listen: Some(SocketAddr::from(([127, 0, 0, 1], 0))),
            ..ServeArgs::default()
        })
        .unwrap();
        on_any_port.bound_to(SocketAddr::from(([127, 0, 0, 1], 40123)));
        assert!(
            on_any_port.node_id.ends_with("-40123"),
            "{}",
            on_any_port.node_id
        );
    }
}
