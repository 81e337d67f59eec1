//! Trusted issuers through HTTP (DESIGN §1, §2.1, §5; issue 4 items 1-3 and 6): the seed body,
//! the internal and static issuers, read-only fields, validation, merged key sources, and
//! fetching from real loopback IdPs: rotation, outages, slow, garbage, huge and redirecting
//! sources, the unknown-kid cooldown, Cache-Control, address screening and 10,000 issuers.

use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sigil::clock::rfc3339;
use sigil_jose::{Algorithm, KeyType};
use tokio::task::JoinSet;

use crate::external_idp::{
    Idp, IdpKey, Mode, assert_refused, assert_verifies, claims_at, known_kids, put_trusted,
    refresh, trust_jwks, trust_with, trusted_state, trusting_app, verify,
};
use crate::support::{TestApp, TestResponse};

const TRUSTED: &str = "/v1/config/trusted-issuers";

/// The issue's seed body, verbatim; its JWKS URL is swapped for a reachable one.
const SEED_BODY: &str = r#"{"iss": "https://idp.example.com", "project": {"id": "p1"}, "JWKsURL": "https://idp.example.com/jwks", "aud": ["api"], "roles": ["reader"], "prm": 3, "keys": []}"#;

fn reason<'a>(refused: &'a TestResponse, field: &str) -> &'a str {
    refused.field(field)["reason"].as_str().unwrap_or_default()
}

/// A token of `idp`'s issuer signed by `key`, valid now.
fn token_of(app: &TestApp, idp: &Idp, key: &IdpKey) -> String {
    key.sign(&claims_at(idp.issuer(), app.now()))
}

/// An inline TOML table of a JWK whose members are all strings.
fn toml_inline(jwk: &Value) -> String {
    let members: Vec<String> = jwk
        .as_object()
        .expect("a JWK object")
        .iter()
        .map(|(name, value)| format!("{name} = {}", value))
        .collect();
    format!("{{ {} }}", members.join(", "))
}

// ---- item 1: configuration ----

#[tokio::test]
async fn the_seed_body_is_accepted_and_its_aud_roles_and_prm_take_effect() {
    let key = IdpKey::es256("seed-key");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;
    let body = SEED_BODY.replace("https://idp.example.com/jwks", &idp.jwks_url());

    let created = app
        .root(Method::PUT, &format!("{TRUSTED}/seed"))
        .body("application/json", body.into_bytes())
        .send()
        .await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let config = app.get(&format!("{TRUSTED}/seed")).await;
    assert_eq!(config.status, StatusCode::OK, "{}", config.text);
    assert_eq!(config.json["name"], "seed");
    assert_eq!(config.json["issuer"], "https://idp.example.com");
    assert_eq!(config.json["project"], json!({"id": "p1"}));
    assert_eq!(config.json["jwks_url"], idp.jwks_url());
    assert_eq!(config.json["audiences"], json!(["api"]));
    assert_eq!(config.json["roles"], json!(["reader"]));
    assert_eq!(config.json["permissions"], 3);
    assert_eq!(config.json["internal"], false);
    assert_eq!(config.json["static"], false);

    let mut claims = claims_at("https://idp.example.com", app.now());
    claims["aud"] = json!("api");
    claims["roles"] = json!(["reader", "admin"]);
    claims["prm"] = json!(7);
    let verified = assert_verifies(&app, &key.sign(&claims), "seed").await;
    assert_eq!(verified["project"], "p1");
    assert_eq!(verified["roles"], json!(["reader"]));
    assert_eq!(verified["permissions"], 3);
    assert_eq!(verified["claims"]["prm"], 7, "claims are shown as signed");

    claims["prm"] = json!(0b1101);
    let verified = assert_verifies(&app, &key.sign(&claims), "seed").await;
    assert_eq!(verified["permissions"], 0b1101 & 3);

    claims.as_object_mut().expect("claims").remove("prm");
    let verified = assert_verifies(&app, &key.sign(&claims), "seed").await;
    assert_eq!(
        verified["permissions"], 3,
        "absent prm gets the issuer's mask"
    );

    claims["aud"] = json!("not-api");
    assert_refused(&app, &key.sign(&claims), "audience_mismatch").await;
}

