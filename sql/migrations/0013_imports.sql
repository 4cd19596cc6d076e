-- 0013_imports: why: an import added the difference from what the account's
-- current person had been given from the source, so an unlinked account was
-- given its total again, a total seen before reused a key with another amount
-- (XP004), and an export re-imported doubled everyone. An account's imported
-- total from a source is now the sum of its import rows wherever they are
-- (this index finds them), and a database knows its own name, which its
-- exports carry, so that importing one's own export changes nothing.

CREATE INDEX ledger_imports ON xp.ledger (account_id, imported_from) WHERE source = 'import';

CREATE TABLE xp.instance (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    id         uuid NOT NULL DEFAULT gen_random_uuid(),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE xp.instance IS
    'This database''s name: its exports say they come from xpsync:<id>, which it never imports into itself.';
INSERT INTO xp.instance DEFAULT VALUES;
