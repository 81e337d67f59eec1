//! Keeping fetched keys fresh: a background task refreshes each issuer whose refresh time has
//! come (sources that fail keep their last good keys), and `fetch_now` is the one way any
//! caller (probe, refresh, unknown-`kid` refetch) fetches an issuer's key sources.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::registry::TrustedIssuer;
use super::sources::{self, RefreshOutcome};
use super::trusted_issuers::TrustedIssuers;

impl TrustedIssuers {
    /// Refreshes due issuers until `shutdown` flips.
    pub fn spawn_refresher(self: &Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let service = self.clone();
        tokio::spawn(async move {
            loop {
                let now = service.setup.clock.now();
                let due: Vec<Arc<TrustedIssuer>> = service
                    .registry()
                    .sorted()
                    .into_iter()
                    .filter(|i| {
                        i.spec.has_remote_sources() && i.next_refresh_at().is_none_or(|t| t <= now)
                    })
                    .cloned()
                    .collect();
                for issuer in due {
                    let _gate = issuer.refetch_gate.lock().await;
                    let outcome = service.fetch_now(&issuer).await;
                    if !outcome.failures.is_empty() {
                        tracing::warn!(issuer = %issuer.spec.name, failures = ?outcome.failures, keys = outcome.key_count, "key refresh failed; last good keys kept");
                    }
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = shutdown.changed() => return,
                }
            }
        });
    }

    /// Fetches every key source of `issuer` now and installs what answered.
    pub(super) async fn fetch_now(&self, issuer: &TrustedIssuer) -> RefreshOutcome {
        sources::refresh(
            issuer,
            self.setup.fetcher.as_ref(),
            self.setup.clock.now(),
            self.setup.allow_private_networks,
        )
        .await
    }
}
