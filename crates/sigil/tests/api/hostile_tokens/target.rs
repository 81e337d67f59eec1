//! The server under attack: Sigil (`--allow-private-networks`, so a regression that fetches
//! would reach the trap) trusting `ci` with the inline ES256 key `k1`, plus a mapping and a
//! policy so a good `ci` token verifies, reads `/v1/config/policies` as a bearer and logs in.
//! Each hostile token goes through every one of those surfaces; all failures are collected.

use std::time::{Duration, Instant};

use axum::http::{HeaderValue, Method, StatusCode};
use serde_json::{Value, json};

use super::trap::Trap;
use crate::external_idp::{IdpKey, claims_at, merged, put_mapping, put_policy, trust_with, verify};
use crate::support::{TestApp, TestAppBuilder, TestResponse};

/// The `iss` of the trusted issuer `ci`.
pub const ISS: &str = "https://ci.example.com";
/// The trusted issuer's name.
pub const NAME: &str = "ci";
/// A `/v1` call the mapping's policy allows, to present tokens as a bearer.
const BEARER_PATH: &str = "/v1/config/policies";
/// JWT login with `ci`.
const LOGIN_PATH: &str = "/v1/auth/login/ci";

/// What a refused token must get.
#[derive(Clone, Copy, Debug)]
pub struct Refusal {
    /// The status.
    pub status: StatusCode,
    /// The `error_code`.
    pub code: &'static str,
}

/// A 401 with `code`.
pub const fn refused(code: &'static str) -> Refusal {
    Refusal {
        status: StatusCode::UNAUTHORIZED,
        code,
    }
}

/// One hostile token and what it must get.
pub struct Case {
    /// What the case is, for the failure message.
    pub name: String,
    /// The token.
    pub token: String,
    /// The refusal expected on every surface.
    pub expected: Refusal,
}

/// A case named `name`.
pub fn case(name: impl Into<String>, token: String, expected: Refusal) -> Case {
    Case {
        name: name.into(),
        token,
        expected,
    }
}

/// Where a token is presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Surface {
    /// `POST /v1/verify {token}` with the root token as caller.
    Verify,
    /// `Authorization: Bearer <token>` on a `/v1` call.
    Bearer,
    /// `POST /v1/auth/login/ci` with the token in `Authorization`.
    Login,
}

impl Surface {
    /// Every surface.
    pub const ALL: [Surface; 3] = [Surface::Verify, Surface::Bearer, Surface::Login];
}

/// Failures of many cases, reported together so one run names every broken case.
#[derive(Default)]
pub struct Findings {
    cases: usize,
    failures: Vec<String>,
}

impl Findings {
    /// Records the outcome of case `name`.
    pub fn note(&mut self, name: &str, outcome: Result<(), String>) {
        self.cases += 1;
        if let Err(problem) = outcome {
            self.failures.push(format!("[{name}] {problem}"));
        }
    }

    /// Panics listing every failed case.
    pub fn assert_none(self) {
        assert!(
            self.failures.is_empty(),
            "{} of {} cases failed:\n{}",
            self.failures.len(),
            self.cases,
            self.failures.join("\n")
        );
    }
}

/// The server under attack, its trap and the keys.
pub struct Target {
    /// The server.
    pub app: TestApp,
    /// Where every injectable URL points.
    pub trap: Trap,
    /// `k1`, the trusted issuer's key.
    pub key: IdpKey,
    /// A key nobody trusts; the trap publishes it as `attacker` and as `k1`.
    pub attacker: IdpKey,
}

impl Target {
    /// The default target.
    pub async fn start() -> Target {
        Target::start_with(TestApp::builder(), Vec::new(), json!({})).await
    }

    /// A target from `builder`, trusting `ci` with `k1` and `extra_keys` inline, the other
    /// issuer fields replaced by `fields`.
    pub async fn start_with(
        builder: TestAppBuilder,
        extra_keys: Vec<Value>,
        fields: Value,
    ) -> Target {
        let app = builder.allow_private_networks().build().await;
        let key = IdpKey::es256("k1");
        let attacker = IdpKey::es256("attacker");
        let mut as_k1 = attacker.jwk();
        as_k1["kid"] = json!("k1");
        let trap = Trap::start(&json!({"keys": [attacker.jwk(), as_k1]})).await;
        let mut keys = vec![key.jwk()];
        keys.extend(extra_keys);
        trust_with(
            &app,
            NAME,
            merged(json!({"issuer": ISS, "keys": keys}), fields),
        )
        .await;
        put_policy(
            &app,
            "hostile-reader",
            json!([{"path": "/policies", "operations": ["read"]}]),
        )
        .await;
        put_mapping(
            &app,
            "ci-jobs",
            json!({"trusted_issuer": NAME, "id_match": "ci-job-([0-9]+)",
                   "policies": ["hostile-reader"]}),
        )
        .await;
        Target {
            app,
            trap,
            key,
            attacker,
        }
    }

