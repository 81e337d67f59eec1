//! The Markdown the benchmark prints: the crypto ceiling, one row per scenario, and the
//! scale figures, in the units the targets use (requests per server CPU-second).

use std::fmt::Write as _;

use crate::crypto::{Alg, Ceiling};
use crate::load::Outcome;
use crate::scale::Scale;
use crate::single::POSTGRES_SUFFIX;

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
    out.push_str("| scenario | req/s | p50 ms | p99 ms | max ms | server CPU s | req per server CPU-s | server µs/req | ÷ raw crypto | server µs/req beyond crypto | bench CPU s | other CPU s | errors |\n");
    out.push_str(
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for row in rows {
        let o = &row.outcome;
        let per_cpu = row.per_cpu_second();
        let _ = writeln!(
            out,
            "| {} | {} | {:.2} | {:.2} | {:.2} | {:.2} | {} | {:.0} | {} | {} | {:.2} | {:.2} | {} |",
            row.scenario,
            thousands(row.throughput()),
            millis(o.latency.value_at_quantile(0.50)),
            millis(o.latency.value_at_quantile(0.99)),
            millis(o.latency.max()),
            o.server_cpu,
            thousands(per_cpu),
            if per_cpu > 0.0 { 1e6 / per_cpu } else { 0.0 },
            percent(per_cpu, row.raw_rate),
            beyond_crypto(per_cpu, row.raw_rate),
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
        if row.outcome.exhausted {
            let _ = writeln!(
                out,
                "- {}: ran out of single-use calls before the window ended (req/s understated; \
                 req per server CPU-s holds)",
                row.scenario
            );
        }
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

/// Server CPU per request minus the request's own signature operation, in µs.
fn beyond_crypto(per_cpu: f64, ceiling: f64) -> String {
    if per_cpu <= 0.0 {
        return "—".to_owned();
    }
    let crypto = if ceiling.is_finite() {
        1e6 / ceiling
    } else {
        0.0
    };
    format!("{:.0}", 1e6 / per_cpu - crypto)
}

/// The scale configuration: load steps, restart times, memory.
pub fn scale(scale: &Scale, concurrency: usize) -> String {
    let mut out = String::from(
        "\n### Scale configuration\n\n| step | count | time | per second |\n| --- | ---: | ---: | ---: |\n",
    );
    for (what, count, took) in &scale.steps {
        let _ = writeln!(
            out,
            "| create {what} through the API ({concurrency} connections) | {count} | {:.2} s | {} |",
            took.as_secs_f64(),
            thousands(*count as f64 / took.as_secs_f64())
        );
    }
    let _ = writeln!(
        out,
        "| restart: spawn → `Listening on` (store opened, configuration loaded) | | {:.2} s | |\n\
         | restart: spawn → first `/readyz` 200 (auto-unsealed, serving) | | {:.2} s | |",
        scale.restart.to_listening.as_secs_f64(),
        scale.restart.to_ready.as_secs_f64()
    );
    let _ = writeln!(
        out,
        "\nMemory of the server that took every write: peak {}. Restarted server: when ready, \
         peak {} and resident {}; after the scale scenarios, peak {} and resident {}.",
        mebibytes(scale.loading_peak_rss),
        mebibytes(scale.ready_rss.0),
        mebibytes(scale.ready_rss.1),
        mebibytes(scale.end_rss.0),
        mebibytes(scale.end_rss.1)
    );
    out
}

/// Where each target of issue 6 stands.
pub fn targets(rows: &[Row], ceilings: &[Ceiling], scale: Option<&Scale>) -> String {
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
    if let Some(es) = es {
        // (scenario, rate floor per server CPU-second, raw crypto rate, share floor of it)
        let throughput = [
            ("mint", "30,000", 30_000.0, es.raw.sign, 0.6, "sign"),
            ("verify", "13,000", 13_000.0, es.raw.verify, 0.85, "verify"),
        ];
        for (what, shown, floor, raw, share_floor, crypto) in throughput {
            let Some(row) = find(&format!("{what} ES256")) else {
                continue;
            };
            let v = row.per_cpu_second();
            line(
                &format!("{what} ≥ {shown} req per server CPU-s"),
                thousands(v),
                v >= floor,
            );
            let share = v / raw;
            line(
                &format!("{what} ≥ {:.0}% of raw {crypto} rate", share_floor * 100.0),
                format!("{:.0}%", share * 100.0),
                share >= share_floor,
            );
        }
    }
    for row in rows.iter().filter(|r| r.scenario.contains("ES256")) {
        let p99 = row.outcome.latency.value_at_quantile(0.99) as f64 / 1000.0;
        line(
            &format!("p99 < 5 ms: {}", row.scenario),
            format!("{p99:.2} ms"),
            p99 < 5.0,
        );
    }
    for single in ["mint ES256", "verify ES256"] {
        let on_postgres = format!("{single}{POSTGRES_SUFFIX}");
        if let (Some(a), Some(b)) = (find(single), find(&on_postgres)) {
            let ratio = b.per_cpu_second() / a.per_cpu_second();
            line(
                &format!("{on_postgres} at most 10% below SQLite (req per server CPU-s)"),
                format!("{:+.1}%", (ratio - 1.0) * 100.0),
                ratio >= 0.9,
            );
        }
    }
    if let Some(scale) = scale {
        let (peak, _) = scale.end_rss;
        line(
            "peak RSS < 64 MiB with the scale configuration (restarted server)",
            mebibytes(peak),
            peak < 64 * 1024 * 1024,
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

/// `53%`, or `—` when the request does no crypto.
fn percent(value: f64, ceiling: f64) -> String {
    if ceiling.is_finite() && ceiling > 0.0 {
        format!("{:.0}%", 100.0 * value / ceiling)
    } else {
        "—".to_owned()
    }
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
