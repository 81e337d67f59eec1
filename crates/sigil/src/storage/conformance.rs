//! The storage conformance suite: every behaviour a `Store` promises, written once against
//! `&dyn Store`. A backend runs all of it with `conformance_tests!(factory)`, where
//! `async fn factory(clock: TestClock) -> (impl Store, impl Sized)` answers a fresh, empty store
//! stamping times from `clock`, plus a guard (a temporary directory...) kept alive for the test.

mod documents;
mod replays;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use serde_json::json;

use super::{
    Expected, KeyVersionRecord, SealRecord, SigningKeyRecord, Stamps, StorageError, Store,
};

/// Expands to one `#[tokio::test]` per conformance test, each on a store from `$factory`.
macro_rules! conformance_tests {
    ($factory:path) => {
        $crate::storage::conformance::conformance_tests!(@each $factory;
            ping_answers_on_a_fresh_store,
            seal_is_absent_before_initialisation,
            seal_round_trips_after_initialisation,
            seal_cannot_be_initialised_twice,
            unknown_signing_key_is_none,
            signing_key_create_then_get_round_trips,
            create_answers_revision_one_stamped_now,
            create_of_existing_name_is_refused,
            save_increments_revision_and_keeps_created_at,
            save_ignores_the_record_revision_and_timestamps,
            save_with_stale_revision_is_refused,
            save_with_revision_of_missing_key_is_not_found,
            save_expecting_present_of_missing_key_is_not_found,
            save_expecting_present_accepts_any_revision,
            save_expecting_any_creates_then_replaces,
            save_deletes_versions_missing_from_the_record,
            save_updates_versions_kept_in_the_record,
            destroyed_private_key_reads_back_as_none,
            retired_version_holding_a_private_key_is_refused,
            save_with_duplicate_version_numbers_is_refused,
            kid_held_by_another_key_is_refused,
            failed_save_leaves_the_stored_key_unchanged,
            backend_refusal_does_not_echo_bound_values,
            concurrent_saves_with_the_same_revision_admit_exactly_one,
            list_of_empty_store_is_empty,
            list_is_sorted_by_name_bytewise,
            versions_are_answered_sorted_by_version,
            delete_removes_the_key_and_releases_its_kids,
            delete_with_stale_revision_is_refused,
            delete_of_missing_key_is_not_found,
            delete_expecting_any_of_missing_key_is_a_no_op,
            unknown_document_is_none,
            document_create_then_get_round_trips,
            document_create_of_existing_name_is_refused,
            document_save_increments_revision_and_keeps_created_at,
            document_save_with_stale_revision_is_refused,
            document_save_of_missing_document_is_not_found,
            document_save_expecting_present_accepts_any_revision,
            document_save_expecting_any_creates_then_replaces,
            document_with_empty_name_is_refused_without_echoing_the_body,
            concurrent_document_saves_with_the_same_revision_admit_exactly_one,
            concurrent_saves_of_one_unique_key_under_different_names_admit_exactly_one,
            a_unique_key_is_kept_by_its_holder_and_freed_by_delete,
            document_list_is_sorted_by_parent_then_name_bytewise,
            document_list_filters_by_kind_and_parent,
            document_pages_walk_every_document_of_a_kind_once_in_order,
            documents_sharing_a_name_under_other_parents_or_kinds_coexist,
            document_delete_takes_listed_child_kinds_of_its_name_only,
            document_delete_with_stale_revision_is_refused_and_keeps_children,
            document_delete_of_missing_document_is_not_found,
            document_delete_expecting_any_of_missing_document_is_a_no_op,
            replay_first_use_is_admitted,
            replay_second_use_before_expiry_is_refused,
            replay_pairs_match_exactly,
            replay_record_expired_at_now_admits_a_new_use,
            replay_purge_removes_only_expired_records_and_counts_them,
            concurrent_first_uses_of_one_replay_pair_admit_exactly_one,
            replay_pair_sizes_are_bounded_in_bytes_without_echoing_them,
        );
    };
    (@each $factory:path; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test]
            async fn $test() {
                let clock = $crate::storage::conformance::TestClock::default();
                let (store, _guard) = $factory(clock.clone()).await;
                $crate::storage::conformance::$test(&store, &clock).await;
            }
        )*
    };
}

