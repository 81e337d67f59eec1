//! Keys named by the token itself: an embedded `jwk`, `jku`, `x5u` and `x5c` (all pointing at
//! the trap, which serves the attacker's key), `iss` and `kid` set to the trap's URL, and kids
//! that name no key. None is followed; an unknown kid refetches a JWKS issuer's own URL at
//! most once per issuer per 10 s, and an issuer with inline keys only fetches nothing.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

use super::forge::{P256, sequence, spki_ec, unb64};
use super::target::{Case, Findings, Refusal, Target, case, refused};
use crate::external_idp::{Idp, IdpKey, claims_at, merged, trust_jwks};

const UNKNOWN_KEY: Refusal = refused("unknown_key");
const SIGNATURE_INVALID: Refusal = refused("signature_invalid");

/// The attacker's public key as an X.509-shaped `x5c` entry (a DER SEQUENCE around its SPKI).
fn attacker_certificate(target: &Target) -> String {
    let jwk = target.attacker.jwk();
    let point = [
        vec![0x04],
        unb64(jwk["x"].as_str().expect("x")),
        unb64(jwk["y"].as_str().expect("y")),
    ]
    .concat();
    STANDARD.encode(sequence(&[spki_ec(P256, &point)]))
}

#[tokio::test]
async fn embedded_and_remote_key_headers_are_never_followed() {
    let target = Target::start().await;
    let claims = target.claims(json!({}));
    let attacker_jwk = target.attacker.jwk();
    let jwks = target.trap.url("/jwks.json");
    let certificate = attacker_certificate(&target);
    let forged = |header: Value| {
        target
            .attacker
            .sign_with_header(&target.header(header), &claims)
    };

    let cases = [
        (
            "an embedded jwk of the attacker's key, kid attacker",
            forged(json!({"kid": "attacker", "jwk": attacker_jwk})),
            UNKNOWN_KEY,
        ),
        (
            "an embedded jwk, no kid",
            forged(json!({"kid": null, "jwk": attacker_jwk})),
            SIGNATURE_INVALID,
        ),
        (
            "an embedded jwk under kid k1",
            forged(json!({"jwk": merged(attacker_jwk.clone(), json!({"kid": "k1"}))})),
            SIGNATURE_INVALID,
        ),
        (
            "an embedded jwk that is k1's own public key",
            forged(json!({"jwk": target.key.jwk()})),
            SIGNATURE_INVALID,
        ),
        (
            "jku to the trap, kid attacker",
            forged(json!({"kid": "attacker", "jku": jwks})),
            UNKNOWN_KEY,
        ),
        (
            "jku to the trap, kid k1",
            forged(json!({"jku": jwks})),
            SIGNATURE_INVALID,
        ),
        (
            "jku to the trap, no kid",
            forged(json!({"kid": null, "jku": jwks})),
            SIGNATURE_INVALID,
        ),
        (
            "jku over https to the trap",
            forged(json!({"kid": "attacker", "jku": jwks.replace("http:", "https:")})),
            UNKNOWN_KEY,
        ),
        (
            "jku to a cloud metadata address",
            forged(json!({"kid": "attacker", "jku": "http://169.254.169.254/latest/meta-data/"})),
            UNKNOWN_KEY,
        ),
        (
            "jku as an object",
            forged(json!({"jku": {"url": jwks}})),
            SIGNATURE_INVALID,
        ),
        (
            "x5u to the trap, kid attacker",
            forged(json!({"kid": "attacker", "x5u": jwks})),
            UNKNOWN_KEY,
        ),
        (
            "x5u to the trap, kid k1",
            forged(json!({"x5u": jwks})),
            SIGNATURE_INVALID,
        ),
        (
            "x5c with the attacker's certificate, kid attacker",
            forged(json!({"kid": "attacker", "x5c": [certificate]})),
            UNKNOWN_KEY,
        ),
        (
            "x5c with the attacker's certificate, no kid",
            forged(json!({"kid": null, "x5c": [certificate]})),
            SIGNATURE_INVALID,
        ),
        (
            "x5t#S256 of the attacker's certificate, no kid",
            forged(json!({"kid": null, "x5t#S256": "attacker-thumbprint"})),
            SIGNATURE_INVALID,
        ),
        (
            "jwk, jku, x5u and x5c together",
            forged(
                json!({"kid": "attacker", "jwk": attacker_jwk, "jku": jwks, "x5u": jwks,
                          "x5c": [certificate]}),
            ),
            UNKNOWN_KEY,
        ),
        (
            "iss set to the trap's URL",
            target.attacker.sign_with_header(
                &target.header(json!({"kid": "attacker"})),
                &target.claims(json!({"iss": target.trap.url("")})),
            ),
            refused("unknown_issuer"),
        ),
        (
            "iss set to the trap's discovery document",
            target.attacker.sign_with_header(
                &target.header(json!({"kid": "attacker"})),
                &target
                    .claims(json!({"iss": target.trap.url("/.well-known/openid-configuration")})),
            ),
            refused("unknown_issuer"),
        ),
        (
            "kid set to the trap's JWKS URL",
            forged(json!({"kid": jwks})),
            UNKNOWN_KEY,
        ),
        (
            "kid set to the trap's URL, signed by k1",
            target.token(json!({"kid": jwks}), json!({})),
            UNKNOWN_KEY,
        ),
    ]
    .map(|(name, token, expected)| case(name, token, expected));

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn kids_that_name_no_key_are_refused_without_a_fetch() {
    let target = Target::start().await;
    let huge = "k".repeat(8000);

    let mut cases: Vec<Case> = [
        "../../../../etc/passwd",
        "..\\..\\..\\windows\\win.ini",
        "/dev/zero",
        "file:///etc/passwd",
        "%2e%2e%2fk1",
        "k1/../k1",
        "./k1",
        "k1\0",
        "K1",
        "k1 ",
        " k1",
        "k1\n",
        "",
        "*",
        "k%",
        "\u{ff4b}1",
        huge.as_str(),
    ]
    .into_iter()
    .map(|kid| {
        let shown: String = kid.chars().take(40).collect();
        case(
            format!("kid {shown:?} ({} bytes), signed by k1", kid.len()),
            target.token(json!({"kid": kid}), json!({})),
            UNKNOWN_KEY,
        )
    })
    .collect();
    for kid in [
        json!(1),
        json!(1.5),
        json!(null),
        json!(true),
        json!(["k1"]),
        json!({"kid": "k1"}),
    ] {
        let header = target.header(json!({})).to_string().replacen(
            r#""kid":"k1""#,
            &format!(r#""kid":{kid}"#),
            1,
        );
        cases.push(case(
            format!("kid {kid}, signed by k1"),
            target.token_text(&header, &target.claims(json!({})).to_string()),
            refused("token_malformed"),
        ));
    }

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn unknown_kids_refetch_a_jwks_issuers_own_url_at_most_once_per_ten_seconds() {
    let target = Target::start().await;
    let idp_key = IdpKey::es256("idp-k1");
    let idp = Idp::start(&[&idp_key]).await;
    trust_jwks(&target.app, "idp", &idp).await;
    let after_save = idp.jwks_hits();
    let idp_token = |kid: &str| {
        idp_key.sign_with_header(
            &target.header(json!({"kid": kid})),
            &claims_at(idp.issuer(), target.app.now()),
        )
    };
    let jwks = target.trap.url("/jwks.json");
    let mut findings = Findings::default();

    for kid in [
        "unknown-1",
        "unknown-2",
        jwks.as_str(),
        "../../idp-k1",
        "IDP-K1",
        "idp-k1 ",
        "",
        "unknown-3",
    ] {
        findings.note(
            &format!("unknown kid {kid:?}"),
            target.refusal(&idp_token(kid), UNKNOWN_KEY).await,
        );
    }
    let first_burst = idp.jwks_hits() - after_save;
    target.app.clock.advance(9);
    findings.note(
        "unknown kid 9 s later",
        target.refusal(&idp_token("unknown-4"), UNKNOWN_KEY).await,
    );
    let after_nine_seconds = idp.jwks_hits() - after_save;
    target.app.clock.advance(1);
    findings.note(
        "unknown kid 10 s later",
        target.refusal(&idp_token("unknown-5"), UNKNOWN_KEY).await,
    );
    let after_ten_seconds = idp.jwks_hits() - after_save;
    findings.note(
        "refetches of the issuer's own JWKS URL",
        if (first_burst, after_nine_seconds, after_ten_seconds) == (1, 1, 2) {
            Ok(())
        } else {
            Err(format!(
                "expected 1 refetch for the first burst, none more within 10 s and 1 after: \
                 got {first_burst}, {after_nine_seconds}, {after_ten_seconds}"
            ))
        },
    );
    let known = crate::external_idp::verify(&target.app, &idp_token("idp-k1")).await;
    findings.note(
        "the issuer's known key still verifies",
        if known.json["issuer"] == "idp" {
            Ok(())
        } else {
            Err(format!("got {}: {}", known.status, known.text))
        },
    );
    target.assert_no_findings(findings).await;
}
