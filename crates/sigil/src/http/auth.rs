//! Authentication and authorisation of `/v1` requests, in one place: the caller's JWT (from
//! `Authorization: Bearer`, or the header its trusted issuer names) is verified and mapped
//! into an identity, the routed request becomes a (resource path, operation) pair, and the
//! identity's policies decide. Default deny.

use std::borrow::Cow;
use std::sync::Arc;

use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sigil_policy::{Decision, Operation};

use super::bearer::{AuthRefused, TokenPlace, read_token};
use super::{ApiError, AppState};
use crate::identity::{Current, Identity, MappingTrace, Resolved, resolve};
use crate::trust::{Trace, Verified};

/// The authenticated caller of a request, allowed by a policy to do what it asks.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Who, and how the token was mapped.
    pub resolved: Arc<Resolved>,
}

/// Middleware: 401 without a valid token, 403 when no policy allows the request.
pub async fn authenticate(
    State(state): State<AppState>,
    matched: MatchedPath,
    params: RawPathParams,
    mut request: Request,
    next: Next,
) -> Response {
    let resolved = match identify(&state, request.headers()).await {
        Ok(resolved) => resolved,
        Err(error) => return error.into_response(),
    };
    let resource = match resource_path(matched.as_str(), &params) {
        Ok(path) => path,
        Err(error) => return error.into_response(),
    };
    let operation = operation_of(request.method(), matched.as_str());
    if let Err(error) = authorize(&state, &resolved.identity, &resource, operation) {
        return error.into_response();
    }
    request.extensions_mut().insert(Caller { resolved });
    next.run(request).await
}

/// Verifies the caller's token and maps it to an identity; a token seen before is taken from
/// the caller cache while nothing it depends on has changed.
pub async fn identify(state: &AppState, headers: &HeaderMap) -> Result<Arc<Resolved>, ApiError> {
    let (token, arrived_in) = caller_token(state, headers)?;
    let registry = state.trust.registry();
    let keyring = state.keys.keyring();
    let mappings = state.mappings.table();
    let current = Current {
        registry: &registry,
        internal: state.trust.internal(),
        keyring: &keyring,
        mappings: &mappings,
        now: state.clock.now(),
    };
    if let Some(known) = state.callers.get(token, &arrived_in, &current) {
        return Ok(known);
    }
    let verified = verify_from(state, token, &arrived_in).await?;
    let resolved = Arc::new(resolve(&verified, &mappings, &mut MappingTrace::default()));
    state
        .callers
        .insert(token, &arrived_in, &verified, resolved.clone(), &current);
    Ok(resolved)
}

/// Verifies a token that arrived in header `arrived_in`: it must be the header its issuer
/// names, so a token cannot be replayed through a channel its issuer did not choose.
pub async fn verify_from(
    state: &AppState,
    token: &str,
    arrived_in: &str,
) -> Result<Verified, ApiError> {
    let verified = state
        .trust
        .verify(token, None, &mut Trace::default())
        .await
        .inspect_err(|refused| tracing::info!(reason = %refused, "token refused"))?;
    if verified.issuer.spec.header != arrived_in {
        return Err(AuthRefused::WrongHeader {
            expected: verified.issuer.spec.header.clone(),
        }
        .into());
    }
    Ok(verified)
}

/// Default deny: allowed when one of the identity's policies allows `operation` on `resource`.
pub fn authorize(
    state: &AppState,
    identity: &Identity,
    resource: &str,
    operation: Operation,
) -> Result<(), ApiError> {
    match state
        .policies
        .set()
        .decide(&identity.policies, resource, operation)
    {
        Decision::Allow { .. } => Ok(()),
        Decision::Deny => {
            tracing::info!(identity = %identity.id, %resource, %operation, "denied by policy");
            Err(ApiError::Forbidden {
                path: resource.to_owned(),
                operation: operation.to_string(),
            })
        }
    }
}

/// The caller's token and the header it came in: `Authorization`, else a header some
/// trusted issuer names.
fn caller_token<'h>(
    state: &AppState,
    headers: &'h HeaderMap,
) -> Result<(&'h str, Cow<'static, str>), AuthRefused> {
    if let Some(token) = read_token(headers, TokenPlace::Header("authorization"))? {
        return Ok((token, Cow::Borrowed("authorization")));
    }
    let registry = state.trust.registry();
    for name in registry.custom_headers() {
        if let Some(token) = read_token(headers, TokenPlace::Header(name))? {
            return Ok((token, Cow::Owned(name.clone())));
        }
    }
    Err(AuthRefused::Missing)
}

/// The resource path of a routed request: the route template without its `/v1/config`,
/// `/v1/state` or `/v1` prefix, with each parameter replaced by its decoded value. Values that
/// could change the path's shape (`/`, `.`, `..`, empty) are refused rather than normalised.
pub fn resource_path(template: &str, params: &RawPathParams) -> Result<String, ApiError> {
    resource_path_with(template, |name| {
        params
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value)
    })
}

/// [`resource_path`] with the parameters looked up by `param`.
fn resource_path_with<'p>(
    template: &str,
    param: impl Fn(&str) -> Option<&'p str>,
) -> Result<String, ApiError> {
    let stripped = ["/v1/config", "/v1/state", "/v1"]
        .iter()
        .find_map(|prefix| template.strip_prefix(prefix))
        .unwrap_or(template);
    let mut path = String::with_capacity(stripped.len() + 32);
    for segment in stripped.split('/').filter(|s| !s.is_empty()) {
        path.push('/');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let value = param(name)
                    .ok_or_else(|| ApiError::Fault(format!("route parameter {name} missing")))?;
                if value.is_empty() || value == "." || value == ".." || value.contains('/') {
                    return Err(ApiError::NotFound(format!("no resource named {value:?}")));
                }
                path.push_str(value);
            }
            None => path.push_str(segment),
        }
    }
    Ok(path)
}

/// GET is read, POST on a configuration collection is create, other POSTs are actions
/// (update), PUT and PATCH update, DELETE deletes.
pub fn operation_of(method: &Method, template: &str) -> Operation {
    match *method {
        Method::GET | Method::HEAD => Operation::Read,
        Method::DELETE => Operation::Delete,
        Method::POST if template.starts_with("/v1/config/") => Operation::Create,
        _ => Operation::Update,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::protocol::mint::MINT_ROUTE;
    use crate::minting::mint_policy_path;

    #[test]
    fn the_mint_route_is_judged_at_the_mint_policy_path() {
        let params = |name: &str| match name {
            "name" => Some("payments"),
            "role" => Some("deployer"),
            _ => None,
        };
        assert_eq!(
            resource_path_with(MINT_ROUTE, params).unwrap(),
            mint_policy_path("payments", "deployer")
        );
    }

    #[test]
    fn methods_map_to_operations() {
        assert_eq!(
            operation_of(&Method::GET, "/v1/config/signing-keys"),
            Operation::Read
        );
        assert_eq!(
            operation_of(&Method::POST, "/v1/config/signing-keys"),
            Operation::Create
        );
        assert_eq!(
            operation_of(&Method::POST, "/v1/signing-keys/{name}/rotate"),
            Operation::Update
        );
        assert_eq!(
            operation_of(&Method::PATCH, "/v1/config/signing-keys/{name}"),
            Operation::Update
        );
        assert_eq!(
            operation_of(&Method::DELETE, "/v1/config/signing-keys/{name}"),
            Operation::Delete
        );
    }
}