    /// `k1`'s header with `jku` and `x5u` baited to the trap, `changes` applied (`null`
    /// removes a member).
    pub fn header(&self, changes: Value) -> Value {
        merged(
            json!({"alg": "ES256", "kid": "k1", "typ": "JWT",
                   "jku": self.trap.url("/jwks.json"), "x5u": self.trap.url("/cert.pem")}),
            changes,
        )
    }

    /// Good `ci` claims now, `changes` applied (`null` removes a claim).
    pub fn claims(&self, changes: Value) -> Value {
        merged(claims_at(ISS, self.app.now()), changes)
    }

    /// A token signed by `k1` with the baited header and claims, each with `changes`.
    pub fn token(&self, header_changes: Value, claim_changes: Value) -> String {
        self.key
            .sign_with_header(&self.header(header_changes), &self.claims(claim_changes))
    }

    /// A token signed by `k1` over exactly these header and payload texts.
    pub fn token_text(&self, header: &str, payload: &str) -> String {
        self.key.sign_text(header, payload)
    }

    /// A good `ci` token of `k1` (baited header, a `pad` claim) exactly `length` bytes long.
    pub fn padded_token(&self, length: usize) -> String {
        let encoded = |bytes: usize| (4 * bytes).div_ceil(3);
        // An ES256 signature is 64 bytes: 86 characters.
        const SIGNATURE: usize = 86;
        let header = |pad: usize| self.header(json!({"pad": "x".repeat(pad)})).to_string();
        let claims = |pad: usize| self.claims(json!({"pad": "x".repeat(pad)})).to_string();
        let (header_base, claims_base) = (header(0).len(), claims(0).len());
        for header_pad in 0..3 {
            let fixed = encoded(header_base + header_pad) + SIGNATURE + 2;
            let found = (0..length)
                .map(|pad| (pad, fixed + encoded(claims_base + pad)))
                .take_while(|(_, total)| *total <= length)
                .find(|(_, total)| *total == length);
            if let Some((claims_pad, _)) = found {
                let token = self.key.sign_text(&header(header_pad), &claims(claims_pad));
                assert_eq!(token.len(), length);
                return token;
            }
        }
        panic!("no token of exactly {length} bytes");
    }

    /// A good `ci` token with a plain header.
    pub fn valid_token(&self) -> String {
        self.key.sign(&self.claims(json!({})))
    }

    /// Presents `token` on `surface`.
    pub async fn present(&self, surface: Surface, token: &str) -> TestResponse {
        match surface {
            Surface::Verify => verify(&self.app, token).await,
            Surface::Bearer => {
                self.app
                    .call(Method::GET, BEARER_PATH)
                    .header("authorization", &format!("Bearer {token}"))
                    .send()
                    .await
            }
            Surface::Login => {
                self.app
                    .call(Method::POST, LOGIN_PATH)
                    .header("authorization", &format!("Bearer {token}"))
                    .send()
                    .await
            }
        }
    }

