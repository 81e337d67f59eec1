-- A value that no two documents of one kind may share, whatever their names: the `iss` of a
-- trusted issuer. Enforced by the store, so concurrent creates on any node cannot both win.
ALTER TABLE documents ADD COLUMN unique_key TEXT;

-- Stores written before this rule may hold two trusted issuers with one `iss`: the first by
-- name keeps the key; saving the other then fails naming it, instead of this migration failing.
UPDATE documents
   SET unique_key = json_extract(body, '$.issuer')
 WHERE kind = 'trusted_issuer'
   AND json_type(body, '$.issuer') = 'text'
   AND name = (SELECT MIN(other.name) FROM documents AS other
                WHERE other.kind = 'trusted_issuer'
                  AND json_extract(other.body, '$.issuer') = json_extract(documents.body, '$.issuer'));

CREATE UNIQUE INDEX documents_unique_key ON documents (kind, unique_key)
    WHERE unique_key IS NOT NULL;
