//! Token exchange at `POST /jwt/{name}/oauth/token` (issue 5 item 5 and its "Done when"): a CI
//! pipeline with a real loopback OIDC issuer trades a GitHub-Actions-like token for a `deployer`
//! token that `jsonwebtoken` verifies through Sigil's discovery document; then one test per
//! RFC 6749 §5.2 refusal, the RFC 8693 options (actor, may_act, audiences, token types), RFC 7523
//! jwt-bearer, the caps on `exp` and `prm`, and the replay guard across nodes.

use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::{Method, StatusCode};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::{Value, json};

use crate::external_idp::{Idp, IdpKey, merged, put_mapping, put_policy, trust_with};
use crate::support::{TestApp, TestResponse, decode_unverified, tampered};

const PUBLIC_URL: &str = "https://sigil.test";
/// The audience the workflow asks GitHub to put in its token.
const AUD: &str = "https://sigil.test";
const SUB: &str = "repo:acme/payments:ref:refs/heads/main";
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
const JWT_TYPE: &str = "urn:ietf:params:oauth:token-type:jwt";
const DEPLOY_AUD: &str = "https://deploy.acme.test";
const REFUSED: &str = "the presented token is not acceptable";

/// Sigil, a loopback OIDC issuer playing GitHub Actions, and its signing key.
struct Pipeline {
    app: TestApp,
    idp: Idp,
    key: IdpKey,
}

/// The CI setup of the issue's "Done when":
/// - trusted issuer `github`: the loopback IdP through its discovery document, audience
///   [`AUD`], `require_jti`;
/// - mapping `github-payments`: only `repo:acme/payments:ref:refs/heads/main` maps (its regex
///   captures `acme/payments`), so a token for `acme/other` has no identity at all;
/// - policy `payments-deployer`: `update` on the mint path of role `deployer` only;
/// - jwt issuer `payments-api` (default_ttl 10m) with roles `deployer` (audiences
///   `https://*.acme.test`, claims copied from the subject) and `admin` (not covered).
async fn pipeline() -> Pipeline {
    let key = IdpKey::es256("gh-1");
    let idp = Idp::start(&[&key]).await;
    let app = TestApp::builder()
        .allow_private_networks()
        .public_url(PUBLIC_URL)
        .build()
        .await;
    trust_with(
        &app,
        "github",
        json!({"issuer": idp.issuer(), "discovery_url": idp.base, "audiences": [AUD],
               "require_jti": true}),
    )
    .await;
    put_mapping(
        &app,
        "github-payments",
        json!({"trusted_issuer": "github", "id_claim": "sub",
               "id_match": "repo:(acme/payments):ref:refs/heads/main",
               "policies": ["payments-deployer"]}),
    )
    .await;
    put_policy(
        &app,
        "payments-deployer",
        json!([{"path": "/jwt-issuers/payments-api/roles/deployer/mint", "operations": ["update"]}]),
    )
    .await;
    app.create_key("payments-key", "ecdsa-p256").await;
    app.create_issuer_with(json!({
        "name": "payments-api", "signing_key": "payments-key", "default_ttl": "10m",
        "max_ttl": "1h"
    }))
    .await;
    app.create_role(
        "payments-api",
        json!({
            "name": "deployer",
            "fixed_claims": {
                "repository": "{{identity.claims.repository}}",
                "ref": "{{identity.claims.ref}}"
            },
            "allowed_audiences": ["https://*.acme.test"],
            "default_audiences": [DEPLOY_AUD],
            "max_ttl": "15m"
        }),
    )
    .await;
    app.create_role("payments-api", json!({"name": "admin"}))
        .await;
    Pipeline { app, idp, key }
}

static JTI: AtomicUsize = AtomicUsize::new(0);

impl Pipeline {
    /// A GitHub-Actions-like token for `acme/payments` on main, fresh `jti`, with `changes`.
    fn github_token(&self, changes: Value) -> String {
        let now = self.app.now();
        let claims = json!({
            "iss": self.idp.issuer(),
            "sub": SUB,
            "aud": AUD,
            "repository": "acme/payments",
            "repository_owner": "acme",
            "ref": "refs/heads/main",
            "sha": "5f3c0e9d",
            "workflow": "deploy",
            "run_id": "4242",
            "jti": format!("gh-jti-{}", JTI.fetch_add(1, Ordering::SeqCst)),
            "iat": now,
            "nbf": now,
            "exp": now + 300,
        });
        self.key.sign(&merged(claims, changes))
    }

