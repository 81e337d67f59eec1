//! Request bodies (JSON, YAML, forms): many keys that normalise to each other, many unknown
//! fields, deep nesting, alias bombs and repeated parameters, sent to endpoints that need no
//! token (init, unseal, the OAuth token endpoint, login) and to one that does.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::super::cost::assert_linear;
use super::super::{
    assert_api_error, assert_healthy, assert_limit_refusal, assert_no_server_error, clipped, form,
};
use super::{BODY_BYTES, flat_json, flat_yaml, json_object_of};
use crate::support::{TestApp, TestResponse};

const JSON: &str = "application/json";
const YAML: &str = "application/yaml";
const FORM: &str = "application/x-www-form-urlencoded";

/// What a hostile body must be answered with.
#[derive(Clone, Copy)]
enum Expect {
    /// 400 or 413 naming the limit hit (or counting the errors it did not list).
    Limit,
    /// Any 400 or 413 with the JSON error body.
    Refusal,
}

/// An endpoint that reads a JSON or YAML body into a typed request.
struct Reader {
    case: &'static str,
    app: TestApp,
    path: &'static str,
    root: bool,
}

impl Reader {
    async fn post(&self, content_type: &str, body: &[u8]) -> TestResponse {
        let mut call = self.app.call(Method::POST, self.path);
        if self.root {
            call = call.token(&self.app.root_token);
        }
        call.body(content_type, body.to_vec()).send().await
    }

    /// Asserts the hostile bodies changed nothing: still uninitialised, still sealed with no
    /// progress, or no key created.
    async fn assert_unchanged(&self) {
        let status = self
            .app
            .call(Method::GET, "/v1/sys/seal-status")
            .send()
            .await;
        assert_eq!(status.status, StatusCode::OK, "{}", status.text);
        match self.path {
            "/v1/sys/init" => assert_eq!(status.json["initialized"], false, "{}", status.text),
            "/v1/sys/unseal" => {
                assert_eq!(status.json["sealed"], true, "{}", status.text);
                assert_eq!(status.json["progress"], 0, "{}", status.text);
            }
            _ => {
                assert_eq!(
                    self.app.key_names().await,
                    [crate::support::INTERNAL_KEY],
                    "no key was created"
                );
                assert_healthy(&self.app).await;
            }
        }
        let health = self.app.call(Method::GET, "/healthz").send().await;
        assert_eq!(health.status, StatusCode::OK, "{}", health.text);
    }
}

/// Init on an uninitialised server and unseal on a sealed one (no token needed), and creating
/// a signing key with the root token.
async fn readers() -> Vec<Reader> {
    vec![
        Reader {
            case: "POST /v1/sys/init, uninitialised",
            app: TestApp::builder().uninitialised().build().await,
            path: "/v1/sys/init",
            root: false,
        },
        Reader {
            case: "POST /v1/sys/unseal, sealed",
            app: TestApp::builder().sealed().build().await,
            path: "/v1/sys/unseal",
            root: false,
        },
        Reader {
            case: "POST /v1/config/signing-keys",
            app: TestApp::new().await,
            path: "/v1/config/signing-keys",
            root: true,
        },
    ]
}

/// Sends `worst` and a best case of the same size to every reader, timing both, and asserts
/// the worst is refused as `expect` says and changes nothing.
async fn assert_refused_in_linear_time(
    case: &str,
    content_type: &str,
    worst: &[u8],
    best: &[u8],
    expect: Expect,
) {
    for reader in readers().await {
        let label = format!("{case} ({} bytes), {}", worst.len(), reader.case);
        let (best_answer, worst_answer) = assert_linear(
            &label,
            || reader.post(content_type, best),
            || reader.post(content_type, worst),
        )
        .await;
        assert_no_server_error(&best_answer, &label);
        match expect {
            Expect::Limit => assert_limit_refusal(&worst_answer, &label),
            Expect::Refusal => {
                assert!(
                    matches!(
                        worst_answer.status,
                        StatusCode::BAD_REQUEST | StatusCode::PAYLOAD_TOO_LARGE
                    ),
                    "{label}: {} {}",
                    worst_answer.status,
                    clipped(&worst_answer.text)
                );
                assert_api_error(&worst_answer, worst_answer.status, &label);
            }
        }
        reader.assert_unchanged().await;
    }
}

/// [`assert_refused_in_linear_time`] for a JSON `worst`, against flat JSON of the same size.
async fn assert_json_refused_in_linear_time(case: &str, worst: &[u8], expect: Expect) {
    assert_refused_in_linear_time(case, JSON, worst, &flat_json(worst.len()), expect).await;
}

/// [`assert_refused_in_linear_time`] for a YAML `worst`, against flat YAML of the same size.
async fn assert_yaml_refused_in_linear_time(case: &str, worst: &[u8], expect: Expect) {
    assert_refused_in_linear_time(case, YAML, worst, &flat_yaml(worst.len()), expect).await;
}

