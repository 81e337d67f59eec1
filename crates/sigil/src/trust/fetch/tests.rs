//! Fetch tests against real HTTP servers on `127.0.0.1:0`; nothing leaves the machine. Refused
//! URLs to public-looking hosts fail before any connection is tried.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use axum::Router;
use axum::extract::Path;
use axum::http::header;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::*;

const JWKS: &str = r#"{"keys":[]}"#;

/// Loopback servers need private networks allowed; plain HTTP to loopback is always allowed.
const LOOPBACK: FetchPolicy = FetchPolicy {
    allow_insecure_http: false,
    allow_private_networks: true,
};

const PUBLIC_ONLY: FetchPolicy = FetchPolicy {
    allow_insecure_http: false,
    allow_private_networks: false,
};

fn fetcher() -> HttpFetcher {
    HttpFetcher::new(FetchLimits::default()).unwrap()
}

fn fetcher_with(limits: FetchLimits) -> HttpFetcher {
    HttpFetcher::new(limits).unwrap()
}

/// Serves `router` on a fresh loopback port until the test's runtime ends.
async fn serve(router: Router) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await });
    address
}

/// A server answering the JWKS and counting the requests that reached it.
async fn counting_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let router = Router::new().route(
        "/jwks",
        get(move || {
            counter.fetch_add(1, Ordering::SeqCst);
            async { JWKS }
        }),
    );
    (serve(router).await, hits)
}

/// Routes for redirects, status, slowness and caching.
fn issuer_router() -> Router {
    Router::new()
        .route("/jwks", get(|| async { JWKS }))
        .route("/hop/{remaining}", get(hop))
        .route(
            "/to-metadata",
            get(|| async { Redirect::to("http://169.254.169.254/latest/meta-data/") }),
        )
        .route(
            "/to-plain-http",
            get(|| async { Redirect::to("http://idp.example.com/jwks") }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                JWKS
            }),
        )
        .route("/cache", get(|| async { JWKS }))
        .route(
            "/cache/{directive}",
            get(|Path(directive): Path<String>| async move {
                ([(header::CACHE_CONTROL, directive)], JWKS)
            }),
        )
        .route(
            "/bytes/{count}",
            get(|Path(count): Path<usize>| async move { vec![b'a'; count] }),
        )
}

async fn hop(Path(remaining): Path<u32>) -> Response {
    match remaining.checked_sub(1) {
        None => JWKS.into_response(),
        Some(next) => Redirect::temporary(&format!("/hop/{next}")).into_response(),
    }
}

/// A hand-written HTTP/1.1 server: answers one request with `head`, then `body_bytes` of
/// JSON-ish filler, then holds the connection open without finishing.
async fn stalling_server(head: &'static str, body_bytes: usize) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = [0u8; 4096];
        let _ = socket.read(&mut request).await;
        socket.write_all(head.as_bytes()).await.unwrap();
        let chunk = vec![b' '; 64 * 1024];
        let mut sent = 0;
        while sent < body_bytes {
            let size = chunk.len().min(body_bytes - sent);
            if socket.write_all(&chunk[..size]).await.is_err() {
                return;
            }
            sent += size;
        }
        tokio::time::sleep(Duration::from_secs(30)).await;
    });
    address
}

