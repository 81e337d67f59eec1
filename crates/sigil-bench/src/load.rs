//! The load generator: a fixed number of keep-alive connections in this one process, each
//! sending its next request as soon as the last one answered, for a fixed time. Latencies go
//! to an HDR histogram per connection; server and client CPU are read around the window.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hdrhistogram::Histogram;
use http::{Method, StatusCode};

use crate::client::{Connection, Target};
use crate::procfs;
use crate::report::{self, Row};

/// No connection sends more than this many requests in one run, whatever the duration.
const MAX_REQUESTS_PER_CONNECTION: u64 = 5_000_000;
/// Highest latency the histogram holds (a request past [`crate::client::REQUEST_TIMEOUT`]
/// has already failed).
const MAX_LATENCY_MICROS: u64 = 60_000_000;

/// One request of a workload.
#[derive(Clone, Debug)]
pub struct Call {
    /// The path (and query).
    pub path: String,
    /// The body.
    pub body: Bytes,
}

/// What one scenario sends: the calls, taken round-robin across connections, or each once.
#[derive(Clone, Debug)]
pub struct Workload {
    /// The calls; connection `c` sends calls `c`, `c + n`, `c + 2n`, ... (mod the length),
    /// unless `once` is set.
    pub calls: Arc<Vec<Call>>,
    /// Their `Content-Type`.
    pub content_type: &'static str,
    /// Their method.
    pub method: Method,
    /// For calls that may succeed only once (a single-use `jti`): the index of the next call
    /// not yet sent, shared by every connection, the warm-up and the measured window. A
    /// connection stops when none are left.
    pub once: Option<Arc<AtomicUsize>>,
}

impl Workload {
    /// The same POST again and again.
    pub fn single(path: String, body: Bytes, content_type: &'static str) -> Workload {
        Workload::cycling(vec![Call { path, body }], content_type)
    }

    /// POSTs of `calls`, round-robin, again and again.
    pub fn cycling(calls: Vec<Call>, content_type: &'static str) -> Workload {
        Workload {
            calls: Arc::new(calls),
            content_type,
            method: Method::POST,
            once: None,
        }
    }

    /// POSTs of `calls`, each sent once.
    pub fn each_once(calls: Vec<Call>, content_type: &'static str) -> Workload {
        Workload {
            once: Some(Arc::new(AtomicUsize::new(0))),
            ..Workload::cycling(calls, content_type)
        }
    }

    /// The same GET again and again.
    pub fn get(path: String) -> Workload {
        Workload {
            method: Method::GET,
            ..Workload::single(path, Bytes::new(), "application/json")
        }
    }
}

/// How hard and how long.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    /// Connections, each with one request in flight.
    pub concurrency: usize,
    /// Unmeasured run first (connections warm, caches filled).
    pub warmup: Duration,
    /// The measured window.
    pub duration: Duration,
}

/// What a measured run saw.
#[derive(Clone)]
pub struct Outcome {
    /// Requests answered 200 inside the window.
    pub ok: u64,
    /// Requests answered otherwise or failed.
    pub errors: u64,
    /// The first failure, for the report.
    pub first_error: Option<String>,
    /// Wall time of the window, in seconds.
    pub elapsed: f64,
    /// Latency of the 200s, in microseconds.
    pub latency: Histogram<u64>,
    /// CPU seconds the server used in the window.
    pub server_cpu: f64,
    /// CPU seconds this process used in the window.
    pub client_cpu: f64,
    /// CPU seconds the whole machine was busy in the window, whoever used it: what neither the
    /// server nor this process used was taken by other processes.
    pub machine_cpu: f64,
    /// A single-use workload ran out of calls before the window ended.
    pub exhausted: bool,
}

/// A server under load and how to drive it.
pub struct Meter<'a> {
    /// Where it listens.
    pub target: &'a Target,
    /// Its process, for CPU time.
    pub pid: u32,
    /// `CLK_TCK`.
    pub ticks: f64,
    /// How hard and how long.
    pub shape: Shape,
}

