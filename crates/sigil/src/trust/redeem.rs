//! Redemption of single-use tokens (DESIGN §3): a trusted issuer with `require_jti` lets each
//! `(iss, jti)` be redeemed once before it expires, across every node sharing the store.
//! Exchange, jwt-bearer and JWT login all redeem through here; a bearer of `/v1` calls does not.

use serde_json::Value;

use super::verification::Verified;
use crate::storage::{REPLAY_JTI_MAX_BYTES, ReplayStore, StorageError};

/// Why a token could not be redeemed.
#[derive(Debug, thiserror::Error)]
pub enum RedeemRefused {
    /// No `jti`, or one longer than the store keeps.
    #[error("jti missing or longer than {REPLAY_JTI_MAX_BYTES} bytes")]
    JtiUnusable,
    /// The `(iss, jti)` pair was redeemed before.
    #[error("jti {0:?} was already used")]
    AlreadyRedeemed(String),
    /// The replay store failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// Redeems `verified` when its issuer requires `jti`; does nothing otherwise. Call it last,
/// once nothing else can refuse the request, so a refused request never spends the token.
pub async fn redeem(
    replays: &dyn ReplayStore,
    verified: &Verified,
    now: i64,
) -> Result<(), RedeemRefused> {
    let spec = &verified.issuer.spec;
    if !spec.require_jti {
        return Ok(());
    }
    let jti = verified
        .claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty() && j.len() <= REPLAY_JTI_MAX_BYTES)
        .ok_or(RedeemRefused::JtiUnusable)?;
    // Kept until the token can no longer verify anywhere: its exp plus the issuer's leeway.
    let expires_at = verified
        .claims
        .get("exp")
        .and_then(Value::as_f64)
        .map_or(now, |e| e.ceil() as i64)
        .saturating_add(i64::try_from(spec.leeway).unwrap_or(0));
    if replays
        .first_use(&spec.issuer, jti, expires_at, now)
        .await?
    {
        Ok(())
    } else {
        Err(RedeemRefused::AlreadyRedeemed(jti.to_owned()))
    }
}
