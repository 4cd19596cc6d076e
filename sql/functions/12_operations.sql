-- 12_operations: what a DBA runs at 3 a.m. and what the operator tables set
-- off. Ranks, settings and role mappings that running processes pick up;
-- thresholds that people follow in short batches; reconcile (set-based:
-- balances, ranks and rewards, boards, achievements, stuck deliveries, Discord
-- roles never applied); stats, cleanup, capped and audited admin changes,
-- privacy deletion and idempotent imports.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- --- operator tables that the system reacts to ---------------------------------------------------
-- A DBA edits these tables from psql as a member of xp_admin, who may call no helper: the
-- trigger functions run as the owner (SECURITY DEFINER, search_path pinned), so that the change
-- and what follows from it (notices, resyncs, season counters) happen together or not at all.

-- Ranks must stay a ladder; a change rings xp_config 'ranks' and people follow via xp.rerank_batch.
CREATE OR REPLACE FUNCTION xp._ranks_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_notify('xp_config', 'settings');
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER settings_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON xp.settings
    FOR EACH STATEMENT EXECUTE FUNCTION xp._settings_changed();

-- (as the owner: a DBA edits the mapping, the resync helper is not theirs to call)
CREATE OR REPLACE FUNCTION xp._role_mapping_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
-- A run looks at everyone (or one person) set-based, then fixes what drifted while the system
-- runs. Every person with drift is locked, in id order (the order merges lock in), and looked at
-- again under the lock: writers move balances and counters relative to what is there, so a write
-- queued behind the lock lands on top of the fix and none is lost. One person's rank and
-- achievement fixes run in a subtransaction of their own, so a person that cannot be fixed is a
-- finding, never the end of the run. A dry run is the real run rolled back: it reports exactly what
-- the real run would fix. Every finding of a real run is kept in xp.reconcile_log.

-- Balances that differ from the ledger's sums (uids NULL: everyone).
CREATE OR REPLACE FUNCTION xp._balance_drift(uids bigint[])
RETURNS TABLE (uid bigint, xp bigint, coins bigint, want_xp bigint, want_coins bigint)
LANGUAGE sql STABLE AS $$
    WITH sums AS (
        SELECT l.user_id,
               coalesce(sum(l.delta) FILTER (WHERE l.kind = 'xp'), 0) AS xp,
               coalesce(sum(l.delta) FILTER (WHERE l.kind = 'coins'), 0) AS coins
          FROM xp.ledger l
         WHERE uids IS NULL OR l.user_id = ANY (uids)
         GROUP BY l.user_id)
    SELECT u.id, u.xp, u.coins, coalesce(s.xp, 0)::bigint, coalesce(s.coins, 0)::bigint
      FROM xp.users u
      LEFT JOIN sums s ON s.user_id = u.id
     WHERE (uids IS NULL OR u.id = ANY (uids))
       AND (u.xp <> coalesce(s.xp, 0) OR u.coins <> coalesce(s.coins, 0))
$$;

-- This week's, month's and season's counters that differ from the ledger (uids NULL: everyone).
CREATE OR REPLACE FUNCTION xp._board_drift(uids bigint[])
RETURNS TABLE (uid bigint, week date, month date, season int, week_xp bigint, month_xp bigint, season_xp bigint,
               want_week bigint, want_month bigint, want_season bigint)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p record;
    v_week timestamptz;
    v_month timestamptz;
    v_season timestamptz;