#[tokio::test]
async fn the_internal_issuer_is_listed_and_refuses_changes() {
    let app = TestApp::new().await;

    let list = app.get(TRUSTED).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.text);
    let sigil = list
        .json
        .as_array()
        .expect("a list")
        .iter()
        .find(|i| i["name"] == "sigil")
        .unwrap_or_else(|| panic!("sigil is listed: {}", list.text))
        .clone();
    assert_eq!(sigil["internal"], true);
    assert_eq!(sigil["static"], false);
    let state = trusted_state(&app, "sigil").await;
    assert_eq!(state["internal"], true);

    let body = json!({"issuer": "https://evil.example.com", "keys": [IdpKey::es256("k").jwk()]});
    put_trusted(&app, "sigil", &body)
        .await
        .assert_error(StatusCode::CONFLICT, "internal_resource");
    app.root(Method::PATCH, &format!("{TRUSTED}/sigil"))
        .json(&json!({"audiences": ["x"]}))
        .send()
        .await
        .assert_error(StatusCode::CONFLICT, "internal_resource");
    app.root(Method::DELETE, &format!("{TRUSTED}/sigil"))
        .send()
        .await
        .assert_error(StatusCode::CONFLICT, "internal_resource");
    let root_still_works = app.get(TRUSTED).await;
    assert_eq!(root_still_works.status, StatusCode::OK);
}

#[tokio::test]
async fn trusted_issuers_from_the_config_file_are_static_and_refuse_changes() {
    let key = IdpKey::es256("static-key");
    let toml = format!(
        "[[trusted_issuers]]\nname = \"ci-static\"\nissuer = \"https://static.example.com\"\n\
         audiences = [\"api\"]\nkeys = [{}]\n",
        toml_inline(&key.jwk())
    );
    let app = TestApp::builder().config_file(&toml).build().await;

    let config = app.get(&format!("{TRUSTED}/ci-static")).await;
    assert_eq!(config.status, StatusCode::OK, "{}", config.text);
    assert_eq!(config.json["static"], true);
    assert_eq!(config.json["internal"], false);
    assert_eq!(config.json["issuer"], "https://static.example.com");
    let mut claims = claims_at("https://static.example.com", app.now());
    claims["aud"] = json!("api");
    assert_verifies(&app, &key.sign(&claims), "ci-static").await;

    let body = json!({"issuer": "https://static.example.com", "keys": [key.jwk()]});
    put_trusted(&app, "ci-static", &body)
        .await
        .assert_error(StatusCode::CONFLICT, "static_resource");
    app.root(Method::PATCH, &format!("{TRUSTED}/ci-static"))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .assert_error(StatusCode::CONFLICT, "static_resource");
    app.root(Method::DELETE, &format!("{TRUSTED}/ci-static"))
        .send()
        .await
        .assert_error(StatusCode::CONFLICT, "static_resource");
    assert_verifies(&app, &key.sign(&claims), "ci-static").await;
}

#[tokio::test]
async fn read_only_internal_and_static_in_a_body_are_ignored_with_a_note() {
    let app = TestApp::new().await;
    let key = IdpKey::es256("k");
    let body = json!({
        "issuer": "https://idp.example.com", "keys": [key.jwk()],
        "internal": true, "static": true
    });

    let created = put_trusted(&app, "sneaky", &body).await;

    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
    let notes: Vec<&str> = created
        .headers
        .get_all("sigil-note")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("internal")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("static")), "{notes:?}");
    let config = app.get(&format!("{TRUSTED}/sneaky")).await;
    assert_eq!(config.json["internal"], false, "{}", config.text);
    assert_eq!(config.json["static"], false, "{}", config.text);
    let deleted = app
        .root(Method::DELETE, &format!("{TRUSTED}/sneaky"))
        .send()
        .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
}

#[tokio::test]
async fn every_bad_field_is_listed() {
    let app = TestApp::new().await;
    let long = format!("https://idp.example.com/{}", "a".repeat(200));

    let refused = put_trusted(
        &app,
        "bad",
        &json!({
            "issuer": "",
            "jwks_url": long,
            "discovery_url": "",
            "audiences": [""],
            "algorithms": ["HS256"],
            "leeway": "6m",
            "header": "not a header",
        }),
    )
    .await;

    refused.assert_invalid(&[
        "issuer",
        "jwks_url",
        "discovery_url",
        "audiences/0",
        "algorithms/0",
        "algorithms",
        "leeway",
        "header",
    ]);
    assert!(
        reason(&refused, "jwks_url").contains("200"),
        "{}",
        refused.text
    );
    let at_limit = put_trusted(
        &app,
        "ok",
        &json!({"issuer": "i".repeat(200), "keys": [IdpKey::es256("k").jwk()], "leeway": "5m"}),
    )
    .await;
    assert_eq!(at_limit.status, StatusCode::CREATED, "{}", at_limit.text);
    let too_long_name = put_trusted(
        &app,
        &"n".repeat(201),
        &json!({"issuer": "https://x.example.com", "keys": [IdpKey::es256("k").jwk()]}),
    )
    .await;
    too_long_name.assert_invalid(&["name"]);
}

#[tokio::test]
async fn at_least_one_key_source_is_required() {
    let app = TestApp::new().await;

    let refused = put_trusted(
        &app,
        "nothing",
        &json!({"issuer": "https://idp.example.com", "keys": []}),
    )
    .await;

    refused.assert_invalid(&["keys"]);
}

