//! The one mint path: a role resolved from the current snapshot of JWT issuers, its policy
//! path, and minting with the issuer's signing key from the keyring. The mint endpoint and
//! token exchange (and later gates) all mint through it.

use std::sync::Arc;

use super::error::MintRefused;
use super::issuer_table::{LoadedIssuer, LoadedRole};
use super::mint::{Constraints, MintRequest, Minted, mint};
use crate::identity::Identity;
use crate::signing_keys::Keyring;

/// The resource path a caller's policies must allow (`update`) to mint `role` of `issuer`.
pub fn mint_policy_path(issuer: &str, role: &str) -> String {
    format!("/jwt-issuers/{issuer}/roles/{role}/mint")
}

/// A role of a JWT issuer served by this node, ready to mint with.
#[derive(Clone)]
pub struct MintTarget {
    /// The issuer.
    pub issuer: Arc<LoadedIssuer>,
    /// The role.
    pub role: Arc<LoadedRole>,
}

impl MintTarget {
    /// The policy path of minting this role.
    pub fn policy_path(&self) -> String {
        mint_policy_path(&self.issuer.spec.name, &self.role.role.name)
    }

    /// Mints a token of this role for `identity` with the issuer's key in `keyring` at `now`.
    pub fn mint(
        &self,
        keyring: &Keyring,
        request: &MintRequest,
        identity: &Identity,
        now: i64,
        constraints: &Constraints,
    ) -> Result<Minted, MintRefused> {
        let key = keyring
            .get(&self.issuer.spec.signing_key)
            .ok_or(MintRefused::NoSigner)?;
        mint(
            &self.issuer,
            &self.role.role,
            request,
            identity,
            key,
            now,
            constraints,
        )
    }
}
