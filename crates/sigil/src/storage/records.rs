//! Storage records: the shape of what is persisted. Times are Unix seconds (UTC).

use serde_json::Value;

/// The revision and timestamps of a stored item, as a write produced them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamps {
    /// The new revision (1 for a fresh item, then +1 per write).
    pub revision: i64,
    /// When the item was first created.
    pub created_at: i64,
    /// When this write happened.
    pub updated_at: i64,
}

impl Stamps {
    /// The stamps of an item that is not stored (built-in and static items).
    pub const NONE: Stamps = Stamps {
        revision: 0,
        created_at: 0,
        updated_at: 0,
    };

    /// The stamps of a write at `now` over `stored` (its revision and creation time; `None`
    /// when the item is new).
    pub fn after_write(stored: Option<(i64, i64)>, now: i64) -> Stamps {
        match stored {
            None => Stamps {
                revision: 1,
                created_at: now,
                updated_at: now,
            },
            Some((revision, created_at)) => Stamps {
                revision: revision + 1,
                created_at,
                updated_at: now,
            },
        }
    }
}

/// The seal: the data key wrapped by the root key, and how the root key was split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SealRecord {
    /// Number of shares handed out at init.
    pub shares: u8,
    /// Shares needed to unseal.
    pub threshold: u8,
    /// The data key, AES-256-GCM-sealed under the root key.
    pub wrapped_data_key: Vec<u8>,
    /// When init ran.
    pub initialised_at: i64,
}

/// A signing key: its configuration document plus every version.
#[derive(Clone, Debug, PartialEq)]
pub struct SigningKeyRecord {
    /// Unique name.
    pub name: String,
    /// The configuration as the domain serialised it (type, algorithm, rotation period...).
    pub config: Value,
    /// Revision of the whole aggregate; ignored on save.
    pub revision: i64,
    /// Creation time; ignored on save.
    pub created_at: i64,
    /// Last write time; ignored on save.
    pub updated_at: i64,
    /// Every version not yet deleted, sorted by `version`.
    pub versions: Vec<KeyVersionRecord>,
}

/// One version of a signing key.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyVersionRecord {
    /// 1, 2, 3...
    pub version: u32,
    /// RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// `pending`, `active`, `retiring` or `retired`.
    pub status: String,
    /// When the version was generated.
    pub created_at: i64,
    /// When it starts (or started) signing.
    pub activates_at: Option<i64>,
    /// When it stops (or stopped) being published.
    pub retires_at: Option<i64>,
    /// The public JWK, as published.
    pub public_jwk: Value,
    /// PKCS#8 private key sealed with AES-256-GCM (name and version as associated data);
    /// `None` once retired and destroyed.
    pub sealed_private_key: Option<Vec<u8>>,
}

impl DocumentRecord {
    /// A record to save: revision and times are set by the store.
    pub fn new(kind: DocumentKind, parent: &str, name: &str, body: Value) -> DocumentRecord {
        DocumentRecord {
            kind,
            parent: parent.to_owned(),
            name: name.to_owned(),
            body,
            unique_key: None,
            revision: 0,
            created_at: 0,
            updated_at: 0,
        }
    }

    /// The same record, holding `value` as its kind's unique key (a trusted issuer's `iss`).
    pub fn with_unique_key(mut self, value: &str) -> DocumentRecord {
        self.unique_key = Some(value.to_owned());
        self
    }

    /// The stored revision and times.
    pub fn stamps(&self) -> Stamps {
        Stamps {
            revision: self.revision,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// The kinds of configuration document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// A named JWT issuer.
    JwtIssuer,
    /// A role under a JWT issuer (parent = issuer name).
    Role,
    /// A trusted external issuer.
    TrustedIssuer,
    /// An identity mapping.
    IdentityMapping,
    /// A policy.
    Policy,
}

impl DocumentKind {
    /// The human spelling, used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::JwtIssuer => "jwt issuer",
            DocumentKind::Role => "role",
            DocumentKind::TrustedIssuer => "trusted issuer",
            DocumentKind::IdentityMapping => "identity mapping",
            DocumentKind::Policy => "policy",
        }
    }

    /// The token a backend stores for the kind. Stable: renaming one orphans stored documents.
    pub fn storage_token(self) -> &'static str {
        match self {
            DocumentKind::JwtIssuer => "jwt_issuer",
            DocumentKind::Role => "role",
            DocumentKind::TrustedIssuer => "trusted_issuer",
            DocumentKind::IdentityMapping => "identity_mapping",
            DocumentKind::Policy => "policy",
        }
    }
}

/// One configuration document.
#[derive(Clone, Debug, PartialEq)]
pub struct DocumentRecord {
    /// What it is.
    pub kind: DocumentKind,
    /// The owning item's name, or `""` for top-level documents.
    pub parent: String,
    /// The name, unique within `(kind, parent)`.
    pub name: String,
    /// The configuration as the domain serialised it.
    pub body: Value,
    /// A value no other document of this kind may hold at the same time (a trusted issuer's
    /// `iss`), enforced by the store: a save that would share it fails with
    /// [`StorageError::UniqueKeyTaken`](super::StorageError::UniqueKeyTaken).
    pub unique_key: Option<String>,
    /// Revision; ignored on save.
    pub revision: i64,
    /// Creation time; ignored on save.
    pub created_at: i64,
    /// Last write; ignored on save.
    pub updated_at: i64,
}