pub(crate) use conformance_tests;
// The macro finds every test at `conformance::$test`, whichever file holds it.
pub(crate) use documents::*;
pub(crate) use replays::*;

/// The time every test store starts at.
pub(crate) const T0: i64 = 1_750_000_000;

/// A settable clock in Unix seconds, shared by a test and the store under test.
#[derive(Clone, Debug)]
pub(crate) struct TestClock(Arc<AtomicI64>);

impl Default for TestClock {
    fn default() -> Self {
        Self(Arc::new(AtomicI64::new(T0)))
    }
}

impl TestClock {
    /// The current test time.
    pub(crate) fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }

    fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

pub(crate) async fn ping_answers_on_a_fresh_store(store: &dyn Store, _: &TestClock) {
    store.ping().await.unwrap();
}

pub(crate) async fn seal_is_absent_before_initialisation(store: &dyn Store, _: &TestClock) {
    assert_eq!(store.seal().load().await.unwrap(), None);
}

pub(crate) async fn seal_round_trips_after_initialisation(store: &dyn Store, _: &TestClock) {
    let record = seal(5, 3);
    store.seal().initialise(&record).await.unwrap();
    assert_eq!(store.seal().load().await.unwrap(), Some(record));
}

pub(crate) async fn seal_cannot_be_initialised_twice(store: &dyn Store, _: &TestClock) {
    let first = seal(5, 3);
    store.seal().initialise(&first).await.unwrap();
    let error = store.seal().initialise(&seal(1, 1)).await.unwrap_err();
    assert!(
        matches!(error, StorageError::AlreadyExists { kind: "seal", .. }),
        "{error:?}"
    );
    assert_eq!(store.seal().load().await.unwrap(), Some(first));
}

pub(crate) async fn unknown_signing_key_is_none(store: &dyn Store, _: &TestClock) {
    assert_eq!(store.signing_keys().get("missing").await.unwrap(), None);
}

pub(crate) async fn signing_key_create_then_get_round_trips(store: &dyn Store, _: &TestClock) {
    let mut retired = version(1, "kid-1", "retired");
    retired.sealed_private_key = None;
    retired.retires_at = Some(T0 - 10);
    let mut pending = version(3, "kid-3", "pending");
    pending.activates_at = None;
    let record = key(
        "primary",
        vec![retired, version(2, "kid-2", "active"), pending],
    );

    store
        .signing_keys()
        .save(&record, Expected::Absent)
        .await
        .unwrap();

    assert_eq!(
        store.signing_keys().get("primary").await.unwrap(),
        Some(stored(&record, 1, T0, T0))
    );
}

pub(crate) async fn create_answers_revision_one_stamped_now(store: &dyn Store, _: &TestClock) {
    let written = store
        .signing_keys()
        .save(&key("primary", vec![]), Expected::Absent)
        .await
        .unwrap();
    assert_eq!(
        written,
        Stamps {
            revision: 1,
            created_at: T0,
            updated_at: T0
        }
    );
}

pub(crate) async fn create_of_existing_name_is_refused(store: &dyn Store, _: &TestClock) {
    let keys = store.signing_keys();
    let original = key("primary", vec![version(1, "kid-1", "active")]);
    keys.save(&original, Expected::Absent).await.unwrap();

    let error = keys
        .save(&key("primary", vec![]), Expected::Absent)
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            StorageError::AlreadyExists { kind: "signing key", name } if name == "primary"
        ),
        "{error:?}"
    );
    assert_eq!(
        keys.get("primary").await.unwrap(),
        Some(stored(&original, 1, T0, T0))
    );
}

pub(crate) async fn save_increments_revision_and_keeps_created_at(
    store: &dyn Store,
    clock: &TestClock,
) {
    let keys = store.signing_keys();
    keys.save(&key("primary", vec![]), Expected::Absent)
        .await
        .unwrap();
    clock.advance(60);
    let mut changed = key("primary", vec![version(1, "kid-1", "active")]);
    changed.config = json!({"type": "ed25519"});

    let written = keys.save(&changed, Expected::Revision(1)).await.unwrap();

    let expected = Stamps {
        revision: 2,
        created_at: T0,
        updated_at: T0 + 60,
    };
    assert_eq!(written, expected);
    assert_eq!(
        keys.get("primary").await.unwrap(),
        Some(stored(&changed, 2, T0, T0 + 60))
    );
}

