//! The scale configuration: thousands of trusted issuers, each with its own P-256 key made
//! here, and thousands of roles spread over a hundred JWT issuers, all created through the
//! API on a real data directory; then a restart from that directory, timed to ready.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use bytes::Bytes;
use serde_json::json;
use sigil_jose::SigningKey;

use crate::Plan;
use crate::client::Target;
use crate::crypto::{Alg, Ceiling};
use crate::load::{Call, Meter, Workload};
use crate::report::Row;
use crate::server::{Launch, Server};
use crate::setup;

/// JWT issuers the roles are spread over.
pub const JWT_ISSUERS: usize = 100;
/// How long a restarted server may take to answer `/readyz` with 200.
const READY_TIMEOUT: Duration = Duration::from_secs(300);

/// The sizes to load.
#[derive(Clone, Copy, Debug)]
pub struct Sizes {
    /// Trusted issuers, each with a distinct key.
    pub trusted_issuers: usize,
    /// Roles in all (spread over [`JWT_ISSUERS`] issuers).
    pub roles: usize,
}

/// What the scale part measured.
pub struct Scale {
    /// Mint and verify over the whole configuration.
    pub rows: Vec<Row>,
    /// Wall time of each load step: (what, how many, time).
    pub steps: Vec<(String, usize, Duration)>,
    /// Restart timings.
    pub restart: Restart,
    /// Peak RSS of the server that took every write.
    pub loading_peak_rss: u64,
    /// Restarted server when ready: (peak, resident).
    pub ready_rss: (u64, u64),
    /// Restarted server after the scenarios: (peak, resident).
    pub end_rss: (u64, u64),
}

/// Loads `sizes` through the API into `data_dir` (a temporary one unless given), restarts on
/// it, and drives mint over every role and verify over every trusted issuer.
pub async fn run(
    plan: &Plan<'_>,
    sizes: Sizes,
    data_dir: &Path,
    ceilings: &[Ceiling],
) -> anyhow::Result<Scale> {
    eprintln!(
        "== scale: {} trusted issuers, {} roles over {} JWT issuers",
        sizes.trusted_issuers,
        sizes.roles,
        JWT_ISSUERS.min(sizes.roles)
    );
    std::fs::create_dir_all(data_dir)?;
    let loading = Launch {
        binary: plan.binary,
        args: Vec::new(),
        log: plan.work.join("scale-load.log"),
        log_filter: plan.log_filter,
    };
    let loaded = load(&loading, data_dir, sizes, plan.shape.concurrency).await?;
    let restarting = Launch {
        log: plan.work.join("scale-restart.log"),
        ..loading
    };
    let (server, restart) =
        self::restart(&restarting, data_dir, &loaded.share, &loaded.root_token).await?;
    eprintln!(
        "   restart: listening after {:.2}s, ready after {:.2}s",
        restart.to_listening.as_secs_f64(),
        restart.to_ready.as_secs_f64()
    );
    let ready_rss = (server.peak_rss_bytes()?, server.rss_bytes()?);
    let target = Target::new(server.addr, loaded.root_token.clone())?;
    let meter = Meter {
        target: &target,
        pid: server.pid(),
        ticks: plan.ticks,
        shape: plan.shape,
    };
    let es256 = ceilings
        .iter()
        .find(|c| c.alg == Alg::Es256)
        .context("missing ceiling")?;
    let mint_name = format!("mint ES256 × {} roles", sizes.roles);
    let verify_name = format!("verify ES256 × {} issuers", sizes.trusted_issuers);
    let rows = vec![
        meter
            .measure(&mint_name, &loaded.mint, es256.raw.sign)
            .await?,
        meter
            .measure(&verify_name, &loaded.verify, es256.raw.verify)
            .await?,
    ];
    let end_rss = (server.peak_rss_bytes()?, server.rss_bytes()?);
    server.stop();
    Ok(Scale {
        rows,
        steps: loaded.steps,
        restart,
        loading_peak_rss: loaded.loading_peak_rss,
        ready_rss,
        end_rss,
    })
}

/// The loaded configuration, ready to be driven.
struct Loaded {
    /// Mint calls, one per role.
    pub mint: Workload,
    /// Verify calls, one token per trusted issuer.
    pub verify: Workload,
    /// Wall time of each load step: (what, how many, time).
    pub steps: Vec<(String, usize, Duration)>,
    /// The share that unseals the data directory.
    pub share: String,
    /// The root token (still valid after a restart: the internal key persists).
    pub root_token: String,
    /// Peak RSS of the server that took every write.
    pub loading_peak_rss: u64,
}

