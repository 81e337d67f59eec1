//! Conformance of `DocumentStore`: revisions and `Expected` as for signing keys, the
//! `(kind, parent, name)` key, listing order, and deletes that take listed child kinds along.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;

use serde_json::json;

use super::{T0, TestClock};
use crate::storage::{DocumentKind, DocumentRecord, Expected, Stamps, StorageError, Store};

pub(crate) async fn unknown_document_is_none(store: &dyn Store, _: &TestClock) {
    let got = store
        .documents()
        .get(DocumentKind::Role, "alpha", "reader")
        .await
        .unwrap();
    assert_eq!(got, None);
}

pub(crate) async fn document_create_then_get_round_trips(store: &dyn Store, _: &TestClock) {
    let mut record = document(DocumentKind::Role, "alpha", "reader");
    // Ignored on save: the store answers its own revision and times.
    record.revision = 41;
    record.created_at = 7;
    record.updated_at = 8;

    let written = store
        .documents()
        .save(&record, Expected::Absent)
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
    assert_eq!(
        store
            .documents()
            .get(DocumentKind::Role, "alpha", "reader")
            .await
            .unwrap(),
        Some(stored(&record, 1, T0, T0))
    );
}

pub(crate) async fn document_create_of_existing_name_is_refused(store: &dyn Store, _: &TestClock) {
    let documents = store.documents();
    let original = document(DocumentKind::Role, "alpha", "reader");
    documents.save(&original, Expected::Absent).await.unwrap();
    let mut duplicate = original.clone();
    duplicate.body = json!({"replaced": true});

    let error = documents
        .save(&duplicate, Expected::Absent)
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            StorageError::AlreadyExists { kind: "role", name } if name == "reader"
        ),
        "{error:?}"
    );
    assert_eq!(
        documents
            .get(DocumentKind::Role, "alpha", "reader")
            .await
            .unwrap(),
        Some(stored(&original, 1, T0, T0))
    );
}

pub(crate) async fn document_save_increments_revision_and_keeps_created_at(
    store: &dyn Store,
    clock: &TestClock,
) {
    let documents = store.documents();
    let mut record = document(DocumentKind::Policy, "", "deploy");
    documents.save(&record, Expected::Absent).await.unwrap();
    clock.advance(60);
    record.body = json!({"rules": ["allow read"]});

    let second = documents
        .save(&record, Expected::Revision(1))
        .await
        .unwrap();
    clock.advance(5);
    let third = documents
        .save(&record, Expected::Revision(2))
        .await
        .unwrap();

    assert_eq!(
        (second, third),
        (
            Stamps {
                revision: 2,
                created_at: T0,
                updated_at: T0 + 60
            },
            Stamps {
                revision: 3,
                created_at: T0,
                updated_at: T0 + 65
            }
        )
    );
    assert_eq!(
        documents
            .get(DocumentKind::Policy, "", "deploy")
            .await
            .unwrap(),
        Some(stored(&record, 3, T0, T0 + 65))
    );
}

pub(crate) async fn document_save_with_stale_revision_is_refused(store: &dyn Store, _: &TestClock) {
    let documents = store.documents();
    let mut current = document(DocumentKind::JwtIssuer, "", "internal");
    documents.save(&current, Expected::Absent).await.unwrap();
    current.body = json!({"version": "current"});
    documents
        .save(&current, Expected::Revision(1))
        .await
        .unwrap();
    let mut stale = current.clone();
    stale.body = json!({"version": "stale"});

    let error = documents
        .save(&stale, Expected::Revision(1))
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            StorageError::RevisionMismatch { kind: "jwt issuer", name, expected: 1, actual: 2 }
                if name == "internal"
        ),
        "{error:?}"
    );
    assert_eq!(
        documents
            .get(DocumentKind::JwtIssuer, "", "internal")
            .await
            .unwrap(),
        Some(stored(&current, 2, T0, T0))
    );
}