pub(crate) async fn save_ignores_the_record_revision_and_timestamps(
    store: &dyn Store,
    _: &TestClock,
) {
    let mut record = key("primary", vec![]);
    record.revision = 41;
    record.created_at = 7;
    record.updated_at = 8;

    store
        .signing_keys()
        .save(&record, Expected::Absent)
        .await
        .unwrap();

    let read = store.signing_keys().get("primary").await.unwrap().unwrap();
    assert_eq!(
        (read.revision, read.created_at, read.updated_at),
        (1, T0, T0)
    );
}

pub(crate) async fn save_with_stale_revision_is_refused(store: &dyn Store, _: &TestClock) {
    let keys = store.signing_keys();
    let current = key("primary", vec![version(1, "kid-1", "active")]);
    keys.save(&key("primary", vec![]), Expected::Absent)
        .await
        .unwrap();
    keys.save(&current, Expected::Revision(1)).await.unwrap();

    let error = keys
        .save(&key("primary", vec![]), Expected::Revision(1))
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            StorageError::RevisionMismatch { kind: "signing key", name, expected: 1, actual: 2 }
                if name == "primary"
        ),
        "{error:?}"
    );
    assert_eq!(
        keys.get("primary").await.unwrap(),
        Some(stored(&current, 2, T0, T0))
    );
}

pub(crate) async fn save_with_revision_of_missing_key_is_not_found(
    store: &dyn Store,
    _: &TestClock,
) {
    let error = store
        .signing_keys()
        .save(&key("primary", vec![]), Expected::Revision(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StorageError::NotFound { kind: "signing key", name } if name == "primary"),
        "{error:?}"
    );
    assert_eq!(store.signing_keys().get("primary").await.unwrap(), None);
}

pub(crate) async fn save_expecting_present_of_missing_key_is_not_found(
    store: &dyn Store,
    _: &TestClock,
) {
    let error = store
        .signing_keys()
        .save(&key("primary", vec![]), Expected::Present)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StorageError::NotFound { kind: "signing key", name } if name == "primary"),
        "{error:?}"
    );
    assert_eq!(store.signing_keys().get("primary").await.unwrap(), None);
}

pub(crate) async fn save_expecting_present_accepts_any_revision(store: &dyn Store, _: &TestClock) {
    let keys = store.signing_keys();
    keys.save(&key("primary", vec![]), Expected::Absent)
        .await
        .unwrap();
    keys.save(&key("primary", vec![]), Expected::Present)
        .await
        .unwrap();

    let written = keys
        .save(&key("primary", vec![]), Expected::Present)
        .await
        .unwrap();

    assert_eq!(written.revision, 3);
}

pub(crate) async fn save_expecting_any_creates_then_replaces(store: &dyn Store, clock: &TestClock) {
    let keys = store.signing_keys();
    let created = keys
        .save(&key("primary", vec![]), Expected::Any)
        .await
        .unwrap();
    clock.advance(5);
    let replacement = key("primary", vec![version(1, "kid-1", "active")]);

    let replaced = keys.save(&replacement, Expected::Any).await.unwrap();

    assert_eq!(created.revision, 1);
    assert_eq!(
        replaced,
        Stamps {
            revision: 2,
            created_at: T0,
            updated_at: T0 + 5
        }
    );
    assert_eq!(
        keys.get("primary").await.unwrap(),
        Some(stored(&replacement, 2, T0, T0 + 5))
    );
}

pub(crate) async fn save_deletes_versions_missing_from_the_record(
    store: &dyn Store,
    _: &TestClock,
) {
    let keys = store.signing_keys();
    let all = key(
        "primary",
        vec![
            version(1, "kid-1", "retiring"),
            version(2, "kid-2", "active"),
            version(3, "kid-3", "pending"),
        ],
    );
    keys.save(&all, Expected::Absent).await.unwrap();
    let pruned = key(
        "primary",
        vec![
            version(2, "kid-2", "active"),
            version(3, "kid-3", "pending"),
        ],
    );

    keys.save(&pruned, Expected::Revision(1)).await.unwrap();

    let versions: Vec<u32> = keys
        .get("primary")
        .await
        .unwrap()
        .unwrap()
        .versions
        .iter()
        .map(|version| version.version)
        .collect();
    assert_eq!(versions, [2, 3]);
}

