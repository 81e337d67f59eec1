//! A minimal keep-alive HTTP/1.1 client on hyper, one connection per task, that refuses any
//! address outside 127.0.0.0/8: the benchmark never sends a byte off this machine. No proxy,
//! no pool, no redirects: a request costs the client as little as it can.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{Context, bail};
use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Longest any one request may take before the benchmark gives up on it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the server listens and the token that authenticates admin calls.
#[derive(Clone, Debug)]
pub struct Target {
    /// A loopback address (checked at construction).
    pub addr: SocketAddr,
    /// The root token.
    pub token: String,
}

impl Target {
    /// A target on `addr`, refused unless the address is IPv4 loopback.
    pub fn new(addr: SocketAddr, token: String) -> anyhow::Result<Target> {
        check_loopback(addr)?;
        Ok(Target { addr, token })
    }

    /// Opens one keep-alive connection.
    pub async fn connect(&self) -> anyhow::Result<Connection> {
        Connection::open(self.addr, &self.token).await
    }
}

/// Refuses every address that is not in 127.0.0.0/8.
pub fn check_loopback(addr: SocketAddr) -> anyhow::Result<()> {
    match addr {
        SocketAddr::V4(v4) if v4.ip().is_loopback() => Ok(()),
        other => bail!("refusing to benchmark {other}: only 127.0.0.0/8 is allowed"),
    }
}

/// Refuses a PostgreSQL URL whose host is not an IPv4 loopback address: the benchmark's
/// traffic stays on this machine.
pub fn check_postgres_loopback(url: &str) -> anyhow::Result<()> {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        bail!("--postgres must be a postgres:// URL");
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = host_port.split(':').next().unwrap_or_default();
    match host.parse::<std::net::Ipv4Addr>() {
        Ok(ip) if ip.is_loopback() => Ok(()),
        _ => bail!(
            "refusing to benchmark PostgreSQL at {host:?}: only 127.0.0.0/8 is allowed \
             (write the address, e.g. postgres://user@127.0.0.1:5432/db)"
        ),
    }
}

/// One HTTP/1.1 connection, requests sent one after another.
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    authorization: http::HeaderValue,
    host: http::HeaderValue,
}

/// A response read whole.
pub struct Answer {
    /// Its status.
    pub status: StatusCode,
    /// Its body.
    pub body: Bytes,
}

impl Answer {
    /// The body as JSON, or an error naming the status and the start of the body.
    pub fn json(&self) -> anyhow::Result<serde_json::Value> {
        serde_json::from_slice(&self.body).with_context(|| self.describe())
    }

    /// `HTTP 404: {"message":...}` (the body cut at 300 bytes).
    pub fn describe(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let cut: String = text.chars().take(300).collect();
        format!("HTTP {}: {cut}", self.status.as_u16())
    }
}

impl Connection {
    async fn open(addr: SocketAddr, token: &str) -> anyhow::Result<Connection> {
        check_loopback(addr)?;
        let stream = tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(addr))
            .await
            .context("connect timed out")?
            .with_context(|| format!("cannot connect to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            // Ends when the sender is dropped or the server closes; errors end it too.
            let _ = connection.await;
        });
        Ok(Connection {
            sender,
            authorization: http::HeaderValue::from_str(&format!("Bearer {token}"))?,
            host: http::HeaderValue::from_str(&addr.to_string())?,
        })
    }

    /// Sends one request with the bearer token and reads the whole answer, within
    /// [`REQUEST_TIMEOUT`].
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        content_type: &'static str,
        body: Bytes,
    ) -> anyhow::Result<Answer> {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.host.clone())
            .header(header::AUTHORIZATION, self.authorization.clone())
            .header(header::CONTENT_TYPE, content_type)
            .body(Full::new(body))?;
        let exchange = async {
            self.sender.ready().await?;
            let response = self.sender.send_request(request).await?;
            let status = response.status();
            let body = response.into_body().collect().await?.to_bytes();
            anyhow::Ok(Answer { status, body })
        };
        tokio::time::timeout(REQUEST_TIMEOUT, exchange)
            .await
            .with_context(|| format!("{path}: no answer within {REQUEST_TIMEOUT:?}"))?
    }

    /// A JSON request.
    pub async fn json(
        &mut self,
        method: Method,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<Answer> {
        let bytes = Bytes::from(serde_json::to_vec(body)?);
        self.send(method, path, "application/json", bytes).await
    }

    /// A GET.
    pub async fn get(&mut self, path: &str) -> anyhow::Result<Answer> {
        self.send(Method::GET, path, "application/json", Bytes::new())
            .await
    }

    /// A POST of JSON that must answer 2xx; answers the body as JSON.
    pub async fn post_ok(
        &mut self,
        path: &str,
        body: &serde_json::Value,
    ) -> anyhow::Result<serde_json::Value> {
        let answer = self.json(Method::POST, path, body).await?;
        if !answer.status.is_success() {
            bail!("POST {path}: {}", answer.describe());
        }
        answer.json()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_is_a_target() {
        assert!(check_loopback("127.0.0.1:8420".parse().unwrap()).is_ok());
        assert!(check_loopback("127.1.2.3:1".parse().unwrap()).is_ok());
        assert!(check_loopback("10.0.0.1:8420".parse().unwrap()).is_err());
        assert!(check_loopback("[::1]:8420".parse().unwrap()).is_err());
        assert!(check_loopback("0.0.0.0:8420".parse().unwrap()).is_err());
    }

    #[test]
    fn only_a_loopback_postgres_is_benchmarked() {
        for url in [
            "postgres://sigil@127.0.0.1:5432/postgres?sslmode=disable",
            "postgresql://u:p@127.0.0.9/db",
        ] {
            assert!(check_postgres_loopback(url).is_ok(), "{url}");
        }
        for url in [
            "postgres://sigil@db.example.com:5432/postgres",
            "postgres://sigil@10.0.0.1/postgres",
            "postgres://127.0.0.1@10.0.0.1/postgres",
            "postgres://localhost/postgres",
            "sqlite:/tmp/x",
        ] {
            assert!(check_postgres_loopback(url).is_err(), "{url}");
        }
    }
}
