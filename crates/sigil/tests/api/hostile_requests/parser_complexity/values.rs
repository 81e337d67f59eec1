//! Values parsed from bodies: durations (long digit strings, many units), templates in a
//! role's claims, audience globs and policy path patterns with many `*`; each timed against a
//! harmless value of the same size on the same endpoint.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::super::cost::assert_linear;
use super::super::{assert_healthy, assert_no_server_error, caller_token, clipped, with_caller};
use super::BODY_BYTES;
use crate::support::{TestApp, TestResponse};

const ROLES: &str = "/v1/config/jwt-issuers/i/roles";

/// Key `k`, issuer `i` and role `r` (no claims, no audiences allowed).
async fn minting_app() -> TestApp {
    let app = TestApp::new().await;
    app.create_key("k", "ecdsa-p256").await;
    app.create_issuer("i", "k").await;
    app.create_role("i", json!({"name": "r"})).await;
    app
}

/// Asserts a hostile value was answered with 2xx or 400, never a server error.
fn assert_served_or_refused(answer: &TestResponse, case: &str) {
    assert_no_server_error(answer, case);
    assert!(
        answer.status.is_success() || answer.status == StatusCode::BAD_REQUEST,
        "{case}: {} {}",
        answer.status,
        clipped(&answer.text)
    );
}

#[tokio::test]
async fn durations_with_long_digit_strings_or_many_units_cost_linear_time() {
    let app = minting_app().await;
    let n = BODY_BYTES - 64;
    let cases = [
        ("leading zeros", format!("{}1s", "0".repeat(n))),
        ("a huge number", format!("{}s", "9".repeat(n))),
        ("digits without a unit", "1".repeat(n)),
        ("the same unit repeated", "1s".repeat(n / 2)),
        ("every unit repeated", "1y1d1h1m1s".repeat(n / 10)),
        ("units without digits", "s".repeat(n)),
    ];
    let validate_key = "/v1/config/signing-keys?validate=true";

    for (case, duration) in cases {
        let padding = "p".repeat(duration.len());
        let worst_mint = json!({"ttl": duration});
        let best_mint = json!({"ttl": "1s", "claims": {"x": padding}});
        let (_, answer) = assert_linear(
            &format!("mint ttl: {case}"),
            || app.mint("i", "r", &best_mint),
            || app.mint("i", "r", &worst_mint),
        )
        .await;
        assert_served_or_refused(&answer, case);

        let worst_key = json!({"name": "n", "type": "ed25519", "rotation_period": duration});
        let best_key =
            json!({"name": "n", "type": "ed25519", "rotation_period": "30d", "x": padding});
        let (_, answer) = assert_linear(
            &format!("rotation_period: {case}"),
            || app.send_json(Method::POST, validate_key, &best_key),
            || app.send_json(Method::POST, validate_key, &worst_key),
        )
        .await;
        assert_served_or_refused(&answer, case);
    }
    assert_healthy(&app).await;
}

/// `PUT` a role `name` of issuer `i` with `body`.
async fn put_role(app: &TestApp, name: &str, body: &Value) -> TestResponse {
    app.send_json(Method::PUT, &format!("{ROLES}/{name}"), body)
        .await
}

