-- 10_reads: what bots show members and let them choose: the profile with rank,
-- progress and places, the boards (index scans over per-period counters), and
-- the notice and language preferences.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- The language to speak to a person in: the one they chose, else the one their
-- app speaks when it is offered, else the first offered one.
CREATE OR REPLACE FUNCTION xp._speaks(p_chosen text, p_client text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_chosen IS NOT NULL THEN p_chosen
                ELSE (SELECT CASE WHEN o.offered ? p_client THEN p_client ELSE o.offered ->> 0 END
                        FROM (SELECT xp._setting('notices.languages') AS offered) o)
           END
$$;

CREATE OR REPLACE FUNCTION xp.profile(platform text, external_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    p record;
    u xp.users;
    v_week bigint;
    v_month bigint;
    v_season bigint;
BEGIN
    SELECT * INTO a FROM xp._known_account(profile.platform, profile.external_id);
    SELECT * INTO p FROM xp._periods();
    SELECT * INTO u FROM xp.users x WHERE x.id = a.uid;
    v_week := CASE WHEN u.week_of = p.week THEN u.week_xp ELSE 0 END;
    v_month := CASE WHEN u.month_of = p.month THEN u.month_xp ELSE 0 END;
    v_season := CASE WHEN p.season IS NOT NULL AND u.season_id = p.season THEN u.season_xp END;
    RETURN jsonb_build_object(
        'user_id', u.id,
        'display_name', u.display_name,
        'xp', u.xp,
        'coins', u.coins,
        'rank', (SELECT jsonb_build_object('id', r.id, 'name', r.name, 'tier', r.tier, 'stars', r.stars,
                                           'color', r.color, 'emoji', r.emoji, 'min_xp', r.min_xp)
                   FROM xp.ranks r WHERE r.id = u.rank_id),
        'next_rank', (SELECT jsonb_build_object('id', n.id, 'name', n.name, 'min_xp', n.min_xp,
                                                'xp_remaining', n.min_xp - u.xp)
                        FROM xp.ranks n WHERE n.min_xp > u.xp ORDER BY n.min_xp LIMIT 1),
        'accounts', (SELECT jsonb_agg(jsonb_build_object('platform', c.platform, 'external_id', c.external_id,
                                                         'display_name', c.display_name) ORDER BY c.platform)
                       FROM xp.accounts c WHERE c.user_id = u.id),
        'streak', u.streak,
        'last_daily', u.last_daily,
        'stats', jsonb_build_object('messages', u.messages, 'voice_seconds', u.voice_seconds,
                                    'games_won', u.games_won),
        'language', xp._speaks(u.language, (SELECT c.client_language FROM xp.accounts c WHERE c.id = a.acc)),
        'notify', u.notify,
        'achievements', coalesce((SELECT jsonb_agg(jsonb_build_object('code', d.code, 'name', d.name,
                                                                      'emoji', d.emoji,
                                                                      'translations', d.translations,
                                                                      'unlocked_at', x.unlocked_at)
                                                   ORDER BY x.unlocked_at, d.code)
                                    FROM xp.user_achievements x JOIN xp.achievements d ON d.code = x.code
                                   WHERE x.user_id = u.id), '[]'),
        'week_xp', v_week,
        'month_xp', v_month,
        'season_xp', v_season,
        'season', (SELECT jsonb_build_object('id', s.id, 'name', s.name, 'starts_on', s.starts_on,
                                             'ends_on', s.ends_on)
                     FROM xp.seasons s WHERE s.id = p.season),
        -- places as on xp.leaderboard (NULL: not on that board); each count is two index range
        -- scans (more XP; as much XP and older), so it costs the people ahead, not the whole board
        'place', CASE WHEN u.xp > 0 AND u.forgotten_at IS NULL THEN
                     1 + (SELECT count(*) FROM xp.users o WHERE o.xp > u.xp AND o.forgotten_at IS NULL)
                       + (SELECT count(*) FROM xp.users o
                           WHERE o.xp = u.xp AND o.id < u.id AND o.forgotten_at IS NULL) END,
        'places', jsonb_build_object(
            'week', CASE WHEN v_week > 0 AND u.forgotten_at IS NULL THEN
                        1 + (SELECT count(*) FROM xp.users o WHERE o.week_of = p.week AND o.week_xp > v_week
                                                               AND o.forgotten_at IS NULL)
                          + (SELECT count(*) FROM xp.users o WHERE o.week_of = p.week AND o.week_xp = v_week
                                                               AND o.id < u.id AND o.forgotten_at IS NULL) END,
            'month', CASE WHEN v_month > 0 AND u.forgotten_at IS NULL THEN
                         1 + (SELECT count(*) FROM xp.users o WHERE o.month_of = p.month AND o.month_xp > v_month
                                                                AND o.forgotten_at IS NULL)
                           + (SELECT count(*) FROM xp.users o WHERE o.month_of = p.month AND o.month_xp = v_month
                                                                AND o.id < u.id AND o.forgotten_at IS NULL) END,
            'season', CASE WHEN v_season > 0 AND u.forgotten_at IS NULL THEN
                          1 + (SELECT count(*) FROM xp.users o WHERE o.season_id = p.season
                                                                 AND o.season_xp > v_season AND o.forgotten_at IS NULL)
                            + (SELECT count(*) FROM xp.users o WHERE o.season_id = p.season
                                                                 AND o.season_xp = v_season AND o.id < u.id
                                                                 AND o.forgotten_at IS NULL) END));
END
$$;
COMMENT ON FUNCTION xp.profile(text, text) IS
    'Everything a bot shows about the person behind an account, as jsonb; XP001 for an account never seen.';

CREATE OR REPLACE FUNCTION xp.leaderboard(lim int DEFAULT 10, period text DEFAULT 'all')
RETURNS TABLE (place bigint, user_id bigint, display_name text, xp bigint, rank_id int)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p record;
BEGIN
    IF leaderboard.lim IS NULL OR leaderboard.lim NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'lim % is invalid: it must be between 1 and 100', coalesce(leaderboard.lim::text, 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO p FROM xp._periods();
    CASE leaderboard.period
    WHEN 'all' THEN
        RETURN QUERY
            SELECT row_number() OVER (ORDER BY u.xp DESC, u.id), u.id, u.display_name, u.xp, u.rank_id
              FROM xp.users u
             WHERE u.xp > 0 AND u.forgotten_at IS NULL
             ORDER BY u.xp DESC, u.id
             LIMIT leaderboard.lim;
    WHEN 'week' THEN
        RETURN QUERY
            SELECT row_number() OVER (ORDER BY u.week_xp DESC, u.id), u.id, u.display_name, u.week_xp, u.rank_id
              FROM xp.users u
             WHERE u.week_of = p.week AND u.week_xp > 0 AND u.forgotten_at IS NULL
             ORDER BY u.week_xp DESC, u.id
             LIMIT leaderboard.lim;
    WHEN 'month' THEN
        RETURN QUERY
            SELECT row_number() OVER (ORDER BY u.month_xp DESC, u.id), u.id, u.display_name, u.month_xp, u.rank_id
              FROM xp.users u
             WHERE u.month_of = p.month AND u.month_xp > 0 AND u.forgotten_at IS NULL
             ORDER BY u.month_xp DESC, u.id
             LIMIT leaderboard.lim;
    WHEN 'season' THEN
        IF p.season IS NULL THEN
            RAISE EXCEPTION 'no season is running now: xp.seasons has none containing %',
                (now() AT TIME ZONE 'UTC')::date USING ERRCODE = 'XP002';
        END IF;
        RETURN QUERY
            SELECT row_number() OVER (ORDER BY u.season_xp DESC, u.id), u.id, u.display_name, u.season_xp,
                   u.rank_id
              FROM xp.users u
             WHERE u.season_id = p.season AND u.season_xp > 0 AND u.forgotten_at IS NULL
             ORDER BY u.season_xp DESC, u.id
             LIMIT leaderboard.lim;
    ELSE
        RAISE EXCEPTION 'unknown period %: expected all, season, month or week',
            coalesce(quote_literal(left(leaderboard.period, 40)), 'NULL') USING ERRCODE = 'XP002';
    END CASE;
END
$$;
COMMENT ON FUNCTION xp.leaderboard(int, text) IS
    'Top people by XP: all time, or XP gained this season, UTC month or UTC week (from Monday); ties go to the older person.';

CREATE OR REPLACE FUNCTION xp.set_notify(platform text, external_id text, enabled boolean) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
BEGIN
    IF set_notify.enabled IS NULL THEN
        RAISE EXCEPTION 'enabled must be true or false' USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO a FROM xp._account_for(set_notify.platform, set_notify.external_id);
    UPDATE xp.users u SET notify = set_notify.enabled WHERE u.id = a.uid;
    RETURN set_notify.enabled;
END
$$;
COMMENT ON FUNCTION xp.set_notify(text, text, boolean) IS
    'Bots: turn the person''s Telegram notices (rank-ups, achievements) on or off.';

CREATE OR REPLACE FUNCTION xp.set_language(platform text, external_id text, language text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    v_lang text := lower(set_language.language);
BEGIN
    IF v_lang IS NULL OR NOT (xp._setting('notices.languages') ? v_lang) THEN
        RAISE EXCEPTION 'language % is not offered: expected one of %',
            coalesce(quote_literal(left(set_language.language, 40)), 'NULL'),
            (SELECT string_agg(l, ', ') FROM jsonb_array_elements_text(xp._setting('notices.languages')) AS l)
            USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO a FROM xp._account_for(set_language.platform, set_language.external_id);
    UPDATE xp.users u SET language = v_lang WHERE u.id = a.uid;
    RETURN v_lang;
END
$$;
COMMENT ON FUNCTION xp.set_language(text, text, text) IS
    'Bots: the language of the person''s notices and bot replies (one of the notices.languages setting).';

-- What a bot needs on every update, without reading the whole profile: one
-- index lookup, and no person is created for an account never seen.
CREATE OR REPLACE FUNCTION xp.language(platform text, external_id text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_lang text;
BEGIN
    SELECT xp._speaks(u.language, a.client_language) INTO v_lang
      FROM xp.accounts a
      JOIN xp.users u ON u.id = a.user_id
     WHERE a.platform = language.platform AND a.external_id = language.external_id;
    IF NOT FOUND THEN
        PERFORM xp._check_platform(language.platform);  -- an unknown platform is an error, not "never seen"
    END IF;
    RETURN v_lang;
END
$$;
COMMENT ON FUNCTION xp.language(text, text) IS
    'Bots: the language to speak to the person behind an account in (chosen, else their app''s, else the default); NULL for an account never seen.';

-- What the app of an account says it speaks (Telegram's language_code), kept
-- until the person chooses a language. The bot calls it when the hint is new
-- to it, not on every update; an unchanged hint writes nothing.
CREATE OR REPLACE FUNCTION xp.set_client_language(platform text, external_id text, language text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    v_hint text := lower(split_part(replace(set_client_language.language, '_', '-'), '-', 1));
BEGIN
    IF v_hint IS NULL OR v_hint !~ '^[a-z]{2,8}$' THEN
        RAISE EXCEPTION 'language % is not a language tag (e.g. en, ru, pt-br)',
            coalesce(quote_literal(left(set_client_language.language, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO a FROM xp._account_for(set_client_language.platform, set_client_language.external_id);
    UPDATE xp.accounts c SET client_language = v_hint
     WHERE c.id = a.acc AND c.client_language IS DISTINCT FROM v_hint;
    RETURN xp._speaks((SELECT u.language FROM xp.users u WHERE u.id = a.uid), v_hint);
END
$$;
COMMENT ON FUNCTION xp.set_client_language(text, text, text) IS
    'Bots: the language an account''s app reports (Telegram''s language_code), spoken until the person chooses one; returns the language to speak.';
