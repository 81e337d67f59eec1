//! `sigil storage migrate`: copies a deployment from one store to another (SQLite to
//! PostgreSQL), like `vault operator migrate`. Run it with the servers stopped; sealed blobs
//! stay sealed, and the copy is read back and compared before the command succeeds.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};

use crate::app::open_store;
use crate::clock::{Clock, SystemClock};
use crate::config::StorageTarget;
use crate::storage::migrate::copy_store;

/// Storage commands.
#[derive(Debug, clap::Subcommand)]
pub enum StorageCommand {
    /// Copy every key, document, the seal and live jti records into an empty store.
    Migrate {
        /// The store to copy: `sqlite:PATH`.
        #[arg(long)]
        from: String,
        /// The empty store to copy into: `postgres://user@host:port/database`.
        #[arg(long)]
        to: String,
        /// File whose first line is the target's PostgreSQL password.
        #[arg(long)]
        to_password_file: Option<PathBuf>,
    },
}

/// Runs a storage command.
pub async fn run(command: StorageCommand) -> anyhow::Result<()> {
    let StorageCommand::Migrate {
        from,
        to,
        to_password_file,
    } = command;
    let source = StorageTarget::parse(&from, None).context("--from")?;
    if let StorageTarget::Sqlite(path) = &source
        && !path.is_file()
    {
        bail!("--from: no SQLite database at {}", path.display());
    }
    let target = StorageTarget::parse(&to, to_password_file).context("--to")?;
    if source == target {
        bail!("--from and --to name the same store");
    }
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let from_store = open_store(&source, clock.clone())
        .await
        .context("opening --from")?;
    let to_store = open_store(&target, clock.clone())
        .await
        .context("opening --to")?;
    let copied = copy_store(from_store.as_ref(), to_store.as_ref(), clock.now())
        .await
        .context("copying")?;
    println!(
        "Copied and verified: the seal, {} signing keys ({} versions), {} documents, {} live jti records.",
        copied.signing_keys, copied.key_versions, copied.documents, copied.replays
    );
    println!("Point every node at the new store; each unseals with the same unseal keys.");
    Ok(())
}
