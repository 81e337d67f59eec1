//! Token exchange (RFC 8693) and JWT bearer grants (RFC 7523): a trusted external token is
//! verified, mapped to an identity, checked against the mint policy of the requested role,
//! protected against replay when its issuer requires `jti`, and traded for a Sigil token.

mod grant;
mod refused;

pub use grant::{Exchange, ExchangeParameters, ExchangeRequest, TokenType};
pub use refused::ExchangeRefused;
