//! `sigil key create|list|show|update|rotate|taint|revoke|delete`.

use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::body::Body;
use super::output::{self, OutputFormat};
use super::resource::Resource;
use super::{Client, ClientArgs};

/// Signing key commands.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a signing key.
    Create {
        /// Name.
        name: String,
        /// Key type: ecdsa-p256 (default), ecdsa-p384, ecdsa-p521, rsa-2048, rsa-3072, rsa-4096,
        /// ed25519.
        #[arg(long = "type")]
        key_type: Option<String>,
        /// RS256 or PS256, for RSA keys.
        #[arg(long)]
        algorithm: Option<String>,
        /// Scheduled rotation period, e.g. 30d.
        #[arg(long)]
        rotation_period: Option<String>,
    },
    /// List signing keys with their signing kid.
    List,
    /// Show a key's state and versions.
    Show {
        /// Name.
        name: String,
    },
    /// Change a key's rotation period.
    Update {
        /// Name.
        name: String,
        /// New rotation period, e.g. 90d.
        #[arg(long)]
        rotation_period: String,
    },
    /// Add a version, active now or after `--prepublish`.
    Rotate {
        /// Name.
        name: String,
        /// Publish the new version this long before it signs, e.g. 1h.
        #[arg(long)]
        prepublish: Option<String>,
    },
    /// Stop signing with a version; it stays in the JWKS until tokens it signed expire.
    Taint {
        /// Name.
        name: String,
        /// Version number.
        version: u32,
    },
    /// Remove a version from the JWKS now.
    Revoke {
        /// Name.
        name: String,
        /// Version number.
        version: u32,
    },
    /// Delete a key that nothing uses.
    Delete {
        /// Name.
        name: String,
    },
}

/// Runs one key command.
pub async fn run(command: KeyCommand, args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    let keys = Resource::with_state(&client, "signing-keys");
    let answer = match command {
        KeyCommand::Create {
            name,
            key_type,
            algorithm,
            rotation_period,
        } => {
            let body = Body::named(Some(&name))
                .set("type", key_type)
                .set("algorithm", algorithm)
                .set("rotation_period", rotation_period);
            keys.post(&body.into_value()).await?;
            keys.show(&name).await?
        }
        KeyCommand::List => {
            return output::print(
                &keys.list().await?,
                args.output,
                &[
                    "name",
                    "type",
                    "algorithm",
                    "rotation_period",
                    "signing_kid",
                ],
            );
        }
        KeyCommand::Show { name } => keys.show(&name).await?,
        KeyCommand::Update {
            name,
            rotation_period,
        } => {
            let body = json!({"rotation_period": rotation_period});
            keys.patch(&name, &body).await?;
            keys.show(&name).await?
        }
        KeyCommand::Rotate { name, prepublish } => {
            let body = prepublish.map(|p| json!({"prepublish": p}));
            client
                .call(
                    Method::POST,
                    &format!("/v1/signing-keys/{name}/rotate"),
                    body.as_ref(),
                )
                .await?
        }
        KeyCommand::Taint { name, version } => {
            let path = format!("/v1/signing-keys/{name}/versions/{version}/taint");
            client.call(Method::POST, &path, None).await?
        }
        KeyCommand::Revoke { name, version } => {
            let path = format!("/v1/signing-keys/{name}/versions/{version}/revoke");
            client.call(Method::POST, &path, None).await?
        }
        KeyCommand::Delete { name } => {
            keys.delete(&name).await?;
            println!("Deleted signing key {name}.");
            return Ok(());
        }
    };
    print_key(&answer, args.output)
}

fn print_key(state: &Value, format: OutputFormat) -> anyhow::Result<()> {
    if format != OutputFormat::Table {
        return output::print(state, format, &[]);
    }
    let mut summary = state.clone();
    let versions = summary
        .as_object_mut()
        .and_then(|m| m.remove("versions"))
        .unwrap_or(Value::Null);
    output::print(&summary, format, &[])?;
    println!();
    output::print(
        &versions,
        format,
        &[
            "version",
            "kid",
            "status",
            "created_at",
            "activates_at",
            "retires_at",
        ],
    )
}
