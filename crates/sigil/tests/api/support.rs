//! The `TestApp` builder: a real `App` over a temporary SQLite file and a `FixedClock`,
//! initialised and unsealed unless told otherwise, driven through `router(state)` in-process.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http_body_util::BodyExt;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Value, json};
use sigil::app::App;
use sigil::clock::{Clock, FixedClock, SystemClock};
use sigil::config::{Config, ServeArgs};
use sigil::duration::HumanDuration;
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
    config_file: Option<String>,
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

    /// Set this node's `--site`.
    pub fn site(mut self, site: &str) -> Self {
        self.args.site = Some(site.to_owned());
        self
    }

    /// Set `--public-url`.
    pub fn public_url(mut self, url: &str) -> Self {
        self.args.public_url = Some(url.to_owned());
        self
    }

    /// Set `--allow-private-networks`, so key sources on 127.0.0.1 can be fetched.
    pub fn allow_private_networks(mut self) -> Self {
        self.args.allow_private_networks = true;
        self
    }

    /// Set `--max-token-bytes`.
    pub fn max_token_bytes(mut self, limit: usize) -> Self {
        self.args.max_token_bytes = Some(limit);
        self
    }

    /// Set `--session-ttl` (`10m`, `2h`).
    pub fn session_ttl(mut self, ttl: &str) -> Self {
        self.args.session_ttl = Some(HumanDuration::parse(ttl).expect("a duration"));
        self
    }

    /// Start with `--config` naming a TOML file of this text (kept in the data directory).
    pub fn config_file(mut self, toml: &str) -> Self {
        self.config_file = Some(toml.to_owned());
        self
    }

    /// Builds the server.
    pub async fn build(self) -> TestApp {
        let dir = Arc::new(tempfile::tempdir().expect("temporary directory"));
        let clock = FixedClock::at(SystemClock.now());
        let mut args = self.args;
        if let Some(toml) = &self.config_file {
            let path = dir.path().join("sigil.toml");
            std::fs::write(&path, toml).expect("config file written");
            args.config = Some(path);
        }
        let mut app = TestApp::open(args, dir, clock).await;
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
            config_file: None,
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

    /// Another node of the same deployment: a second app over the same database file and
    /// clock, built from what is stored now, unsealed with the same shares.
    pub async fn second_node(&self) -> TestApp {
        let mut node = TestApp::open(self.args.clone(), self.dir.clone(), self.clock.clone()).await;
        node.shares = self.shares.clone();
        node.root_token = self.root_token.clone();
        for share in &node.shares {
            let share = Share::decode(share).expect("share decodes");
            if !node.app.unseal(share).await.expect("unseal").sealed {
                return node;
            }
        }
        panic!("the second node is still sealed");
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

    /// Creates a JWT issuer `name` signing with `key` (defaults otherwise) and answers its
    /// state; panics unless 201.
    pub async fn create_issuer(&self, name: &str, key: &str) -> Value {
        self.create_issuer_with(json!({"name": name, "signing_key": key}))
            .await
    }

    /// Creates a JWT issuer from `body` and answers its state; panics unless 201.
    pub async fn create_issuer_with(&self, body: Value) -> Value {
        let name = body["name"]
            .as_str()
            .expect("body names the issuer")
            .to_owned();
        let created = self
            .send_json(Method::POST, "/v1/config/jwt-issuers", &body)
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        self.issuer_state(&name).await
    }

    /// `GET /v1/state/jwt-issuers/{name}`; panics unless 200.
    pub async fn issuer_state(&self, name: &str) -> Value {
        let state = self.get(&format!("/v1/state/jwt-issuers/{name}")).await;
        assert_eq!(state.status, StatusCode::OK, "{}", state.text);
        state.json
    }

    /// Creates a role of `issuer` from `body` and answers what the API answered; panics
    /// unless 201.
    pub async fn create_role(&self, issuer: &str, body: Value) -> Value {
        let created = self
            .send_json(
                Method::POST,
                &format!("/v1/config/jwt-issuers/{issuer}/roles"),
                &body,
            )
            .await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        created.json
    }

    /// `POST /v1/jwt-issuers/{issuer}/roles/{role}/mint` with the root token and `body`.
    pub async fn mint(&self, issuer: &str, role: &str, body: &Value) -> TestResponse {
        self.send_json(
            Method::POST,
            &format!("/v1/jwt-issuers/{issuer}/roles/{role}/mint"),
            body,
        )
        .await
    }

    /// Mints and decodes (without verifying) the token; panics unless 200.
    pub async fn mint_ok(&self, issuer: &str, role: &str, body: &Value) -> MintedToken {
        let minted = self.mint(issuer, role, body).await;
        assert_eq!(minted.status, StatusCode::OK, "{}", minted.text);
        let token = minted.json["token"]
            .as_str()
            .expect("the answer has a token")
            .to_owned();
        let (header, claims) = decode_unverified(&token);
        MintedToken {
            token,
            header,
            claims,
            answer: minted.json,
        }
    }

    /// `GET /jwt/{issuer}/.well-known/jwks.json`, without a token.
    pub async fn jwks(&self, issuer: &str) -> TestResponse {
        self.call(Method::GET, &format!("/jwt/{issuer}/.well-known/jwks.json"))
            .send()
            .await
    }

    /// The `kid`s of the JWKS of `issuer`, in order; panics unless 200.
    pub async fn jwks_kids(&self, issuer: &str) -> Vec<String> {
        let jwks = self.jwks(issuer).await;
        assert_eq!(jwks.status, StatusCode::OK, "{}", jwks.text);
        jwks.json["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["kid"].as_str().expect("kid").to_owned())
            .collect()
    }

    /// `GET /jwt/{issuer}/.well-known/openid-configuration`, without a token.
    pub async fn discovery(&self, issuer: &str) -> TestResponse {
        self.call(
            Method::GET,
            &format!("/jwt/{issuer}/.well-known/openid-configuration"),
        )
        .send()
        .await
    }

    /// Runs the key lifecycle once; answers the keys that changed.
    pub async fn run_lifecycle(&self) -> Vec<String> {
        self.app.keys.run_lifecycle().await.expect("lifecycle")
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

/// A minted token with its header and claims decoded (not verified).
#[derive(Debug)]
pub struct MintedToken {
    /// The compact JWS.
    pub token: String,
    /// The JOSE header.
    pub header: Value,
    /// The claims.
    pub claims: Value,
    /// The mint answer: `{token, expires_at, kid, jti}`.
    pub answer: Value,
}

impl MintedToken {
    /// The header's `kid`.
    pub fn kid(&self) -> &str {
        self.header["kid"].as_str().expect("kid in the header")
    }
}

/// The header and claims of a compact JWS, read without checking the signature.
pub fn decode_unverified(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS has three parts: {token}");
    let part = |text: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(text).expect("base64url")).expect("JSON")
    };
    (part(parts[0]), part(parts[1]))
}

/// The token with one claim replaced, header and signature kept.
pub fn tampered(token: &str, claim: &str, value: Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let (_, mut claims) = decode_unverified(token);
    claims[claim] = value;
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).expect("JSON"));
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// Verifies `token` the way an independent relying party would: the key is the JWKS entry
/// whose `kid` the header names, its `alg` must be the header's, and the signature is checked
/// by `jsonwebtoken` (RustCrypto's `p521` for ES512, which `jsonwebtoken` lacks). Time claims
/// are the caller's business (the `FixedClock` runs apart from the wall clock).
pub fn verify_with_jwks(token: &str, jwks: &Value) -> Result<Value, String> {
    let (header, claims) = decode_unverified(token);
    let kid = header["kid"].as_str().ok_or("the header has no kid")?;
    let alg = header["alg"].as_str().ok_or("the header has no alg")?;
    let jwk = jwks["keys"]
        .as_array()
        .ok_or("the JWKS has no keys array")?
        .iter()
        .find(|k| k["kid"] == kid)
        .ok_or_else(|| format!("no key with kid {kid} in the JWKS"))?;
    if jwk["alg"] != alg {
        return Err(format!(
            "the JWK's alg {} is not the header's {alg}",
            jwk["alg"]
        ));
    }
    if jwk["use"] != "sig" {
        return Err(format!("the JWK's use is {}, not sig", jwk["use"]));
    }
    if alg == "ES512" {
        return if p521_verifies(token, jwk) {
            Ok(claims)
        } else {
            Err("ES512 signature mismatch".into())
        };
    }
    let algorithm: jsonwebtoken::Algorithm = alg.parse().map_err(|e| format!("{alg}: {e}"))?;
    let member = |name: &str| jwk[name].as_str().unwrap_or_default().to_owned();
    let key = match jwk["kty"].as_str() {
        Some("EC") => DecodingKey::from_ec_components(&member("x"), &member("y")),
        Some("RSA") => DecodingKey::from_rsa_components(&member("n"), &member("e")),
        Some("OKP") => DecodingKey::from_ed_components(&member("x")),
        other => return Err(format!("unexpected kty {other:?}")),
    }
    .map_err(|e| e.to_string())?;
    let mut validation = Validation::new(algorithm);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .map(|data| data.claims)
        .map_err(|e| e.to_string())
}

fn p521_verifies(token: &str, jwk: &Value) -> bool {
    use p521::ecdsa::signature::Verifier;
    let coordinate = |name: &str| {
        URL_SAFE_NO_PAD
            .decode(jwk[name].as_str().unwrap_or_default())
            .unwrap_or_default()
    };
    let mut point = vec![0x04];
    point.extend(coordinate("x"));
    point.extend(coordinate("y"));
    let Ok(key) = p521::ecdsa::VerifyingKey::from_sec1_bytes(&point) else {
        return false;
    };
    let Some((signing_input, signature)) = token.rsplit_once('.') else {
        return false;
    };
    let Ok(signature) = URL_SAFE_NO_PAD.decode(signature) else {
        return false;
    };
    let Ok(signature) = p521::ecdsa::Signature::from_slice(&signature) else {
        return false;
    };
    key.verify(signing_input.as_bytes(), &signature).is_ok()
}
