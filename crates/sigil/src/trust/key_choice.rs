//! Choosing the keys that may have signed a token: by `kid` among the issuer's published keys
//! (one refetch per issuer per cooldown when the `kid` is unknown, shared by every waiting
//! request), by algorithm when there is no `kid`, and from the keyring for the internal issuer.
//! The header's `alg` must fit the key's type; an explicit allow-list refuses before any fetch.

use std::sync::Arc;

use sigil_jose::Algorithm;

use super::internal::INTERNAL_KEY;
use super::keyset::{KeySet, TrustedKey};
use super::registry::TrustedIssuer;
use super::trace::Trace;
use super::trusted_issuers::TrustedIssuers;
use super::verification::VerifyRefused;

/// At most one unknown-`kid` refetch per issuer in this many seconds.
pub const UNKNOWN_KID_COOLDOWN: i64 = 10;

impl TrustedIssuers {
    /// The keys that may have signed a token of `issuer` with this `kid` and `alg`: for an
    /// external issuer its published keys, refetched once per cooldown when the `kid` is
    /// unknown; for the internal issuer the keyring's published versions.
    pub(super) async fn candidate_keys(
        &self,
        issuer: &Arc<TrustedIssuer>,
        kid: Option<&str>,
        algorithm: Algorithm,
        now: i64,
        trace: &mut Trace,
    ) -> Result<Vec<TrustedKey>, VerifyRefused> {
        if issuer.is_internal {
            return self.internal_key(kid, algorithm, now, trace);
        }
        // An explicit allow-list refuses before any fetch; otherwise the key decides.
        if let Some(allowed) = &issuer.spec.algorithms
            && !allowed.contains(&algorithm)
        {
            trace.record("algorithm", false, || {
                format!("{algorithm} not in {allowed:?}")
            });
            return Err(VerifyRefused::AlgorithmNotAllowed(algorithm.to_string()));
        }
        let mut keys = issuer.keys();
        if pick(&keys, kid, algorithm).is_empty() && issuer.spec.has_remote_sources() {
            // Unknown kid: at most one refetch per issuer per cooldown, shared by every
            // request that waits on the gate.
            let mut last = issuer.refetch_gate.lock().await;
            keys = issuer.keys();
            if pick(&keys, kid, algorithm).is_empty()
                && now.saturating_sub(*last) >= UNKNOWN_KID_COOLDOWN
            {
                *last = now;
                let outcome = self.fetch_now(issuer).await;
                trace.record("refetch", outcome.failures.is_empty(), || {
                    format!("unknown kid: fetched {} key(s)", outcome.key_count)
                });
                keys = issuer.keys();
            }
        }
        let found = pick(&keys, kid, algorithm);
        if found.is_empty() && kid.is_none() && !keys.keys().is_empty() {
            // Without a kid the algorithm chose the candidates: none of the keys allows it.
            trace.record("algorithm", false, || {
                format!("{algorithm} fits none of the issuer's keys")
            });
            return Err(VerifyRefused::AlgorithmNotAllowed(algorithm.to_string()));
        }
        if found.is_empty() {
            trace.record("key", false, || {
                format!("no key with kid {}", kid.unwrap_or("(none)"))
            });
            return Err(VerifyRefused::UnknownKey);
        }
        trace.record("key", true, || {
            format!(
                "kid {} ({} candidate(s))",
                kid.unwrap_or("(none)"),
                found.len()
            )
        });
        // The header's alg must agree with the key's type and curve.
        let usable: Vec<TrustedKey> = found
            .into_iter()
            .filter(|k| k.algorithms.contains(&algorithm))
            .collect();
        if usable.is_empty() {
            trace.record("algorithm", false, || {
                format!("{algorithm} does not fit the key's type")
            });
            return Err(VerifyRefused::AlgorithmNotAllowed(algorithm.to_string()));
        }
        trace.record("algorithm", true, || format!("{algorithm} allowed"));
        Ok(usable)
    }

    /// The internal issuer's key: the keyring version named by `kid`, while it is published.
    fn internal_key(
        &self,
        kid: Option<&str>,
        algorithm: Algorithm,
        now: i64,
        trace: &mut Trace,
    ) -> Result<Vec<TrustedKey>, VerifyRefused> {
        self.keyring_key(INTERNAL_KEY, kid, algorithm, now, trace)
            .map(|key| vec![key])
    }

    /// The version `kid` of the keyring's signing key `name`, while it is published: for
    /// tokens Sigil signed itself. The token's `alg` must be the key's.
    pub(super) fn keyring_key(
        &self,
        name: &str,
        kid: Option<&str>,
        algorithm: Algorithm,
        now: i64,
        trace: &mut Trace,
    ) -> Result<TrustedKey, VerifyRefused> {
        let keyring = self.setup.keys.keyring();
        let loaded = keyring.get(name);
        if loaded.is_none_or(|k| k.spec.algorithm != algorithm) {
            trace.record("algorithm", false, || {
                format!("{algorithm} is not the algorithm of signing key `{name}`")
            });
            return Err(VerifyRefused::AlgorithmNotAllowed(algorithm.to_string()));
        }
        trace.record("algorithm", true, || format!("{algorithm} allowed"));
        let key = kid.and_then(|kid| Some((kid, loaded?.verifier(kid, now)?)));
        match key {
            Some((kid, key)) => {
                trace.record("key", true, || format!("kid {kid} of signing key `{name}`"));
                Ok(TrustedKey::internal(kid, algorithm, key.clone()))
            }
            None => {
                trace.record("key", false, || {
                    format!("no published version of signing key `{name}` has this kid")
                });
                Err(VerifyRefused::UnknownKey)
            }
        }
    }
}

fn pick(keys: &KeySet, kid: Option<&str>, algorithm: Algorithm) -> Vec<TrustedKey> {
    match kid {
        Some(kid) => keys.get(kid).cloned().into_iter().collect(),
        None => keys.candidates(algorithm).take(8).cloned().collect(),
    }
}
