-- Configuration documents: one JSON body per (kind, parent, name), revisioned like signing keys.
-- `parent` is '' for top-level documents; there is no foreign key, as the parent may be of any
-- kind, so a delete removes children explicitly. `kind` holds `DocumentKind::storage_token`.

CREATE TABLE documents (
    kind       TEXT    NOT NULL,
    parent     TEXT    NOT NULL DEFAULT '',
    name       TEXT    NOT NULL,
    body       TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (kind, parent, name),
    CONSTRAINT document_kind_is_known
        CHECK (kind IN ('jwt_issuer', 'role', 'trusted_issuer', 'identity_mapping', 'policy')),
    -- '' means "no parent": a document named '' would own every top-level document.
    CONSTRAINT document_name_is_not_empty CHECK (name <> ''),
    CONSTRAINT document_body_is_json CHECK (json_valid(body)),
    CONSTRAINT document_revision_is_positive CHECK (revision >= 1)
) STRICT;
