//! The `sigil serve` under test: started as a child process on `127.0.0.1:0`, its startup
//! lines read from stdout, its log sent to a file, and stopped by a guard on every exit path
//! (SIGTERM so `--dev` removes its directory, SIGKILL if it lingers).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

use crate::client::check_loopback;
use crate::procfs;

/// How long a server may take to print its address (and, with `--dev`, its token).
const STARTUP_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a stopping server may take before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How to start one server.
pub struct Launch<'a> {
    /// The `sigil` binary.
    pub binary: &'a Path,
    /// Arguments after `serve` (`--listen 127.0.0.1:0` is always added).
    pub args: Vec<String>,
    /// Where its stderr (the log) goes.
    pub log: PathBuf,
    /// The `--log-filter`.
    pub log_filter: &'a str,
}

/// A running server; dropping it stops it.
pub struct Server {
    child: Child,
    /// The address it listens on.
    pub addr: SocketAddr,
    /// With `--dev`: the root token it printed.
    pub root_token: Option<String>,
    /// When the process was spawned.
    pub spawned_at: Instant,
    /// When it printed `Listening on`: the store is open and the configuration loaded.
    pub listening_at: Instant,
}

impl Server {
    /// Spawns `sigil serve` and waits for `Listening on` (and with `--dev` for `Root Token:`).
    pub fn start(launch: &Launch<'_>) -> anyhow::Result<Server> {
        let dev = launch.args.iter().any(|a| a == "--dev");
        let log = std::fs::File::create(&launch.log)
            .with_context(|| format!("cannot create {}", launch.log.display()))?;
        let spawned_at = Instant::now();
        let mut child = Command::new(launch.binary)
            .arg("serve")
            .args(["--listen", "127.0.0.1:0", "--log-filter", launch.log_filter])
            .args(&launch.args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot run {}", launch.binary.display()))?;
        let stdout = child.stdout.take().context("no stdout")?;
        let (lines, received) = mpsc::channel();
        std::thread::spawn(move || {
            // Keeps reading to the end so the server never writes into a closed pipe.
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = lines.send((line, Instant::now()));
            }
        });
        let mut server = Server {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            root_token: None,
            spawned_at,
            listening_at: spawned_at,
        };
        let deadline = spawned_at + STARTUP_TIMEOUT;
        while server.addr.port() == 0 || (dev && server.root_token.is_none()) {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok((line, at)) = received.recv_timeout(left) else {
                bail!(
                    "sigil did not start within {STARTUP_TIMEOUT:?}; see {}",
                    launch.log.display()
                );
            };
            if let Some(addr) = line.strip_prefix("Listening on http://") {
                let addr: SocketAddr = addr.trim().parse().context("bad listen address")?;
                check_loopback(addr)?;
                server.addr = addr;
                server.listening_at = at;
            } else if let Some(token) = line.strip_prefix("Root Token: ") {
                server.root_token = Some(token.trim().to_owned());
            }
        }
        Ok(server)
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Its peak resident set size so far, in bytes.
    pub fn peak_rss_bytes(&self) -> anyhow::Result<u64> {
        procfs::peak_rss_bytes(self.pid())
    }

    /// Its resident set size now, in bytes.
    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        procfs::rss_bytes(self.pid())
    }

    /// Stops it: SIGTERM, then SIGKILL after [`STOP_TIMEOUT`].
    pub fn stop(mut self) {
        self.terminate();
    }

    fn terminate(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + STOP_TIMEOUT;
        while Instant::now() < deadline {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.terminate();
    }
}
