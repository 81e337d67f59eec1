//! The version timeline as pure functions of time: which version signs, which are published,
//! what changes next. Persisted statuses lag the clock by at most one lifecycle tick, so the
//! hot path derives the effective state from the times instead of waiting for the tick.

use super::model::{KeySpec, KeyStatus, KeyVersion};

/// Extra time a retiring version stays published beyond the longest token lifetime.
pub const LEEWAY_SECS: u64 = 60;

/// Why a version cannot make a transition.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionRefused {
    /// No such version.
    #[error("version {0} does not exist")]
    UnknownVersion(u32),
    /// The version is already retired.
    #[error("version {0} is already retired")]
    AlreadyRetired(u32),
}

/// The status a version has at `now`, given its persisted status and times.
pub fn effective_status(version: &KeyVersion, now: i64) -> KeyStatus {
    match version.status {
        KeyStatus::Pending if version.activates_at.is_some_and(|t| t <= now) => KeyStatus::Active,
        KeyStatus::Retiring if version.retires_at.is_some_and(|t| t <= now) => KeyStatus::Retired,
        status => status,
    }
}

/// The version that signs at `now`: the newest one that is active in effect.
pub fn signing_version(versions: &[KeyVersion], now: i64) -> Option<&KeyVersion> {
    versions
        .iter()
        .filter(|v| effective_status(v, now) == KeyStatus::Active)
        .max_by_key(|v| (v.activates_at.unwrap_or(v.created_at), v.version))
}

/// Applies every transition due at `now`; answers whether anything changed.
/// `retention` is how long a superseded version stays published (longest token lifetime +
/// leeway), counted from its successor's activation.
pub fn advance(versions: &mut [KeyVersion], now: i64, retention: u64) -> bool {
    let signer = signing_version(versions, now).map(|v| (v.version, v.activates_at.unwrap_or(now)));
    let mut changed = false;
    for version in versions.iter_mut() {
        let next = match effective_status(version, now) {
            KeyStatus::Active if signer.is_some_and(|(n, _)| n != version.version) => {
                let successor_start = signer.map_or(now, |(_, start)| start);
                let retires_at = successor_start.saturating_add(secs(retention));
                let status = if retires_at <= now {
                    KeyStatus::Retired
                } else {
                    KeyStatus::Retiring
                };
                (status, Some(retires_at))
            }
            status => (status, version.retires_at),
        };
        if (version.status, version.retires_at) != next {
            (version.status, version.retires_at) = next;
            changed = true;
        }
    }
    changed
}

/// Adds a freshly generated version: active now, or pending for `prepublish` seconds.
/// Older pending versions are retired at once when they could not have signed yet (they
/// activate more than the leeway after `now`); one activating sooner may already sign on a
/// node whose keyring or clock is a moment ahead of `now`, so it retires like a signer. The
/// previous signer starts retiring.
pub fn add_version(
    versions: &mut Vec<KeyVersion>,
    mut fresh: KeyVersion,
    now: i64,
    prepublish: Option<u64>,
    retention: u64,
) {
    advance(versions, now, retention);
    for older in versions.iter_mut() {
        if older.status == KeyStatus::Pending {
            let activates_at = older.activates_at.unwrap_or(now);
            if activates_at > now.saturating_add(secs(LEEWAY_SECS)) {
                older.status = KeyStatus::Retired;
                older.retires_at = Some(now);
            } else {
                older.status = KeyStatus::Retiring;
                older.retires_at = Some(activates_at.max(now).saturating_add(secs(retention)));
            }
        }
    }
    match prepublish.filter(|p| *p > 0) {
        Some(delay) => {
            fresh.status = KeyStatus::Pending;
            fresh.activates_at = Some(now.saturating_add(secs(delay)));
        }
        None => {
            for older in versions.iter_mut() {
                if older.status == KeyStatus::Active {
                    older.status = KeyStatus::Retiring;
                    older.retires_at = Some(now.saturating_add(secs(retention)));
                }
            }
            fresh.status = KeyStatus::Active;
            fresh.activates_at = Some(now);
        }
    }
    fresh.retires_at = None;
    versions.push(fresh);
}

/// Stops a version from signing while keeping it published for `retention`.
/// Answers whether the key now needs a new active version.
pub fn taint(
    versions: &mut [KeyVersion],
    number: u32,
    now: i64,
    retention: u64,
) -> Result<bool, TransitionRefused> {
    advance(versions, now, retention);
    let version = find(versions, number)?;
    match version.status {
        KeyStatus::Retired => Err(TransitionRefused::AlreadyRetired(number)),
        KeyStatus::Retiring => Ok(false),
        status => {
            version.status = KeyStatus::Retiring;
            version.retires_at = Some(now.saturating_add(secs(retention)));
            Ok(status == KeyStatus::Active)
        }
    }
}