#[tokio::test]
async fn two_inline_keys_with_one_kid_and_different_material_are_refused() {
    let app = TestApp::new().await;
    let first = IdpKey::es256("same");
    let second = IdpKey::es256("same");

    let refused = put_trusted(
        &app,
        "conflict",
        &json!({"issuer": "https://idp.example.com", "keys": [first.jwk(), second.jwk()]}),
    )
    .await;

    refused.assert_invalid(&["keys/1"]);
    assert!(
        reason(&refused, "keys/1").contains("same"),
        "{}",
        refused.text
    );
    let duplicate = put_trusted(
        &app,
        "duplicate",
        &json!({"issuer": "https://idp.example.com", "keys": [first.jwk(), first.jwk()]}),
    )
    .await;
    assert_eq!(duplicate.status, StatusCode::CREATED, "{}", duplicate.text);
}

#[tokio::test]
async fn an_iss_can_be_trusted_only_once_and_never_the_internal_one() {
    let app = TestApp::new().await;
    let key = IdpKey::es256("k");
    trust_with(
        &app,
        "first",
        json!({"issuer": "https://idp.example.com", "keys": [key.jwk()]}),
    )
    .await;

    let again = put_trusted(
        &app,
        "second",
        &json!({"issuer": "https://idp.example.com", "keys": [key.jwk()]}),
    )
    .await;
    assert_eq!(again.status, StatusCode::CONFLICT, "{}", again.text);
    assert_eq!(again.json["error_code"], "already_exists");
    assert!(again.text.contains("`first`"), "{}", again.text);
    let internal = put_trusted(
        &app,
        "fake-sigil",
        &json!({"issuer": "urn:sigil:internal", "keys": [key.jwk()]}),
    )
    .await;
    assert_eq!(internal.status, StatusCode::CONFLICT, "{}", internal.text);
    assert!(internal.text.contains("`sigil`"), "{}", internal.text);
}

#[tokio::test]
async fn a_discovery_document_naming_another_issuer_is_refused_naming_discovery_url() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    idp.set_discovery_issuer("https://evil.example.com");
    let app = trusting_app().await;

    let refused = put_trusted(
        &app,
        "mismatch",
        &json!({"issuer": idp.issuer(), "discovery_url": idp.base}),
    )
    .await;

    refused.assert_invalid(&["discovery_url"]);
    assert!(
        reason(&refused, "discovery_url").contains("evil.example.com"),
        "{}",
        refused.text
    );
    idp.set_discovery_issuer(&format!("{}/", idp.base));
    let trailing_slash = put_trusted(
        &app,
        "mismatch",
        &json!({"issuer": idp.issuer(), "discovery_url": idp.base}),
    )
    .await;
    trailing_slash.assert_invalid(&["discovery_url"]);
    assert_eq!(
        idp.jwks_hits(),
        0,
        "keys of a mismatched issuer are not fetched"
    );
    let missing = app.get(&format!("{TRUSTED}/mismatch")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn discovery_url_may_be_the_issuer_or_the_full_well_known_url() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;
    let well_known = format!("{}/.well-known/openid-configuration", idp.base);

    for (name, url) in [("by-issuer", idp.base.clone()), ("by-url", well_known)] {
        let checked = app
            .root(Method::PUT, &format!("{TRUSTED}/{name}?validate=true"))
            .json(&json!({"issuer": idp.issuer(), "discovery_url": url}))
            .send()
            .await;
        assert_eq!(
            checked.status,
            StatusCode::CREATED,
            "{name}: {}",
            checked.text
        );
        assert_eq!(checked.json["key_count"], 1, "{name}: {}", checked.text);
        assert_eq!(
            checked.json["sources"][0]["url"],
            idp.jwks_url(),
            "{name}: the state shows the jwks_uri it found: {}",
            checked.text
        );
    }
    assert_eq!(idp.discovery_hits(), 2);
    trust_with(
        &app,
        "idp",
        json!({"issuer": idp.issuer(), "discovery_url": idp.base}),
    )
    .await;
    assert_verifies(&app, &token_of(&app, &idp, &key), "idp").await;
}

#[tokio::test]
async fn validate_true_fetches_the_keys_reports_what_it_found_and_changes_nothing() {
    let first = IdpKey::es256("k1");
    let second = IdpKey::es256("k2");
    let idp = Idp::start(&[&first, &second]).await;
    let app = trusting_app().await;
    let body = json!({"issuer": idp.issuer(), "jwks_url": idp.jwks_url()});

    let checked = app
        .root(Method::PUT, &format!("{TRUSTED}/idp?validate=true"))
        .json(&body)
        .send()
        .await;

    assert_eq!(checked.status, StatusCode::CREATED, "{}", checked.text);
    assert_eq!(checked.json["key_count"], 2, "{}", checked.text);
    assert_eq!(checked.json["known_keys"].as_array().map(Vec::len), Some(2));
    assert_eq!(idp.jwks_hits(), 1, "validate fetched the JWKS");
    let absent = app.get(&format!("{TRUSTED}/idp")).await;
    assert_eq!(absent.status, StatusCode::NOT_FOUND, "{}", absent.text);
    assert_refused(&app, &token_of(&app, &idp, &first), "unknown_issuer").await;
    idp.set_mode(Mode::Status(404));
    let unreachable = app
        .root(Method::POST, &format!("{TRUSTED}?validate=true"))
        .json(&json!({"name": "idp", "issuer": idp.issuer(), "jwks_url": idp.jwks_url()}))
        .send()
        .await;
    unreachable.assert_invalid(&["jwks_url"]);
}

