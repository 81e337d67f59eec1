//! The `TestApp` builder: a real `App` over a temporary SQLite file and a `FixedClock`,
//! initialised and unsealed unless told otherwise, driven through `router(state)` in-process.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use sigil::app::App;
use sigil::clock::{Clock, FixedClock, SystemClock};
use sigil::config::{Config, ServeArgs};
use sigil::http::{AppState, router};
use sigil::seal::Share;
use sigil::storage::sqlite::SqliteStore;
use sigil_jose::SigningKey;
use tempfile::TempDir;
use tower::ServiceExt;

/// The name of Sigil's own signing key.
pub const INTERNAL_KEY: &str = "sigil-internal";

/// How a `TestApp` is set up.
pub struct TestAppBuilder {
    shares: u8,
    threshold: u8,
    initialise: bool,
    unseal: bool,
    args: ServeArgs,
}

/// One Sigil server in-process.
pub struct TestApp {
    /// The app, as handlers see it.
    pub app: Arc<App>,
    /// The clock every part of the app reads.
    pub clock: FixedClock,
    /// The unseal key shares from init (empty when not initialised).
    pub shares: Vec<String>,
    /// The root token from init (empty when not initialised).
    pub root_token: String,
    args: ServeArgs,
    dir: Arc<TempDir>,
    router: axum::Router,
}

/// An answer, read whole.
#[derive(Debug)]
pub struct TestResponse {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as text.
    pub text: String,
    /// The body as JSON, or `Null` when it is not JSON.
    pub json: Value,
}

/// A request being built: method, path, token, headers and body.
pub struct Call<'a> {
    app: &'a TestApp,
    request: axum::http::request::Builder,
    body: Vec<u8>,
}

impl TestAppBuilder {
    /// Init with `shares` shares of which `threshold` unseal.
    pub fn shares(mut self, shares: u8, threshold: u8) -> Self {
        self.shares = shares;
        self.threshold = threshold;
        self
    }

    /// Leave the server uninitialised (and so sealed).
    pub fn uninitialised(mut self) -> Self {
        self.initialise = false;
        self.unseal = false;
        self
    }

    /// Initialise, but do not unseal.
    pub fn sealed(mut self) -> Self {
        self.unseal = false;
        self
    }

    /// Set the request body limit.
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.args.max_body_bytes = Some(limit);
        self
    }

    /// Builds the server.
    pub async fn build(self) -> TestApp {
        let dir = Arc::new(tempfile::tempdir().expect("temporary directory"));
        let clock = FixedClock::at(SystemClock.now());
        let mut app = TestApp::open(self.args, dir, clock).await;
        if self.initialise {
            let init = app
                .app
                .initialise(self.shares, self.threshold)
                .await
                .expect("init");
            app.shares = init.shares.iter().map(Share::encode).collect();
            app.root_token = init.root_token.token;
        }
        if self.unseal {
            app.unseal_with(self.threshold).await;
        }
        app
    }
}

impl TestApp {
    /// A builder: 1 share, threshold 1, initialised and unsealed.
    pub fn builder() -> TestAppBuilder {
        TestAppBuilder {
            shares: 1,
            threshold: 1,
            initialise: true,
            unseal: true,
            args: ServeArgs::default(),
        }
    }

    /// The default server: initialised with one share and unsealed.
    pub async fn new() -> TestApp {
        TestApp::builder().build().await
    }

    async fn open(mut args: ServeArgs, dir: Arc<TempDir>, clock: FixedClock) -> TestApp {
        args.data_dir = Some(dir.path().to_owned());
        let config = Config::resolve(&args).expect("configuration");
        let stamp = clock.clone();
        let store = SqliteStore::open(&dir.path().join("sigil.sqlite"))
            .await
            .expect("sqlite store")
            .with_clock(move || stamp.now());
        let app = App::with_store(config, Arc::new(clock.clone()), Arc::new(store))
            .await
            .expect("app");
        TestApp {
            router: router(AppState(app.clone())),
            app,
            clock,
            shares: Vec::new(),
            root_token: String::new(),
            args,
            dir,
        }
    }

    /// A new server over the same database file and clock, as after a restart: sealed.
    pub async fn restart(self) -> TestApp {
        let TestApp {
            app,
            clock,
            shares,
            root_token,
            args,
            dir,
            router,
        } = self;
        drop(router);
        drop(app);
        let mut restarted = TestApp::open(args, dir, clock).await;
        restarted.shares = shares;
        restarted.root_token = root_token;
        restarted
    }

    /// Gives the first `count` shares through the app; panics unless that unseals.
    pub async fn unseal_with(&self, count: u8) {
        let mut status = None;
        for share in self.shares.iter().take(usize::from(count)) {
            let share = Share::decode(share).expect("share decodes");
            status = Some(self.app.unseal(share).await.expect("unseal"));
        }
        assert!(!status.expect("at least one share").sealed, "still sealed");
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The SQLite database file.
    pub fn database_path(&self) -> PathBuf {
        self.dir.path().join("sigil.sqlite")
    }

    /// Sends one request, as the brief's helper: optional bearer token and body.
    pub async fn request(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<(&str, Vec<u8>)>,
    ) -> TestResponse {
        let mut call = self.call(method, path);
        if let Some(token) = token {
            call = call.token(token);
        }
        if let Some((content_type, bytes)) = body {
            call = call.body(content_type, bytes);
        }
        call.send().await
    }

    /// Starts a request without credentials.
    pub fn call(&self, method: Method, path: &str) -> Call<'_> {
        Call {
            app: self,
            request: Request::builder().method(method).uri(path),
            body: Vec::new(),
        }
    }

