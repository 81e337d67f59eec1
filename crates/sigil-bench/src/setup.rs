//! Configuration through Sigil's own admin API: per algorithm a signing key, a JWT issuer, a
//! role and a trusted issuer holding that issuer's JWKS inline (so verification needs no
//! fetch); and a concurrent bulk loader for the scale configuration.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::{Value, json};
use sigil_jose::SigningKey;

use crate::client::{Connection, Target};
use crate::crypto::Alg;

/// The role every benchmark issuer has.
pub const ROLE: &str = "bench";

/// What the single-issuer scenarios of one algorithm need.
#[derive(Clone, Debug)]
pub struct Issuer {
    /// Its algorithm.
    pub alg: Alg,
    /// The JWT issuer's name (also its signing key's and its trusted issuer's).
    pub name: String,
}

impl Issuer {
    /// The mint path of the benchmark role.
    pub fn mint_path(&self) -> String {
        format!("/v1/jwt-issuers/{}/roles/{ROLE}/mint", self.name)
    }
}

/// Creates the signing key, JWT issuer, role and trusted issuer of `alg`.
pub async fn create_issuer(connection: &mut Connection, alg: Alg) -> anyhow::Result<Issuer> {
    let name = format!("bench-{}", alg.slug());
    connection
        .post_ok(
            "/v1/config/signing-keys",
            &json!({"name": name, "type": alg.key_type_name()}),
        )
        .await?;
    connection
        .post_ok(
            "/v1/config/jwt-issuers",
            &json!({"name": name, "signing_key": name}),
        )
        .await?;
    connection
        .post_ok(
            &format!("/v1/config/jwt-issuers/{name}/roles"),
            &json!({"name": ROLE}),
        )
        .await?;
    let issuer = Issuer { alg, name };
    let token = mint(connection, &issuer).await?;
    let iss = unverified_claim(&token, "iss")?;
    let jwks = connection
        .get(&format!("/jwt/{}/.well-known/jwks.json", issuer.name))
        .await?
        .json()?;
    let keys = jwks.get("keys").cloned().context("JWKS without keys")?;
    connection
        .post_ok(
            "/v1/config/trusted-issuers",
            &json!({"name": issuer.name, "issuer": iss, "keys": keys}),
        )
        .await?;
    Ok(issuer)
}

/// A trusted issuer the benchmark signs for itself.
pub struct Trusted {
    /// Its name.
    pub name: String,
    /// Its `iss`.
    pub iss: String,
}

/// Trusts `signer`'s tokens, inline key, `require_jti`: each token may be exchanged once.
pub async fn trust_single_use_signer(
    connection: &mut Connection,
    issuer: &Issuer,
    signer: &SigningKey,
) -> anyhow::Result<Trusted> {
    let trusted = Trusted {
        name: format!("{}-single-use", issuer.name),
        iss: format!("https://single-use.{}.bench.invalid", issuer.name),
    };
    connection
        .post_ok(
            "/v1/config/trusted-issuers",
            &json!({
                "name": trusted.name,
                "issuer": trusted.iss,
                "keys": [signer.public_jwk()],
                "require_jti": true,
            }),
        )
        .await?;
    Ok(trusted)
}

/// Lets tokens of the trusted issuer `trusted` be exchanged for `issuer`'s benchmark role: a
/// policy granting the role's mint, and an identity mapping giving it to every subject.
pub async fn allow_exchange(
    connection: &mut Connection,
    issuer: &Issuer,
    trusted: &str,
) -> anyhow::Result<()> {
    let name = format!("{trusted}-exchange");
    let mint_path = format!("/jwt-issuers/{}/roles/{ROLE}/mint", issuer.name);
    connection
        .post_ok(
            "/v1/config/policies",
            &json!({"name": name, "rules": [{"path": mint_path, "operations": ["update"]}]}),
        )
        .await?;
    connection
        .post_ok(
            "/v1/config/identity-mappings",
            &json!({
                "name": name,
                "trusted_issuer": trusted,
                "id_match": "(.+)",
                "policies": [name],
            }),
        )
        .await?;
    Ok(())
}

/// Mints one token of the benchmark role, valid for an hour.
pub async fn mint(connection: &mut Connection, issuer: &Issuer) -> anyhow::Result<String> {
    let minted = connection
        .post_ok(&issuer.mint_path(), &json!({"ttl": "1h"}))
        .await?;
    minted
        .get("token")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .context("mint answered no token")
}

/// A string claim read without verification (the benchmark made the token itself).
pub fn unverified_claim(token: &str, claim: &str) -> anyhow::Result<String> {
    let payload = token.split('.').nth(1).context("not a compact JWS")?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload)?;
    let claims: Value = serde_json::from_slice(&bytes)?;
    claims
        .get(claim)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .with_context(|| format!("token has no string `{claim}`"))
}

/// POSTs every `(path, body)` over `concurrency` connections; each must answer 2xx.
/// Answers the wall time.
pub async fn post_all(
    target: &Target,
    calls: Vec<(String, Value)>,
    concurrency: usize,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let calls = Arc::new(calls);
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency.max(1) {
        let mut connection = target.connect().await?;
        let calls = calls.clone();
        let next = next.clone();
        tasks.push(tokio::spawn(async move {
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some((path, body)) = calls.get(index) else {
                    return anyhow::Ok(());
                };
                connection.post_ok(path, body).await?;
            }
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed())
}

/// Initialises a fresh non-dev server with one share and unseals it; answers the share and
/// the root token.
pub async fn initialise(target: &Target) -> anyhow::Result<(String, String)> {
    let mut connection = target.connect().await?;
    let init = connection
        .post_ok("/v1/sys/init", &json!({"shares": 1, "threshold": 1}))
        .await?;
    let share = init
        .pointer("/keys/0")
        .and_then(Value::as_str)
        .context("init answered no key")?
        .to_owned();
    let root = init
        .get("root_token")
        .and_then(Value::as_str)
        .context("init answered no root token")?
        .to_owned();
    let status = connection
        .post_ok("/v1/sys/unseal", &json!({"key": share}))
        .await?;
    if status.get("sealed") != Some(&Value::Bool(false)) {
        bail!("still sealed after unseal: {status}");
    }
    Ok((share, root))
}