#[tokio::test]
async fn a_source_that_cannot_be_used_is_refused_naming_its_field() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    idp.set_mode(Mode::Status(500));
    let app = trusting_app().await;

    let refused = put_trusted(
        &app,
        "down",
        &json!({"issuer": idp.issuer(), "jwks_url": idp.jwks_url()}),
    )
    .await;

    refused.assert_invalid(&["jwks_url"]);
    assert!(
        reason(&refused, "jwks_url").contains("500"),
        "{}",
        refused.text
    );
    assert_eq!(refused.field("jwks_url")["error_code"], "unreachable");
}

#[tokio::test]
async fn deleting_a_trusted_issuer_stops_its_tokens() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;
    let token = token_of(&app, &idp, &key);
    assert_verifies(&app, &token, "idp").await;

    let deleted = app
        .root(Method::DELETE, &format!("{TRUSTED}/idp"))
        .send()
        .await;

    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{}", deleted.text);
    assert_refused(&app, &token, "unknown_issuer").await;
}

#[tokio::test]
async fn stored_trusted_issuers_survive_a_restart_and_fetch_their_keys_again() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;

    let app = app.restart().await;
    app.unseal_with(1).await;

    let config = app.get(&format!("{TRUSTED}/idp")).await;
    assert_eq!(config.status, StatusCode::OK, "{}", config.text);
    assert_verifies(&app, &token_of(&app, &idp, &key), "idp").await;
    assert_eq!(
        idp.jwks_hits(),
        2,
        "the save and one fetch after the restart"
    );
}

// ---- item 2: key sources, merged ----

#[tokio::test]
async fn key_sources_are_merged_and_state_names_where_each_key_came_from() {
    let discovered = IdpKey::es256("from-discovery");
    let fetched = IdpKey::es256("from-jwks-url");
    let inline = IdpKey::es256("inline");
    let main = Idp::start(&[&discovered]).await;
    let other = Idp::start(&[&fetched]).await;
    let app = trusting_app().await;

    trust_with(
        &app,
        "merged",
        json!({
            "issuer": main.issuer(), "discovery_url": main.base,
            "jwks_url": other.jwks_url(), "keys": [inline.jwk()]
        }),
    )
    .await;

    let state = trusted_state(&app, "merged").await;
    let mut keys: Vec<(String, String, Value)> = state["known_keys"]
        .as_array()
        .expect("known_keys")
        .iter()
        .map(|k| {
            (
                k["kid"].as_str().unwrap_or_default().to_owned(),
                k["source"].as_str().unwrap_or_default().to_owned(),
                k["algorithms"].clone(),
            )
        })
        .collect();
    keys.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        keys,
        [
            (
                "from-discovery".into(),
                "discovery".into(),
                json!(["ES256"])
            ),
            ("from-jwks-url".into(), "jwks_url".into(), json!(["ES256"])),
            ("inline".into(), "inline".into(), json!(["ES256"])),
        ],
        "{state}"
    );
    let sources = state["sources"].as_array().expect("sources");
    assert_eq!(sources.len(), 2, "{state}");
    for key in [&discovered, &fetched, &inline] {
        assert_verifies(&app, &token_of(&app, &main, key), "merged").await;
    }
}

