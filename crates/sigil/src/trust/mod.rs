//! Trusted issuers: whose JWTs Sigil accepts, and the one verification every caller shares.
//! The internal issuer `sigil` signs root tokens and sessions with the internal signing key;
//! external issuers publish keys that are fetched (JWKS URLs, OIDC discovery) or configured
//! inline, merged per issuer.

mod claims;
pub mod fetch;
pub(crate) mod fetched;
mod internal;
mod key_choice;
pub(crate) mod keyset;
mod redeem;
mod refresher;
pub(crate) mod registry;
pub(crate) mod sources;
pub(crate) mod spec;
mod trace;
mod trusted_issuers;
mod verification;

pub(crate) use claims::check_times;
pub(crate) use internal::{
    INTERNAL_ISS, INTERNAL_ISSUER, INTERNAL_KEY, InternalIssuer, MintedToken,
};
pub(crate) use redeem::{RedeemRefused, redeem};
pub(crate) use registry::{TrustRegistry, TrustedIssuer};
pub use spec::{TrustedIssuerFields, TrustedIssuerSpec};
pub(crate) use trace::{Check, Trace};
pub(crate) use trusted_issuers::{TrustRefused, TrustSetup, TrustedIssuers};
pub(crate) use verification::{Verified, VerifyRefused};
