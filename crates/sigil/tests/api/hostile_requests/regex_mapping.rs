//! Identity-mapping regexes (DESIGN §3 "Identity mappings"): `id_match` matches the WHOLE claim
//! value. A pattern is validated on its own before it is anchored, so `a)|(.*` cannot close
//! the anchoring group and match anything; alternatives, inner anchors and flags never loosen
//! the whole match; lookaround, huge repetitions and group-less patterns without a grantee are
//! refused naming `id_match`.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::{assert_healthy, assert_invalid_request, caller_token, with_caller};
use crate::external_idp::{IdpKey, explain};
use crate::support::{TestApp, TestResponse};

const MAPPINGS: &str = "/v1/config/identity-mappings";

/// A server trusting `ci` (mapping `ci-users`: `user:<name>` gets the policy `caller`).
async fn setup() -> (TestApp, IdpKey) {
    with_caller(TestApp::new().await, json!([])).await
}

async fn post_mapping(app: &TestApp, body: Value) -> TestResponse {
    app.send_json(Method::POST, MAPPINGS, &body).await
}

/// Asserts a 400 naming `id_match` only.
fn assert_id_match_refused(answer: &TestResponse, case: &str) {
    assert_invalid_request(answer, case);
    assert_eq!(
        answer.field_names(),
        ["id_match"],
        "{case}: {}",
        answer.text
    );
}

/// The explain answer for a `ci` token with `sub`.
async fn explained(app: &TestApp, key: &IdpKey, sub: &str) -> Value {
    let token = caller_token(app, key, json!({"sub": sub}));
    let answer = explain(app, &json!({"token": token})).await;
    assert_eq!(answer.status, StatusCode::OK, "{sub:?}: {}", answer.text);
    answer.json
}

/// The outcome of `mapping` for a token with `sub`, from `explain`.
async fn outcome(app: &TestApp, key: &IdpKey, mapping: &str, sub: &str) -> Value {
    let answer = explained(app, key, sub).await;
    answer["mappings"]["tried"]
        .as_array()
        .and_then(|tried| tried.iter().find(|t| t["mapping"] == mapping))
        .cloned()
        .unwrap_or_else(|| panic!("{mapping} was not tried for {sub:?}: {answer}"))
}

/// Saves mapping `name` (sorting before `ci-users`) and asserts, for each `(sub, applies)`,
/// whether it applied.
async fn assert_matches(
    app: &TestApp,
    key: &IdpKey,
    name: &str,
    mapping: Value,
    subjects: &[(&str, bool)],
) {
    let saved = app
        .send_json(Method::PUT, &format!("{MAPPINGS}/{name}"), &mapping)
        .await;
    if saved.status == StatusCode::BAD_REQUEST {
        // Refusing a pattern it cannot anchor safely is also whole-match.
        assert_id_match_refused(&saved, name);
        return;
    }
    assert!(saved.status.is_success(), "{name}: {}", saved.text);
    for (sub, applies) in subjects {
        let tried = outcome(app, key, name, sub).await;
        assert_eq!(
            tried["outcome"] == "applied",
            *applies,
            "{name} ({}) on {sub:?}: {tried}",
            mapping["id_match"]
        );
    }
    let deleted = app
        .root(Method::DELETE, &format!("{MAPPINGS}/{name}"))
        .send()
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
}

#[tokio::test]
async fn an_id_match_that_closes_the_anchoring_group_is_refused_naming_id_match() {
    let (app, _) = setup().await;
    let escapes = [
        "a)|(.*",
        "a)|(.+",
        "x)|.*|(y",
        "a)(.*",
        "(a))((.*)",
        "a)|(?:.*",
        ")|(.*",
        ")(",
        ")",
        "a\\",
        "(.*))|((.*",
    ];

    for pattern in escapes {
        for grantee in [None, Some("team")] {
            let mut body = json!({"name": "escape", "trusted_issuer": "ci", "id_match": pattern});
            if let Some(grantee) = grantee {
                body["grantee"] = json!(grantee);
            }
            let case = format!("{pattern:?} with grantee {grantee:?}");
            assert_id_match_refused(&post_mapping(&app, body.clone()).await, &case);
            let put = app
                .send_json(Method::PUT, &format!("{MAPPINGS}/escape"), &body)
                .await;
            assert_id_match_refused(&put, &format!("PUT {case}"));
        }
    }
    let patch = app
        .send_json(
            Method::PATCH,
            &format!("{MAPPINGS}/ci-users"),
            &json!({"id_match": "a)|(.*"}),
        )
        .await;
    assert_id_match_refused(&patch, "PATCH");
    let kept = app.get(&format!("{MAPPINGS}/ci-users")).await;
    assert_eq!(kept.json["id_match"], "user:([a-z]+)", "{}", kept.text);
    assert_eq!(
        app.get(&format!("{MAPPINGS}?keys=true")).await.json,
        json!(["ci-users"])
    );
    assert_healthy(&app).await;
}

#[tokio::test]
async fn an_escaping_pattern_never_maps_a_token_it_should_not() {
    let (app, key) = setup().await;
    let _ = post_mapping(
        &app,
        json!({"name": "a-escape", "trusted_issuer": "ci", "id_match": "a)|(.*",
               "policies": ["root"]}),
    )
    .await;

    let answer = explained(&app, &key, "anything:at-all").await;

    assert_eq!(answer["identity"]["policies"], json!([]), "{answer}");
    let root = app
        .call(Method::GET, "/v1/config/signing-keys")
        .token(&caller_token(&app, &key, json!({"sub": "anything:at-all"})))
        .send()
        .await;
    assert_eq!(root.status, StatusCode::FORBIDDEN, "{}", root.text);
}