#[tokio::test]
async fn a_body_of_keys_that_normalise_to_each_other_is_refused_in_linear_time() {
    let keys = (0..).flat_map(|i: u32| [format!("a-{i:x}"), format!("a_{i:x}")]);
    let worst = json_object_of(BODY_BYTES, keys);

    assert_json_refused_in_linear_time("keys a-N and a_N", &worst, Expect::Limit).await;
}

#[tokio::test]
async fn a_body_of_many_unknown_fields_is_refused_in_linear_time_naming_the_limit() {
    let worst = json_object_of(BODY_BYTES, (0..).map(|i: u32| format!("f{i:x}")));

    assert_json_refused_in_linear_time("many unknown fields", &worst, Expect::Limit).await;
}

/// Found by the fuzzing campaign: each nested value once copied the full path of its key, so
/// one long key above many values cost key length × values.
#[tokio::test]
async fn one_long_key_above_many_values_is_refused_in_linear_time() {
    let key = "k".repeat(256 * 1024);
    let values = vec!["0"; (BODY_BYTES - key.len() - 16) / 2].join(",");
    let worst = format!("{{\"{key}\":[{values}]}}").into_bytes();

    assert_json_refused_in_linear_time("a 256 KiB key above 300k values", &worst, Expect::Refusal)
        .await;
}

/// The same campaign: every `duplicate_field` error kept the full path (gigabytes for a body
/// under 1 MiB); only the listed errors are built now, with names shortened.
#[tokio::test]
async fn duplicates_below_one_long_key_are_refused_in_linear_time_naming_the_limit() {
    let key = "k".repeat(256 * 1024);
    let keys = (0..).flat_map(|i: u32| [format!("a{i:x}-b"), format!("a{i:x}_b")]);
    let inner = json_object_of(BODY_BYTES - key.len() - 16, keys);
    let mut worst = format!("{{\"{key}\":").into_bytes();
    worst.extend_from_slice(&inner);
    worst.push(b'}');

    assert_json_refused_in_linear_time("duplicates below a 256 KiB key", &worst, Expect::Limit)
        .await;
}

#[tokio::test]
async fn nested_keys_that_normalise_to_each_other_are_refused_in_linear_time() {
    let keys = (0..).flat_map(|i: u32| [format!("a-{i:x}"), format!("a_{i:x}")]);
    let inner = json_object_of(BODY_BYTES - 8, keys);
    let mut worst = b"{\"x\":".to_vec();
    worst.extend_from_slice(&inner);
    worst.push(b'}');

    assert_json_refused_in_linear_time("nested keys a-N and a_N", &worst, Expect::Refusal).await;
}

#[tokio::test]
async fn a_body_nested_far_past_any_depth_limit_is_refused_quickly_naming_the_limit() {
    let depth = 100_000;
    let arrays = format!("{{\"x\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!(
        "{{\"x\":{}0{}}}",
        "{\"a\":".repeat(depth),
        "}".repeat(depth)
    );

    for (case, worst) in [("arrays", arrays), ("objects", objects)] {
        assert_json_refused_in_linear_time(
            &format!("{depth} nested {case}"),
            worst.as_bytes(),
            Expect::Limit,
        )
        .await;
    }
}

#[tokio::test]
async fn a_body_of_many_structures_nested_near_the_limit_costs_linear_time() {
    let depth = 100;
    let array_chain = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let object_chain = format!("{}0{}", "{\"a\":".repeat(depth), "}".repeat(depth));

    for (case, chain) in [("arrays", array_chain), ("objects", object_chain)] {
        let copies = BODY_BYTES / (chain.len() + 1);
        let worst = format!("{{\"x\":[{}]}}", vec![chain.as_str(); copies].join(","));
        assert_json_refused_in_linear_time(
            &format!("{copies} chains of {depth} nested {case}"),
            worst.as_bytes(),
            Expect::Refusal,
        )
        .await;
    }
}

#[tokio::test]
async fn a_body_repeating_one_key_is_refused_in_linear_time() {
    let worst = json_object_of(BODY_BYTES, std::iter::repeat_with(|| "a".to_owned()));

    assert_json_refused_in_linear_time("one key repeated", &worst, Expect::Refusal).await;
}

#[tokio::test]
async fn a_yaml_billion_laughs_is_refused_quickly_naming_the_limit() {
    let mut worst = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for (name, previous) in ["b", "c", "d", "e", "f", "g", "h", "i"]
        .iter()
        .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
    {
        let items = vec![format!("*{previous}"); 10].join(",");
        worst.push_str(&format!("{name}: &{name} [{items}]\n"));
    }

    assert_yaml_refused_in_linear_time(
        "YAML alias expansion to 10^9 nodes",
        worst.as_bytes(),
        Expect::Limit,
    )
    .await;
}

#[tokio::test]
async fn a_yaml_body_of_many_aliases_is_refused_in_linear_time_naming_the_limit() {
    let count = (BODY_BYTES - 32) / 3;
    let worst = format!("a: &a x\nb: [{}]\n", vec!["*a"; count].join(","));

    assert_yaml_refused_in_linear_time(
        "YAML with 300,000 aliases",
        worst.as_bytes(),
        Expect::Limit,
    )
    .await;
}

