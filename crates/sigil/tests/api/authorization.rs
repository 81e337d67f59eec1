//! Authorisation of `/v1` requests (DESIGN §3 "Authenticating a caller" and "Policies", issue 5
//! items 3 and 7): an identity from an external issuer does exactly what its policy allows and
//! gets 403 naming the path and operation elsewhere; path tricks never reach an uncovered
//! resource; policy and mapping changes apply to the next request; the header rule; and
//! `explain` showing the mappings tried and the policy decision.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::external_idp::{
    IdpKey, claims_at, explain, merged, put_mapping, put_policy, trust_with,
};
use crate::support::{TestApp, TestResponse};

const ISS: &str = "https://ci.example.com";
const SUB: &str = "repo:acme/payments:ref:refs/heads/main";

/// Trusted issuer `ci`; mapping `ci-repos` giving `repo:acme/<name>:...` the policy
/// `role-admin`, which allows create/read/update under the roles of `payments-api` and read
/// of signing key `allowed`. Keys `allowed` and `secret`, issuers `payments-api` and
/// `other-api`.
async fn setup() -> (TestApp, IdpKey) {
    let app = TestApp::new().await;
    let key = IdpKey::es256("k1");
    trust_with(&app, "ci", json!({"issuer": ISS, "keys": [key.jwk()]})).await;
    put_mapping(
        &app,
        "ci-repos",
        json!({"trusted_issuer": "ci", "id_match": "repo:(acme/[a-z-]+):ref:.*",
               "policies": ["role-admin"]}),
    )
    .await;
    put_policy(&app, "role-admin", role_admin_rules()).await;
    app.create_key("allowed", "ecdsa-p256").await;
    app.create_key("secret", "ecdsa-p256").await;
    app.create_issuer("payments-api", "allowed").await;
    app.create_issuer("other-api", "secret").await;
    app.create_role("other-api", json!({"name": "r"})).await;
    (app, key)
}

fn role_admin_rules() -> Value {
    json!([
        {"path": "/jwt-issuers/payments-api/roles/**", "operations": ["create", "read", "update"]},
        {"path": "/signing-keys/allowed", "operations": ["read"]},
        // `**` is one or more segments: the collection itself needs its own rule.
        {"path": "/jwt-issuers/payments-api/roles", "operations": ["create", "read"]},
    ])
}

/// A token of `ci` for [`SUB`] with `changes`.
fn token(app: &TestApp, key: &IdpKey, changes: Value) -> String {
    key.sign(&merged(
        merged(claims_at(ISS, app.now()), json!({"sub": SUB})),
        changes,
    ))
}

