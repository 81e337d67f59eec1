//! From a verified token to an identity: internal tokens carry their own `policies`; other
//! issuers' tokens get an identity and policies only from the first mapping (in name order)
//! that applies. The others are recorded for `explain`.

use serde::Serialize;
use serde_json::{Map, Value};

use super::mapping::MappingOutcome;
use super::mapping_table::MappingTable;
use super::model::Identity;
use crate::trust::{INTERNAL_ISSUER, Verified};

/// The identity of a token and how it was reached.
#[derive(Clone, Debug)]
pub struct Resolved {
    /// The identity (with no policies when nothing applied).
    pub identity: Identity,
    /// The mapping that applied; `None` for internal tokens and unmapped external ones.
    pub mapping: Option<String>,
    /// Whether the token was mapped (internal tokens always are).
    pub mapped: bool,
}

/// Each mapping tried, in order, with its outcome.
#[derive(Clone, Debug, Default, Serialize, utoipa::ToSchema)]
pub struct MappingTrace {
    /// `(mapping, outcome)` in the order tried; tried until one applied.
    pub tried: Vec<MappingTried>,
}

/// One mapping tried.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct MappingTried {
    /// Its name.
    pub mapping: String,
    /// What happened.
    #[serde(flatten)]
    pub outcome: MappingOutcome,
}

/// Resolves the identity of a verified token.
pub fn resolve(verified: &Verified, mappings: &MappingTable, trace: &mut MappingTrace) -> Resolved {
    let issuer = &verified.issuer.spec;
    let subject = verified
        .claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if verified.issuer.is_internal {
        let policies = strings(verified.claims.get("policies"));
        let id = if subject.contains(':') {
            subject.to_owned()
        } else {
            format!("{INTERNAL_ISSUER}:{subject}")
        };
        return Resolved {
            identity: identity(verified, id, policies, verified.claims.clone()),
            mapping: None,
            mapped: true,
        };
    }
    for mapping in mappings.for_issuer(&issuer.name) {
        let outcome = mapping.apply(&verified.claims);
        let applied = match &outcome {
            MappingOutcome::Applied { identity } => Some(identity.clone()),
            _ => None,
        };
        trace.tried.push(MappingTried {
            mapping: mapping.name.clone(),
            outcome,
        });
        let Some(value) = applied else {
            continue;
        };
        let id = match &mapping.grantee {
            Some(grantee) if grantee.contains(':') => grantee.clone(),
            _ => format!("{}:{value}", issuer.name),
        };
        let claims = match &mapping.claims {
            None => verified.claims.clone(),
            Some(names) => names
                .iter()
                .filter_map(|n| Some((n.clone(), verified.claims.get(n)?.clone())))
                .collect::<Map<String, Value>>(),
        };
        return Resolved {
            identity: identity(verified, id, mapping.policies.clone(), claims),
            mapping: Some(mapping.name.clone()),
            mapped: true,
        };
    }
    Resolved {
        identity: identity(
            verified,
            format!("{}:{subject}", issuer.name),
            Vec::new(),
            verified.claims.clone(),
        ),
        mapping: None,
        mapped: false,
    }
}

fn identity(
    verified: &Verified,
    id: String,
    policies: Vec<String>,
    claims: Map<String, Value>,
) -> Identity {
    Identity {
        id,
        trusted_issuer: verified.issuer.spec.name.clone(),
        project: verified.issuer.spec.project.clone(),
        roles: verified.roles.clone(),
        permissions: verified.permissions,
        policies,
        claims,
    }
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
