-- A log that several servers append to may hold the same bytes twice;
-- the later copy is projected as a rejected entry ("duplicate of entry
-- N"), so leaf hashes are no longer unique in entries. The constraint's
-- name is PostgreSQL's choice, so it is looked up.
DO $$
DECLARE c text;
BEGIN
    SELECT conname INTO c FROM pg_constraint
     WHERE conrelid = 'entries'::regclass AND contype = 'u';
    IF c IS NOT NULL THEN
        EXECUTE format('ALTER TABLE entries DROP CONSTRAINT %I', c);
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS entries_leaf_hash ON entries (leaf_hash);