    /// `POST /jwt/payments-api/oauth/token` with these form parameters.
    async fn exchange(&self, params: &[(&str, &str)]) -> TestResponse {
        exchange_on(&self.app, params).await
    }

    /// A token exchange of `subject` for `role`, plus `extra` parameters.
    async fn exchange_for(
        &self,
        subject: &str,
        role: &str,
        extra: &[(&str, &str)],
    ) -> TestResponse {
        let mut params = vec![
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", subject),
            ("subject_token_type", JWT_TYPE),
            ("scope", role),
        ];
        params.extend_from_slice(extra);
        self.exchange(&params).await
    }

    /// Exchanges `subject` for `deployer`; panics unless 200; answers the answer and claims.
    async fn deployer_token(&self, subject: &str, extra: &[(&str, &str)]) -> (Value, Value) {
        let answer = self.exchange_for(subject, "deployer", extra).await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
        let token = answer.json["access_token"].as_str().expect("a token");
        let (_, claims) = decode_unverified(token);
        (answer.json, claims)
    }

    /// Adds a rule letting the `payments-deployer` policy mint `role` too.
    async fn allow_role(&self, role: &str) {
        put_policy(
            &self.app,
            "payments-deployer",
            json!([
                {"path": "/jwt-issuers/payments-api/roles/deployer/mint", "operations": ["update"]},
                {"path": format!("/jwt-issuers/payments-api/roles/{role}/mint"), "operations": ["update"]},
            ]),
        )
        .await;
    }

    /// Mapping `github-bots`: `bot:<name>` tokens are identities with no policies.
    async fn map_bots(&self) {
        put_mapping(
            &self.app,
            "github-bots",
            json!({"trusted_issuer": "github", "id_match": "bot:(.+)"}),
        )
        .await;
    }
}

async fn exchange_on(app: &TestApp, params: &[(&str, &str)]) -> TestResponse {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params)
        .finish();
    app.call(Method::POST, "/jwt/payments-api/oauth/token")
        .body("application/x-www-form-urlencoded", body.into_bytes())
        .send()
        .await
}

/// Asserts an RFC 6749 §5.2 answer: 400, `error`, a description, `Cache-Control: no-store`.
fn assert_oauth_error(answer: &TestResponse, error: &str) {
    assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{}", answer.text);
    assert_eq!(answer.json["error"], error, "{}", answer.text);
    assert!(
        answer.json["error_description"]
            .as_str()
            .is_some_and(|d| !d.is_empty()),
        "{}",
        answer.text
    );
    assert!(answer.json.get("access_token").is_none(), "{}", answer.text);
    assert_eq!(
        answer.header("cache-control"),
        Some("no-store"),
        "{:?}",
        answer.headers
    );
}

/// Asserts `invalid_grant` with the one description every token failure gets.
fn assert_grant_refused(answer: &TestResponse) {
    assert_oauth_error(answer, "invalid_grant");
    assert_eq!(answer.json["error_description"], REFUSED, "{}", answer.text);
}