    /// Starts a request carrying the root token.
    pub fn root(&self, method: Method, path: &str) -> Call<'_> {
        self.call(method, path).token(&self.root_token)
    }

    /// `GET` with the root token.
    pub async fn get(&self, path: &str) -> TestResponse {
        self.root(Method::GET, path).send().await
    }

    /// A JSON request with the root token.
    pub async fn send_json(&self, method: Method, path: &str, body: &Value) -> TestResponse {
        self.root(method, path).json(body).send().await
    }

    /// Creates a signing key through the API and answers its state; panics unless 201.
    pub async fn create_key(&self, name: &str, key_type: &str) -> Value {
        self.create_key_with(json!({"name": name, "type": key_type}))
            .await
    }

    /// Creates a signing key from `body` and answers its state; panics unless 201.
    pub async fn create_key_with(&self, body: Value) -> Value {
        let name = body["name"]
            .as_str()
            .expect("body names the key")
            .to_owned();
        let created = self
            .send_json(Method::POST, "/v1/config/signing-keys", &body)
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        self.key_state(&name).await
    }

    /// `GET /v1/state/signing-keys/{name}`; panics unless 200.
    pub async fn key_state(&self, name: &str) -> Value {
        let state = self.get(&format!("/v1/state/signing-keys/{name}")).await;
        assert_eq!(state.status, StatusCode::OK, "{}", state.text);
        state.json
    }

    /// The key pair that signs for `name` now, straight from the keyring.
    pub fn signer(&self, name: &str) -> Arc<SigningKey> {
        self.app
            .keys
            .keyring()
            .get(name)
            .unwrap_or_else(|| panic!("no key {name} in the keyring"))
            .signer_at(self.clock.now())
            .unwrap_or_else(|| panic!("key {name} has no signer"))
            .clone()
    }

    /// The current time of the app's clock.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The names listed by `GET /v1/config/signing-keys?keys=true`.
    pub async fn key_names(&self) -> Vec<String> {
        let list = self.get("/v1/config/signing-keys?keys=true").await;
        assert_eq!(list.status, StatusCode::OK, "{}", list.text);
        serde_json::from_value(list.json).expect("a list of names")
    }
}

impl Call<'_> {
    /// Adds `Authorization: Bearer <token>`.
    pub fn token(self, token: &str) -> Self {
        self.header(header::AUTHORIZATION.as_str(), &format!("Bearer {token}"))
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.request = self.request.header(name, value);
        self
    }

    /// Sets a JSON body.
    pub fn json(self, body: &Value) -> Self {
        self.body(
            "application/json",
            serde_json::to_vec(body).expect("JSON body"),
        )
    }

    /// Sets a YAML body.
    pub fn yaml(self, body: &str) -> Self {
        self.body("application/yaml", body.as_bytes().to_vec())
    }

    /// Sets a body of any content type.
    pub fn body(mut self, content_type: &str, bytes: Vec<u8>) -> Self {
        self.request = self.request.header(header::CONTENT_TYPE, content_type);
        self.body = bytes;
        self
    }

    /// Sends the request through the router and reads the whole answer.
    pub async fn send(self) -> TestResponse {
        let request = self
            .request
            .body(Body::from(self.body))
            .expect("a valid request");
        let response = self
            .app
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("the router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("the body reads")
            .to_bytes();
        let text = String::from_utf8(bytes.to_vec()).expect("a UTF-8 body");
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        TestResponse {
            status,
            headers,
            text,
            json,
        }
    }
}

impl TestResponse {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    }

    /// `error_code` of an error body.
    pub fn error_code(&self) -> &str {
        self.json["error_code"].as_str().unwrap_or_default()
    }

    /// The names in `invalid_fields`, in order.
    pub fn field_names(&self) -> Vec<&str> {
        self.json["invalid_fields"]
            .as_array()
            .map(|fields| fields.iter().filter_map(|f| f["name"].as_str()).collect())
            .unwrap_or_default()
    }

    /// The invalid field called `name`; panics when absent.
    pub fn field(&self, name: &str) -> &Value {
        self.json["invalid_fields"]
            .as_array()
            .and_then(|fields| fields.iter().find(|f| f["name"] == name))
            .unwrap_or_else(|| panic!("no invalid field {name} in {}", self.text))
    }

    /// Asserts a 400 `invalid_request` listing exactly `names`, in any order, each with a
    /// reason.
    pub fn assert_invalid(&self, names: &[&str]) {
        assert_eq!(self.status, StatusCode::BAD_REQUEST, "{}", self.text);
        assert_eq!(self.error_code(), "invalid_request", "{}", self.text);
        let mut listed = self.field_names();
        listed.sort_unstable();
        let mut expected = names.to_vec();
        expected.sort_unstable();
        assert_eq!(listed, expected, "{}", self.text);
        for name in names {
            assert!(
                !self.field(name)["reason"]
                    .as_str()
                    .unwrap_or_default()
                    .is_empty(),
                "field {name} has no reason: {}",
                self.text
            );
        }
    }

    /// Asserts a status and an `error_code`.
    pub fn assert_error(&self, status: StatusCode, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.error_code(), code, "{}", self.text);
        assert!(
            self.json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "an error has a message: {}",
            self.text
        );
    }
}

/// Every key type with the algorithm it signs with by default, plus RSA with PS256.
pub const KEY_TYPES: [(&str, &str); 7] = [
    ("ecdsa-p256", "ES256"),
    ("ecdsa-p384", "ES384"),
    ("ecdsa-p521", "ES512"),
    ("rsa-2048", "RS256"),
    ("rsa-3072", "RS256"),
    ("rsa-4096", "RS256"),
    ("ed25519", "EdDSA"),
];