#[tokio::test]
async fn a_fetched_kid_conflict_leaves_the_key_out_and_state_says_why() {
    let discovered = IdpKey::es256("dup");
    let fetched = IdpKey::es256("dup");
    let fine = IdpKey::es256("fine");
    let main = Idp::start(&[&discovered, &fine]).await;
    let other = Idp::start(&[&fetched]).await;
    let app = trusting_app().await;

    trust_with(
        &app,
        "conflicted",
        json!({"issuer": main.issuer(), "discovery_url": main.base, "jwks_url": other.jwks_url()}),
    )
    .await;

    let state = trusted_state(&app, "conflicted").await;
    assert_eq!(known_kids(&app, "conflicted").await, ["fine"], "{state}");
    let left_out = state["left_out_keys"].as_array().expect("left_out_keys");
    assert!(!left_out.is_empty(), "{state}");
    for entry in left_out {
        assert_eq!(entry["kid"], "dup", "{state}");
        assert!(
            entry["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("conflict"),
            "{state}"
        );
    }
    assert_refused(&app, &token_of(&app, &main, &discovered), "unknown_key").await;
    assert_refused(&app, &token_of(&app, &main, &fetched), "unknown_key").await;
    assert_verifies(&app, &token_of(&app, &main, &fine), "conflicted").await;
}

#[tokio::test]
async fn an_inline_key_wins_a_kid_conflict_with_a_fetched_one() {
    let inline = IdpKey::es256("pinned");
    let fetched = IdpKey::es256("pinned");
    let idp = Idp::start(&[&fetched]).await;
    let app = trusting_app().await;

    trust_with(
        &app,
        "pinned",
        json!({"issuer": idp.issuer(), "jwks_url": idp.jwks_url(), "keys": [inline.jwk()]}),
    )
    .await;

    let state = trusted_state(&app, "pinned").await;
    assert_eq!(state["known_keys"][0]["source"], "inline", "{state}");
    assert_eq!(state["left_out_keys"][0]["source"], "jwks_url", "{state}");
    assert_verifies(&app, &token_of(&app, &idp, &inline), "pinned").await;
    assert_refused(&app, &token_of(&app, &idp, &fetched), "signature_invalid").await;
}

#[tokio::test]
async fn individually_bad_keys_are_dropped_and_reported() {
    let good = IdpKey::es256("good");
    let idp = Idp::start(&[]).await;
    let mut encryption = IdpKey::es256("for-encryption").jwk();
    encryption["use"] = json!("enc");
    idp.publish_document(json!({"keys": [
        good.jwk(),
        {"kty": "RSA", "kid": "weak-rsa", "n": "AQAB", "e": "AQAB"},
        {"kty": "EC", "kid": "off-curve", "crv": "P-256", "x": "AAAA", "y": "AAAA"},
        {"kty": "XYZ", "kid": "unknown-type"},
        encryption,
    ]}));
    let app = trusting_app().await;

    trust_jwks(&app, "idp", &idp).await;

    let state = trusted_state(&app, "idp").await;
    assert_eq!(known_kids(&app, "idp").await, ["good"], "{state}");
    let mut dropped: Vec<&str> = state["left_out_keys"]
        .as_array()
        .expect("left_out_keys")
        .iter()
        .map(|k| {
            assert!(k["reason"].as_str().is_some_and(|r| !r.is_empty()), "{k}");
            k["kid"].as_str().unwrap_or_default()
        })
        .collect();
    dropped.sort_unstable();
    assert_eq!(
        dropped,
        ["for-encryption", "off-curve", "unknown-type", "weak-rsa"],
        "{state}"
    );
    assert_verifies(&app, &token_of(&app, &idp, &good), "idp").await;
}

#[tokio::test]
async fn two_issuers_sharing_a_kid_each_verify_only_their_own_tokens() {
    let key_a = IdpKey::es256("shared");
    let key_b = IdpKey::es256("shared");
    let idp_a = Idp::start(&[&key_a]).await;
    let idp_b = Idp::start(&[&key_b]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "a", &idp_a).await;
    trust_jwks(&app, "b", &idp_b).await;

    assert_verifies(&app, &token_of(&app, &idp_a, &key_a), "a").await;
    assert_verifies(&app, &token_of(&app, &idp_b, &key_b), "b").await;
    assert_refused(&app, &token_of(&app, &idp_a, &key_b), "signature_invalid").await;
    assert_refused(&app, &token_of(&app, &idp_b, &key_a), "signature_invalid").await;
    assert_eq!(known_kids(&app, "a").await, ["shared"]);
    assert_eq!(known_kids(&app, "b").await, ["shared"]);
}

// ---- item 3: fetching ----

#[tokio::test]
async fn upstream_rotation_new_kid_accepted_after_one_refetch_removed_kid_refused_after_refresh() {
    let old = IdpKey::es256("old");
    let new = IdpKey::es256("new");
    let idp = Idp::start(&[&old]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;
    assert_verifies(&app, &token_of(&app, &idp, &old), "idp").await;
    assert_eq!(idp.jwks_hits(), 1);

    idp.publish(&[&old, &new]);
    assert_verifies(&app, &token_of(&app, &idp, &new), "idp").await;
    assert_eq!(idp.jwks_hits(), 2, "exactly one refetch for the new kid");
    assert_verifies(&app, &token_of(&app, &idp, &new), "idp").await;
    assert_eq!(idp.jwks_hits(), 2, "a known kid needs no fetch");

    idp.publish(&[&new]);
    app.clock.advance(300);
    let refreshed = refresh(&app, "idp").await;

    assert_eq!(refreshed["key_count"], 1, "{refreshed}");
    assert_eq!(refreshed["failures"], json!([]));
    assert_eq!(known_kids(&app, "idp").await, ["new"]);
    assert_refused(&app, &token_of(&app, &idp, &old), "unknown_key").await;
    assert_verifies(&app, &token_of(&app, &idp, &new), "idp").await;
}

#[tokio::test]
async fn upstream_rotation_to_another_key_type_is_accepted_after_one_refetch() {
    let old = IdpKey::es256("old");
    let new = IdpKey::generate(KeyType::Rsa2048, Algorithm::Rs256, "new");
    let idp = Idp::start(&[&old]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;

    idp.publish(&[&old, &new]);

    assert_verifies(&app, &token_of(&app, &idp, &new), "idp").await;
    assert_eq!(idp.jwks_hits(), 2, "one refetch for the new kid");
}

#[tokio::test]
async fn source_down_stale_keys_are_used_state_shows_the_error_and_it_recovers() {
    let old = IdpKey::es256("old");
    let new = IdpKey::es256("new");
    let idp = Idp::start(&[&old]).await;
    let app = trusting_app().await;
    let saved_at = app.now();
    trust_jwks(&app, "idp", &idp).await;

    idp.set_mode(Mode::Status(503));
    app.clock.advance(3600);
    let failed = refresh(&app, "idp").await;

    assert_eq!(failed["key_count"], 1, "{failed}");
    assert_eq!(failed["failures"][0]["field"], "jwks_url", "{failed}");
    let state = trusted_state(&app, "idp").await;
    let source = &state["sources"][0];
    assert!(
        source["last_error"]
            .as_str()
            .unwrap_or_default()
            .contains("503"),
        "{state}"
    );
    assert_eq!(source["last_success_at"], rfc3339(saved_at), "{state}");
    assert_eq!(source["last_fetch_at"], rfc3339(app.now()), "{state}");
    assert!(source["next_refresh_at"].is_string(), "{state}");
    assert_eq!(known_kids(&app, "idp").await, ["old"]);
    assert_verifies(&app, &token_of(&app, &idp, &old), "idp").await;

    idp.publish(&[&new]);
    idp.set_mode(Mode::Normal);
    app.clock.advance(60);
    let recovered = refresh(&app, "idp").await;

    assert_eq!(recovered["failures"], json!([]), "{recovered}");
    let state = trusted_state(&app, "idp").await;
    assert!(state["sources"][0]["last_error"].is_null(), "{state}");
    assert_eq!(state["sources"][0]["last_success_at"], rfc3339(app.now()));
    assert_verifies(&app, &token_of(&app, &idp, &new), "idp").await;
}

#[tokio::test]
async fn stale_keys_are_used_for_24_hours_after_the_last_success_and_no_longer() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;
    idp.set_mode(Mode::Status(503));

    app.clock.advance(24 * 3600);
    assert_eq!(refresh(&app, "idp").await["key_count"], 1);
    assert_verifies(&app, &token_of(&app, &idp, &key), "idp").await;

    app.clock.advance(1);
    let expired = refresh(&app, "idp").await;

    assert_eq!(expired["key_count"], 0, "{expired}");
    assert_eq!(known_kids(&app, "idp").await, Vec::<String>::new());
    let refused = verify(&app, &token_of(&app, &idp, &key)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.text);
}

#[tokio::test]
async fn a_slow_source_times_out_and_the_cached_keys_stay_in_use() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;
    idp.set_mode(Mode::Slow(Duration::from_secs(60)));
    app.clock.advance(300);

    let started = Instant::now();
    let timed_out = refresh(&app, "idp").await;
    let waited = started.elapsed();

    assert!(
        waited >= Duration::from_secs(4) && waited < Duration::from_secs(20),
        "the 5 s limit applies: waited {waited:?}"
    );
    assert_eq!(timed_out["key_count"], 1, "{timed_out}");
    let reason = timed_out["failures"][0]["reason"]
        .as_str()
        .unwrap_or_default();
    assert!(reason.contains("time limit"), "{timed_out}");
    assert_verifies(&app, &token_of(&app, &idp, &key), "idp").await;
}

#[tokio::test]
async fn a_garbage_jwks_is_a_failed_fetch_and_the_previous_keys_stay() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;
    let mut leaking = key.jwk();
    leaking["d"] = json!("AAAA");
    let cases: [(&str, Vec<u8>, &str); 5] = [
        ("not JSON", b"<html>hello</html>".to_vec(), "not JSON"),
        ("not an object", b"[1, 2]".to_vec(), "not a JSON object"),
        ("no keys array", br#"{"kys": []}"#.to_vec(), "keys"),
        (
            "private members",
            json!({"keys": [leaking]}).to_string().into_bytes(),
            "private",
        ),
        (
            "duplicate keys member",
            format!(r#"{{"keys": [], "keys": [{}]}}"#, key.jwk()).into_bytes(),
            "twice",
        ),
    ];

    for (case, body, expected) in cases {
        idp.set_mode(Mode::Body(body));
        app.clock.advance(60);
        let failed = refresh(&app, "idp").await;

        assert_eq!(failed["key_count"], 1, "{case}: {failed}");
        assert_eq!(
            failed["failures"][0]["field"], "jwks_url",
            "{case}: {failed}"
        );
        let error = failed["state"]["sources"][0]["last_error"]
            .as_str()
            .unwrap_or_default();
        assert!(error.contains(expected), "{case}: {failed}");
        assert_verifies(&app, &token_of(&app, &idp, &key), "idp").await;
        let refused = put_trusted(
            &app,
            "fresh",
            &json!({"issuer": "https://fresh.example.com", "jwks_url": idp.jwks_url()}),
        )
        .await;
        refused.assert_invalid(&["jwks_url"]);
    }
}

#[tokio::test]
async fn a_huge_jwks_is_refused_with_or_without_content_length() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;
    let huge = format!(
        r#"{{"keys": [{}], "padding": "{}"}}"#,
        key.jwk(),
        "x".repeat(1024 * 1024)
    )
    .into_bytes();

    for mode in [Mode::Body(huge.clone()), Mode::Chunked(huge)] {
        idp.set_mode(mode.clone());
        app.clock.advance(60);
        let failed = refresh(&app, "idp").await;

        assert_eq!(failed["key_count"], 1, "{mode:?}: {failed}");
        let reason = failed["failures"][0]["reason"].as_str().unwrap_or_default();
        assert!(reason.contains("1048576"), "{failed}");
        assert_verifies(&app, &token_of(&app, &idp, &key), "idp").await;
    }
}

#[tokio::test]
async fn up_to_three_redirects_are_followed_and_a_fourth_is_refused() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;

    trust_with(
        &app,
        "three",
        json!({"issuer": idp.issuer(), "jwks_url": idp.redirecting_url(3)}),
    )
    .await;
    let four = put_trusted(
        &app,
        "four",
        &json!({"issuer": "https://four.example.com", "jwks_url": idp.redirecting_url(4)}),
    )
    .await;

    assert_eq!(known_kids(&app, "three").await, ["k1"]);
    assert_verifies(&app, &token_of(&app, &idp, &key), "three").await;
    four.assert_invalid(&["jwks_url"]);
    assert!(
        reason(&four, "jwks_url").contains("redirect"),
        "{}",
        four.text
    );
    assert_eq!(idp.jwks_hits(), 1, "the fourth redirect is never followed");
}