/// Verifies `token` as a relying party would, knowing only the issuer's discovery URL: the
/// discovery document names `issuer` and `jwks_uri`; `jsonwebtoken` checks signature, `alg`
/// (one the document lists), `iss`, `aud` and `exp` against the wall clock.
async fn verify_through_discovery(
    app: &TestApp,
    issuer: &str,
    token: &str,
    audience: &str,
) -> Value {
    let discovery = app.discovery(issuer).await;
    assert_eq!(discovery.status, StatusCode::OK, "{}", discovery.text);
    let jwks_uri = discovery.json["jwks_uri"].as_str().expect("jwks_uri");
    let jwks_path = jwks_uri
        .strip_prefix(PUBLIC_URL)
        .unwrap_or_else(|| panic!("{jwks_uri} is not under {PUBLIC_URL}"));
    let jwks = app.call(Method::GET, jwks_path).send().await;
    assert_eq!(jwks.status, StatusCode::OK, "{}", jwks.text);
    let keys: JwkSet = serde_json::from_value(jwks.json).expect("a JWK set");
    let header = jsonwebtoken::decode_header(token).expect("a JOSE header");
    let supported = &discovery.json["id_token_signing_alg_values_supported"];
    assert!(
        supported.as_array().is_some_and(|algs| algs
            .iter()
            .any(|a| *a == json!(format!("{:?}", header.alg)))),
        "{:?} is not listed in {supported}",
        header.alg
    );
    let jwk = keys
        .find(header.kid.as_deref().expect("a kid"))
        .expect("the kid is in the JWKS");
    let key = DecodingKey::from_jwk(jwk).expect("a usable JWK");
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[discovery.json["issuer"].as_str().expect("issuer")]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &key, &validation)
        .unwrap_or_else(|e| panic!("the exchanged token does not verify: {e}"))
        .claims
}

// ---- the CI pipeline ----

#[tokio::test]
async fn a_ci_pipeline_trades_its_oidc_token_for_a_deployer_token_verified_through_discovery() {
    let p = pipeline().await;
    let subject = p.github_token(json!({}));

    let answer = p.exchange_for(&subject, "deployer", &[]).await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.json["token_type"], "Bearer");
    assert_eq!(answer.json["issued_token_type"], JWT_TYPE);
    assert_eq!(answer.json["scope"], "deployer");
    assert_eq!(answer.json["expires_in"], 600);
    let token = answer.json["access_token"].as_str().expect("access_token");
    let claims = verify_through_discovery(&p.app, "payments-api", token, DEPLOY_AUD).await;
    assert_eq!(claims["iss"], format!("{PUBLIC_URL}/jwt/payments-api"));
    assert_eq!(claims["sub"], "github:acme/payments");
    assert_eq!(claims["aud"], DEPLOY_AUD);
    assert_eq!(claims["repository"], "acme/payments");
    assert_eq!(claims["ref"], "refs/heads/main");
    assert_eq!(claims["iat"], p.app.now());
    assert_eq!(claims["exp"], p.app.now() + 600);
    let (_, subject_claims) = decode_unverified(&subject);
    assert!(
        claims["jti"]
            .as_str()
            .is_some_and(|j| !j.is_empty() && *j != subject_claims["jti"]),
        "{claims}"
    );
    assert!(claims.get("prm").is_none(), "no prm without one: {claims}");
    assert!(claims.get("act").is_none(), "{claims}");
}

#[tokio::test]
async fn the_discovery_document_lists_the_token_endpoint_and_both_grant_types() {
    let p = pipeline().await;

    let discovery = p.app.discovery("payments-api").await;

    assert_eq!(discovery.status, StatusCode::OK, "{}", discovery.text);
    assert_eq!(
        discovery.json["token_endpoint"],
        format!("{PUBLIC_URL}/jwt/payments-api/oauth/token")
    );
    assert_eq!(
        discovery.json["introspection_endpoint"],
        format!("{PUBLIC_URL}/jwt/payments-api/oauth/introspect")
    );
    let grants = discovery.json["grant_types_supported"]
        .as_array()
        .expect("grant_types_supported");
    assert!(
        grants.contains(&json!(TOKEN_EXCHANGE)),
        "{}",
        discovery.text
    );
    assert!(grants.contains(&json!(JWT_BEARER)), "{}", discovery.text);
}

// ---- the pipeline's refusals ----

#[tokio::test]
async fn a_token_for_another_repository_is_an_invalid_grant() {
    let p = pipeline().await;
    let other = p.github_token(json!({
        "sub": "repo:acme/other:ref:refs/heads/main", "repository": "acme/other"
    }));

    assert_grant_refused(&p.exchange_for(&other, "deployer", &[]).await);
}

#[tokio::test]
async fn a_token_for_another_audience_is_an_invalid_grant() {
    let p = pipeline().await;
    let wrong_aud = p.github_token(json!({"aud": "https://someone-else.example.com"}));

    assert_grant_refused(&p.exchange_for(&wrong_aud, "deployer", &[]).await);
}

