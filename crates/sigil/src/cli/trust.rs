//! `sigil trust create|list|show|update|delete|refresh`: trusted external issuers.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::body::Body;
use super::output;
use super::resource::{Fields, Resource};
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

impl Fields for TrustFlags {
    fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn body(&self, name: Option<&str>) -> anyhow::Result<Value> {
        Ok(Body::named(name)
            .set("issuer", self.issuer.as_deref())
            .set("jwks_url", self.jwks_url.as_deref())
            .set("discovery_url", self.discovery_url.as_deref())
            .set("leeway", self.leeway.as_deref())
            .set("max_token_age", self.max_token_age.as_deref())
            .list("audiences", &self.audiences)
            .list("roles", &self.roles)
            .set("project", self.project.as_ref().map(|id| json!({"id": id})))
            .set("permissions", self.permissions)
            .set("require_jti", self.require_jti)
            .set("enabled", self.enabled)
            .into_value())
    }
}

/// Runs one trust command.
pub async fn run(command: TrustCommand, args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    let trusted = Resource::with_state(&client, "trusted-issuers");
    let answer = match command {
        TrustCommand::Create { name, fields } => {
            trusted.create(&name, &fields).await?;
            trusted.show(&name).await?
        }
        TrustCommand::List => {
            let list = trusted.list().await?;
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
        TrustCommand::Show { name } => trusted.show(&name).await?,
        TrustCommand::Update { name, fields } => {
            trusted.update(&name, &fields).await?;
            trusted.show(&name).await?
        }
        TrustCommand::Delete { name } => {
            trusted.delete(&name).await?;
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
