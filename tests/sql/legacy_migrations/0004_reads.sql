-- 0004_reads: why: what bots show members — a profile with rank, progress and
-- place, and leaderboards (all time from the person rows; week and month as
-- windows over the ledger, so lifetime progress is never reset).

CREATE FUNCTION xp.profile(platform text, external_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    v jsonb;
BEGIN
    SELECT * INTO a FROM xp._known_account(profile.platform, profile.external_id);
    SELECT jsonb_build_object(
               'user_id', u.id,
               'display_name', u.display_name,
               'xp', u.xp,
               'coins', u.coins,
               'rank', jsonb_build_object('id', r.id, 'name', r.name, 'tier', r.tier, 'stars', r.stars,
                                          'color', r.color, 'emoji', r.emoji, 'min_xp', r.min_xp),
               'next_rank', (SELECT jsonb_build_object('id', n.id, 'name', n.name, 'min_xp', n.min_xp,
                                                       'xp_remaining', n.min_xp - u.xp)
                               FROM xp.ranks n WHERE n.min_xp > u.xp ORDER BY n.min_xp LIMIT 1),
               'accounts', (SELECT jsonb_agg(jsonb_build_object('platform', c.platform,
                                                                'external_id', c.external_id,
                                                                'display_name', c.display_name)
                                             ORDER BY c.platform)
                              FROM xp.accounts c WHERE c.user_id = u.id),
               'streak', u.streak,
               'last_daily', u.last_daily,
               'stats', jsonb_build_object('messages', u.messages, 'voice_seconds', u.voice_seconds),
               'language', u.language,
               'notify', u.notify,
               'place', 1 + (SELECT count(*) FROM xp.users o WHERE o.xp > u.xp)
                          + (SELECT count(*) FROM xp.users o WHERE o.xp = u.xp AND o.id < u.id))
      INTO v
      FROM xp.users u
      JOIN xp.ranks r ON r.id = u.rank_id
     WHERE u.id = a.uid;
    RETURN v;
END
$$;
COMMENT ON FUNCTION xp.profile(text, text) IS
    'Everything a bot shows about the person behind an account, as jsonb; XP001 for an account never seen.';

CREATE FUNCTION xp.leaderboard(lim int DEFAULT 10, period text DEFAULT 'all')
RETURNS TABLE (place bigint, user_id bigint, display_name text, xp bigint, rank_id int)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_since timestamptz;
BEGIN
    IF leaderboard.lim IS NULL OR leaderboard.lim NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'lim % is invalid: it must be between 1 and 100', coalesce(leaderboard.lim::text, 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    IF leaderboard.period = 'all' THEN
        RETURN QUERY
            SELECT row_number() OVER (ORDER BY u.xp DESC, u.id), u.id, u.display_name, u.xp, u.rank_id
              FROM xp.users u
             WHERE u.xp > 0 AND u.forgotten_at IS NULL
             ORDER BY u.xp DESC, u.id
             LIMIT leaderboard.lim;
        RETURN;
    END IF;
    v_since := CASE leaderboard.period
                   WHEN 'week' THEN date_trunc('week', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
                   WHEN 'month' THEN date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'
               END;
    IF v_since IS NULL THEN
        RAISE EXCEPTION 'unknown period %: expected all, month or week',
            coalesce(quote_literal(left(leaderboard.period, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
    RETURN QUERY
        WITH gained AS (
            SELECT l.user_id AS uid, sum(l.delta)::bigint AS xp
              FROM xp.ledger l
             WHERE l.kind = 'xp' AND l.created_at >= v_since
             GROUP BY l.user_id
            HAVING sum(l.delta) > 0)
        SELECT row_number() OVER (ORDER BY g.xp DESC, g.uid), g.uid, u.display_name, g.xp, u.rank_id
          FROM gained g
          JOIN xp.users u ON u.id = g.uid
         WHERE u.forgotten_at IS NULL
         ORDER BY g.xp DESC, g.uid
         LIMIT leaderboard.lim;
END
$$;
COMMENT ON FUNCTION xp.leaderboard(int, text) IS
    'Top people by XP: all time, or XP gained this UTC week (from Monday) or month; ties go to the older person.';

-- New functions are EXECUTE-able by PUBLIC (a per-schema default cannot revoke
-- that); every migration that creates functions ends with this, then grants.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA xp FROM PUBLIC;

GRANT EXECUTE ON FUNCTION xp.profile(text, text), xp.leaderboard(int, text) TO xp_bot, xp_admin;
