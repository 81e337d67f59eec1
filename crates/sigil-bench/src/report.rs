//! The Markdown the benchmark prints: the crypto ceiling, one row per scenario, and the
//! scale figures, in the units the targets use (requests per server CPU-second).

use std::fmt::Write as _;

use crate::crypto::Ceiling;
use crate::load::Outcome;

/// One measured scenario.
#[derive(Clone)]
pub struct Row {
    /// What was driven.
    pub scenario: String,
    /// What happened.
    pub outcome: Outcome,
    /// The raw aws-lc-rs rate of the operation the request exists for (sign for mint, verify
    /// for verify).
    pub raw_rate: f64,
    /// The same with every signature operation the request pays for, the bearer-token check
    /// included: 1 / Σ(1 / rate).
    pub crypto_rate: f64,
}

impl Row {
    /// Requests answered 200 per second of wall time.
    pub fn throughput(&self) -> f64 {
        self.outcome.ok as f64 / self.outcome.elapsed
    }

    /// Requests per CPU-second of the server.
    pub fn per_cpu_second(&self) -> f64 {
        if self.outcome.server_cpu > 0.0 {
            self.outcome.ok as f64 / self.outcome.server_cpu
        } else {
            0.0
        }
    }
}

/// The crypto ceiling table.
pub fn ceilings(ceilings: &[Ceiling]) -> String {
    let mut out = String::new();
    out.push_str("| algorithm | aws-lc-rs sign/s | aws-lc-rs verify/s | sigil-jose sign_compact/s | sigil-jose parse+verify/s |\n");
    out.push_str("| --- | ---: | ---: | ---: | ---: |\n");
    for c in ceilings {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            c.alg.name(),
            thousands(c.raw.sign),
            thousands(c.raw.verify),
            thousands(c.jose.sign),
            thousands(c.jose.verify),
        );
    }
    out
}

/// The scenario table.
pub fn scenarios(rows: &[Row]) -> String {
    let mut out = String::new();
    out.push_str("| scenario | req/s | p50 ms | p99 ms | max ms | server CPU s | req per server CPU-s | server µs/req | ÷ raw crypto | ÷ crypto incl. auth | bench CPU s | other CPU s | errors |\n");
    out.push_str(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for row in rows {
        let o = &row.outcome;
        let per_cpu = row.per_cpu_second();
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.0} | {:.0}% | {:.0}% | {:.2} | {:.2} | {} |",
            row.scenario,
            thousands(row.throughput()),
            millis(o.latency.value_at_quantile(0.50)),
            millis(o.latency.value_at_quantile(0.99)),
            millis(o.latency.max()),
            o.server_cpu,
            thousands(per_cpu),
            if per_cpu > 0.0 { 1e6 / per_cpu } else { 0.0 },
            100.0 * per_cpu / row.raw_rate,
            100.0 * per_cpu / row.crypto_rate,
            o.client_cpu,
            (o.machine_cpu - o.server_cpu - o.client_cpu).max(0.0),
            o.errors,
        );
    }
    out
}

/// First failures, if any, one line each.
pub fn failures(rows: &[Row]) -> String {
    let mut out = String::new();
    for row in rows {
        if let Some(error) = &row.outcome.first_error {
            let _ = writeln!(
                out,
                "- {}: {} error(s), first: {error}",
                row.scenario, row.outcome.errors
            );
        }
    }
    out
}

/// `49.3k`, `2.8k`, `812`.
pub fn thousands(value: f64) -> String {
    if value >= 10_000.0 {
        format!("{:.1}k", value / 1000.0)
    } else if value >= 1000.0 {
        format!("{:.2}k", value / 1000.0)
    } else {
        format!("{value:.0}")
    }
}

/// Bytes as MiB.
pub fn mebibytes(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / (1024.0 * 1024.0))
}

fn millis(micros: u64) -> f64 {
    micros as f64 / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_like_the_stack_notes() {
        assert_eq!(thousands(49_300.0), "49.3k");
        assert_eq!(thousands(2_812.0), "2.81k");
        assert_eq!(thousands(812.4), "812");
        assert_eq!(mebibytes(64 * 1024 * 1024), "64.0 MiB");
    }
}
