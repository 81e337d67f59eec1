//! `sigil login ISSUER [--token-file F]` and `sigil exchange ISSUER ROLE
//! --subject-token-file F`: trade an external JWT for a Sigil session or a Sigil token.

use std::path::PathBuf;

use anyhow::{Context, bail};
use reqwest::Method;

use super::output::{self, OutputFormat};
use super::{Client, ClientArgs};

/// Arguments of `sigil login`.
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The trusted issuer the token comes from.
    pub issuer: String,
    /// File holding the external JWT (default: standard input).
    #[arg(long)]
    pub token_file: Option<PathBuf>,
}

/// Arguments of `sigil exchange`.
#[derive(Debug, clap::Args)]
pub struct ExchangeArgs {
    /// The JWT issuer to mint from.
    pub issuer: String,
    /// The role to mint.
    pub role: String,
    /// File holding the subject token (default: standard input).
    #[arg(long)]
    pub subject_token_file: Option<PathBuf>,
    /// An audience for the minted token (repeatable).
    #[arg(long = "audience")]
    pub audiences: Vec<String>,
}

/// Logs in and prints the session token (or the whole answer with -o).
pub async fn run_login(args: LoginArgs, client_args: &ClientArgs) -> anyhow::Result<()> {
    let token = read_token(args.token_file.as_ref())?;
    let mut with_token = client_args.clone();
    with_token.token = Some(token);
    let client = Client::new(&with_token)?;
    let answer = client
        .call(
            Method::POST,
            &format!("/v1/auth/login/{}", args.issuer),
            None,
        )
        .await?;
    if client_args.output == OutputFormat::Table {
        println!("{}", answer["token"].as_str().unwrap_or_default());
        eprintln!(
            "identity {} with policies {} until {}",
            answer["identity"].as_str().unwrap_or_default(),
            answer["policies"],
            answer["expires_at"].as_str().unwrap_or_default()
        );
        return Ok(());
    }
    output::print(&answer, client_args.output, &[])
}

/// Exchanges and prints the minted token (or the whole answer with -o).
pub async fn run_exchange(args: ExchangeArgs, client_args: &ClientArgs) -> anyhow::Result<()> {
    let subject = read_token(args.subject_token_file.as_ref())?;
    let mut form = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange".to_owned(),
        ),
        ("subject_token", subject),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:jwt".to_owned(),
        ),
        ("scope", args.role.clone()),
    ];
    for audience in &args.audiences {
        form.push(("audience", audience.clone()));
    }
    let client = Client::new(client_args)?;
    let path = format!("/jwt/{}/oauth/token", args.issuer);
    let (status, answer) = client.call_form(Method::POST, &path, &form).await?;
    if !status.is_success() {
        bail!(
            "{status}: {} ({})",
            answer["error_description"].as_str().unwrap_or_default(),
            answer["error"].as_str().unwrap_or_default()
        );
    }
    if client_args.output == OutputFormat::Table {
        println!("{}", answer["access_token"].as_str().unwrap_or_default());
        return Ok(());
    }
    output::print(&answer, client_args.output, &[])
}

fn read_token(file: Option<&PathBuf>) -> anyhow::Result<String> {
    let text = match file {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?,
        None => {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)?;
            text
        }
    };
    let token = text.trim().to_owned();
    if token.is_empty() {
        bail!("no token given");
    }
    Ok(token)
}
