//! Trusted issuers: whose JWTs Sigil accepts. The internal issuer `sigil` signs root tokens
//! and sessions with the internal signing key; external issuers publish keys that are fetched
//! (JWKS URLs, OIDC discovery) or configured inline, merged per issuer.

pub mod documents;
pub mod fetch;
mod internal;
pub mod keyset;
mod redeem;
pub mod registry;
mod service;
pub mod sources;
pub mod spec;
pub mod verify;

pub use internal::{
    AuthRefused, INTERNAL_ISS, INTERNAL_ISSUER, INTERNAL_KEY, InternalIssuer, MintedToken,
};
pub use redeem::{RedeemRefused, redeem};
pub use registry::{TrustRegistry, TrustedIssuer};
pub use service::{TrustRefused, TrustSetup, TrustedIssuers, UNKNOWN_KID_COOLDOWN};
pub use spec::{TrustedIssuerFields, TrustedIssuerSpec};
pub use verify::{Trace, Verified, VerifyRefused};