pub(crate) async fn document_save_of_missing_document_is_not_found(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    // The same name under another parent is another document.
    documents
        .save(
            &document(DocumentKind::Role, "alpha", "reader"),
            Expected::Absent,
        )
        .await
        .unwrap();
    let missing = document(DocumentKind::Role, "beta", "reader");

    for expected in [Expected::Revision(1), Expected::Present] {
        let error = documents.save(&missing, expected).await.unwrap_err();
        assert!(
            matches!(&error, StorageError::NotFound { kind: "role", name } if name == "reader"),
            "{expected:?}: {error:?}"
        );
    }
    assert_eq!(
        documents
            .get(DocumentKind::Role, "beta", "reader")
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn document_save_expecting_present_accepts_any_revision(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    let record = document(DocumentKind::TrustedIssuer, "", "github");
    documents.save(&record, Expected::Absent).await.unwrap();
    documents.save(&record, Expected::Present).await.unwrap();

    let written = documents.save(&record, Expected::Present).await.unwrap();

    assert_eq!(written.revision, 3);
}

pub(crate) async fn document_save_expecting_any_creates_then_replaces(
    store: &dyn Store,
    clock: &TestClock,
) {
    let documents = store.documents();
    let created = documents
        .save(
            &document(DocumentKind::IdentityMapping, "", "ci"),
            Expected::Any,
        )
        .await
        .unwrap();
    clock.advance(5);
    let mut replacement = document(DocumentKind::IdentityMapping, "", "ci");
    replacement.body = json!({"subject": "replaced"});

    let replaced = documents.save(&replacement, Expected::Any).await.unwrap();

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
        documents
            .get(DocumentKind::IdentityMapping, "", "ci")
            .await
            .unwrap(),
        Some(stored(&replacement, 2, T0, T0 + 5))
    );
}

pub(crate) async fn document_with_empty_name_is_refused_without_echoing_the_body(
    store: &dyn Store,
    _: &TestClock,
) {
    const MARKER: &str = "bound-value-marker";
    let mut nameless = document(DocumentKind::Policy, "", "");
    nameless.body = json!({"note": MARKER});

    let error = store
        .documents()
        .save(&nameless, Expected::Absent)
        .await
        .unwrap_err();

    // '' is "no parent": a document named '' would own every top-level document.
    let StorageError::Backend(message) = &error else {
        panic!("expected a backend refusal of an empty name, got {error:?}");
    };
    assert!(!message.contains(MARKER), "{message}");
    assert!(!error.to_string().contains(MARKER), "{error}");
    assert_eq!(
        store
            .documents()
            .list(DocumentKind::Policy, None)
            .await
            .unwrap(),
        []
    );
}

pub(crate) async fn concurrent_document_saves_with_the_same_revision_admit_exactly_one(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    let mut revision = documents
        .save(
            &document(DocumentKind::Role, "alpha", "reader"),
            Expected::Absent,
        )
        .await
        .unwrap()
        .revision;
    // Several rounds, so an implementation that checks outside its write lock loses one.
    for round in 0..8 {
        let mut left = document(DocumentKind::Role, "alpha", "reader");
        left.body = json!({"writer": "left", "round": round});
        let mut right = left.clone();
        right.body = json!({"writer": "right", "round": round});

        let (left_result, right_result) = tokio::join!(
            documents.save(&left, Expected::Revision(revision)),
            documents.save(&right, Expected::Revision(revision)),
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
        let read = documents
            .get(DocumentKind::Role, "alpha", "reader")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.body, winner.body);
        revision = written.revision;
    }
    assert_eq!(revision, 9);
}

pub(crate) async fn concurrent_saves_of_one_unique_key_under_different_names_admit_exactly_one(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    // Several rounds with many writers each, so a check outside the write lock loses one.
    for round in 0..4 {
        let iss = format!("https://idp.example/{round}");
        let records: Vec<DocumentRecord> = (0..16)
            .map(|i| {
                document(DocumentKind::TrustedIssuer, "", &format!("r{round}-{i}"))
                    .with_unique_key(&iss)
            })
            .collect();
        let results = join_all(
            records
                .iter()
                .map(|record| documents.save(record, Expected::Absent)),
        )
        .await;
        let winners = results.iter().filter(|r| r.is_ok()).count();
        assert_eq!(winners, 1, "round {round}: {results:?}");
        for result in results.iter().filter_map(|r| r.as_ref().err()) {
            assert!(
                matches!(result, StorageError::UniqueKeyTaken { value, .. } if *value == iss),
                "round {round}: {result:?}"
            );
        }
    }
}

pub(crate) async fn a_unique_key_is_kept_by_its_holder_and_freed_by_delete(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    let iss = "https://idp.example";
    let first = document(DocumentKind::TrustedIssuer, "", "first").with_unique_key(iss);
    documents.save(&first, Expected::Absent).await.unwrap();
    // The holder saves again with the same key; another kind may hold the same value.
    documents.save(&first, Expected::Present).await.unwrap();
    let other_kind = document(DocumentKind::Policy, "", "other").with_unique_key(iss);
    documents.save(&other_kind, Expected::Absent).await.unwrap();
    let second = document(DocumentKind::TrustedIssuer, "", "second").with_unique_key(iss);
    match documents.save(&second, Expected::Absent).await {
        Err(StorageError::UniqueKeyTaken { holder, value, .. }) => {
            assert_eq!(holder, "first");
            assert_eq!(value, iss);
        }
        other => panic!("expected UniqueKeyTaken, got {other:?}"),
    }
    assert!(
        documents
            .get(DocumentKind::TrustedIssuer, "", "second")
            .await
            .unwrap()
            .is_none()
    );
    // Moving the holder to another value frees the first one.
    let moved = first.clone().with_unique_key("https://elsewhere.example");
    documents.save(&moved, Expected::Present).await.unwrap();
    documents.save(&second, Expected::Absent).await.unwrap();
    documents
        .delete(
            DocumentKind::TrustedIssuer,
            "",
            "second",
            Expected::Present,
            &[],
        )
        .await
        .unwrap();
    let third = document(DocumentKind::TrustedIssuer, "", "third").with_unique_key(iss);
    documents.save(&third, Expected::Absent).await.unwrap();
    let read = documents
        .get(DocumentKind::TrustedIssuer, "", "third")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(read.unique_key.as_deref(), Some(iss));
}

/// Polls every future at once on this task (the store is borrowed, so nothing can be spawned)
/// and answers their results in order.
async fn join_all<F: Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pending: Vec<Pin<Box<F>>> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pending.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        for (future, output) in pending.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none()
                && let Poll::Ready(value) = future.as_mut().poll(cx)
            {
                *output = Some(value);
            }
        }
        if outputs.iter().all(Option::is_some) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

