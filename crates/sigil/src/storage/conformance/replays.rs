//! Conformance of `ReplayStore`: one admitted use per `(issuer, jti)` until its expiry, even
//! under racing uses, exact pair matching, byte-size bounds, and the purge of expired records.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use super::{T0, TestClock};
use crate::storage::{REPLAY_ISSUER_MAX_BYTES, REPLAY_JTI_MAX_BYTES, StorageError, Store};

const ISSUER: &str = "https://idp.example.com";
const JTI: &str = "7f9c2ba4-e88f-11ee-a50c-325096b39f47";
const EXPIRES: i64 = T0 + 300;

pub(crate) async fn replay_first_use_is_admitted(store: &dyn Store, _: &TestClock) {
    let admitted = store
        .replays()
        .first_use(ISSUER, JTI, EXPIRES, T0)
        .await
        .unwrap();
    assert!(admitted);
}

pub(crate) async fn replay_second_use_before_expiry_is_refused(store: &dyn Store, _: &TestClock) {
    let replays = store.replays();
    assert!(replays.first_use(ISSUER, JTI, EXPIRES, T0).await.unwrap());

    let immediately = replays.first_use(ISSUER, JTI, EXPIRES, T0).await.unwrap();
    let last_second = replays
        .first_use(ISSUER, JTI, EXPIRES, EXPIRES - 1)
        .await
        .unwrap();

    assert!(!immediately);
    assert!(!last_second);
}

pub(crate) async fn replay_pairs_match_exactly(store: &dyn Store, _: &TestClock) {
    let replays = store.replays();
    // Same jti elsewhere, other case, other split of the same characters: all distinct pairs.
    let pairs = [
        (ISSUER, JTI),
        ("https://other.example.com", JTI),
        ("https://idp.example.com/", JTI),
        (ISSUER, "7F9C2BA4-E88F-11EE-A50C-325096B39F47"),
        ("ab", "c"),
        ("a", "bc"),
    ];

    for (issuer, jti) in pairs {
        let first = replays.first_use(issuer, jti, EXPIRES, T0).await.unwrap();
        assert!(first, "first use of ({issuer}, {jti})");
    }
    for (issuer, jti) in pairs {
        let again = replays.first_use(issuer, jti, EXPIRES, T0).await.unwrap();
        assert!(!again, "second use of ({issuer}, {jti})");
    }
}

pub(crate) async fn replay_record_expired_at_now_admits_a_new_use(
    store: &dyn Store,
    _: &TestClock,
) {
    let replays = store.replays();
    let renewed = EXPIRES + 600;
    assert!(replays.first_use(ISSUER, JTI, EXPIRES, T0).await.unwrap());

    // RFC 7519 §4.1.4: a token is refused at its `exp`, so its record protects nothing then.
    let at_expiry = replays
        .first_use(ISSUER, JTI, renewed, EXPIRES)
        .await
        .unwrap();
    let before_renewed_expiry = replays
        .first_use(ISSUER, JTI, renewed, renewed - 1)
        .await
        .unwrap();

    assert!(at_expiry);
    assert!(
        !before_renewed_expiry,
        "the replacement keeps its own expiry"
    );
}

pub(crate) async fn replay_purge_removes_only_expired_records_and_counts_them(
    store: &dyn Store,
    _: &TestClock,
) {
    let replays = store.replays();
    for (issuer, jti, expires_at) in [
        (ISSUER, "expired-earlier", T0 + 10),
        (ISSUER, "expires-at-purge", T0 + 20),
        (ISSUER, "live", T0 + 21),
        ("https://other.example.com", "live", EXPIRES),
    ] {
        assert!(
            replays
                .first_use(issuer, jti, expires_at, T0)
                .await
                .unwrap()
        );
    }

    let purged = replays.purge_expired(T0 + 20).await.unwrap();
    let purged_again = replays.purge_expired(T0 + 20).await.unwrap();

    assert_eq!(purged, 2);
    assert_eq!(purged_again, 0);
    assert!(
        !replays
            .first_use(ISSUER, "live", EXPIRES, T0 + 20)
            .await
            .unwrap()
    );
    assert!(
        !replays
            .first_use("https://other.example.com", "live", EXPIRES, T0 + 20)
            .await
            .unwrap()
    );
    assert_eq!(replays.purge_expired(EXPIRES).await.unwrap(), 2);
}

pub(crate) async fn concurrent_first_uses_of_one_replay_pair_admit_exactly_one(
    store: &dyn Store,
    _: &TestClock,
) {
    let replays = store.replays();
    // Several rounds, so a check outside the write lock loses one; the last round races over
    // replacing an expired record rather than inserting a new one.
    let rounds = [
        ("jti-0", EXPIRES, T0),
        ("jti-1", EXPIRES, T0),
        ("jti-2", EXPIRES, T0),
        ("jti-0", EXPIRES + 300, EXPIRES),
    ];
    for (round, (jti, expires_at, now)) in rounds.into_iter().enumerate() {
        let uses = (0..20).map(|_| replays.first_use(ISSUER, jti, expires_at, now));

        let answers = join_all(uses).await;

        let admitted = answers
            .into_iter()
            .map(Result::unwrap)
            .filter(|&admitted| admitted)
            .count();
        assert_eq!(admitted, 1, "round {round}");
    }
}

pub(crate) async fn replay_pair_sizes_are_bounded_in_bytes_without_echoing_them(
    store: &dyn Store,
    _: &TestClock,
) {
    const MARKER: &str = "bound-value-marker";
    let replays = store.replays();
    // Two-byte characters: the limits count bytes, and these are within them in characters.
    let issuer_at_limit = "é".repeat(REPLAY_ISSUER_MAX_BYTES / 2);
    let jti_at_limit = "é".repeat(REPLAY_JTI_MAX_BYTES / 2);
    let issuer_over = format!("{MARKER}{issuer_at_limit}");
    let jti_over = format!("{MARKER}{jti_at_limit}");
    assert!(
        replays
            .first_use(&issuer_at_limit, &jti_at_limit, EXPIRES, T0)
            .await
            .unwrap()
    );

    for (issuer, jti) in [
        (issuer_over.as_str(), JTI),
        (ISSUER, jti_over.as_str()),
        ("", MARKER),
        (MARKER, ""),
    ] {
        let error = replays
            .first_use(issuer, jti, EXPIRES, T0)
            .await
            .unwrap_err();

        let StorageError::Backend(message) = &error else {
            panic!("expected a backend refusal of a pair out of bounds, got {error:?}");
        };
        assert!(!message.contains(MARKER), "{message}");
        assert!(!error.to_string().contains(MARKER), "{error}");
    }
    let error = replays.first_use(ISSUER, JTI, 0, T0).await.unwrap_err();
    assert!(matches!(error, StorageError::Backend(_)), "{error:?}");
    // Only the pair at the limits was recorded.
    assert_eq!(replays.purge_expired(EXPIRES).await.unwrap(), 1);
}

/// Polls every future on this task until all are ready, as `futures::future::join_all` does.
async fn join_all<F: Future>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|context| {
        let mut all_ready = true;
        for (future, output) in pending.iter_mut().zip(&mut outputs) {
            if output.is_none() {
                match future.as_mut().poll(context) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => all_ready = false,
                }
            }
        }
        if all_ready {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}
