//! `sigil role create|list|show|update|delete`: roles of a JWT issuer.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use serde_json::{Map, Value};

use super::body::Body;
use super::output;
use super::resource::{Fields, Resource};
use super::{Client, ClientArgs};

/// Role commands.
#[derive(Debug, Subcommand)]
pub enum RoleCommand {
    /// Create a role (or send a whole JSON/YAML body with --file).
    Create {
        /// Issuer.
        issuer: String,
        /// Role name.
        role: String,
        #[command(flatten)]
        fields: RoleFlags,
    },
    /// List the roles of an issuer.
    List {
        /// Issuer.
        issuer: String,
    },
    /// Show a role.
    Show {
        /// Issuer.
        issuer: String,
        /// Role name.
        role: String,
    },
    /// Change some fields of a role.
    Update {
        /// Issuer.
        issuer: String,
        /// Role name.
        role: String,
        #[command(flatten)]
        fields: RoleFlags,
    },
    /// Delete a role.
    Delete {
        /// Issuer.
        issuer: String,
        /// Role name.
        role: String,
    },
}

/// The fields a role command can set; `allowed_claims` needs `--file`.
#[derive(Debug, clap::Args)]
pub struct RoleFlags {
    /// Subject template, e.g. `{{identity.id}}`.
    #[arg(long)]
    subject_template: Option<String>,
    /// A fixed claim `name=value` (repeatable; JSON values are kept typed).
    #[arg(long = "fixed-claim", value_name = "NAME=VALUE")]
    fixed_claims: Vec<String>,
    /// An allowed audience glob (repeatable).
    #[arg(long = "allowed-audience")]
    allowed_audiences: Vec<String>,
    /// A default audience (repeatable).
    #[arg(long = "default-audience")]
    default_audiences: Vec<String>,
    /// Refuse tokens without an audience.
    #[arg(long)]
    require_audience: Option<bool>,
    /// A claim every token must have (repeatable).
    #[arg(long = "required-claim")]
    required_claims: Vec<String>,
    /// Default lifetime, e.g. 15m.
    #[arg(long)]
    default_ttl: Option<String>,
    /// Longest lifetime, e.g. 1h.
    #[arg(long)]
    max_ttl: Option<String>,
    /// `jwt` or `at+jwt`.
    #[arg(long)]
    token_type: Option<String>,
    /// Log every decision of this role's requests.
    #[arg(long)]
    verbose_logging: Option<bool>,
    /// A JSON or YAML file with the whole body instead of flags.
    #[arg(long)]
    file: Option<PathBuf>,
}

impl Fields for RoleFlags {
    fn file(&self) -> Option<&Path> {
        self.file.as_deref()
    }

    fn body(&self, name: Option<&str>) -> anyhow::Result<Value> {
        let fixed_claims = if self.fixed_claims.is_empty() {
            None
        } else {
            Some(Value::Object(claims(&self.fixed_claims)?))
        };
        Ok(Body::named(name)
            .set("subject_template", self.subject_template.as_deref())
            .set("default_ttl", self.default_ttl.as_deref())
            .set("max_ttl", self.max_ttl.as_deref())
            .set("token_type", self.token_type.as_deref())
            .list("allowed_audiences", &self.allowed_audiences)
            .list("default_audiences", &self.default_audiences)
            .list("required_claims", &self.required_claims)
            .set("fixed_claims", fixed_claims)
            .set("require_audience", self.require_audience)
            .set("verbose_logging", self.verbose_logging)
            .into_value())
    }
}

/// Parses `name=value` pairs; a value that is valid JSON keeps its type, anything else is a
/// string.
pub fn claims(pairs: &[String]) -> anyhow::Result<Map<String, Value>> {
    let mut map = Map::new();
    for pair in pairs {
        let (name, value) = pair
            .split_once('=')
            .with_context(|| format!("`{pair}` is not NAME=VALUE"))?;
        let value = serde_json::from_str(value).unwrap_or_else(|_| Value::String(value.to_owned()));
        map.insert(name.to_owned(), value);
    }
    Ok(map)
}

/// Runs one role command.
pub async fn run(command: RoleCommand, args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    let roles = |issuer: &str| Resource::config(&client, &format!("jwt-issuers/{issuer}/roles"));
    let answer = match command {
        RoleCommand::Create {
            issuer,
            role,
            fields,
        } => {
            let roles = roles(&issuer);
            roles.create(&role, &fields).await?;
            roles.show(&role).await?
        }
        RoleCommand::List { issuer } => {
            let columns = [
                "name",
                "subject_template",
                "default_ttl",
                "max_ttl",
                "token_type",
            ];
            return output::print(&roles(&issuer).list().await?, args.output, &columns);
        }
        RoleCommand::Show { issuer, role } => roles(&issuer).show(&role).await?,
        RoleCommand::Update {
            issuer,
            role,
            fields,
        } => {
            let roles = roles(&issuer);
            roles.update(&role, &fields).await?;
            roles.show(&role).await?
        }
        RoleCommand::Delete { issuer, role } => {
            roles(&issuer).delete(&role).await?;
            println!("Deleted role {role} of jwt issuer {issuer}.");
            return Ok(());
        }
    };
    output::print(&answer, args.output, &[])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn claim_values_keep_json_types() {
        let parsed = claims(&[
            "n=3".into(),
            "b=true".into(),
            "s=prod".into(),
            "a=[\"x\"]".into(),
        ])
        .unwrap();
        assert_eq!(
            Value::Object(parsed),
            json!({"n": 3, "b": true, "s": "prod", "a": ["x"]})
        );
        assert!(claims(&["novalue".into()]).is_err());
    }
}
