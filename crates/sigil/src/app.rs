//! The application: built once from a `Config`, shared by every handler as `AppState`.
//! It wires the store, the seal, the signing keys and the internal issuer, and owns the
//! orchestration that spans them (init, unseal, seal, generate-root, the lifecycle task).

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use sigil_jose::{Algorithm, KeyType};
use tokio::sync::watch;

use crate::clock::Clock;
use crate::config::{Config, StorageTarget};
use crate::identity::{Callers, IdentityMappings};
use crate::minting::JwtIssuers;
use crate::policies::Policies;
use crate::seal::{Seal, SealRefused, SealStatus, Share, UnsealStep};
use crate::signing_keys::{KeySpec, KeyUsage, KeyUser, SigningKeys};
use crate::storage::postgres::PostgresStore;
use crate::storage::sqlite::SqliteStore;
use crate::storage::{StorageError, Store};
use crate::trust::fetch::{FetchLimits, HttpFetcher};
use crate::trust::{
    INTERNAL_ISSUER, INTERNAL_KEY, InternalIssuer, MintedToken, TrustSetup, TrustedIssuers,
};

/// How often a node checks whether another node changed the configuration.
pub const RECONCILE_INTERVAL: Duration = Duration::from_secs(1);

/// How often a node whose store pushes change notifications (PostgreSQL) checks the change
/// counter anyway: heals a notification lost with a dropped connection.
pub const NOTIFIED_RECONCILE_INTERVAL: Duration = Duration::from_secs(30);

/// Everything a request needs, built once.
pub struct App {
    /// The validated configuration.
    pub config: Config,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// The store.
    pub store: Arc<dyn Store>,
    /// The seal.
    pub seal: Seal,
    /// Signing keys and the in-memory keyring.
    pub keys: Arc<SigningKeys>,
    /// JWT issuers and roles, compiled for minting.
    pub issuers: JwtIssuers,
    /// The internal trusted issuer.
    pub internal: InternalIssuer,
    /// Trusted issuers and the verification every caller shares.
    pub trust: Arc<TrustedIssuers>,
    /// Identity mappings.
    pub mappings: IdentityMappings,
    /// Policies.
    pub policies: Policies,
    /// Callers authenticated recently (bearer token → identity).
    pub callers: Callers,
}

/// What init answers, once.
pub struct Initialisation {
    /// The unseal key shares.
    pub shares: Vec<Share>,
    /// A root token.
    pub root_token: MintedToken,
}

impl App {
    /// Opens the configured store and builds the app, sealed.
    pub async fn open(config: Config, clock: Arc<dyn Clock>) -> Result<Arc<App>, StorageError> {
        let store = open_store(&config.storage, clock.clone()).await?;
        App::with_store(config, clock, store).await
    }

    /// Builds the app over an already opened store, sealed, with public keys loaded so JWKS
    /// answers before unseal.
    pub async fn with_store(
        config: Config,
        clock: Arc<dyn Clock>,
        store: Arc<dyn Store>,
    ) -> Result<Arc<App>, StorageError> {
        let usage = Arc::new(KeyUsage::new(clock.clone()));
        usage.set(
            &format!("internal:{INTERNAL_ISSUER}"),
            INTERNAL_KEY,
            KeyUser {
                description: format!("internal issuer {INTERNAL_ISSUER}"),
                max_ttl: config.root_token_ttl.as_secs(),
            },
            None,
        );
        let keys = Arc::new(SigningKeys::new(store.clone(), clock.clone(), usage));
        keys.load(None).await.map_err(|e| match e {
            crate::signing_keys::KeyRefused::Catalog(e) => e.into_storage("signing key"),
            other => StorageError::Corrupt {
                kind: "signing key",
                reason: other.to_string(),
            },
        })?;
        let issuers = JwtIssuers::new(
            store.clone(),
            keys.clone(),
            &config.public_url,
            &config.site,
        );
        issuers.load().await.map_err(|e| match e {
            crate::minting::MintRefused::Catalog(e) => e.into_storage("jwt issuer"),
            other => StorageError::Corrupt {
                kind: "jwt issuer",
                reason: other.to_string(),
            },
        })?;
        let fetcher = HttpFetcher::new(FetchLimits::default())
            .map_err(|e| StorageError::Backend(format!("cannot build the HTTP client: {e}")))?;
        let trust = Arc::new(TrustedIssuers::new(TrustSetup {
            store: store.clone(),
            keys: keys.clone(),
            fetcher: Arc::new(fetcher),
            clock: clock.clone(),
            allow_private_networks: config.allow_private_networks,
            max_token_bytes: config.max_token_bytes,
        }));
        trust
            .load(config.static_trusted_issuers.clone())
            .await
            .map_err(|e| match e {
                crate::trust::TrustRefused::Catalog(e) => e.into_storage("trusted issuer"),
                other => StorageError::Corrupt {
                    kind: "trusted issuer",
                    reason: other.to_string(),
                },
            })?;
        let mappings = IdentityMappings::new(store.clone(), trust.clone());
        mappings
            .load()
            .await
            .map_err(|e| e.into_storage("identity mapping"))?;
        let policies = Policies::new(store.clone());
        policies
            .load()
            .await
            .map_err(|e| e.into_storage("policy"))?;
        Ok(Arc::new(App {
            callers: Callers::new(),
            mappings,
            policies,
            trust,
            issuers,
            internal: InternalIssuer,
            seal: Seal::new(store.clone()),
            config,
            clock,
            store,
            keys,
        }))
    }