async fn send(
    app: &TestApp,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> TestResponse {
    let call = app.call(method, path).token(token);
    match body {
        Some(body) => call.json(&body).send().await,
        None => call.send().await,
    }
}

/// Asserts a 403 `permission_denied` whose message names `path` and `operation`.
fn assert_denied(answer: &TestResponse, path: &str, operation: &str) {
    answer.assert_error(StatusCode::FORBIDDEN, "permission_denied");
    let message = answer.json["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!("`{path}`")) || message.contains(path),
        "the message names {path}: {}",
        answer.text
    );
    assert!(
        message.contains(operation),
        "the message names {operation}: {}",
        answer.text
    );
}

// ---- exactly what the policy allows ----

#[tokio::test]
async fn an_external_identity_may_do_exactly_what_its_policy_allows() {
    let (app, key) = setup().await;
    let caller = token(&app, &key, json!({}));
    let roles = "/v1/config/jwt-issuers/payments-api/roles";

    for (method, path, body, status) in [
        (Method::GET, roles.to_owned(), None, StatusCode::OK),
        (
            Method::POST,
            roles.to_owned(),
            Some(json!({"name": "deployer"})),
            StatusCode::CREATED,
        ),
        (
            Method::GET,
            format!("{roles}/deployer"),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/v1/state/jwt-issuers/payments-api/roles/deployer".to_owned(),
            None,
            StatusCode::OK,
        ),
        (
            Method::PATCH,
            format!("{roles}/deployer"),
            Some(json!({"default_ttl": "5m"})),
            StatusCode::NO_CONTENT,
        ),
        (
            Method::PUT,
            format!("{roles}/deployer"),
            Some(json!({"default_ttl": "6m"})),
            StatusCode::NO_CONTENT,
        ),
        (
            Method::POST,
            "/v1/jwt-issuers/payments-api/roles/deployer/mint".to_owned(),
            Some(json!({})),
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/v1/config/signing-keys/allowed".to_owned(),
            None,
            StatusCode::OK,
        ),
        (
            Method::GET,
            "/v1/state/signing-keys/allowed".to_owned(),
            None,
            StatusCode::OK,
        ),
    ] {
        let answer = send(&app, &caller, method.clone(), &path, body).await;
        assert_eq!(answer.status, status, "{method} {path}: {}", answer.text);
    }

    for (method, path, body, resource, operation) in [
        (
            Method::DELETE,
            format!("{roles}/deployer"),
            None,
            "/jwt-issuers/payments-api/roles/deployer",
            "delete",
        ),
        (
            Method::GET,
            "/v1/config/jwt-issuers/payments-api".to_owned(),
            None,
            "/jwt-issuers/payments-api",
            "read",
        ),
        (
            Method::GET,
            "/v1/config/jwt-issuers".to_owned(),
            None,
            "/jwt-issuers",
            "read",
        ),
        (
            Method::GET,
            "/v1/config/jwt-issuers/other-api/roles".to_owned(),
            None,
            "/jwt-issuers/other-api/roles",
            "read",
        ),
        (
            Method::POST,
            "/v1/config/jwt-issuers/other-api/roles".to_owned(),
            Some(json!({"name": "x"})),
            "/jwt-issuers/other-api/roles",
            "create",
        ),
        (
            Method::POST,
            "/v1/jwt-issuers/other-api/roles/r/mint".to_owned(),
            Some(json!({})),
            "/jwt-issuers/other-api/roles/r/mint",
            "update",
        ),
        (
            Method::GET,
            "/v1/config/signing-keys/secret".to_owned(),
            None,
            "/signing-keys/secret",
            "read",
        ),
        (
            Method::GET,
            "/v1/config/signing-keys".to_owned(),
            None,
            "/signing-keys",
            "read",
        ),
        (
            Method::POST,
            "/v1/signing-keys/allowed/rotate".to_owned(),
            Some(json!({})),
            "/signing-keys/allowed/rotate",
            "update",
        ),
        (
            Method::DELETE,
            "/v1/config/signing-keys/allowed".to_owned(),
            None,
            "/signing-keys/allowed",
            "delete",
        ),
        (
            Method::GET,
            "/v1/config/policies".to_owned(),
            None,
            "/policies",
            "read",
        ),
        (
            Method::PUT,
            "/v1/config/policies/mine".to_owned(),
            Some(json!({"rules": [{"path": "/**", "operations": ["read"]}]})),
            "/policies/mine",
            "update",
        ),
        (
            Method::POST,
            "/v1/config/identity-mappings".to_owned(),
            Some(json!({"name": "x", "trusted_issuer": "ci"})),
            "/identity-mappings",
            "create",
        ),
        (
            Method::POST,
            "/v1/verify".to_owned(),
            Some(json!({"token": caller})),
            "/verify",
            "update",
        ),
        (
            Method::POST,
            "/v1/sys/seal".to_owned(),
            None,
            "/sys/seal",
            "update",
        ),
    ] {
        let answer = send(&app, &caller, method.clone(), &path, body).await;
        assert_eq!(
            answer.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            answer.text
        );
        assert_denied(&answer, resource, operation);
    }

    assert_eq!(
        app.get("/v1/config/jwt-issuers/payments-api/roles/deployer")
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/v1/config/policies/mine").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.key_state("allowed").await["versions"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    assert!(!app.app.seal.is_sealed());
}

#[tokio::test]
async fn an_unmapped_identity_of_a_trusted_issuer_is_denied_everything() {
    let (app, key) = setup().await;
    let stranger = token(
        &app,
        &key,
        json!({"sub": "repo:evil/payments:ref:refs/heads/main"}),
    );

    let answer = send(
        &app,
        &stranger,
        Method::GET,
        "/v1/config/signing-keys/allowed",
        None,
    )
    .await;

    assert_denied(&answer, "/signing-keys/allowed", "read");
}

#[tokio::test]
async fn a_policies_claim_in_an_external_token_grants_nothing() {
    let (app, key) = setup().await;
    let unmapped = token(
        &app,
        &key,
        json!({"sub": "user:mallory", "policies": ["root"]}),
    );
    let mapped = token(&app, &key, json!({"policies": ["root"]}));

    for caller in [&unmapped, &mapped] {
        let answer = send(&app, caller, Method::GET, "/v1/config/signing-keys", None).await;
        assert_denied(&answer, "/signing-keys", "read");
    }
}

#[tokio::test]
async fn a_token_claiming_the_internal_issuer_but_signed_by_another_key_is_unauthenticated() {
    let (app, key) = setup().await;
    let forged = key.sign(&json!({
        "iss": "urn:sigil:internal", "sub": "root", "policies": ["root"],
        "iat": app.now(), "nbf": app.now(), "exp": app.now() + 300, "jti": "forged",
    }));

    let answer = send(&app, &forged, Method::GET, "/v1/config/signing-keys", None).await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
}

#[tokio::test]
async fn a_request_without_a_token_is_unauthenticated() {
    let (app, _) = setup().await;

    let answer = app
        .call(Method::GET, "/v1/config/signing-keys/allowed")
        .send()
        .await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
    assert!(
        answer
            .header("www-authenticate")
            .is_some_and(|h| h.starts_with("Bearer")),
        "{:?}",
        answer.headers
    );
}

// ---- paths are judged exactly as routed ----

#[tokio::test]
async fn encoded_dotted_doubled_cased_and_slashed_paths_never_reach_an_uncovered_resource() {
    let (app, key) = setup().await;
    let caller = token(&app, &key, json!({}));
    // The caller may read signing key `allowed` and everything under the roles of
    // `payments-api`; each of these tries to reach `secret` or `other-api` from there.
    let tricks = [
        "/v1/config/signing-keys/%73ecret",
        "/v1/config/signing-keys/%73%65%63%72%65%74",
        "/v1/config/signing-keys/allowed%2f..%2fsecret",
        "/v1/config/signing-keys/allowed%2F..%2Fsecret",
        "/v1/config/signing-keys/allowed/../secret",
        "/v1/config/signing-keys/allowed/..%2fsecret",
        "/v1/config/signing-keys/./secret",
        "/v1/config/signing-keys/%2e%2e",
        "/v1/config/signing-keys/%2e",
        "/v1/config/signing-keys//secret",
        "//v1/config/signing-keys/secret",
        "/v1//config/signing-keys/secret",
        "/v1/config/signing-keys/secret/",
        "/v1/config/signing-keys/secret%2f",
        "/v1/config/signing-keys/SECRET",
        "/v1/config/signing-keys/Secret",
        "/V1/config/signing-keys/secret",
        "/v1/CONFIG/signing-keys/secret",
        "/v1/config/Signing-Keys/secret",
        "/v1/config/signing-keys/secret%00",
        "/v1/config/signing-keys/allowed%00/../secret",
        "/v1/config/signing-keys/allowed;/../secret",
        "/v1/config/signing-keys",
        "/v1/config/signing-keys/",
        "/v1/state/signing-keys/secret",
        "/v1/state/signing-keys/%73ecret",
        "/v1/config/jwt-issuers/payments-api/roles/..%2f..%2fother-api%2froles%2fr",
        "/v1/config/jwt-issuers/payments-api/roles/../../other-api/roles/r",
        "/v1/config/jwt-issuers/payments-api/roles/%2e%2e",
        "/v1/config/jwt-issuers/payments-api%2froles%2f..%2f..%2fother-api/roles/r",
        "/v1/config/jwt-issuers/%6fther-api/roles/r",
        "/v1/config/jwt-issuers/Payments-Api/roles",
        "/v1/config/jwt-issuers/payments-api/ROLES",
        "/v1/config/jwt-issuers/payments-api/roles/r/",
        "/v1/config/jwt-issuers/payments-api/",
    ];

    for path in tricks {
        let answer = send(&app, &caller, Method::GET, path, None).await;
        assert!(
            matches!(answer.status, StatusCode::FORBIDDEN | StatusCode::NOT_FOUND),
            "GET {path} answered {}: {}",
            answer.status,
            answer.text
        );
        assert!(
            !answer.text.contains("public_jwk") && !answer.text.contains("\"versions\""),
            "GET {path} leaked key material: {}",
            answer.text
        );
    }
    for path in [
        "/v1/config/signing-keys/%73ecret",
        "/v1/config/jwt-issuers/%6fther-api/roles/r",
    ] {
        let decoded = send(&app, &caller, Method::GET, path, None).await;
        assert_eq!(
            decoded.status,
            StatusCode::FORBIDDEN,
            "{path} is judged decoded: {}",
            decoded.text
        );
        assert_eq!(
            app.get(path).await.status,
            StatusCode::OK,
            "{path} does address the uncovered resource"
        );
    }
}

#[tokio::test]
async fn a_rule_covers_a_name_only_in_its_exact_case() {
    let (app, key) = setup().await;
    put_policy(
        &app,
        "role-admin",
        json!([
            {"path": "/signing-keys/SECRET", "operations": ["read"]},
            {"path": "/Signing-Keys/secret", "operations": ["read"]},
            {"path": "/signing-keys/Secret", "operations": ["read"]},
        ]),
    )
    .await;
    let caller = token(&app, &key, json!({}));

    let secret = send(
        &app,
        &caller,
        Method::GET,
        "/v1/config/signing-keys/secret",
        None,
    )
    .await;
    let upper = send(
        &app,
        &caller,
        Method::GET,
        "/v1/config/signing-keys/SECRET",
        None,
    )
    .await;

    assert_denied(&secret, "/signing-keys/secret", "read");
    assert_ne!(upper.status, StatusCode::OK, "{}", upper.text);
}

// ---- changes apply to the next request ----

#[tokio::test]
async fn a_policy_change_applies_to_the_next_request() {
    let (app, key) = setup().await;
    let caller = token(&app, &key, json!({}));
    let read = || send(&app, &caller, Method::GET, "/v1/config/policies", None);

    assert_eq!(read().await.status, StatusCode::FORBIDDEN);
    let mut widened = role_admin_rules();
    widened
        .as_array_mut()
        .expect("rules")
        .push(json!({"path": "/policies", "operations": ["read"]}));
    put_policy(&app, "role-admin", widened).await;
    assert_eq!(read().await.status, StatusCode::OK);
    put_policy(&app, "role-admin", role_admin_rules()).await;
    assert_eq!(read().await.status, StatusCode::FORBIDDEN);
    let deleted = app
        .root(Method::DELETE, "/v1/config/policies/role-admin")
        .send()
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    let gone = send(
        &app,
        &caller,
        Method::GET,
        "/v1/config/signing-keys/allowed",
        None,
    )
    .await;
    assert_denied(&gone, "/signing-keys/allowed", "read");
}

#[tokio::test]
async fn a_mapping_change_applies_to_the_next_request() {
    let (app, key) = setup().await;
    let caller = token(&app, &key, json!({}));
    let read = || {
        send(
            &app,
            &caller,
            Method::GET,
            "/v1/config/signing-keys/allowed",
            None,
        )
    };

    assert_eq!(read().await.status, StatusCode::OK);
    let patched = app
        .root(Method::PATCH, "/v1/config/identity-mappings/ci-repos")
        .json(&json!({"policies": []}))
        .send()
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    assert_eq!(read().await.status, StatusCode::FORBIDDEN);
    let restored = app
        .root(Method::PATCH, "/v1/config/identity-mappings/ci-repos")
        .json(&json!({"policies": ["role-admin"]}))
        .send()
        .await;
    assert_eq!(restored.status, StatusCode::NO_CONTENT, "{}", restored.text);
    assert_eq!(read().await.status, StatusCode::OK);
    let deleted = app
        .root(Method::DELETE, "/v1/config/identity-mappings/ci-repos")
        .send()
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_eq!(read().await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn disabling_the_trusted_issuer_applies_to_the_next_request() {
    let (app, key) = setup().await;
    let caller = token(&app, &key, json!({}));
    let read = || {
        send(
            &app,
            &caller,
            Method::GET,
            "/v1/config/signing-keys/allowed",
            None,
        )
    };
    assert_eq!(read().await.status, StatusCode::OK);

    let patched = app
        .root(Method::PATCH, "/v1/config/trusted-issuers/ci")
        .json(&json!({"enabled": false}))
        .send()
        .await;

    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    read()
        .await
        .assert_error(StatusCode::UNAUTHORIZED, "issuer_disabled");
}

// ---- which header a token may arrive in ----

const GH_ISS: &str = "https://token.actions.example.com";

/// Adds trusted issuer `gh` whose tokens arrive in `X-GitHub-Token`, mapped like `ci`.
async fn trust_gh(app: &TestApp) -> IdpKey {
    let key = IdpKey::es256("gh1");
    trust_with(
        app,
        "gh",
        json!({"issuer": GH_ISS, "keys": [key.jwk()], "header": "X-GitHub-Token"}),
    )
    .await;
    put_mapping(
        app,
        "gh-repos",
        json!({"trusted_issuer": "gh", "id_match": "repo:(acme/[a-z-]+):ref:.*",
               "policies": ["role-admin"]}),
    )
    .await;
    key
}

fn gh_token(app: &TestApp, key: &IdpKey) -> String {
    key.sign(&merged(claims_at(GH_ISS, app.now()), json!({"sub": SUB})))
}

#[tokio::test]
async fn a_token_in_the_custom_header_its_issuer_names_is_authorised_by_its_policy() {
    let (app, _) = setup().await;
    let gh = trust_gh(&app).await;
    let token = gh_token(&app, &gh);

    let allowed = app
        .call(Method::GET, "/v1/config/signing-keys/allowed")
        .header("X-GitHub-Token", &token)
        .send()
        .await;
    let denied = app
        .call(Method::GET, "/v1/config/signing-keys/secret")
        .header("x-github-token", &token)
        .send()
        .await;

    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.text);
    assert_denied(&denied, "/signing-keys/secret", "read");
}

#[tokio::test]
async fn a_token_in_a_header_its_issuer_does_not_name_is_refused() {
    let (app, ci) = setup().await;
    let gh = trust_gh(&app).await;
    let gh_token = gh_token(&app, &gh);
    let ci_token = token(&app, &ci, json!({}));

    let gh_in_authorization = send(
        &app,
        &gh_token,
        Method::GET,
        "/v1/config/signing-keys/allowed",
        None,
    )
    .await;
    let ci_in_custom = app
        .call(Method::GET, "/v1/config/signing-keys/allowed")
        .header("X-GitHub-Token", &ci_token)
        .send()
        .await;

    for answer in [gh_in_authorization, ci_in_custom] {
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{}", answer.text);
        assert!(
            answer
                .header("www-authenticate")
                .is_some_and(|h| h.starts_with("Bearer")),
            "{:?}",
            answer.headers
        );
    }
}

// ---- explain: mappings tried and the policy decision ----

#[tokio::test]
async fn explain_lists_each_mapping_tried_with_why_it_did_or_did_not_apply() {
    let (app, key) = setup().await;
    put_mapping(
        &app,
        "a-purpose",
        json!({"trusted_issuer": "ci", "purpose_claim": "env", "purpose_match": "prod",
               "id_match": "(.+)", "policies": ["root"]}),
    )
    .await;
    put_mapping(
        &app,
        "b-users",
        json!({"trusted_issuer": "ci", "id_match": "user:(.+)", "policies": ["root"]}),
    )
    .await;

    let answer = explain(
        &app,
        &json!({"token": token(&app, &key, json!({"env": "dev"}))}),
    )
    .await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(
        answer.json["mappings"]["tried"],
        json!([
            {"mapping": "a-purpose", "outcome": "purpose_mismatch", "found": "\"dev\""},
            {"mapping": "b-users", "outcome": "id_mismatch", "found": json!(SUB).to_string()},
            {"mapping": "ci-repos", "outcome": "applied", "identity": "acme/payments"},
        ])
    );
    assert_eq!(answer.json["identity"]["id"], "ci:acme/payments");
    assert_eq!(answer.json["identity"]["policies"], json!(["role-admin"]));
}

#[tokio::test]
async fn explain_names_the_rule_that_allows_a_path() {
    let (app, key) = setup().await;

    let answer = explain(
        &app,
        &json!({"token": token(&app, &key, json!({})),
                "path": "/jwt-issuers/payments-api/roles/deployer/mint", "operation": "update"}),
    )
    .await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let policy = &answer.json["policy"];
    assert_eq!(
        policy["path"],
        "/jwt-issuers/payments-api/roles/deployer/mint"
    );
    assert_eq!(policy["operation"], "update");
    assert_eq!(
        policy["decision"],
        json!({"decision": "allow", "policy": "role-admin", "rule": 0}),
        "{}",
        answer.text
    );
    assert_eq!(policy["rules"][0]["path_matched"], true);
    assert_eq!(policy["rules"][0]["operation_allowed"], true);
}

#[tokio::test]
async fn explain_shows_every_rule_consulted_when_a_path_is_denied() {
    let (app, key) = setup().await;
    let patched = app
        .root(Method::PATCH, "/v1/config/identity-mappings/ci-repos")
        .json(&json!({"policies": ["role-admin", "not-yet"]}))
        .send()
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);

    let answer = explain(
        &app,
        &json!({"token": token(&app, &key, json!({})), "path": "/signing-keys/allowed",
                "operation": "delete"}),
    )
    .await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let policy = &answer.json["policy"];
    assert_eq!(
        policy["decision"],
        json!({"decision": "deny"}),
        "{}",
        answer.text
    );
    assert_eq!(
        policy["rules"],
        json!([
            {"kind": "rule", "policy": "role-admin", "rule": 0,
             "path": "/jwt-issuers/payments-api/roles/**", "operations": ["create", "read", "update"],
             "path_matched": false, "operation_allowed": false},
            {"kind": "rule", "policy": "role-admin", "rule": 1,
             "path": "/signing-keys/allowed", "operations": ["read"],
             "path_matched": true, "operation_allowed": false},
            {"kind": "rule", "policy": "role-admin", "rule": 2,
             "path": "/jwt-issuers/payments-api/roles", "operations": ["create", "read"],
             "path_matched": false, "operation_allowed": false},
            {"kind": "unknown_policy", "policy": "not-yet"},
        ])
    );
}

#[tokio::test]
async fn explain_judges_update_unless_told_and_refuses_an_unknown_operation() {
    let (app, key) = setup().await;
    let caller = token(&app, &key, json!({}));

    let default = explain(
        &app,
        &json!({"token": caller, "path": "/signing-keys/allowed"}),
    )
    .await;
    let read = explain(
        &app,
        &json!({"token": caller, "path": "/signing-keys/allowed", "operation": "read"}),
    )
    .await;
    let unknown = explain(
        &app,
        &json!({"token": caller, "path": "/signing-keys/allowed", "operation": "write"}),
    )
    .await;

    assert_eq!(
        default.json["policy"]["operation"], "update",
        "{}",
        default.text
    );
    assert_eq!(default.json["policy"]["decision"]["decision"], "deny");
    assert_eq!(
        read.json["policy"]["decision"]["decision"], "allow",
        "{}",
        read.text
    );
    unknown.assert_invalid(&["operation"]);
}

// ---- every node ----

#[tokio::test]
async fn a_policy_change_on_one_node_reaches_another_node_sharing_the_store() {
    let (first, key) = setup().await;
    let second = first.second_node().await;
    let token = token(&first, &key, json!({}));
    let path = "/v1/config/signing-keys/secret";
    assert_denied(
        &send(&second, &token, Method::GET, path, None).await,
        "/signing-keys/secret",
        "read",
    );

    let mut rules = role_admin_rules();
    rules
        .as_array_mut()
        .expect("rules")
        .push(json!({"path": "/signing-keys/secret", "operations": ["read"]}));
    put_policy(&first, "role-admin", rules).await;
    let counter = first.app.store.change_counter().await.expect("counter");
    assert!(counter > 0, "writes move the change counter");
    // What the reconciler does when it sees the counter move.
    second.app.reload().await.expect("reload");

    let answer = send(&second, &token, Method::GET, path, None).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
}

#[tokio::test]
async fn reloading_keeps_the_keys_a_node_already_fetched() {
    let (app, key) = setup().await;
    let token = token(&app, &key, json!({}));
    let path = "/v1/config/signing-keys/allowed";
    assert_eq!(
        send(&app, &token, Method::GET, path, None).await.status,
        StatusCode::OK
    );
    app.app.reload().await.expect("reload");
    assert_eq!(
        send(&app, &token, Method::GET, path, None).await.status,
        StatusCode::OK
    );
}
