//! Hostile keys handed to Sigil through the API, inline or from a loopback JWKS, each beside
//! one good key. DESIGN: an unusable key is dropped on its own with the reason shown in the
//! issuer's state, the good key keeps verifying, and a source fails only when no usable key
//! is left. Secret members (`d`, `k`) are never shown back.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use sigil_jose::{Algorithm, KeyType};

use super::forge::{b64, hex, unb64};
use super::target::{Findings, Target, judge, refused, served_if, shortened};
use crate::external_idp::{Idp, IdpKey, claims_at, merged, put_trusted, verify};

/// The x and y of secp256k1's generator: a real point, on a curve Sigil does not verify with.
const SECP256K1_G: (&str, &str) = (
    "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
);

/// A key that must be left out, and the secret text it carries, if any.
struct Unusable {
    name: &'static str,
    jwk: Value,
    secret: Option<String>,
}

impl Unusable {
    fn kid(&self) -> &str {
        self.jwk["kid"]
            .as_str()
            .expect("every unusable key has a kid")
    }
}

fn unusable_keys() -> Vec<Unusable> {
    let rsa = IdpKey::generate(KeyType::Rsa2048, Algorithm::Rs256, "rsa").jwk();
    let ec = |kid: &str, changes: Value| merged(IdpKey::es256(kid).jwk(), changes);
    let mut off_curve = IdpKey::es256("off-curve").jwk();
    let mut y = unb64(off_curve["y"].as_str().expect("y"));
    y[31] ^= 1;
    off_curve["y"] = json!(b64(&y));
    let mut weak_modulus = vec![0xc3; 128];
    weak_modulus[127] = 0x01;
    let oct_secret = b64("symmetric secret never to be shown");
    let private_scalar = b64([0x5a; 32]);
    let key = |name, jwk| Unusable {
        name,
        jwk,
        secret: None,
    };
    vec![
        Unusable {
            name: "an oct (symmetric) key",
            jwk: json!({"kty": "oct", "kid": "oct", "alg": "HS256", "k": oct_secret}),
            secret: Some(oct_secret),
        },
        Unusable {
            name: "a private EC key (d present)",
            jwk: ec("private", json!({"d": private_scalar})),
            secret: Some(private_scalar),
        },
        key(
            "an RSA-1024 key",
            json!({"kty": "RSA", "kid": "rsa-1024", "alg": "RS256", "e": "AQAB",
                   "n": b64(&weak_modulus)}),
        ),
        key(
            "an unknown kty (AKP, ML-DSA-44)",
            json!({"kty": "AKP", "kid": "ml-dsa-44", "alg": "ML-DSA-44", "pub": b64([0x42; 1312])}),
        ),
        key(
            "an X25519 OKP key",
            json!({"kty": "OKP", "kid": "x25519", "crv": "X25519", "x": b64([9; 32])}),
        ),
        key(
            "an Ed448 OKP key",
            json!({"kty": "OKP", "kid": "ed448", "crv": "Ed448", "x": b64([7; 57])}),
        ),
        key(
            "a secp256k1 EC key",
            json!({"kty": "EC", "kid": "secp256k1", "crv": "secp256k1",
                   "x": b64(hex(SECP256K1_G.0)), "y": b64(hex(SECP256K1_G.1))}),
        ),
        key("a P-256 point off the curve", off_curve),
        key(
            "a key for encryption (use enc)",
            ec("enc", json!({"use": "enc"})),
        ),
        key(
            "a key pinned to alg none",
            ec("alg-none", json!({"alg": "none"})),
        ),
        key(
            "an RSA key with exponent 1",
            merged(rsa, json!({"kid": "rsa-e1", "e": "AQ"})),
        ),
    ]
}

