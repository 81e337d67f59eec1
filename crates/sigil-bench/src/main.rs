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
mod single;

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Parser;

use crate::load::Shape;

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
    /// Keep the scale data directory (with `unseal.key`) here instead of a temporary one, to
    /// inspect or profile a server started on it.
    #[arg(long)]
    keep_scale_data: Option<PathBuf>,
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
    /// An empty PostgreSQL database on loopback (`postgres://user@127.0.0.1:PORT/db`): mint,
    /// verify and exchange (ES256) run again on a node backed by it. `./scripts/bench` starts a
    /// throwaway cluster and passes it.
    #[arg(long, env = "SIGIL_BENCH_POSTGRES_URL", conflicts_with = "no_postgres")]
    postgres: Option<String>,
    /// Measure SQLite only, and say so in the report.
    #[arg(long)]
    no_postgres: bool,
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

/// What every part of a run shares.
pub struct Plan<'a> {
    /// The `sigil` binary.
    pub binary: &'a Path,
    /// Where logs (and, by default, the scale data) go.
    pub work: &'a Path,
    /// The servers' `--log-filter`.
    pub log_filter: &'a str,
    /// Only single-issuer scenarios whose name contains this.
    pub only: Option<&'a str>,
    /// How hard and how long.
    pub shape: Shape,
    /// `CLK_TCK`.
    pub ticks: f64,
}

impl Plan<'_> {
    /// Whether `scenario` runs.
    pub fn selects(&self, scenario: &str) -> bool {
        self.only.is_none_or(|only| scenario.contains(only))
    }
}

async fn run(args: &Args) -> anyhow::Result<String> {
    let binary = sigil_binary(args)?;
    let shape = args.shape();
    let work = tempfile::Builder::new().prefix("sigil-bench-").tempdir()?;
    eprintln!(
        "sigil-bench: {} · logs in {}",
        binary.display(),
        work.path().display()
    );
    let plan = Plan {
        binary: &binary,
        work: work.path(),
        log_filter: &args.log_filter,
        only: args.only.as_deref(),
        shape,
        ticks: procfs::clock_ticks(),
    };

    eprintln!(
        "== crypto ceiling ({:?} per loop, one thread)",
        args.crypto_time()
    );
    let ceilings = crypto::measure_all(args.crypto_time())?;
    let single = single::run(&plan, &ceilings, &single::Storage::Dev).await?;
    let postgres = match &args.postgres {
        Some(url) => {
            client::check_postgres_loopback(url)?;
            Some(single::run(&plan, &ceilings, &single::Storage::Postgres(url.clone())).await?)
        }
        None => None,
    };
    let scale = if args.no_scale {
        None
    } else {
        let sizes = scale::Sizes {
            trusted_issuers: args.scale_issuers.max(1),
            roles: args.scale_roles.max(1),
        };
        let data_dir = match &args.keep_scale_data {
            Some(dir) if dir.exists() && std::fs::read_dir(dir)?.next().is_some() => {
                anyhow::bail!("--keep-scale-data {} is not empty", dir.display());
            }
            Some(dir) => dir.clone(),
            None => work.path().join("scale-data"),
        };
        Some(scale::run(&plan, sizes, &data_dir, &ceilings).await?)
    };

    let mut out = header(args, shape);
    out.push_str("\n### Crypto ceiling (one thread, keys parsed once)\n\n");
    out.push_str(&report::ceilings(&ceilings));
    out.push_str(&format!(
        "\n### Scenarios ({} connections, {:.0} s each after {:.1} s warm-up)\n\n",
        shape.concurrency,
        shape.duration.as_secs_f64(),
        shape.warmup.as_secs_f64()
    ));
    let mut rows = single.rows;
    rows.extend(postgres.iter().flat_map(|p| p.rows.iter().cloned()));
    rows.extend(scale.iter().flat_map(|s| s.rows.iter().cloned()));
    out.push_str(&report::scenarios(&rows));
    out.push_str(
        "\n`÷ raw crypto`: requests per server CPU-second over the single-thread aws-lc-rs rate of \
         the request's own signature operation (sign for mint, verify for verify, both for \
         exchange). `server µs/req beyond crypto`: server CPU per request minus that operation \
         (HTTP, kernel, JSON, the bearer-token check, logging). Server CPU counts every thread \
         of the server, and on loopback also the kernel's delivery of each response into the \
         load generator's socket. `other CPU s`: CPU the rest of the machine used in the window \
         (0 on a quiet machine; wall-clock figures are only comparable when it is).\n",
    );
    out.push_str(&format!(
        "\nPeak RSS of the `--dev` server: {}.\n",
        report::mebibytes(single.peak_rss)
    ));
    if let Some(note) = single.exchange_note {
        out.push_str(&format!("\nToken exchange: {note}.\n"));
    }
    match &postgres {
        Some(postgres) => {
            out.push_str(&format!(
                "\nOn PostgreSQL: a `sigil serve --storage postgres://...` node on the database \
                 given (`./scripts/bench` starts a throwaway cluster with durable commits: fsync \
                 and synchronous_commit on), initialised and unsealed, same load; the database's \
                 own CPU is in `other CPU s`. Peak RSS of that node: {}.\n",
                report::mebibytes(postgres.peak_rss)
            ));
            if let Some(note) = &postgres.exchange_note {
                out.push_str(&format!("Its token exchange: {note}.\n"));
            }
        }
        None => out.push_str("\nOn PostgreSQL: not measured (no `--postgres` URL).\n"),
    }
    let failures = report::failures(&rows);
    if !failures.is_empty() {
        out.push_str("\nFailures:\n\n");
        out.push_str(&failures);
    }
    if let Some(scale) = &scale {
        out.push_str(&report::scale(scale, shape.concurrency));
    }
    out.push_str(&report::targets(&rows, &ceilings, scale.as_ref()));
    Ok(out)
}

/// The command and the machine, for the README.
fn header(args: &Args, shape: Shape) -> String {
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
    if args.no_postgres {
        command.push_str(" --no-postgres");
    }
    format!(
        "## Sigil benchmark\n\nCommand: `{command}` (release build, loopback, load generator and server \
         sharing the machine). Machine: {cpu}, {cores} cores, {memory} RAM, Linux {}; server log filter \
         `{}`.\n",
        kernel.trim(),
        args.log_filter
    )
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