/// Starts a non-dev server on `data_dir`, initialises and unseals it, loads `sizes` through the
/// API over `concurrency` connections, and stops it.
async fn load(
    launch: &Launch<'_>,
    data_dir: &Path,
    sizes: Sizes,
    concurrency: usize,
) -> anyhow::Result<Loaded> {
    let server = start_on(launch, vec!["--data-dir".to_owned(), path_arg(data_dir)?])?;
    let bootstrap = Target::new(server.addr, String::new())?;
    let (share, root_token) = setup::initialise(&bootstrap).await?;
    let target = Target::new(server.addr, root_token.clone())?;
    let mut steps = Vec::new();

    let issuers = JWT_ISSUERS.min(sizes.roles.max(1));
    let keys: Vec<_> = (0..issuers)
        .map(|i| {
            let name = format!("scale-{i:03}");
            (
                "/v1/config/signing-keys".to_owned(),
                json!({"name": name, "type": "ecdsa-p256"}),
            )
        })
        .collect();
    let issuer_calls: Vec<_> = (0..issuers)
        .map(|i| {
            let name = format!("scale-{i:03}");
            (
                "/v1/config/jwt-issuers".to_owned(),
                json!({"name": name, "signing_key": name}),
            )
        })
        .collect();
    let role_names: Vec<(String, String)> = (0..sizes.roles)
        .map(|r| {
            (
                format!("scale-{:03}", r % issuers),
                format!("role-{:05}", r / issuers),
            )
        })
        .collect();
    let role_calls: Vec<_> = role_names
        .iter()
        .map(|(issuer, role)| {
            (
                format!("/v1/config/jwt-issuers/{issuer}/roles"),
                json!({"name": role}),
            )
        })
        .collect();
    steps.push(timed("signing keys", &target, keys, concurrency).await?);
    steps.push(timed("jwt issuers", &target, issuer_calls, concurrency).await?);
    steps.push(timed("roles", &target, role_calls, concurrency).await?);

    let generated = Instant::now();
    let trusted = trusted_keys(sizes.trusted_issuers)?;
    let generation = generated.elapsed();
    let trusted_calls: Vec<_> = trusted
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let body = json!({
                "name": format!("scale-trusted-{i:05}"),
                "issuer": scale_iss(i),
                "keys": [key.public_jwk()],
            });
            ("/v1/config/trusted-issuers".to_owned(), body)
        })
        .collect();
    steps.push(timed("trusted issuers", &target, trusted_calls, concurrency).await?);
    eprintln!(
        "   ({} P-256 keys generated in {:.2}s, not counted above)",
        trusted.len(),
        generation.as_secs_f64()
    );
    let loading_peak_rss = server.peak_rss_bytes()?;
    server.stop();

    let mint = Workload::cycling(
        role_names
            .iter()
            .map(|(issuer, role)| Call {
                path: format!("/v1/jwt-issuers/{issuer}/roles/{role}/mint"),
                body: Bytes::from_static(b"{}"),
            })
            .collect(),
        "application/json",
    );
    let verify = Workload::cycling(verify_calls(&trusted)?, "application/json");
    Ok(Loaded {
        mint,
        verify,
        steps,
        share,
        root_token,
        loading_peak_rss,
    })
}

/// Restart timings.
pub struct Restart {
    /// Spawn to `Listening on`: store opened, configuration loaded.
    pub to_listening: Duration,
    /// Spawn to the first `/readyz` 200: unsealed (private keys opened) and serving.
    pub to_ready: Duration,
}

/// Starts a server on `data_dir` that unseals itself from a key file; answers it once
/// `/readyz` says 200.
async fn restart(
    launch: &Launch<'_>,
    data_dir: &Path,
    share: &str,
    root_token: &str,
) -> anyhow::Result<(Server, Restart)> {
    let key_file = data_dir.join("unseal.key");
    std::fs::write(&key_file, format!("{share}\n"))?;
    let args = vec![
        "--data-dir".to_owned(),
        path_arg(data_dir)?,
        "--unseal-key-file".to_owned(),
        path_arg(&key_file)?,
    ];
    let server = start_on(launch, args)?;
    let target = Target::new(server.addr, root_token.to_owned())?;
    loop {
        if server.spawned_at.elapsed() > READY_TIMEOUT {
            bail!("not ready within {READY_TIMEOUT:?}");
        }
        let ready = match target.connect().await {
            Ok(mut connection) => connection
                .get("/readyz")
                .await
                .is_ok_and(|a| a.status == http::StatusCode::OK),
            Err(_) => false,
        };
        if ready {
            break;
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    let timings = Restart {
        to_listening: server.listening_at - server.spawned_at,
        to_ready: server.spawned_at.elapsed(),
    };
    Ok((server, timings))
}

/// The `iss` of scale trusted issuer `index` (never fetched: its keys are inline).
fn scale_iss(index: usize) -> String {
    format!("urn:sigil-bench:scale:{index:05}")
}

fn trusted_keys(count: usize) -> anyhow::Result<Vec<SigningKey>> {
    (0..count).map(|_| Alg::Es256.generate()).collect()
}

/// One token per trusted issuer, shaped like Sigil's (iss, sub, iat, nbf, exp, jti), valid
/// for an hour.
fn verify_calls(keys: &[SigningKey]) -> anyhow::Result<Vec<Call>> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    keys.iter()
        .enumerate()
        .map(|(i, key)| {
            let claims = json!({
                "iss": scale_iss(i),
                "sub": format!("workload-{i}"),
                "iat": now,
                "nbf": now,
                "exp": now + 3600,
                "jti": format!("00000000-0000-4000-8000-{i:012}"),
            });
            let token = key.sign_compact(&serde_json::to_vec(&claims)?)?;
            Ok(Call {
                path: "/v1/verify".to_owned(),
                body: Bytes::from(serde_json::to_vec(&json!({"token": token}))?),
            })
        })
        .collect()
}

async fn timed(
    what: &str,
    target: &Target,
    calls: Vec<(String, serde_json::Value)>,
    concurrency: usize,
) -> anyhow::Result<(String, usize, Duration)> {
    let count = calls.len();
    let took = setup::post_all(target, calls, concurrency)
        .await
        .with_context(|| format!("loading {what}"))?;
    eprintln!("   {count} {what} in {:.2}s", took.as_secs_f64());
    Ok((what.to_owned(), count, took))
}

fn path_arg(path: &Path) -> anyhow::Result<String> {
    path.to_str()
        .map(str::to_owned)
        .context("the data directory path is not UTF-8")
}

/// Starts the server of `launch` with `args` before its own.
fn start_on(launch: &Launch<'_>, mut args: Vec<String>) -> anyhow::Result<Server> {
    args.extend(launch.args.iter().cloned());
    Server::start(&Launch {
        args,
        log: launch.log.clone(),
        ..*launch
    })
}
