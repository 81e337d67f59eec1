//! Identity mappings (DESIGN §3 "Identity mappings", issue 5 item 1): one test per rule,
//! each observed through `POST /v1/explain`, which answers the identity a token maps to and
//! every mapping tried; validation of saved mappings; the Venafi sample answered in Sigil's
//! own field names.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::external_idp::{
    IdpKey, claims_at, explain, merged, put_mapping, put_policy, trust_with,
};
use crate::support::{TestApp, TestResponse};

const ISS: &str = "https://ci.example.com";
const MAPPINGS: &str = "/v1/config/identity-mappings";
const SUB: &str = "repo:acme/payments:ref:refs/heads/main";

/// A server trusting `ci` ([`ISS`], one inline ES256 key, any audience).
async fn trusting_ci() -> (TestApp, IdpKey) {
    let app = TestApp::new().await;
    let key = IdpKey::es256("k1");
    trust_with(
        &app,
        "ci",
        json!({"issuer": ISS, "keys": [key.jwk()], "audiences_unchecked": true}),
    )
    .await;
    (app, key)
}

/// A token of `ci` with `sub` [`SUB`] and `changes` applied.
fn token(app: &TestApp, key: &IdpKey, changes: Value) -> String {
    let claims = merged(claims_at(ISS, app.now()), json!({"sub": SUB}));
    key.sign(&merged(claims, changes))
}

/// The explain answer for `token`; panics unless the token is valid.
async fn explained(app: &TestApp, token: &str) -> Value {
    let answer = explain(app, &json!({"token": token})).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    answer.json
}

async fn create(app: &TestApp, body: Value) -> TestResponse {
    app.send_json(Method::POST, MAPPINGS, &body).await
}

// ---- what a mapping makes of a token ----

#[tokio::test]
async fn the_first_capture_group_of_id_match_is_the_identity() {
    let (app, key) = trusting_ci().await;
    put_mapping(
        &app,
        "github-repos",
        json!({"trusted_issuer": "ci", "id_claim": "sub",
               "id_match": "repo:([^:]+/[^:]+):ref:refs/heads/main", "policies": ["deployers"]}),
    )
    .await;

    let answer = explained(&app, &token(&app, &key, json!({}))).await;

    assert_eq!(answer["identity"]["id"], "ci:acme/payments", "{answer}");
    assert_eq!(answer["identity"]["policies"], json!(["deployers"]));
    assert_eq!(answer["identity"]["trusted_issuer"], "ci");
    assert_eq!(
        answer["mappings"]["tried"],
        json!([{"mapping": "github-repos", "outcome": "applied", "identity": "acme/payments"}])
    );
}

#[tokio::test]
async fn id_match_must_match_the_whole_value() {
    let (app, key) = trusting_ci().await;
    put_mapping(
        &app,
        "partial",
        json!({"trusted_issuer": "ci", "id_match": "acme/(payments)", "policies": ["p"]}),
    )
    .await;

    let answer = explained(&app, &token(&app, &key, json!({}))).await;

    assert_eq!(answer["identity"]["policies"], json!([]), "{answer}");
    assert_eq!(answer["mappings"]["tried"][0]["outcome"], "id_mismatch");
    assert_eq!(
        answer["mappings"]["tried"][0]["found"],
        json!(SUB).to_string()
    );
}

#[tokio::test]
async fn with_a_grantee_the_regex_only_filters_and_the_grantee_is_the_identity() {
    let (app, key) = trusting_ci().await;
    put_mapping(
        &app,
        "bots",
        json!({"trusted_issuer": "ci", "id_match": "repo:acme/.*", "grantee": "deploy-bot",
               "policies": ["deployers"]}),
    )
    .await;

    let matching = explained(&app, &token(&app, &key, json!({}))).await;
    let other = explained(
        &app,
        &token(
            &app,
            &key,
            json!({"sub": "repo:evil/x:ref:refs/heads/main"}),
        ),
    )
    .await;

    assert_eq!(matching["identity"]["id"], "ci:deploy-bot", "{matching}");
    assert_eq!(matching["identity"]["policies"], json!(["deployers"]));
    assert_eq!(other["identity"]["policies"], json!([]), "{other}");
    assert_eq!(other["mappings"]["tried"][0]["outcome"], "id_mismatch");
}

#[tokio::test]
async fn a_grantee_that_is_already_prefixed_is_kept_as_is() {
    let (app, key) = trusting_ci().await;
    put_mapping(
        &app,
        "team",
        json!({"trusted_issuer": "ci", "id_match": ".*", "grantee": "team:payments"}),
    )
    .await;

    let answer = explained(&app, &token(&app, &key, json!({}))).await;

    assert_eq!(answer["identity"]["id"], "team:payments", "{answer}");
}