/// What the issuer `name` must show and do with `good` and `bad` as its keys.
async fn keeps_good_and_drops_bad(
    target: &Target,
    name: &str,
    iss: &str,
    good: &IdpKey,
    bad: &Unusable,
) -> Result<(), String> {
    let mut problems = Vec::new();
    let state = target
        .app
        .get(&format!("/v1/state/trusted-issuers/{name}"))
        .await;
    let config = target
        .app
        .get(&format!("/v1/config/trusted-issuers/{name}"))
        .await;
    let known: Vec<&str> = state.json["known_keys"]
        .as_array()
        .map(|keys| keys.iter().filter_map(|k| k["kid"].as_str()).collect())
        .unwrap_or_default();
    if known != ["good"] {
        problems.push(format!("known keys {known:?}, not [\"good\"]"));
    }
    let reason = state.json["left_out_keys"]
        .as_array()
        .and_then(|left| left.iter().find(|k| k["kid"] == bad.kid()))
        .and_then(|k| k["reason"].as_str())
        .unwrap_or_default();
    if reason.is_empty() {
        problems.push(format!(
            "no reason for {:?} in left_out_keys {}",
            bad.kid(),
            state.json["left_out_keys"]
        ));
    }
    if let Some(secret) = &bad.secret
        && (state.text.contains(secret) || config.text.contains(secret))
    {
        problems.push("the state or config shows the key's secret".to_owned());
    }
    let claims = claims_at(iss, target.app.now());
    let verified = verify(&target.app, &good.sign(&claims)).await;
    if verified.status != StatusCode::OK || verified.json["issuer"] != name {
        problems.push(format!(
            "the good key's token got {}: {}",
            verified.status,
            shortened(&verified.text)
        ));
    }
    let header = json!({"alg": "ES256", "kid": bad.kid(), "typ": "JWT"});
    let claiming_bad = target.attacker.sign_with_header(&header, &claims);
    let refused_bad = verify(&target.app, &claiming_bad).await;
    if let Err(problem) = judge(&refused_bad, &claiming_bad, refused("unknown_key")) {
        problems.push(format!("a token naming the unusable key: {problem}"));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Whether a save answered 201; the problem otherwise.
fn created(saved: &crate::support::TestResponse) -> Result<(), String> {
    if saved.status == StatusCode::CREATED {
        Ok(())
    } else {
        Err(format!(
            "saving answered {}: {}",
            saved.status,
            shortened(&saved.text)
        ))
    }
}

/// Inline keys are the operator's own input, not a publisher's document: an unusable one is a
/// 400 naming it (the operator can fix it now), where a fetched JWKS only drops it.
#[tokio::test]
async fn an_unusable_inline_key_is_refused_naming_it_without_echoing_its_material() {
    let target = Target::start().await;
    let mut findings = Findings::default();

    for (i, bad) in unusable_keys().iter().enumerate() {
        let good = IdpKey::es256("good");
        let (name, iss) = (
            format!("inline-{i}"),
            format!("https://inline-{i}.example.com"),
        );
        let saved = put_trusted(
            &target.app,
            &name,
            &json!({"issuer": iss, "keys": [good.jwk(), bad.jwk]}),
        )
        .await;
        let named = saved.json["invalid_fields"]
            .as_array()
            .is_some_and(|fields| fields.iter().any(|f| f["name"] == "keys/1"));
        let secret_echoed = ["d", "k"].iter().any(|member| {
            bad.jwk[*member]
                .as_str()
                .is_some_and(|value| saved.text.contains(value))
        });
        let outcome = if saved.status != StatusCode::BAD_REQUEST || !named {
            Err(format!(
                "expected 400 naming keys/1, got {}: {}",
                saved.status,
                shortened(&saved.text)
            ))
        } else if secret_echoed {
            Err("the answer echoes private key material".to_owned())
        } else {
            let state = target
                .app
                .call(Method::GET, &format!("/v1/state/trusted-issuers/{name}"))
                .token(&target.app.root_token)
                .send()
                .await;
            if state.status == StatusCode::NOT_FOUND {
                Ok(())
            } else {
                Err(format!("a refused issuer exists: {}", state.status))
            }
        };
        findings.note(&format!("inline: {}", bad.name), outcome);
    }
    target.assert_no_findings(findings).await;
}

#[tokio::test]
async fn a_jwks_drops_each_unusable_key_with_its_reason_and_keeps_the_good_one() {
    let target = Target::start().await;
    let mut findings = Findings::default();

    for (i, bad) in unusable_keys().iter().enumerate() {
        let good = IdpKey::es256("good");
        let idp = Idp::start(&[]).await;
        idp.publish_document(json!({"keys": [good.jwk(), bad.jwk]}));
        let name = format!("jwks-{i}");
        let saved = put_trusted(
            &target.app,
            &name,
            &json!({"issuer": idp.issuer(), "jwks_url": idp.jwks_url()}),
        )
        .await;
        let outcome = match created(&saved) {
            Ok(()) => keeps_good_and_drops_bad(&target, &name, idp.issuer(), &good, bad).await,
            Err(problem) => Err(problem),
        };
        findings.note(&format!("JWKS: {}", bad.name), outcome);
    }
    target.assert_no_findings(findings).await;
}

#[tokio::test]
async fn a_refreshed_jwks_drops_each_unusable_key_and_keeps_verifying_the_good_one() {
    let target = Target::start().await;
    let good = IdpKey::es256("good");
    let idp = Idp::start(&[&good]).await;
    let saved = put_trusted(
        &target.app,
        "rotating",
        &json!({"issuer": idp.issuer(), "jwks_url": idp.jwks_url()}),
    )
    .await;
    assert_eq!(saved.status, StatusCode::CREATED, "{}", saved.text);
    let mut findings = Findings::default();

    for bad in &unusable_keys() {
        idp.publish_document(json!({"keys": [good.jwk(), bad.jwk]}));
        let refreshed = target
            .app
            .root(Method::POST, "/v1/trusted-issuers/rotating/refresh")
            .send()
            .await;
        let outcome = if refreshed.status != StatusCode::OK {
            Err(format!(
                "refresh answered {}: {}",
                refreshed.status,
                shortened(&refreshed.text)
            ))
        } else if refreshed.json["failures"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
        {
            Err(format!("the source failed: {}", refreshed.json["failures"]))
        } else {
            keeps_good_and_drops_bad(&target, "rotating", idp.issuer(), &good, bad).await
        };
        findings.note(&format!("refresh: {}", bad.name), outcome);
    }
    target.assert_no_findings(findings).await;
}

#[tokio::test]
async fn a_key_source_with_no_usable_key_is_refused() {
    let target = Target::start().await;
    let keys = unusable_keys();
    let only_unusable: Vec<Value> = keys.iter().take(5).map(|k| k.jwk.clone()).collect();
    let mut findings = Findings::default();

    let inline = put_trusted(
        &target.app,
        "no-usable-inline",
        &json!({"issuer": "https://no-usable.example.com", "keys": only_unusable}),
    )
    .await;
    findings.note(
        "inline keys that are all unusable",
        if inline.status == StatusCode::BAD_REQUEST
            && inline.error_code() == "invalid_request"
            && inline.field_names().iter().any(|f| f.starts_with("keys"))
        {
            Ok(())
        } else {
            Err(format!(
                "got {}: {}",
                inline.status,
                shortened(&inline.text)
            ))
        },
    );
    let idp = Idp::start(&[]).await;
    idp.publish_document(json!({"keys": only_unusable}));
    let saved = put_trusted(
        &target.app,
        "no-usable-jwks",
        &json!({"issuer": idp.issuer(), "jwks_url": idp.jwks_url()}),
    )
    .await;
    findings.note("a JWKS of unusable keys only", refused_for_jwks_url(&saved));
    target.assert_no_findings(findings).await;
}

/// An empty JWKS leaves no usable key either: saving an issuer whose only source is one must
/// fail like a JWKS of unusable keys, not install an issuer that can verify nothing.
#[tokio::test]
async fn a_jwks_with_no_key_at_all_is_refused_at_save() {
    let target = Target::start().await;
    let idp = Idp::start(&[]).await;

    let saved = put_trusted(
        &target.app,
        "empty-jwks",
        &json!({"issuer": idp.issuer(), "jwks_url": idp.jwks_url()}),
    )
    .await;

    refused_for_jwks_url(&saved).unwrap_or_else(|problem| panic!("{problem}"));
    target.still_serving().await.expect("still serving");
}

/// Whether a save was refused with 400 naming `jwks_url` only.
fn refused_for_jwks_url(saved: &crate::support::TestResponse) -> Result<(), String> {
    served_if(
        saved.status == StatusCode::BAD_REQUEST
            && saved.error_code() == "invalid_request"
            && saved.field_names() == ["jwks_url"],
        saved,
    )
}