/// Unpublishes a version now. Answers whether the key now needs a new active version.
pub fn revoke(
    versions: &mut [KeyVersion],
    number: u32,
    now: i64,
    retention: u64,
) -> Result<bool, TransitionRefused> {
    advance(versions, now, retention);
    let version = find(versions, number)?;
    let was = version.status;
    if was == KeyStatus::Retired {
        return Err(TransitionRefused::AlreadyRetired(number));
    }
    version.status = KeyStatus::Retired;
    version.retires_at = Some(now);
    Ok(was == KeyStatus::Active)
}

/// Activates the newest pending version now (it is already published), so a key whose signer
/// was tainted or revoked keeps signing. Answers whether there was one.
pub fn activate_pending_now(versions: &mut [KeyVersion], now: i64) -> bool {
    let newest = versions
        .iter_mut()
        .filter(|v| v.status == KeyStatus::Pending)
        .max_by_key(|v| v.version);
    match newest {
        Some(version) => {
            version.status = KeyStatus::Active;
            version.activates_at = Some(now);
            true
        }
        None => false,
    }
}

/// Whether scheduled rotation is due at `now`.
pub fn rotation_due(spec: &KeySpec, versions: &[KeyVersion], now: i64) -> bool {
    let Some(period) = spec.rotation_period else {
        return false;
    };
    let pending = versions
        .iter()
        .any(|v| effective_status(v, now) == KeyStatus::Pending);
    match signing_version(versions, now) {
        Some(active) => {
            !pending
                && active
                    .activates_at
                    .unwrap_or(active.created_at)
                    .saturating_add(secs(period.as_secs()))
                    <= now
        }
        None => !pending,
    }
}

/// The versions as they are at `now`, every due transition applied (persisted or not).
pub fn as_of(versions: &[KeyVersion], now: i64, retention: u64) -> Vec<KeyVersion> {
    let mut current = versions.to_vec();
    advance(&mut current, now, retention);
    current
}

/// The next time at which this key's state changes by itself, if any.
pub fn next_change(
    spec: &KeySpec,
    versions: &[KeyVersion],
    now: i64,
    retention: u64,
) -> Option<i64> {
    let versions = as_of(versions, now, retention);
    let versions = versions.as_slice();
    let mut times: Vec<i64> = Vec::new();
    for version in versions {
        match version.status {
            KeyStatus::Pending => times.extend(version.activates_at),
            KeyStatus::Retiring => times.extend(version.retires_at),
            _ => {}
        }
    }
    if let (Some(period), Some(active)) = (spec.rotation_period, signing_version(versions, now)) {
        times.push(
            active
                .activates_at
                .unwrap_or(active.created_at)
                .saturating_add(secs(period.as_secs())),
        );
    }
    times.into_iter().filter(|t| *t > now).min()
}

fn find(versions: &mut [KeyVersion], number: u32) -> Result<&mut KeyVersion, TransitionRefused> {
    versions
        .iter_mut()
        .find(|v| v.version == number)
        .ok_or(TransitionRefused::UnknownVersion(number))
}

