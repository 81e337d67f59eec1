//! `sigil mapping create|list|show|update|delete`: identity mappings, from flags or a file.

use std::path::PathBuf;

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::output;
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

impl MappingFlags {
    fn body(&self, name: Option<&str>) -> Value {
        let mut body = Map::new();
        if let Some(name) = name {
            body.insert("name".into(), json!(name));
        }
        let text = [
            ("trusted_issuer", &self.trusted_issuer),
            ("purpose_claim", &self.purpose_claim),
            ("purpose_match", &self.purpose_match),
            ("id_claim", &self.id_claim),
            ("id_match", &self.id_match),
            ("grantee", &self.grantee),
        ];
        for (field, value) in text {
            if let Some(value) = value {
                body.insert(field.into(), json!(value));
            }
        }
        if !self.policies.is_empty() {
            body.insert("policies".into(), json!(self.policies));
        }
        Value::Object(body)
    }
}

/// Runs one mapping command.
pub async fn run_mapping(command: MappingCommand, args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    let config = |name: &str| format!("/v1/config/identity-mappings/{name}");
    let answer = match command {
        MappingCommand::Create { name, fields } => match &fields.file {
            Some(file) => client.call_file(Method::PUT, &config(&name), file).await?,
            None => {
                let body = fields.body(Some(&name));
                client
                    .call(Method::POST, "/v1/config/identity-mappings", Some(&body))
                    .await?
            }
        },
        MappingCommand::List => {
            let list = client
                .call(Method::GET, "/v1/config/identity-mappings", None)
                .await?;
            let columns = [
                "name",
                "trusted_issuer",
                "id_claim",
                "id_match",
                "grantee",
                "policies",
            ];
            return output::print(&list, args.output, &columns);
        }
        MappingCommand::Show { name } => client.call(Method::GET, &config(&name), None).await?,
        MappingCommand::Update { name, fields } => {
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
            client.call(Method::GET, &config(&name), None).await?
        }
        MappingCommand::Delete { name } => {
            client.call(Method::DELETE, &config(&name), None).await?;
            println!("Deleted identity mapping {name}.");
            return Ok(());
        }
    };
    output::print(&answer, args.output, &[])
}
