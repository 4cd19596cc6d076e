-- 00_locks: applied first. Re-creating a trigger takes SHARE ROW EXCLUSIVE on
-- its table until the refresh commits, so writers of that table wait for the
-- (short) refresh. Taken one file at a time, those locks would come in file
-- order (the outbox before the ledger) while an award takes the ledger before
-- its rank-up reaches the outbox: a refresh under load would deadlock with the
-- awards in flight. Taken here at once, in the order writers take theirs
-- (operator tables, the ledger, the outbox, the audit log that every admin
-- change writes last), the refresh waits for them instead.
-- Every table that carries a trigger is listed (tests/xpsync/test_migrate.py).
LOCK TABLE xp.ranks, xp.settings, xp.seasons, xp.rank_roles, xp.guild_settings, xp.achievements,
           xp.achievement_roles, xp.multipliers, xp.quiz_questions, xp.wheel_prizes, xp.quests, xp.shop_items,
           xp.texts, xp.accounts, xp.ledger, xp.deliveries, xp.admin_audit
    IN SHARE ROW EXCLUSIVE MODE;
