//! The single-issuer scenarios: the HTTP floor (`/healthz`), then mint and verify per
//! algorithm, then the RFC 8693 token exchange, first with subject tokens that may be traded
//! again and again, then with single-use tokens (`require_jti`), whose every exchange writes a
//! replay record. They run on a `sigil serve --dev` (SQLite) and, given a PostgreSQL, again
//! (ES256 only) on a node backed by it. Verify and the first exchange cycle through many
//! distinct tokens so that no cache of verified tokens can stand in for the work.

use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use bytes::Bytes;
use serde_json::json;

use crate::Plan;
use crate::client::{Connection, Target};
use crate::crypto::{Alg, Ceiling};
use crate::load::{Call, Meter, Workload};
use crate::report::Row;
use crate::server::{Launch, Server};
use crate::setup::{self, Issuer};

/// Distinct tokens the verify and exchange scenarios cycle through.
pub const DISTINCT_TOKENS: usize = 256;
const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";
/// Single-use exchange: the rate assumed when no plain exchange was measured to size the
/// pool of subject tokens by.
const ASSUMED_EXCHANGE_RATE: f64 = 20_000.0;
/// Single-use exchange: subject tokens made per request the window is expected to hold.
const SINGLE_USE_HEADROOM: f64 = 2.0;
/// Single-use exchange: never more subject tokens than this (about 1 GiB of form bodies).
const MAX_SINGLE_USE_TOKENS: usize = 2_000_000;

/// How the names of scenarios run on PostgreSQL end.
pub const POSTGRES_SUFFIX: &str = " on PostgreSQL";

/// Where the server under test keeps its state.
#[derive(Clone, Debug)]
pub enum Storage {
    /// `sigil serve --dev`: SQLite in a temporary directory, initialised and unsealed.
    Dev,
    /// A node on this (empty) PostgreSQL database, initialised and unsealed here.
    Postgres(String),
}

impl Storage {
    /// What the scenario names say about the storage ("" for the default).
    pub fn suffix(&self) -> &'static str {
        match self {
            Storage::Dev => "",
            Storage::Postgres(_) => POSTGRES_SUFFIX,
        }
    }

    /// The algorithms measured on this storage: all of them on the default, ES256 to compare.
    fn algorithms(&self) -> &'static [Alg] {
        match self {
            Storage::Dev => &Alg::ALL,
            Storage::Postgres(_) => &[Alg::Es256],
        }
    }

    /// Starts the server and answers it with a root token.
    async fn start(&self, plan: &Plan<'_>) -> anyhow::Result<(Server, String)> {
        match self {
            Storage::Dev => {
                let server = Server::start(&Launch {
                    binary: plan.binary,
                    args: vec!["--dev".into()],
                    log: plan.work.join("dev.log"),
                    log_filter: plan.log_filter,
                })?;
                let token = server
                    .root_token
                    .clone()
                    .context("--dev printed no root token")?;
                Ok((server, token))
            }
            Storage::Postgres(url) => {
                let data_dir = plan.work.join("postgres-node");
                std::fs::create_dir_all(&data_dir)?;
                let server = Server::start(&Launch {
                    binary: plan.binary,
                    args: vec![
                        "--storage".into(),
                        url.clone(),
                        "--data-dir".into(),
                        data_dir
                            .to_str()
                            .context("the work directory is not UTF-8")?
                            .to_owned(),
                    ],
                    log: plan.work.join("postgres-node.log"),
                    log_filter: plan.log_filter,
                })?;
                let (_, token) = setup::initialise(&Target::new(server.addr, String::new())?)
                    .await
                    .context(
                        "initialising the PostgreSQL-backed node (the database given with \
                         --postgres must be empty)",
                    )?;
                Ok((server, token))
            }
        }
    }
}

/// What the single-issuer part measured on one storage.
pub struct Single {
    /// One row per scenario.
    pub rows: Vec<Row>,
    /// How the exchange went, when it was not measured or needs a word.
    pub exchange_note: Option<String>,
    /// Peak RSS of the server.
    pub peak_rss: u64,
}

