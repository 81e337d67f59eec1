//! The seal: private keys are encrypted under a data key, itself wrapped by a root key that is
//! split into Shamir shares and never stored. Sealed, the service holds neither; the hot path
//! only reads an atomic flag.

pub(crate) mod shamir;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use sigil_jose::{SealingKey, Secret};
use tokio::sync::Mutex;

use crate::storage::{SealRecord, StorageError, Store};
pub use shamir::Share;
pub(crate) use shamir::ShareRefused;

const DATA_KEY_AAD: &[u8] = b"sigil:data-key:v1";

/// Why a seal operation was refused.
#[derive(Debug, thiserror::Error)]
pub enum SealRefused {
    /// Init has not run yet.
    #[error("Sigil is not initialised; run init first")]
    NotInitialised,
    /// Init already ran.
    #[error("Sigil is already initialised")]
    AlreadyInitialised,
    /// The operation needs the unsealed data key.
    #[error("Sigil is sealed")]
    Sealed,
    /// A parameter of init is out of range.
    #[error("{field}: {reason}")]
    Parameter { field: &'static str, reason: String },
    /// The submitted text is not a share.
    #[error("key: {0}")]
    MalformedShare(ShareRefused),
    /// Two different shares claim the same identifier.
    #[error("key: a different share with the same identifier was already given; progress reset")]
    ConflictingShare,
    /// Enough shares were given but they do not open the data key.
    #[error(
        "the unseal keys do not belong together or to this server; progress reset, still sealed"
    )]
    WrongShares,
    /// Fewer shares than the threshold (generate-root).
    #[error("keys: {given} given, {threshold} needed")]
    NotEnoughShares { given: usize, threshold: u8 },
    /// The stored wrapped data key or the crypto library failed.
    #[error("sealing failed: {0}")]
    Crypto(String),
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// What `/v1/sys/seal-status` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct SealStatus {
    /// Whether init has run.
    pub initialized: bool,
    /// Whether private keys are unavailable.
    pub sealed: bool,
    /// Shares needed to unseal (0 before init).
    pub threshold: u8,
    /// Shares handed out at init (0 before init).
    pub shares: u8,
    /// Distinct shares given so far towards unsealing.
    pub progress: u8,
}

/// The result of init: the shares to hand out and the data key to seal the first keys with.
pub struct Initialised {
    /// One per operator; shown once.
    pub shares: Vec<Share>,
    /// The data key, for sealing the internal signing key at init.
    pub data_key: Arc<SealingKey>,
}

/// The result of giving one share.
pub enum UnsealStep {
    /// More shares are needed.
    Progress,
    /// The threshold was reached and the data key opened.
    Unsealed(Arc<SealingKey>),
    /// The seal was already open: the share was not even looked at.
    AlreadyUnsealed(SealStatus),
}

enum Phase {
    Sealed {
        progress: Vec<Share>,
    },
    /// Open: the data key now lives with the signing keys, not here.
    Unsealed,
}

/// The seal of one server.
pub struct Seal {
    store: Arc<dyn Store>,
    phase: Mutex<Phase>,
    sealed: AtomicBool,
}

impl Seal {
    /// A sealed seal over `store`.
    pub fn new(store: Arc<dyn Store>) -> Seal {
        Seal {
            store,
            phase: Mutex::new(Phase::Sealed {
                progress: Vec::new(),
            }),
            sealed: AtomicBool::new(true),
        }
    }

    /// Lock-free check for the hot path and the 503 gate.
    pub fn is_sealed(&self) -> bool {
        self.sealed.load(Ordering::Acquire)
    }

    /// Init status, threshold and progress.
    pub async fn status(&self) -> Result<SealStatus, SealRefused> {
        let record = self.store.seal().load().await?;
        let phase = self.phase.lock().await;
        Ok(status_of(record.as_ref(), &phase))
    }

    /// Generates the root and data keys, stores the wrapped data key, and answers the shares.
    /// The server stays sealed, as after a restart.
    pub async fn initialise(
        &self,
        shares: u8,
        threshold: u8,
        now: i64,
    ) -> Result<Initialised, SealRefused> {
        if !(1..=16).contains(&shares) {
            return Err(parameter("shares", "must be between 1 and 16"));
        }
        if threshold == 0 || threshold > shares {
            return Err(parameter(
                "threshold",
                "must be between 1 and the number of shares",
            ));
        }
        if shares > 1 && threshold == 1 {
            return Err(parameter(
                "threshold",
                "must be at least 2 when there are several shares (any single share would unseal)",
            ));
        }
        let _phase = self.phase.lock().await;
        if self.store.seal().load().await?.is_some() {
            return Err(SealRefused::AlreadyInitialised);
        }
        let root_key = sigil_jose::random_bytes::<32>().map_err(crypto)?;
        let data_key_bytes = sigil_jose::random_bytes::<32>().map_err(crypto)?;
        let root = SealingKey::from_bytes(root_key.expose()).map_err(crypto)?;
        let wrapped_data_key = root
            .seal(data_key_bytes.expose(), DATA_KEY_AAD)
            .map_err(crypto)?;
        let split =
            shamir::split(&root_key, shares, threshold).map_err(SealRefused::MalformedShare)?;
        let record = SealRecord {
            shares,
            threshold,
            wrapped_data_key,
            initialised_at: now,
        };
        match self.store.seal().initialise(&record).await {
            Err(StorageError::AlreadyExists { .. }) => return Err(SealRefused::AlreadyInitialised),
            other => other?,
        }
        let data_key = Arc::new(SealingKey::from_bytes(data_key_bytes.expose()).map_err(crypto)?);
        Ok(Initialised {
            shares: split,
            data_key,
        })
    }

