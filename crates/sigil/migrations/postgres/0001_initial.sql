-- Sigil's PostgreSQL schema: the same tables, rows and invariants as the SQLite schema, in one
-- migration (PostgreSQL arrives with all five SQLite steps known). Times are Unix seconds (UTC);
-- JSON is kept as text, byte for byte as the service wrote it, and checked to be JSON.

CREATE TABLE seal (
    id               SMALLINT NOT NULL PRIMARY KEY CHECK (id = 1),
    shares           SMALLINT NOT NULL,
    threshold        SMALLINT NOT NULL,
    wrapped_data_key BYTEA    NOT NULL,
    initialised_at   BIGINT   NOT NULL,
    CONSTRAINT seal_shares_fit_shamir CHECK (shares BETWEEN 1 AND 255),
    CONSTRAINT seal_threshold_within_shares CHECK (threshold BETWEEN 1 AND shares)
);

-- `COLLATE "C"` orders names by their UTF-8 bytes, as `str`'s `Ord` and SQLite's BINARY do.
CREATE TABLE signing_keys (
    name       TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    config     TEXT   NOT NULL,
    revision   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT signing_key_config_is_json CHECK (config::jsonb IS NOT NULL),
    CONSTRAINT signing_key_revision_is_positive CHECK (revision >= 1)
);

-- `kid` is unique across all keys: the same thumbprint twice means the same key pair twice.
CREATE TABLE signing_key_versions (
    key_name           TEXT COLLATE "C" NOT NULL REFERENCES signing_keys (name) ON DELETE CASCADE,
    version            BIGINT NOT NULL,
    kid                TEXT   NOT NULL UNIQUE,
    status             TEXT   NOT NULL,
    created_at         BIGINT NOT NULL,
    activates_at       BIGINT,
    retires_at         BIGINT,
    public_jwk         TEXT   NOT NULL,
    sealed_private_key BYTEA,
    PRIMARY KEY (key_name, version),
    CONSTRAINT key_version_fits_u32 CHECK (version BETWEEN 1 AND 4294967295),
    CONSTRAINT key_version_status_is_known
        CHECK (status IN ('pending', 'active', 'retiring', 'retired')),
    CONSTRAINT retired_key_version_holds_no_private_key
        CHECK (status <> 'retired' OR sealed_private_key IS NULL),
    CONSTRAINT key_version_public_jwk_is_json CHECK (public_jwk::jsonb IS NOT NULL)
);

-- Configuration documents: one JSON body per (kind, parent, name); `parent` is '' for
-- top-level documents. `unique_key` is a value no two documents of one kind may share (the
-- `iss` of a trusted issuer), enforced here so concurrent creates on any node cannot both win.
CREATE TABLE documents (
    kind       TEXT COLLATE "C" NOT NULL,
    parent     TEXT COLLATE "C" NOT NULL DEFAULT '',
    name       TEXT COLLATE "C" NOT NULL,
    body       TEXT   NOT NULL,
    unique_key TEXT,
    revision   BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (kind, parent, name),
    CONSTRAINT document_kind_is_known
        CHECK (kind IN ('jwt_issuer', 'role', 'trusted_issuer', 'identity_mapping', 'policy')),
    CONSTRAINT document_name_is_not_empty CHECK (name <> ''),
    CONSTRAINT document_body_is_json CHECK (body::jsonb IS NOT NULL),
    CONSTRAINT document_revision_is_positive CHECK (revision >= 1)
);

CREATE UNIQUE INDEX documents_unique_key ON documents (kind, unique_key)
    WHERE unique_key IS NOT NULL;

-- Single-use token identifiers, kept until the token expires; sizes in bytes.
CREATE TABLE replays (
    issuer     TEXT   NOT NULL,
    jti        TEXT   NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (issuer, jti),
    CONSTRAINT replay_issuer_fits_1024_bytes CHECK (octet_length(issuer) BETWEEN 1 AND 1024),
    CONSTRAINT replay_jti_fits_512_bytes CHECK (octet_length(jti) BETWEEN 1 AND 512),
    CONSTRAINT replay_expires_at_is_positive CHECK (expires_at > 0)
);

CREATE INDEX replays_by_expiry ON replays (expires_at);

-- The change counter every configuration write bumps, whoever writes; each bump also notifies
-- `sigil_config_changes` (PostgreSQL delivers one per transaction), so listening nodes reload
-- at once instead of at their next reconcile.
CREATE TABLE config_changes (
    id      SMALLINT NOT NULL PRIMARY KEY CHECK (id = 1),
    counter BIGINT   NOT NULL CHECK (counter >= 0)
);

INSERT INTO config_changes (id, counter) VALUES (1, 0);

CREATE FUNCTION sigil_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE config_changes SET counter = counter + 1 WHERE id = 1;
    PERFORM pg_notify('sigil_config_changes', '');
    RETURN NULL;
END;
$$;

CREATE TRIGGER documents_changed AFTER INSERT OR UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION sigil_config_changed();
CREATE TRIGGER signing_keys_changed AFTER INSERT OR UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION sigil_config_changed();
