//! `sigil operator init|unseal|seal|status|generate-root`.

use std::io::BufRead;

use anyhow::Context;
use clap::Subcommand;
use reqwest::Method;
use serde_json::{Value, json};

use super::output::{self, OutputFormat};
use super::{Client, ClientArgs};

/// Seal lifecycle commands.
#[derive(Debug, Subcommand)]
pub enum OperatorCommand {
    /// Initialise the server: prints the unseal keys and a root token, once.
    Init {
        /// Number of unseal key shares.
        #[arg(long, default_value_t = 5)]
        shares: u8,
        /// Shares needed to unseal.
        #[arg(long, default_value_t = 3)]
        threshold: u8,
    },
    /// Give one unseal key (read from standard input when omitted).
    Unseal {
        /// The unseal key share.
        key: Option<String>,
        /// Forget the shares given so far.
        #[arg(long)]
        reset: bool,
    },
    /// Seal the server: private keys are dropped until unsealed again.
    Seal,
    /// Show the seal status.
    Status,
    /// Get a new root token from a quorum of unseal keys (one per line on standard input).
    GenerateRoot,
}

/// Runs one operator command.
pub async fn run(command: OperatorCommand, args: &ClientArgs) -> anyhow::Result<()> {
    let client = Client::new(args)?;
    match command {
        OperatorCommand::Init { shares, threshold } => {
            let answer = client
                .call(
                    Method::POST,
                    "/v1/sys/init",
                    Some(&json!({"shares": shares, "threshold": threshold})),
                )
                .await?;
            if args.output == OutputFormat::Table {
                for (i, key) in answer["keys"].as_array().into_iter().flatten().enumerate() {
                    println!("Unseal Key {}: {}", i + 1, key.as_str().unwrap_or_default());
                }
                println!(
                    "Root Token: {}",
                    answer["root_token"].as_str().unwrap_or_default()
                );
                println!(
                    "\nSigil is initialised and sealed. Give {threshold} of these keys to `sigil operator unseal`.\nStore them apart: Sigil keeps no copy."
                );
                return Ok(());
            }
            output::print(&answer, args.output, &[])
        }
        OperatorCommand::Unseal { key, reset } => {
            let body = if reset {
                json!({"reset": true})
            } else {
                let key = match key {
                    Some(key) => key,
                    None => read_line().context("reading the unseal key from standard input")?,
                };
                json!({"key": key})
            };
            let answer = client
                .call(Method::POST, "/v1/sys/unseal", Some(&body))
                .await?;
            output::print(&answer, args.output, &[])
        }
        OperatorCommand::Seal => {
            client.call(Method::POST, "/v1/sys/seal", None).await?;
            println!("Sealed.");
            Ok(())
        }
        OperatorCommand::Status => {
            let answer = client
                .call(Method::GET, "/v1/sys/seal-status", None)
                .await?;
            output::print(&answer, args.output, &[])
        }
        OperatorCommand::GenerateRoot => {
            let keys: Vec<Value> = std::io::stdin()
                .lock()
                .lines()
                .map_while(Result::ok)
                .map(|l| l.trim().to_owned())
                .filter(|l| !l.is_empty())
                .map(Value::String)
                .collect();
            let answer = client
                .call(
                    Method::POST,
                    "/v1/sys/generate-root",
                    Some(&json!({"keys": keys})),
                )
                .await?;
            output::print(&answer, args.output, &[])
        }
    }
}

fn read_line() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(line.trim().to_owned())
}