#[tokio::test]
async fn plain_http_to_a_public_host_is_refused_before_connecting() {
    let started = Instant::now();
    for policy in [PUBLIC_ONLY, LOOPBACK] {
        let failed = fetcher()
            .fetch("http://example.com/.well-known/jwks.json", &policy)
            .await
            .unwrap_err();
        assert!(
            matches!(failed, FetchFailed::InsecureScheme(_)),
            "{failed:?}"
        );
    }
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn plain_http_to_loopback_is_fetched_when_private_networks_are_allowed() {
    let address = serve(issuer_router()).await;
    let url = format!("http://{address}/jwks");
    let fetched = fetcher().fetch(&url, &LOOPBACK).await.unwrap();
    assert_eq!(fetched.body, JWKS.as_bytes());
    assert_eq!(fetched.final_url, url);
}

#[tokio::test]
async fn localhost_name_is_fetched_when_private_networks_are_allowed() {
    let address = serve(issuer_router()).await;
    let url = format!("http://localhost:{}/jwks", address.port());
    let fetched = fetcher().fetch(&url, &LOOPBACK).await.unwrap();
    assert_eq!(fetched.body, JWKS.as_bytes());
}

#[tokio::test]
async fn loopback_literal_is_refused_without_connecting_when_private_networks_are_not_allowed() {
    let (address, hits) = counting_server().await;
    for url in [
        format!("http://{address}/jwks"),
        format!("https://{address}/jwks"),
        format!("http://[::ffff:127.0.0.1]:{}/jwks", address.port()),
    ] {
        let failed = fetcher().fetch(&url, &PUBLIC_ONLY).await.unwrap_err();
        assert!(
            matches!(failed, FetchFailed::PrivateAddress(_)),
            "{url}: {failed:?}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn name_resolving_to_loopback_is_refused_by_the_resolver() {
    let (address, hits) = counting_server().await;
    let url = format!("http://localhost:{}/jwks", address.port());
    let failed = fetcher().fetch(&url, &PUBLIC_ONLY).await.unwrap_err();
    assert_eq!(
        failed,
        FetchFailed::PrivateAddress("localhost resolves to 127.0.0.1 (loopback)".into())
    );
    assert_eq!(hits.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn streamed_body_over_the_cap_is_cut_without_reading_the_rest() {
    // 1.5 MiB arrive at once, the rest never does: only an early stop answers before the timeout.
    let address = stalling_server(
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
        3 * 512 * 1024,
    )
    .await;
    let started = Instant::now();
    let failed = fetcher()
        .fetch(&format!("http://{address}/jwks"), &LOOPBACK)
        .await
        .unwrap_err();
    assert_eq!(failed, FetchFailed::TooLarge { limit: 1024 * 1024 });
    assert!(started.elapsed() < Duration::from_secs(4));
}

#[tokio::test]
async fn announced_content_length_over_the_cap_is_refused_before_the_body() {
    let head = "HTTP/1.1 200 OK\r\nContent-Length: 2097152\r\n\r\n";
    let address = stalling_server(head, 0).await;
    let failed = fetcher()
        .fetch(&format!("http://{address}/jwks"), &LOOPBACK)
        .await
        .unwrap_err();
    assert_eq!(failed, FetchFailed::TooLarge { limit: 1024 * 1024 });
}

#[tokio::test]
async fn body_exactly_at_the_cap_is_accepted_and_one_byte_more_is_not() {
    let address = serve(issuer_router()).await;
    let fetcher = fetcher_with(FetchLimits {
        max_body_bytes: 1000,
        ..FetchLimits::default()
    });
    let fetched = fetcher
        .fetch(&format!("http://{address}/bytes/1000"), &LOOPBACK)
        .await
        .unwrap();
    assert_eq!(fetched.body.len(), 1000);
    let failed = fetcher
        .fetch(&format!("http://{address}/bytes/1001"), &LOOPBACK)
        .await
        .unwrap_err();
    assert_eq!(failed, FetchFailed::TooLarge { limit: 1000 });
}

#[tokio::test]
async fn three_redirects_are_followed() {
    let address = serve(issuer_router()).await;
    let fetched = fetcher()
        .fetch(&format!("http://{address}/hop/3"), &LOOPBACK)
        .await
        .unwrap();
    assert_eq!(fetched.body, JWKS.as_bytes());
    assert_eq!(fetched.final_url, format!("http://{address}/hop/0"));
}

#[tokio::test]
async fn fourth_redirect_fails() {
    let address = serve(issuer_router()).await;
    let failed = fetcher()
        .fetch(&format!("http://{address}/hop/4"), &LOOPBACK)
        .await
        .unwrap_err();
    assert_eq!(failed, FetchFailed::TooManyRedirects);
}

#[tokio::test]
async fn redirect_to_the_metadata_address_is_refused() {
    let address = serve(issuer_router()).await;
    let started = Instant::now();
    let failed = fetcher()
        .fetch(&format!("http://{address}/to-metadata"), &LOOPBACK)
        .await
        .unwrap_err();
    assert!(
        matches!(failed, FetchFailed::InsecureScheme(_)),
        "{failed:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[tokio::test]
async fn redirect_to_plain_http_on_a_public_host_is_refused() {
    let address = serve(issuer_router()).await;
    let failed = fetcher()
        .fetch(&format!("http://{address}/to-plain-http"), &LOOPBACK)
        .await
        .unwrap_err();
    assert_eq!(
        failed,
        FetchFailed::InsecureScheme("http://idp.example.com/jwks".into())
    );
}

#[tokio::test]
async fn slow_server_times_out_at_the_limit() {
    let address = serve(issuer_router()).await;
    let fetcher = fetcher_with(FetchLimits {
        timeout: Duration::from_millis(300),
        ..FetchLimits::default()
    });
    let started = Instant::now();
    let failed = fetcher
        .fetch(&format!("http://{address}/slow"), &LOOPBACK)
        .await
        .unwrap_err();
    assert_eq!(failed, FetchFailed::Timeout);
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[test]
fn default_limits_follow_the_design() {
    let limits = FetchLimits::default();
    assert_eq!(limits.timeout, Duration::from_secs(5));
    assert_eq!(limits.max_body_bytes, 1024 * 1024);
    assert_eq!(limits.max_redirects, 3);
    assert_eq!(limits.min_max_age, Duration::from_secs(60));
    assert_eq!(limits.max_max_age, Duration::from_secs(24 * 3600));
    assert_eq!(limits.default_max_age, Duration::from_secs(300));
    assert_eq!(fetcher().limits(), &limits);
}

#[tokio::test]
async fn not_found_is_reported_as_its_status() {
    let address = serve(issuer_router()).await;
    let failed = fetcher()
        .fetch(&format!("http://{address}/missing"), &LOOPBACK)
        .await
        .unwrap_err();
    assert_eq!(failed, FetchFailed::Status(404));
}

async fn max_age_served_with(path: &str) -> Duration {
    let address = serve(issuer_router()).await;
    fetcher()
        .fetch(&format!("http://{address}{path}"), &LOOPBACK)
        .await
        .unwrap()
        .max_age
}

#[tokio::test]
async fn short_max_age_is_raised_to_one_minute() {
    assert_eq!(
        max_age_served_with("/cache/max-age=30").await,
        Duration::from_secs(60)
    );
}

#[tokio::test]
async fn long_max_age_is_lowered_to_one_day() {
    assert_eq!(
        max_age_served_with("/cache/public, max-age=999999").await,
        Duration::from_secs(24 * 3600)
    );
}

#[tokio::test]
async fn missing_cache_control_gives_the_default_age() {
    assert_eq!(
        max_age_served_with("/cache").await,
        Duration::from_secs(300)
    );
}

#[tokio::test]
async fn no_store_gives_the_minimum_age() {
    assert_eq!(
        max_age_served_with("/cache/no-store").await,
        Duration::from_secs(60)
    );
}

fn lifetime_of(values: &[&str]) -> Duration {
    let mut headers = HeaderMap::new();
    for value in values {
        headers.append(CACHE_CONTROL, value.parse().unwrap());
    }
    cache_lifetime(&headers, &FetchLimits::default())
}

#[test]
fn cache_control_parsing_prefers_s_maxage_and_tolerates_case_and_quotes() {
    assert_eq!(
        lifetime_of(&["max-age=120, s-maxage=600"]),
        Duration::from_secs(600)
    );
    assert_eq!(lifetime_of(&["Max-Age=\"900\""]), Duration::from_secs(900));
    assert_eq!(
        lifetime_of(&["public", "max-age=3600"]),
        Duration::from_secs(3600)
    );
}

#[test]
fn cache_control_parsing_takes_the_safe_side_of_doubtful_values() {
    let minimum = Duration::from_secs(60);
    assert_eq!(
        lifetime_of(&["max-age=3600", "max-age=120"]),
        Duration::from_secs(120)
    );
    assert_eq!(lifetime_of(&["max-age=soon"]), minimum);
    assert_eq!(lifetime_of(&["max-age"]), minimum);
    assert_eq!(lifetime_of(&["max-age=3600, no-cache"]), minimum);
    assert_eq!(
        lifetime_of(&["max-age=99999999999999999999999"]),
        Duration::from_secs(24 * 3600)
    );
}

#[tokio::test]
async fn malformed_or_unsupported_urls_are_refused_without_panicking() {
    let long = format!("ftp://{}.example/", "a".repeat(100_000));
    let urls = [
        "",
        "not a url",
        "https://",
        "https://[::1",
        "https://exa mple.com/",
        "ftp://example.com/jwks",
        "file:///etc/passwd",
        "data:text/plain,{}",
        "javascript:alert(1)",
        "https://user:secret@example.com/jwks",
        long.as_str(),
    ];
    for url in urls {
        let failed = fetcher().fetch(url, &PUBLIC_ONLY).await.unwrap_err();
        assert!(
            matches!(failed, FetchFailed::InvalidUrl(_)),
            "{url:.40}: {failed:?}"
        );
        assert!(failed.to_string().len() < 400);
    }
}

#[test]
fn hop_checks_allow_https_and_opt_in_plain_http_but_never_private_literals() {
    let url = |text: &str| Url::parse(text).unwrap();
    assert!(checked(url("https://idp.example.com/jwks"), &PUBLIC_ONLY).is_ok());
    let insecure = FetchPolicy {
        allow_insecure_http: true,
        allow_private_networks: false,
    };
    assert!(checked(url("http://idp.example.com/jwks"), &insecure).is_ok());
    assert_eq!(
        checked(url("http://169.254.169.254/latest/"), &insecure),
        Err(FetchFailed::PrivateAddress(
            "169.254.169.254 (cloud metadata)".into()
        ))
    );
    assert_eq!(
        checked(url("https://[fd00:ec2::254]/"), &PUBLIC_ONLY),
        Err(FetchFailed::PrivateAddress(
            "fd00:ec2::254 (cloud metadata)".into()
        ))
    );
    // WHATWG parsing turns numeric shorthands into the dotted address before the check.
    assert!(matches!(
        checked(url("https://0x7f.1/"), &PUBLIC_ONLY),
        Err(FetchFailed::PrivateAddress(_))
    ));
    assert!(matches!(
        checked(url("http://127.0.0.1/"), &PUBLIC_ONLY),
        Err(FetchFailed::PrivateAddress(_))
    ));
}

#[tokio::test]
async fn refused_connection_is_a_transport_failure_that_names_no_url() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    drop(listener);
    let failed = fetcher()
        .fetch(&format!("http://{address}/jwks"), &LOOPBACK)
        .await
        .unwrap_err();
    let FetchFailed::Transport(message) = &failed else {
        panic!("{failed:?}");
    };
    assert!(!message.contains("http://"), "{message}");
    assert!(message.contains("refused"), "{message}");
}
