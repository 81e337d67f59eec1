//! `sigil policy create|list|show|update|delete`: policies from `PATH=OPERATIONS` rules or a
//! file.

use std::path::{Path, PathBuf};

use clap::Subcommand;
use serde_json::{Value, json};

use super::output;
use super::resource::{Fields, Resource};
use super::{Client, ClientArgs};

/// Policy commands.
#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Create a policy from rules `PATH=OPS` (e.g. `/jwt-issuers/*/roles/*/mint=update`).
    Create {
        /// Name.
        name: String,
        #[command(flatten)]
        fields: PolicyFlags,
    },
    /// List policies.
    List,
    /// Show a policy.
    Show {
        /// Name.
        name: String,
    },
    /// Replace a policy's rules.
    Update {
        /// Name.
        name: String,
        #[command(flatten)]
        fields: PolicyFlags,
    },
    /// Delete a policy.
    Delete {
        /// Name.
        name: String,
    },
}

/// The rules a policy command sets, or a file with the whole body.
#[derive(Debug, clap::Args)]
pub struct PolicyFlags {
    /// A rule `PATH=op,op` (repeatable).
    #[arg(long = "rule", value_name = "PATH=OPERATIONS")]
    rules: Vec<String>,
    /// A JSON or YAML file with the whole body instead.
    #[arg(long, conflicts_with = "rules")]
    file: Option<PathBuf>,
}

impl Fields for PolicyFlags {
    fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn body(&self, name: Option<&str>) -> anyhow::Result<Value> {
        Ok(json!({"name": name, "rules": parse_rules(&self.rules)?}))
    }
}

/// Runs one policy command.
pub async fn run_policy(command: PolicyCommand, args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    let policies = Resource::config(&client, "policies");
    let answer = match command {
        PolicyCommand::Create { name, fields } | PolicyCommand::Update { name, fields } => {
            policies.replace(&name, &fields).await?;
            policies.show(&name).await?
        }
        PolicyCommand::List => {
            let list = policies.list().await?;
            return output::print(&list, args.output, &["name", "built_in", "rules"]);
        }
        PolicyCommand::Show { name } => policies.show(&name).await?,
        PolicyCommand::Delete { name } => {
            policies.delete(&name).await?;
            println!("Deleted policy {name}.");
            return Ok(());
        }
    };
    output::print(&answer, args.output, &[])
}

/// `PATH=op,op` rules.
fn parse_rules(rules: &[String]) -> anyhow::Result<Vec<Value>> {
    rules
        .iter()
        .map(|rule| {
            let (path, operations) = rule
                .rsplit_once('=')
                .ok_or_else(|| anyhow::anyhow!("`{rule}` is not PATH=OPERATIONS"))?;
            let operations: Vec<&str> = operations.split(',').map(str::trim).collect();
            Ok(json!({"path": path, "operations": operations}))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_from_path_equals_operations() {
        let rules = parse_rules(&[
            "/jwt-issuers/*/roles/*/mint=update".into(),
            "/**=read,update".into(),
        ])
        .unwrap();
        assert_eq!(
            rules[0],
            json!({"path": "/jwt-issuers/*/roles/*/mint", "operations": ["update"]})
        );
        assert_eq!(rules[1]["operations"], json!(["read", "update"]));
        assert!(parse_rules(&["nope".into()]).is_err());
    }
}
