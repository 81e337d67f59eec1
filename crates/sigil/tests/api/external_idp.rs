//! External issuers for the trust tests: a loopback IdP (axum on `127.0.0.1:0`) serving OIDC
//! discovery and a swappable JWKS, counting requests and able to misbehave (down, slow,
//! garbage, huge, redirecting), plus keys that sign tokens with any header through
//! `jsonwebtoken`, independent of Sigil's own signing code. INSECURE: test keys only.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::EncodingKey;
use serde_json::{Value, json};
use sigil_jose::{Algorithm, KeyType, SigningKey};
use tokio::sync::watch;

use crate::support::{TestApp, TestResponse};

/// How the IdP answers `/jwks`.
#[derive(Clone, Debug)]
pub enum Mode {
    /// The current key set.
    Normal,
    /// This status, empty body.
    Status(u16),
    /// The key set, after this long.
    Slow(Duration),
    /// These bytes as the body, with `Content-Length`.
    Body(Vec<u8>),
    /// These bytes as the body, chunked (no `Content-Length`).
    Chunked(Vec<u8>),
}

struct IdpState {
    base: String,
    discovery_issuer: Mutex<String>,
    jwks: Mutex<Value>,
    mode: Mutex<Mode>,
    cache_control: Mutex<Option<String>>,
    discovery_hits: AtomicUsize,
    jwks_hits: watch::Sender<usize>,
}

/// A running external issuer. Its `iss` is its base URL, `http://127.0.0.1:<port>`.
pub struct Idp {
    /// `http://127.0.0.1:<port>`, also the issuer its discovery document names.
    pub base: String,
    state: Arc<IdpState>,
    server: tokio::task::JoinHandle<()>,
}

impl Idp {
    /// Starts an IdP publishing `keys`.
    pub async fn start(keys: &[&IdpKey]) -> Idp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let state = Arc::new(IdpState {
            base: base.clone(),
            discovery_issuer: Mutex::new(base.clone()),
            jwks: Mutex::new(jwks_of(keys)),
            mode: Mutex::new(Mode::Normal),
            cache_control: Mutex::new(None),
            discovery_hits: AtomicUsize::new(0),
            jwks_hits: watch::channel(0).0,
        });
        let router = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/hop/{n}", get(hop))
            .route("/downgrade", get(downgrade))
            .with_state(state.clone());
        let server = tokio::spawn(async move {
            axum::serve(listener, router).await.expect("IdP serves");
        });
        Idp {
            base,
            state,
            server,
        }
    }

    /// The iss its tokens carry.
    pub fn issuer(&self) -> &str {
        &self.base
    }

    /// `<base>/jwks`.
    pub fn jwks_url(&self) -> String {
        format!("{}/jwks", self.base)
    }

    /// A URL that redirects `hops` times before reaching `/jwks`.
    pub fn redirecting_url(&self, hops: usize) -> String {
        format!("{}/hop/{hops}", self.base)
    }

    /// A URL that redirects to plain HTTP on a host that is not loopback.
    pub fn downgrading_url(&self) -> String {
        format!("{}/downgrade", self.base)
    }

    /// Publishes exactly `keys` from now on.
    pub fn publish(&self, keys: &[&IdpKey]) {
        *self.state.jwks.lock().expect("lock") = jwks_of(keys);
    }

    /// Publishes this JWKS document from now on.
    pub fn publish_document(&self, document: Value) {
        *self.state.jwks.lock().expect("lock") = document;
    }

    /// Changes how `/jwks` answers.
    pub fn set_mode(&self, mode: Mode) {
        *self.state.mode.lock().expect("lock") = mode;
    }

    /// Sends this `Cache-Control` with the JWKS.
    pub fn set_cache_control(&self, value: &str) {
        *self.state.cache_control.lock().expect("lock") = Some(value.to_owned());
    }

    /// Makes the discovery document name another issuer.
    pub fn set_discovery_issuer(&self, issuer: &str) {
        *self.state.discovery_issuer.lock().expect("lock") = issuer.to_owned();
    }

    /// Requests `/jwks` has received (slow ones count when they arrive).
    pub fn jwks_hits(&self) -> usize {
        *self.state.jwks_hits.borrow()
    }

    /// Requests the discovery document has received.
    pub fn discovery_hits(&self) -> usize {
        self.state.discovery_hits.load(Ordering::SeqCst)
    }

    /// Waits (at most 30 s) until `/jwks` has received `count` requests.
    pub async fn wait_for_jwks_hits(&self, count: usize) {
        let mut hits = self.state.jwks_hits.subscribe();
        tokio::time::timeout(Duration::from_secs(30), hits.wait_for(|n| *n >= count))
            .await
            .expect("the IdP was fetched in time")
            .expect("the IdP is running");
    }
}

