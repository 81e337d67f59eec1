//! `sigil serve`: resolve the configuration, open the store, (dev) initialise and unseal,
//! serve until SIGTERM or SIGINT, letting in-flight requests finish.

use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::app::App;
use crate::clock::SystemClock;
use crate::config::{Config, LogFormat, ServeArgs, StorageTarget};

/// Runs the server.
pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = Config::resolve(&args).context("invalid configuration")?;
    init_logging(config.log_format, &config.log_filter);
    // `--dev` keeps its store in a directory removed when the server stops.
    let dev_dir = if config.dev {
        let dir = tempfile::Builder::new()
            .prefix("sigil-dev-")
            .tempdir()
            .context("cannot create the dev data directory")?;
        config.data_dir = dir.path().to_owned();
        config.storage = StorageTarget::Sqlite(dir.path().join("sigil.sqlite"));
        Some(dir)
    } else {
        None
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    config.bound_to(listener.local_addr()?);
    let app = App::open(config.clone(), Arc::new(SystemClock))
        .await
        .context("cannot open the store")?;

    tracing::info!(node = %config.node_id, site = %config.site, listen = %config.listen, "node started");
    println!("Listening on http://{}", config.listen);
    if config.dev {
        let init = app.initialise(1, 1).await.context("dev init failed")?;
        let share = init.shares.first().context("dev init gave no share")?;
        let encoded = share.encode();
        app.unseal(crate::seal::Share::decode(&encoded)?)
            .await
            .context("dev unseal failed")?;
        println!("Unseal Key: {encoded}");
        println!("Root Token: {}", init.root_token.token);
        println!(
            "Development mode: in-memory-lifetime store, initialised and unsealed. Do not use in production."
        );
    } else if let Some(path) = &config.unseal_key_file {
        let status = app.auto_unseal(path).await.context("auto-unseal failed")?;
        if status.sealed {
            tracing::warn!(
                progress = status.progress,
                threshold = status.threshold,
                "auto-unseal: not enough keys, still sealed"
            );
        }
    }
    flush_stdout();

    let (stop, stopped) = watch::channel(false);
    app.spawn_lifecycle(stopped.clone());
    app.trust.spawn_refresher(stopped.clone());
    app.spawn_reconciler(stopped);
    tracing::info!(address = %config.listen, public_url = %config.public_url, "serving");
    crate::http::serve(listener, app, shutdown_signal()).await?;
    let _ = stop.send(true);
    drop(dev_dir);
    tracing::info!("stopped");
    Ok(())
}

fn flush_stdout() {
    use std::io::Write;
    let _ = std::io::stdout().flush();
}

fn init_logging(format: LogFormat, directives: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(directives)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Pretty => builder.try_init(),
    };
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = interrupt => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down: finishing in-flight requests");
}