#[tokio::test]
async fn a_yaml_body_nested_far_past_any_depth_limit_is_refused_quickly_naming_the_limit() {
    let depth = 100_000;
    let flow = format!("x: {}{}\n", "[".repeat(depth), "]".repeat(depth));
    let block: String = (0..2_000)
        .map(|level| format!("{}a:\n", " ".repeat(level)))
        .collect();

    for (case, worst) in [("flow sequences", flow), ("block mappings", block)] {
        assert_yaml_refused_in_linear_time(
            &format!("YAML: deeply nested {case}"),
            worst.as_bytes(),
            Expect::Limit,
        )
        .await;
    }
}

#[tokio::test]
async fn a_yaml_body_of_keys_that_normalise_to_each_other_is_refused_in_linear_time() {
    let mut worst = String::with_capacity(BODY_BYTES);
    let mut i = 0u32;
    while worst.len() + 24 < BODY_BYTES {
        worst.push_str(&format!("a-{i:x}: 0\na_{i:x}: 0\n"));
        i += 1;
    }

    assert_yaml_refused_in_linear_time("YAML keys a-N and a_N", worst.as_bytes(), Expect::Limit)
        .await;
}

// ---- form bodies at the OAuth token endpoint ----

/// A server with a JWT issuer `i`, whose token endpoint reads form bodies without a token.
async fn token_endpoint() -> TestApp {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer("i", "k").await;
    app
}

async fn post_form(app: &TestApp, body: &[u8]) -> TestResponse {
    app.call(Method::POST, "/jwt/i/oauth/token")
        .body(FORM, body.to_vec())
        .send()
        .await
}

/// `name=0&...` of about `bytes` bytes, names from `names`, after `prefix` parameters.
fn form_of(bytes: usize, prefix: &[(&str, &str)], names: impl Iterator<Item = String>) -> Vec<u8> {
    let mut body = form(prefix);
    for name in names {
        if body.len() + name.len() + 3 > bytes {
            break;
        }
        if !body.is_empty() {
            body.push(b'&');
        }
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(b"=0");
    }
    body
}

/// Asserts an RFC 6749 §5.2 error body with `error`.
fn assert_oauth_refusal(answer: &TestResponse, error: &str, case: &str) {
    assert_eq!(
        answer.status,
        StatusCode::BAD_REQUEST,
        "{case}: {}",
        clipped(&answer.text)
    );
    assert_eq!(
        answer.json["error"],
        error,
        "{case}: {}",
        clipped(&answer.text)
    );
    assert!(
        answer.json["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{case}: {}",
        clipped(&answer.text)
    );
}

#[tokio::test]
async fn a_form_body_of_many_distinct_parameters_costs_linear_time() {
    let app = token_endpoint().await;
    let grant = [(
        "grant_type",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    )];
    let worst = form_of(BODY_BYTES, &grant, (0..).map(|i: u32| format!("p{i:x}")));
    let best = form_of(
        worst.len(),
        &grant,
        std::iter::repeat_with(|| "p".to_owned()),
    );

    let (best_answer, worst_answer) = assert_linear(
        "100,000 distinct form parameters",
        || post_form(&app, &best),
        || post_form(&app, &worst),
    )
    .await;

    assert_no_server_error(&best_answer, "best case");
    assert_oauth_refusal(&worst_answer, "invalid_request", "distinct parameters");
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_form_body_repeating_a_parameter_is_refused_in_linear_time() {
    let app = token_endpoint().await;
    let grant = [(
        "grant_type",
        "urn:ietf:params:oauth:grant-type:token-exchange",
    )];
    let worst = form_of(
        BODY_BYTES,
        &grant,
        std::iter::repeat_with(|| "subject_token".to_owned()),
    );
    let padding = "a".repeat(worst.len().saturating_sub(80));
    let best = form(&[grant[0], ("padding", padding.as_str())]);

    let (_, worst_answer) = assert_linear(
        "subject_token repeated 60,000 times",
        || post_form(&app, &best),
        || post_form(&app, &worst),
    )
    .await;

    assert_oauth_refusal(&worst_answer, "invalid_request", "a repeated parameter");
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_hostile_body_sent_to_login_costs_no_more_than_a_plain_one() {
    let app = TestApp::new().await;
    let key = crate::external_idp::IdpKey::es256("k1");
    crate::external_idp::trust_with(
        &app,
        "x",
        json!({"issuer": "https://x.example.com", "keys": [key.jwk()]}),
    )
    .await;
    let worst = json_object_of(
        BODY_BYTES,
        (0..).flat_map(|i: u32| [format!("a-{i:x}"), format!("a_{i:x}")]),
    );
    let best = flat_json(worst.len());
    let login = |body: &[u8]| {
        app.call(Method::POST, "/v1/auth/login/x")
            .body(JSON, body.to_vec())
            .send()
    };

    let (best_answer, worst_answer) =
        assert_linear("login with 80,000 keys", || login(&best), || login(&worst)).await;

    for answer in [&best_answer, &worst_answer] {
        assert_no_server_error(answer, "login");
        assert_api_error(answer, answer.status, "login");
        assert!(answer.status.is_client_error(), "{}", clipped(&answer.text));
    }
    assert_healthy(&app).await;
}