BEGIN
    SELECT * INTO p FROM xp._periods();
    v_week := p.week::timestamp AT TIME ZONE 'UTC';
    v_month := p.month::timestamp AT TIME ZONE 'UTC';
    v_season := (SELECT s.starts_on::timestamp AT TIME ZONE 'UTC' FROM xp.seasons s WHERE s.id = p.season);
    RETURN QUERY
        WITH sums AS (
            SELECT l.user_id,
                   coalesce(sum(l.delta) FILTER (WHERE l.created_at >= v_week), 0) AS week_xp,
                   coalesce(sum(l.delta) FILTER (WHERE l.created_at >= v_month), 0) AS month_xp,
                   coalesce(sum(l.delta) FILTER (WHERE l.created_at >= v_season), 0) AS season_xp
              FROM xp.ledger l
             WHERE l.kind = 'xp' AND l.created_at >= least(v_week, v_month, coalesce(v_season, v_week))
               AND l.source <> 'import' AND (uids IS NULL OR l.user_id = ANY (uids))
             GROUP BY l.user_id),
        cached AS (
            SELECT u.id,
                   CASE WHEN u.week_of = p.week THEN u.week_xp ELSE 0 END AS week_xp,
                   CASE WHEN u.month_of = p.month THEN u.month_xp ELSE 0 END AS month_xp,
                   CASE WHEN u.season_id = p.season THEN u.season_xp ELSE 0 END AS season_xp,
                   coalesce(s.week_xp, 0)::bigint AS want_week, coalesce(s.month_xp, 0)::bigint AS want_month,
                   CASE WHEN p.season IS NULL THEN 0 ELSE coalesce(s.season_xp, 0) END::bigint AS want_season
              FROM xp.users u
              LEFT JOIN sums s ON s.user_id = u.id
             WHERE uids IS NULL OR u.id = ANY (uids))
        SELECT c.id, p.week, p.month, p.season, c.week_xp, c.month_xp, c.season_xp,
               c.want_week, c.want_month, c.want_season
          FROM cached c
         WHERE (c.week_xp, c.month_xp, c.season_xp) IS DISTINCT FROM (c.want_week, c.want_month, c.want_season);
END
$$;

-- Achievements whose criterion holds but that were never unlocked (a definition added later, an import).
CREATE OR REPLACE FUNCTION xp._missing_achievements(uids bigint[])
RETURNS TABLE (uid bigint, codes text)
LANGUAGE sql STABLE AS $$
    SELECT p.uid, string_agg(a.code, ', ' ORDER BY a.code)
      FROM xp._progress(uids) p
      JOIN xp.achievements a ON a.criterion = p.criterion AND a.threshold <= p.value
     WHERE NOT EXISTS (SELECT 1 FROM xp.user_achievements x WHERE x.user_id = p.uid AND x.code = a.code)
     GROUP BY p.uid
$$;

-- Lock these persons, in id order (the order merges take, so that neither waits for the other in a circle).
CREATE OR REPLACE FUNCTION xp._lock_persons(uids bigint[]) RETURNS void
LANGUAGE sql AS $$
    SELECT count(*) FROM (SELECT 1 FROM xp.users u WHERE u.id = ANY (uids) ORDER BY u.id FOR UPDATE) AS locked
$$;

-- Put balances back to the ledger's sums, under the persons' locks; a ledger that sums below
-- zero cannot be a balance and is left as it is, for a person to decide (xp.adjust).
CREATE OR REPLACE FUNCTION xp._fix_balances(uids bigint[])
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean, error text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM xp._lock_persons(ARRAY(SELECT d.uid FROM xp._balance_drift(uids) d));
    RETURN QUERY
        WITH drift AS (SELECT d.*, d.want_xp >= 0 AND d.want_coins >= 0 AS fixable FROM xp._balance_drift(uids) d),
        fix AS (
            UPDATE xp.users u SET xp = d.want_xp, coins = d.want_coins
              FROM drift d
             WHERE u.id = d.uid AND d.fixable
            RETURNING u.id)
        SELECT d.uid, b.check_name, b.want::text, b.have::text, d.fixable,
               CASE WHEN NOT d.fixable THEN 'the ledger sums below zero: correct it with xp.adjust' END
          FROM drift d
         CROSS JOIN LATERAL (VALUES ('balance_xp', d.want_xp, d.xp), ('balance_coins', d.want_coins, d.coins))
               AS b (check_name, want, have)
         WHERE b.want <> b.have;
END
$$;

-- Put this period's board counters back to the ledger's, under the persons' locks (also run when
-- xp.seasons changes, for everyone).
CREATE OR REPLACE FUNCTION xp._fix_boards(uids bigint[])
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean, error text)
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM xp._lock_persons(ARRAY(SELECT d.uid FROM xp._board_drift(uids) d));
    RETURN QUERY
        WITH drift AS (SELECT * FROM xp._board_drift(uids)),
        fix AS (
            UPDATE xp.users u
               SET week_of = d.week, week_xp = d.want_week, month_of = d.month, month_xp = d.want_month,
                   season_id = d.season, season_xp = d.want_season
              FROM drift d
             WHERE u.id = d.uid
            RETURNING u.id)
        SELECT d.uid, 'board_' || b.board, b.want::text, b.have::text, true, NULL::text
          FROM drift d
         CROSS JOIN LATERAL (VALUES ('week', d.want_week, d.week_xp), ('month', d.want_month, d.month_xp),
                                    ('season', d.want_season, d.season_xp)) AS b (board, want, have)
         WHERE b.want <> b.have;
