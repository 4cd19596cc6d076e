-- 12_operations: what a DBA runs at 3 a.m. and what the operator tables set
-- off. Ranks, settings and role mappings that running processes pick up;
-- thresholds that people follow in short batches; reconcile (set-based:
-- balances, ranks and rewards, boards, achievements, stuck deliveries, Discord
-- roles never applied); stats, cleanup, capped and audited admin changes,
-- privacy deletion and idempotent imports.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- --- operator tables that the system reacts to ---------------------------------------------------

-- Ranks must stay a ladder; a change rings xp_config 'ranks' and people follow via xp.rerank_batch.
CREATE OR REPLACE FUNCTION xp._ranks_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_bad text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM xp.ranks WHERE min_xp = 0) THEN
        RAISE EXCEPTION 'the lowest rank must start at 0 XP' USING ERRCODE = 'XP002';
    END IF;
    SELECT string_agg(r.name || ' (' || r.min_xp || ' XP)', ', ') INTO v_bad
      FROM (SELECT name, min_xp, lag(min_xp) OVER (ORDER BY id) AS below FROM xp.ranks) AS r
     WHERE r.min_xp <= r.below;
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'rank thresholds must rise with rank ids: % is not above the rank before it', v_bad
            USING ERRCODE = 'XP002';
    END IF;
    PERFORM pg_notify('xp_config', 'ranks');
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER ranks_changed AFTER INSERT OR UPDATE OR DELETE ON xp.ranks
    FOR EACH STATEMENT EXECUTE FUNCTION xp._ranks_changed();

CREATE OR REPLACE FUNCTION xp._settings_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('xp_config', 'settings');
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON xp.settings
    FOR EACH STATEMENT EXECUTE FUNCTION xp._settings_changed();

CREATE OR REPLACE FUNCTION xp._role_mapping_changed() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM xp._queue_resync(NULL, 'the rank role mapping changed');
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER rank_roles_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON xp.rank_roles
    FOR EACH STATEMENT EXECUTE FUNCTION xp._role_mapping_changed();
CREATE OR REPLACE TRIGGER guild_settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON xp.guild_settings
    FOR EACH STATEMENT EXECUTE FUNCTION xp._role_mapping_changed();
CREATE OR REPLACE TRIGGER achievement_roles_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON xp.achievement_roles
    FOR EACH STATEMENT EXECUTE FUNCTION xp._role_mapping_changed();

-- --- thresholds people follow --------------------------------------------------------------------

-- People whose rank, cached rank bounds or paid rewards disagree with xp.ranks (uids NULL: everyone).
CREATE OR REPLACE FUNCTION xp._out_of_step(uids bigint[], lim int DEFAULT NULL)
RETURNS TABLE (uid bigint, rank_id int, want int, rewarded_rank int)
LANGUAGE sql STABLE AS $$
    WITH ladder AS (
        SELECT r.id, r.min_xp AS lo, lead(r.min_xp) OVER (ORDER BY r.min_xp) AS hi FROM xp.ranks r)
    SELECT u.id, u.rank_id, l.id, u.rewarded_rank
      FROM xp.users u
      JOIN ladder l ON u.xp >= l.lo AND (l.hi IS NULL OR u.xp < l.hi)
     WHERE (uids IS NULL OR u.id = ANY (uids))
       AND (u.rank_id <> l.id OR u.rank_floor <> l.lo OR u.rank_ceil IS DISTINCT FROM l.hi
            OR u.rewarded_rank < l.id)
     ORDER BY u.id
     LIMIT lim
$$;

-- Bring up to batch_size people in step with xp.ranks (events, rewards); 0 when none is left.
-- Call it until it returns 0: each call is a short transaction, and callers may run it in parallel.
CREATE OR REPLACE FUNCTION xp.rerank_batch(batch_size int DEFAULT 1000) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    n int := 0;
BEGIN
    IF rerank_batch.batch_size IS NULL OR rerank_batch.batch_size NOT BETWEEN 1 AND 100000 THEN
        RAISE EXCEPTION 'batch_size % is invalid: it must be between 1 and 100000',
            coalesce(rerank_batch.batch_size::text, 'NULL') USING ERRCODE = 'XP002';
    END IF;
    FOR r IN SELECT * FROM xp._out_of_step(NULL, rerank_batch.batch_size) LOOP
        PERFORM 1 FROM xp.users u WHERE u.id = r.uid FOR UPDATE SKIP LOCKED;
        IF FOUND THEN
            PERFORM xp._rerank(r.uid, (SELECT u.rank_id FROM xp.users u WHERE u.id = r.uid));
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;
COMMENT ON FUNCTION xp.rerank_batch(int) IS
    'Move up to batch_size people whose rank no longer matches xp.ranks; call until it returns 0.';