pub(crate) async fn save_updates_versions_kept_in_the_record(store: &dyn Store, _: &TestClock) {
    let keys = store.signing_keys();
    keys.save(
        &key(
            "primary",
            vec![
                version(1, "kid-1", "active"),
                version(2, "kid-2", "pending"),
            ],
        ),
        Expected::Absent,
    )
    .await
    .unwrap();
    let mut retiring = version(1, "kid-1", "retiring");
    retiring.retires_at = Some(T0 + 3600);
    let mut activated = version(2, "kid-2", "active");
    activated.activates_at = Some(T0);
    let rotated = key("primary", vec![retiring, activated]);

    keys.save(&rotated, Expected::Revision(1)).await.unwrap();

    assert_eq!(
        keys.get("primary").await.unwrap(),
        Some(stored(&rotated, 2, T0, T0))
    );
}

pub(crate) async fn destroyed_private_key_reads_back_as_none(store: &dyn Store, _: &TestClock) {
    let keys = store.signing_keys();
    keys.save(
        &key("primary", vec![version(1, "kid-1", "retiring")]),
        Expected::Absent,
    )
    .await
    .unwrap();
    let mut retired = version(1, "kid-1", "retired");
    retired.sealed_private_key = None;

    keys.save(&key("primary", vec![retired]), Expected::Revision(1))
        .await
        .unwrap();

    let read = keys.get("primary").await.unwrap().unwrap();
    assert_eq!(read.versions[0].sealed_private_key, None);
}

pub(crate) async fn retired_version_holding_a_private_key_is_refused(
    store: &dyn Store,
    _: &TestClock,
) {
    let record = key("primary", vec![version(1, "kid-1", "retired")]);

    let error = store
        .signing_keys()
        .save(&record, Expected::Absent)
        .await
        .unwrap_err();

    assert!(matches!(error, StorageError::Backend(_)), "{error:?}");
    assert_eq!(store.signing_keys().get("primary").await.unwrap(), None);
}