END
$$;

-- One run: every finding with what was done about it (the caller keeps or rolls back the run).
CREATE OR REPLACE FUNCTION xp._reconcile_run(uids bigint[])
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean, error text)
LANGUAGE plpgsql AS $$
DECLARE
    v_drifted bigint[];
    v_uid bigint;
    r record;
    v_stuck interval := make_interval(mins => xp._setting('reconcile.stuck_minutes')::int);
    v_resync bigint[];
BEGIN
    SELECT array_agg(DISTINCT d.uid ORDER BY d.uid) INTO v_drifted
      FROM (SELECT b.uid FROM xp._balance_drift(uids) b
            UNION ALL SELECT b.uid FROM xp._board_drift(uids) b
            UNION ALL SELECT o.uid FROM xp._out_of_step(uids) o
            UNION ALL SELECT m.uid FROM xp._missing_achievements(uids) m) AS d;
    PERFORM xp._lock_persons(v_drifted);

    -- 1. balances are a cache of the ledger sums: the ledger wins
    RETURN QUERY SELECT * FROM xp._fix_balances(v_drifted);
    -- 2. ranks are derived from XP, with every reward of a rank reached paid
    FOREACH v_uid IN ARRAY coalesce(v_drifted, '{}') LOOP
        FOR r IN SELECT * FROM xp._out_of_step(ARRAY[v_uid]) LOOP
            user_id := r.uid;
            IF r.rank_id <> r.want THEN
                check_name := 'rank'; expected := r.want::text; actual := r.rank_id::text;
            ELSIF r.rewarded_rank < r.want THEN
                check_name := 'rank_rewards'; expected := 'paid up to rank ' || r.want;
                actual := 'paid up to rank ' || r.rewarded_rank;
            ELSE
                check_name := 'rank_bounds'; expected := 'bounds of rank ' || r.want; actual := 'stale bounds';
            END IF;
            BEGIN
                PERFORM xp._rerank(r.uid, r.rank_id);
                fixed := true; error := NULL;
            EXCEPTION WHEN OTHERS THEN
                fixed := false; error := SQLERRM;
            END;
            RETURN NEXT;
        END LOOP;
    END LOOP;
    -- 3. this period's boards follow the ledger
    RETURN QUERY SELECT * FROM xp._fix_boards(v_drifted);
    -- 4. achievements whose criterion holds are unlocked, with their rewards
    FOR r IN SELECT * FROM xp._missing_achievements(v_drifted) m ORDER BY m.uid LOOP
        user_id := r.uid; check_name := 'achievements'; expected := 'unlocked: ' || r.codes; actual := 'locked';
        BEGIN
            PERFORM xp._achieve(r.uid);
            fixed := true; error := NULL;
        EXCEPTION WHEN OTHERS THEN
            fixed := false; error := SQLERRM;
        END;
        RETURN NEXT;
    END LOOP;

    -- 5. deliveries nobody has drained for a while (no listener running, or one that died holding
    -- a lease); one a listener is working on right now (its row locked) is left to it
    RETURN QUERY
        WITH stuck AS (
            SELECT d.id, d.user_id AS uid, d.target, d.lease_owner, now() - d.run_at AS late
              FROM xp.deliveries d
             WHERE d.status = 'pending' AND d.run_at < now() - v_stuck
               AND (uids IS NULL OR d.user_id = ANY (uids))
             ORDER BY d.id
               FOR UPDATE SKIP LOCKED),
        fix AS (
            UPDATE xp.deliveries d SET lease_owner = NULL, run_at = now()
              FROM stuck s
             WHERE d.id = s.id
            RETURNING d.target)
        SELECT s.uid, 'stuck_delivery', s.target || ' delivery ' || s.id || ' delivered',
               'due ' || date_trunc('second', s.late) || ' ago'
                   || coalesce(', lease held by ' || s.lease_owner, ', never claimed'),
               true, NULL::text
          FROM stuck s;
    PERFORM pg_notify('xp_' || t.target, '')
       FROM (SELECT DISTINCT d.target FROM xp.deliveries d
              WHERE d.status = 'pending' AND d.run_at <= now()) AS t;

    -- 6. Discord roles that were never applied for the current rank (imports, dead letters)
    SELECT array_agg(u.id ORDER BY u.id) INTO v_resync
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
               coalesce('roles of rank ' || u.roles_rank, 'never applied'), true, NULL::text
          FROM xp.users u WHERE u.id = ANY (v_resync) ORDER BY u.id;
    IF v_resync IS NOT NULL THEN
        PERFORM xp._queue_resync(v_resync, 'reconcile');
    END IF;
