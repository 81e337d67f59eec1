//! Minting one token: TTL choice, audiences, caller claims, templates, required claims, then a
//! single signature with the key pair already parsed. Pure: no storage, no locks.

use serde_json::{Map, Value, json};

use super::error::MintRefused;
use super::issuer_table::LoadedIssuer;
use super::role::{ClaimType, CompiledRole, RESERVED_CLAIMS, TokenType};
use super::template::{self};
use crate::duration::HumanDuration;
use crate::identity::Identity;
use crate::signing_keys::LoadedKey;
use crate::validation::FieldError;

/// What the caller asks for.
#[derive(Clone, Debug, Default)]
pub struct MintRequest {
    /// Requested lifetime.
    pub ttl: Option<HumanDuration>,
    /// Requested audiences.
    pub audiences: Option<Vec<String>>,
    /// Caller claims (only those the role allows).
    pub claims: Option<Map<String, Value>>,
}

/// Limits and claims a protocol adds on top of the role (token exchange: `act`, `prm`, the
/// subject token's `exp`).
#[derive(Clone, Debug, Default)]
pub struct Constraints {
    /// The token must not expire after this time.
    pub not_after: Option<i64>,
    /// Claims set by Sigil itself, after every role rule.
    pub protocol_claims: Map<String, Value>,
}

/// A minted token.
#[derive(Clone, Debug)]
pub struct Minted {
    /// The compact JWS.
    pub token: String,
    /// `exp`.
    pub expires_at: i64,
    /// The signing key version's `kid`.
    pub kid: String,
    /// `jti`.
    pub jti: String,
}

/// Mints a token of `role` under `issuer` for `identity`, signed by `key` at `now`.
pub fn mint(
    issuer: &LoadedIssuer,
    role: &CompiledRole,
    request: &MintRequest,
    identity: &Identity,
    key: &LoadedKey,
    now: i64,
    constraints: &Constraints,
) -> Result<Minted, MintRefused> {
    let verbose = issuer.spec.verbose_logging || role.verbose_logging;
    let mut errors = Vec::new();
    let ttl = choose_ttl(issuer, role, request.ttl, &mut errors);
    let audiences = choose_audiences(role, request.audiences.as_deref(), verbose, &mut errors);
    let caller_claims = check_caller_claims(role, request.claims.as_ref(), &mut errors);
    if !errors.is_empty() {
        if verbose {
            tracing::info!(issuer = %issuer.spec.name, role = %role.name, identity = %identity.id,
                refused = ?errors.iter().map(|e| &e.name).collect::<Vec<_>>(), "mint refused");
        }
        return Err(match audiences {
            Ok(_) => MintRefused::Invalid(errors),
            Err(requested) => MintRefused::AudienceNotAllowed {
                requested,
                fields: errors,
            },
        });
    }
    // A refused audience also added an error, which returned above.
    let audiences = audiences.unwrap_or_default();
    let mut claims = Map::new();
    for (name, value) in caller_claims {
        claims.insert(name, value);
    }
    for (name, value) in &role.fixed_claims {
        let rendered = template::render_value(value, identity)
            .map_err(|e| MintRefused::template(&format!("fixed_claims/{name}"), &e))?;
        if verbose {
            tracing::info!(role = %role.name, claim = %name, template = %value, value = %rendered, "template expanded");
        }
        claims.insert(name.clone(), rendered);
    }
    let subject = match role.subject.render(identity) {
        Ok(Value::String(s)) if !s.is_empty() => s,
        Ok(_) => {
            return Err(MintRefused::Invalid(vec![FieldError::invalid(
                "subject_template",
                "does not render to a non-empty string for this caller",
            )]));
        }
        Err(e) => return Err(MintRefused::template("subject_template", &e)),
    };
    if verbose {
        tracing::info!(role = %role.name, template = ?role.fields.subject_template, %subject, "subject expanded");
    }
    let signer = key.signer_at(now).ok_or(MintRefused::NoSigner)?;
    let mut expires_at = now.saturating_add(i64::try_from(ttl).unwrap_or(i64::MAX));
    if let Some(limit) = constraints.not_after {
        expires_at = expires_at.min(limit);
    }
    if expires_at <= now {
        return Err(MintRefused::Invalid(vec![FieldError::invalid(
            "ttl",
            "leaves no lifetime: the subject token expires now",
        )]));
    }
    let jti = uuid::Uuid::new_v4().to_string();
    claims.insert("iss".into(), json!(issuer.iss));
    claims.insert("sub".into(), json!(subject));
    match audiences.as_slice() {
        [] => {}
        [one] => {
            claims.insert("aud".into(), json!(one));
        }
        many => {
            claims.insert("aud".into(), json!(many));
        }
    }
    claims.insert("iat".into(), json!(now));
    claims.insert("nbf".into(), json!(now));
    claims.insert("exp".into(), json!(expires_at));
    claims.insert("jti".into(), json!(jti));
    if role.token_type == TokenType::AtJwt {
        claims.insert("client_id".into(), json!(identity.id));
    }
    for (name, value) in &constraints.protocol_claims {
        claims.insert(name.clone(), value.clone());
    }
    let missing: Vec<FieldError> = role
        .required_claims
        .iter()
        .filter(|name| !claims.contains_key(name.as_str()))
        .map(|name| {
            FieldError::new(
                format!("claims/{name}"),
                "required",
                "is required by the role",
            )
        })
        .collect();
    if !missing.is_empty() {
        return Err(MintRefused::Invalid(missing));
    }
    let payload = serde_json::to_vec(&claims).map_err(|e| MintRefused::Encoding(e.to_string()))?;
    let token = match role.token_type {
        TokenType::Jwt => signer.sign_compact(&payload),
        TokenType::AtJwt => signer.sign_compact_typed("at+jwt", &payload),
    }
    .map_err(|e| MintRefused::Signing(e.to_string()))?;
    if verbose {
        tracing::info!(issuer = %issuer.spec.name, role = %role.name, identity = %identity.id,
            subject = %subject, ttl, audiences = ?audiences, kid = %signer.kid(), %jti,
            token = "[redacted]", "minted");
    }
    Ok(Minted {
        token,
        expires_at,
        kid: signer.kid().to_owned(),
        jti,
    })
}

