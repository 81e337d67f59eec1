//! `sigil mint ISSUER ROLE`: mints a token and prints it (or the whole answer with -o).

use reqwest::Method;
use serde_json::{Map, Value, json};

use super::output::{self, OutputFormat};
use super::{Client, ClientArgs};

/// Arguments of `sigil mint`.
#[derive(Debug, clap::Args)]
pub struct MintArgs {
    /// The JWT issuer.
    pub issuer: String,
    /// The role.
    pub role: String,
    /// Lifetime, e.g. 15m.
    #[arg(long)]
    pub ttl: Option<String>,
    /// An audience (repeatable).
    #[arg(long = "aud")]
    pub audiences: Vec<String>,
    /// A claim `name=value` the role allows (repeatable; JSON values are kept typed).
    #[arg(long = "claim", value_name = "NAME=VALUE")]
    pub claims: Vec<String>,
}

/// Mints and prints.
pub async fn run(args: MintArgs, client_args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(client_args)?;
    let mut body = Map::new();
    if let Some(ttl) = &args.ttl {
        body.insert("ttl".into(), json!(ttl));
    }
    if !args.audiences.is_empty() {
        body.insert("audiences".into(), json!(args.audiences));
    }
    if !args.claims.is_empty() {
        body.insert(
            "claims".into(),
            Value::Object(super::role::claims(&args.claims)?),
        );
    }
    let path = format!("/v1/jwt-issuers/{}/roles/{}/mint", args.issuer, args.role);
    let answer = client
        .call(Method::POST, &path, Some(&Value::Object(body)))
        .await?;
    if client_args.output == OutputFormat::Table {
        println!("{}", answer["token"].as_str().unwrap_or_default());
        return Ok(());
    }
    output::print(&answer, client_args.output, &[])
}
