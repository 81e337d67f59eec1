//! End to end with the real `sigil` binary (DESIGN §4 `serve --dev`, §6): the server on a real
//! socket, the CLI client talking to it, `decode`, SIGTERM, and a non-dev server initialised,
//! restarted and auto-unsealed. Every wait is bounded; children are killed on drop.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;
use sigil::clock::rfc3339;
use tempfile::TempDir;

const BIN: &str = env!("CARGO_BIN_EXE_sigil");
const STARTUP: Duration = Duration::from_secs(60);
const COMMAND: Duration = Duration::from_secs(60);
const SHUTDOWN: Duration = Duration::from_secs(10);

/// A `sigil serve` child process; killed on drop.
struct Server {
    child: Child,
    lines: Receiver<String>,
    /// `http://127.0.0.1:PORT`.
    addr: String,
    logs: TempDir,
}

/// What a dev server printed at start.
struct DevServer {
    server: Server,
    unseal_key: String,
    root_token: String,
}

/// A finished CLI command.
struct Cli {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

fn command() -> Command {
    let mut command = Command::new(BIN);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SIGIL_") {
            command.env_remove(name);
        }
    }
    command.stdin(Stdio::null());
    command
}

impl Server {
    fn start(args: &[&str]) -> Server {
        let logs = tempfile::tempdir().expect("log directory");
        let stderr = std::fs::File::create(logs.path().join("stderr")).expect("log file");
        let mut child = command()
            .arg("serve")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .expect("start sigil serve");
        let stdout = child.stdout.take().expect("stdout");
        let (send, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        let mut server = Server {
            child,
            lines,
            addr: String::new(),
            logs,
        };
        let first = server.next_line();
        let addr = first
            .strip_prefix("Listening on ")
            .unwrap_or_else(|| panic!("first line is the address, got {first:?}"));
        assert!(addr.starts_with("http://127.0.0.1:"), "{first}");
        assert!(!addr.ends_with(":0"), "the bound port is shown: {first}");
        server.addr = addr.to_owned();
        server
    }

    fn dev() -> DevServer {
        let server = Server::start(&["--dev", "--listen", "127.0.0.1:0"]);
        let unseal = server.next_line();
        let root = server.next_line();
        let unseal_key = unseal
            .strip_prefix("Unseal Key: ")
            .unwrap_or_else(|| panic!("second line is the unseal key, got {unseal:?}"))
            .to_owned();
        let root_token = root
            .strip_prefix("Root Token: ")
            .unwrap_or_else(|| panic!("third line is the root token, got {root:?}"))
            .to_owned();
        DevServer {
            server,
            unseal_key,
            root_token,
        }
    }

    fn next_line(&self) -> String {
        self.lines.recv_timeout(STARTUP).unwrap_or_else(|e| {
            panic!(
                "no line from sigil serve within {STARTUP:?} ({e}); stderr:\n{}",
                self.stderr()
            )
        })
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.logs.path().join("stderr")).unwrap_or_default()
    }

    /// Runs a client command against this server.
    fn cli(&self, token: Option<&str>, args: &[&str]) -> Cli {
        let mut command = command();
        command.env("SIGIL_ADDR", &self.addr);
        if let Some(token) = token {
            command.env("SIGIL_TOKEN", token);
        }
        run(command.args(args))
    }