    /// Initialises the seal, creates the internal signing key and mints a root token.
    /// The server stays sealed afterwards, exactly as after a restart.
    pub async fn initialise(
        &self,
        shares: u8,
        threshold: u8,
    ) -> Result<Initialisation, SealRefused> {
        let init = self
            .seal
            .initialise(shares, threshold, self.clock.now())
            .await?;
        let spec = KeySpec {
            name: INTERNAL_KEY.to_owned(),
            key_type: KeyType::EcdsaP256,
            algorithm: Algorithm::Es256,
            rotation_period: None,
            internal: true,
        };
        let created = self.keys.create(spec, Some(init.data_key.clone())).await;
        let minted = created
            .map_err(|e| SealRefused::Crypto(e.to_string()))
            .and_then(|_| {
                self.mint_root_token()
                    .ok_or_else(|| SealRefused::Crypto("the internal key cannot sign".into()))
            });
        self.keys.forget_private_keys().await;
        Ok(Initialisation {
            shares: init.shares,
            root_token: minted?,
        })
    }

    /// Gives one unseal share; at the threshold, private keys are opened and parsed.
    pub async fn unseal(&self, share: Share) -> Result<SealStatus, SealRefused> {
        match self.seal.submit_share(share).await? {
            UnsealStep::AlreadyUnsealed(status) => return Ok(status),
            UnsealStep::Progress => {}
            UnsealStep::Unsealed(data_key) => {
                if let Err(e) = self.keys.load(Some(data_key)).await {
                    self.seal_now().await;
                    return Err(SealRefused::Crypto(format!(
                        "keys could not be opened: {e}"
                    )));
                }
                if self.seal.is_sealed() {
                    // Sealed again while the keys were opening: that seal wins.
                    self.keys.forget_private_keys().await;
                } else {
                    tracing::info!("unsealed");
                }
            }
        }
        self.seal.status().await
    }

    /// Seals: drops the data key and every parsed private key.
    pub async fn seal_now(&self) {
        self.seal.seal().await;
        self.keys.forget_private_keys().await;
        tracing::info!("sealed");
    }

    /// A new root token for a quorum of unseal keys.
    pub async fn generate_root(&self, shares: Vec<Share>) -> Result<MintedToken, SealRefused> {
        if self.seal.is_sealed() {
            return Err(SealRefused::Sealed);
        }
        self.seal.verify_quorum(shares).await?;
        self.mint_root_token()
            .ok_or_else(|| SealRefused::Crypto("the internal key cannot sign".into()))
    }

