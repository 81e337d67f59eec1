//! `sigil-bench`: measures the crypto ceiling, then drives a release `sigil serve` on loopback
//! (mint, verify, and the token exchange once it exists) at a fixed concurrency for a fixed
//! time, single-issuer and at scale, and prints Markdown. Every run is bounded in time; every
//! request goes to 127.0.0.1; every server it starts is stopped on every exit path.

mod client;
mod crypto;
mod load;
mod procfs;
mod report;
mod scale;
mod server;
mod setup;

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use bytes::Bytes;
use clap::Parser;

use crate::client::Target;
use crate::crypto::{Alg, Ceiling};
use crate::load::{Shape, Workload};
use crate::report::Row;
use crate::server::{Launch, Server};

/// Benchmark a release Sigil on loopback.
#[derive(Debug, Parser)]
#[command(name = "sigil-bench")]
struct Args {
    /// About 3 s per scenario instead of 10 (and shorter crypto loops).
    #[arg(long)]
    quick: bool,
    /// Seconds per measured scenario (overrides --quick).
    #[arg(long)]
    duration: Option<f64>,
    /// Connections, each with one request in flight.
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// The `sigil` binary [default: `sigil` beside this binary, i.e. target/release/sigil].
    #[arg(long)]
    sigil: Option<PathBuf>,
    /// Trusted issuers (distinct keys) in the scale scenario.
    #[arg(long, default_value_t = 10_000)]
    scale_issuers: usize,
    /// Roles (over 100 JWT issuers) in the scale scenario.
    #[arg(long, default_value_t = 10_000)]
    scale_roles: usize,
    /// Skip the scale scenario.
    #[arg(long)]
    no_scale: bool,
    /// The server's `--log-filter` (Sigil's default is `info`).
    #[arg(long, default_value = "info")]
    log_filter: String,
    /// Give up (and stop every server) after this many minutes.
    #[arg(long, default_value_t = 30)]
    max_minutes: u64,
    /// Run only the single-issuer scenarios whose name contains this (e.g. `mint ES256`), for
    /// profiling.
    #[arg(long)]
    only: Option<String>,
    /// Also write the report to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
}

impl Args {
    fn shape(&self) -> Shape {
        let seconds = self
            .duration
            .unwrap_or(if self.quick { 3.0 } else { 10.0 })
            .clamp(0.1, 600.0);
        Shape {
            concurrency: self.concurrency.clamp(1, 1024),
            warmup: Duration::from_millis(if self.quick { 500 } else { 1000 }),
            duration: Duration::from_secs_f64(seconds),
        }
    }

    fn selects(&self, scenario: &str) -> bool {
        self.only
            .as_deref()
            .is_none_or(|only| scenario.contains(only))
    }