    /// Sends SIGTERM and waits for the exit, at most `SHUTDOWN`.
    fn terminate(mut self) -> (ExitStatus, Duration) {
        let started = Instant::now();
        let sent = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "kill -TERM failed");
        let status = wait(&mut self.child, SHUTDOWN)
            .unwrap_or_else(|| panic!("sigil serve ignored SIGTERM; stderr:\n{}", self.stderr()));
        (status, started.elapsed())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Cli {
    fn success(&self) -> &Self {
        assert!(
            self.status.success(),
            "exit {:?}\nstdout:\n{}\nstderr:\n{}",
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", self.stdout))
    }
}

/// Waits for `child` to exit, polling until `limit`; `None` on timeout.
fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Runs a command to completion within `COMMAND`, killing it otherwise.
fn run(command: &mut Command) -> Cli {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sigil");
    let drain = |stream: Option<Box<dyn Read + Send>>| {
        thread::spawn(move || {
            let mut text = String::new();
            if let Some(mut stream) = stream {
                let _ = stream.read_to_string(&mut text);
            }
            text
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let Some(status) = wait(&mut child, COMMAND) else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("sigil {command:?} did not finish within {COMMAND:?}");
    };
    Cli {
        status,
        stdout: stdout.join().expect("stdout reader"),
        stderr: stderr.join().expect("stderr reader"),
    }
}

fn decode_segment(segment: &str) -> Value {
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(segment).expect("base64url")).expect("JSON")
}

#[test]
fn dev_server_prints_its_address_unseal_key_and_root_token_each_on_its_own_line() {
    let dev = Server::dev();

    let share = STANDARD
        .decode(&dev.unseal_key)
        .expect("the unseal key is base64");
    assert_eq!(share.len(), 33, "one identifier byte and 32 key bytes");
    let parts: Vec<&str> = dev.root_token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS: {}", dev.root_token);
    assert_eq!(decode_segment(parts[0])["alg"], "ES256");
    assert_eq!(decode_segment(parts[1])["sub"], "root");
    let status = dev.server.cli(None, &["operator", "status", "-o", "json"]);
    assert_eq!(
        status.success().json(),
        serde_json::json!({"initialized": true, "sealed": false, "threshold": 1, "shares": 1, "progress": 0})
    );
}

#[test]
fn the_cli_creates_and_lists_keys_on_a_dev_server() {
    let dev = Server::dev();
    let token = Some(dev.root_token.as_str());

    let created = dev.server.cli(
        token,
        &[
            "key", "create", "cli-key", "--type", "ed25519", "-o", "json",
        ],
    );
    let list = dev.server.cli(token, &["key", "list"]);
    let listed_json = dev.server.cli(token, &["key", "list", "-o", "json"]);

    let created = created.success().json();
    assert_eq!(created["name"], "cli-key");
    assert_eq!(created["type"], "ed25519");
    assert_eq!(created["algorithm"], "EdDSA");
    assert_eq!(created["versions"][0]["status"], "active");
    let table = &list.success().stdout;
    let header = table.lines().next().unwrap_or_default();
    assert!(
        header.starts_with("NAME") && header.contains("SIGNING_KID"),
        "{table}"
    );
    let row = table
        .lines()
        .find(|line| line.starts_with("cli-key "))
        .unwrap_or_else(|| panic!("no cli-key row:\n{table}"));
    assert!(
        row.contains("ed25519") && row.contains(created["signing_kid"].as_str().unwrap_or("?"))
    );
    assert!(
        table
            .lines()
            .any(|line| line.starts_with("sigil-internal ")),
        "{table}"
    );
    let listed = listed_json.success().json();
    let names: Vec<&str> = listed
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|item| item["name"].as_str())
        .collect();
    assert_eq!(names, ["cli-key", "sigil-internal"]);
}

#[test]
fn the_cli_reports_a_refused_request_with_its_fields_and_fails() {
    let dev = Server::dev();

    let refused = dev.server.cli(
        Some(&dev.root_token),
        &["key", "create", "weak", "--type", "rsa-1024"],
    );

    assert!(!refused.status.success(), "{}", refused.stdout);
    assert!(refused.stderr.contains("400"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("[invalid_request]"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains("  type: "), "{}", refused.stderr);
}

#[test]
fn the_cli_without_a_token_is_refused_with_401() {
    let dev = Server::dev();

    let refused = dev.server.cli(None, &["key", "list"]);

    assert!(!refused.status.success(), "{}", refused.stdout);
    assert!(refused.stderr.contains("401"), "{}", refused.stderr);
    assert!(
        refused.stderr.contains("[token_missing]"),
        "{}",
        refused.stderr
    );
}

#[test]
fn decode_prints_the_header_claims_and_readable_times() {
    let dev = Server::dev();
    let claims = decode_segment(dev.root_token.split('.').nth(1).expect("payload"));

    let decoded = run(command().args(["decode", &dev.root_token]));

    let text = &decoded.success().stdout;
    assert!(text.starts_with("(signature NOT verified)"), "{text}");
    assert!(text.contains("Header:\n"), "{text}");
    assert!(text.contains("\"alg\": \"ES256\""), "{text}");
    assert!(text.contains("Claims:\n"), "{text}");
    assert!(text.contains("\"sub\": \"root\""), "{text}");
    assert!(text.contains("Times (UTC):"), "{text}");
    for name in ["iat", "nbf", "exp"] {
        let seconds = claims[name].as_i64().expect("a time claim");
        let line = format!("  {name}: {}", rfc3339(seconds));
        assert!(
            text.lines().any(|l| l == line),
            "missing {line:?} in\n{text}"
        );
    }
}

#[test]
fn decode_refuses_something_that_is_not_a_jwt() {
    let decoded = run(command().args(["decode", "not-a-token"]));

    assert!(!decoded.status.success());
    assert!(decoded.stderr.contains("not a JWT"), "{}", decoded.stderr);
}

#[test]
fn sigterm_stops_a_dev_server_promptly_with_exit_code_0() {
    let dev = Server::dev();
    dev.server.cli(None, &["operator", "status"]).success();

    let (status, elapsed) = dev.server.terminate();

    assert!(status.success(), "exit status {status:?}");
    assert!(elapsed < SHUTDOWN, "took {elapsed:?}");
}

fn write_keys(path: &Path, keys: &[&str]) {
    let mut text = String::from("# two of the three unseal keys\n");
    for key in keys {
        text.push_str(key);
        text.push('\n');
    }
    std::fs::write(path, text).expect("write the key file");
}

#[test]
fn a_server_initialised_by_the_cli_restarts_sealed_and_auto_unseals_from_a_key_file() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let data = dir.path().join("data");
    let data = data.to_str().expect("UTF-8 path");
    let serve = ["--data-dir", data, "--listen", "127.0.0.1:0"];

    let server = Server::start(&serve);
    let fresh = server
        .cli(None, &["operator", "status", "-o", "json"])
        .success()
        .json();
    assert_eq!(fresh["initialized"], false);
    let init = server
        .cli(
            None,
            &[
                "operator",
                "init",
                "--shares",
                "3",
                "--threshold",
                "2",
                "-o",
                "json",
            ],
        )
        .success()
        .json();
    let keys: Vec<&str> = init["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(init["threshold"], 2);
    let root_token = init["root_token"].as_str().expect("root_token").to_owned();
    let after_init = server
        .cli(None, &["operator", "status", "-o", "json"])
        .success()
        .json();
    assert_eq!(after_init["initialized"], true);
    assert_eq!(after_init["sealed"], true);
    assert!(server.terminate().0.success());

    let restarted = Server::start(&serve);
    let status = restarted
        .cli(None, &["operator", "status", "-o", "json"])
        .success()
        .json();
    assert_eq!(status["initialized"], true);
    assert_eq!(status["sealed"], true, "a restart seals");
    assert!(restarted.terminate().0.success());

    let key_file = dir.path().join("unseal-keys");
    write_keys(&key_file, &[keys[2], keys[0]]);
    let key_file = key_file.to_str().expect("UTF-8 path");
    let mut auto = serve.to_vec();
    auto.extend(["--unseal-key-file", key_file]);
    let unsealed = Server::start(&auto);
    let status = unsealed
        .cli(None, &["operator", "status", "-o", "json"])
        .success()
        .json();
    assert_eq!(status["sealed"], false, "unsealed at start");
    let list = unsealed
        .cli(Some(&root_token), &["key", "list", "-o", "json"])
        .success()
        .json();
    assert_eq!(list[0]["name"], "sigil-internal");
    assert!(unsealed.terminate().0.success());
}
