//! Query parameters: `fields` (deep paths, many fields), `where` (deep parentheses, long `not`
//! chains, many `or`s, long literals, many-star globs) and many distinct parameters. The
//! recursive ones run on a small stack, by a caller who may only read one policy.

use axum::http::{Method, StatusCode};
use serde_json::json;

use super::super::cost::{assert_linear, get_on_small_stack};
use super::super::{
    assert_healthy, assert_limit_refusal, assert_no_server_error, caller_token, clipped,
    with_caller,
};
use super::encoded;
use crate::support::{TestApp, TestResponse};

/// The one thing the caller may do: read the policy `caller`.
const POLICY: &str = "/v1/config/policies/caller";
/// Query strings stay under the 64 KiB an `http::Uri` can hold.
const QUERY_BYTES: usize = 60 * 1024;
/// Within the 4 KiB `fields` and `where` accept, for the cases that must be served.
const SHORT_BYTES: usize = 4_000;

/// A server whose caller token may read the policy `caller` only.
async fn reader_of_one_policy() -> (TestApp, String) {
    let (app, key) = with_caller(
        TestApp::new().await,
        json!([{"path": "/policies/caller", "operations": ["read"]}]),
    )
    .await;
    let token = caller_token(&app, &key, json!({"exp": app.now() + 3600}));
    let allowed = app.call(Method::GET, POLICY).token(&token).send().await;
    assert_eq!(allowed.status, StatusCode::OK, "{}", allowed.text);
    (app, token)
}

/// Asserts a 400 naming `parameter` among the invalid fields, and a limit.
fn assert_parameter_refused(answer: &TestResponse, parameter: &str, case: &str) {
    assert_limit_refusal(answer, case);
    assert_eq!(
        answer.status,
        StatusCode::BAD_REQUEST,
        "{case}: {}",
        clipped(&answer.text)
    );
    assert!(
        answer.field_names().contains(&parameter),
        "{case}: the answer names {parameter}: {}",
        clipped(&answer.text)
    );
}