-- --- reconcile -----------------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION xp._reconcile(uids bigint[], dry_run boolean)
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    v_stuck interval := make_interval(mins => xp._setting('reconcile.stuck_minutes')::int);
    v_resync bigint[];
BEGIN
    -- 1. balances are a cache of the ledger sums: the ledger wins
    RETURN QUERY
        WITH sums AS (
            SELECT l.user_id AS uid,
                   coalesce(sum(l.delta) FILTER (WHERE l.kind = 'xp'), 0) AS xp,
                   coalesce(sum(l.delta) FILTER (WHERE l.kind = 'coins'), 0) AS coins
              FROM xp.ledger l
             WHERE uids IS NULL OR l.user_id = ANY (uids)
             GROUP BY l.user_id),
        drift AS (
            SELECT u.id, u.xp AS cached_xp, u.coins AS cached_coins,
                   coalesce(s.xp, 0) AS xp, coalesce(s.coins, 0) AS coins
              FROM xp.users u
              LEFT JOIN sums s ON s.uid = u.id
             WHERE (uids IS NULL OR u.id = ANY (uids))
               AND (u.xp <> coalesce(s.xp, 0) OR u.coins <> coalesce(s.coins, 0))),
        fix AS (
            UPDATE xp.users u SET xp = d.xp, coins = d.coins
              FROM drift d
             WHERE u.id = d.id AND NOT dry_run
            RETURNING u.id)
        SELECT d.id, 'balance_xp', d.xp::text, d.cached_xp::text, NOT dry_run FROM drift d WHERE d.xp <> d.cached_xp
        UNION ALL
        SELECT d.id, 'balance_coins', d.coins::text, d.cached_coins::text, NOT dry_run
          FROM drift d WHERE d.coins <> d.cached_coins;

    -- 2. ranks are derived from XP, with every reward of a rank reached paid
    FOR r IN SELECT * FROM xp._out_of_step(uids) LOOP
        user_id := r.uid;
        IF r.rank_id <> r.want THEN
            check_name := 'rank'; expected := r.want::text; actual := r.rank_id::text;
        ELSIF r.rewarded_rank < r.want THEN
            check_name := 'rank_rewards'; expected := 'paid up to rank ' || r.want;
            actual := 'paid up to rank ' || r.rewarded_rank;
        ELSE
            check_name := 'rank_bounds'; expected := 'bounds of rank ' || r.want; actual := 'stale bounds';
        END IF;
        fixed := NOT dry_run;
        IF NOT dry_run THEN
            PERFORM xp._rerank(r.uid, r.rank_id);
        END IF;
        RETURN NEXT;
    END LOOP;

    -- 3. deliveries nobody has drained for a while (no listener running, or one that died holding a lease)
    RETURN QUERY
        WITH stuck AS (
            SELECT d.id, d.user_id AS uid, d.target, d.lease_owner, now() - d.run_at AS late
              FROM xp.deliveries d
             WHERE d.status = 'pending' AND d.run_at < now() - v_stuck
               AND (uids IS NULL OR d.user_id = ANY (uids))),
        fix AS (
            UPDATE xp.deliveries d SET lease_owner = NULL, run_at = now()
              FROM stuck s
             WHERE d.id = s.id AND NOT dry_run
            RETURNING d.target)
        SELECT s.uid, 'stuck_delivery', s.target || ' delivery ' || s.id || ' delivered',
               'due ' || date_trunc('second', s.late) || ' ago'
                   || coalesce(', lease held by ' || s.lease_owner, ', never claimed'),
               NOT dry_run
          FROM stuck s;
    IF NOT dry_run THEN
        PERFORM pg_notify('xp_' || t.target, '')
           FROM (SELECT DISTINCT d.target FROM xp.deliveries d
                  WHERE d.status = 'pending' AND d.run_at <= now()) AS t;
    END IF;

    -- 4. Discord roles that were never applied for the current rank (imports, dead letters)
    SELECT array_agg(u.id) INTO v_resync
      FROM xp.users u
     WHERE (uids IS NULL OR u.id = ANY (uids))
       AND EXISTS (SELECT 1 FROM xp.accounts a WHERE a.user_id = u.id AND a.platform = 'discord')
       AND CASE WHEN u.roles_rank IS NULL
                THEN EXISTS (SELECT 1 FROM xp.rank_roles rr WHERE rr.rank_id <= u.rank_id)
                ELSE u.roles_rank <> u.rank_id END
       AND NOT EXISTS (SELECT 1 FROM xp.deliveries d
                        WHERE d.user_id = u.id AND d.target = 'discord' AND d.status = 'pending');
    RETURN QUERY
        SELECT u.id, 'discord_roles', 'roles of rank ' || u.rank_id,
               coalesce('roles of rank ' || u.roles_rank, 'never applied'), NOT dry_run
          FROM xp.users u WHERE u.id = ANY (v_resync);
    IF NOT dry_run AND v_resync IS NOT NULL THEN
        PERFORM xp._queue_resync(v_resync, 'reconcile');
    END IF;
