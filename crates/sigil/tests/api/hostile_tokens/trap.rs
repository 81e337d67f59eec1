//! A loopback listener that counts every connection made to it. Every URL an attacker can put
//! in a token points here, and it answers any request with the attacker's JWKS, so a regression
//! that follows one is both counted and would verify the forged token.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// A running trap on `127.0.0.1:<port>`.
pub struct Trap {
    base: String,
    accepted: Arc<AtomicUsize>,
    server: JoinHandle<()>,
}

impl Trap {
    /// Starts a trap answering every request with `document` as JSON.
    pub async fn start(document: &Value) -> Trap {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = accepted.clone();
        let body = document.to_string();
        let server = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                counter.fetch_add(1, Ordering::SeqCst);
                tokio::spawn(answer(stream, body.clone()));
            }
        });
        Trap {
            base,
            accepted,
            server,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Connections accepted so far. Yields first, so a connection already queued is counted.
    pub async fn connections(&self) -> usize {
        for _ in 0..16 {
            tokio::task::yield_now().await;
        }
        self.accepted.load(Ordering::SeqCst)
    }
}

impl Drop for Trap {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Reads one request head (at most 16 KiB) and answers `body` as JSON.
async fn answer(mut stream: TcpStream, body: String) {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while head.len() < 16 * 1024 && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => head.extend_from_slice(&buffer[..read]),
        }
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
}

#[tokio::test]
async fn a_fetch_by_sigils_own_fetcher_reaches_the_trap_and_is_counted() {
    use sigil::trust::fetch::{FetchLimits, FetchPolicy, HttpFetcher, JwksFetcher};
    let trap = Trap::start(&serde_json::json!({"keys": []})).await;
    let fetcher = HttpFetcher::new(FetchLimits::default()).expect("a fetcher");
    let policy = FetchPolicy {
        allow_insecure_http: false,
        allow_private_networks: true,
    };

    let fetched = fetcher
        .fetch(&trap.url("/jwks.json"), &policy)
        .await
        .expect("the trap answers");

    assert_eq!(fetched.body, br#"{"keys":[]}"#);
    assert_eq!(trap.connections().await, 1);
}