#[tokio::test]
async fn each_alternative_of_an_id_match_must_match_the_whole_value() {
    let (app, key) = setup().await;
    let cases = [
        (
            "with grantee",
            json!({"trusted_issuer": "ci", "id_match": "user:ann|user:bob", "grantee": "team"}),
            vec![
                ("user:ann", true),
                ("user:bob", true),
                ("xuser:ann", false),
                ("user:annx", false),
                ("xuser:bob", false),
                ("user:bobx", false),
                ("user:ann|user:bob", false),
            ],
        ),
        (
            "one group",
            json!({"trusted_issuer": "ci", "id_match": "(ann|bob)"}),
            vec![
                ("ann", true),
                ("bob", true),
                ("xann", false),
                ("bobx", false),
                ("annbob", false),
            ],
        ),
        (
            "empty alternative",
            json!({"trusted_issuer": "ci", "id_match": "(ann)|", "grantee": "team"}),
            vec![("ann", true), ("xann", false), ("annx", false)],
        ),
    ];

    for (case, mapping, subjects) in cases {
        assert_matches(
            &app,
            &key,
            &format!("a-{}", case.replace(' ', "-")),
            mapping,
            &subjects,
        )
        .await;
    }
}

#[tokio::test]
async fn anchors_and_flags_inside_an_id_match_never_loosen_the_whole_match() {
    let (app, key) = setup().await;
    let refused_or_whole = [
        (
            "^user:(ann)",
            vec![
                ("user:ann", true),
                ("user:annx", false),
                ("user:ann\nx", false),
            ],
        ),
        (
            "(ann)$",
            vec![("ann", true), ("xann", false), ("x\nann", false)],
        ),
        (
            "^(ann)$",
            vec![("ann", true), ("ann\n", false), ("\nann", false)],
        ),
        (
            "(?m)^(ann)$",
            vec![("ann", true), ("evil\nann", false), ("ann\nevil", false)],
        ),
        (
            "(?m:^(ann)$)",
            vec![("ann", true), ("evil\nann", false), ("ann\nevil", false)],
        ),
        ("(?s)(ann.*)", vec![("ann\nx", true), ("xann", false)]),
        (
            "(?x) (ann) # a comment",
            vec![("ann", true), ("xann", false), ("annx", false)],
        ),
        (
            "(?x)(ann)#",
            vec![("ann", true), ("xann", false), ("annx", false)],
        ),
        ("\\A(ann)\\z", vec![("ann", true), ("xann", false)]),
        ("(?i)(ann)", vec![("ANN", true), ("xann", false)]),
        ("(ann)\\b", vec![("ann", true), ("ann bob", false)]),
    ];

    for (index, (pattern, subjects)) in refused_or_whole.into_iter().enumerate() {
        assert_matches(
            &app,
            &key,
            &format!("a-{index}"),
            json!({"trusted_issuer": "ci", "id_match": pattern}),
            &subjects,
        )
        .await;
    }
}

#[tokio::test]
async fn lookaround_and_backreferences_in_an_id_match_are_refused() {
    let (app, _) = setup().await;

    for pattern in [
        "(?=user)(.+)",
        "(?!admin)(.+)",
        "(?<=user:)(.+)",
        "(?<!x)(.+)",
        "(a)\\1",
        "(?P<n>a)(?P=n)",
        "(?>a+)(b)",
        "(?R)",
        "(?(1)a|b)(c)",
    ] {
        let answer = post_mapping(
            &app,
            json!({"name": "look", "trusted_issuer": "ci", "id_match": pattern}),
        )
        .await;
        assert_id_match_refused(&answer, pattern);
    }
}

#[tokio::test]
async fn a_huge_repetition_or_an_oversized_id_match_is_refused() {
    let (app, _) = setup().await;
    let long = format!("({})", "a".repeat(100_000));

    for pattern in [
        "(a{100000})",
        "(a{1000}){1000}",
        "((a{50}){50}){50}",
        "(\\w{1000}){1000}",
        "(.{65536})",
        "(a{4294967295})",
        "(a{4294967296})",
        "((((((((((a{10}){10}){10}){10}){10}){10}){10}){10}){10}){10})",
        "(\\pL{2000}){100}",
        long.as_str(),
    ] {
        let answer = post_mapping(
            &app,
            json!({"name": "huge", "trusted_issuer": "ci", "id_match": pattern}),
        )
        .await;
        let case: String = pattern.chars().take(60).collect();
        assert_id_match_refused(&answer, &case);
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn an_id_match_without_a_capture_group_needs_a_grantee() {
    let (app, _) = setup().await;

    for pattern in [
        "user:ann",
        "(?:user):ann",
        "user:\\(ann\\)",
        "user:[(]ann[)]",
        "(?i)user:.*",
        "(?x) user : ann # (not a group)",
    ] {
        let without = post_mapping(
            &app,
            json!({"name": "plain", "trusted_issuer": "ci", "id_match": pattern}),
        )
        .await;
        assert_id_match_refused(&without, &format!("{pattern:?} without grantee"));
        let reason = without.field("id_match")["reason"]
            .as_str()
            .unwrap_or_default();
        assert!(reason.contains("group"), "{pattern:?}: {}", without.text);
    }
    let with = post_mapping(
        &app,
        json!({"name": "plain", "trusted_issuer": "ci", "id_match": "user:ann", "grantee": "team"}),
    )
    .await;
    assert_eq!(with.status, StatusCode::CREATED, "{}", with.text);
}