END
$$;

-- This week's, month's and season's counters against the ledger.
CREATE OR REPLACE FUNCTION xp._reconcile_boards(uids bigint[], dry_run boolean)
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    p record;
    v_week timestamptz;
    v_month timestamptz;
    v_season timestamptz;
    v_since timestamptz;
BEGIN
    SELECT * INTO p FROM xp._periods();
    v_week := p.week::timestamp AT TIME ZONE 'UTC';
    v_month := p.month::timestamp AT TIME ZONE 'UTC';
    v_season := (SELECT s.starts_on::timestamp AT TIME ZONE 'UTC' FROM xp.seasons s WHERE s.id = p.season);
    v_since := least(v_week, v_month, coalesce(v_season, v_week));
    RETURN QUERY
        WITH sums AS (
            SELECT l.user_id AS uid,
                   coalesce(sum(l.delta) FILTER (WHERE l.created_at >= v_week), 0) AS week_xp,
                   coalesce(sum(l.delta) FILTER (WHERE l.created_at >= v_month), 0) AS month_xp,
                   coalesce(sum(l.delta) FILTER (WHERE l.created_at >= v_season), 0) AS season_xp
              FROM xp.ledger l
             WHERE l.kind = 'xp' AND l.created_at >= v_since AND l.source <> 'import'
               AND (uids IS NULL OR l.user_id = ANY (uids))
             GROUP BY l.user_id),
        cached AS (
            SELECT u.id,
                   CASE WHEN u.week_of = p.week THEN u.week_xp ELSE 0 END AS week_xp,
                   CASE WHEN u.month_of = p.month THEN u.month_xp ELSE 0 END AS month_xp,
                   CASE WHEN u.season_id = p.season THEN u.season_xp ELSE 0 END AS season_xp,
                   coalesce(s.week_xp, 0) AS want_week, coalesce(s.month_xp, 0) AS want_month,
                   CASE WHEN p.season IS NULL THEN 0 ELSE coalesce(s.season_xp, 0) END AS want_season
              FROM xp.users u
              LEFT JOIN sums s ON s.uid = u.id
             WHERE uids IS NULL OR u.id = ANY (uids)),
        drift AS (
            SELECT c.* FROM cached c
             WHERE (c.week_xp, c.month_xp, c.season_xp) IS DISTINCT FROM (c.want_week, c.want_month, c.want_season)),
        fix AS (
            UPDATE xp.users u
               SET week_of = p.week, week_xp = d.want_week, month_of = p.month, month_xp = d.want_month,
                   season_id = p.season, season_xp = d.want_season
              FROM drift d
             WHERE u.id = d.id AND NOT dry_run
            RETURNING u.id)
        SELECT d.id, 'board_' || b.board, b.want::text, b.have::text, NOT dry_run
          FROM drift d
         CROSS JOIN LATERAL (VALUES ('week', d.want_week, d.week_xp), ('month', d.want_month, d.month_xp),
                                    ('season', d.want_season, d.season_xp)) AS b (board, want, have)
         WHERE b.want <> b.have;