pub(crate) async fn save_with_duplicate_version_numbers_is_refused(
    store: &dyn Store,
    _: &TestClock,
) {
    let record = key(
        "primary",
        vec![
            version(1, "kid-1", "active"),
            version(1, "kid-2", "pending"),
        ],
    );

    let error = store
        .signing_keys()
        .save(&record, Expected::Absent)
        .await
        .unwrap_err();

    assert!(
        matches!(
            error,
            StorageError::AlreadyExists {
                kind: "signing key version",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(store.signing_keys().get("primary").await.unwrap(), None);
}

pub(crate) async fn kid_held_by_another_key_is_refused(store: &dyn Store, _: &TestClock) {
    let keys = store.signing_keys();
    keys.save(
        &key("first", vec![version(1, "kid-shared", "active")]),
        Expected::Absent,
    )
    .await
    .unwrap();

    let error = keys
        .save(
            &key("second", vec![version(1, "kid-shared", "active")]),
            Expected::Absent,
        )
        .await
        .unwrap_err();

    assert!(
        matches!(&error, StorageError::AlreadyExists { kind: "kid", name } if name == "kid-shared"),
        "{error:?}"
    );
    assert_eq!(keys.get("second").await.unwrap(), None);
}

pub(crate) async fn failed_save_leaves_the_stored_key_unchanged(
    store: &dyn Store,
    clock: &TestClock,
) {
    let keys = store.signing_keys();
    let original = key("first", vec![version(1, "kid-1", "active")]);
    keys.save(&original, Expected::Absent).await.unwrap();
    keys.save(
        &key("second", vec![version(1, "kid-taken", "active")]),
        Expected::Absent,
    )
    .await
    .unwrap();
    clock.advance(30);
    // The first version's change is written before the second version's kid is refused.
    let mut changed = key(
        "first",
        vec![
            version(1, "kid-1", "retiring"),
            version(2, "kid-taken", "active"),
        ],
    );
    changed.config = json!({"type": "ecdsa-p384"});

    let error = keys
        .save(&changed, Expected::Revision(1))
        .await
        .unwrap_err();

    assert!(
        matches!(error, StorageError::AlreadyExists { kind: "kid", .. }),
        "{error:?}"
    );
    assert_eq!(
        keys.get("first").await.unwrap(),
        Some(stored(&original, 1, T0, T0))
    );
}

pub(crate) async fn backend_refusal_does_not_echo_bound_values(store: &dyn Store, _: &TestClock) {
    const MARKER: &str = "bound-value-marker";
    let mut odd = version(1, "kid-1", "compromised");
    odd.status = format!("status-{MARKER}");
    odd.public_jwk = json!({"note": MARKER});
    odd.sealed_private_key = Some(MARKER.as_bytes().to_vec());

    let error = store
        .signing_keys()
        .save(&key("primary", vec![odd]), Expected::Absent)
        .await
        .unwrap_err();

    let StorageError::Backend(message) = &error else {
        panic!("expected a backend refusal of an unknown status, got {error:?}");
    };
    assert!(!message.contains(MARKER), "{message}");
    assert!(!error.to_string().contains(MARKER), "{error}");
}

pub(crate) async fn concurrent_saves_with_the_same_revision_admit_exactly_one(
    store: &dyn Store,
    _: &TestClock,
) {
    let keys = store.signing_keys();
    let mut revision = keys
        .save(&key("primary", vec![]), Expected::Absent)
        .await
        .unwrap()
        .revision;
    // Several rounds, so an implementation that checks outside its write lock loses one.
    for round in 0..8 {
        let mut left = key("primary", vec![]);
        left.config = json!({"writer": "left", "round": round});
        let mut right = key("primary", vec![]);
        right.config = json!({"writer": "right", "round": round});

        let (left_result, right_result) = tokio::join!(
            keys.save(&left, Expected::Revision(revision)),
            keys.save(&right, Expected::Revision(revision)),
        );

        let (winner, written, error) = match (left_result, right_result) {
            (Ok(written), Err(error)) => (&left, written, error),
            (Err(error), Ok(written)) => (&right, written, error),
            other => panic!("round {round}: expected exactly one winner, got {other:?}"),
        };
        assert!(
            matches!(
                error,
                StorageError::RevisionMismatch { expected, actual, .. }
                    if expected == revision && actual == revision + 1
            ),
            "round {round}: {error:?}"
        );
        assert_eq!(written.revision, revision + 1);
        let read = keys.get("primary").await.unwrap().unwrap();
        assert_eq!(read.config, winner.config);
        revision = written.revision;
    }
    assert_eq!(revision, 9);
}

pub(crate) async fn list_of_empty_store_is_empty(store: &dyn Store, _: &TestClock) {
    assert_eq!(store.signing_keys().list().await.unwrap(), []);
}

pub(crate) async fn list_is_sorted_by_name_bytewise(store: &dyn Store, _: &TestClock) {
    let keys = store.signing_keys();
    for (name, kid) in [("beta", "kid-b"), ("Gamma", "kid-g"), ("alpha", "kid-a")] {
        keys.save(
            &key(name, vec![version(1, kid, "active")]),
            Expected::Absent,
        )
        .await
        .unwrap();
    }

    let listed = keys.list().await.unwrap();

    // Byte order, as `str` sorts: uppercase before lowercase (PostgreSQL needs COLLATE "C").
    let names: Vec<&str> = listed.iter().map(|key| key.name.as_str()).collect();
    assert_eq!(names, ["Gamma", "alpha", "beta"]);
    assert_eq!(listed[1].versions[0].kid, "kid-a");
}

pub(crate) async fn versions_are_answered_sorted_by_version(store: &dyn Store, _: &TestClock) {
    let keys = store.signing_keys();
    let shuffled = key(
        "primary",
        vec![
            version(10, "kid-10", "pending"),
            version(2, "kid-2", "active"),
            version(9, "kid-9", "retiring"),
        ],
    );
    keys.save(&shuffled, Expected::Absent).await.unwrap();

    let got = keys.get("primary").await.unwrap().unwrap();
    let listed = keys.list().await.unwrap();

    let numbers = |record: &SigningKeyRecord| -> Vec<u32> {
        record
            .versions
            .iter()
            .map(|version| version.version)
            .collect()
    };
    assert_eq!(numbers(&got), [2, 9, 10]);
    assert_eq!(numbers(&listed[0]), [2, 9, 10]);
}

pub(crate) async fn delete_removes_the_key_and_releases_its_kids(store: &dyn Store, _: &TestClock) {
    let keys = store.signing_keys();
    keys.save(
        &key("first", vec![version(1, "kid-1", "active")]),
        Expected::Absent,
    )
    .await
    .unwrap();

    keys.delete("first", Expected::Revision(1)).await.unwrap();

    assert_eq!(keys.get("first").await.unwrap(), None);
    assert_eq!(keys.list().await.unwrap(), []);
    // The versions went with the key: their kid is free again.
    keys.save(
        &key("second", vec![version(1, "kid-1", "active")]),
        Expected::Absent,
    )
    .await
    .unwrap();
}

pub(crate) async fn delete_with_stale_revision_is_refused(store: &dyn Store, _: &TestClock) {
    let keys = store.signing_keys();
    let record = key("primary", vec![version(1, "kid-1", "active")]);
    keys.save(&record, Expected::Absent).await.unwrap();
    keys.save(&record, Expected::Revision(1)).await.unwrap();

    let error = keys
        .delete("primary", Expected::Revision(1))
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            StorageError::RevisionMismatch { kind: "signing key", name, expected: 1, actual: 2 }
                if name == "primary"
        ),
        "{error:?}"
    );
    assert_eq!(
        keys.get("primary").await.unwrap(),
        Some(stored(&record, 2, T0, T0))
    );
}

pub(crate) async fn delete_of_missing_key_is_not_found(store: &dyn Store, _: &TestClock) {
    let error = store
        .signing_keys()
        .delete("missing", Expected::Present)
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StorageError::NotFound { kind: "signing key", name } if name == "missing"),
        "{error:?}"
    );
}