#[tokio::test]
async fn a_replayed_jti_is_an_invalid_grant() {
    let p = pipeline().await;
    let subject = p.github_token(json!({}));
    p.deployer_token(&subject, &[]).await;

    let replayed = p.exchange_for(&subject, "deployer", &[]).await;

    assert_grant_refused(&replayed);
}

#[tokio::test]
async fn a_jti_used_on_one_node_is_refused_on_another() {
    let p = pipeline().await;
    let subject = p.github_token(json!({}));
    p.deployer_token(&subject, &[]).await;
    let node_b = p.app.second_node().await;

    let replayed = exchange_on(
        &node_b,
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &subject),
            ("subject_token_type", JWT_TYPE),
            ("scope", "deployer"),
        ],
    )
    .await;
    let fresh = exchange_on(
        &node_b,
        &[
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &p.github_token(json!({}))),
            ("subject_token_type", JWT_TYPE),
            ("scope", "deployer"),
        ],
    )
    .await;

    assert_grant_refused(&replayed);
    assert_eq!(
        fresh.status,
        StatusCode::OK,
        "node b exchanges: {}",
        fresh.text
    );
}

#[tokio::test]
async fn the_same_jti_from_another_trusted_issuer_is_not_a_replay() {
    let p = pipeline().await;
    let gitlab = IdpKey::es256("gl-1");
    trust_with(
        &p.app,
        "gitlab",
        json!({"issuer": "https://gitlab.example.com", "keys": [gitlab.jwk()], "audiences": [AUD],
               "require_jti": true}),
    )
    .await;
    put_mapping(
        &p.app,
        "gitlab-payments",
        json!({"trusted_issuer": "gitlab", "id_claim": "project_path",
               "id_match": "(acme/payments)", "policies": ["payments-deployer"]}),
    )
    .await;
    let github = p.github_token(json!({"jti": "shared-jti"}));
    let (_, github_claims) = decode_unverified(&github);
    let gitlab_token = gitlab.sign(&merged(
        github_claims,
        json!({"iss": "https://gitlab.example.com", "sub": "project_path:acme/payments",
               "project_path": "acme/payments"}),
    ));

    let (_, first) = p.deployer_token(&github, &[]).await;
    let (_, second) = p.deployer_token(&gitlab_token, &[]).await;

    assert_eq!(first["sub"], "github:acme/payments");
    assert_eq!(second["sub"], "gitlab:acme/payments");
}

#[tokio::test]
async fn a_token_older_than_max_token_age_is_an_invalid_grant() {
    let p = pipeline().await;
    let patched = p
        .app
        .root(Method::PATCH, "/v1/config/trusted-issuers/github")
        .json(&json!({"max_token_age": "5m"}))
        .send()
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);
    let now = p.app.now();

    let old = p.github_token(json!({"iat": now - 600, "nbf": now - 600, "exp": now + 300}));
    let young = p.github_token(json!({"iat": now - 60}));

    assert_grant_refused(&p.exchange_for(&old, "deployer", &[]).await);
    p.deployer_token(&young, &[]).await;
}

#[tokio::test]
async fn a_token_without_a_jti_is_an_invalid_grant_when_the_issuer_requires_one() {
    let p = pipeline().await;
    let without = p.github_token(json!({"jti": null}));

    assert_grant_refused(&p.exchange_for(&without, "deployer", &[]).await);
}

#[tokio::test]
async fn an_expired_token_is_an_invalid_grant() {
    let p = pipeline().await;
    let now = p.app.now();
    let expired = p.github_token(json!({"iat": now - 900, "nbf": now - 900, "exp": now - 600}));

    assert_grant_refused(&p.exchange_for(&expired, "deployer", &[]).await);
}

#[tokio::test]
async fn a_role_the_policy_does_not_cover_is_an_invalid_scope() {
    let p = pipeline().await;

    let answer = p
        .exchange_for(&p.github_token(json!({})), "admin", &[])
        .await;

    assert_oauth_error(&answer, "invalid_scope");
}