    /// Adds one share. The same share twice counts once; a wrong set resets progress.
    pub async fn submit_share(&self, share: Share) -> Result<UnsealStep, SealRefused> {
        let record = self.record().await?;
        let mut phase = self.phase.lock().await;
        let progress = match &mut *phase {
            // Nothing to do: the share is not judged, no key is opened again.
            Phase::Unsealed => {
                return Ok(UnsealStep::AlreadyUnsealed(status_of(
                    Some(&record),
                    &phase,
                )));
            }
            Phase::Sealed { progress } => progress,
        };
        if let Some(seen) = progress
            .iter()
            .find(|s| s.identifier() == share.identifier())
        {
            if seen.same_as(&share) {
                return Ok(UnsealStep::Progress);
            }
            progress.clear();
            return Err(SealRefused::ConflictingShare);
        }
        progress.push(share);
        if progress.len() < usize::from(record.threshold) {
            return Ok(UnsealStep::Progress);
        }
        let opened = open_data_key(&record, progress);
        progress.clear();
        let data_key = Arc::new(opened?);
        *phase = Phase::Unsealed;
        self.sealed.store(false, Ordering::Release);
        Ok(UnsealStep::Unsealed(data_key))
    }

    /// Forgets the data key and any unseal progress.
    pub async fn seal(&self) {
        let mut phase = self.phase.lock().await;
        self.sealed.store(true, Ordering::Release);
        *phase = Phase::Sealed {
            progress: Vec::new(),
        };
    }

    /// The seal record, which exists once Sigil is initialised.
    async fn record(&self) -> Result<SealRecord, SealRefused> {
        self.store
            .seal()
            .load()
            .await?
            .ok_or(SealRefused::NotInitialised)
    }

    /// Checks that `shares` are a quorum that opens the data key (for generate-root).
    pub async fn verify_quorum(&self, shares: Vec<Share>) -> Result<(), SealRefused> {
        let record = self.record().await?;
        let mut distinct: Vec<Share> = Vec::new();
        for share in shares {
            match distinct
                .iter()
                .find(|s| s.identifier() == share.identifier())
            {
                Some(seen) if seen.same_as(&share) => {}
                Some(_) => return Err(SealRefused::ConflictingShare),
                None => distinct.push(share),
            }
        }
        if distinct.len() < usize::from(record.threshold) {
            return Err(SealRefused::NotEnoughShares {
                given: distinct.len(),
                threshold: record.threshold,
            });
        }
        open_data_key(&record, &distinct).map(|_| ())
    }
}

fn open_data_key(record: &SealRecord, shares: &[Share]) -> Result<SealingKey, SealRefused> {
    let root_key = shamir::combine(shares).map_err(|_| SealRefused::WrongShares)?;
    let root = SealingKey::from_bytes(root_key.expose()).map_err(crypto)?;
    let data_key: Secret<Vec<u8>> = root
        .open(&record.wrapped_data_key, DATA_KEY_AAD)
        .map_err(|_| SealRefused::WrongShares)?;
    let bytes: &[u8; 32] = data_key
        .expose()
        .as_slice()
        .try_into()
        .map_err(|_| SealRefused::Crypto("stored data key has the wrong length".into()))?;
    SealingKey::from_bytes(bytes).map_err(crypto)
}

fn status_of(record: Option<&SealRecord>, phase: &Phase) -> SealStatus {
    let (sealed, progress) = match phase {
        Phase::Sealed { progress } => (true, progress.len()),
        Phase::Unsealed => (false, 0),
    };
    SealStatus {
        initialized: record.is_some(),
        sealed,
        threshold: record.map_or(0, |r| r.threshold),
        shares: record.map_or(0, |r| r.shares),
        progress: u8::try_from(progress).unwrap_or(u8::MAX),
    }
}

fn parameter(field: &'static str, reason: &str) -> SealRefused {
    SealRefused::Parameter {
        field,
        reason: reason.to_owned(),
    }
}

fn crypto(error: sigil_jose::JoseError) -> SealRefused {
    SealRefused::Crypto(error.to_string())
}
