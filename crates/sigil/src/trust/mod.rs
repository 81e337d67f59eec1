//! Trusted issuers: whose JWTs Sigil accepts, and the one verification every caller shares.
//! The internal issuer `sigil` signs root tokens and sessions with the internal signing key;
//! external issuers publish keys that are fetched (JWKS URLs, OIDC discovery) or configured
//! inline, merged per issuer.

mod claims;
pub mod fetch;
pub mod fetched;
mod internal;
mod key_choice;
pub mod keyset;
mod redeem;
mod refresher;
pub mod registry;
pub mod sources;
pub mod spec;
mod trace;
mod trusted_issuers;
mod verification;

pub use claims::check_times;
pub use internal::{INTERNAL_ISS, INTERNAL_ISSUER, INTERNAL_KEY, InternalIssuer, MintedToken};
pub use key_choice::UNKNOWN_KID_COOLDOWN;
pub use redeem::{RedeemRefused, redeem};
pub use registry::{TrustRegistry, TrustedIssuer};
pub use spec::{TrustedIssuerFields, TrustedIssuerSpec};
pub use trace::{Check, Trace};
pub use trusted_issuers::{TrustRefused, TrustSetup, TrustedIssuers};
pub use verification::{Verified, VerifyRefused};
