//! `sigil mint ISSUER ROLE`: mints a token and prints it (or the whole answer with -o).

use reqwest::Method;
use serde_json::Value;

use super::body::Body;
use super::output;
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
    let claims = if args.claims.is_empty() {
        None
    } else {
        Some(Value::Object(super::role::claims(&args.claims)?))
    };
    let body = Body::default()
        .set("ttl", args.ttl.as_deref())
        .list("audiences", &args.audiences)
        .set("claims", claims)
        .into_value();
    let path = format!("/v1/jwt-issuers/{}/roles/{}/mint", args.issuer, args.role);
    let answer = client.call(Method::POST, &path, Some(&body)).await?;
    output::print_token(&answer, client_args.output, "token")
}
