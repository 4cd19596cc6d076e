-- 99_grants: every privilege on the xp schema, in one place, applied last.
-- tests/sql/test_privileges.py mirrors this file.
--
-- It starts from nothing: whatever the three roles (and PUBLIC) held before,
-- from an older release or by hand, is taken away and granted again as
-- written here, in the same transaction, so no caller ever sees a gap.
-- New functions are EXECUTE-able by PUBLIC (a per-schema default cannot
-- revoke that), hence the REVOKE ... FROM PUBLIC.

REVOKE ALL ON SCHEMA xp FROM PUBLIC, xp_bot, xp_listener, xp_admin;
REVOKE ALL ON ALL TABLES IN SCHEMA xp FROM PUBLIC, xp_bot, xp_listener, xp_admin;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA xp FROM PUBLIC, xp_bot, xp_listener, xp_admin;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA xp FROM PUBLIC, xp_bot, xp_listener, xp_admin;

GRANT USAGE ON SCHEMA xp TO xp_bot, xp_listener, xp_admin;

-- --- tables: the admin edits the operator tables (and may read everything but the pepper) -----------

GRANT ALL ON ALL TABLES IN SCHEMA xp TO xp_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA xp TO xp_admin;
-- only the owner reads the link pepper: a reader of the code hashes cannot try all codes
REVOKE ALL ON xp.link_pepper FROM xp_admin;
-- the listener follows rank and setting changes live
GRANT SELECT ON xp.ranks, xp.settings TO xp_listener;

-- --- functions: bots ----------------------------------------------------------------------------------

GRANT EXECUTE ON FUNCTION xp.award_xp(text, text, int, text, text, text),
                          xp.award_coins(text, text, int, text, text),
                          xp.claim_daily(text, text, text),
                          xp.record_message(text, text, text, text, int, text),
                          xp.record_voice(text, text, text, int),
                          xp.profile(text, text),
                          xp.leaderboard(int, text),
                          xp.create_link_code(text, text),
                          xp.redeem_link_code(text, text, text),
                          xp.unlink(text, text),
                          xp.request_resync(text, text),
                          xp.set_notify(text, text, boolean),
                          xp.chat_opened(text, text),
                          xp.set_language(text, text, text),
                          xp.language(text, text),
                          xp.start_game(text, text, text),
                          xp.play_game(text, text, bigint, text)
    TO xp_bot, xp_admin;

-- --- functions: listeners -------------------------------------------------------------------------

GRANT EXECUTE ON FUNCTION xp.claim_deliveries(text, text, int, int),
                          xp.ack_deliveries(text, bigint[], int[], text[], text[]),
                          xp.fail_delivery(bigint, text, int, text, boolean, double precision, boolean),
                          xp.release_deliveries(text, bigint[]),
                          xp.discord_role_plan(bigint),
                          xp.telegram_recipient(bigint),
                          xp.reserve_slot(text[], double precision[], double precision, int[]),
                          xp.pause_pace(text[], double precision),
                          xp.pace_held(text[]),
                          xp.guild_refused(text, text)
    TO xp_listener, xp_admin;

-- --- functions: operations (rerank_batch also for the listener, which follows threshold changes) ---

GRANT EXECUTE ON FUNCTION xp.rerank_batch(int),
                          xp.reconcile_user(bigint, boolean),
                          xp.reconcile_all(boolean),
                          xp.stats(),
                          xp.cleanup(interval),
                          xp.adjust(bigint, text, int, text, text),
                          xp.forget_person(bigint),
                          xp.import_xp(text, text, bigint, bigint, text, text),
                          xp.resync_roles(bigint),
                          xp.resume_guild(text)
    TO xp_admin;
GRANT EXECUTE ON FUNCTION xp.rerank_batch(int) TO xp_listener;
