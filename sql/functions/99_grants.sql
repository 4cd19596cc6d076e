-- 99_grants: every privilege on the xp schema, in one place, applied last.
-- tests/sql/test_privileges.py mirrors this file.
--
-- It starts from nothing: whatever the four roles (and PUBLIC) held before,
-- from an older release or by hand, is taken away and granted again as
-- written here, in the same transaction, so no caller ever sees a gap.
-- New functions are EXECUTE-able by PUBLIC (a per-schema default cannot
-- revoke that), hence the REVOKE ... FROM PUBLIC.

REVOKE ALL ON SCHEMA xp FROM PUBLIC, xp_bot, xp_listener, xp_web, xp_admin;
REVOKE ALL ON ALL TABLES IN SCHEMA xp FROM PUBLIC, xp_bot, xp_listener, xp_web, xp_admin;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA xp FROM PUBLIC, xp_bot, xp_listener, xp_web, xp_admin;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA xp FROM PUBLIC, xp_bot, xp_listener, xp_web, xp_admin;

GRANT USAGE ON SCHEMA xp TO xp_bot, xp_listener, xp_web, xp_admin;

-- --- tables: the admin edits the operator tables (and may read everything but the pepper) -----------
-- Only what a DBA needs, never ALL: TRIGGER would let a trigger function of theirs run with the
-- owner's rights inside every SECURITY DEFINER function, REFERENCES would let a table of theirs
-- block merges and deletions, and TRUNCATE empties a table around every trigger but the ledger's.
-- Nobody but the functions writes the ledger or any other table that holds state (xp.adjust is
-- the admin's way to change a balance); the operator tables are the DBA's to edit, and their
-- triggers (SECURITY DEFINER, 12_operations.sql, 05_periods.sql) make the system follow.

GRANT SELECT ON ALL TABLES IN SCHEMA xp TO xp_admin;
-- only the owner reads the link pepper: a reader of the code hashes cannot try all codes
REVOKE ALL ON xp.link_pepper FROM xp_admin;
GRANT INSERT, UPDATE, DELETE ON xp.ranks, xp.settings, xp.rank_roles, xp.guild_settings, xp.achievements,
                                xp.achievement_roles, xp.seasons, xp.multipliers, xp.quiz_questions,
                                xp.wheel_prizes, xp.chat_settings, xp.quests, xp.shop_items, xp.texts
    TO xp_admin;
GRANT USAGE ON SEQUENCE xp.seasons_id_seq, xp.multipliers_id_seq, xp.quiz_questions_id_seq,
                        xp.wheel_prizes_id_seq
    TO xp_admin;
-- the listener follows rank and setting changes live
GRANT SELECT ON xp.ranks, xp.settings TO xp_listener;

-- --- functions: bots ----------------------------------------------------------------------------------

GRANT EXECUTE ON FUNCTION xp.award_xp(text, text, int, text, text, text),
                          xp.award_many(jsonb),
                          xp.award_coins(text, text, int, text, text),
                          xp.claim_daily(text, text, text),
                          xp.record_message(text, text, text, text, int, text),
                          xp.record_messages(jsonb),
                          xp.record_voice(text, text, text, int),
                          xp.profile(text, text),
                          xp.leaderboard(int, text, int, text),
                          xp.create_link_code(text, text),
                          xp.redeem_link_code(text, text, text),
                          xp.unlink(text, text),
                          xp.request_resync(text, text),
                          xp.discord_roles_changed(text, text, text[], text[]),
                          xp.set_notify(text, text, boolean),
                          xp.chat_opened(text, text),
                          xp.set_language(text, text, text),
                          xp.language(text, text),
                          xp.set_client_language(text, text, text),
                          xp.start_game(text, text, text),
                          xp.play_game(text, text, bigint, text),
                          xp.set_privacy(text, text, boolean)
    TO xp_bot, xp_admin;

-- --- functions: the website (xp_web reads no table: every read is one of these) -------------------

GRANT EXECUTE ON FUNCTION xp.leaderboard(int, text, int, text),
                          xp.profile(text, text),
                          xp.set_privacy(text, text, boolean),
                          xp.public_profile(bigint, bigint),
                          xp.account_person(text, text),
                          xp.board_size(text),
                          xp.rank_ladder(),
                          xp.web_settings(),
                          xp.web_sign_in(text, text, text),
                          xp.link_accounts(text, text, text, text, boolean),
                          xp.api_key_name(text),
                          xp.refresh_places(boolean)
    TO xp_web, xp_admin;
GRANT EXECUTE ON FUNCTION xp.create_api_key(text), xp.revoke_api_key(text) TO xp_admin;

-- --- functions: the admin panel -------------------------------------------------------------------
-- It reads with the web's login (so it works, read-only, without XPSYNC_ADMIN_DATABASE_URL) and
-- changes with the admin's; a preview runs the change and rolls it back.

GRANT EXECUTE ON FUNCTION xp.admin_cursor(),
                          xp.admin_overview(),
                          xp.admin_heartbeats(),
                          xp.admin_people(text, int),
                          xp.admin_person(bigint),
                          xp.admin_ledger(bigint, bigint, int),
                          xp.admin_deliveries(text, text, text, bigint, int),
                          xp.admin_delivery_count(text, text, text),
                          xp.audit_log(bigint, int, text),
                          xp.admin_settings(),
                          xp.operator_rows(text),
                          xp.config_version(),
                          xp.use_admin_token(bytea),
                          xp.admin_token_role(bigint),
                          xp.preview_thresholds(jsonb),
                          xp.void_preview(timestamptz, timestamptz, bigint, text, text)
    TO xp_web, xp_admin;
GRANT EXECUTE ON FUNCTION xp.create_admin_token(text, text, bytea, interval),
                          xp.revoke_admin_tokens(text),
                          xp.retry_deliveries(text, text, text, bigint[]),
                          xp.discard_deliveries(text, text, text, bigint[]),
                          xp.admin_unlink(text, text),
                          xp.apply_thresholds(jsonb, jsonb),
                          xp.void_ledger(timestamptz, timestamptz, bigint, text, text, bigint, text, text)
    TO xp_admin;

-- --- functions: listeners -------------------------------------------------------------------------

GRANT EXECUTE ON FUNCTION xp.claim_deliveries(text, text, int, int),
                          xp.ack_deliveries(text, bigint[], int[], text[], text[]),
                          xp.fail_delivery(bigint, text, int, text, boolean, double precision, boolean),
                          xp.release_deliveries(text, bigint[]),
                          xp.discord_role_plan(bigint),
                          xp.telegram_recipient(bigint),
                          xp.discord_recipient(bigint),
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
                          xp.export_accounts(),
                          xp.resync_roles(bigint),
                          xp.resume_guild(text)
    TO xp_admin;
GRANT EXECUTE ON FUNCTION xp.rerank_batch(int) TO xp_listener;

-- --- functions: quests, the shop and the texts ---------------------------------------------------
-- Members list, submit and buy from the bots; operators review in the panel (the queues are read
-- with the web's login, like the panel's other reads); bots, listeners and the web say the texts.

GRANT EXECUTE ON FUNCTION xp.quest_list(text, text),
                          xp.submit_quest(text, text, text, text),
                          xp.shop_list(),
                          xp.buy(text, text, text, text)
    TO xp_bot, xp_admin;
GRANT EXECUTE ON FUNCTION xp.admin_submissions(text, int),
                          xp.admin_purchases(text, int),
                          xp.text_catalogue(),
                          xp.preview_text(text, text),
                          xp.shop_list()
    TO xp_web, xp_admin;
GRANT EXECUTE ON FUNCTION xp.review_submission(bigint, boolean, text),
                          xp.review_purchase(bigint, boolean, text),
                          xp.set_text(text, text, text)
    TO xp_admin;
GRANT EXECUTE ON FUNCTION xp.texts() TO xp_bot, xp_listener, xp_web, xp_admin;
GRANT EXECUTE ON FUNCTION xp.expire_purchases() TO xp_listener, xp_admin;

-- --- functions: heartbeats (listeners and bots say they run and what they took up) -----------------

GRANT EXECUTE ON FUNCTION xp.heartbeat(text, text, text, bigint, bigint, int, timestamptz, boolean),
                          xp.config_version()
    TO xp_listener, xp_bot, xp_admin;

-- --- functions: the review queues filtered, reviewed all at once, and the roles they give ----------
-- (the queues by quest or item and a person's Discord roles are read with the web's login like the
-- panel's other reads; reviewing all the matching ones is the admin's)

GRANT EXECUTE ON FUNCTION xp.admin_quest_queue(text, text, int),
                          xp.admin_shop_queue(text, text, int),
                          xp.admin_review_count(text, text),
                          xp.admin_person_roles(bigint)
    TO xp_web, xp_admin;
GRANT EXECUTE ON FUNCTION xp.review_all(text, text, bigint, timestamptz, boolean, text) TO xp_admin;