pub(crate) async fn document_list_is_sorted_by_parent_then_name_bytewise(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    for (parent, name) in [
        ("beta", "writer"),
        ("alpha", "reader"),
        ("Gamma", "reader"),
        ("alpha", "Admin"),
        ("beta", "admin"),
        ("alpha", "writer"),
    ] {
        documents
            .save(
                &document(DocumentKind::Role, parent, name),
                Expected::Absent,
            )
            .await
            .unwrap();
    }

    let all = documents.list(DocumentKind::Role, None).await.unwrap();

    // Byte order, as `str` sorts: uppercase before lowercase (PostgreSQL needs COLLATE "C").
    assert_eq!(
        keys(&all),
        [
            ("Gamma", "reader"),
            ("alpha", "Admin"),
            ("alpha", "reader"),
            ("alpha", "writer"),
            ("beta", "admin"),
            ("beta", "writer"),
        ]
    );
    assert_eq!(
        all[0],
        stored(&document(DocumentKind::Role, "Gamma", "reader"), 1, T0, T0)
    );
}

pub(crate) async fn document_list_filters_by_kind_and_parent(store: &dyn Store, _: &TestClock) {
    let documents = store.documents();
    for record in [
        document(DocumentKind::JwtIssuer, "", "alpha"),
        document(DocumentKind::JwtIssuer, "", "beta"),
        document(DocumentKind::Role, "alpha", "reader"),
        document(DocumentKind::Role, "alpha", "writer"),
        document(DocumentKind::Role, "beta", "reader"),
        document(DocumentKind::Policy, "alpha", "audit"),
    ] {
        documents.save(&record, Expected::Absent).await.unwrap();
    }

    let under_alpha = documents
        .list(DocumentKind::Role, Some("alpha"))
        .await
        .unwrap();
    let top_level = documents
        .list(DocumentKind::JwtIssuer, Some(""))
        .await
        .unwrap();
    let issuers = documents.list(DocumentKind::JwtIssuer, None).await.unwrap();
    let under_nobody = documents
        .list(DocumentKind::Role, Some("gamma"))
        .await
        .unwrap();
    let of_empty_kind = documents
        .list(DocumentKind::TrustedIssuer, None)
        .await
        .unwrap();

    assert_eq!(
        keys(&under_alpha),
        [("alpha", "reader"), ("alpha", "writer")]
    );
    assert!(
        under_alpha
            .iter()
            .all(|record| record.kind == DocumentKind::Role)
    );
    assert_eq!(keys(&top_level), [("", "alpha"), ("", "beta")]);
    assert_eq!(issuers, top_level);
    assert_eq!(under_nobody, []);
    assert_eq!(of_empty_kind, []);
}