#[tokio::test]
async fn a_json_pointer_reads_a_nested_claim_and_the_first_matching_element() {
    let (app, key) = trusting_ci().await;
    put_mapping(
        &app,
        "keycloak-teams",
        json!({"trusted_issuer": "ci", "id_claim": "/realm_access/roles",
               "id_match": "team-(.+)", "policies": ["teams"]}),
    )
    .await;
    let nested = json!({"realm_access": {"roles": ["offline_access", "team-payments", "team-x"]}});

    let answer = explained(&app, &token(&app, &key, nested)).await;

    assert_eq!(answer["identity"]["id"], "ci:payments", "{answer}");
    assert_eq!(answer["identity"]["policies"], json!(["teams"]));
}

#[tokio::test]
async fn a_json_pointer_unescapes_slashes_in_namespaced_claim_names() {
    let (app, key) = trusting_ci().await;
    put_mapping(
        &app,
        "auth0-team",
        json!({"trusted_issuer": "ci", "id_claim": "/https:~1~1acme.example~1team",
               "id_match": "(.+)"}),
    )
    .await;

    let answer = explained(
        &app,
        &token(&app, &key, json!({"https://acme.example/team": "payments"})),
    )
    .await;

    assert_eq!(answer["identity"]["id"], "ci:payments", "{answer}");
}

#[tokio::test]
async fn purpose_matches_any_element_of_an_array_claim() {
    let (app, key) = trusting_ci().await;
    put_mapping(
        &app,
        "for-sigil",
        json!({"trusted_issuer": "ci", "purpose_claim": "aud", "purpose_match": "sigil",
               "id_match": "repo:([^:]+):.*", "policies": ["p"]}),
    )
    .await;

    for aud in [json!(["other", "sigil"]), json!("sigil"), json!(["sigil"])] {
        let answer = explained(&app, &token(&app, &key, json!({"aud": aud}))).await;
        assert_eq!(
            answer["identity"]["id"], "ci:acme/payments",
            "{aud}: {answer}"
        );
    }
    for aud in [json!(["other", "Sigil"]), json!("sigil-x"), json!([])] {
        let answer = explained(&app, &token(&app, &key, json!({"aud": aud}))).await;
        assert_eq!(answer["identity"]["policies"], json!([]), "{aud}: {answer}");
        assert_eq!(
            answer["mappings"]["tried"][0]["outcome"], "purpose_mismatch",
            "{aud}: {answer}"
        );
    }
    let without = explained(&app, &token(&app, &key, json!({}))).await;
    assert_eq!(
        without["mappings"]["tried"][0]["outcome"],
        "purpose_mismatch"
    );
    assert_eq!(without["mappings"]["tried"][0]["found"], "(absent)");
}

#[tokio::test]
async fn the_listed_claims_are_copied_into_the_identity_with_their_types() {
    let (app, key) = trusting_ci().await;
    put_mapping(
        &app,
        "typed",
        json!({"trusted_issuer": "ci", "id_match": "repo:([^:]+):.*",
               "claims": ["repository_id", "ref_protected", "groups", "context", "absent", "ratio"]}),
    )
    .await;
    let copied = json!({
        "repository_id": 123456,
        "ref_protected": true,
        "groups": ["ops", "payments"],
        "context": {"env": "prod", "run": 7},
        "ratio": 0.5,
    });

    let answer = explained(
        &app,
        &token(
            &app,
            &key,
            merged(copied.clone(), json!({"secret_ish": "not copied"})),
        ),
    )
    .await;

    assert_eq!(answer["identity"]["claims"], copied, "{answer}");
}

#[tokio::test]
async fn without_a_claims_list_every_claim_of_the_token_is_copied() {
    let (app, key) = trusting_ci().await;
    put_mapping(
        &app,
        "all",
        json!({"trusted_issuer": "ci", "id_match": "repo:([^:]+):.*"}),
    )
    .await;
    let token = token(
        &app,
        &key,
        json!({"run_attempt": 2, "ref_protected": false}),
    );

    let answer = explained(&app, &token).await;

    assert_eq!(
        answer["identity"]["claims"], answer["result"]["claims"],
        "{answer}"
    );
    assert_eq!(answer["identity"]["claims"]["run_attempt"], 2);
    assert_eq!(answer["identity"]["claims"]["ref_protected"], false);
}