END
$$;

-- A run for reconcile_all and reconcile_user: kept and logged, or (dry_run) rolled back and reported.
CREATE OR REPLACE FUNCTION xp._reconcile(uids bigint[], dry_run boolean)
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    v_found jsonb;
BEGIN
    IF dry_run THEN
        BEGIN
            SELECT coalesce(jsonb_agg(to_jsonb(f)), '[]') INTO v_found FROM xp._reconcile_run(uids) f;
            -- XP999 never leaves this block: it only undoes what the run did
            RAISE EXCEPTION 'dry run' USING ERRCODE = 'XP999';
        EXCEPTION WHEN SQLSTATE 'XP999' THEN
            NULL;
        END;
        RETURN QUERY
            SELECT f.user_id, f.check_name, f.expected, f.actual, false
              FROM jsonb_to_recordset(v_found) AS f (user_id bigint, check_name text, expected text, actual text);
        RETURN;
    END IF;
    RETURN QUERY
        WITH found AS (SELECT * FROM xp._reconcile_run(uids)),
        logged AS (
            INSERT INTO xp.reconcile_log (user_id, check_name, expected, actual, fixed, error)
            SELECT f.user_id, f.check_name, f.expected, f.actual, f.fixed, f.error FROM found f)
        SELECT f.user_id, f.check_name, f.expected, f.actual, f.fixed FROM found f;
END
$$;

CREATE OR REPLACE FUNCTION xp.reconcile_user(uid bigint, dry_run boolean DEFAULT false)
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM xp._check_flag(reconcile_user.dry_run, 'dry_run');
    IF NOT EXISTS (SELECT 1 FROM xp.users u WHERE u.id = reconcile_user.uid) THEN
        RAISE EXCEPTION 'unknown person %', coalesce(reconcile_user.uid::text, 'NULL') USING ERRCODE = 'XP001';
    END IF;
    RETURN QUERY SELECT * FROM xp._reconcile(ARRAY[reconcile_user.uid], reconcile_user.dry_run);
END
$$;
COMMENT ON FUNCTION xp.reconcile_user(bigint, boolean) IS
    'Check one person (balances, rank, rewards, boards, achievements, deliveries, Discord roles) and fix what drifted unless dry_run.';