impl Drop for Idp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn discovery(State(state): State<Arc<IdpState>>) -> Response {
    state.discovery_hits.fetch_add(1, Ordering::SeqCst);
    let issuer = state.discovery_issuer.lock().expect("lock").clone();
    axum::Json(json!({
        "issuer": issuer,
        "jwks_uri": format!("{}/jwks", state.base),
        "id_token_signing_alg_values_supported": ["ES256", "RS256", "PS256", "EdDSA"],
    }))
    .into_response()
}

async fn jwks(State(state): State<Arc<IdpState>>) -> Response {
    state.jwks_hits.send_modify(|n| *n += 1);
    let mode = state.mode.lock().expect("lock").clone();
    let document = state.jwks.lock().expect("lock").clone();
    let cache_control = state.cache_control.lock().expect("lock").clone();
    let mut response = match mode {
        Mode::Normal => axum::Json(document).into_response(),
        Mode::Status(code) => StatusCode::from_u16(code).expect("status").into_response(),
        Mode::Slow(delay) => {
            tokio::time::sleep(delay).await;
            axum::Json(document).into_response()
        }
        Mode::Body(bytes) => bytes.into_response(),
        Mode::Chunked(bytes) => {
            Response::new(Body::from_stream(Body::from(bytes).into_data_stream()))
        }
    };
    if let Some(value) = cache_control {
        response.headers_mut().insert(
            header::CACHE_CONTROL,
            value.parse().expect("a header value"),
        );
    }
    response
}

async fn hop(State(state): State<Arc<IdpState>>, Path(n): Path<usize>) -> Response {
    let next = if n <= 1 {
        format!("{}/jwks", state.base)
    } else {
        format!("/hop/{}", n - 1)
    };
    (StatusCode::FOUND, [(header::LOCATION, next)]).into_response()
}

async fn downgrade() -> Response {
    (
        StatusCode::FOUND,
        [(header::LOCATION, "http://idp.example.com/jwks")],
    )
        .into_response()
}