#[tokio::test]
async fn a_redirect_must_pass_the_same_checks_as_the_configured_url() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;

    let refused = put_trusted(
        &app,
        "downgraded",
        &json!({"issuer": idp.issuer(), "jwks_url": idp.downgrading_url()}),
    )
    .await;

    refused.assert_invalid(&["jwks_url"]);
    assert!(
        reason(&refused, "jwks_url").contains("plain HTTP"),
        "{}",
        refused.text
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_tokens_with_random_kids_cause_at_most_one_fetch_per_cooldown() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = Arc::new(trusting_app().await);
    trust_jwks(&app, "idp", &idp).await;
    let after_save = idp.jwks_hits();
    let started = Instant::now();

    let refused = random_kid_storm(&app, &idp, &key, 1000).await;

    assert_eq!(refused, 1000);
    assert_eq!(idp.jwks_hits() - after_save, 1, "one fetch shared by all");
    app.clock.advance(9);
    assert_eq!(random_kid_storm(&app, &idp, &key, 50).await, 50);
    assert_eq!(idp.jwks_hits() - after_save, 1, "still cooling down");
    app.clock.advance(1);
    assert_eq!(random_kid_storm(&app, &idp, &key, 1000).await, 1000);
    assert_eq!(idp.jwks_hits() - after_save, 2, "one more after 10 s");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "2,050 refusals took {:?}",
        started.elapsed()
    );
    assert_verifies(&app, &token_of(&app, &idp, &key), "idp").await;
}

