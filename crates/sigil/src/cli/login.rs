//! `sigil login ISSUER [--token-file F]` and `sigil exchange ISSUER ROLE
//! --subject-token-file F`: trade an external JWT for a Sigil session or a Sigil token.

use std::path::PathBuf;

use anyhow::bail;
use reqwest::Method;

use super::output::{self, OutputFormat};
use super::token_input;
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
    let token = token_input::from_file_or_stdin(args.token_file.as_deref())?;
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
    output::print_token(&answer, client_args.output, "token")?;
    if client_args.output == OutputFormat::Table {
        eprintln!(
            "identity {} with policies {} until {}",
            answer["identity"].as_str().unwrap_or_default(),
            answer["policies"],
            answer["expires_at"].as_str().unwrap_or_default()
        );
    }
    Ok(())
}

/// Exchanges and prints the minted token (or the whole answer with -o).
pub async fn run_exchange(args: ExchangeArgs, client_args: &ClientArgs) -> anyhow::Result<()> {
    let subject = token_input::from_file_or_stdin(args.subject_token_file.as_deref())?;
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
    output::print_token(&answer, client_args.output, "access_token")
}
