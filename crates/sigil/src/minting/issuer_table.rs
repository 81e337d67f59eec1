//! The in-memory issuer table the hot path reads: issuers with their compiled roles, swapped
//! whole on every change so a mint never sees half an update.

use std::collections::HashMap;
use std::sync::Arc;

use super::issuer::IssuerSpec;
use super::role::CompiledRole;
use crate::catalog::{Named, Snapshot};
use crate::storage::Stamps;

/// A role as loaded.
#[derive(Debug)]
pub struct LoadedRole {
    /// The compiled role.
    pub role: CompiledRole,
    /// Its document stamps.
    pub stamps: Stamps,
}

/// An issuer as loaded, with its roles.
#[derive(Debug)]
pub struct LoadedIssuer {
    /// The configuration.
    pub spec: IssuerSpec,
    /// The resolved `iss`.
    pub iss: String,
    /// Whether this node's site is in `distribute`.
    pub served_here: bool,
    /// Its document stamps.
    pub stamps: Stamps,
    /// Roles by name.
    pub roles: HashMap<String, Arc<LoadedRole>>,
}

impl LoadedIssuer {
    /// A copy with different roles.
    pub fn with_roles(&self, roles: HashMap<String, Arc<LoadedRole>>) -> LoadedIssuer {
        LoadedIssuer {
            spec: self.spec.clone(),
            iss: self.iss.clone(),
            served_here: self.served_here,
            stamps: self.stamps,
            roles,
        }
    }

    /// Roles sorted by name.
    pub fn sorted_roles(&self) -> Vec<&Arc<LoadedRole>> {
        let mut roles: Vec<&Arc<LoadedRole>> = self.roles.values().collect();
        roles.sort_by(|a, b| a.role.name.cmp(&b.role.name));
        roles
    }
}

/// Every issuer by name.
#[derive(Debug, Default)]
pub struct IssuerTable {
    issuers: HashMap<String, Arc<LoadedIssuer>>,
}

impl IssuerTable {
    /// A table of `issuers`.
    pub fn new(issuers: HashMap<String, Arc<LoadedIssuer>>) -> IssuerTable {
        IssuerTable { issuers }
    }

    /// One issuer.
    pub fn get(&self, name: &str) -> Option<&Arc<LoadedIssuer>> {
        self.issuers.get(name)
    }

    /// Every issuer, sorted by name.
    pub fn sorted(&self) -> Vec<&Arc<LoadedIssuer>> {
        let mut issuers: Vec<&Arc<LoadedIssuer>> = self.issuers.values().collect();
        issuers.sort_by(|a, b| a.spec.name.cmp(&b.spec.name));
        issuers
    }
}

impl Snapshot for IssuerTable {
    type Item = LoadedIssuer;

    /// A copy with `issuer` inserted or replaced.
    fn with(&self, issuer: Arc<LoadedIssuer>) -> IssuerTable {
        let mut issuers = self.issuers.clone();
        issuers.insert(issuer.spec.name.clone(), issuer);
        IssuerTable { issuers }
    }

    /// A copy without `name`.
    fn without(&self, name: &str) -> IssuerTable {
        let mut issuers = self.issuers.clone();
        issuers.remove(name);
        IssuerTable { issuers }
    }
}

impl Named for LoadedIssuer {
    fn name(&self) -> &str {
        &self.spec.name
    }

    fn revision(&self) -> i64 {
        self.stamps.revision
    }
}

impl Named for LoadedRole {
    fn name(&self) -> &str {
        &self.role.name
    }

    fn revision(&self) -> i64 {
        self.stamps.revision
    }
}