/// Sends `count` concurrent verifications of tokens with random kids; answers how many were
/// refused with `unknown_key`.
async fn random_kid_storm(app: &Arc<TestApp>, idp: &Idp, key: &IdpKey, count: usize) -> usize {
    let mut requests = JoinSet::new();
    for _ in 0..count {
        let kid = uuid::Uuid::new_v4().to_string();
        let token = key.sign_with_header(
            &json!({"alg": "ES256", "kid": kid, "typ": "JWT"}),
            &claims_at(idp.issuer(), app.now()),
        );
        let app = app.clone();
        requests.spawn(async move { verify(&app, &token).await });
    }
    let mut refused = 0;
    while let Some(answer) = requests.join_next().await {
        let answer = answer.expect("the request ran");
        answer.assert_error(StatusCode::UNAUTHORIZED, "unknown_key");
        refused += 1;
    }
    refused
}

#[tokio::test]
async fn cache_control_sets_the_next_refresh_within_one_minute_and_one_day() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;
    let default_next = trusted_state(&app, "idp").await["sources"][0]["next_refresh_at"].clone();
    assert_eq!(
        default_next,
        rfc3339(app.now() + 240),
        "5 min default, refreshed at 4/5"
    );

    // Refreshed at four fifths of the granted lifetime, clamped to [60 s, 24 h].
    for (cache_control, lifetime) in [
        ("max-age=600", 600),
        ("public, max-age=5", 60),
        ("no-store", 60),
        ("max-age=999999999", 24 * 3600),
        ("max-age=600, s-maxage=1200", 1200),
    ] {
        idp.set_cache_control(cache_control);
        app.clock.advance(7);
        refresh(&app, "idp").await;

        let state = trusted_state(&app, "idp").await;
        let expected = rfc3339(app.now() + lifetime * 4 / 5);
        assert_eq!(
            state["sources"][0]["next_refresh_at"], expected,
            "{cache_control}"
        );
        assert_eq!(state["next_refresh_at"], expected, "{cache_control}");
    }
}

