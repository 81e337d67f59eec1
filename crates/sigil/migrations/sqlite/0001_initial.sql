-- Sigil's first SQLite schema: the seal and signing keys. Times are Unix seconds (UTC).
-- STRICT tables refuse values of the wrong type instead of coercing them; the CHECKs restate
-- invariants the domains already keep, so a bug there cannot persist an impossible row.

CREATE TABLE seal (
    id               INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    shares           INTEGER NOT NULL,
    threshold        INTEGER NOT NULL,
    wrapped_data_key BLOB    NOT NULL,
    initialised_at   INTEGER NOT NULL,
    CONSTRAINT seal_shares_fit_shamir CHECK (shares BETWEEN 1 AND 255),
    CONSTRAINT seal_threshold_within_shares CHECK (threshold BETWEEN 1 AND shares)
) STRICT;

CREATE TABLE signing_keys (
    name       TEXT    NOT NULL PRIMARY KEY,
    config     TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT signing_key_config_is_json CHECK (json_valid(config)),
    CONSTRAINT signing_key_revision_is_positive CHECK (revision >= 1)
) STRICT;

-- `kid` is unique across all keys: the same thumbprint twice means the same key pair twice.
CREATE TABLE signing_key_versions (
    key_name           TEXT    NOT NULL REFERENCES signing_keys (name) ON DELETE CASCADE,
    version            INTEGER NOT NULL,
    kid                TEXT    NOT NULL UNIQUE,
    status             TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    activates_at       INTEGER,
    retires_at         INTEGER,
    public_jwk         TEXT    NOT NULL,
    sealed_private_key BLOB,
    PRIMARY KEY (key_name, version),
    CONSTRAINT key_version_fits_u32 CHECK (version BETWEEN 1 AND 4294967295),
    CONSTRAINT key_version_status_is_known
        CHECK (status IN ('pending', 'active', 'retiring', 'retired')),
    CONSTRAINT retired_key_version_holds_no_private_key
        CHECK (status <> 'retired' OR sealed_private_key IS NULL),
    CONSTRAINT key_version_public_jwk_is_json CHECK (json_valid(public_jwk))
) STRICT;
