//! `sigil trust create|list|show|update|delete|refresh`: trusted external issuers.

use std::path::PathBuf;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::output;
use super::{Client, ClientArgs};

/// Trusted issuer commands.
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Trust an issuer (or send a whole JSON/YAML body with --file).
    Create {
        /// Name.
        name: String,
        #[command(flatten)]
        fields: TrustFlags,
    },
    /// List trusted issuers with their key counts.
    List,
    /// Show an issuer's configuration, keys and fetch state.
    Show {
        /// Name.
        name: String,
    },
    /// Change some fields of an issuer.
    Update {
        /// Name.
        name: String,
        #[command(flatten)]
        fields: TrustFlags,
    },
    /// Stop trusting an issuer.
    Delete {
        /// Name.
        name: String,
    },
    /// Fetch an issuer's keys now and show what was found.
    Refresh {
        /// Name.
        name: String,
    },
}

/// The fields a trust command can set; inline `keys` need `--file`.
#[derive(Debug, clap::Args)]
pub struct TrustFlags {
    /// The exact `iss` of its tokens.
    #[arg(long)]
    issuer: Option<String>,
    /// JWKS URL.
    #[arg(long)]
    jwks_url: Option<String>,
    /// Issuer URL or full `.well-known` discovery URL.
    #[arg(long)]
    discovery_url: Option<String>,
    /// An accepted audience (repeatable).
    #[arg(long = "audience")]
    audiences: Vec<String>,
    /// A role kept from tokens (repeatable; none: all).
    #[arg(long = "role")]
    roles: Vec<String>,
    /// Permission mask ANDed with tokens' `prm`.
    #[arg(long)]
    permissions: Option<u64>,
    /// Project id.
    #[arg(long)]
    project: Option<String>,
    /// Clock skew allowed, e.g. 30s.
    #[arg(long)]
    leeway: Option<String>,
    /// Refuse tokens older than this, e.g. 10m.
    #[arg(long)]
    max_token_age: Option<String>,
    /// Require `jti` (and refuse replays in exchange).
    #[arg(long)]
    require_jti: Option<bool>,
    /// Enable or disable the issuer.
    #[arg(long)]
    enabled: Option<bool>,
    /// A JSON or YAML file with the whole body instead of flags.
    #[arg(long)]
    file: Option<PathBuf>,
}

impl TrustFlags {
    fn body(&self, name: Option<&str>) -> Value {
        let mut body = Map::new();
        if let Some(name) = name {
            body.insert("name".into(), json!(name));
        }
        let text = [
            ("issuer", &self.issuer),
            ("jwks_url", &self.jwks_url),
            ("discovery_url", &self.discovery_url),
            ("leeway", &self.leeway),
            ("max_token_age", &self.max_token_age),
        ];
        for (field, value) in text {
            if let Some(value) = value {
                body.insert(field.into(), json!(value));
            }
        }
        for (field, values) in [("audiences", &self.audiences), ("roles", &self.roles)] {
            if !values.is_empty() {
                body.insert(field.into(), json!(values));
            }
        }
        if let Some(project) = &self.project {
            body.insert("project".into(), json!({"id": project}));
        }
        if let Some(permissions) = self.permissions {
            body.insert("permissions".into(), json!(permissions));
        }
        for (field, value) in [("require_jti", self.require_jti), ("enabled", self.enabled)] {
            if let Some(value) = value {
                body.insert(field.into(), json!(value));
            }
        }
        Value::Object(body)
    }
}

/// Runs one trust command.
pub async fn run(command: TrustCommand, args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    let config = |name: &str| format!("/v1/config/trusted-issuers/{name}");
    let state = |name: &str| format!("/v1/state/trusted-issuers/{name}");
    let answer = match command {
        TrustCommand::Create { name, fields } => {
            match &fields.file {
                Some(file) => client.call_file(Method::PUT, &config(&name), file).await?,
                None => {
                    let body = fields.body(Some(&name));
                    client
                        .call(Method::POST, "/v1/config/trusted-issuers", Some(&body))
                        .await?
                }
            };
            client.call(Method::GET, &state(&name), None).await?
        }
        TrustCommand::List => {
            let list = client
                .call(Method::GET, "/v1/state/trusted-issuers", None)
                .await?;
            let rows: Vec<Value> = list
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| {
                    let mut row = item.clone();
                    let keys = item["known_keys"].as_array().map_or(0, Vec::len);
                    row["keys"] = json!(keys);
                    row
                })
                .collect();
            let columns = [
                "name",
                "issuer",
                "keys",
                "enabled",
                "internal",
                "static",
                "next_refresh_at",
            ];
            return output::print(&Value::Array(rows), args.output, &columns);
        }
        TrustCommand::Show { name } => client.call(Method::GET, &state(&name), None).await?,
        TrustCommand::Update { name, fields } => {
            match &fields.file {
                Some(file) => {
                    client
                        .call_file(Method::PATCH, &config(&name), file)
                        .await?
                }
                None => {
                    let body = fields.body(None);
                    client
                        .call(Method::PATCH, &config(&name), Some(&body))
                        .await?
                }
            };
            client.call(Method::GET, &state(&name), None).await?
        }
        TrustCommand::Delete { name } => {
            client.call(Method::DELETE, &config(&name), None).await?;
            println!("No longer trusting {name}.");
            return Ok(());
        }
        TrustCommand::Refresh { name } => {
            let path = format!("/v1/trusted-issuers/{name}/refresh");
            client.call(Method::POST, &path, None).await?
        }
    };
    output::print(&answer, args.output, &[])
}
