//! Fetching discovery and JWKS documents from external issuers (DESIGN §5): HTTPS only, one
//! total timeout, a body cap enforced while streaming, few redirects, `Cache-Control` clamped.
//! Every address connected to is screened, literal hosts here and resolved names in the
//! resolver, and redirects are followed by hand so each hop passes the same checks: neither a
//! redirect nor DNS rebinding reaches private or metadata ranges.

mod address;

use std::error::Error as StdError;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use reqwest::header::{ACCEPT, CACHE_CONTROL, HeaderMap, LOCATION};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode, Url};

use address::{AddressRefused, GuardedResolver, is_localhost_name, is_loopback, refused_range};

/// What one issuer allows a fetch to reach.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Plain `http://` to any host, not only loopback. Default false; dangerous: keys can be
    /// swapped in transit.
    pub allow_insecure_http: bool,
    /// Private, loopback, link-local and metadata addresses. Default false; dangerous: lets
    /// issuer URLs probe the internal network (`--allow-private-networks`).
    pub allow_private_networks: bool,
}

/// A successful fetch: a 2xx body within the size limit.
pub struct Fetched {
    /// The body, never logged.
    pub body: Vec<u8>,
    /// How long the document may be used, from `Cache-Control`, within the limits.
    pub max_age: Duration,
    /// The URL that answered, after redirects.
    pub final_url: String,
}

/// Why a fetch failed. Messages never carry a response body.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchFailed {
    /// The URL does not parse, is not `http(s)`, has no host or carries credentials.
    #[error("invalid URL: {0}")]
    InvalidUrl(String),
    /// Plain HTTP to a host that is not loopback, without `allow_insecure_http`.
    #[error("plain HTTP is refused for {0}")]
    InsecureScheme(String),
    /// The host is or resolves to a private, loopback, link-local or metadata address.
    #[error("address refused: {0}")]
    PrivateAddress(String),
    /// No complete answer within the total time limit.
    #[error("no complete answer within the time limit")]
    Timeout,
    /// The body is larger than the limit; reading stopped there.
    #[error("body is larger than {limit} bytes")]
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// More redirects than the limit.
    #[error("too many redirects")]
    TooManyRedirects,
    /// The final answer was not 2xx.
    #[error("answered HTTP status {0}")]
    Status(u16),
    /// Connecting, TLS or reading failed.
    #[error("transport failed: {0}")]
    Transport(String),
}

/// The seam to the network for key documents; tests substitute their own.
#[async_trait::async_trait]
pub trait JwksFetcher: Send + Sync + 'static {
    /// Fetches `url` (GET) within `policy`.
    async fn fetch(&self, url: &str, policy: &FetchPolicy) -> Result<Fetched, FetchFailed>;
}

/// The limits of every fetch (DESIGN §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Total time for a fetch, redirects and body included. Default 5 s.
    pub timeout: Duration,
    /// Largest body accepted. Default 1 MiB.
    pub max_body_bytes: usize,
    /// Redirects followed; one more fails. Default 3.
    pub max_redirects: usize,
    /// Shortest lifetime given to a document, also for `no-store`. Default 60 s.
    pub min_max_age: Duration,
    /// Longest lifetime given to a document. Default 24 h.
    pub max_max_age: Duration,
    /// Lifetime when `Cache-Control` gives none. Default 5 min.
    pub default_max_age: Duration,
}

impl Default for FetchLimits {
    fn default() -> Self {
        FetchLimits {
            timeout: Duration::from_secs(5),
            max_body_bytes: 1024 * 1024,
            max_redirects: 3,
            min_max_age: Duration::from_secs(60),
            max_max_age: Duration::from_secs(24 * 3600),
            default_max_age: Duration::from_secs(300),
        }
    }
}

/// The real fetcher: reqwest over rustls, with one pre-built client per private-network
/// setting, since the resolver decides that before any connection.
#[derive(Debug, Clone)]
pub struct HttpFetcher {
    limits: FetchLimits,
    public_only: Client,
    private_allowed: Client,
}