pub(crate) async fn documents_sharing_a_name_under_other_parents_or_kinds_coexist(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    let sharing = [
        document(DocumentKind::Role, "alpha", "admin"),
        document(DocumentKind::Role, "beta", "admin"),
        document(DocumentKind::JwtIssuer, "", "admin"),
        document(DocumentKind::TrustedIssuer, "", "admin"),
        document(DocumentKind::Policy, "", "admin"),
    ];
    for (position, mut record) in sharing.clone().into_iter().enumerate() {
        record.body = json!({"position": position});
        documents.save(&record, Expected::Absent).await.unwrap();
    }

    for (position, record) in sharing.iter().enumerate() {
        let read = documents
            .get(record.kind, &record.parent, &record.name)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read.body, json!({"position": position}), "{record:?}");
    }
}

pub(crate) async fn document_delete_takes_listed_child_kinds_of_its_name_only(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    for record in [
        document(DocumentKind::JwtIssuer, "", "alpha"),
        document(DocumentKind::JwtIssuer, "", "beta"),
        document(DocumentKind::Role, "alpha", "reader"),
        document(DocumentKind::Role, "alpha", "writer"),
        document(DocumentKind::Role, "beta", "reader"),
        document(DocumentKind::Role, "beta", "alpha"),
        document(DocumentKind::Policy, "alpha", "audit"),
    ] {
        documents.save(&record, Expected::Absent).await.unwrap();
    }

    documents
        .delete(
            DocumentKind::JwtIssuer,
            "",
            "alpha",
            Expected::Revision(1),
            &[DocumentKind::Role],
        )
        .await
        .unwrap();

    assert_eq!(
        documents
            .get(DocumentKind::JwtIssuer, "", "alpha")
            .await
            .unwrap(),
        None
    );
    let issuers = documents.list(DocumentKind::JwtIssuer, None).await.unwrap();
    let roles = documents.list(DocumentKind::Role, None).await.unwrap();
    let policies = documents.list(DocumentKind::Policy, None).await.unwrap();
    assert_eq!(keys(&issuers), [("", "beta")]);
    assert_eq!(keys(&roles), [("beta", "alpha"), ("beta", "reader")]);
    assert_eq!(keys(&policies), [("alpha", "audit")]);
}

pub(crate) async fn document_delete_with_stale_revision_is_refused_and_keeps_children(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    let issuer = document(DocumentKind::JwtIssuer, "", "alpha");
    documents.save(&issuer, Expected::Absent).await.unwrap();
    documents
        .save(&issuer, Expected::Revision(1))
        .await
        .unwrap();
    documents
        .save(
            &document(DocumentKind::Role, "alpha", "reader"),
            Expected::Absent,
        )
        .await
        .unwrap();

    let error = documents
        .delete(
            DocumentKind::JwtIssuer,
            "",
            "alpha",
            Expected::Revision(1),
            &[DocumentKind::Role],
        )
        .await
        .unwrap_err();

    assert!(
        matches!(
            &error,
            StorageError::RevisionMismatch { kind: "jwt issuer", name, expected: 1, actual: 2 }
                if name == "alpha"
        ),
        "{error:?}"
    );
    assert_eq!(
        documents
            .get(DocumentKind::JwtIssuer, "", "alpha")
            .await
            .unwrap(),
        Some(stored(&issuer, 2, T0, T0))
    );
    let roles = documents.list(DocumentKind::Role, None).await.unwrap();
    assert_eq!(keys(&roles), [("alpha", "reader")]);
}

