//! `sigil mapping create|list|show|update|delete`: identity mappings, from flags or a file.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::Value;

use super::body::Body;
use super::output;
use super::resource::{Fields, Resource};
use super::{Client, ClientArgs};

/// Identity mapping commands.
#[derive(Debug, Subcommand)]
pub enum MappingCommand {
    /// Create a mapping.
    Create {
        /// Name.
        name: String,
        #[command(flatten)]
        fields: MappingFlags,
    },
    /// List mappings.
    List,
    /// Show a mapping.
    Show {
        /// Name.
        name: String,
    },
    /// Change some fields of a mapping.
    Update {
        /// Name.
        name: String,
        #[command(flatten)]
        fields: MappingFlags,
    },
    /// Delete a mapping.
    Delete {
        /// Name.
        name: String,
    },
}

/// The fields a mapping command can set.
#[derive(Debug, clap::Args)]
pub struct MappingFlags {
    /// Trusted issuer whose tokens it maps.
    #[arg(long)]
    trusted_issuer: Option<String>,
    /// Claim that must equal --purpose-match.
    #[arg(long)]
    purpose_claim: Option<String>,
    /// Required value of the purpose claim.
    #[arg(long)]
    purpose_match: Option<String>,
    /// Claim (or JSON Pointer) holding the identity; default sub.
    #[arg(long)]
    id_claim: Option<String>,
    /// Regex over the whole id claim; its first group is the identity.
    #[arg(long)]
    id_match: Option<String>,
    /// A fixed identity instead of the captured one.
    #[arg(long)]
    grantee: Option<String>,
    /// A policy the identity gets (repeatable).
    #[arg(long = "policy")]
    policies: Vec<String>,
    /// A JSON or YAML file with the whole body instead of flags.
    #[arg(long)]
    file: Option<PathBuf>,
}

impl Fields for MappingFlags {
    fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn body(&self, name: Option<&str>) -> anyhow::Result<Value> {
        Ok(Body::named(name)
            .set("trusted_issuer", self.trusted_issuer.as_deref())
            .set("purpose_claim", self.purpose_claim.as_deref())
            .set("purpose_match", self.purpose_match.as_deref())
            .set("id_claim", self.id_claim.as_deref())
            .set("id_match", self.id_match.as_deref())
            .set("grantee", self.grantee.as_deref())
            .list("policies", &self.policies)
            .into_value())
    }
}

/// Runs one mapping command.
pub async fn run_mapping(command: MappingCommand, args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    let mappings = Resource::config(&client, "identity-mappings");
    let answer = match command {
        MappingCommand::Create { name, fields } => mappings.create(&name, &fields).await?,
        MappingCommand::List => {
            let columns = [
                "name",
                "trusted_issuer",
                "id_claim",
                "id_match",
                "grantee",
                "policies",
            ];
            return output::print(&mappings.list().await?, args.output, &columns);
        }
        MappingCommand::Show { name } => mappings.show(&name).await?,
        MappingCommand::Update { name, fields } => {
            mappings.update(&name, &fields).await?;
            mappings.show(&name).await?
        }
        MappingCommand::Delete { name } => {
            mappings.delete(&name).await?;
            println!("Deleted identity mapping {name}.");
            return Ok(());
        }
    };
    output::print(&answer, args.output, &[])
}