#[tokio::test]
async fn a_policy_allowing_only_read_on_the_mint_path_is_an_invalid_scope() {
    let p = pipeline().await;
    put_policy(
        &p.app,
        "payments-deployer",
        json!([{"path": "/jwt-issuers/payments-api/roles/deployer/mint",
                "operations": ["create", "read", "delete"]}]),
    )
    .await;

    let answer = p
        .exchange_for(&p.github_token(json!({})), "deployer", &[])
        .await;

    assert_oauth_error(&answer, "invalid_scope");
}

#[tokio::test]
async fn a_role_that_does_not_exist_or_two_roles_are_an_invalid_scope() {
    let p = pipeline().await;

    for scope in [
        "nobody",
        "deployer admin",
        "deployer/../admin",
        "deployer%2f..%2fadmin",
        "*",
        "**",
        "Deployer",
    ] {
        let answer = p.exchange_for(&p.github_token(json!({})), scope, &[]).await;
        assert_oauth_error(&answer, "invalid_scope");
    }
}

// ---- request errors ----

#[tokio::test]
async fn missing_or_repeated_parameters_are_an_invalid_request() {
    let p = pipeline().await;
    let subject = p.github_token(json!({}));
    let subject = subject.as_str();

    for (case, params) in [
        (
            "no grant_type",
            vec![
                ("subject_token", subject),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
            ],
        ),
        (
            "no subject_token",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
            ],
        ),
        (
            "no subject_token_type",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", subject),
                ("scope", "deployer"),
            ],
        ),
        (
            "empty subject_token",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", ""),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
            ],
        ),
        (
            "no assertion",
            vec![("grant_type", JWT_BEARER), ("scope", "deployer")],
        ),
        (
            "repeated subject_token",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", subject),
                ("subject_token", subject),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
            ],
        ),
        (
            "repeated grant_type",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", subject),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
            ],
        ),
        (
            "actor_token without its type",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", subject),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
                ("actor_token", subject),
            ],
        ),
        (
            "actor_token_type without a token",
            vec![
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", subject),
                ("subject_token_type", JWT_TYPE),
                ("scope", "deployer"),
                ("actor_token_type", JWT_TYPE),
            ],
        ),
    ] {
        let answer = p.exchange(&params).await;
        assert_eq!(
            answer.json["error"], "invalid_request",
            "{case}: {}",
            answer.text
        );
        assert_oauth_error(&answer, "invalid_request");
    }
}

#[tokio::test]
async fn parameters_not_sent_as_a_form_are_an_invalid_request() {
    let p = pipeline().await;
    let body = json!({
        "grant_type": TOKEN_EXCHANGE, "subject_token": p.github_token(json!({})),
        "subject_token_type": JWT_TYPE, "scope": "deployer",
    });

    let answer = p
        .app
        .call(Method::POST, "/jwt/payments-api/oauth/token")
        .json(&body)
        .send()
        .await;

    assert_oauth_error(&answer, "invalid_request");
}

#[tokio::test]
async fn an_unknown_grant_type_is_an_unsupported_grant_type() {
    let p = pipeline().await;
    let subject = p.github_token(json!({}));

    // RFC 6749 §5.2: "unsupported_grant_type: The authorization grant type is not supported
    // by the authorization server."
    for grant_type in [
        "client_credentials",
        "password",
        "urn:ietf:params:oauth:grant-type:saml2-bearer",
    ] {
        let answer = p
            .exchange(&[
                ("grant_type", grant_type),
                ("subject_token", &subject),
                ("subject_token_type", JWT_TYPE),
                ("assertion", &subject),
                ("scope", "deployer"),
            ])
            .await;
        assert_eq!(
            answer.json["error"], "unsupported_grant_type",
            "{grant_type}: {}",
            answer.text
        );
        assert_oauth_error(&answer, "unsupported_grant_type");
    }
}

#[tokio::test]
async fn a_subject_token_type_that_is_not_a_jwt_is_an_invalid_request() {
    let p = pipeline().await;
    let subject = p.github_token(json!({}));

    for token_type in [
        "urn:ietf:params:oauth:token-type:saml2",
        "urn:ietf:params:oauth:token-type:refresh_token",
        "jwt",
    ] {
        let answer = p
            .exchange(&[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &subject),
                ("subject_token_type", token_type),
                ("scope", "deployer"),
            ])
            .await;
        assert_eq!(
            answer.json["error"], "invalid_request",
            "{token_type}: {}",
            answer.text
        );
        assert_oauth_error(&answer, "invalid_request");
    }
}

