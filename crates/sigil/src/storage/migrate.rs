//! Copying a deployment from one store to another (SQLite to PostgreSQL), backend-agnostic:
//! the seal, every signing key with all its versions, every document and every live `jti`
//! record, then a read-back that compares the copy with the source. Nothing is decrypted:
//! sealed private keys and the wrapped data key are copied as the bytes they are. Revisions
//! and timestamps restart in the target (its writes stamp them), so ETags change.

use super::{DocumentKind, Expected, StorageError, Store};

/// What was copied.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Copied {
    /// Signing keys (with every version).
    pub signing_keys: usize,
    /// Key versions in all.
    pub key_versions: usize,
    /// Configuration documents of every kind.
    pub documents: usize,
    /// Live single-use `jti` records.
    pub replays: usize,
}

/// Every document kind, issuers before the roles stored under them.
const KINDS: [DocumentKind; 5] = [
    DocumentKind::JwtIssuer,
    DocumentKind::Role,
    DocumentKind::TrustedIssuer,
    DocumentKind::IdentityMapping,
    DocumentKind::Policy,
];

/// Copies `from` into the empty store `to` at `now`, then reads the copy back and compares.
/// A target that already holds a seal, a key or a document is refused untouched.
pub async fn copy_store(
    from: &dyn Store,
    to: &dyn Store,
    now: i64,
) -> Result<Copied, StorageError> {
    refuse_non_empty(to).await?;
    let Some(seal) = from.seal().load().await? else {
        return Err(StorageError::Backend(
            "the source store was never initialised: nothing to copy".into(),
        ));
    };
    to.seal().initialise(&seal).await?;
    let mut copied = Copied::default();
    for key in from.signing_keys().list().await? {
        to.signing_keys().save(&key, Expected::Absent).await?;
        copied.signing_keys += 1;
        copied.key_versions += key.versions.len();
    }
    for kind in KINDS {
        for document in from.documents().list(kind, None).await? {
            to.documents().save(&document, Expected::Absent).await?;
            copied.documents += 1;
        }
    }
    for (issuer, jti, expires_at) in from.replays().unexpired(now).await? {
        to.replays()
            .first_use(&issuer, &jti, expires_at, now)
            .await?;
        copied.replays += 1;
    }
    verify_copy(from, to, now).await?;
    Ok(copied)
}

/// Compares everything `copy_store` copies, ignoring revisions and timestamps; names the
/// first difference.
pub async fn verify_copy(from: &dyn Store, to: &dyn Store, now: i64) -> Result<(), StorageError> {
    let differs = |what: String| Err(StorageError::Backend(format!("the copy differs: {what}")));
    if from.seal().load().await? != to.seal().load().await? {
        return differs("the seal".into());
    }
    let (source, copy) = (
        from.signing_keys().list().await?,
        to.signing_keys().list().await?,
    );
    if source.len() != copy.len() {
        return differs(format!("{} signing keys, not {}", copy.len(), source.len()));
    }
    for (a, b) in source.iter().zip(&copy) {
        if a.name != b.name || a.config != b.config || a.versions != b.versions {
            return differs(format!("signing key `{}`", a.name));
        }
    }
    for kind in KINDS {
        let (source, copy) = (
            from.documents().list(kind, None).await?,
            to.documents().list(kind, None).await?,
        );
        let same = source.len() == copy.len()
            && source.iter().zip(&copy).all(|(a, b)| {
                (&a.parent, &a.name, &a.body, &a.unique_key)
                    == (&b.parent, &b.name, &b.body, &b.unique_key)
            });
        if !same {
            return differs(format!("the {} documents", kind.as_str()));
        }
    }
    if from.replays().unexpired(now).await? != to.replays().unexpired(now).await? {
        return differs("the live jti records".into());
    }
    Ok(())
}

async fn refuse_non_empty(to: &dyn Store) -> Result<(), StorageError> {
    let mut held = to.seal().load().await?.is_some() || !to.signing_keys().list().await?.is_empty();
    for kind in KINDS {
        held |= !to.documents().list(kind, None).await?.is_empty();
    }
    if held {
        return Err(StorageError::Backend(
            "the target store is not empty; migrate into a fresh database".into(),
        ));
    }
    Ok(())
}
