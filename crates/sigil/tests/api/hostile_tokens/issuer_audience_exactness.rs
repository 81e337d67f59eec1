//! `iss` and `aud` are compared byte for byte: trailing slashes, case, whitespace, Unicode
//! look-alikes, percent-encoding, prefixes and suffixes name another issuer or audience. A
//! token with `aud` fails against an issuer with no audiences. Every token is signed by `k1`.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::target::{Case, Findings, Refusal, Target, case, judge, refused, served, served_if};
use crate::external_idp::{trust_with, verify_body};

const MISMATCH: Refusal = refused("audience_mismatch");
/// A second issuer with audiences, trusting `k1` too.
const AUD_ISS: &str = "https://aud.example.com";

#[tokio::test]
async fn an_iss_that_is_not_byte_for_byte_a_trusted_one_is_unknown() {
    let target = Target::start().await;
    let unknown = refused("unknown_issuer");

    let cases: Vec<Case> = [
        "https://ci.example.com/",
        "HTTPS://ci.example.com",
        "https://CI.example.com",
        "https://ci.example.com ",
        " https://ci.example.com",
        "https://ci.example.com\n",
        "https://ci.example.com\t",
        "https://ci.example.com\0",
        "https://ci.\u{435}xample.com",
        "https://c\u{131}.example.com",
        "\u{ff48}\u{ff54}\u{ff54}\u{ff50}\u{ff53}://ci.example.com",
        "https://ci.example.com\u{301}",
        "\u{200b}https://ci.example.com",
        "https://ci.example.com\u{200b}",
        "https://ci%2Eexample.com",
        "https%3A%2F%2Fci.example.com",
        "https://ci.example.com%2F",
        "https://ci.example.com:443",
        "https://ci.example.com/.",
        "https://ci.example.com/../",
        "https://ci.example.com#",
        "https://ci.example.com?",
        "http://ci.example.com",
        "https://ci.example.com.",
        "https://user@ci.example.com",
        "https:\\\\ci.example.com",
        "https://ci.example.co",
        "https://ci.example.comm",
        "",
        "urn:sigil:internal ",
        "URN:SIGIL:INTERNAL",
    ]
    .into_iter()
    .map(|iss| {
        case(
            format!("iss {iss:?}"),
            target.token(json!({}), json!({"iss": iss})),
            unknown,
        )
    })
    .collect();

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn an_aud_that_is_not_exactly_an_accepted_one_is_refused() {
    let target = Target::start().await;
    trust_with(
        &target.app,
        "aud-ci",
        json!({"issuer": AUD_ISS, "keys": [target.key.jwk()],
               "audiences": ["https://api.example.com", "billing"]}),
    )
    .await;
    let token = |aud: Value| target.token(json!({}), json!({"iss": AUD_ISS, "aud": aud}));

    let mut cases: Vec<Case> = [
        json!("https://API.example.com"),
        json!("https://api.example.com/"),
        json!("https://api.example.co"),
        json!("https://api.example.com.evil.com"),
        json!("https://api.example.com "),
        json!(" https://api.example.com"),
        json!("https://api.example.com\u{0}"),
        json!("http://api.example.com"),
        json!("https://api.example.com:443"),
        json!("https://api.example.com%2F"),
        json!("Billing"),
        json!("billing "),
        json!("bill"),
        json!("billingx"),
        json!("billing\n"),
        json!("b\u{456}lling"),
        json!("*"),
        json!("https://*.example.com"),
        json!(""),
        json!(["x", "https://api.example.co"]),
        json!(["Billing", "BILLING", "billing/"]),
        json!([]),
    ]
    .into_iter()
    .map(|aud| case(format!("aud {aud}"), token(aud), MISMATCH))
    .collect();
    cases.push(case(
        "no aud",
        target.token(json!({}), json!({"iss": AUD_ISS})),
        MISMATCH,
    ));
    let mut findings = Findings::default();
    for case in &cases {
        findings.note(&case.name, target.refusal(&case.token, case.expected).await);
    }
    for aud in [json!("billing"), json!(["nope", "https://api.example.com"])] {
        let answer = crate::external_idp::verify(&target.app, &token(aud.clone())).await;
        findings.note(
            &format!("aud {aud} verifies"),
            served_if(
                answer.status == StatusCode::OK && answer.json["issuer"] == "aud-ci",
                &answer,
            ),
        );
    }
    target.assert_no_findings(findings).await;
}

#[tokio::test]
async fn a_token_with_aud_is_refused_by_an_issuer_with_no_audiences() {
    let target = Target::start().await;

    let cases = [
        json!("api"),
        json!(["api"]),
        json!(""),
        json!("https://ci.example.com"),
        json!(["ci", "api", "https://api.example.com"]),
    ]
    .map(|aud| {
        case(
            format!("aud {aud}"),
            target.token(json!({}), json!({"aud": aud})),
            MISMATCH,
        )
    });

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn an_audience_the_caller_requires_must_be_exactly_one_of_the_tokens() {
    let target = Target::start().await;
    trust_with(
        &target.app,
        "aud-ci",
        json!({"issuer": AUD_ISS, "keys": [target.key.jwk()], "audiences": ["billing"]}),
    )
    .await;
    let token = target.token(json!({}), json!({"iss": AUD_ISS, "aud": ["billing"]}));
    let mut findings = Findings::default();

    for required in ["Billing", "billing ", "bill", "billing/", "*", ""] {
        let answer = verify_body(&target.app, &json!({"token": token, "audience": required})).await;
        findings.note(
            &format!("required audience {required:?}"),
            judge(&answer, &token, MISMATCH),
        );
    }
    let exact = verify_body(&target.app, &json!({"token": token, "audience": "billing"})).await;
    findings.note("required audience \"billing\" verifies", served(&exact));
    target.assert_no_findings(findings).await;
}
