//! The single-issuer scenarios on a `sigil serve --dev`: the HTTP floor (`/healthz`), then mint
//! and verify per algorithm, then the RFC 8693 token exchange. Verify and exchange cycle
//! through many distinct tokens so that no cache of verified tokens can stand in for the work.

use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http::Method;

use crate::Plan;
use crate::client::{Connection, Target};
use crate::crypto::{Alg, Ceiling};
use crate::load::{Call, Meter, Workload};
use crate::report::Row;
use crate::server::{Launch, Server};
use crate::setup::{self, Issuer};

/// Distinct tokens the verify and exchange scenarios cycle through.
pub const DISTINCT_TOKENS: usize = 256;
const JSON: &str = "application/json";
const FORM: &str = "application/x-www-form-urlencoded";

/// What the single-issuer part measured.
pub struct Single {
    /// One row per scenario.
    pub rows: Vec<Row>,
    /// How the exchange went, when it was not measured or needs a word.
    pub exchange_note: Option<String>,
    /// Peak RSS of the `--dev` server.
    pub peak_rss: u64,
}

/// Starts `sigil serve --dev`, configures it and runs every selected scenario.
pub async fn run(plan: &Plan<'_>, ceilings: &[Ceiling]) -> anyhow::Result<Single> {
    eprintln!("== single issuer per algorithm (sigil serve --dev)");
    let server = Server::start(&Launch {
        binary: plan.binary,
        args: vec!["--dev".into()],
        log: plan.work.join("dev.log"),
        log_filter: plan.log_filter,
    })?;
    eprintln!("   server pid {} on {}", server.pid(), server.addr);
    let token = server
        .root_token
        .clone()
        .context("--dev printed no root token")?;
    let target = Target::new(server.addr, token)?;
    let meter = Meter {
        target: &target,
        pid: server.pid(),
        ticks: plan.ticks,
        shape: plan.shape,
    };
    let mut admin = target.connect().await?;
    let mut issuers = Vec::new();
    for alg in Alg::ALL {
        issuers.push(setup::create_issuer(&mut admin, alg).await?);
    }
    let ceiling = |alg: Alg| {
        ceilings
            .iter()
            .find(|c| c.alg == alg)
            .copied()
            .context("missing ceiling")
    };

    let mut rows = Vec::new();
    let floor = "GET /healthz (no crypto)";
    if plan.selects(floor) {
        // HTTP, routing, the request-context layer and the kernel, no crypto.
        let workload = Workload::get("/healthz".into());
        rows.push(meter.measure(floor, &workload, f64::INFINITY).await?);
    }
    for issuer in &issuers {
        let name = format!("mint {}", issuer.alg.name());
        if plan.selects(&name) {
            let workload = Workload::single(issuer.mint_path(), Bytes::from_static(b"{}"), JSON);
            let rate = ceiling(issuer.alg)?.raw.sign;
            rows.push(meter.measure(&name, &workload, rate).await?);
        }
    }
    for issuer in &issuers {
        let name = format!("verify {}", issuer.alg.name());
        if plan.selects(&name) {
            let workload = verify_workload(&mut admin, issuer).await?;
            let rate = ceiling(issuer.alg)?.raw.verify;
            rows.push(meter.measure(&name, &workload, rate).await?);
        }
    }
    let mut exchange_note = None;
    if let Some(issuer) = issuers.first().filter(|_| plan.selects("exchange ES256")) {
        let rate = combined(&[
            ceiling(issuer.alg)?.raw.sign,
            ceiling(issuer.alg)?.raw.verify,
        ]);
        exchange_note = Some(match exchange_workload(&mut admin, issuer).await? {
            Ok(workload) => {
                let name = format!("exchange {}", issuer.alg.name());
                rows.push(meter.measure(&name, &workload, rate).await?);
                format!(
                    "measured above (`{name}`): {DISTINCT_TOKENS} subject tokens of the trusted \
                     issuer `{}` traded for its role `{}`; `÷ raw crypto` there is over one \
                     verify plus one sign.",
                    issuer.name,
                    setup::ROLE
                )
            }
            Err(why) => format!("not measured: {why}"),
        });
    }
    let peak_rss = server.peak_rss_bytes()?;
    drop(admin);
    server.stop();
    Ok(Single {
        rows,
        exchange_note,
        peak_rss,
    })
}

/// The rate of doing each operation once per request: 1 / Σ(1 / rate).
fn combined(rates: &[f64]) -> f64 {
    1.0 / rates.iter().map(|r| 1.0 / r).sum::<f64>()
}

async fn verify_workload(admin: &mut Connection, issuer: &Issuer) -> anyhow::Result<Workload> {
    let mut calls = Vec::with_capacity(DISTINCT_TOKENS);
    for _ in 0..DISTINCT_TOKENS {
        let token = setup::mint(admin, issuer).await?;
        calls.push(Call {
            path: "/v1/verify".into(),
            body: Bytes::from(serde_json::to_vec(&serde_json::json!({ "token": token }))?),
        });
    }
    Ok(Workload {
        calls: Arc::new(calls),
        content_type: JSON,
        method: Method::POST,
    })
}

/// The exchange calls (`POST /jwt/{name}/oauth/token`, RFC 8693) once a probe succeeded, or
/// why they cannot run on this server.
async fn exchange_workload(
    admin: &mut Connection,
    issuer: &Issuer,
) -> anyhow::Result<Result<Workload, String>> {
    if let Err(error) = setup::allow_exchange(admin, issuer).await {
        return Ok(Err(format!(
            "its policy and mapping could not be created ({error:#})"
        )));
    }
    let path = format!("/jwt/{}/oauth/token", issuer.name);
    let mut calls = Vec::with_capacity(DISTINCT_TOKENS);
    for _ in 0..DISTINCT_TOKENS {
        let subject = setup::mint(admin, issuer).await?;
        let form = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange\
             &subject_token={subject}\
             &subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Ajwt\
             &scope={}",
            setup::ROLE
        );
        calls.push(Call {
            path: path.clone(),
            body: Bytes::from(form),
        });
    }
    let probe_body = calls.first().map(|c| c.body.clone()).unwrap_or_default();
    let probe = admin.send(Method::POST, &path, FORM, probe_body).await?;
    if probe.status != http::StatusCode::OK {
        return Ok(Err(format!("the probe answered {}", probe.describe())));
    }
    Ok(Ok(Workload {
        calls: Arc::new(calls),
        content_type: FORM,
        method: Method::POST,
    }))
}