/// Starts a server on `storage`, configures it and runs every selected scenario.
pub async fn run(
    plan: &Plan<'_>,
    ceilings: &[Ceiling],
    storage: &Storage,
) -> anyhow::Result<Single> {
    let suffix = storage.suffix();
    eprintln!("== single issuer per algorithm{suffix}");
    let (server, token) = storage.start(plan).await?;
    eprintln!("   server pid {} on {}", server.pid(), server.addr);
    let target = Target::new(server.addr, token)?;
    let meter = Meter {
        target: &target,
        pid: server.pid(),
        ticks: plan.ticks,
        shape: plan.shape,
    };
    let mut admin = target.connect().await?;
    let mut issuers = Vec::new();
    for alg in storage.algorithms() {
        issuers.push(setup::create_issuer(&mut admin, *alg).await?);
    }
    let ceiling = |alg: Alg| {
        ceilings
            .iter()
            .find(|c| c.alg == alg)
            .copied()
            .context("missing ceiling")
    };

    let mut rows = Vec::new();
    let floor = format!("GET /healthz (no crypto){suffix}");
    if plan.selects(&floor) {
        // HTTP, routing, the request-context layer and the kernel, no crypto.
        let workload = Workload::get("/healthz".into());
        rows.push(meter.measure(&floor, &workload, f64::INFINITY).await?);
    }
    for issuer in &issuers {
        let name = format!("mint {}{suffix}", issuer.alg.name());
        if plan.selects(&name) {
            let workload = Workload::single(issuer.mint_path(), Bytes::from_static(b"{}"), JSON);
            let rate = ceiling(issuer.alg)?.raw.sign;
            rows.push(meter.measure(&name, &workload, rate).await?);
        }
    }
    for issuer in &issuers {
        let name = format!("verify {}{suffix}", issuer.alg.name());
        if plan.selects(&name) {
            let workload = verify_workload(&mut admin, issuer).await?;
            let rate = ceiling(issuer.alg)?.raw.verify;
            rows.push(meter.measure(&name, &workload, rate).await?);
        }
    }
    let mut notes = Vec::new();
    let Some(issuer) = issuers.iter().find(|i| i.alg == Alg::Es256) else {
        anyhow::bail!("no ES256 issuer");
    };
    let rate = combined(&[
        ceiling(issuer.alg)?.raw.sign,
        ceiling(issuer.alg)?.raw.verify,
    ]);
    let exchanges = format!("exchange {}{suffix}", issuer.alg.name());
    let mut plain_rate = None;
    if plan.selects(&exchanges) {
        notes.push(match exchange_workload(&mut admin, issuer).await? {
            Ok(workload) => {
                let row = meter.measure(&exchanges, &workload, rate).await?;
                plain_rate = Some(row.throughput());
                rows.push(row);
                format!(
                    "`{exchanges}`: {DISTINCT_TOKENS} subject tokens of the trusted issuer `{}` \
                     traded for its role `{}` again and again",
                    issuer.name,
                    setup::ROLE
                )
            }
            Err(why) => format!("`{exchanges}` not measured: {why}"),
        });
    }
    let single_use = format!("exchange {} single-use jti{suffix}", issuer.alg.name());
    if plan.selects(&single_use) {
        let expected = plain_rate.unwrap_or(ASSUMED_EXCHANGE_RATE)
            * (plan.shape.warmup + plan.shape.duration).as_secs_f64()
            * SINGLE_USE_HEADROOM;
        let count = (expected.ceil() as usize).clamp(DISTINCT_TOKENS, MAX_SINGLE_USE_TOKENS);
        notes.push(match single_use_workload(&mut admin, issuer, count).await? {
            Ok(workload) => {
                rows.push(meter.measure(&single_use, &workload, rate).await?);
                format!(
                    "`{single_use}`: {count} subject tokens signed by the benchmark for a trusted \
                     issuer with `require_jti`, each exchanged once (each exchange records its \
                     `jti` in the store)"
                )
            }
            Err(why) => format!("`{single_use}` not measured: {why}"),
        });
    }
    let peak_rss = server.peak_rss_bytes()?;
    drop(admin);
    server.stop();
    Ok(Single {
        rows,
        exchange_note: (!notes.is_empty()).then(|| notes.join("; ")),
        peak_rss,
    })
}

/// The rate of doing each operation once per request: 1 / Σ(1 / rate).
fn combined(rates: &[f64]) -> f64 {
    1.0 / rates.iter().map(|r| 1.0 / r).sum::<f64>()
}

