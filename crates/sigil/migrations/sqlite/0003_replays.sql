-- Single-use token identifiers: an exchanged token's (issuer, jti) pair, kept until the token
-- expires so a second exchange of it is refused. Rows past `expires_at` protect nothing; they
-- are replaced in place by a new use and deleted by the periodic purge, hence the index.

-- WITHOUT ROWID: the primary key is the only lookup, so the rows live in its b-tree instead of
-- in a rowid table plus a separate index on (issuer, jti).
CREATE TABLE replays (
    issuer     TEXT    NOT NULL,
    jti        TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (issuer, jti),
    -- Sizes in bytes, as the caller measures them (`length` alone counts characters);
    -- CAST rather than `octet_length`, which needs SQLite 3.43.
    CONSTRAINT replay_issuer_fits_1024_bytes
        CHECK (length(CAST(issuer AS BLOB)) BETWEEN 1 AND 1024),
    CONSTRAINT replay_jti_fits_512_bytes CHECK (length(CAST(jti AS BLOB)) BETWEEN 1 AND 512),
    CONSTRAINT replay_expires_at_is_positive CHECK (expires_at > 0)
) STRICT, WITHOUT ROWID;

CREATE INDEX replays_by_expiry ON replays (expires_at);
