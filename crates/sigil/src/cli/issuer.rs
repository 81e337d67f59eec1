//! `sigil issuer create|list|show|update|delete`: named JWT issuers.

use std::path::PathBuf;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::output;
use super::{Client, ClientArgs};

/// JWT issuer commands.
#[derive(Debug, Subcommand)]
pub enum IssuerCommand {
    /// Create an issuer (or send a whole JSON/YAML body with --file).
    Create {
        /// Name.
        name: String,
        #[command(flatten)]
        fields: IssuerFlags,
    },
    /// List issuers.
    List,
    /// Show an issuer's configuration and state.
    Show {
        /// Name.
        name: String,
    },
    /// Change some fields of an issuer.
    Update {
        /// Name.
        name: String,
        #[command(flatten)]
        fields: IssuerFlags,
    },
    /// Delete an issuer and its roles.
    Delete {
        /// Name.
        name: String,
    },
}

/// The fields an issuer command can set.
#[derive(Debug, clap::Args)]
pub struct IssuerFlags {
    /// Signing key name.
    #[arg(long)]
    signing_key: Option<String>,
    /// The `iss` claim (default `<public-url>/jwt/<name>`).
    #[arg(long)]
    issuer: Option<String>,
    /// Default token lifetime, e.g. 1h.
    #[arg(long)]
    default_ttl: Option<String>,
    /// Longest token lifetime, e.g. 1d.
    #[arg(long)]
    max_ttl: Option<String>,
    /// Log every decision of this issuer's requests.
    #[arg(long)]
    verbose_logging: Option<bool>,
    /// Serve only on these sites (repeatable); default all.
    #[arg(long = "site")]
    sites: Vec<String>,
    /// A JSON or YAML file with the whole body instead of flags.
    #[arg(long, conflicts_with_all = ["signing_key", "issuer", "default_ttl", "max_ttl", "verbose_logging", "sites"])]
    file: Option<PathBuf>,
}

impl IssuerFlags {
    fn body(&self, name: Option<&str>) -> Value {
        let mut body = Map::new();
        if let Some(name) = name {
            body.insert("name".into(), json!(name));
        }
        let text = [
            ("signing_key", &self.signing_key),
            ("issuer", &self.issuer),
            ("default_ttl", &self.default_ttl),
            ("max_ttl", &self.max_ttl),
        ];
        for (field, value) in text {
            if let Some(value) = value {
                body.insert(field.into(), json!(value));
            }
        }
        if let Some(verbose) = self.verbose_logging {
            body.insert("verbose_logging".into(), json!(verbose));
        }
        if !self.sites.is_empty() {
            body.insert("distribute".into(), json!({"sites": self.sites}));
        }
        Value::Object(body)
    }
}

/// Runs one issuer command.
pub async fn run(command: IssuerCommand, args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    let state = |name: &str| format!("/v1/state/jwt-issuers/{name}");
    let config = |name: &str| format!("/v1/config/jwt-issuers/{name}");
    let answer = match command {
        IssuerCommand::Create { name, fields } => {
            match &fields.file {
                Some(file) => client.call_file(Method::PUT, &config(&name), file).await?,
                None => {
                    let body = fields.body(Some(&name));
                    client
                        .call(Method::POST, "/v1/config/jwt-issuers", Some(&body))
                        .await?
                }
            };
            client.call(Method::GET, &state(&name), None).await?
        }
        IssuerCommand::List => {
            let list = client
                .call(Method::GET, "/v1/state/jwt-issuers", None)
                .await?;
            let columns = [
                "name",
                "signing_key",
                "effective_issuer",
                "default_ttl",
                "max_ttl",
                "roles",
            ];
            return output::print(&list, args.output, &columns);
        }
        IssuerCommand::Show { name } => client.call(Method::GET, &state(&name), None).await?,
        IssuerCommand::Update { name, fields } => {
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
        IssuerCommand::Delete { name } => {
            client.call(Method::DELETE, &config(&name), None).await?;
            println!("Deleted jwt issuer {name} and its roles.");
            return Ok(());
        }
    };
    output::print(&answer, args.output, &[])
}
