-- 0010_key_namespaces: why: the idempotency keys bots choose and the keys the
-- database makes for itself (rank rewards, dailies, achievements, messages,
-- voice, games, imports) shared one unique index, so a bot passing a key equal
-- to one of the database's cancelled that reward or blocked a member's
-- messages for good. A key is now unique within the namespace of the writer
-- that made it, the ledger's source column (bots write `award`; every other
-- source is the database's own), so the two can never meet. Rows written so
-- far keep their keys: each was unique across all sources, so it is unique
-- within its own.

ALTER TABLE xp.ledger DROP CONSTRAINT ledger_idempotency_key_key;
ALTER TABLE xp.ledger ADD CONSTRAINT ledger_idempotency_key_source_key UNIQUE (idempotency_key, source);
COMMENT ON COLUMN xp.ledger.idempotency_key IS
    'Applied once within its source: bot keys (source award) and the keys the database makes for itself never meet.';