END
$$;

-- Achievements whose criterion holds but that were never unlocked (a
-- definition added later, an import): unlocked, with their rewards.
CREATE OR REPLACE FUNCTION xp._reconcile_achievements(uids bigint[], dry_run boolean)
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    FOR r IN
        SELECT p.uid, string_agg(a.code, ', ' ORDER BY a.code) AS codes
          FROM xp._progress(uids) p
          JOIN xp.achievements a ON a.criterion = p.criterion AND a.threshold <= p.value
         WHERE NOT EXISTS (SELECT 1 FROM xp.user_achievements x WHERE x.user_id = p.uid AND x.code = a.code)
         GROUP BY p.uid
         ORDER BY p.uid
    LOOP
        IF NOT dry_run THEN
            PERFORM xp._achieve(r.uid);
        END IF;
        RETURN QUERY SELECT r.uid, 'achievements', 'unlocked: ' || r.codes, 'locked', NOT dry_run;
    END LOOP;
END
$$;

CREATE OR REPLACE FUNCTION xp.reconcile_user(uid bigint, dry_run boolean DEFAULT false)
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM xp.users u WHERE u.id = reconcile_user.uid) THEN
        RAISE EXCEPTION 'unknown person %', coalesce(reconcile_user.uid::text, 'NULL') USING ERRCODE = 'XP001';
    END IF;
    RETURN QUERY SELECT * FROM xp._reconcile(ARRAY[reconcile_user.uid], coalesce(reconcile_user.dry_run, false));
    RETURN QUERY SELECT * FROM xp._reconcile_boards(ARRAY[reconcile_user.uid], coalesce(reconcile_user.dry_run, false));
    RETURN QUERY SELECT * FROM xp._reconcile_achievements(ARRAY[reconcile_user.uid],
                                                          coalesce(reconcile_user.dry_run, false));
END
$$;
COMMENT ON FUNCTION xp.reconcile_user(bigint, boolean) IS
    'Check one person (balances, rank, rewards, boards, achievements, deliveries, Discord roles) and fix what drifted unless dry_run.';

CREATE OR REPLACE FUNCTION xp.reconcile_all(dry_run boolean DEFAULT false)
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY SELECT * FROM xp._reconcile(NULL, coalesce(reconcile_all.dry_run, false));
    RETURN QUERY SELECT * FROM xp._reconcile_boards(NULL, coalesce(reconcile_all.dry_run, false));
    RETURN QUERY SELECT * FROM xp._reconcile_achievements(NULL, coalesce(reconcile_all.dry_run, false));
END
$$;
COMMENT ON FUNCTION xp.reconcile_all(boolean) IS
    'Check everyone, set-based, and fix what drifted unless dry_run; one row per finding.';

-- --- stats and cleanup ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION xp.stats() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'deliveries', coalesce((
            SELECT jsonb_object_agg(t.target, t.by_status)
              FROM (SELECT s.target, jsonb_object_agg(s.status, s.n) AS by_status
                      FROM (SELECT d.target, d.status, count(*) AS n FROM xp.deliveries d GROUP BY 1, 2) AS s
                     GROUP BY s.target) AS t), '{}'),
        'oldest_pending_seconds', coalesce((
            SELECT jsonb_object_agg(p.target, p.age)
              FROM (SELECT d.target, round(extract(epoch FROM now() - min(d.created_at))::numeric, 1) AS age
                      FROM xp.deliveries d WHERE d.status = 'pending' GROUP BY d.target) AS p), '{}'),
        'failures', coalesce((
            SELECT jsonb_agg(jsonb_build_object('target', f.target, 'status', f.status, 'reason', f.last_error,
                                                'count', f.n) ORDER BY f.n DESC)
              FROM (SELECT d.target, d.status, d.last_error, count(*) AS n
                      FROM xp.deliveries d WHERE d.status IN ('failed', 'dead')
                     GROUP BY 1, 2, 3 ORDER BY 4 DESC LIMIT 10) AS f), '[]'),
        'people', (SELECT count(*) FROM xp.users WHERE forgotten_at IS NULL),
        'ledger_rows', (SELECT count(*) FROM xp.ledger),
        'awards_last_hour', (SELECT count(*) FROM xp.ledger WHERE created_at > now() - interval '1 hour'),
        'notify_queue_usage', pg_notification_queue_usage(),
        -- Discord guilds that refused calls lately, and those paused by their refusals (xp.resume_guild)
        'guilds', coalesce((
            SELECT jsonb_object_agg(g.guild_id, jsonb_build_object(
                       'refusals', g.refusals, 'last_refusal', g.last_refusal, 'last_refusal_at', g.last_refusal_at,
                       'paused_at', g.paused_at))
              FROM xp.guild_health g), '{}'),
        'paused_guilds', coalesce((
            SELECT jsonb_agg(jsonb_build_object('guild_id', g.guild_id, 'since', g.paused_at,
                                                'reason', g.paused_reason) ORDER BY g.paused_at)
              FROM xp.guild_health g WHERE g.paused_at IS NOT NULL), '[]'))