// ---- fields ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_with_tens_of_thousands_of_segments_is_refused_on_a_small_stack() {
    let (app, token) = reader_of_one_policy().await;
    let segments = QUERY_BYTES / 2;
    let slashes = vec!["a"; segments].join("/");
    let encoded_slashes = vec!["a"; segments / 3].join("%2F");

    let control = get_on_small_stack(
        "fields=name",
        &app,
        &token,
        &format!("{POLICY}?fields=name"),
    );
    assert_eq!(
        control.status,
        StatusCode::OK,
        "a plain request fits: {}",
        control.text
    );
    for (case, fields) in [("a/a/...", slashes), ("a%2Fa%2F...", encoded_slashes)] {
        let answer = get_on_small_stack(case, &app, &token, &format!("{POLICY}?fields={fields}"));
        assert_parameter_refused(&answer, "fields", case);
    }
    assert_healthy(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_thousands_of_segments_deep_within_the_length_limit_is_refused_naming_the_limit() {
    let (app, token) = reader_of_one_policy().await;
    let fields = vec!["a"; 2_000].join("/");

    let case = "2,000 segments in 3,999 characters";
    let answer = get_on_small_stack(case, &app, &token, &format!("{POLICY}?fields={fields}"));

    assert_parameter_refused(&answer, "fields", case);
    assert_healthy(&app).await;
}

#[tokio::test]
async fn fields_listing_many_fields_or_deep_paths_costs_linear_time() {
    let (app, token) = reader_of_one_policy().await;
    let get = |fields: &str| {
        app.call(Method::GET, &format!("{POLICY}?fields={fields}"))
            .token(&token)
            .send()
    };
    let many: Vec<String> = (0..)
        .map(|i: u32| format!("f{i}"))
        .take(SHORT_BYTES / 6)
        .collect();
    let many = many.join(",");
    let deep = vec![vec!["rules"; 16].join("/"); SHORT_BYTES / 96].join(",");
    let huge_many: Vec<String> = (0..)
        .map(|i: u32| format!("f{i}"))
        .take(QUERY_BYTES / 7)
        .collect();
    let huge_many = huge_many.join(",");

    for (case, worst) in [
        ("many fields", many),
        ("many 16-deep paths", deep),
        ("many fields past the length limit", huge_many),
    ] {
        let best = "n".repeat(worst.len());
        let (best_answer, worst_answer) = assert_linear(case, || get(&best), || get(&worst)).await;
        assert_no_server_error(&best_answer, case);
        assert_no_server_error(&worst_answer, case);
        assert!(
            matches!(
                worst_answer.status,
                StatusCode::OK | StatusCode::BAD_REQUEST
            ),
            "{case}: {}",
            clipped(&worst_answer.text)
        );
    }
    assert_healthy(&app).await;
}

// ---- where ----

/// `GET /v1/config/policies?where=<expr>` with the root token.
async fn filter(app: &TestApp, expression: &str) -> TestResponse {
    app.get(&format!(
        "/v1/config/policies?keys=true&where={}",
        encoded(expression)
    ))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn where_nested_deeply_is_refused_on_a_small_stack_naming_the_limit() {
    let (app, token) = reader_of_one_policy().await;
    put_list_reader(&app).await;
    let far = QUERY_BYTES / 6;
    let cases = [
        (
            "parentheses past the length limit",
            format!("{}name = x{}", "(".repeat(far), ")".repeat(far)),
        ),
        (
            "not chain past the length limit",
            format!("{}name = x", "not ".repeat(far)),
        ),
        (
            "parentheses within the length limit",
            format!("{}name = x{}", "(".repeat(1_900), ")".repeat(1_900)),
        ),
        (
            "not chain within the length limit",
            format!("{}name = x", "not ".repeat(950)),
        ),
        ("unclosed parentheses", "(".repeat(SHORT_BYTES)),
        ("not alone, repeated", "not ".repeat(SHORT_BYTES / 4)),
        (
            "alternating not and parentheses",
            format!("{}name = x{}", "not (".repeat(650), ")".repeat(650)),
        ),
    ];

    let control = get_on_small_stack(
        "where=name = x",
        &app,
        &token,
        "/v1/config/policies?keys=true&where=name%20%3D%20x",
    );
    assert_eq!(
        control.status,
        StatusCode::OK,
        "a plain filter fits: {}",
        control.text
    );
    for (case, expression) in cases {
        let path = format!(
            "/v1/config/policies?keys=true&where={}",
            encoded(&expression)
        );
        let answer = get_on_small_stack(case, &app, &token, &path);
        assert_parameter_refused(&answer, "where", case);
    }
    assert_healthy(&app).await;
}

/// Lets the `caller` policy also list policies (for the `where` cases on a small stack).
async fn put_list_reader(app: &TestApp) {
    crate::external_idp::put_policy(
        app,
        "caller",
        json!([
            {"path": "/policies/caller", "operations": ["read"]},
            {"path": "/policies", "operations": ["read"]},
        ]),
    )
    .await;
}

#[tokio::test]
async fn where_with_many_terms_long_literals_or_many_star_globs_costs_linear_time() {
    let app = TestApp::new().await;
    let text = |len: usize| format!("name = \"{}\"", "n".repeat(len.saturating_sub(9)));
    let glob = |len: usize| format!("name ~ \"{}\"", "n".repeat(len.saturating_sub(9)));
    let ors = format!("{}name = a", "name = a or ".repeat((SHORT_BYTES - 8) / 12));
    let ands = format!(
        "{}name != a",
        "name != a and ".repeat((SHORT_BYTES - 9) / 14)
    );
    let mixed = format!(
        "{}name = a",
        "(name = a or not name = b) and ".repeat((SHORT_BYTES - 8) / 32)
    );
    let digits = format!("rules > {}", "9".repeat(SHORT_BYTES - 8));
    let duration = format!("rules > {}s", "9".repeat(SHORT_BYTES - 9));
    let zeros = format!("rules > {}1h", "0".repeat(SHORT_BYTES - 10));
    let stars = format!("name ~ \"{}\"", "*a".repeat((SHORT_BYTES - 10) / 2));
    let braces = format!("name ~ \"{}\"", "{a,b}".repeat((SHORT_BYTES - 10) / 5));

    for (case, worst, best) in [
        ("many ors", ors, text(SHORT_BYTES)),
        ("many ands", ands, text(SHORT_BYTES)),
        ("mixed and, or, not", mixed, text(SHORT_BYTES)),
        ("a 4,000-digit number", digits, text(SHORT_BYTES)),
        ("a 4,000-digit duration", duration, text(SHORT_BYTES)),
        ("a duration of 4,000 zeros", zeros, text(SHORT_BYTES)),
        ("a glob of 2,000 stars", stars, glob(SHORT_BYTES)),
        ("a glob of 800 alternations", braces, glob(SHORT_BYTES)),
    ] {
        let (best_answer, worst_answer) =
            assert_linear(case, || filter(&app, &best), || filter(&app, &worst)).await;
        assert_eq!(best_answer.status, StatusCode::OK, "{}", best_answer.text);
        assert_no_server_error(&worst_answer, case);
        assert!(
            matches!(
                worst_answer.status,
                StatusCode::OK | StatusCode::BAD_REQUEST
            ),
            "{case}: {}",
            clipped(&worst_answer.text)
        );
    }
    assert_healthy(&app).await;
}

// ---- the query string itself ----

#[tokio::test]
async fn a_query_of_many_distinct_parameters_is_refused_in_linear_time_naming_the_limit() {
    let app = TestApp::new().await;
    let names: Vec<String> = (0..)
        .map(|i: u32| format!("p{i:x}="))
        .take(QUERY_BYTES / 7)
        .collect();
    let worst = names.join("&");
    let best = format!("after={}", "a".repeat(worst.len() - 6));
    let (best, worst) = (
        format!("/v1/config/policies?{best}"),
        format!("/v1/config/policies?{worst}"),
    );

    let (best_answer, worst_answer) = assert_linear(
        "8,000 distinct query parameters",
        || app.get(&best),
        || app.get(&worst),
    )
    .await;

    assert_eq!(best_answer.status, StatusCode::OK, "{}", best_answer.text);
    assert_limit_refusal(&worst_answer, "many unknown parameters");
    assert_healthy(&app).await;
}

#[tokio::test]
async fn a_query_repeating_one_parameter_is_refused_in_linear_time() {
    let app = TestApp::new().await;
    let worst = vec!["limit=1"; QUERY_BYTES / 8].join("&");
    let best = format!("after={}", "a".repeat(worst.len() - 6));
    let (best, worst) = (
        format!("/v1/config/policies?{best}"),
        format!("/v1/config/policies?{worst}"),
    );

    let (_, worst_answer) = assert_linear(
        "limit repeated 7,000 times",
        || app.get(&best),
        || app.get(&worst),
    )
    .await;

    assert_eq!(
        worst_answer.status,
        StatusCode::BAD_REQUEST,
        "{}",
        clipped(&worst_answer.text)
    );
    // Past the parameter limit the whole query is refused, naming the limit.
    assert!(
        worst_answer.field_names().contains(&"query")
            && worst_answer.text.contains("too_many_parameters"),
        "{}",
        clipped(&worst_answer.text)
    );
    assert_healthy(&app).await;
}