#[tokio::test]
async fn the_first_applying_mapping_in_name_order_wins() {
    let (app, key) = trusting_ci().await;
    // Saved out of name order, so only the name can decide.
    put_mapping(
        &app,
        "z-last",
        json!({"trusted_issuer": "ci", "id_match": "repo:([^:]+):.*", "policies": ["z"]}),
    )
    .await;
    put_mapping(
        &app,
        "m-middle",
        json!({"trusted_issuer": "ci", "id_match": "repo:([^/]+)/.*", "policies": ["m"]}),
    )
    .await;
    put_mapping(
        &app,
        "a-first",
        json!({"trusted_issuer": "ci", "id_match": "user:(.+)", "policies": ["a"]}),
    )
    .await;

    let answer = explained(&app, &token(&app, &key, json!({}))).await;

    assert_eq!(answer["identity"]["id"], "ci:acme", "{answer}");
    assert_eq!(answer["identity"]["policies"], json!(["m"]));
    let tried = answer["mappings"]["tried"].as_array().expect("tried");
    assert_eq!(tried[0]["mapping"], "a-first", "{answer}");
    assert_eq!(tried[0]["outcome"], "id_mismatch");
    assert_eq!(tried[1]["mapping"], "m-middle");
    assert_eq!(tried[1]["outcome"], "applied");
}

#[tokio::test]
async fn mappings_of_another_trusted_issuer_do_not_apply() {
    let (app, key) = trusting_ci().await;
    trust_with(
        &app,
        "other",
        json!({"issuer": "https://other.example.com", "keys": [IdpKey::es256("o1").jwk()]}),
    )
    .await;
    put_mapping(
        &app,
        "other-all",
        json!({"trusted_issuer": "other", "id_match": "(.+)", "policies": ["p"]}),
    )
    .await;

    let answer = explained(&app, &token(&app, &key, json!({}))).await;

    assert_eq!(answer["identity"]["policies"], json!([]), "{answer}");
    assert_eq!(answer["mappings"]["tried"], json!([]));
}

#[tokio::test]
async fn a_missing_id_claim_does_not_map() {
    let (app, key) = trusting_ci().await;
    put_mapping(
        &app,
        "by-email",
        json!({"trusted_issuer": "ci", "id_claim": "email", "id_match": "(.+)", "policies": ["p"]}),
    )
    .await;

    let answer = explained(&app, &token(&app, &key, json!({}))).await;

    assert_eq!(answer["identity"]["policies"], json!([]), "{answer}");
    assert_eq!(
        answer["mappings"]["tried"][0],
        json!({"mapping": "by-email", "outcome": "id_mismatch", "found": "(absent)"})
    );
}

// ---- validation ----

#[tokio::test]
async fn a_mapping_without_grantee_whose_regex_has_no_group_is_refused_saying_so() {
    let (app, _) = trusting_ci().await;

    let refused = create(
        &app,
        json!({"name": "no-group", "trusted_issuer": "ci", "id_match": "repo:acme/.*"}),
    )
    .await;
    let non_capturing = create(
        &app,
        json!({"name": "no-group", "trusted_issuer": "ci", "id_match": "repo:(?:acme)/.*"}),
    )
    .await;
    let with_grantee = create(
        &app,
        json!({"name": "no-group", "trusted_issuer": "ci", "id_match": "repo:acme/.*",
               "grantee": "acme"}),
    )
    .await;

    for answer in [&refused, &non_capturing] {
        answer.assert_invalid(&["id_match"]);
        let reason = answer.field("id_match")["reason"]
            .as_str()
            .unwrap_or_default();
        assert!(reason.contains("capture group"), "{}", answer.text);
    }
    assert_eq!(
        with_grantee.status,
        StatusCode::CREATED,
        "{}",
        with_grantee.text
    );
}

#[tokio::test]
async fn an_invalid_over_long_or_oversized_regex_is_refused_naming_id_match() {
    let (app, _) = trusting_ci().await;

    for (case, pattern) in [
        ("unbalanced", "(repo".to_owned()),
        ("look-around", "(?=repo)(.+)".to_owned()),
        ("back-reference", r"(a)\1".to_owned()),
        ("over 1024 characters", format!("({})", "a".repeat(1024))),
        ("over the size limit", r"((?:\w{50}){50})".to_owned()),
    ] {
        let refused = create(
            &app,
            json!({"name": "bad", "trusted_issuer": "ci", "id_match": pattern}),
        )
        .await;
        assert_eq!(
            refused.status,
            StatusCode::BAD_REQUEST,
            "{case}: {}",
            refused.text
        );
        assert_eq!(
            refused.field_names(),
            ["id_match"],
            "{case}: {}",
            refused.text
        );
    }
    assert_eq!(app.get(&format!("{MAPPINGS}?count=true")).await.json, 0);
}

#[tokio::test]
async fn a_mapping_naming_an_unknown_trusted_issuer_is_refused() {
    let (app, _) = trusting_ci().await;

    let refused = create(&app, json!({"name": "m", "trusted_issuer": "nobody"})).await;

    refused.assert_invalid(&["trusted_issuer"]);
}

