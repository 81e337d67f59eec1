//! One issuer's merged key set: inline keys, the JWKS URL's keys and the discovery document's
//! keys, looked up by `kid` with a hash map. Conflicts are left out and reported, never guessed.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;
use sigil_jose::{Algorithm, VerifyingKey};

use super::fetched::{DroppedKey, ParsedJwks};

/// Where a key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeySource {
    /// The issuer's `keys` field.
    Inline,
    /// The issuer's `jwks_url`.
    JwksUrl,
    /// The `jwks_uri` of its discovery document.
    Discovery,
    /// Sigil's own keyring (the internal issuer).
    Internal,
}

/// A key an issuer's tokens may be signed with.
#[derive(Clone, Debug)]
pub struct TrustedKey {
    /// `kid`, if the key has one.
    pub kid: Option<String>,
    /// Algorithms the key verifies.
    pub algorithms: Vec<Algorithm>,
    /// The parsed public key.
    pub key: Arc<VerifyingKey>,
    /// Its source.
    pub source: KeySource,
}

impl TrustedKey {
    /// A version of the internal keyring, verifying `algorithm` only.
    pub fn internal(kid: &str, algorithm: Algorithm, key: Arc<VerifyingKey>) -> TrustedKey {
        TrustedKey {
            kid: Some(kid.to_owned()),
            algorithms: vec![algorithm],
            key,
            source: KeySource::Internal,
        }
    }
}

/// A key left out of the set, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LeftOutKey {
    /// `kid`, if any.
    pub kid: Option<String>,
    /// Where it came from.
    pub source: KeySource,
    /// Why it is not used.
    pub reason: String,
}

/// The merged keys of one issuer.
#[derive(Clone, Debug, Default)]
pub struct KeySet {
    by_kid: HashMap<String, TrustedKey>,
    without_kid: Vec<TrustedKey>,
    left_out: Vec<LeftOutKey>,
}

impl KeySet {
    /// Merges inline keys and fetched documents. Inline keys win a `kid` conflict; two fetched
    /// keys with one `kid` and different material are both left out.
    pub fn merge(inline: &[Arc<VerifyingKey>], fetched: &[(KeySource, &ParsedJwks)]) -> KeySet {
        let mut set = KeySet::default();
        for key in inline {
            set.add(TrustedKey {
                kid: key.jwk().kid.clone(),
                algorithms: key.algorithms().collect(),
                key: key.clone(),
                source: KeySource::Inline,
            });
        }
        let mut conflicted: Vec<String> = Vec::new();
        for (source, parsed) in fetched {
            for dropped in &parsed.dropped {
                set.left_out.push(left_out(dropped, *source));
            }
            for parsed_key in &parsed.keys {
                let candidate = TrustedKey {
                    kid: parsed_key.kid.clone(),
                    algorithms: parsed_key.algorithms.clone(),
                    key: parsed_key.key.clone(),
                    source: *source,
                };
                let Some(kid) = candidate.kid.clone() else {
                    set.without_kid.push(candidate);
                    continue;
                };
                if conflicted.contains(&kid) {
                    continue;
                }
                match set.by_kid.get(&kid) {
                    None => set.add(candidate),
                    Some(existing) if same_material(existing, &candidate) => {}
                    Some(existing) if existing.source == KeySource::Inline => {
                        set.left_out.push(LeftOutKey {
                            kid: Some(kid),
                            source: *source,
                            reason: "kid is used by an inline key with different material".into(),
                        });
                    }
                    Some(existing) => {
                        let first = existing.source;
                        set.by_kid.remove(&kid);
                        for side in [first, *source] {
                            set.left_out.push(LeftOutKey {
                                kid: Some(kid.clone()),
                                source: side,
                                reason: "conflicting kid: two sources publish different keys"
                                    .into(),
                            });
                        }
                        conflicted.push(kid);
                    }
                }
            }
        }
        set
    }

    /// The key with `kid`.
    pub fn get(&self, kid: &str) -> Option<&TrustedKey> {
        self.by_kid.get(kid)
    }

    /// Keys that could verify a token without `kid` under `algorithm`.
    pub fn candidates(&self, algorithm: Algorithm) -> impl Iterator<Item = &TrustedKey> {
        self.by_kid
            .values()
            .chain(self.without_kid.iter())
            .filter(move |k| k.algorithms.contains(&algorithm))
    }

    /// Every usable key, sorted by kid.
    pub fn keys(&self) -> Vec<&TrustedKey> {
        let mut keys: Vec<&TrustedKey> = self
            .by_kid
            .values()
            .chain(self.without_kid.iter())
            .collect();
        keys.sort_by(|a, b| a.kid.cmp(&b.kid));
        keys
    }

    /// Keys left out, and why.
    pub fn left_out(&self) -> &[LeftOutKey] {
        &self.left_out
    }

    /// Number of usable keys.
    pub fn len(&self) -> usize {
        self.by_kid.len() + self.without_kid.len()
    }

    /// Whether there are no usable keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn add(&mut self, key: TrustedKey) {
        match key.kid.clone() {
            Some(kid) => {
                self.by_kid.entry(kid).or_insert(key);
            }
            None => self.without_kid.push(key),
        }
    }
}

fn same_material(a: &TrustedKey, b: &TrustedKey) -> bool {
    a.key.jwk().thumbprint().ok() == b.key.jwk().thumbprint().ok()
}

fn left_out(dropped: &DroppedKey, source: KeySource) -> LeftOutKey {
    LeftOutKey {
        kid: dropped.kid.clone(),
        source,
        reason: dropped.reason.clone(),
    }
}