pub(crate) async fn delete_expecting_any_of_missing_key_is_a_no_op(
    store: &dyn Store,
    _: &TestClock,
) {
    store
        .signing_keys()
        .delete("missing", Expected::Any)
        .await
        .unwrap();
    assert_eq!(store.signing_keys().list().await.unwrap(), []);
}

fn seal(shares: u8, threshold: u8) -> SealRecord {
    SealRecord {
        shares,
        threshold,
        wrapped_data_key: (0..60).map(|byte| byte * 3).collect(),
        initialised_at: T0 - 100,
    }
}

/// A key as the domain would hand it to `save`: revision and timestamps left at zero.
pub(crate) fn key(name: &str, versions: Vec<KeyVersionRecord>) -> SigningKeyRecord {
    SigningKeyRecord {
        name: name.to_owned(),
        config: json!({
            "type": "ecdsa-p256",
            "algorithm": "ES256",
            "rotation_period_seconds": 2_592_000,
            "labels": {"team": "identity", "note": "ünïcödé"},
            "prepublish": null,
        }),
        revision: 0,
        created_at: 0,
        updated_at: 0,
        versions,
    }
}

pub(crate) fn version(number: u32, kid: &str, status: &str) -> KeyVersionRecord {
    KeyVersionRecord {
        version: number,
        kid: kid.to_owned(),
        status: status.to_owned(),
        created_at: T0 - 1000 + i64::from(number),
        activates_at: Some(T0 - 500),
        retires_at: None,
        public_jwk: json!({
            "kty": "EC",
            "crv": "P-256",
            "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
            "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0",
            "kid": kid,
        }),
        sealed_private_key: Some(format!("sealed {kid} v{number}").into_bytes()),
    }
}

/// `record` as the store answers it after a write.
fn stored(
    record: &SigningKeyRecord,
    revision: i64,
    created_at: i64,
    updated_at: i64,
) -> SigningKeyRecord {
    SigningKeyRecord {
        revision,
        created_at,
        updated_at,
        ..record.clone()
    }
}
