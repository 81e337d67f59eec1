//! The `sigil` command line: `serve`, and one client command group per API surface, talking to
//! `SIGIL_ADDR` with `SIGIL_TOKEN`. Output is a table by default, `-o json|yaml` for scripts.

mod body;
mod client;
mod decode;
mod issuer;
mod key;
mod login;
mod mapping;
mod mint;
mod operator;
mod output;
mod policy;
mod resource;
mod role;
mod serve;
mod storage;
mod token_input;
mod trust;
mod verify;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub use client::Client;
pub use output::OutputFormat;

/// Sigil: a JWT issuer and trust broker.
#[derive(Debug, Parser)]
#[command(name = "sigil", version, about)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every client command shares.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Server address.
    #[arg(
        long,
        env = "SIGIL_ADDR",
        default_value = "http://127.0.0.1:8420",
        global = true
    )]
    pub addr: String,
    /// Bearer token.
    #[arg(long, env = "SIGIL_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = OutputFormat::Table, global = true)]
    pub output: OutputFormat,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server.
    Serve(crate::config::ServeArgs),
    /// Initialise, unseal, seal, and check the seal.
    Operator {
        #[command(subcommand)]
        command: operator::OperatorCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Manage signing keys.
    Key {
        #[command(subcommand)]
        command: key::KeyCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Manage JWT issuers.
    Issuer {
        #[command(subcommand)]
        command: issuer::IssuerCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Manage the roles of a JWT issuer.
    Role {
        #[command(subcommand)]
        command: role::RoleCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Mint a token of a role; prints the token.
    Mint {
        #[command(flatten)]
        args: mint::MintArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Manage trusted external issuers.
    Trust {
        #[command(subcommand)]
        command: trust::TrustCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Verify a token from a trusted issuer.
    Verify {
        #[command(flatten)]
        args: verify::VerifyArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Verify a token and show every check.
    Explain {
        #[command(flatten)]
        args: verify::VerifyArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Manage identity mappings.
    Mapping {
        #[command(subcommand)]
        command: mapping::MappingCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Manage policies.
    Policy {
        #[command(subcommand)]
        command: policy::PolicyCommand,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Log in with an external JWT; prints a session token.
    Login {
        #[command(flatten)]
        args: login::LoginArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Exchange an external JWT for a token of a role (RFC 8693).
    Exchange {
        #[command(flatten)]
        args: login::ExchangeArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show a JWT's header and claims, offline and unverified.
    Decode(decode::DecodeArgs),
    /// Move a deployment to another store (SQLite to PostgreSQL).
    Storage {
        #[command(subcommand)]
        command: storage::StorageCommand,
    },
}

/// Parses the command line and runs it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => serve::run(args).await,
        Command::Operator { command, client } => operator::run(command, &client).await,
        Command::Key { command, client } => key::run(command, &client).await,
        Command::Issuer { command, client } => issuer::run(command, &client).await,
        Command::Role { command, client } => role::run(command, &client).await,
        Command::Mint { args, client } => mint::run(args, &client).await,
        Command::Trust { command, client } => trust::run(command, &client).await,
        Command::Verify { args, client } => verify::run(args, &client, false).await,
        Command::Explain { args, client } => verify::run(args, &client, true).await,
        Command::Mapping { command, client } => mapping::run_mapping(command, &client).await,
        Command::Policy { command, client } => policy::run_policy(command, &client).await,
        Command::Login { args, client } => login::run_login(args, &client).await,
        Command::Exchange { args, client } => login::run_exchange(args, &client).await,
        Command::Decode(args) => decode::run(&args),
        Command::Storage { command } => storage::run(command).await,
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    #[test]
    fn every_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
