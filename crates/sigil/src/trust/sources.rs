//! Fetching one issuer's remote key sources (discovery → `jwks_uri`, and `jwks_url`), keeping
//! the last good keys of a failing source for up to 24 hours, and merging the result.

use std::time::Duration;

use super::fetch::{FetchPolicy, JwksFetcher};
use super::fetched::{self, ParsedJwks};
use super::keyset::{KeySet, KeySource};
use super::registry::{SourceFetch, SourceStatus, TrustedIssuer};

/// How long the last good keys of a failing source stay in use.
pub const STALE_IF_ERROR: i64 = 24 * 3600;
/// How soon a failed source is tried again.
pub const RETRY_AFTER_FAILURE: i64 = 30;

/// What one refresh found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RefreshOutcome {
    /// Usable keys after the merge.
    pub key_count: usize,
    /// One message per failed source: `(field, reason)`.
    pub failures: Vec<(&'static str, String)>,
}

/// Fetches every remote source of `issuer` now and installs the merged keys.
pub async fn refresh(
    issuer: &TrustedIssuer,
    fetcher: &dyn JwksFetcher,
    now: i64,
    allow_private_networks: bool,
) -> RefreshOutcome {
    let spec = &issuer.spec;
    let policy = FetchPolicy {
        allow_insecure_http: spec.allow_insecure_http,
        allow_private_networks,
    };
    let previous: Vec<SourceFetch> = issuer.sources.lock().map(|s| s.clone()).unwrap_or_default();
    let mut fetches = Vec::new();
    let mut failures = Vec::new();
    if let Some(url) = &spec.discovery_url {
        let result = fetch_discovery(fetcher, url, &spec.issuer, &policy).await;
        fetches.push(record(
            KeySource::Discovery,
            url,
            result,
            &previous,
            now,
            &mut failures,
            "discovery_url",
        ));
    }
    if let Some(url) = &spec.jwks_url {
        let result = fetch_jwks(fetcher, url, &policy)
            .await
            .map(|(p, age)| (url.clone(), p, age));
        fetches.push(record(
            KeySource::JwksUrl,
            url,
            result,
            &previous,
            now,
            &mut failures,
            "jwks_url",
        ));
    }
    let fetched: Vec<(KeySource, &ParsedJwks)> = fetches
        .iter()
        .filter_map(|f| Some((f.status.source?, f.last_good.as_ref()?)))
        .collect();
    let keys = KeySet::merge(&spec.inline_keys, &fetched);
    let key_count = keys.len();
    issuer.set_keys(keys);
    if let Ok(mut sources) = issuer.sources.lock() {
        *sources = fetches;
    }
    RefreshOutcome {
        key_count,
        failures,
    }
}

type Found = (String, ParsedJwks, Duration);

async fn fetch_discovery(
    fetcher: &dyn JwksFetcher,
    url: &str,
    issuer: &str,
    policy: &FetchPolicy,
) -> Result<Found, String> {
    let document = fetcher
        .fetch(url, policy)
        .await
        .map_err(|e| format!("discovery document: {e}"))?;
    let info = fetched::parse_discovery(&document.body, issuer)
        .map_err(|e| format!("discovery document: {e}"))?;
    let (parsed, age) = fetch_jwks(fetcher, &info.jwks_uri, policy).await?;
    Ok((info.jwks_uri, parsed, age.min(document.max_age)))
}

async fn fetch_jwks(
    fetcher: &dyn JwksFetcher,
    url: &str,
    policy: &FetchPolicy,
) -> Result<(ParsedJwks, Duration), String> {
    let fetched = fetcher
        .fetch(url, policy)
        .await
        .map_err(|e| format!("JWKS: {e}"))?;
    let parsed = fetched::parse_jwks(&fetched.body).map_err(|e| format!("JWKS: {e}"))?;
    Ok((parsed, fetched.max_age))
}

fn record(
    source: KeySource,
    configured_url: &str,
    result: Result<Found, String>,
    previous: &[SourceFetch],
    now: i64,
    failures: &mut Vec<(&'static str, String)>,
    field: &'static str,
) -> SourceFetch {
    let before = previous.iter().find(|f| f.status.source == Some(source));
    match result {
        Ok((url, parsed, max_age)) => {
            let age = i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX);
            // Refresh before expiry: at four fifths of the allowed age.
            let next = now.saturating_add((age * 4 / 5).max(1));
            SourceFetch {
                status: SourceStatus {
                    source: Some(source),
                    url,
                    last_fetch_at: Some(now),
                    last_success_at: Some(now),
                    last_error: None,
                    next_refresh_at: Some(next),
                    key_count: parsed.keys.len(),
                },
                last_good: Some(parsed),
            }
        }
        Err(reason) => {
            failures.push((field, reason.clone()));
            let last_success_at = before.and_then(|b| b.status.last_success_at);
            let still_fresh = last_success_at.is_some_and(|t| now - t <= STALE_IF_ERROR);
            let last_good = before
                .and_then(|b| b.last_good.clone())
                .filter(|_| still_fresh);
            SourceFetch {
                status: SourceStatus {
                    source: Some(source),
                    url: before.map_or_else(|| configured_url.to_owned(), |b| b.status.url.clone()),
                    last_fetch_at: Some(now),
                    last_success_at,
                    last_error: Some(reason),
                    next_refresh_at: Some(now + RETRY_AFTER_FAILURE),
                    key_count: last_good.as_ref().map_or(0, |p| p.keys.len()),
                },
                last_good,
            }
        }
    }
}