#[tokio::test]
async fn id_token_and_access_token_subject_types_are_accepted() {
    let p = pipeline().await;

    for token_type in [
        "urn:ietf:params:oauth:token-type:id_token",
        "urn:ietf:params:oauth:token-type:access_token",
    ] {
        let answer = p
            .exchange(&[
                ("grant_type", TOKEN_EXCHANGE),
                ("subject_token", &p.github_token(json!({}))),
                ("subject_token_type", token_type),
                ("scope", "deployer"),
            ])
            .await;
        assert_eq!(
            answer.status,
            StatusCode::OK,
            "{token_type}: {}",
            answer.text
        );
    }
}

#[tokio::test]
async fn a_requested_token_type_sigil_cannot_issue_is_an_invalid_request() {
    let p = pipeline().await;

    let saml = p
        .exchange_for(
            &p.github_token(json!({})),
            "deployer",
            &[(
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:saml2",
            )],
        )
        .await;
    let access = p
        .exchange_for(
            &p.github_token(json!({})),
            "deployer",
            &[(
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:access_token",
            )],
        )
        .await;

    assert_oauth_error(&saml, "invalid_request");
    assert_eq!(access.status, StatusCode::OK, "{}", access.text);
}

#[tokio::test]
async fn an_audience_or_resource_the_role_does_not_allow_is_an_invalid_target() {
    let p = pipeline().await;

    for extra in [
        [("audience", "https://evil.example.com")],
        [("resource", "https://acme.test.evil.example.com")],
    ] {
        let answer = p
            .exchange_for(&p.github_token(json!({})), "deployer", &extra)
            .await;
        assert_oauth_error(&answer, "invalid_target");
    }
}

#[tokio::test]
async fn audience_and_resource_values_become_the_tokens_audiences() {
    let p = pipeline().await;

    let (_, claims) = p
        .deployer_token(
            &p.github_token(json!({})),
            &[
                ("audience", "https://billing.acme.test"),
                ("resource", "https://ledger.acme.test"),
            ],
        )
        .await;

    assert_eq!(
        claims["aud"],
        json!(["https://billing.acme.test", "https://ledger.acme.test"])
    );
}

#[tokio::test]
async fn an_unknown_issuer_path_is_not_found_and_get_is_not_allowed() {
    let p = pipeline().await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", TOKEN_EXCHANGE),
            ("subject_token", &p.github_token(json!({}))),
            ("subject_token_type", JWT_TYPE),
            ("scope", "deployer"),
        ])
        .finish();

    let unknown = p
        .app
        .call(Method::POST, "/jwt/nobody/oauth/token")
        .body("application/x-www-form-urlencoded", body.into_bytes())
        .send()
        .await;
    let get = p
        .app
        .call(Method::GET, "/jwt/payments-api/oauth/token")
        .send()
        .await;

    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{}", unknown.text);
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED, "{}", get.text);
}

// ---- one description for every token failure ----

