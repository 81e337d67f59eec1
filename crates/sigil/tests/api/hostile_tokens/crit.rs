//! `crit` (RFC 7515 §4.1.11) and unencoded payloads (RFC 7797 `b64: false`): Sigil
//! understands no extension, so every valid `crit` is refused by name and every malformed one,
//! or a `b64` other than `true`, as malformed. Each token is validly signed by `k1`.

use serde_json::{Value, json};

use super::target::{Case, Refusal, Target, case, refused};

const CRITICAL: Refusal = refused("unsupported_critical_header");
const MALFORMED: Refusal = refused("token_malformed");

#[tokio::test]
async fn every_crit_and_every_unencoded_payload_is_refused() {
    let target = Target::start().await;
    let claims = target.claims(json!({})).to_string();
    let with = |members: Value| target.token(members, json!({}));
    let text = |extra: &str| {
        let header = target.header(json!({})).to_string();
        target.token_text(&header.replacen('{', &format!("{{{extra},"), 1), &claims)
    };
    let many: Vec<String> = (0..1_000).map(|i| format!("ext{i}")).collect();

    let cases: Vec<Case> = [
        (
            "crit [exp] with exp in the header",
            with(json!({"crit": ["exp"], "exp": 1})),
            CRITICAL,
        ),
        (
            "crit [b64] with b64 true",
            with(json!({"crit": ["b64"], "b64": true})),
            CRITICAL,
        ),
        (
            "crit [b64] with b64 false",
            with(json!({"crit": ["b64"], "b64": false})),
            CRITICAL,
        ),
        (
            "crit naming a URI extension",
            with(json!({"crit": ["https://example.com/ext"], "https://example.com/ext": 1})),
            CRITICAL,
        ),
        (
            "crit naming kid, a registered member",
            with(json!({"crit": ["kid"]})),
            CRITICAL,
        ),
        ("crit naming alg", with(json!({"crit": ["alg"]})), CRITICAL),
        (
            "crit naming a member that is absent",
            with(json!({"crit": ["absent"]})),
            CRITICAL,
        ),
        (
            "crit naming one extension twice",
            with(json!({"crit": ["x", "x"], "x": 1})),
            CRITICAL,
        ),
        (
            "crit with 1,000 names",
            with(json!({"crit": many})),
            CRITICAL,
        ),
        (
            "crit with a name of 4,000 characters",
            with(json!({"crit": ["c".repeat(4000)]})),
            CRITICAL,
        ),
        (
            "crit spelled with a JSON escape",
            text(r#""\u0063rit":["exp"],"exp":1"#),
            CRITICAL,
        ),
        ("crit empty", with(json!({"crit": []})), MALFORMED),
        ("crit a string", with(json!({"crit": "exp"})), MALFORMED),
        (
            "crit holding a number",
            with(json!({"crit": [1]})),
            MALFORMED,
        ),
        ("crit null", text(r#""crit":null"#), MALFORMED),
        (
            "crit an object",
            with(json!({"crit": {"exp": true}})),
            MALFORMED,
        ),
        (
            "crit twice",
            text(r#""crit":["exp"],"crit":["exp"]"#),
            MALFORMED,
        ),
        ("b64 false", with(json!({"b64": false})), MALFORMED),
        ("b64 \"false\"", with(json!({"b64": "false"})), MALFORMED),
        ("b64 0", with(json!({"b64": 0})), MALFORMED),
        ("b64 null", text(r#""b64":null"#), MALFORMED),
        (
            "b64 false over a raw payload",
            {
                let header = target.header(json!({"b64": false})).to_string();
                let signature = target.token_text(&header, &claims);
                let (_, signature) = signature.rsplit_once('.').expect("three segments");
                format!("{}.{claims}.{signature}", super::forge::b64(&header))
            },
            MALFORMED,
        ),
    ]
    .into_iter()
    .map(|(name, token, expected)| case(name, token, expected))
    .collect();

    target.assert_refused_all(&cases).await;
}

#[tokio::test]
async fn a_crit_name_is_never_echoed_at_length() {
    let target = Target::start().await;
    let name = format!("evil-{}", "x".repeat(4000));

    let answer = crate::external_idp::verify(
        &target.app,
        &target.token(json!({"crit": [name]}), json!({})),
    )
    .await;

    answer.assert_error(
        axum::http::StatusCode::UNAUTHORIZED,
        "unsupported_critical_header",
    );
    assert!(answer.text.len() < 512, "{}", answer.text);
    target.still_serving().await.expect("still serving");
}
