//! `sigil role create|list|show|update|delete`: roles of a JWT issuer.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Map, Value, json};

use super::output;
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

impl RoleFlags {
    fn body(&self, name: Option<&str>) -> anyhow::Result<Value> {
        let mut body = Map::new();
        if let Some(name) = name {
            body.insert("name".into(), json!(name));
        }
        let text = [
            ("subject_template", &self.subject_template),
            ("default_ttl", &self.default_ttl),
            ("max_ttl", &self.max_ttl),
            ("token_type", &self.token_type),
        ];
        for (field, value) in text {
            if let Some(value) = value {
                body.insert(field.into(), json!(value));
            }
        }
        let lists = [
            ("allowed_audiences", &self.allowed_audiences),
            ("default_audiences", &self.default_audiences),
            ("required_claims", &self.required_claims),
        ];
        for (field, values) in lists {
            if !values.is_empty() {
                body.insert(field.into(), json!(values));
            }
        }
        if !self.fixed_claims.is_empty() {
            body.insert(
                "fixed_claims".into(),
                Value::Object(claims(&self.fixed_claims)?),
            );
        }
        for (field, value) in [
            ("require_audience", self.require_audience),
            ("verbose_logging", self.verbose_logging),
        ] {
            if let Some(value) = value {
                body.insert(field.into(), json!(value));
            }
        }
        Ok(Value::Object(body))
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
    let path = |issuer: &str, role: &str| format!("/v1/config/jwt-issuers/{issuer}/roles/{role}");
    let answer = match command {
        RoleCommand::Create {
            issuer,
            role,
            fields,
        } => {
            match &fields.file {
                Some(file) => {
                    client
                        .call_file(Method::PUT, &path(&issuer, &role), file)
                        .await?
                }
                None => {
                    let body = fields.body(Some(&role))?;
                    let collection = format!("/v1/config/jwt-issuers/{issuer}/roles");
                    client.call(Method::POST, &collection, Some(&body)).await?
                }
            };
            client
                .call(Method::GET, &path(&issuer, &role), None)
                .await?
        }
        RoleCommand::List { issuer } => {
            let list = client
                .call(
                    Method::GET,
                    &format!("/v1/config/jwt-issuers/{issuer}/roles"),
                    None,
                )
                .await?;
            let columns = [
                "name",
                "subject_template",
                "default_ttl",
                "max_ttl",
                "token_type",
            ];
            return output::print(&list, args.output, &columns);
        }
        RoleCommand::Show { issuer, role } => {
            client
                .call(Method::GET, &path(&issuer, &role), None)
                .await?
        }
        RoleCommand::Update {
            issuer,
            role,
            fields,
        } => {
            match &fields.file {
                Some(file) => {
                    client
                        .call_file(Method::PATCH, &path(&issuer, &role), file)
                        .await?
                }
                None => {
                    let body = fields.body(None)?;
                    client
                        .call(Method::PATCH, &path(&issuer, &role), Some(&body))
                        .await?
                }
            };
            client
                .call(Method::GET, &path(&issuer, &role), None)
                .await?
        }
        RoleCommand::Delete { issuer, role } => {
            client
                .call(Method::DELETE, &path(&issuer, &role), None)
                .await?;
            println!("Deleted role {role} of jwt issuer {issuer}.");
            return Ok(());
        }
    };
    output::print(&answer, args.output, &[])
}

#[cfg(test)]
mod tests {
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