async fn verify_workload(admin: &mut Connection, issuer: &Issuer) -> anyhow::Result<Workload> {
    let mut calls = Vec::with_capacity(DISTINCT_TOKENS);
    for _ in 0..DISTINCT_TOKENS {
        let token = setup::mint(admin, issuer).await?;
        calls.push(Call {
            path: "/v1/verify".into(),
            body: Bytes::from(serde_json::to_vec(&serde_json::json!({ "token": token }))?),
        });
    }
    Ok(Workload::cycling(calls, JSON))
}

/// The exchange calls (`POST /jwt/{name}/oauth/token`, RFC 8693) once a probe succeeded, or
/// why they cannot run on this server.
async fn exchange_workload(
    admin: &mut Connection,
    issuer: &Issuer,
) -> anyhow::Result<Result<Workload, String>> {
    if let Err(error) = setup::allow_exchange(admin, issuer, &issuer.name).await {
        return Ok(Err(format!(
            "its policy and mapping could not be created ({error:#})"
        )));
    }
    let path = format!("/jwt/{}/oauth/token", issuer.name);
    let mut calls = Vec::with_capacity(DISTINCT_TOKENS);
    for _ in 0..DISTINCT_TOKENS {
        let subject = setup::mint(admin, issuer).await?;
        calls.push(exchange_call(&path, &subject));
    }
    if let Err(why) = probe(admin, &calls[0]).await? {
        return Ok(Err(why));
    }
    Ok(Ok(Workload::cycling(calls, FORM)))
}

/// `count` exchange calls, each with its own single-use subject token (signed here, with a
/// key of the benchmark's own that a `require_jti` trusted issuer holds inline), or why they
/// cannot run. A probe spends one more token to check the exchange answers 200, and that the
/// same token a second time is refused.
async fn single_use_workload(
    admin: &mut Connection,
    issuer: &Issuer,
    count: usize,
) -> anyhow::Result<Result<Workload, String>> {
    let signer = Alg::Es256.generate()?;
    let trusted = match setup::trust_single_use_signer(admin, issuer, &signer).await {
        Ok(trusted) => trusted,
        Err(error) => {
            return Ok(Err(format!(
                "its trusted issuer could not be created ({error:#})"
            )));
        }
    };
    if let Err(error) = setup::allow_exchange(admin, issuer, &trusted.name).await {
        return Ok(Err(format!(
            "its policy and mapping could not be created ({error:#})"
        )));
    }
    let path = format!("/jwt/{}/oauth/token", issuer.name);
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let started = std::time::Instant::now();
    let mut calls = (0..=count)
        .map(|i| {
            let claims = json!({
                "iss": trusted.iss,
                "sub": format!("pipeline-{}", i % 1000),
                "iat": now,
                "exp": now + 3600,
                "jti": format!("bench-{now}-{i}"),
            });
            let subject = signer.sign_compact(&serde_json::to_vec(&claims)?)?;
            Ok(exchange_call(&path, &subject))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    eprintln!(
        "   {count} single-use subject tokens signed in {:.2}s",
        started.elapsed().as_secs_f64()
    );
    let spent = calls.pop().context("no calls")?;
    if let Err(why) = probe(admin, &spent).await? {
        return Ok(Err(why));
    }
    let again = admin
        .send(http::Method::POST, &spent.path, FORM, spent.body)
        .await?;
    if again.status != http::StatusCode::BAD_REQUEST {
        return Ok(Err(format!(
            "a replayed subject token answered {}, not 400",
            again.describe()
        )));
    }
    Ok(Ok(Workload::each_once(calls, FORM)))
}

/// `POST {path}` trading `subject` for the benchmark role (RFC 8693).
fn exchange_call(path: &str, subject: &str) -> Call {
    let form = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
         &subject_token={subject}\
         &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt\
         &scope={}",
        setup::ROLE
    );
    Call {
        path: path.to_owned(),
        body: Bytes::from(form),
    }
}

/// Sends `call` once: `Err` says why the scenario cannot run when it does not answer 200.
async fn probe(admin: &mut Connection, call: &Call) -> anyhow::Result<Result<(), String>> {
    let answer = admin
        .send(http::Method::POST, &call.path, FORM, call.body.clone())
        .await?;
    if answer.status != http::StatusCode::OK {
        return Ok(Err(format!("the probe answered {}", answer.describe())));
    }
    Ok(Ok(()))
}