#[tokio::test]
async fn plain_http_is_refused_except_to_loopback() {
    let app = trusting_app().await;

    let refused = put_trusted(
        &app,
        "plain",
        &json!({"issuer": "https://idp.example.com", "jwks_url": "http://idp.example.com/jwks"}),
    )
    .await;

    refused.assert_invalid(&["jwks_url"]);
    assert!(
        reason(&refused, "jwks_url").contains("plain HTTP"),
        "{}",
        refused.text
    );
}

#[tokio::test]
async fn private_and_metadata_addresses_are_refused_without_allow_private_networks() {
    let key = IdpKey::es256("k1");
    let idp = Idp::start(&[&key]).await;
    let app = TestApp::new().await;
    let port = idp.base.rsplit(':').next().expect("a port");

    for url in [
        idp.jwks_url(),
        format!("http://localhost:{port}/jwks"),
        "https://10.1.2.3/jwks".to_owned(),
        "https://192.168.0.1/jwks".to_owned(),
        "https://169.254.169.254/latest/jwks".to_owned(),
        "https://[::1]/jwks".to_owned(),
    ] {
        let refused = put_trusted(
            &app,
            "private",
            &json!({"issuer": "https://idp.example.com", "jwks_url": url,
                    "allow_insecure_http": true}),
        )
        .await;

        refused.assert_invalid(&["jwks_url"]);
        assert!(
            reason(&refused, "jwks_url").contains("address refused"),
            "{url}: {}",
            refused.text
        );
    }
    assert_eq!(idp.jwks_hits(), 0);
}

#[tokio::test]
async fn the_background_refresher_fetches_due_issuers() {
    let old = IdpKey::es256("old");
    let new = IdpKey::es256("new");
    let idp = Idp::start(&[&old]).await;
    let app = trusting_app().await;
    trust_jwks(&app, "idp", &idp).await;
    idp.publish(&[&old, &new]);
    app.clock.advance(241);
    let (stop, shutdown) = tokio::sync::watch::channel(false);

    app.app.trust.spawn_refresher(shutdown);
    idp.wait_for_jwks_hits(2).await;

    // The refresher holds the issuer's fetch gate, so this waits for it, not a second fetch.
    assert_verifies(&app, &token_of(&app, &idp, &new), "idp").await;
    assert_eq!(idp.jwks_hits(), 2);
    assert_eq!(known_kids(&app, "idp").await, ["new", "old"]);
    stop.send(true).expect("the refresher listens");
}

// ---- item 6: scale ----

#[tokio::test]
async fn ten_thousand_trusted_issuers_load_and_verification_still_works() {
    let keys: Vec<IdpKey> = (0..10).map(|_| IdpKey::es256("k")).collect();
    let mut toml = String::new();
    for i in 0..10_000 {
        write!(
            toml,
            "[[trusted_issuers]]\nname = \"idp-{i}\"\nissuer = \"https://idp-{i}.example.com\"\nkeys = [{}]\n\n",
            toml_inline(&keys[i % 10].jwk())
        )
        .expect("formatting");
    }
    let app = TestApp::builder().config_file(&toml).build().await;

    let count = app.get(&format!("{TRUSTED}?count=true")).await;
    assert_eq!(count.json, json!(10_001), "{}", count.text);
    let started = Instant::now();
    for i in [0, 4_999, 9_999] {
        let token = keys[i % 10].sign(&claims_at(
            &format!("https://idp-{i}.example.com"),
            app.now(),
        ));
        assert_verifies(&app, &token, &format!("idp-{i}")).await;
    }
    let forged = keys[1].sign(&claims_at("https://idp-0.example.com", app.now()));
    assert_refused(&app, &forged, "signature_invalid").await;
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "four verifications took {:?}",
        started.elapsed()
    );
    let state = trusted_state(&app, "idp-9999").await;
    assert_eq!(state["static"], true);
}