#[tokio::test]
async fn every_signature_or_claim_failure_gets_the_same_description() {
    let p = pipeline().await;
    let now = p.app.now();
    let stranger = IdpKey::es256("gh-1");
    let good = p.github_token(json!({}));
    let replayed = p.github_token(json!({}));
    p.deployer_token(&replayed, &[]).await;
    let mut failures = vec![
        (
            "altered claims",
            tampered(
                &good,
                "sub",
                json!("repo:acme/payments:ref:refs/heads/evil"),
            ),
        ),
        (
            "another key under the same kid",
            stranger.sign(&decode_unverified(&good).1),
        ),
        (
            "unknown kid",
            p.key.sign_with_header(
                &json!({"alg": "ES256", "kid": "gh-9"}),
                &decode_unverified(&good).1,
            ),
        ),
        (
            "untrusted issuer",
            p.github_token(json!({"iss": "https://evil.example.com"})),
        ),
        (
            "expired",
            p.github_token(json!({"exp": now - 600, "iat": now - 900, "nbf": now - 900})),
        ),
        ("not yet valid", p.github_token(json!({"nbf": now + 600}))),
        (
            "wrong audience",
            p.github_token(json!({"aud": "https://other.example.com"})),
        ),
        ("no jti", p.github_token(json!({"jti": null}))),
        ("replayed", replayed),
        (
            "no identity",
            p.github_token(json!({"sub": "repo:acme/other:ref:refs/heads/main"})),
        ),
        ("garbage", "not-a-jwt".to_owned()),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(r#"{"alg":"none"}"#),
                good.split('.').nth(1).expect("payload")
            ),
        ),
    ];
    failures.push(("HS256", {
        let payload = good.split('.').nth(1).expect("payload");
        format!(
            "{}.{payload}.c2lnbmF0dXJl",
            b64(r#"{"alg":"HS256","kid":"gh-1"}"#)
        )
    }));

    for (case, token) in &failures {
        for grant in [TOKEN_EXCHANGE, JWT_BEARER] {
            let answer = p
                .exchange(&[
                    ("grant_type", grant),
                    ("subject_token", token),
                    ("subject_token_type", JWT_TYPE),
                    ("assertion", token),
                    ("scope", "deployer"),
                ])
                .await;
            assert_eq!(
                answer.json["error"], "invalid_grant",
                "{case} ({grant}): {}",
                answer.text
            );
            assert_eq!(
                answer.json["error_description"], REFUSED,
                "{case} ({grant}): {}",
                answer.text
            );
        }
    }
}

fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

// ---- RFC 8693 actors and RFC 7523 assertions ----

#[tokio::test]
async fn an_actor_token_becomes_the_act_claim() {
    let p = pipeline().await;
    p.map_bots().await;
    let actor = p.github_token(json!({"sub": "bot:release-manager"}));

    let (_, claims) = p
        .deployer_token(
            &p.github_token(json!({})),
            &[("actor_token", &actor), ("actor_token_type", JWT_TYPE)],
        )
        .await;

    assert_eq!(claims["act"], json!({"sub": "github:release-manager"}));
    assert_eq!(claims["sub"], "github:acme/payments");
}

#[tokio::test]
async fn an_actor_token_that_fails_verification_is_an_invalid_grant() {
    let p = pipeline().await;
    p.map_bots().await;
    let now = p.app.now();
    let expired_actor = p.github_token(json!({
        "sub": "bot:release-manager", "exp": now - 600, "iat": now - 900, "nbf": now - 900
    }));

    let answer = p
        .exchange_for(
            &p.github_token(json!({})),
            "deployer",
            &[
                ("actor_token", &expired_actor),
                ("actor_token_type", JWT_TYPE),
            ],
        )
        .await;

    assert_grant_refused(&answer);
}

#[tokio::test]
async fn may_act_naming_the_actor_is_honoured() {
    let p = pipeline().await;
    p.map_bots().await;
    let subject = p.github_token(json!({
        "may_act": {"sub": "bot:release-manager", "iss": p.idp.issuer()}
    }));
    let actor = p.github_token(json!({"sub": "bot:release-manager"}));

    let (_, claims) = p
        .deployer_token(
            &subject,
            &[("actor_token", &actor), ("actor_token_type", JWT_TYPE)],
        )
        .await;

    assert_eq!(claims["act"], json!({"sub": "github:release-manager"}));
}

#[tokio::test]
async fn may_act_naming_someone_else_is_an_invalid_grant() {
    let p = pipeline().await;
    p.map_bots().await;
    let actor = p.github_token(json!({"sub": "bot:release-manager"}));

    for may_act in [
        json!({"sub": "bot:someone-else"}),
        json!({"sub": "bot:release-manager", "iss": "https://other.example.com"}),
        json!("bot:release-manager"),
    ] {
        let subject = p.github_token(json!({"may_act": may_act}));
        let answer = p
            .exchange_for(
                &subject,
                "deployer",
                &[("actor_token", &actor), ("actor_token_type", JWT_TYPE)],
            )
            .await;
        assert_eq!(
            answer.json["error"], "invalid_grant",
            "{may_act}: {}",
            answer.text
        );
        assert_grant_refused(&answer);
    }
}

