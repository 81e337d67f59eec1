//! The exchange itself: parameters already parsed by the token endpoint, services passed in
//! narrowly, one function from request to minted token.

use serde_json::{Map, Value, json};
use sigil_policy::{Decision, Operation, PolicySet};

use super::refused::ExchangeRefused;
use crate::identity::{MappingTable, MappingTrace, Resolved, resolve};
use crate::minting::{Constraints, JwtIssuers, MintRefused, MintRequest, Minted};
use crate::signing_keys::Keyring;
use crate::storage::{ReplayStore, StorageError};
use crate::trust::{RedeemRefused, Trace, TrustedIssuers, Verified, redeem};

/// RFC 8693 §3 token type identifiers Sigil accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenType {
    /// `urn:ietf:params:oauth:token-type:jwt`.
    Jwt,
    /// `urn:ietf:params:oauth:token-type:id_token`.
    IdToken,
    /// `urn:ietf:params:oauth:token-type:access_token`.
    AccessToken,
}

impl TokenType {
    /// Parses a token type URN.
    pub fn parse(urn: &str) -> Option<TokenType> {
        match urn {
            "urn:ietf:params:oauth:token-type:jwt" => Some(TokenType::Jwt),
            "urn:ietf:params:oauth:token-type:id_token" => Some(TokenType::IdToken),
            "urn:ietf:params:oauth:token-type:access_token" => Some(TokenType::AccessToken),
            _ => None,
        }
    }
}

/// A parsed exchange request. The presented token is judged before anything else, so a
/// refused token is `invalid_grant` whatever the other parameters say (DESIGN §3), and a
/// stranger learns nothing about roles or parameters from the answer.
#[derive(Debug)]
pub struct ExchangeRequest {
    /// The subject token (RFC 8693) or assertion (RFC 7523).
    pub subject_token: String,
    /// The other parameters, or why they are unacceptable: reported only once the subject
    /// token has verified.
    pub parameters: Result<ExchangeParameters, ExchangeRefused>,
}

/// The parameters of an exchange besides the presented token.
#[derive(Clone, Debug, Default)]
pub struct ExchangeParameters {
    /// The actor token (RFC 8693 §4.1), if any.
    pub actor_token: Option<String>,
    /// `scope`: the role name.
    pub scope: Option<String>,
    /// `audience` and `resource` values, in order.
    pub audiences: Vec<String>,
}

/// A successful exchange.
#[derive(Clone, Debug)]
pub struct Exchanged {
    /// The minted token.
    pub minted: Minted,
    /// The role (the granted scope).
    pub role: String,
    /// The identity the token was minted for.
    pub identity: String,
}

/// What an exchange reads.
pub struct Exchange<'a> {
    /// Trusted issuers (verification).
    pub trust: &'a TrustedIssuers,
    /// Identity mappings.
    pub mappings: &'a MappingTable,
    /// Policies.
    pub policies: &'a PolicySet,
    /// JWT issuers.
    pub issuers: &'a JwtIssuers,
    /// Signing keys.
    pub keyring: &'a Keyring,
    /// Single-use `jti`s.
    pub replays: &'a dyn ReplayStore,
    /// Now.
    pub now: i64,
}