impl HttpFetcher {
    /// Builds both clients; fails only if the TLS backend cannot start.
    pub fn new(limits: FetchLimits) -> Result<Self, FetchFailed> {
        Ok(HttpFetcher {
            public_only: client(&limits, false)?,
            private_allowed: client(&limits, true)?,
            limits,
        })
    }

    /// The limits this fetcher applies.
    pub fn limits(&self) -> &FetchLimits {
        &self.limits
    }

    async fn follow(&self, url: &str, policy: &FetchPolicy) -> Result<Fetched, FetchFailed> {
        let client = if policy.allow_private_networks {
            &self.private_allowed
        } else {
            &self.public_only
        };
        let parsed = Url::parse(url).map_err(|error| FetchFailed::InvalidUrl(error.to_string()))?;
        let mut target = checked(parsed, policy)?;
        let mut redirects = 0;
        loop {
            let response = client
                .get(target.clone())
                .header(ACCEPT, "application/json, application/jwk-set+json")
                .send()
                .await
                .map_err(failure)?;
            let status = response.status();
            if let Some(location) = redirect_location(&response) {
                redirects += 1;
                if redirects > self.limits.max_redirects {
                    return Err(FetchFailed::TooManyRedirects);
                }
                let next = location.and_then(|location| {
                    target
                        .join(location)
                        .map_err(|error| FetchFailed::InvalidUrl(error.to_string()))
                })?;
                target = checked(next, policy)?;
                continue;
            }
            if !status.is_success() {
                return Err(FetchFailed::Status(status.as_u16()));
            }
            let max_age = cache_lifetime(response.headers(), &self.limits);
            let body = read_capped(response, self.limits.max_body_bytes).await?;
            return Ok(Fetched {
                body,
                max_age,
                final_url: target.to_string(),
            });
        }
    }
}

#[async_trait::async_trait]
impl JwksFetcher for HttpFetcher {
    async fn fetch(&self, url: &str, policy: &FetchPolicy) -> Result<Fetched, FetchFailed> {
        tokio::time::timeout(self.limits.timeout, self.follow(url, policy))
            .await
            .unwrap_or(Err(FetchFailed::Timeout))
    }
}

impl fmt::Debug for Fetched {
    /// The body's length only: bodies are never printed.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Fetched")
            .field("body_bytes", &self.body.len())
            .field("max_age", &self.max_age)
            .field("final_url", &self.final_url)
            .finish()
    }
}