$$;
COMMENT ON FUNCTION xp.stats() IS
    'Health at a glance: deliveries by target and status, oldest pending, top failures, people, ledger, NOTIFY queue, refusing and paused Discord guilds.';

CREATE OR REPLACE FUNCTION xp.cleanup(older_than interval DEFAULT '30 days') RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cutoff timestamptz;
    v_total bigint := 0;
    v_rows bigint;
BEGIN
    IF cleanup.older_than IS NULL OR cleanup.older_than < interval '0' THEN
        RAISE EXCEPTION 'older_than % is invalid: it must be a positive interval',
            coalesce(cleanup.older_than::text, 'NULL') USING ERRCODE = 'XP002';
    END IF;
    v_cutoff := now() - cleanup.older_than;
    DELETE FROM xp.deliveries d WHERE d.status <> 'pending' AND d.finished_at < v_cutoff;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_total := v_total + v_rows;
    -- housekeeping of the rolling idempotency windows (never the ledger, never an event)
    DELETE FROM xp.message_log m WHERE m.created_at < v_cutoff;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_total := v_total + v_rows;
    DELETE FROM xp.redeem_failures f WHERE f.created_at < v_cutoff;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_total := v_total + v_rows;
    DELETE FROM xp.link_codes c WHERE c.expires_at < v_cutoff;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_total := v_total + v_rows;
    -- pacing slots long past (one per chat ever written to)
    DELETE FROM xp.pace p WHERE p.next_at < v_cutoff;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_total + v_rows;
END
$$;
COMMENT ON FUNCTION xp.cleanup(interval) IS
    'Remove finished deliveries (and old message ids, failed redeems, expired codes, past pacing slots) older than older_than.';

-- --- admin changes, privacy deletion, imports ----------------------------------------------------