/// TTL = request, else role default, else issuer default; a request above a cap is refused,
/// defaults are capped.
fn choose_ttl(
    issuer: &LoadedIssuer,
    role: &CompiledRole,
    requested: Option<HumanDuration>,
    errors: &mut Vec<FieldError>,
) -> u64 {
    let issuer_max = issuer.spec.max_ttl;
    let cap = role.max_ttl.map_or(issuer_max, |r| r.min(issuer_max));
    let chosen = match requested {
        Some(ttl) if ttl.as_secs() == 0 => {
            errors.push(FieldError::invalid("ttl", "must be longer than 0s"));
            return 0;
        }
        Some(ttl) => {
            if let Some(role_max) = role.max_ttl.filter(|max| ttl > *max) {
                errors.push(FieldError::new(
                    "ttl",
                    "above_maximum",
                    format!("{ttl} is above the role's max_ttl {role_max}"),
                ));
            } else if ttl > issuer_max {
                errors.push(FieldError::new(
                    "ttl",
                    "above_maximum",
                    format!("{ttl} is above the issuer's max_ttl {issuer_max}"),
                ));
            }
            ttl
        }
        None => role.default_ttl.unwrap_or(issuer.spec.default_ttl).min(cap),
    };
    if role.verbose_logging || issuer.spec.verbose_logging {
        tracing::info!(role = %role.name, requested = ?requested.map(|t| t.to_string()),
            chosen = %chosen, cap = %cap, "ttl chosen");
    }
    chosen.as_secs()
}

/// The requested audiences when the role admits each, else the role's defaults; `Err` with
/// the refused audiences (none: a required audience is missing), each also added to `errors`.
fn choose_audiences(
    role: &CompiledRole,
    requested: Option<&[String]>,
    verbose: bool,
    errors: &mut Vec<FieldError>,
) -> Result<Vec<String>, Vec<String>> {
    let mut refused = Vec::new();
    let audiences = match requested {
        Some(list) if !list.is_empty() => {
            for (i, audience) in list.iter().enumerate() {
                let allowed = role.allowed_audiences.admits(audience);
                if verbose {
                    tracing::info!(role = %role.name, %audience, allowed, "audience match");
                }
                if !allowed {
                    refused.push(audience.clone());
                    errors.push(FieldError::new(
                        format!("audiences/{i}"),
                        "not_allowed",
                        format!("{audience:?} matches none of the role's allowed_audiences"),
                    ));
                }
            }
            list.to_vec()
        }
        _ => {
            if verbose {
                tracing::info!(role = %role.name, defaults = ?role.default_audiences, "audience match: none requested, role defaults used");
            }
            role.default_audiences.clone()
        }
    };
    if audiences.is_empty() && role.require_audience {
        errors.push(FieldError::required("audiences"));
        return Err(refused);
    }
    if refused.is_empty() {
        Ok(audiences)
    } else {
        Err(refused)
    }
}