    fn crypto_time(&self) -> Duration {
        Duration::from_millis(if self.quick { 500 } else { 2000 })
    }
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let limit = Duration::from_secs(args.max_minutes.max(1) * 60);
    let report = runtime.block_on(async {
        tokio::time::timeout(limit, run(&args))
            .await
            .with_context(|| format!("the benchmark ran past --max-minutes {}", args.max_minutes))?
    })?;
    println!("{report}");
    if let Some(path) = &args.markdown {
        std::fs::write(path, &report)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(())
}

async fn run(args: &Args) -> anyhow::Result<String> {
    let binary = sigil_binary(args)?;
    let shape = args.shape();
    let ticks = procfs::clock_ticks();
    let work = tempfile::Builder::new().prefix("sigil-bench-").tempdir()?;
    eprintln!(
        "sigil-bench: {} · logs in {}",
        binary.display(),
        work.path().display()
    );

    eprintln!(
        "== crypto ceiling ({:?} per loop, one thread)",
        args.crypto_time()
    );
    let ceilings = crypto::measure_all(args.crypto_time())?;
    let ceiling = |alg: Alg| ceilings.iter().find(|c| c.alg == alg).copied();
    let auth = ceiling(Alg::Es256).context("no ES256 ceiling")?.raw.verify;

    eprintln!("== single issuer per algorithm (sigil serve --dev)");
    let dev = Server::start(&Launch {
        binary: &binary,
        args: vec!["--dev".into()],
        log: work.path().join("dev.log"),
        log_filter: &args.log_filter,
    })?;
    eprintln!("   server pid {} on {}", dev.pid(), dev.addr);
    let token = dev
        .root_token
        .clone()
        .context("--dev printed no root token")?;
    let target = Target::new(dev.addr, token)?;
    let mut admin = target.connect().await?;
    let mut issuers = Vec::new();
    for alg in Alg::ALL {
        issuers.push(setup::create_issuer(&mut admin, alg).await?);
    }
    let mut rows = Vec::new();
    for issuer in &issuers {
        let c = ceiling(issuer.alg).context("missing ceiling")?;
        let workload = Workload::single(issuer.mint_path(), Bytes::from_static(b"{}"), JSON);
        let name = format!("mint {}", issuer.alg.name());
        if !args.selects(&name) {
            continue;
        }
        rows.push(
            measure(
                &name,
                &target,
                &dev,
                ticks,
                &workload,
                shape,
                mint_rates(&c, auth),
            )
            .await?,
        );
    }
    for issuer in &issuers {
        let c = ceiling(issuer.alg).context("missing ceiling")?;
        let name = format!("verify {}", issuer.alg.name());
        if !args.selects(&name) {
            continue;
        }
        let token = setup::mint(&mut admin, issuer).await?;
        let workload = Workload::single("/v1/verify".into(), verify_body(&token)?, JSON);
        rows.push(
            measure(
                &name,
                &target,
                &dev,
                ticks,
                &workload,
                shape,
                verify_rates(&c, auth),
            )
            .await?,
        );
    }
    let exchange_note = match issuers.first().filter(|_| args.selects("exchange ES256")) {
        Some(issuer) => {
            exchange(
                &mut admin, issuer, &target, &dev, ticks, shape, &ceilings, &mut rows,
            )
            .await?
        }
        None => None,
    };
    let dev_peak = dev.peak_rss_bytes()?;
    drop(admin);
    dev.stop();

    let scale = if args.no_scale {
        None
    } else {
        Some(run_scale(args, &binary, work.path(), ticks, shape, &ceilings, auth).await?)
    };

    let mut out = String::new();
    out.push_str(&header(args, shape)?);
    out.push_str("\n### Crypto ceiling (one thread, keys parsed once)\n\n");
    out.push_str(&report::ceilings(&ceilings));
    out.push_str(&format!(
        "\n### Scenarios ({} connections, {:.0} s each after {:.1} s warm-up)\n\n",
        shape.concurrency,
        shape.duration.as_secs_f64(),
        shape.warmup.as_secs_f64()
    ));
    let mut all_rows = rows;
    if let Some(scale) = &scale {
        all_rows.extend(scale.rows.iter().cloned());
    }
    out.push_str(&report::scenarios(&all_rows));
    out.push_str(
        "\n`÷ raw crypto`: requests per server CPU-second over the aws-lc-rs rate of the request's own \
         operation (sign for mint, verify for verify). `÷ crypto incl. auth`: over the rate of every \
         signature operation the request pays for, including the ES256 verification of the bearer \
         token that authenticates each API call. `other CPU s`: CPU the rest of the machine used \
         in the window (0 on a quiet machine; wall-clock figures are only comparable when it is).\n",
    );
    out.push_str(&format!(
        "\nPeak RSS of the `--dev` server: {}.\n",
        report::mebibytes(dev_peak)
    ));
    if let Some(note) = exchange_note {
        out.push_str(&format!("\nToken exchange: {note}\n"));
    }
    let failures = report::failures(&all_rows);
    if !failures.is_empty() {
        out.push_str("\nFailures:\n\n");
        out.push_str(&failures);
    }
    if let Some(scale) = &scale {
        out.push_str(&scale.summary);
    }
    out.push_str(&targets(&all_rows, &ceilings, scale.as_ref()));
    Ok(out)
}

const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// Raw and all-inclusive crypto rates of a mint of `c.alg`: its signature, plus the ES256
/// verification of the root token that authenticates the call.
fn mint_rates(c: &Ceiling, auth: f64) -> (f64, f64) {
    (c.raw.sign, combined(&[c.raw.sign, auth]))
}

fn verify_rates(c: &Ceiling, auth: f64) -> (f64, f64) {
    (c.raw.verify, combined(&[c.raw.verify, auth]))
}

/// The rate of doing each operation once per request: 1 / Σ(1 / rate).
fn combined(rates: &[f64]) -> f64 {
    1.0 / rates.iter().map(|r| 1.0 / r).sum::<f64>()
}

fn verify_body(token: &str) -> anyhow::Result<Bytes> {
    Ok(Bytes::from(serde_json::to_vec(
        &serde_json::json!({ "token": token }),
    )?))
}

async fn measure(
    name: &str,
    target: &Target,
    server: &Server,
    ticks: f64,
    workload: &Workload,
    shape: Shape,
    (raw_rate, crypto_rate): (f64, f64),
) -> anyhow::Result<Row> {
    eprintln!("   {name} ...");
    let outcome = load::run(target, server.pid(), ticks, workload, shape).await?;
    let row = Row {
        scenario: name.to_owned(),
        outcome,
        raw_rate,
        crypto_rate,
    };
    eprintln!(
        "   {name}: {} req/s, {} req per server CPU-s, p99 {:.2} ms, {} errors",
        report::thousands(row.throughput()),
        report::thousands(row.per_cpu_second()),
        row.outcome.latency.value_at_quantile(0.99) as f64 / 1000.0,
        row.outcome.errors
    );
    Ok(row)
}

/// Drives `POST /jwt/{name}/oauth/token` (RFC 8693) if the server has it; otherwise answers
/// why not, for the report.
#[allow(clippy::too_many_arguments)]
async fn exchange(
    admin: &mut client::Connection,
    issuer: &setup::Issuer,
    target: &Target,
    server: &Server,
    ticks: f64,
    shape: Shape,
    ceilings: &[Ceiling],
    rows: &mut Vec<Row>,
) -> anyhow::Result<Option<String>> {
    let subject = setup::mint(admin, issuer).await?;
    let path = format!("/jwt/{}/oauth/token", issuer.name);
    let form = format!(
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
         &subject_token={subject}\
         &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt\
         &scope={}",
        setup::ROLE
    );
    let body = Bytes::from(form);
    let probe = admin
        .send(http::Method::POST, &path, FORM, body.clone())
        .await?;
    if probe.status != http::StatusCode::OK {
        return Ok(Some(format!(
            "not measured: the probe answered {}",
            probe.describe()
        )));
    }
    let c = ceilings
        .iter()
        .find(|c| c.alg == issuer.alg)
        .context("missing ceiling")?;
    let workload = Workload::single(path, body, FORM);
    let name = format!("exchange {}", issuer.alg.name());
    let rates = (
        combined(&[c.raw.sign, c.raw.verify]),
        combined(&[c.raw.sign, c.raw.verify]),
    );
    rows.push(measure(&name, target, server, ticks, &workload, shape, rates).await?);
    Ok(None)
}

struct Scale {
    rows: Vec<Row>,
    summary: String,
    /// Peak RSS of the restarted server after the scale scenarios.
    peak_rss: u64,
}

async fn run_scale(
    args: &Args,
    binary: &std::path::Path,
    work: &std::path::Path,
    ticks: f64,
    shape: Shape,
    ceilings: &[Ceiling],
    auth: f64,
) -> anyhow::Result<Scale> {
    let sizes = scale::Sizes {
        trusted_issuers: args.scale_issuers.max(1),
        roles: args.scale_roles.max(1),
    };
    eprintln!(
        "== scale: {} trusted issuers, {} roles over {} JWT issuers",
        sizes.trusted_issuers,
        sizes.roles,
        scale::JWT_ISSUERS.min(sizes.roles)
    );
    let data_dir = work.join("scale-data");
    std::fs::create_dir_all(&data_dir)?;
    let loading = Launch {
        binary,
        args: Vec::new(),
        log: work.join("scale-load.log"),
        log_filter: &args.log_filter,
    };
    let loaded = scale::load(&loading, &data_dir, sizes, shape.concurrency).await?;
    let restarting = Launch {
        log: work.join("scale-restart.log"),
        ..loading
    };
    let (server, restart) =
        scale::restart(&restarting, &data_dir, &loaded.share, &loaded.root_token).await?;
    eprintln!(
        "   restart: listening after {:.2}s, ready after {:.2}s",
        restart.to_listening.as_secs_f64(),
        restart.to_ready.as_secs_f64()
    );
    let ready_rss = server.peak_rss_bytes()?;
    let target = Target::new(server.addr, loaded.root_token.clone())?;
    let es256 = ceilings
        .iter()
        .find(|c| c.alg == Alg::Es256)
        .context("missing ceiling")?;
    let rows = vec![
        measure(
            &format!("mint ES256 × {} roles", sizes.roles),
            &target,
            &server,
            ticks,
            &loaded.mint,
            shape,
            mint_rates(es256, auth),
        )
        .await?,
        measure(
            &format!("verify ES256 × {} issuers", sizes.trusted_issuers),
            &target,
            &server,
            ticks,
            &loaded.verify,
            shape,
            verify_rates(es256, auth),
        )
        .await?,
    ];
    let end_rss = server.peak_rss_bytes()?;
    server.stop();

    let mut summary = String::from(
        "\n### Scale configuration\n\n| step | count | time | per second |\n| --- | ---: | ---: | ---: |\n",
    );
    for (what, count, took) in &loaded.steps {
        summary.push_str(&format!(
            "| create {what} through the API ({} connections) | {count} | {:.2} s | {} |\n",
            shape.concurrency,
            took.as_secs_f64(),
            report::thousands(*count as f64 / took.as_secs_f64())
        ));
    }
    summary.push_str(&format!(
        "| restart: spawn → `Listening on` (store opened, configuration loaded) | | {:.2} s | |\n\
         | restart: spawn → first `/readyz` 200 (auto-unsealed, serving) | | {:.2} s | |\n",
        restart.to_listening.as_secs_f64(),
        restart.to_ready.as_secs_f64()
    ));
    summary.push_str(&format!(
        "\nPeak RSS (VmHWM): the server that took every write {}; the restarted server when ready {}, \
         after the scale scenarios {}.\n",
        report::mebibytes(loaded.loading_peak_rss),
        report::mebibytes(ready_rss),
        report::mebibytes(end_rss)
    ));
    Ok(Scale {
        rows,
        summary,
        peak_rss: end_rss,
    })
}

/// Where each target of issue 6 stands.
fn targets(rows: &[Row], ceilings: &[Ceiling], scale: Option<&Scale>) -> String {
    let find = |prefix: &str| rows.iter().find(|r| r.scenario == prefix);
    let starts = |prefix: &str| rows.iter().find(|r| r.scenario.starts_with(prefix));
    let es = ceilings.iter().find(|c| c.alg == Alg::Es256);
    let mut out = String::from(
        "\n### Targets (ES256, 2 cores)\n\n| target | measured | met |\n| --- | --- | :---: |\n",
    );
    let mut line = |target: &str, measured: String, met: bool| {
        out.push_str(&format!(
            "| {target} | {measured} | {} |\n",
            if met { "yes" } else { "**no**" }
        ));
    };
    if let (Some(mint), Some(es)) = (find("mint ES256"), es) {
        let v = mint.per_cpu_second();
        line(
            "mint ≥ 30,000 req per server CPU-s",
            report::thousands(v),
            v >= 30_000.0,
        );
        let share = v / es.raw.sign;
        line(
            "mint ≥ 60% of raw sign rate",
            format!("{:.0}%", share * 100.0),
            share >= 0.6,
        );
    }
    if let (Some(verify), Some(es)) = (find("verify ES256"), es) {
        let v = verify.per_cpu_second();
        line(
            "verify ≥ 13,000 req per server CPU-s",
            report::thousands(v),
            v >= 13_000.0,
        );
        let share = v / es.raw.verify;
        line(
            "verify ≥ 85% of raw verify rate",
            format!("{:.0}%", share * 100.0),
            share >= 0.85,
        );
    }
    for row in rows.iter().filter(|r| r.scenario.contains("ES256")) {
        let p99 = row.outcome.latency.value_at_quantile(0.99) as f64 / 1000.0;
        line(
            &format!("p99 < 5 ms: {}", row.scenario),
            format!("{p99:.2} ms"),
            p99 < 5.0,
        );
    }
    if let Some(scale) = scale {
        line(
            "peak RSS < 64 MiB with the scale configuration (restarted server)",
            report::mebibytes(scale.peak_rss),
            scale.peak_rss < 64 * 1024 * 1024,
        );
        for (single, at_scale) in [
            ("mint ES256", "mint ES256 ×"),
            ("verify ES256", "verify ES256 ×"),
        ] {
            if let (Some(a), Some(b)) = (find(single), starts(at_scale)) {
                let ratio = b.per_cpu_second() / a.per_cpu_second();
                line(
                    &format!("{at_scale} within 10% of {single} (req per server CPU-s)"),
                    format!("{:+.1}%", (ratio - 1.0) * 100.0),
                    ratio >= 0.9,
                );
            }
        }
    }
    out
}

/// The command and the machine, for the README.
fn header(args: &Args, shape: Shape) -> anyhow::Result<String> {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|l| {
                l.strip_prefix("model name")
                    .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(
            || "?".into(),
            |kib| format!("{:.0} GiB", kib as f64 / 1024.0 / 1024.0),
        );
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let mut command = String::from("./scripts/bench");
    if args.quick {
        command.push_str(" --quick");
    }
    if args.duration.is_some() {
        command.push_str(&format!(" --duration {}", shape.duration.as_secs_f64()));
    }
    Ok(format!(
        "## Sigil benchmark\n\nCommand: `{command}` (release build, loopback, load generator and server \
         sharing the machine). Machine: {cpu}, {cores} cores, {memory} RAM, Linux {}; server log filter \
         `{}`.\n",
        kernel.trim(),
        args.log_filter
    ))
}

fn sigil_binary(args: &Args) -> anyhow::Result<PathBuf> {
    let binary = match &args.sigil {
        Some(path) => path.clone(),
        None => std::env::current_exe()?.with_file_name("sigil"),
    };
    if !binary.is_file() {
        anyhow::bail!(
            "no sigil binary at {}: run `cargo build --release -p sigil` (or ./scripts/bench) first",
            binary.display()
        );
    }
    Ok(binary)
}
