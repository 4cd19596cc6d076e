-- 0003_ledger_source: why: behaviour was keyed on the text of a reason. Imported
-- XP was kept off the period boards, and an import's earlier share was summed,
-- by `reason LIKE 'import: %'`, so a bot award whose reason read "import: ..."
-- counted as an import. Where a ledger row comes from is now a column that the
-- function writing the row sets; nothing reads the reason to decide anything.

ALTER TABLE xp.ledger
    ADD COLUMN source        text,
    ADD COLUMN imported_from text;

-- Rows written so far, by what each writer put in them: the system's own
-- writers name no account (rank rewards, achievements, admin changes with
-- their actor) or use a key and reason of their own; what is left came from
-- award_xp and award_coins.
UPDATE xp.ledger l
   SET source = CASE
           WHEN l.account_id IS NULL AND l.actor IS NOT NULL THEN 'admin'
           WHEN l.account_id IS NULL AND l.idempotency_key LIKE 'rank-reward:%' THEN 'rank_reward'
           WHEN l.account_id IS NULL AND l.idempotency_key LIKE 'achievement:%' THEN 'achievement'
           WHEN l.idempotency_key LIKE 'daily:%' AND l.reason = 'daily reward' THEN 'daily'
           WHEN l.idempotency_key LIKE 'msg:%' AND l.reason = 'message' THEN 'message'
           WHEN l.idempotency_key LIKE 'voice:%' AND l.reason = 'voice' THEN 'voice'
           WHEN l.idempotency_key LIKE 'game:%' AND l.reason IN ('guess won', 'quiz won', 'wheel') THEN 'game'
           WHEN l.idempotency_key LIKE 'import:%' AND l.reason LIKE 'import: %' THEN 'import'
           ELSE 'award'
       END,
       imported_from = CASE WHEN l.idempotency_key LIKE 'import:%' AND l.reason LIKE 'import: %'
                            THEN substr(l.reason, length('import: ') + 1) END;

ALTER TABLE xp.ledger
    ALTER COLUMN source SET NOT NULL,
    ADD CONSTRAINT ledger_source_check
        CHECK (source IN ('award', 'daily', 'message', 'voice', 'game', 'achievement', 'rank_reward', 'admin',
                          'import')),
    ADD CONSTRAINT ledger_imported_from_check CHECK ((source = 'import') = (imported_from IS NOT NULL));

COMMENT ON COLUMN xp.ledger.source IS
    'What wrote the row: award (award_xp/award_coins), daily, message, voice, game, achievement, rank_reward, admin (xp.adjust) or import (xp.import_xp).';
COMMENT ON COLUMN xp.ledger.imported_from IS
    'For source = import: the import source (e.g. mee6:GUILD); earlier imports of the same source are summed by it.';