fn check_caller_claims(
    role: &CompiledRole,
    claims: Option<&Map<String, Value>>,
    errors: &mut Vec<FieldError>,
) -> Vec<(String, Value)> {
    let mut accepted = Vec::new();
    for (name, value) in claims.into_iter().flatten() {
        let field = format!("claims/{name}");
        if RESERVED_CLAIMS.contains(&name.as_str()) {
            errors.push(FieldError::new(
                field,
                "reserved",
                "is set by Sigil and cannot be requested",
            ));
            continue;
        }
        let Some((claim_type, globs)) = role.allowed_claims.get(name) else {
            errors.push(FieldError::new(
                field,
                "not_allowed",
                "is not an allowed claim of this role",
            ));
            continue;
        };
        let texts: Option<Vec<String>> = match (claim_type, value) {
            (ClaimType::String, Value::String(s)) => Some(vec![s.clone()]),
            (ClaimType::Number, Value::Number(n)) => Some(vec![n.to_string()]),
            (ClaimType::Boolean, Value::Bool(b)) => Some(vec![b.to_string()]),
            (ClaimType::StringArray, Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect(),
            _ => None,
        };
        let Some(texts) = texts else {
            let expected = serde_json::to_value(claim_type).unwrap_or(Value::Null);
            errors.push(FieldError::new(
                field,
                "invalid_type",
                format!("must be of type {}", expected.as_str().unwrap_or("?")),
            ));
            continue;
        };
        if let Some(bad) = texts
            .iter()
            .find(|t| !globs.iter().any(|g| g.is_match(t.as_str())))
        {
            errors.push(FieldError::new(
                field,
                "not_allowed",
                format!("{bad:?} matches none of the allowed values"),
            ));
            continue;
        }
        accepted.push((name.clone(), value.clone()));
    }
    accepted
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use serde_json::json;

    use super::*;
    use crate::minting::issuer::IssuerSpec;
    use crate::minting::{IssuerFields, RoleFields};
    use crate::signing_keys::{KeySpec, KeyStatus, KeyVersion, LoadedKey};
    use crate::storage::Stamps;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn fixture(verbose: bool) -> (LoadedIssuer, CompiledRole, LoadedKey, Identity) {
        let spec = IssuerSpec::from_fields(IssuerFields {
            name: Some("payments".into()),
            signing_key: Some("k".into()),
            verbose_logging: Some(verbose),
            ..IssuerFields::default()
        })
        .unwrap();
        let issuer = LoadedIssuer {
            iss: "https://sigil.test/jwt/payments".into(),
            served_here: true,
            spec,
            stamps: Stamps {
                revision: 1,
                ..Stamps::NONE
            },
            roles: Default::default(),
        };
        let fields: RoleFields = serde_json::from_value(json!({
            "name": "deployer",
            "subject_template": "svc:{{identity.id}}",
            "fixed_claims": {"team": "{{identity.project}}"},
            "allowed_audiences": ["https://*.test"],
            "default_audiences": ["https://api.test"]
        }))
        .unwrap();
        let role = CompiledRole::compile(fields, HumanDuration::from_secs(86_400)).unwrap();
        let (signer, _) = sigil_jose::SigningKey::generate(
            sigil_jose::KeyType::EcdsaP256,
            sigil_jose::Algorithm::Es256,
        )
        .unwrap();
        let version = KeyVersion {
            version: 1,
            kid: signer.kid().to_owned(),
            status: KeyStatus::Active,
            created_at: 0,
            activates_at: Some(0),
            retires_at: None,
            public_jwk: signer.public_jwk().clone(),
        };
        let key_spec = KeySpec::from_fields(Some("k"), None, None, None).unwrap();
        let verifier = Arc::new(signer.verifying_key());
        let key = LoadedKey::new(
            key_spec,
            vec![version],
            (1, 0, 0),
            vec![(1, Arc::new(signer))],
            vec![(1, verifier)],
        );
        let identity = Identity {
            id: "sigil:root".into(),
            trusted_issuer: "sigil".into(),
            project: "p1".into(),
            roles: vec![],
            permissions: u64::MAX,
            policies: vec![],
            claims: Map::new(),
        };
        (issuer, role, key, identity)
    }

    fn mint_logging(verbose: bool) -> (Minted, String) {
        let (issuer, role, key, identity) = fixture(verbose);
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        let minted = tracing::subscriber::with_default(subscriber, || {
            mint(
                &issuer,
                &role,
                &MintRequest::default(),
                &identity,
                &key,
                1_000,
                &Constraints::default(),
            )
            .unwrap()
        });
        let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        (minted, logs)
    }

    #[test]
    fn verbose_logging_records_every_decision_but_never_the_token() {
        let (minted, logs) = mint_logging(true);
        for decision in [
            "ttl chosen",
            "subject expanded",
            "template expanded",
            "minted",
        ] {
            assert!(logs.contains(decision), "missing {decision:?} in {logs}");
        }
        assert!(logs.contains("svc:sigil:root"), "{logs}");
        assert!(
            !logs.contains(&minted.token),
            "the token leaked into the log"
        );
        let signature = minted.token.rsplit('.').next().unwrap();
        assert!(!logs.contains(signature));
    }

    #[test]
    fn quiet_issuers_log_nothing_per_mint() {
        let (_, logs) = mint_logging(false);
        assert!(logs.is_empty(), "{logs}");
    }

    #[test]
    fn a_default_ttl_is_capped_and_the_token_carries_the_role_shape() {
        let (minted, _) = mint_logging(false);
        assert_eq!(minted.expires_at, 1_000 + 3_600);
        let (_, claims) = sigil_jose::dangerous::insecure_decode(&minted.token).unwrap();
        assert_eq!(claims["sub"], "svc:sigil:root");
        assert_eq!(claims["team"], "p1");
        assert_eq!(claims["aud"], "https://api.test");
        assert_eq!(claims["iss"], "https://sigil.test/jwt/payments");
    }
}
