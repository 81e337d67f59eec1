//! What Linux says about a process: CPU seconds from `/proc/<pid>/stat` (utime + stime of
//! every thread, in clock ticks) and peak resident memory from `/proc/<pid>/status` (VmHWM).

use std::process::Command;

use anyhow::{Context, bail};

/// Clock ticks per second for `/proc/<pid>/stat`: `getconf CLK_TCK`, else the usual 100.
pub fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|out| String::from_utf8(out.stdout).ok())
        .and_then(|text| text.trim().parse::<f64>().ok())
        .filter(|ticks| *ticks > 0.0)
        .unwrap_or(100.0)
}

/// A process's user + system CPU time so far, in seconds; `pid` `None` is this process.
pub fn cpu_seconds(pid: Option<u32>, ticks: f64) -> anyhow::Result<f64> {
    let path = stat_path(pid, "stat");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    // The command name (field 2) may hold spaces and parentheses: count from the last `)`.
    let after_name = text
        .rsplit_once(')')
        .map(|(_, rest)| rest)
        .context("no `)` in /proc stat")?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Fields 14 and 15 of stat(5) are utime and stime; `after_name` starts at field 3.
    let (Some(user), Some(system)) = (fields.get(11), fields.get(12)) else {
        bail!("{path} has too few fields");
    };
    let total: u64 = user.parse::<u64>()? + system.parse::<u64>()?;
    Ok(total as f64 / ticks)
}

/// The whole machine's (busy, total) CPU ticks so far (in `CLK_TCK` units), from the first line of `/proc/stat`.
pub fn machine_ticks() -> anyhow::Result<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").context("cannot read /proc/stat")?;
    let line = text.lines().next().context("/proc/stat is empty")?;
    let values: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
    let total: u64 = values.iter().take(8).sum();
    let idle = values.get(3).copied().unwrap_or(0) + values.get(4).copied().unwrap_or(0);
    Ok((total - idle, total))
}

/// A process's peak resident set size in bytes (VmHWM).
pub fn peak_rss_bytes(pid: u32) -> anyhow::Result<u64> {
    status_bytes(pid, "VmHWM:")
}

/// A process's resident set size now, in bytes (VmRSS).
pub fn rss_bytes(pid: u32) -> anyhow::Result<u64> {
    status_bytes(pid, "VmRSS:")
}

fn status_bytes(pid: u32, field: &str) -> anyhow::Result<u64> {
    let path = stat_path(Some(pid), "status");
    let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
    let line = text
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .with_context(|| format!("no {field} line"))?;
    let kib: u64 = line
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .with_context(|| format!("{field} is not a number"))?;
    Ok(kib * 1024)
}

fn stat_path(pid: Option<u32>, file: &str) -> String {
    match pid {
        Some(pid) => format!("/proc/{pid}/{file}"),
        None => format!("/proc/self/{file}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process() {
        let ticks = clock_ticks();
        assert!(cpu_seconds(None, ticks).unwrap() >= 0.0);
        assert!(peak_rss_bytes(std::process::id()).unwrap() > 0);
        assert!(rss_bytes(std::process::id()).unwrap() > 0);
        let (busy, total) = machine_ticks().unwrap();
        assert!(busy <= total && total > 0);
    }
}