#[tokio::test]
async fn templates_in_a_roles_claims_cost_linear_time_to_save_and_to_mint() {
    let app = minting_app().await;
    let n = BODY_BYTES - 64;
    let placeholder = "{{identity.id}}";
    let cases = [
        (
            "many placeholders",
            placeholder.repeat(n / placeholder.len()),
        ),
        ("many unclosed openings", "{{".repeat(n / 2)),
        (
            "openings inside a placeholder",
            format!("{{{{{}}}}}", " {{".repeat(n / 3)),
        ),
        (
            "a claim path of many names",
            format!("{{{{identity.claims.{}a}}}}", "a.".repeat(n / 2 - 16)),
        ),
        ("many closings", "}}".repeat(n / 2)),
    ];

    for (case, template) in cases {
        let plain = "x".repeat(template.len());
        for field in ["fixed_claims", "subject_template"] {
            let shape = |text: &str| match field {
                "fixed_claims" => json!({"fixed_claims": {"c": text}}),
                _ => json!({"subject_template": text}),
            };
            let (worst, best) = (shape(&template), shape(&plain));
            let label = format!("{field}: {case}");
            let (best_saved, worst_saved) = assert_linear(
                &format!("saving {label}"),
                || put_role(&app, "best", &best),
                || put_role(&app, "worst", &worst),
            )
            .await;
            assert!(
                best_saved.status.is_success(),
                "{label}: {}",
                clipped(&best_saved.text)
            );
            assert_served_or_refused(&worst_saved, &label);
            if !worst_saved.status.is_success() {
                continue;
            }
            let empty = json!({});
            let (_, minted) = assert_linear(
                &format!("minting {label}"),
                || app.mint("i", "best", &empty),
                || app.mint("i", "worst", &empty),
            )
            .await;
            assert_served_or_refused(&minted, &label);
        }
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn audience_globs_with_many_stars_cost_linear_time_to_save_and_to_match() {
    let app = minting_app().await;
    let stars = format!("https://{}.example.com", "*a".repeat(490));
    let labels = format!("https://{}*.example.com", "*.".repeat(490));
    let many: Vec<String> = (0..256)
        .map(|i| format!("https://*.x{i}.example.com"))
        .collect();
    let cases = [
        ("one glob of 490 stars", json!([stars])),
        ("one glob of 490 starred labels", json!([labels])),
        ("256 globs", json!(many)),
    ];

    for (case, globs) in cases {
        let plain: Vec<String> = globs
            .as_array()
            .expect("globs")
            .iter()
            .map(|g| "h".repeat(g.as_str().map_or(0, str::len)))
            .collect();
        let (best_role, worst_role) = (
            json!({"allowed_audiences": plain}),
            json!({"allowed_audiences": globs}),
        );
        let (best_saved, worst_saved) = assert_linear(
            &format!("saving {case}"),
            || put_role(&app, "best", &best_role),
            || put_role(&app, "worst", &worst_role),
        )
        .await;
        assert!(
            best_saved.status.is_success(),
            "{case}: {}",
            clipped(&best_saved.text)
        );
        assert_served_or_refused(&worst_saved, case);
        if !worst_saved.status.is_success() {
            continue;
        }
        let near_miss = format!("https://{}.example.co", "a".repeat(8_000));
        let far_miss = "z".repeat(near_miss.len());
        let (near, far) = (
            json!({"audiences": [near_miss]}),
            json!({"audiences": [far_miss]}),
        );
        let (_, matched) = assert_linear(
            &format!("matching against {case}"),
            || app.mint("i", "worst", &far),
            || app.mint("i", "worst", &near),
        )
        .await;
        assert_eq!(
            matched.status,
            StatusCode::BAD_REQUEST,
            "{case}: {}",
            clipped(&matched.text)
        );
    }
    assert_healthy(&app).await;
}

#[tokio::test]
async fn policy_path_patterns_with_many_stars_cost_linear_time_to_save_and_to_decide() {
    let starred = format!("{}/**", "/*".repeat(509));
    let literal = format!("{}/aa", "/a".repeat(509));
    let rules = |path: &str| -> Value {
        (0..200)
            .map(|_| json!({"path": path, "operations": ["read"]}))
            .collect()
    };
    let (worst_app, worst_key) = with_caller(TestApp::new().await, json!([])).await;
    let (best_app, best_key) = with_caller(TestApp::new().await, json!([])).await;
    let (best_rules, worst_rules) = (
        json!({"rules": rules(&literal)}),
        json!({"rules": rules(&starred)}),
    );
    let policy = "/v1/config/policies/caller";

    let (best_saved, worst_saved) = assert_linear(
        "saving 200 rules of 510 segments",
        || best_app.send_json(Method::PUT, policy, &best_rules),
        || worst_app.send_json(Method::PUT, policy, &worst_rules),
    )
    .await;
    assert!(
        best_saved.status.is_success(),
        "{}",
        clipped(&best_saved.text)
    );
    assert_served_or_refused(&worst_saved, "starred rules");

    let worst_token = caller_token(&worst_app, &worst_key, json!({}));
    let best_token = caller_token(&best_app, &best_key, json!({}));
    let path = "/v1/state/jwt-issuers/a/roles/b";
    let (_, decided) = assert_linear(
        "deciding against 200 starred rules",
        || best_app.call(Method::GET, path).token(&best_token).send(),
        || worst_app.call(Method::GET, path).token(&worst_token).send(),
    )
    .await;
    assert_no_server_error(&decided, "decision");
    assert_eq!(decided.status, StatusCode::FORBIDDEN, "{}", decided.text);
    assert_healthy(&worst_app).await;
}