impl Exchange<'_> {
    /// Runs the exchange for the jwt issuer `issuer_name`.
    pub async fn run(
        &self,
        issuer_name: &str,
        request: ExchangeRequest,
    ) -> Result<Exchanged, ExchangeRefused> {
        let subject = self.verify(&request.subject_token).await?;
        let resolved = self.identify(&subject)?;
        let parameters = request.parameters?;
        let role_name = role_of(parameters.scope.as_deref())?;
        let target = match self.issuers.resolve(issuer_name, role_name) {
            Ok(target) => target,
            Err(MintRefused::IssuerNotFound(name)) => {
                return Err(ExchangeRefused::UnknownIssuer(name));
            }
            Err(MintRefused::RoleNotFound { role, .. }) => {
                return Err(ExchangeRefused::InvalidScope(format!(
                    "no role `{role}` on this issuer"
                )));
            }
            Err(other) => return Err(ExchangeRefused::Fault(other.to_string())),
        };
        if let Decision::Deny = self.policies.decide(
            &resolved.identity.policies,
            &target.policy_path(),
            Operation::Update,
        ) {
            return Err(ExchangeRefused::InvalidScope(format!(
                "the subject may not obtain role `{role_name}`"
            )));
        }
        let mut protocol_claims = Map::new();
        if let Some(actor_token) = &parameters.actor_token {
            let actor = self.verify(actor_token).await?;
            let actor_identity = self.identify(&actor)?.identity;
            check_may_act(&subject, &actor)?;
            protocol_claims.insert("act".into(), json!({"sub": actor_identity.id}));
        }
        // `prm` is the subject's bits ANDed with the issuer's mask; a token without `prm`
        // from an issuer without a mask carries none.
        if subject.claims.contains_key("prm") || subject.issuer.spec.permissions != u64::MAX {
            protocol_claims.insert("prm".into(), json!(subject.permissions));
        }
        let subject_exp = subject
            .claims
            .get("exp")
            .and_then(Value::as_f64)
            .map(|e| e.floor() as i64);
        let constraints = Constraints {
            not_after: subject_exp.filter(|_| target.role.role.limit_to_subject_exp),
            protocol_claims,
        };
        let mint_request = MintRequest {
            ttl: None,
            audiences: (!parameters.audiences.is_empty()).then_some(parameters.audiences),
            claims: None,
        };
        let minted = target
            .mint(
                self.keyring,
                &mint_request,
                &resolved.identity,
                self.now,
                &constraints,
            )
            .map_err(|e| match e {
                MintRefused::AudienceNotAllowed { .. } => ExchangeRefused::InvalidTarget(
                    "a requested audience or resource is not allowed for this role".into(),
                ),
                MintRefused::Invalid(fields) => ExchangeRefused::InvalidRequest(
                    fields
                        .iter()
                        .map(|f| format!("{}: {}", f.name, f.reason))
                        .collect::<Vec<_>>()
                        .join("; "),
                ),
                MintRefused::NoSigner => {
                    ExchangeRefused::Unavailable("the issuer's key cannot sign now".into())
                }
                other => ExchangeRefused::Fault(other.to_string()),
            })?;
        // Recorded last, once nothing else can refuse: a refused request never spends the jti.
        // Minting has no side effect, so a replay simply discards the token it made.
        redeem(self.replays, &subject, self.now)
            .await
            .map_err(|refused| match refused {
                RedeemRefused::Storage(StorageError::Unavailable(cause)) => {
                    tracing::warn!(%cause, "database unavailable");
                    ExchangeRefused::Unavailable(
                        "the database cannot be reached; retry shortly".into(),
                    )
                }
                RedeemRefused::Storage(e) => ExchangeRefused::Fault(e.to_string()),
                other => ExchangeRefused::grant(other.to_string()),
            })?;
        Ok(Exchanged {
            minted,
            role: role_name.to_owned(),
            identity: resolved.identity.id,
        })
    }

    async fn verify(&self, token: &str) -> Result<Verified, ExchangeRefused> {
        let mut trace = Trace::default();
        self.trust
            .verify(token, None, &mut trace)
            .await
            .map_err(|e| ExchangeRefused::grant(format!("{} ({})", e, e.code())))
    }

    fn identify(&self, verified: &Verified) -> Result<Resolved, ExchangeRefused> {
        let resolved = resolve(verified, self.mappings, &mut MappingTrace::default());
        if resolved.mapped {
            Ok(resolved)
        } else {
            Err(ExchangeRefused::grant(format!(
                "no identity mapping of `{}` applies",
                verified.issuer.spec.name
            )))
        }
    }
}

/// `scope` names exactly one role.
fn role_of(scope: Option<&str>) -> Result<&str, ExchangeRefused> {
    let scope = scope
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ExchangeRefused::InvalidScope("scope must name the role to mint".into()))?;
    if scope.contains(' ') {
        return Err(ExchangeRefused::InvalidScope(
            "scope must name exactly one role".into(),
        ));
    }
    Ok(scope)
}

/// RFC 8693 §4.4: when the subject token names who may act for it, the actor must be one.
fn check_may_act(subject: &Verified, actor: &Verified) -> Result<(), ExchangeRefused> {
    let Some(may_act) = subject.claims.get("may_act") else {
        return Ok(());
    };
    let field = |v: &Value, name: &str| v.get(name).and_then(Value::as_str).map(str::to_owned);
    let actor_sub = actor.claims.get("sub").and_then(Value::as_str);
    let actor_iss = actor.claims.get("iss").and_then(Value::as_str);
    let allowed = match may_act {
        Value::Object(_) => {
            field(may_act, "sub").as_deref() == actor_sub
                && field(may_act, "iss").is_none_or(|iss| Some(iss.as_str()) == actor_iss)
        }
        _ => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(ExchangeRefused::grant(
            "the actor is not named by the subject's may_act",
        ))
    }
}
