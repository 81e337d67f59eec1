//! `sigil verify TOKEN` and `sigil explain TOKEN`: ask the server whether a token from a
//! trusted issuer is valid, and (explain) why.

use anyhow::bail;
use reqwest::Method;
use serde_json::{Value, json};

use super::output::{self, OutputFormat};
use super::token_input;
use super::{Client, ClientArgs};

/// Arguments of `sigil verify` and `sigil explain`.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The JWT (or `-` to read it from standard input).
    #[arg(value_name = "TOKEN")]
    pub jwt: String,
    /// An audience the token must carry.
    #[arg(long)]
    pub audience: Option<String>,
}

/// Verifies; `explain` prints every check.
pub async fn run(args: VerifyArgs, client_args: &ClientArgs, explain: bool) -> anyhow::Result<()> {
    let token = token_input::from_argument(&args.jwt)?;
    let client = Client::new(client_args)?;
    let body = json!({"token": token, "audience": args.audience});
    if !explain {
        let answer = client.call(Method::POST, "/v1/verify", Some(&body)).await?;
        return output::print(&answer, client_args.output, &[]);
    }
    let (status, answer) = client
        .call_any(Method::POST, "/v1/explain", Some(&body))
        .await?;
    if client_args.output != OutputFormat::Table {
        output::print(&answer, client_args.output, &[])?;
    } else {
        for check in answer["trace"]["checks"].as_array().into_iter().flatten() {
            let mark = if check["passed"] == Value::Bool(true) {
                "ok  "
            } else {
                "FAIL"
            };
            println!(
                "{mark} {:<14} {}",
                check["check"].as_str().unwrap_or_default(),
                check["detail"].as_str().unwrap_or_default()
            );
        }
        match answer["valid"].as_bool() {
            Some(true) => println!(
                "\nvalid: issuer {}",
                answer["result"]["issuer"].as_str().unwrap_or_default()
            ),
            _ => println!(
                "\ninvalid: {} [{}]",
                answer["message"].as_str().unwrap_or_default(),
                answer["error_code"].as_str().unwrap_or_default()
            ),
        }
    }
    if !status.is_success() {
        bail!("the token is not valid");
    }
    Ok(())
}