fn secs(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::HumanDuration;
    use sigil_jose::{Algorithm, Jwk, KeyType};

    const RETENTION: u64 = 3_660;

    fn version(number: u32) -> KeyVersion {
        KeyVersion {
            version: number,
            kid: format!("kid-{number}"),
            status: KeyStatus::Pending,
            created_at: 0,
            activates_at: None,
            retires_at: None,
            public_jwk: Jwk::new("EC"),
        }
    }

    fn spec(rotation: Option<u64>) -> KeySpec {
        KeySpec {
            name: "k".into(),
            key_type: KeyType::EcdsaP256,
            algorithm: Algorithm::Es256,
            rotation_period: rotation.map(HumanDuration::from_secs),
            internal: false,
        }
    }

    fn statuses(versions: &[KeyVersion]) -> Vec<KeyStatus> {
        versions.iter().map(|v| v.status).collect()
    }

    #[test]
    fn prepublished_version_walks_pending_active_retiring_retired() {
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        add_version(&mut versions, version(2), 100, Some(3_600), RETENTION);
        assert_eq!(statuses(&versions), [KeyStatus::Active, KeyStatus::Pending]);
        assert_eq!(signing_version(&versions, 3_699).unwrap().version, 1);
        // The hot path switches at the activation time even before a tick persists it.
        assert_eq!(signing_version(&versions, 3_700).unwrap().version, 2);
        assert!(advance(&mut versions, 3_700, RETENTION));
        assert_eq!(
            statuses(&versions),
            [KeyStatus::Retiring, KeyStatus::Active]
        );
        assert_eq!(versions[0].retires_at, Some(3_700 + 3_660));
        assert!(!advance(&mut versions, 7_359, RETENTION));
        assert_eq!(effective_status(&versions[0], 7_360), KeyStatus::Retired);
        assert!(advance(&mut versions, 7_360, RETENTION));
        assert_eq!(statuses(&versions), [KeyStatus::Retired, KeyStatus::Active]);
    }

    #[test]
    fn a_late_tick_retires_from_the_successor_start() {
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        add_version(&mut versions, version(2), 0, Some(10), RETENTION);
        assert!(advance(&mut versions, 100_000, RETENTION));
        assert_eq!(statuses(&versions), [KeyStatus::Retired, KeyStatus::Active]);
        assert_eq!(versions[0].retires_at, Some(10 + 3_660));
    }

    #[test]
    fn immediate_rotation_retires_the_previous_signer() {
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        add_version(&mut versions, version(2), 50, None, RETENTION);
        assert_eq!(
            statuses(&versions),
            [KeyStatus::Retiring, KeyStatus::Active]
        );
        assert_eq!(versions[0].retires_at, Some(50 + 3_660));
    }

    #[test]
    fn a_new_rotation_retires_a_pending_version_that_never_signed() {
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        add_version(&mut versions, version(2), 10, Some(1_000), RETENTION);
        add_version(&mut versions, version(3), 20, None, RETENTION);
        assert_eq!(
            statuses(&versions),
            [KeyStatus::Retiring, KeyStatus::Retired, KeyStatus::Active]
        );
    }

    #[test]
    fn a_pending_version_about_to_activate_stays_published_as_if_it_had_signed() {
        // A mint racing the rotation may sign with version 2 from its activation second.
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        add_version(&mut versions, version(2), 10, Some(1), RETENTION);
        add_version(&mut versions, version(3), 10, None, RETENTION);
        assert_eq!(
            statuses(&versions),
            [KeyStatus::Retiring, KeyStatus::Retiring, KeyStatus::Active]
        );
        assert_eq!(versions[1].retires_at, Some(11 + RETENTION as i64));
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        add_version(&mut versions, version(2), 10, Some(60), RETENTION);
        add_version(&mut versions, version(3), 10, None, RETENTION);
        assert_eq!(versions[1].status, KeyStatus::Retiring);
        add_version(&mut versions, version(4), 20, Some(61), RETENTION);
        add_version(&mut versions, version(5), 20, None, RETENTION);
        assert_eq!(versions[3].status, KeyStatus::Retired);
    }

    #[test]
    fn tainting_the_signer_asks_for_a_replacement_and_keeps_it_published() {
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        assert_eq!(taint(&mut versions, 1, 5, RETENTION), Ok(true));
        assert_eq!(versions[0].status, KeyStatus::Retiring);
        assert_eq!(versions[0].retires_at, Some(5 + 3_660));
        assert!(signing_version(&versions, 5).is_none());
        assert_eq!(taint(&mut versions, 1, 6, RETENTION), Ok(false));
    }

    #[test]
    fn a_pending_version_takes_over_from_a_tainted_signer() {
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        add_version(&mut versions, version(2), 10, Some(3_600), RETENTION);
        assert_eq!(taint(&mut versions, 1, 20, RETENTION), Ok(true));
        assert!(activate_pending_now(&mut versions, 20));
        assert_eq!(signing_version(&versions, 20).unwrap().version, 2);
        assert_eq!(versions[1].activates_at, Some(20));
        assert!(!activate_pending_now(&mut versions, 21));
    }

    #[test]
    fn revoking_unpublishes_at_once() {
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        add_version(&mut versions, version(2), 10, None, RETENTION);
        assert_eq!(revoke(&mut versions, 1, 20, RETENTION), Ok(false));
        assert_eq!(versions[0].status, KeyStatus::Retired);
        assert_eq!(versions[0].retires_at, Some(20));
        assert_eq!(
            revoke(&mut versions, 1, 21, RETENTION),
            Err(TransitionRefused::AlreadyRetired(1))
        );
        assert_eq!(
            revoke(&mut versions, 9, 21, RETENTION),
            Err(TransitionRefused::UnknownVersion(9))
        );
    }

    #[test]
    fn rotation_is_due_after_the_period_and_not_while_a_version_waits() {
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        let spec = spec(Some(86_400));
        assert!(!rotation_due(&spec, &versions, 86_399));
        assert!(rotation_due(&spec, &versions, 86_400));
        add_version(&mut versions, version(2), 86_400, Some(600), RETENTION);
        assert!(!rotation_due(&spec, &versions, 86_500));
        assert!(!rotation_due(&self::spec(None), &versions, 10_000_000));
    }

    #[test]
    fn next_change_is_the_earliest_scheduled_transition() {
        let mut versions = Vec::new();
        add_version(&mut versions, version(1), 0, None, RETENTION);
        assert_eq!(
            next_change(&spec(Some(86_400)), &versions, 10, RETENTION),
            Some(86_400)
        );
        add_version(&mut versions, version(2), 100, Some(500), RETENTION);
        assert_eq!(
            next_change(&spec(None), &versions, 100, RETENTION),
            Some(600)
        );
        assert_eq!(
            next_change(&spec(None), &versions, 700, RETENTION),
            Some(600 + 3_660)
        );
        assert_eq!(
            next_change(&spec(None), &versions, 600 + 3_660, RETENTION),
            None
        );
    }
}