CREATE OR REPLACE FUNCTION xp.reconcile_all(dry_run boolean DEFAULT false)
RETURNS TABLE (user_id bigint, check_name text, expected text, actual text, fixed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_found bigint;
BEGIN
    PERFORM xp._check_flag(reconcile_all.dry_run, 'dry_run');
    RETURN QUERY SELECT * FROM xp._reconcile(NULL, reconcile_all.dry_run);
    GET DIAGNOSTICS v_found = ROW_COUNT;
    IF NOT reconcile_all.dry_run AND v_found > 0 THEN
        PERFORM xp._audit('reconcile.fix', NULL, jsonb_build_object('findings', v_found));
    END IF;
END
$$;
COMMENT ON FUNCTION xp.reconcile_all(boolean) IS
    'Check everyone, set-based, and fix what drifted (safe while the system runs; logged in xp.reconcile_log) unless dry_run.';

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
    -- a day's claim or spin long over can never be claimed again; what is paid once ever stays; a
    -- quest's window (a day, a week or a month from its first day) is over 32 days after it began
    DELETE FROM xp.family_rewards r
     WHERE r.day < (v_cutoff AT TIME ZONE 'UTC')::date - 1
       AND (r.reward NOT LIKE 'quest:%' OR r.day < (now() AT TIME ZONE 'UTC')::date - 32);
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    v_total := v_total + v_rows;
    -- pacing slots long past (one per chat ever written to)
    DELETE FROM xp.pace p WHERE p.next_at < v_cutoff;
    GET DIAGNOSTICS v_rows = ROW_COUNT;
    RETURN v_total + v_rows;
END
$$;
COMMENT ON FUNCTION xp.cleanup(interval) IS
    'Remove finished deliveries (and old message ids, failed redeems, expired codes, days long over, past pacing slots) older than older_than.';

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
    PERFORM xp._audit('person.adjust', adjust.user_id::text,
                      jsonb_build_object('kind', adjust.kind, 'amount', adjust.amount, 'reason', adjust.reason),
                      adjust.actor);
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
    -- what a member wrote as a quest's proof is theirs: it goes (completions stay, as numbers)
    DELETE FROM xp.quest_submissions s WHERE s.user_id = forget_person.user_id;
    -- the ledger stays (numbers only): balances, boards and audits keep adding up, but no key or
    -- reason keeps a platform id (message and voice keys hold chat, message and session ids; the
    -- keys and reasons of bots and admins may hold anything)
    UPDATE xp.ledger l
       SET idempotency_key = 'forgotten:' || l.id,
           reason = CASE WHEN l.source IN ('award', 'admin') THEN 'forgotten' ELSE l.reason END
     WHERE l.user_id = forget_person.user_id;
    UPDATE xp.users u SET display_name = NULL, notify = false, forgotten_at = now()
     WHERE u.id = forget_person.user_id;
    PERFORM xp._audit('person.forget', forget_person.user_id::text,
                      jsonb_build_object('accounts', coalesce(cardinality(v_accounts), 0)));
END
$$;
COMMENT ON FUNCTION xp.forget_person(bigint) IS
    'Admin: privacy deletion: remove every account and name of a person on all platforms; the ledger keeps numbers only.';

-- The source this database's own exports carry (xp.export_accounts); it never imports it into itself.
CREATE OR REPLACE FUNCTION xp._own_source() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT 'xpsync:' || i.id FROM xp.instance i
$$;

-- Set an account's imported totals from a source: the file says what the account holds from it,
-- so the difference from the account's import rows so far (wherever they are: an account that
-- left a person left them with it) is applied, up or down; a lower total takes back at most what
-- the account's person holds. One account's imports take turns (its row lock); a total beyond
-- 1 000 000 000 is refused. Negative totals come only from an xpsync export (what was spent
-- there), and this database's own export changes nothing here.
CREATE OR REPLACE FUNCTION xp.import_xp(platform text, external_id text, xp bigint, coins bigint, source text,
                             display_name text DEFAULT NULL)
RETURNS xp.award_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    k record;
    u record;
    r xp.award_result;
    v_have bigint;
    v_rows bigint;
    v_delta bigint;
    v_floor bigint := CASE WHEN import_xp.source LIKE 'xpsync:%' THEN -1000000000 ELSE 0 END;
BEGIN
    PERFORM xp._check_text(import_xp.source, 'source', 60);
    IF import_xp.xp IS NULL OR import_xp.xp NOT BETWEEN v_floor AND 1000000000
       OR coalesce(import_xp.coins, 0) NOT BETWEEN v_floor AND 1000000000 THEN
        RAISE EXCEPTION 'xp % and coins % must be between % and 1000000000',
            coalesce(import_xp.xp::text, 'NULL'), import_xp.coins, v_floor USING ERRCODE = 'XP002';
    END IF;
    IF import_xp.source = xp._own_source() THEN
        -- this database's own export: everything in it is here already
        PERFORM xp._check_platform(import_xp.platform);
        SELECT c.user_id INTO a FROM xp.accounts c
         WHERE c.platform = import_xp.platform AND c.external_id = import_xp.external_id;
        RETURN coalesce(xp._state(a.user_id), ROW(NULL, 0, 0, 1, 1, false, 0, false)::xp.award_result);
    END IF;
    SELECT * INTO a FROM xp._account_for(import_xp.platform, import_xp.external_id, import_xp.display_name);
    -- accounts, then persons (design.md §5): awards through the account go on meanwhile
    PERFORM 1 FROM xp.accounts c WHERE c.id = a.acc FOR NO KEY UPDATE;
    SELECT x.xp, x.coins INTO u FROM xp.users x WHERE x.id = a.uid FOR UPDATE;
    r := xp._state(a.uid);
    FOR k IN SELECT * FROM (VALUES ('xp', import_xp.xp), ('coins', coalesce(import_xp.coins, 0))) AS t (kind, total)
    LOOP
        SELECT coalesce(sum(l.delta), 0), count(*) INTO v_have, v_rows
          FROM xp.ledger l
         WHERE l.account_id = a.acc AND l.source = 'import' AND l.imported_from = import_xp.source
           AND l.kind = k.kind;
        v_delta := greatest(k.total - v_have,
                            -(SELECT CASE k.kind WHEN 'xp' THEN x.xp ELSE x.coins END FROM xp.users x
                               WHERE x.id = a.uid));
        CONTINUE WHEN v_delta = 0;
        r := xp._apply(a.uid, a.acc, import_xp.platform, 'import', k.kind, v_delta, 'import: ' || import_xp.source,
                       'import:' || import_xp.source || ':' || a.acc || ':' || k.kind || ':' || (v_rows + 1),
                       1, NULL, import_xp.display_name, import_xp.source);
    END LOOP;
    RETURN r;