impl Meter<'_> {
    /// Runs one scenario; `raw_rate` is the aws-lc-rs rate of the signature work one request
    /// exists for (infinite for none).
    pub async fn measure(
        &self,
        name: &str,
        workload: &Workload,
        raw_rate: f64,
    ) -> anyhow::Result<Row> {
        eprintln!("   {name} ...");
        let outcome = run(self.target, self.pid, self.ticks, workload, self.shape).await?;
        let row = Row {
            scenario: name.to_owned(),
            outcome,
            raw_rate,
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
}

/// Runs `workload` against `target` at `shape`, measuring the server `server_pid`.
pub async fn run(
    target: &Target,
    server_pid: u32,
    ticks: f64,
    workload: &Workload,
    shape: Shape,
) -> anyhow::Result<Outcome> {
    let mut connections = Vec::with_capacity(shape.concurrency);
    for _ in 0..shape.concurrency {
        connections.push(target.connect().await?);
    }
    if !shape.warmup.is_zero() {
        let (warm, _) = drive(target, connections, workload, shape.warmup).await?;
        connections = warm;
    }
    let server_before = procfs::cpu_seconds(Some(server_pid), ticks)?;
    let client_before = procfs::cpu_seconds(None, ticks)?;
    let machine_before = procfs::machine_ticks()?;
    let start = Instant::now();
    let (_, tallies) = drive(target, connections, workload, shape.duration).await?;
    let elapsed = start.elapsed().as_secs_f64();
    let server_cpu = procfs::cpu_seconds(Some(server_pid), ticks)? - server_before;
    let client_cpu = procfs::cpu_seconds(None, ticks)? - client_before;
    let machine_after = procfs::machine_ticks()?;
    let machine_cpu = (machine_after.0 - machine_before.0) as f64 / ticks;
    let mut latency = new_histogram()?;
    let mut ok = 0;
    let mut errors = 0;
    let mut first_error = None;
    let mut exhausted = false;
    for tally in tallies {
        latency.add(&tally.latency)?;
        ok += tally.ok;
        errors += tally.errors;
        first_error = first_error.or(tally.first_error);
        exhausted |= tally.exhausted;
    }
    Ok(Outcome {
        ok,
        errors,
        first_error,
        elapsed,
        latency,
        server_cpu,
        client_cpu,
        machine_cpu,
        exhausted,
    })
}

struct Tally {
    ok: u64,
    errors: u64,
    first_error: Option<String>,
    latency: Histogram<u64>,
    exhausted: bool,
}

/// Every connection sends until `duration` has passed; answers the connections still usable
/// and each connection's tally.
async fn drive(
    target: &Target,
    connections: Vec<Connection>,
    workload: &Workload,
    duration: Duration,
) -> anyhow::Result<(Vec<Connection>, Vec<Tally>)> {
    let deadline = Instant::now() + duration;
    let stride = connections.len().max(1);
    let mut tasks = Vec::with_capacity(connections.len());
    for (index, connection) in connections.into_iter().enumerate() {
        let workload = workload.clone();
        let target = target.clone();
        tasks.push(tokio::spawn(async move {
            one_connection(target, connection, workload, index, stride, deadline).await
        }));
    }
    let mut kept = Vec::new();
    let mut tallies = Vec::new();
    for task in tasks {
        let (connection, tally) = task.await??;
        kept.extend(connection);
        tallies.push(tally);
    }
    Ok((kept, tallies))
}

async fn one_connection(
    target: Target,
    mut connection: Connection,
    workload: Workload,
    first: usize,
    stride: usize,
    deadline: Instant,
) -> anyhow::Result<(Option<Connection>, Tally)> {
    let mut tally = Tally {
        ok: 0,
        errors: 0,
        first_error: None,
        latency: new_histogram()?,
        exhausted: false,
    };
    let calls = &workload.calls;
    let mut next = first % calls.len().max(1);
    let mut sent = 0u64;
    while Instant::now() < deadline && sent < MAX_REQUESTS_PER_CONNECTION {
        let call = match &workload.once {
            Some(cursor) => calls.get(cursor.fetch_add(1, Ordering::Relaxed)),
            None => calls.get(next),
        };
        let Some(call) = call else {
            tally.exhausted = workload.once.is_some();
            break;
        };
        next = (next + stride) % calls.len();
        sent += 1;
        let started = Instant::now();
        let answer = connection
            .send(
                workload.method.clone(),
                &call.path,
                workload.content_type,
                call.body.clone(),
            )
            .await;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        match answer {
            Ok(answer) if answer.status == StatusCode::OK => {
                tally.ok += 1;
                tally.latency.saturating_record(micros.max(1));
            }
            Ok(answer) => {
                tally.errors += 1;
                tally
                    .first_error
                    .get_or_insert_with(|| format!("{}: {}", call.path, answer.describe()));
            }
            Err(error) => {
                tally.errors += 1;
                tally
                    .first_error
                    .get_or_insert_with(|| format!("{error:#}"));
                // The connection may be gone: one new one, else this worker stops.
                match target.connect().await {
                    Ok(fresh) => connection = fresh,
                    Err(_) => return Ok((None, tally)),
                }
            }
        }
    }
    Ok((Some(connection), tally))
}

fn new_histogram() -> anyhow::Result<Histogram<u64>> {
    Ok(Histogram::new_with_bounds(1, MAX_LATENCY_MICROS, 3)?)
}
