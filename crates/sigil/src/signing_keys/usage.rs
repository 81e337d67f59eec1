//! Who signs with which key, and for how long their tokens live: deletion refuses a key in
//! use, and a retiring version stays published for its users' longest token lifetime. When a
//! user's `max_ttl` is lowered, the old value keeps counting until tokens minted under it have
//! expired, so lowering a cap never unpublishes a key early.

use std::collections::BTreeMap;
use std::sync::Arc;

use arc_swap::ArcSwap;
use serde::{Deserialize, Serialize};

use super::lifecycle::LEEWAY_SECS;
use crate::clock::Clock;

/// One user of a signing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUser {
    /// How the user is named in errors: `jwt-issuer payments-api`, `internal issuer sigil`.
    pub description: String,
    /// The longest lifetime of a token it can sign, in seconds.
    pub max_ttl: u64,
}

/// A lowered `max_ttl` that still counts: tokens minted under `max_ttl` may live until `until`.
/// The user persists it with its configuration, so a restart (or another node) keeps counting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RetentionFloor {
    /// The older, longer lifetime in seconds.
    pub max_ttl: u64,
    /// Unix seconds until which it counts.
    pub until: i64,
}

/// One registration: the key, the user, and a floor left by a lowered `max_ttl`.
#[derive(Clone, Debug)]
struct Entry {
    key: String,
    user: KeyUser,
    floor: Option<RetentionFloor>,
}

/// The registry of key users, written by the domains that sign, read by key operations.
pub struct KeyUsage {
    by_user: ArcSwap<BTreeMap<String, Entry>>,
    clock: Arc<dyn Clock>,
}

impl KeyUsage {
    /// An empty registry.
    pub fn new(clock: Arc<dyn Clock>) -> KeyUsage {
        KeyUsage {
            by_user: ArcSwap::from_pointee(BTreeMap::new()),
            clock,
        }
    }

    /// The floor that registering `user_id` on `key` with `max_ttl` now would leave: what the
    /// user must persist with its configuration before [`KeyUsage::set`].
    pub fn floor_after(&self, user_id: &str, key: &str, max_ttl: u64) -> Option<RetentionFloor> {
        floor_after(
            self.by_user.load().get(user_id),
            key,
            max_ttl,
            self.clock.now(),
        )
    }

    /// Records (or replaces) that `user_id` signs with `key` as `user`, keeping `persisted`
    /// (the floor stored with the user's configuration) while it still counts.
    pub fn set(&self, user_id: &str, key: &str, user: KeyUser, persisted: Option<RetentionFloor>) {
        let now = self.clock.now();
        self.by_user.rcu(|current| {
            let mut next = BTreeMap::clone(current);
            let computed = floor_after(next.get(user_id), key, user.max_ttl, now);
            let floor = [computed, persisted.filter(|f| f.until > now)]
                .into_iter()
                .flatten()
                .max();
            let entry = Entry {
                key: key.to_owned(),
                user: user.clone(),
                floor,
            };
            next.insert(user_id.to_owned(), entry);
            next
        });
    }

    /// Forgets `user_id`.
    pub fn remove(&self, user_id: &str) {
        self.by_user.rcu(|current| {
            let mut next = BTreeMap::clone(current);
            next.remove(user_id);
            next
        });
    }

    /// The users of `key`, in user-id order.
    pub fn users_of(&self, key: &str) -> Vec<KeyUser> {
        self.by_user
            .load()
            .values()
            .filter(|entry| entry.key == key)
            .map(|entry| entry.user.clone())
            .collect()
    }

    /// How long a version of `key` that stops signing now must stay published: the longest
    /// token lifetime any user may have issued, plus the leeway.
    pub fn retention(&self, key: &str) -> u64 {
        let now = self.clock.now();
        self.by_user
            .load()
            .values()
            .filter(|entry| entry.key == key)
            .map(|entry| {
                let floor = entry
                    .floor
                    .filter(|floor| floor.until > now)
                    .map_or(0, |floor| floor.max_ttl);
                entry.user.max_ttl.max(floor)
            })
            .max()
            .unwrap_or(0)
            .saturating_add(LEEWAY_SECS)
    }
}

fn floor_after(old: Option<&Entry>, key: &str, max_ttl: u64, now: i64) -> Option<RetentionFloor> {
    let old = old?;
    let carried = old.floor.filter(|floor| floor.until > now);
    let lowered = (old.key == key && old.user.max_ttl > max_ttl).then(|| RetentionFloor {
        max_ttl: old.user.max_ttl,
        until: now.saturating_add(i64::try_from(old.user.max_ttl).unwrap_or(i64::MAX)),
    });
    [carried, lowered].into_iter().flatten().max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lowered_max_ttl_keeps_counting_until_its_tokens_expire() {
        let clock = crate::clock::FixedClock::at(1_000);
        let usage = KeyUsage::new(Arc::new(clock.clone()));
        let user = |ttl| KeyUser {
            description: "jwt-issuer a".into(),
            max_ttl: ttl,
        };
        usage.set("a", "k", user(86_400), None);
        let floor = usage.floor_after("a", "k", 3_600);
        assert_eq!(
            floor,
            Some(RetentionFloor {
                max_ttl: 86_400,
                until: 1_000 + 86_400
            })
        );
        usage.set("a", "k", user(3_600), None);
        assert_eq!(usage.retention("k"), 86_460);
        clock.advance(86_399);
        assert_eq!(usage.retention("k"), 86_460);
        clock.advance(1);
        assert_eq!(usage.retention("k"), 3_660);
    }

    #[test]
    fn a_persisted_floor_survives_a_fresh_registry() {
        let clock = crate::clock::FixedClock::at(1_000);
        let user = |ttl| KeyUser {
            description: "jwt-issuer a".into(),
            max_ttl: ttl,
        };
        // As after a restart: the lowered max_ttl is all a new registry sees, but the floor
        // stored with the issuer is handed back.
        let restarted = KeyUsage::new(Arc::new(clock.clone()));
        let stored = RetentionFloor {
            max_ttl: 86_400,
            until: 50_000,
        };
        restarted.set("a", "k", user(300), Some(stored));
        assert_eq!(restarted.retention("k"), 86_460);
        assert_eq!(restarted.floor_after("a", "k", 300), Some(stored));
        clock.set(50_000);
        assert_eq!(restarted.retention("k"), 360);
        restarted.set("a", "k", user(300), Some(stored));
        assert_eq!(restarted.retention("k"), 360);
    }

    #[test]
    fn retention_is_the_longest_user_ttl_plus_leeway() {
        let usage = KeyUsage::new(Arc::new(crate::clock::FixedClock::at(0)));
        assert_eq!(usage.retention("k"), 60);
        let user = |d: &str, ttl| KeyUser {
            description: d.into(),
            max_ttl: ttl,
        };
        usage.set("a", "k", user("jwt-issuer a", 3_600), None);
        usage.set("b", "k", user("jwt-issuer b", 86_400), None);
        usage.set("c", "other", user("jwt-issuer c", 999_999), None);
        assert_eq!(usage.retention("k"), 86_460);
        usage.remove("b");
        assert_eq!(usage.retention("k"), 3_660);
        assert_eq!(usage.users_of("k"), vec![user("jwt-issuer a", 3_600)]);
    }
}