CREATE OR REPLACE FUNCTION xp.adjust(user_id bigint, kind text, amount int, reason text, actor text)
RETURNS xp.award_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_cap int := xp._setting('admin.cap')::int;
BEGIN
    IF adjust.kind IS NULL OR adjust.kind NOT IN ('xp', 'coins') THEN
        RAISE EXCEPTION 'kind % is invalid: expected xp or coins', coalesce(quote_literal(left(adjust.kind, 40)), 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    IF adjust.amount IS NULL OR adjust.amount = 0 OR adjust.amount NOT BETWEEN -v_cap AND v_cap THEN
        RAISE EXCEPTION 'amount % is out of range: an adjustment is non-zero and at most % in magnitude (admin.cap)',
            coalesce(adjust.amount::text, 'NULL'), v_cap USING ERRCODE = 'XP002';
    END IF;
    PERFORM xp._check_text(adjust.actor, 'actor');
    PERFORM xp._check_text(adjust.reason, 'reason');
    IF NOT EXISTS (SELECT 1 FROM xp.users u WHERE u.id = adjust.user_id AND u.forgotten_at IS NULL) THEN
        RAISE EXCEPTION 'unknown person %', coalesce(adjust.user_id::text, 'NULL') USING ERRCODE = 'XP001';
    END IF;
    RETURN xp._apply(adjust.user_id, NULL, NULL, 'admin', adjust.kind, adjust.amount, 'admin: ' || adjust.reason,
                     'adjust:' || gen_random_uuid(), 1, adjust.actor);
END
$$;
COMMENT ON FUNCTION xp.adjust(bigint, text, int, text, text) IS
    'Admin: change a person''s XP or coins by hand, capped, with actor and reason on the ledger row.';

CREATE OR REPLACE FUNCTION xp.forget_person(user_id bigint) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_accounts bigint[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM xp.users u WHERE u.id = forget_person.user_id) THEN
        RAISE EXCEPTION 'unknown person %', coalesce(forget_person.user_id::text, 'NULL') USING ERRCODE = 'XP001';
    END IF;
    PERFORM xp._identity_lock();
    SELECT array_agg(a.id) INTO v_accounts FROM xp.accounts a WHERE a.user_id = forget_person.user_id;
    DELETE FROM xp.voice_sessions v WHERE v.account_id = ANY (v_accounts);
    DELETE FROM xp.link_codes c WHERE c.account_id = ANY (v_accounts) OR c.redeemed_by = ANY (v_accounts);
    DELETE FROM xp.redeem_failures f WHERE f.account_id = ANY (v_accounts);
    DELETE FROM xp.deliveries d WHERE d.user_id = forget_person.user_id AND d.status = 'pending';
    DELETE FROM xp.accounts a WHERE a.user_id = forget_person.user_id;
    -- the ledger stays (numbers only): balances, boards and audits keep adding up
    UPDATE xp.users u SET display_name = NULL, notify = false, forgotten_at = now()
     WHERE u.id = forget_person.user_id;
END
$$;
COMMENT ON FUNCTION xp.forget_person(bigint) IS
    'Admin: privacy deletion: remove every account and name of a person on all platforms; the ledger keeps numbers only.';

-- Import a balance from another system: award only the difference from what
-- earlier imports of the same source gave this account, so importing the same
-- file twice changes nothing and a newer export adds only the gain.
CREATE OR REPLACE FUNCTION xp.import_xp(platform text, external_id text, xp bigint, coins bigint, source text,
                             display_name text DEFAULT NULL)
RETURNS xp.award_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    k record;
    r xp.award_result;
    v_delta bigint;
    v_step int;
    v_n int;
BEGIN
    PERFORM xp._check_text(import_xp.source, 'source', 60);
    IF import_xp.xp IS NULL OR import_xp.xp < 0 OR coalesce(import_xp.coins, 0) < 0 THEN
        RAISE EXCEPTION 'xp % and coins % must be 0 or more', coalesce(import_xp.xp::text, 'NULL'), import_xp.coins
            USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO a FROM xp._account_for(import_xp.platform, import_xp.external_id, import_xp.display_name);
    r := xp._state(a.uid);
    FOR k IN SELECT * FROM (VALUES ('xp', import_xp.xp), ('coins', coalesce(import_xp.coins, 0))) AS t (kind, total)
    LOOP
        v_delta := k.total - coalesce((SELECT sum(l.delta) FROM xp.ledger l
                                        WHERE l.user_id = a.uid AND l.account_id = a.acc AND l.kind = k.kind
                                          AND l.source = 'import' AND l.imported_from = import_xp.source), 0);
        v_n := 0;
        WHILE v_delta <> 0 LOOP  -- in steps the ledger accepts
            v_step := sign(v_delta) * least(abs(v_delta), 1000000);
            v_n := v_n + 1;
            r := xp._apply(a.uid, a.acc, import_xp.platform, 'import', k.kind, v_step,
                           'import: ' || import_xp.source,
                           'import:' || import_xp.source || ':' || a.acc || ':' || k.kind || ':' || k.total || ':' || v_n,
                           1, NULL, import_xp.display_name, import_xp.source);
            v_delta := v_delta - v_step;
        END LOOP;
    END LOOP;
    RETURN r;
END
$$;
COMMENT ON FUNCTION xp.import_xp(text, text, bigint, bigint, text, text) IS
    'Admin: set an account''s imported XP and coins from a source (e.g. mee6:GUILD), applying only the difference.';
