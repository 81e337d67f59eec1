-- A change counter for configuration: every write to documents or signing keys bumps it, so a
-- node sharing this store notices other nodes' changes by reading one row, and reloads.

CREATE TABLE config_changes (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    counter INTEGER NOT NULL CHECK (counter >= 0)
) STRICT;

INSERT INTO config_changes (id, counter) VALUES (1, 0);

CREATE TRIGGER documents_inserted AFTER INSERT ON documents
BEGIN UPDATE config_changes SET counter = counter + 1 WHERE id = 1; END;
CREATE TRIGGER documents_updated AFTER UPDATE ON documents
BEGIN UPDATE config_changes SET counter = counter + 1 WHERE id = 1; END;
CREATE TRIGGER documents_deleted AFTER DELETE ON documents
BEGIN UPDATE config_changes SET counter = counter + 1 WHERE id = 1; END;
CREATE TRIGGER signing_keys_inserted AFTER INSERT ON signing_keys
BEGIN UPDATE config_changes SET counter = counter + 1 WHERE id = 1; END;
CREATE TRIGGER signing_keys_updated AFTER UPDATE ON signing_keys
BEGIN UPDATE config_changes SET counter = counter + 1 WHERE id = 1; END;
CREATE TRIGGER signing_keys_deleted AFTER DELETE ON signing_keys
BEGIN UPDATE config_changes SET counter = counter + 1 WHERE id = 1; END;
