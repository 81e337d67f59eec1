//! `sigil issuer create|list|show|update|delete`: named JWT issuers.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::{Value, json};

use super::body::Body;
use super::output;
use super::resource::{Fields, Resource};
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

impl Fields for IssuerFlags {
    fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn body(&self, name: Option<&str>) -> anyhow::Result<Value> {
        let sites = (!self.sites.is_empty()).then(|| json!({"sites": self.sites}));
        Ok(Body::named(name)
            .set("signing_key", self.signing_key.as_deref())
            .set("issuer", self.issuer.as_deref())
            .set("default_ttl", self.default_ttl.as_deref())
            .set("max_ttl", self.max_ttl.as_deref())
            .set("verbose_logging", self.verbose_logging)
            .set("distribute", sites)
            .into_value())
    }
}

/// Runs one issuer command.
pub async fn run(command: IssuerCommand, args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    let issuers = Resource::with_state(&client, "jwt-issuers");
    let answer = match command {
        IssuerCommand::Create { name, fields } => {
            issuers.create(&name, &fields).await?;
            issuers.show(&name).await?
        }
        IssuerCommand::List => {
            let columns = [
                "name",
                "signing_key",
                "effective_issuer",
                "default_ttl",
                "max_ttl",
                "roles",
            ];
            return output::print(&issuers.list().await?, args.output, &columns);
        }
        IssuerCommand::Show { name } => issuers.show(&name).await?,
        IssuerCommand::Update { name, fields } => {
            issuers.update(&name, &fields).await?;
            issuers.show(&name).await?
        }
        IssuerCommand::Delete { name } => {
            issuers.delete(&name).await?;
            println!("Deleted jwt issuer {name} and its roles.");
            return Ok(());
        }
    };
    output::print(&answer, args.output, &[])
}