fn client(limits: &FetchLimits, allow_private_networks: bool) -> Result<Client, FetchFailed> {
    Client::builder()
        .dns_resolver(GuardedResolver {
            allow_private_networks,
        })
        // Followed by hand, so every hop gets the scheme and address checks of the issuer.
        .redirect(Policy::none())
        // A proxy would resolve and connect on our behalf, past the resolver's screening.
        .no_proxy()
        .timeout(limits.timeout)
        .connect_timeout(limits.timeout)
        .user_agent(concat!("sigil/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|error| FetchFailed::Transport(format!("HTTP client cannot start: {error}")))
}

/// The `Location` of a redirect answer: `None` when the answer is no redirect.
fn redirect_location(response: &Response) -> Option<Result<&str, FetchFailed>> {
    let redirect = matches!(
        response.status(),
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    );
    let location = response.headers().get(LOCATION).filter(|_| redirect)?;
    Some(
        location
            .to_str()
            .map_err(|_| FetchFailed::InvalidUrl("redirect location is not text".into())),
    )
}

/// Reads the body chunk by chunk, stopping as soon as it is known to exceed `limit`.
async fn read_capped(mut response: Response, limit: usize) -> Result<Vec<u8>, FetchFailed> {
    let announced = response.content_length().unwrap_or(0);
    if announced > u64::try_from(limit).unwrap_or(u64::MAX) {
        return Err(FetchFailed::TooLarge { limit });
    }
    let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0).min(limit));
    while let Some(chunk) = response.chunk().await.map_err(failure)? {
        // Invariant: body.len() <= limit, so the subtraction cannot underflow.
        if chunk.len() > limit - body.len() {
            return Err(FetchFailed::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Checks one hop before connecting: scheme, credentials, plain HTTP, literal addresses.
fn checked(url: Url, policy: &FetchPolicy) -> Result<Url, FetchFailed> {
    let secure = match url.scheme() {
        "https" => true,
        "http" => false,
        other => {
            return Err(FetchFailed::InvalidUrl(format!(
                "scheme {} is not https",
                shown(other)
            )));
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FetchFailed::InvalidUrl("URL carries credentials".into()));
    }
    let host = url
        .host_str()
        .ok_or_else(|| FetchFailed::InvalidUrl("URL has no host".into()))?;
    // IPv6 literals come bracketed; reqwest never resolves literals, so they are judged here.
    let literal = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .ok();
    let loopback = literal.map_or_else(|| is_localhost_name(host), is_loopback);
    if !secure && !loopback && !policy.allow_insecure_http {
        return Err(FetchFailed::InsecureScheme(shown(url.as_str())));
    }
    if let Some(address) = literal
        && !policy.allow_private_networks
        && let Some(range) = refused_range(address)
    {
        return Err(FetchFailed::PrivateAddress(format!("{address} ({range})")));
    }
    Ok(url)
}

/// The lifetime `Cache-Control` grants, clamped: `s-maxage` over `max-age`, `no-store` and
/// `no-cache` give the minimum, as does an invalid value (RFC 9111 §4.2.1: treat as stale).
fn cache_lifetime(headers: &HeaderMap, limits: &FetchLimits) -> Duration {
    let mut max_age: Option<u64> = None;
    let mut shared_max_age: Option<u64> = None;
    let mut uncacheable = false;
    for value in headers.get_all(CACHE_CONTROL) {
        let Ok(text) = value.to_str() else {
            uncacheable = true;
            continue;
        };
        for directive in text.split(',') {
            let (name, argument) = directive
                .split_once('=')
                .map_or((directive, None), |(name, argument)| (name, Some(argument)));
            let name = name.trim().to_ascii_lowercase();
            let slot = match name.as_str() {
                "no-store" | "no-cache" => {
                    uncacheable = true;
                    continue;
                }
                "max-age" => &mut max_age,
                "s-maxage" => &mut shared_max_age,
                _ => continue,
            };
            let seconds = argument.map_or(0, delta_seconds);
            // A repeated directive is invalid (RFC 9111 §4.2.1); the shorter one is the safe one.
            *slot = Some(slot.map_or(seconds, |earlier| earlier.min(seconds)));
        }
    }
    let granted = if uncacheable {
        Duration::ZERO
    } else {
        shared_max_age
            .or(max_age)
            .map_or(limits.default_max_age, Duration::from_secs)
    };
    granted.max(limits.min_max_age).min(limits.max_max_age)
}

/// RFC 9111 §1.2.2 delta-seconds (quotes tolerated); too large saturates, invalid is 0.
fn delta_seconds(argument: &str) -> u64 {
    let digits = argument.trim().trim_matches('"');
    if digits.is_empty() || !digits.bytes().all(|byte| byte.is_ascii_digit()) {
        return 0;
    }
    digits.parse().unwrap_or(u64::MAX)
}

/// Maps a reqwest error to a fact; the text has no URL and no body.
fn failure(error: reqwest::Error) -> FetchFailed {
    if error.is_timeout() {
        return FetchFailed::Timeout;
    }
    let mut message = Vec::new();
    let mut cause: Option<&(dyn StdError + 'static)> = Some(&error);
    while let Some(current) = cause {
        if let Some(refused) = current.downcast_ref::<AddressRefused>() {
            return FetchFailed::PrivateAddress(refused.0.clone());
        }
        message.push(current.to_string());
        cause = current.source();
    }
    if error.is_builder() {
        return FetchFailed::InvalidUrl(shown(&message.join(": ")));
    }
    // The outermost message names the URL; the causes say what failed.
    let causes = message.get(1..).unwrap_or_default().join(": ");
    FetchFailed::Transport(shown(if causes.is_empty() {
        "request failed"
    } else {
        &causes
    }))
}

/// Caps text from the network or an issuer before it goes into an error.
fn shown(text: &str) -> String {
    const LIMIT: usize = 200;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests;