    /// Applies the shares in `path` (one per line, `#` comments allowed) at start.
    pub async fn auto_unseal(&self, path: &Path) -> Result<SealStatus, SealRefused> {
        let text = tokio::fs::read_to_string(path)
            .await
            .map_err(|e| SealRefused::Crypto(format!("cannot read {}: {e}", path.display())))?;
        let mut status = self.seal.status().await?;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') || !status.sealed {
                continue;
            }
            let share = Share::decode(line).map_err(SealRefused::MalformedShare)?;
            status = self.unseal(share).await?;
        }
        Ok(status)
    }

    /// Reloads the in-memory configuration whenever the store's change counter moves (another
    /// node, or this one, wrote), until `shutdown` flips: at once when the store notifies a
    /// change, and every `NOTIFIED_RECONCILE_INTERVAL` anyway; a store that cannot notify is
    /// polled every `RECONCILE_INTERVAL`.
    pub fn spawn_reconciler(self: &Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut seen = app.store.change_counter().await.ok();
            let mut notified = app.store.change_notifications();
            let interval = match notified {
                Some(_) => NOTIFIED_RECONCILE_INTERVAL,
                None => RECONCILE_INTERVAL,
            };
            loop {
                let notification = async {
                    let pushed = match notified.as_mut() {
                        Some(hints) => hints.changed().await.is_ok(),
                        None => false,
                    };
                    if !pushed {
                        // No feed (or it ended): only the interval wakes this loop.
                        std::future::pending::<()>().await;
                    }
                };
                tokio::select! {
                    _ = tokio::time::sleep(interval) => {}
                    _ = notification => {}
                    _ = shutdown.changed() => return,
                }
                let counter = match app.store.change_counter().await {
                    Ok(counter) => counter,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot read the change counter");
                        continue;
                    }
                };
                if seen == Some(counter) {
                    continue;
                }
                match app.reload().await {
                    Ok(()) => seen = Some(counter),
                    Err(e) => {
                        tracing::warn!(error = %e, "reloading the configuration failed; retrying")
                    }
                }
            }
        });
    }

    /// Reloads every piece of configuration from the store.
    pub async fn reload(&self) -> Result<(), String> {
        self.keys.reload().await.map_err(|e| e.to_string())?;
        self.issuers.load().await.map_err(|e| e.to_string())?;
        self.trust
            .load(self.config.static_trusted_issuers.clone())
            .await
            .map_err(|e| e.to_string())?;
        self.mappings.load().await.map_err(|e| e.to_string())?;
        self.policies.load().await.map_err(|e| e.to_string())
    }

    /// Runs the key lifecycle (and purges expired single-use `jti` records) until `shutdown`
    /// flips: at every interval, and exactly at the next scheduled key change when sooner, on
    /// the one node of a deployment that leads scheduled work.
    pub fn spawn_lifecycle(self: &Arc<Self>, mut shutdown: watch::Receiver<bool>) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut leading = false;
            loop {
                let interval = app.config.lifecycle_interval.as_secs();
                let until_next = app
                    .keys
                    .next_change()
                    .map(|t| t.saturating_sub(app.clock.now()).max(1))
                    .and_then(|s| u64::try_from(s).ok())
                    .unwrap_or(interval);
                let wait = Duration::from_secs(until_next.min(interval));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = shutdown.changed() => return,
                }
                let leads = app.store.lead_scheduled_work().await;
                if leads.as_ref().is_ok_and(|l| *l) != leading {
                    leading = !leading;
                    if leading {
                        tracing::info!(
                            "this node now leads scheduled work (key lifecycle, jti pruning)"
                        );
                    } else {
                        tracing::info!("this node no longer leads scheduled work");
                    }
                }
                match leads {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        tracing::warn!(error = %e, "cannot tell which node leads scheduled work");
                        continue;
                    }
                }
                if !app.seal.is_sealed() {
                    match app.store.replays().purge_expired(app.clock.now()).await {
                        Ok(0) => {}
                        Ok(purged) => tracing::debug!(purged, "expired jti records purged"),
                        Err(e) => tracing::warn!(error = %e, "purging expired jti records failed"),
                    }
                }
                match app.keys.run_lifecycle().await {
                    Ok(changed) if !changed.is_empty() => {
                        tracing::info!(keys = ?changed, "key lifecycle applied");
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "key lifecycle failed; retrying"),
                }
            }
        });
    }

    fn mint_root_token(&self) -> Option<MintedToken> {
        self.internal.mint(
            &self.keys.keyring(),
            self.clock.now(),
            "root",
            &["root"],
            self.config.root_token_ttl.as_secs(),
        )
    }
}

/// Connects to PostgreSQL; while the database cannot be reached (it may be starting with this
/// node), retries with backoff from 1 s up to 30 s, saying so each time. Anything else (a bad
/// URL, a refused password, a failed migration) fails the start at once.
async fn connect_with_backoff(
    url: &str,
    password_file: Option<&Path>,
) -> Result<PostgresStore, StorageError> {
    let mut wait = Duration::from_secs(1);
    loop {
        match PostgresStore::connect(url, password_file).await {
            Err(StorageError::Unavailable(cause)) => {
                tracing::warn!(%cause, retry_in = ?wait, "the database cannot be reached yet; retrying");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(30));
            }
            other => return other,
        }
    }
}

/// Opens the store `target` names, stamping its writes with `clock`; a PostgreSQL that cannot
/// be reached yet is waited for.
pub async fn open_store(
    target: &StorageTarget,
    clock: Arc<dyn Clock>,
) -> Result<Arc<dyn Store>, StorageError> {
    Ok(match target {
        StorageTarget::Sqlite(path) => Arc::new(
            SqliteStore::open(path)
                .await?
                .with_clock(move || clock.now()),
        ),
        StorageTarget::Postgres { url, password_file } => Arc::new(
            connect_with_backoff(url.expose(), password_file.as_deref())
                .await?
                .with_clock(move || clock.now()),
        ),
    })
}
