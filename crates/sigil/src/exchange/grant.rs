//! The exchange itself: parameters already parsed by the token endpoint, services passed in
//! narrowly, one function from request to minted token.

use serde_json::{Map, Value, json};
use sigil_policy::{Decision, Operation, PolicySet};

use super::refused::ExchangeRefused;
use crate::identity::{MappingTable, MappingTrace, Resolved, resolve};
use crate::minting::{Constraints, JwtIssuers, MintRefused, MintRequest, Minted, mint};
use crate::signing_keys::Keyring;
use crate::storage::ReplayStore;
use crate::trust::{Trace, TrustedIssuers, Verified};

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

/// The grant presented.
#[derive(Clone, Debug)]
pub enum Grant {
    /// RFC 8693 token exchange.
    TokenExchange {
        /// The subject token.
        subject_token: String,
        /// Its type.
        subject_token_type: TokenType,
        /// An actor token and its type.
        actor: Option<(String, TokenType)>,
    },
    /// RFC 7523 JWT bearer assertion.
    JwtBearer {
        /// The assertion.
        assertion: String,
    },
}

/// A parsed exchange request.
#[derive(Clone, Debug)]
pub struct ExchangeRequest {
    /// The grant.
    pub grant: Grant,
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
        let role_name = role_of(request.scope.as_deref())?;
        let (issuer, role) = match self.issuers.resolve(issuer_name, role_name) {
            Ok(found) => found,
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
        let (subject_token, actor_token) = match &request.grant {
            Grant::TokenExchange {
                subject_token,
                actor,
                ..
            } => (
                subject_token.as_str(),
                actor.as_ref().map(|(t, _)| t.as_str()),
            ),
            Grant::JwtBearer { assertion } => (assertion.as_str(), None),
        };
        let subject = self.verify(subject_token).await?;
        let resolved = self.identify(&subject)?;
        let mint_path = format!("/jwt-issuers/{issuer_name}/roles/{role_name}/mint");
        if let Decision::Deny =
            self.policies
                .decide(&resolved.identity.policies, &mint_path, Operation::Update)
        {
            return Err(ExchangeRefused::InvalidScope(format!(
                "the subject may not obtain role `{role_name}`"
            )));
        }
        let mut protocol_claims = Map::new();
        if let Some(actor_token) = actor_token {
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
            not_after: subject_exp.filter(|_| role.role.limit_to_subject_exp),
            protocol_claims,
        };
        let key = self.keyring.get(&issuer.spec.signing_key).ok_or_else(|| {
            ExchangeRefused::Unavailable("the issuer's key cannot sign now".into())
        })?;
        let mint_request = MintRequest {
            ttl: None,
            audiences: (!request.audiences.is_empty()).then_some(request.audiences),
            claims: None,
        };
        let minted = mint(
            &issuer,
            &role.role,
            &mint_request,
            &resolved.identity,
            key,
            self.now,
            &constraints,
        )
        .map_err(|e| match e {
            MintRefused::Invalid(fields)
                if fields.iter().any(|f| f.name.starts_with("audiences")) =>
            {
                ExchangeRefused::InvalidTarget(
                    "a requested audience or resource is not allowed for this role".into(),
                )
            }
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
        if subject.issuer.spec.require_jti {
            self.record_first_use(&subject).await?;
        }
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

    async fn record_first_use(&self, subject: &Verified) -> Result<(), ExchangeRefused> {
        let jti = subject
            .claims
            .get("jti")
            .and_then(Value::as_str)
            .filter(|j| !j.is_empty() && j.len() <= crate::storage::REPLAY_JTI_MAX_BYTES)
            .ok_or_else(|| ExchangeRefused::grant("jti missing or longer than 512 bytes"))?;
        let exp = subject
            .claims
            .get("exp")
            .and_then(Value::as_f64)
            .map_or(self.now, |e| e.ceil() as i64)
            .saturating_add(i64::try_from(subject.issuer.spec.leeway).unwrap_or(0));
        let first = self
            .replays
            .first_use(&subject.issuer.spec.issuer, jti, exp, self.now)
            .await
            .map_err(|e| ExchangeRefused::Fault(e.to_string()))?;
        if first {
            Ok(())
        } else {
            Err(ExchangeRefused::grant(format!(
                "jti {jti:?} was already used"
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