pub(crate) async fn document_delete_of_missing_document_is_not_found(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    // The same name under another parent is another document.
    documents
        .save(
            &document(DocumentKind::Policy, "", "audit"),
            Expected::Absent,
        )
        .await
        .unwrap();

    for expected in [Expected::Present, Expected::Revision(1)] {
        let error = documents
            .delete(DocumentKind::Policy, "alpha", "audit", expected, &[])
            .await
            .unwrap_err();
        assert!(
            matches!(&error, StorageError::NotFound { kind: "policy", name } if name == "audit"),
            "{expected:?}: {error:?}"
        );
    }
}

pub(crate) async fn document_delete_expecting_any_of_missing_document_is_a_no_op(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    // An orphan: children go only with a parent that was there.
    let orphan = document(DocumentKind::Role, "alpha", "reader");
    documents.save(&orphan, Expected::Absent).await.unwrap();

    documents
        .delete(
            DocumentKind::JwtIssuer,
            "",
            "alpha",
            Expected::Any,
            &[DocumentKind::Role],
        )
        .await
        .unwrap();

    let roles = documents.list(DocumentKind::Role, None).await.unwrap();
    assert_eq!(roles, [stored(&orphan, 1, T0, T0)]);
}

/// A document as the domain would hand it to `save`: revision and timestamps left at zero.
fn document(kind: DocumentKind, parent: &str, name: &str) -> DocumentRecord {
    DocumentRecord {
        kind,
        parent: parent.to_owned(),
        name: name.to_owned(),
        body: json!({
            "description": format!("{name} under {parent:?}"),
            "max_ttl_seconds": 900,
            "audiences": ["https://api.example.com", "ünïcödé"],
            "labels": {"team": "identity"},
            "expires": null,
        }),
        unique_key: None,
        revision: 0,
        created_at: 0,
        updated_at: 0,
    }
}

/// `record` as the store answers it after a write.
fn stored(
    record: &DocumentRecord,
    revision: i64,
    created_at: i64,
    updated_at: i64,
) -> DocumentRecord {
    DocumentRecord {
        revision,
        created_at,
        updated_at,
        ..record.clone()
    }
}

/// `(parent, name)` of each record, in the order answered.
fn keys(records: &[DocumentRecord]) -> Vec<(&str, &str)> {
    records
        .iter()
        .map(|record| (record.parent.as_str(), record.name.as_str()))
        .collect()
}

pub(crate) async fn document_pages_walk_every_document_of_a_kind_once_in_order(
    store: &dyn Store,
    _: &TestClock,
) {
    let documents = store.documents();
    for (parent, name) in [("", "c"), ("", "a"), ("x", "b"), ("x", "a"), ("", "b")] {
        let record = document(DocumentKind::Role, parent, name);
        documents.save(&record, Expected::Absent).await.unwrap();
    }
    let other = document(DocumentKind::Policy, "", "zzz");
    documents.save(&other, Expected::Absent).await.unwrap();

    let mut seen = Vec::new();
    let mut after: Option<(String, String)> = None;
    loop {
        let page = documents
            .list_page(
                DocumentKind::Role,
                after.as_ref().map(|(p, n)| (p.as_str(), n.as_str())),
                2,
            )
            .await
            .unwrap();
        assert!(page.len() <= 2);
        let Some(last) = page.last() else { break };
        after = Some((last.parent.clone(), last.name.clone()));
        seen.extend(page.into_iter().map(|d| (d.parent, d.name)));
    }

    let expected: Vec<(String, String)> = [("", "a"), ("", "b"), ("", "c"), ("x", "a"), ("x", "b")]
        .iter()
        .map(|(p, n)| ((*p).to_owned(), (*n).to_owned()))
        .collect();
    assert_eq!(seen, expected);
}
