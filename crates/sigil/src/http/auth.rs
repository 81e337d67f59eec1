//! Authentication and authorisation of `/v1` requests, in one place: the bearer token is
//! verified into an identity, the routed request becomes a (resource path, operation) pair,
//! and the identity's policies decide. Default deny.

use axum::extract::{MatchedPath, RawPathParams, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sigil_policy::Operation;

use super::{ApiError, AppState};
use crate::identity::Identity;
use crate::trust::{AuthRefused, Trace};

/// The authenticated caller of a request, and what the request does.
#[derive(Clone, Debug)]
pub struct Caller {
    /// Who.
    pub identity: Identity,
    /// The resource path as policies see it (`/signing-keys/payments`).
    pub resource: String,
    /// The operation.
    pub operation: Operation,
}

/// Middleware: 401 without a valid token, 403 when no policy allows the request.
pub async fn authenticate(
    State(state): State<AppState>,
    matched: MatchedPath,
    params: RawPathParams,
    mut request: Request,
    next: Next,
) -> Response {
    let token = match bearer_token(&request) {
        Ok(token) => token,
        Err(refused) => return ApiError::from(refused).into_response(),
    };
    let mut trace = Trace::default();
    let identity = match state.trust.verify(token, None, &mut trace).await {
        Ok(verified) => state.trust.identity(&verified),
        Err(refused) => {
            tracing::info!(reason = %refused, "token refused");
            return ApiError::from(refused).into_response();
        }
    };
    let resource = match resource_path(matched.as_str(), &params) {
        Ok(path) => path,
        Err(error) => return error.into_response(),
    };
    let operation = operation_of(request.method(), matched.as_str());
    if !allows(&identity, &resource, operation) {
        tracing::info!(identity = %identity.id, %resource, %operation, "denied by policy");
        return ApiError::Forbidden {
            path: resource,
            operation: operation.to_string(),
        }
        .into_response();
    }
    request.extensions_mut().insert(Caller {
        identity,
        resource,
        operation,
    });
    next.run(request).await
}

/// The policy decision. Until named policies exist, only the built-in `root` policy grants.
fn allows(identity: &Identity, _resource: &str, _operation: Operation) -> bool {
    identity.policies.iter().any(|p| p == "root")
}

fn bearer_token(request: &Request) -> Result<&str, AuthRefused> {
    let value = request
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or(AuthRefused::Missing)?
        .to_str()
        .map_err(|_| AuthRefused::Malformed("the Authorization header is not ASCII".into()))?;
    let (scheme, token) = value
        .split_once(' ')
        .ok_or_else(|| AuthRefused::Malformed("expected `Authorization: Bearer <token>`".into()))?;
    if !scheme.eq_ignore_ascii_case("bearer") || token.trim().is_empty() {
        return Err(AuthRefused::Malformed(
            "expected `Authorization: Bearer <token>`".into(),
        ));
    }
    Ok(token.trim())
}

/// The resource path of a routed request: the route template without its `/v1/config`,
/// `/v1/state` or `/v1` prefix, with each parameter replaced by its decoded value. Values that
/// could change the path's shape (`/`, `.`, `..`, empty) are refused rather than normalised.
pub fn resource_path(template: &str, params: &RawPathParams) -> Result<String, ApiError> {
    let stripped = ["/v1/config", "/v1/state", "/v1"]
        .iter()
        .find_map(|prefix| template.strip_prefix(prefix))
        .unwrap_or(template);
    let mut path = String::with_capacity(stripped.len() + 32);
    for segment in stripped.split('/').filter(|s| !s.is_empty()) {
        path.push('/');
        match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) => {
                let value = params
                    .iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| value)
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