#[tokio::test]
async fn an_issuer_uri_no_trusted_issuer_has_is_refused() {
    let (app, _) = trusting_ci().await;

    let refused = create(
        &app,
        json!({"Name": "m", "IssuerUri": "https://unknown.example.com/", "IdField": "sub",
               "IdMatch": "(.+)"}),
    )
    .await;

    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.text);
    assert_eq!(refused.error_code(), "invalid_request");
    let reason = refused.field("issuer_uri")["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(
        reason.contains("https://unknown.example.com/"),
        "{}",
        refused.text
    );
}

#[tokio::test]
async fn every_bad_field_is_listed_at_once() {
    let (app, _) = trusting_ci().await;

    let refused = create(
        &app,
        json!({"name": "!!!", "trusted_issuer": "nobody", "id_match": "(",
               "purpose_claim": "aud", "policies": ["ok", "not ok"]}),
    )
    .await;

    refused.assert_invalid(&[
        "name",
        "trusted_issuer",
        "id_match",
        "purpose_match",
        "policies/1",
    ]);
}

// ---- the Venafi sample ----

const VENAFI_ISS: &str = "https://dev-g55ca78eoi1f0w71.us.auth0.com/";

#[tokio::test]
async fn the_venafi_sample_is_accepted_and_answered_in_sigils_field_names() {
    let app = TestApp::new().await;
    let key = IdpKey::es256("auth0-1");
    trust_with(
        &app,
        "auth0",
        json!({"issuer": VENAFI_ISS, "keys": [key.jwk()], "audiences_unchecked": true}),
    )
    .await;
    let sample = json!({
        "IdField": "sub",
        "IdMatch": "(.*@example.com)",
        "IssuerUri": VENAFI_ISS,
        "Name": "Example JWT mapping 2",
        "PurposeField": "aud",
        "PurposeMatch": "https://example.venafi.com/vedauth"
    });

    let created = create(&app, sample).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let expected = json!({
        "name": "example-jwt-mapping-2",
        "display_name": "Example JWT mapping 2",
        "trusted_issuer": "auth0",
        "purpose_claim": "aud",
        "purpose_match": "https://example.venafi.com/vedauth",
        "id_claim": "sub",
        "id_match": "(.*@example.com)",
        "policies": [],
    });
    assert_eq!(created.json, expected, "{}", created.text);
    assert!(
        created
            .header("location")
            .is_some_and(|l| l.ends_with("/v1/config/identity-mappings/example-jwt-mapping-2")),
        "{:?}",
        created.headers
    );
    let read = app
        .get("/v1/config/identity-mappings/example-jwt-mapping-2")
        .await;
    assert_eq!(read.status, StatusCode::OK, "{}", read.text);
    assert_eq!(read.json, expected);
    let state = app
        .get("/v1/state/identity-mappings/example-jwt-mapping-2")
        .await;
    assert_eq!(state.json["trusted_issuer"], "auth0", "{}", state.text);
    assert!(state.json.get("IssuerUri").is_none() && state.json.get("issuer_uri").is_none());

    let claims = json!({
        "iss": VENAFI_ISS, "sub": "alice@example.com",
        "aud": ["https://example.venafi.com/vedauth", "https://dev-g55ca78eoi1f0w71.us.auth0.com/userinfo"],
        "iat": app.now(), "exp": app.now() + 300,
    });
    let answer = explained(&app, &key.sign(&claims)).await;
    assert_eq!(
        answer["identity"]["id"], "auth0:alice@example.com",
        "{answer}"
    );
    assert_eq!(
        answer["mappings"]["tried"][0]["mapping"],
        "example-jwt-mapping-2"
    );
}

#[tokio::test]
async fn a_venafi_issuer_uri_naming_another_issuer_than_trusted_issuer_is_refused() {
    let (app, _) = trusting_ci().await;
    trust_with(
        &app,
        "auth0",
        json!({"issuer": VENAFI_ISS, "keys": [IdpKey::es256("a").jwk()]}),
    )
    .await;

    let refused = create(
        &app,
        json!({"name": "m", "trusted_issuer": "ci", "IssuerUri": VENAFI_ISS, "IdMatch": "(.+)"}),
    )
    .await;

    refused.assert_invalid(&["issuer_uri"]);
}

// ---- listing ----

#[tokio::test]
async fn a_mappings_state_lists_the_policies_that_do_not_exist_yet() {
    let (app, _) = trusting_ci().await;
    put_policy(&app, "known", json!([])).await;
    put_mapping(
        &app,
        "m",
        json!({"trusted_issuer": "ci", "policies": ["known", "later", "root"]}),
    )
    .await;

    let state = app.get("/v1/state/identity-mappings/m").await;

    assert_eq!(state.status, StatusCode::OK, "{}", state.text);
    assert_eq!(state.json["unknown_policies"], json!(["later"]));
    assert_eq!(state.json["id_claim"], "sub", "the default identity claim");
    assert_eq!(state.json["id_match"], "(.+)", "the default pattern");
}