#[tokio::test]
async fn a_jwt_bearer_assertion_is_exchanged_too() {
    let p = pipeline().await;

    let answer = p
        .exchange(&[
            ("grant_type", JWT_BEARER),
            ("assertion", &p.github_token(json!({}))),
            ("scope", "deployer"),
        ])
        .await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    assert_eq!(answer.header("cache-control"), Some("no-store"));
    assert_eq!(answer.json["token_type"], "Bearer");
    assert_eq!(answer.json["scope"], "deployer");
    assert!(
        answer.json.get("issued_token_type").is_none(),
        "{}",
        answer.text
    );
    let token = answer.json["access_token"].as_str().expect("access_token");
    let claims = verify_through_discovery(&p.app, "payments-api", token, DEPLOY_AUD).await;
    assert_eq!(claims["sub"], "github:acme/payments");
}

#[tokio::test]
async fn a_jwt_bearer_assertion_is_single_use_too() {
    let p = pipeline().await;
    let assertion = p.github_token(json!({}));
    let params = [
        ("grant_type", JWT_BEARER),
        ("assertion", assertion.as_str()),
        ("scope", "deployer"),
    ];

    let first = p.exchange(&params).await;
    let second = p.exchange(&params).await;

    assert_eq!(first.status, StatusCode::OK, "{}", first.text);
    assert_grant_refused(&second);
}

// ---- caps on exp and prm ----

#[tokio::test]
async fn limit_to_subject_exp_keeps_the_token_within_the_subjects_lifetime() {
    let p = pipeline().await;
    p.app
        .create_role(
            "payments-api",
            json!({"name": "bounded", "limit_to_subject_exp": true}),
        )
        .await;
    p.allow_role("bounded").await;
    let subject_exp = p.app.now() + 120;

    let bounded = p
        .exchange_for(&p.github_token(json!({"exp": subject_exp})), "bounded", &[])
        .await;
    let (_, unbounded) = p
        .deployer_token(&p.github_token(json!({"exp": subject_exp})), &[])
        .await;

    assert_eq!(bounded.status, StatusCode::OK, "{}", bounded.text);
    let token = bounded.json["access_token"].as_str().expect("access_token");
    assert_eq!(decode_unverified(token).1["exp"], subject_exp);
    assert_eq!(bounded.json["expires_in"], 120);
    assert_eq!(
        unbounded["exp"],
        p.app.now() + 600,
        "without the flag the role's TTL applies"
    );
}

#[tokio::test]
async fn an_exchanged_token_never_exceeds_the_roles_cap() {
    let p = pipeline().await;
    p.app
        .create_role("payments-api", json!({"name": "short", "max_ttl": "5m"}))
        .await;
    p.allow_role("short").await;

    let answer = p
        .exchange_for(
            &p.github_token(json!({"exp": p.app.now() + 3600})),
            "short",
            &[],
        )
        .await;

    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text);
    let token = answer.json["access_token"].as_str().expect("access_token");
    assert_eq!(decode_unverified(token).1["exp"], p.app.now() + 300);
    assert_eq!(answer.json["expires_in"], 300);
}

#[tokio::test]
async fn prm_is_the_subjects_prm_and_the_trusted_issuers_mask() {
    let p = pipeline().await;
    let unmasked = p.github_token(json!({"prm": 5}));
    let (_, as_sent) = p.deployer_token(&unmasked, &[]).await;
    let patched = p
        .app
        .root(Method::PATCH, "/v1/config/trusted-issuers/github")
        .json(&json!({"permissions": 6}))
        .send()
        .await;
    assert_eq!(patched.status, StatusCode::NO_CONTENT, "{}", patched.text);

    let (_, masked) = p
        .deployer_token(&p.github_token(json!({"prm": 5})), &[])
        .await;
    let (_, mask_only) = p.deployer_token(&p.github_token(json!({})), &[]).await;

    assert_eq!(as_sent["prm"], 5);
    assert_eq!(masked["prm"], 5 & 6);
    assert_eq!(mask_only["prm"], 6);
}
