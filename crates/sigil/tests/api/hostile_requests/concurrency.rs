//! Uniqueness under concurrent writes (DESIGN §3 "Resource limits"): the same create sent 200
//! times at once yields exactly one 201 and 199 × 409 `already_exists`, for every resource
//! kind, by POST (by PUT, the losers may also replace: 204); two trusted issuers with different names but one `iss` cannot
//! both be saved, however many race, on one node or on two.

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use tokio::sync::Barrier;

use super::assert_healthy;
use crate::external_idp::IdpKey;
use crate::support::{TestApp, TestResponse};

const RACERS: usize = 200;

/// One request of a race: the node it goes to, and what it sends.
struct Racer {
    node: Arc<TestApp>,
    method: Method,
    path: String,
    body: Value,
}

/// Sends every request at once (all wait on one barrier), answering in order.
async fn race(racers: Vec<Racer>) -> Vec<TestResponse> {
    let barrier = Arc::new(Barrier::new(racers.len()));
    let tasks: Vec<_> = racers
        .into_iter()
        .map(|racer| {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                barrier.wait().await;
                racer
                    .node
                    .root(racer.method, &racer.path)
                    .json(&racer.body)
                    .send()
                    .await
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(tasks.len());
    for task in tasks {
        answers.push(task.await.expect("the request task"));
    }
    answers
}

/// `count` copies of one request to `node`.
fn copies(
    node: &Arc<TestApp>,
    method: Method,
    path: &str,
    body: &Value,
    count: usize,
) -> Vec<Racer> {
    (0..count)
        .map(|_| Racer {
            node: node.clone(),
            method: method.clone(),
            path: path.to_owned(),
            body: body.clone(),
        })
        .collect()
}

/// Asserts exactly one answer is `won` and every other is 409 with `code`; no 5xx.
fn assert_one_winner(answers: &[TestResponse], won: StatusCode, code: &str, case: &str) {
    let winners = answers.iter().filter(|a| a.status == won).count();
    let mut others: Vec<String> = answers
        .iter()
        .filter(|a| {
            a.status != won && !(a.status == StatusCode::CONFLICT && a.error_code() == code)
        })
        .map(|a| format!("{} {}", a.status, a.text))
        .collect();
    others.sort();
    others.dedup();
    assert_eq!(winners, 1, "{case}: {winners} requests won");
    assert!(
        others.is_empty(),
        "{case}: answers other than {won} or 409 {code}: {others:?}"
    );
}

/// A server with what every kind needs: key `k`, issuer `i`, trusted issuer `ci`.
async fn app_with_parents() -> Arc<TestApp> {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer("i", "k").await;
    crate::external_idp::trust_with(
        &app,
        "ci",
        json!({"issuer": "https://ci.example.com", "keys": [IdpKey::es256("c").jwk()]}),
    )
    .await;
    Arc::new(app)
}

/// One create per resource kind: (kind, collection, item name, body).
fn creates() -> Vec<(&'static str, &'static str, &'static str, Value)> {
    vec![
        (
            "signing key",
            "/v1/config/signing-keys",
            "raced",
            json!({"name": "raced", "type": "ed25519"}),
        ),
        (
            "jwt issuer",
            "/v1/config/jwt-issuers",
            "raced",
            json!({"name": "raced", "signing_key": "k"}),
        ),
        (
            "role",
            "/v1/config/jwt-issuers/i/roles",
            "raced",
            json!({"name": "raced"}),
        ),
        (
            "trusted issuer",
            "/v1/config/trusted-issuers",
            "raced",
            json!({"name": "raced", "issuer": "https://raced.example.com",
                   "keys": [IdpKey::es256("r").jwk()]}),
        ),
        (
            "identity mapping",
            "/v1/config/identity-mappings",
            "raced",
            json!({"name": "raced", "trusted_issuer": "ci", "id_match": "(.+)"}),
        ),
        (
            "policy",
            "/v1/config/policies",
            "raced",
            json!({"name": "raced", "rules": [{"path": "/policies", "operations": ["read"]}]}),
        ),
    ]
}

/// The names in `collection`.
async fn names(app: &TestApp, collection: &str) -> Vec<String> {
    let list = app.get(&format!("{collection}?keys=true")).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    serde_json::from_value(list.json).expect("names")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_create_sent_200_times_at_once_creates_once() {
    let app = app_with_parents().await;

    for (kind, collection, name, body) in creates() {
        let answers = race(copies(&app, Method::POST, collection, &body, RACERS)).await;

        assert_one_winner(&answers, StatusCode::CREATED, "already_exists", kind);
        let listed = names(&app, collection).await;
        assert_eq!(
            listed.iter().filter(|n| *n == name).count(),
            1,
            "{kind}: {listed:?}"
        );
    }
    let restarted = app.second_node().await;
    for (kind, collection, name, _) in creates() {
        let listed = names(&restarted, collection).await;
        assert_eq!(
            listed.iter().filter(|n| *n == name).count(),
            1,
            "{kind} as stored"
        );
    }
    assert_healthy(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_put_create_sent_200_times_at_once_creates_once() {
    let app = app_with_parents().await;

    for (kind, collection, name, body) in creates() {
        let item = format!("{collection}/{name}");
        let answers = race(copies(&app, Method::PUT, &item, &body, RACERS)).await;

        let created = answers
            .iter()
            .filter(|a| a.status == StatusCode::CREATED)
            .count();
        let mut odd: Vec<String> = answers
            .iter()
            .filter(|a| match a.status {
                StatusCode::CREATED | StatusCode::NO_CONTENT => false,
                StatusCode::CONFLICT => a.error_code() != "already_exists",
                _ => true,
            })
            .map(|a| format!("{} {}", a.status, a.text))
            .collect();
        odd.sort();
        odd.dedup();
        assert_eq!(created, 1, "{kind}: {created} PUTs created it");
        assert!(
            odd.is_empty(),
            "{kind}: answers other than 201, 204 or 409: {odd:?}"
        );
        assert_eq!(app.get(&item).await.status, StatusCode::OK, "{kind}");
    }
    assert_healthy(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_create_raced_on_two_nodes_creates_once() {
    let app = app_with_parents().await;
    let node_b = Arc::new(app.second_node().await);

    for (kind, collection, name, body) in creates() {
        let mut racers = copies(&app, Method::POST, collection, &body, RACERS / 2);
        racers.extend(copies(&node_b, Method::POST, collection, &body, RACERS / 2));
        let answers = race(racers).await;

        assert_one_winner(&answers, StatusCode::CREATED, "already_exists", kind);
        let stored = app.second_node().await;
        let listed = names(&stored, collection).await;
        assert_eq!(
            listed.iter().filter(|n| *n == name).count(),
            1,
            "{kind}: {listed:?}"
        );
    }
}

/// A trusted issuer named `name` claiming `iss`.
fn claiming(iss: &str, name: &str) -> Value {
    json!({"name": name, "issuer": iss, "keys": [IdpKey::es256(name).jwk()]})
}

/// How many stored trusted issuers claim `iss`, read by a fresh node.
async fn claimants(app: &TestApp, iss: &str) -> usize {
    let stored = app.second_node().await;
    let list = stored.get("/v1/config/trusted-issuers").await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    list.json
        .as_array()
        .expect("a list")
        .iter()
        .filter(|issuer| issuer["issuer"] == iss)
        .count()
}

/// Asserts exactly one 201 and every other answer a 409 with the JSON error body.
fn assert_one_claim(answers: &[TestResponse], case: &str) {
    let winners = answers
        .iter()
        .filter(|a| a.status == StatusCode::CREATED)
        .count();
    let mut others: Vec<String> = answers
        .iter()
        .filter(|a| a.status != StatusCode::CREATED)
        .filter(|a| a.status != StatusCode::CONFLICT || a.error_code().is_empty())
        .map(|a| format!("{} {}", a.status, a.text))
        .collect();
    others.sort();
    others.dedup();
    assert_eq!(winners, 1, "{case}: {winners} issuers claimed the iss");
    assert!(
        others.is_empty(),
        "{case}: answers other than 201 or 409: {others:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_issuers_racing_for_one_iss_by_post_leave_one() {
    let app = app_with_parents().await;
    let iss = "https://contested.example.com";
    let racers = (0..RACERS)
        .map(|i| Racer {
            node: app.clone(),
            method: Method::POST,
            path: "/v1/config/trusted-issuers".to_owned(),
            body: claiming(iss, &format!("claimant-{i}")),
        })
        .collect();

    let answers = race(racers).await;

    assert_one_claim(&answers, "POST");
    assert_eq!(claimants(&app, iss).await, 1);
    assert_healthy(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_issuers_racing_for_one_iss_by_put_leave_one() {
    let app = app_with_parents().await;
    let iss = "https://contested.example.com";
    let racers = (0..RACERS)
        .map(|i| Racer {
            node: app.clone(),
            method: Method::PUT,
            path: format!("/v1/config/trusted-issuers/claimant-{i}"),
            body: claiming(iss, &format!("claimant-{i}")),
        })
        .collect();

    let answers = race(racers).await;

    assert_one_claim(&answers, "PUT");
    assert_eq!(claimants(&app, iss).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issuers_racing_for_one_iss_on_two_nodes_leave_one() {
    let app = app_with_parents().await;
    let node_b = Arc::new(app.second_node().await);
    let iss = "https://contested.example.com";
    let racers = (0..RACERS)
        .map(|i| Racer {
            node: if i % 2 == 0 {
                app.clone()
            } else {
                node_b.clone()
            },
            method: if i % 4 < 2 { Method::POST } else { Method::PUT },
            path: if i % 4 < 2 {
                "/v1/config/trusted-issuers".to_owned()
            } else {
                format!("/v1/config/trusted-issuers/claimant-{i}")
            },
            body: claiming(iss, &format!("claimant-{i}")),
        })
        .collect();

    let answers = race(racers).await;

    assert_one_claim(&answers, "two nodes");
    assert_eq!(claimants(&app, iss).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renaming_races_cannot_make_two_issuers_share_an_iss() {
    let app = app_with_parents().await;
    for i in 0..20 {
        let created = app
            .send_json(
                Method::PUT,
                &format!("/v1/config/trusted-issuers/moving-{i}"),
                &claiming(
                    &format!("https://moving-{i}.example.com"),
                    &format!("moving-{i}"),
                ),
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    }
    let iss = "https://target.example.com";
    let racers = (0..20)
        .map(|i| Racer {
            node: app.clone(),
            method: Method::PATCH,
            path: format!("/v1/config/trusted-issuers/moving-{i}"),
            body: json!({"issuer": iss}),
        })
        .collect();

    let answers = race(racers).await;

    let moved = answers
        .iter()
        .filter(|a| a.status == StatusCode::NO_CONTENT)
        .count();
    let odd: Vec<String> = answers
        .iter()
        .filter(|a| a.status != StatusCode::NO_CONTENT && a.status != StatusCode::CONFLICT)
        .map(|a| format!("{} {}", a.status, a.text))
        .collect();
    assert_eq!(moved, 1, "{moved} issuers moved to one iss");
    assert!(odd.is_empty(), "answers other than 204 or 409: {odd:?}");
    assert_eq!(claimants(&app, iss).await, 1);
}
