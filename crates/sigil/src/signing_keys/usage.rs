//! Who signs with which key, and for how long their tokens live: deletion refuses a key in
//! use, and a retiring version stays published for its users' longest token lifetime.

use std::collections::BTreeMap;

use arc_swap::ArcSwap;

use super::lifecycle::LEEWAY_SECS;

/// One user of a signing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyUser {
    /// How the user is named in errors: `jwt-issuer payments-api`, `internal issuer sigil`.
    pub description: String,
    /// The longest lifetime of a token it can sign, in seconds.
    pub max_ttl: u64,
}

/// The registry of key users, written by the domains that sign, read by key operations.
#[derive(Default)]
pub struct KeyUsage {
    by_user: ArcSwap<BTreeMap<String, (String, KeyUser)>>,
}

impl KeyUsage {
    /// An empty registry.
    pub fn new() -> KeyUsage {
        KeyUsage::default()
    }

    /// Records (or replaces) that `user_id` signs with `key` as `user`.
    pub fn set(&self, user_id: &str, key: &str, user: KeyUser) {
        self.by_user.rcu(|current| {
            let mut next = BTreeMap::clone(current);
            next.insert(user_id.to_owned(), (key.to_owned(), user.clone()));
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
            .filter(|(k, _)| k == key)
            .map(|(_, user)| user.clone())
            .collect()
    }

    /// How long a retired-from-signing version of `key` must stay published.
    pub fn retention(&self, key: &str) -> u64 {
        self.users_of(key)
            .iter()
            .map(|u| u.max_ttl)
            .max()
            .unwrap_or(0)
            .saturating_add(LEEWAY_SECS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retention_is_the_longest_user_ttl_plus_leeway() {
        let usage = KeyUsage::new();
        assert_eq!(usage.retention("k"), 60);
        let user = |d: &str, ttl| KeyUser {
            description: d.into(),
            max_ttl: ttl,
        };
        usage.set("a", "k", user("jwt-issuer a", 3_600));
        usage.set("b", "k", user("jwt-issuer b", 86_400));
        usage.set("c", "other", user("jwt-issuer c", 999_999));
        assert_eq!(usage.retention("k"), 86_460);
        usage.remove("b");
        assert_eq!(usage.retention("k"), 3_660);
        assert_eq!(usage.users_of("k"), vec![user("jwt-issuer a", 3_600)]);
    }
}