END
$$;
COMMENT ON FUNCTION xp.import_xp(text, text, bigint, bigint, text, text) IS
    'Admin: set an account''s imported XP and coins from a source (e.g. mee6:GUILD), applying only the difference.';

-- Every account, with what it holds from each source, in the shape xp.import_xp reads back: one row
-- per import source the account has rows from (its imported total, as an import sees it), and one
-- with this database's own source (xpsync:<id>) holding what was earned here, on the person's
-- oldest account (the person's other accounts hold 0 there). What was earned here leaves out the
-- rank rewards, which the importing database pays itself as the imported XP crosses its
-- thresholds; it may be negative (spent here). A person's rows come together, own row last.
CREATE OR REPLACE FUNCTION xp.export_accounts()
RETURNS TABLE (platform text, external_id text, xp bigint, coins bigint, display_name text, source text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH acc AS (
        SELECT a.id, a.user_id, a.platform, a.external_id, a.display_name,
               a.id = min(a.id) OVER (PARTITION BY a.user_id) AS oldest
          FROM xp.accounts a JOIN xp.users u ON u.id = a.user_id
         WHERE u.forgotten_at IS NULL),
    own AS (
        SELECT l.user_id,
               coalesce(sum(l.delta) FILTER (WHERE l.kind = 'xp'), 0)::bigint AS xp,
               coalesce(sum(l.delta) FILTER (WHERE l.kind = 'coins'), 0)::bigint AS coins
          FROM xp.ledger l
         WHERE l.source NOT IN ('import', 'rank_reward')
         GROUP BY l.user_id),
    imported AS (
        SELECT l.account_id, l.imported_from,
               coalesce(sum(l.delta) FILTER (WHERE l.kind = 'xp'), 0)::bigint AS xp,
               coalesce(sum(l.delta) FILTER (WHERE l.kind = 'coins'), 0)::bigint AS coins
          FROM xp.ledger l
         WHERE l.source = 'import'
         GROUP BY l.account_id, l.imported_from)
    SELECT e.platform, e.external_id, e.xp, e.coins, e.display_name, e.source
      FROM (SELECT a.user_id, a.id, 0 AS own_last, a.platform, a.external_id, i.xp, i.coins, a.display_name,
                   i.imported_from AS source
              FROM imported i JOIN acc a ON a.id = i.account_id
             WHERE (i.xp, i.coins) <> (0, 0)
            UNION ALL
            SELECT a.user_id, a.id, 1, a.platform, a.external_id,
                   CASE WHEN a.oldest THEN coalesce(o.xp, 0) ELSE 0 END,
                   CASE WHEN a.oldest THEN coalesce(o.coins, 0) ELSE 0 END, a.display_name, xp._own_source()
              FROM acc a LEFT JOIN own o ON o.user_id = a.user_id) AS e
     ORDER BY e.user_id, e.own_last, e.id, e.source
$$;
COMMENT ON FUNCTION xp.export_accounts() IS
    'Admin: every account with what it holds from each import source and from this database, in the rows xp.import_xp reads back.';