    /// Sends `token` through every surface it can travel (headers cannot carry every byte)
    /// and checks the refusal, the body and the trap.
    pub async fn refusal(&self, token: &str, expected: Refusal) -> Result<(), String> {
        let before = self.trap.connections().await;
        let mut problems = Vec::new();
        for surface in Surface::ALL {
            if surface != Surface::Verify && !fits_header(token) {
                continue;
            }
            let answer = self.present(surface, token).await;
            if let Err(problem) = judge(&answer, token, expected) {
                problems.push(format!("{surface:?}: {problem}"));
            }
        }
        let reached = self.trap.connections().await - before;
        if reached > 0 {
            problems.push(format!("{reached} outbound connection(s) reached the trap"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Like `refusal`, and the whole case answered within `limit`.
    pub async fn quick_refusal(
        &self,
        token: &str,
        expected: Refusal,
        limit: Duration,
    ) -> Result<(), String> {
        let started = Instant::now();
        let outcome = self.refusal(token, expected).await;
        let took = started.elapsed();
        match outcome {
            Ok(()) if took > limit => Err(format!("answered in {took:?}, over {limit:?}")),
            other => other,
        }
    }

    /// Whether the server is healthy and a good token still verifies, works as a bearer and
    /// logs in, with the trap untouched since the start.
    pub async fn still_serving(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let health = self.app.call(Method::GET, "/healthz").send().await;
        if health.status != StatusCode::OK {
            problems.push(format!("/healthz answered {}", health.status));
        }
        let token = self.valid_token();
        for surface in Surface::ALL {
            let answer = self.present(surface, &token).await;
            if answer.status != StatusCode::OK {
                problems.push(format!(
                    "a valid token on {surface:?} got {}: {}",
                    answer.status,
                    shortened(&answer.text)
                ));
            }
        }
        let verified = self.present(Surface::Verify, &token).await;
        if verified.json["issuer"] != NAME {
            problems.push(format!("verified as {}", verified.json["issuer"]));
        }
        let total = self.trap.connections().await;
        if total > 0 {
            problems.push(format!("the trap was reached {total} time(s) in all"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }

    /// Notes whether the server still serves, then panics listing every failure.
    pub async fn assert_no_findings(&self, mut findings: Findings) {
        findings.note("afterwards", self.still_serving().await);
        findings.assert_none();
    }

    /// Runs every case, then checks the server still serves; panics listing every failure.
    pub async fn assert_refused_all(&self, cases: &[Case]) {
        let mut findings = Findings::default();
        for case in cases {
            findings.note(&case.name, self.refusal(&case.token, case.expected).await);
        }
        findings.note(
            "afterwards: healthy, and a valid token still verifies",
            self.still_serving().await,
        );
        findings.assert_none();
    }
}

/// `Ok` when `accepted` holds of `answer`, else its status and (shortened) body.
pub fn served_if(accepted: bool, answer: &TestResponse) -> Result<(), String> {
    if accepted {
        Ok(())
    } else {
        Err(format!(
            "got {}: {}",
            answer.status,
            shortened(&answer.text)
        ))
    }
}

/// `Ok` for a 200, else its status and (shortened) body.
pub fn served(answer: &TestResponse) -> Result<(), String> {
    served_if(answer.status == StatusCode::OK, answer)
}

/// Whether `Authorization: Bearer <token>` is a valid ASCII header value: anything else is
/// refused as a header before it is a token (`a_bearer_header_that_is_not_ascii_is_malformed`).
pub fn fits_header(token: &str) -> bool {
    token.is_ascii() && HeaderValue::from_str(&format!("Bearer {token}")).is_ok()
}

/// Checks one answer: the exact status and code, a message, no 5xx, no echo of the token and
/// `WWW-Authenticate` on a 401.
pub fn judge(answer: &TestResponse, token: &str, expected: Refusal) -> Result<(), String> {
    let mut problems = Vec::new();
    if answer.status.is_server_error() {
        problems.push("a 5xx".to_owned());
    }
    if answer.status != expected.status || answer.error_code() != expected.code {
        problems.push(format!(
            "expected {} {}, got {} {:?}",
            expected.status.as_u16(),
            expected.code,
            answer.status.as_u16(),
            answer.error_code()
        ));
    }
    if answer.json["message"].as_str().is_none_or(str::is_empty) {
        problems.push("no message".to_owned());
    }
    if echoes(&answer.text, token) {
        problems.push("the body echoes the token".to_owned());
    }
    if answer.status == StatusCode::UNAUTHORIZED
        && !answer
            .header("www-authenticate")
            .is_some_and(|v| v.starts_with("Bearer"))
    {
        problems.push("a 401 without WWW-Authenticate: Bearer".to_owned());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} (body: {})",
            problems.join(", "),
            shortened(&answer.text)
        ))
    }
}

/// Whether `text` contains the token or any of its segments long enough to be telling.
fn echoes(text: &str, token: &str) -> bool {
    const TELLING: usize = 16;
    (token.len() >= TELLING && text.contains(token))
        || token
            .split('.')
            .any(|segment| segment.len() >= TELLING && text.contains(segment))
}

/// At most 300 characters of `text`.
pub fn shortened(text: &str) -> String {
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}