fn jwks_of(keys: &[&IdpKey]) -> Value {
    json!({"keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>()})
}

/// A private key of an external issuer, publishing its public half under any `kid`.
pub struct IdpKey {
    /// The `kid` it is published under and signs with.
    pub kid: String,
    /// Its JOSE algorithm name.
    pub alg: &'static str,
    algorithm: jsonwebtoken::Algorithm,
    encoding: EncodingKey,
    public: Value,
}

impl IdpKey {
    /// An ES256 (P-256) key.
    pub fn es256(kid: &str) -> IdpKey {
        IdpKey::generate(KeyType::EcdsaP256, Algorithm::Es256, kid)
    }

    /// A key of `key_type` signing with `algorithm` (ES512 is not supported here).
    pub fn generate(key_type: KeyType, algorithm: Algorithm, kid: &str) -> IdpKey {
        let (key, der) = SigningKey::generate(key_type, algorithm).expect("key generation");
        let der = der.expose().as_slice();
        let encoding = match key_type {
            KeyType::EcdsaP256 | KeyType::EcdsaP384 => EncodingKey::from_ec_der(der),
            KeyType::Rsa2048 | KeyType::Rsa3072 | KeyType::Rsa4096 => {
                EncodingKey::from_rsa_der(&pkcs1_of_pkcs8(der))
            }
            KeyType::Ed25519 => EncodingKey::from_ed_der(der),
            KeyType::EcdsaP521 => panic!("jsonwebtoken cannot sign ES512"),
        };
        let mut public = serde_json::to_value(key.public_jwk()).expect("JWK");
        public["kid"] = json!(kid);
        IdpKey {
            kid: kid.to_owned(),
            alg: algorithm.as_str(),
            algorithm: algorithm.as_str().parse().expect("jsonwebtoken knows it"),
            encoding,
            public,
        }
    }

    /// The public JWK as published: `kty`, key members, `kid`, `alg`, `use`.
    pub fn jwk(&self) -> Value {
        self.public.clone()
    }

    /// A token with `{"alg", "kid", "typ": "JWT"}` over `claims`.
    pub fn sign(&self, claims: &Value) -> String {
        self.sign_with_header(
            &json!({"alg": self.alg, "kid": self.kid, "typ": "JWT"}),
            claims,
        )
    }

    /// A token with exactly this header over `claims`, signed with this key's algorithm.
    pub fn sign_with_header(&self, header: &Value, claims: &Value) -> String {
        self.sign_text(&header.to_string(), &claims.to_string())
    }

    /// A token over exactly these header and payload texts (duplicate members and all).
    pub fn sign_text(&self, header: &str, payload: &str) -> String {
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature =
            jsonwebtoken::crypto::sign(signing_input.as_bytes(), &self.encoding, self.algorithm)
                .expect("signing");
        format!("{signing_input}.{signature}")
    }
}

/// The PKCS#1 `RSAPrivateKey` inside a PKCS#8 `PrivateKeyInfo` (RFC 5208 §5), which is what
/// `jsonwebtoken` wants for RSA.
fn pkcs1_of_pkcs8(der: &[u8]) -> Vec<u8> {
    let (info, _) = der_element(der, 0x30);
    let (_version, rest) = der_element(info, 0x02);
    let (_algorithm, rest) = der_element(rest, 0x30);
    let (key, _) = der_element(rest, 0x04);
    key.to_vec()
}

/// The contents of the DER element of `tag` at the start of `input`, and what follows it.
fn der_element(input: &[u8], tag: u8) -> (&[u8], &[u8]) {
    assert_eq!(input[0], tag, "unexpected DER tag");
    let (length, header) = match input[1] {
        short if short < 0x80 => (usize::from(short), 2),
        long => {
            let count = usize::from(long & 0x7f);
            let length = input[2..2 + count]
                .iter()
                .fold(0usize, |acc, byte| (acc << 8) | usize::from(*byte));
            (length, 2 + count)
        }
    };
    (&input[header..header + length], &input[header + length..])
}

/// Claims a well-behaved external token carries: `iss`, `sub`, `iat`, `nbf`, `exp` (+5 min).
pub fn claims_at(iss: &str, now: i64) -> Value {
    json!({"iss": iss, "sub": "ci-job-42", "iat": now, "nbf": now, "exp": now + 300})
}

/// A server that may fetch key sources on loopback.
pub async fn trusting_app() -> TestApp {
    TestApp::builder().allow_private_networks().build().await
}

/// `PUT /v1/config/trusted-issuers/{name}` with the root token.
pub async fn put_trusted(app: &TestApp, name: &str, body: &Value) -> TestResponse {
    app.send_json(
        axum::http::Method::PUT,
        &format!("/v1/config/trusted-issuers/{name}"),
        body,
    )
    .await
}

/// Trusts `idp` as `name` through its JWKS URL; panics unless 201.
pub async fn trust_jwks(app: &TestApp, name: &str, idp: &Idp) {
    trust_with(
        app,
        name,
        json!({"issuer": idp.issuer(), "jwks_url": idp.jwks_url()}),
    )
    .await;
}

/// Creates trusted issuer `name` from `body`; panics unless 201.
pub async fn trust_with(app: &TestApp, name: &str, body: Value) {
    let created = put_trusted(app, name, &body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
}

/// `GET /v1/state/trusted-issuers/{name}`; panics unless 200.
pub async fn trusted_state(app: &TestApp, name: &str) -> Value {
    let state = app.get(&format!("/v1/state/trusted-issuers/{name}")).await;
    assert_eq!(state.status, StatusCode::OK, "{}", state.text);
    state.json
}

/// The `kid`s of the keys an issuer's state lists as in use, sorted.
pub async fn known_kids(app: &TestApp, name: &str) -> Vec<String> {
    let mut kids: Vec<String> = trusted_state(app, name).await["known_keys"]
        .as_array()
        .expect("known_keys")
        .iter()
        .map(|k| k["kid"].as_str().unwrap_or_default().to_owned())
        .collect();
    kids.sort();
    kids
}

/// `POST /v1/trusted-issuers/{name}/refresh`; panics unless 200.
pub async fn refresh(app: &TestApp, name: &str) -> Value {
    let refreshed = app
        .root(
            axum::http::Method::POST,
            &format!("/v1/trusted-issuers/{name}/refresh"),
        )
        .send()
        .await;
    assert_eq!(refreshed.status, StatusCode::OK, "{}", refreshed.text);
    refreshed.json
}

/// `POST /v1/verify {token}` with the root token.
pub async fn verify(app: &TestApp, token: &str) -> TestResponse {
    verify_body(app, &json!({"token": token})).await
}

/// `POST /v1/verify` with this body and the root token.
pub async fn verify_body(app: &TestApp, body: &Value) -> TestResponse {
    app.send_json(axum::http::Method::POST, "/v1/verify", body)
        .await
}

/// Asserts `token` verifies as a token of trusted issuer `name`; answers the verdict.
pub async fn assert_verifies(app: &TestApp, token: &str, name: &str) -> Value {
    let verified = verify(app, token).await;
    assert_eq!(verified.status, StatusCode::OK, "{}", verified.text);
    assert_eq!(verified.json["issuer"], name, "{}", verified.text);
    verified.json
}

/// Asserts `token` is refused with 401 and `code`.
pub async fn assert_refused(app: &TestApp, token: &str, code: &str) {
    verify(app, token)
        .await
        .assert_error(StatusCode::UNAUTHORIZED, code);
}

/// `base` with `changes` applied: each member replaced, a `null` change removes it.
pub fn merged(mut base: Value, changes: Value) -> Value {
    let target = base.as_object_mut().expect("an object");
    for (name, value) in changes.as_object().expect("an object") {
        if value.is_null() {
            target.remove(name);
        } else {
            target.insert(name.clone(), value.clone());
        }
    }
    base
}

/// `PUT /v1/config/identity-mappings/{name}` with the root token; panics unless 201 or 204.
pub async fn put_mapping(app: &TestApp, name: &str, body: Value) {
    let saved = app
        .send_json(
            axum::http::Method::PUT,
            &format!("/v1/config/identity-mappings/{name}"),
            &body,
        )
        .await;
    assert!(
        matches!(saved.status, StatusCode::CREATED | StatusCode::NO_CONTENT),
        "{}",
        saved.text
    );
}

/// `PUT /v1/config/policies/{name}` with these rules and the root token; panics unless 201
/// or 204.
pub async fn put_policy(app: &TestApp, name: &str, rules: Value) {
    let saved = app
        .send_json(
            axum::http::Method::PUT,
            &format!("/v1/config/policies/{name}"),
            &json!({ "rules": rules }),
        )
        .await;
    assert!(
        matches!(saved.status, StatusCode::CREATED | StatusCode::NO_CONTENT),
        "{}",
        saved.text
    );
}

/// `POST /v1/explain` with this body and the root token.
pub async fn explain(app: &TestApp, body: &Value) -> TestResponse {
    app.send_json(axum::http::Method::POST, "/v1/explain", body)
        .await
}
