-- 10_reads: what bots and the web show members and let them choose: the boards
-- (index scans over per-period counters, paged and searched), places counted
-- from board marks in bounded time, the profile with rank, progress and places,
-- and the notice and language preferences.
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

-- What a board ranks and who is on it: the score column, the condition a person
-- on it meets (the predicate of its partial index) and the key of its period.
-- NULL when the board has no period running (a season board without a season).
CREATE OR REPLACE FUNCTION xp._board(p_board text, OUT score text, OUT filter text, OUT period_of text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p record;
BEGIN
    SELECT * INTO p FROM xp._periods();
    score := CASE p_board WHEN 'all' THEN 'xp' WHEN 'week' THEN 'week_xp' WHEN 'month' THEN 'month_xp'
                          WHEN 'season' THEN 'season_xp' END;
    IF score IS NULL THEN
        RAISE EXCEPTION 'unknown period %: expected all, season, month or week',
            coalesce(quote_literal(left(p_board, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
    period_of := CASE p_board WHEN 'all' THEN 'all' WHEN 'week' THEN p.week::text WHEN 'month' THEN p.month::text
                              ELSE p.season::text END;
    filter := format('o.%I > 0 AND o.forgotten_at IS NULL AND NOT o.hidden', score)
              || CASE p_board WHEN 'all' THEN ''
                              WHEN 'week' THEN format(' AND o.week_of = %L::date', p.week)
                              WHEN 'month' THEN format(' AND o.month_of = %L::date', p.month)
                              ELSE format(' AND o.season_id = %L::int', p.season) END;
END
$$;

-- The place on a board of the person `p_uid` whose score there is `p_score`
-- (NULL: not on it). From the nearest board mark ahead of them, only the
-- entries between that mark and them are counted (at most about
-- places.stride plus what moved since the marks were taken); without a mark
-- ahead, everyone ahead is counted.
CREATE OR REPLACE FUNCTION xp._place(p_board text, p_score bigint, p_uid bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
    b record;
    m record;
    v bigint;
BEGIN
    IF p_score IS NULL OR p_score <= 0 THEN
        RETURN NULL;
    END IF;
    SELECT * INTO b FROM xp._board(p_board);
    IF b.period_of IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT k.place, k.xp, k.user_id INTO m
      FROM xp.board_marks k
     WHERE k.board = p_board AND k.period_of = b.period_of
       AND k.xp >= p_score AND (k.xp > p_score OR k.user_id < p_uid)
     ORDER BY k.xp, k.user_id DESC
     LIMIT 1;
    IF NOT FOUND THEN
        EXECUTE format('SELECT 1 + (SELECT count(*) FROM xp.users o WHERE %1$s AND o.%2$I > $1)'
                       '       + (SELECT count(*) FROM xp.users o WHERE %1$s AND o.%2$I = $1 AND o.id < $2)',
                       b.filter, b.score)
           INTO v USING p_score, p_uid;
        RETURN v;
    END IF;
    -- the entries from the mark (inclusive) up to the person (exclusive), in board order
    IF m.xp = p_score THEN
        EXECUTE format('SELECT count(*) FROM xp.users o WHERE %1$s AND o.%2$I = $1 AND o.id >= $2 AND o.id < $3',
                       b.filter, b.score)
           INTO v USING p_score, m.user_id, p_uid;
    ELSE
        EXECUTE format('SELECT (SELECT count(*) FROM xp.users o WHERE %1$s AND o.%2$I = $2 AND o.id >= $3)'
                       '     + (SELECT count(*) FROM xp.users o WHERE %1$s AND o.%2$I > $1 AND o.%2$I < $2)'
                       '     + (SELECT count(*) FROM xp.users o WHERE %1$s AND o.%2$I = $1 AND o.id < $4)',
                       b.filter, b.score)
           INTO v USING p_score, m.xp, m.user_id, p_uid;
    END IF;
    RETURN m.place + v;
END
$$;

CREATE OR REPLACE FUNCTION xp.refresh_places(force boolean DEFAULT false) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_board text;
    b record;
    v_stride int := greatest(coalesce(xp._setting('places.stride')::int, 1000), 10);
BEGIN
    -- one taker at a time; the others keep the marks they see
    IF NOT pg_try_advisory_xact_lock(hashtext('xp.board_marks')) THEN
        RETURN false;
    END IF;
    IF NOT coalesce(refresh_places.force, false)
       AND (SELECT t.taken_at FROM xp.board_marks_taken t)
           > now() - make_interval(secs => coalesce(xp._setting('places.refresh_seconds')::int, 60)) THEN
        RETURN false;
    END IF;
    DELETE FROM xp.board_marks;
    FOREACH v_board IN ARRAY ARRAY['all', 'week', 'month', 'season'] LOOP
        SELECT * INTO b FROM xp._board(v_board);
        CONTINUE WHEN b.period_of IS NULL;
        EXECUTE format('INSERT INTO xp.board_marks (board, period_of, place, xp, user_id) '
                       'SELECT $1, $2, s.n, s.score, s.id FROM ('
                       '  SELECT o.%1$I AS score, o.id, row_number() OVER (ORDER BY o.%1$I DESC, o.id) AS n'
                       '    FROM xp.users o WHERE %2$s) AS s '
                       ' WHERE s.n %% $3 = 0', b.score, b.filter)
            USING v_board, b.period_of, v_stride;
    END LOOP;
    INSERT INTO xp.board_marks_taken (taken_at) VALUES (now())
    ON CONFLICT (only_row) DO UPDATE SET taken_at = EXCLUDED.taken_at;
    RETURN true;
END
$$;
COMMENT ON FUNCTION xp.refresh_places(boolean) IS
    'Retake the board marks places are counted from, unless they are younger than places.refresh_seconds (or force); false when skipped.';

CREATE OR REPLACE FUNCTION xp.leaderboard(lim int DEFAULT 10, period text DEFAULT 'all', skip int DEFAULT 0,
                                          name_prefix text DEFAULT NULL)
RETURNS TABLE (place bigint, user_id bigint, display_name text, xp bigint, rank_id int)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b record;
    m record;
    v_like text;
    v_found bigint;
    v_skip bigint;
    v_id bigint;
    v_score bigint;
    v_hash text := current_setting('enable_hashjoin');
    v_merge text := current_setting('enable_mergejoin');
BEGIN
    IF leaderboard.lim IS NULL OR leaderboard.lim NOT BETWEEN 1 AND 100 THEN
        RAISE EXCEPTION 'lim % is invalid: it must be between 1 and 100', coalesce(leaderboard.lim::text, 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    IF leaderboard.skip IS NULL OR leaderboard.skip NOT BETWEEN 0 AND 100000000 THEN
        RAISE EXCEPTION 'skip % is invalid: it must be between 0 and 100000000',
            coalesce(leaderboard.skip::text, 'NULL') USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO b FROM xp._board(leaderboard.period);
    IF b.period_of IS NULL THEN
        RAISE EXCEPTION 'no season is running now: xp.seasons has none containing %',
            (now() AT TIME ZONE 'UTC')::date USING ERRCODE = 'XP002';
    END IF;
    IF leaderboard.name_prefix IS NOT NULL THEN
        PERFORM xp._check_text(leaderboard.name_prefix, 'name_prefix', 100);
        v_like := replace(replace(replace(lower(leaderboard.name_prefix), '\', '\\'), '%', '\%'), '_', '\_') || '%';
        -- few matches: read them through the name index, then sort; many: walk the board and keep
        -- the matches, which come often enough to fill a page soon (the planner cannot tell which)
        EXECUTE 'SELECT count(*) FROM (SELECT 1 FROM xp.accounts a'
                '  WHERE lower(a.display_name) LIKE $1 AND a.display_name IS NOT NULL LIMIT 5001) AS s'
           INTO v_found USING v_like;
        IF v_found > 5000 THEN
            -- walk the board in order (the LIMIT keeps the planner from turning it around) and test each
            -- entry's names; a hash or merge join would read every matching account first
            PERFORM set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true);
        END IF;
        RETURN QUERY EXECUTE format(
            CASE WHEN v_found <= 5000 THEN
                'WITH found AS MATERIALIZED (SELECT DISTINCT a.user_id FROM xp.accounts a'
                '                             WHERE lower(a.display_name) LIKE $4 AND a.display_name IS NOT NULL)'
                'SELECT xp._place($3, o.%1$I, o.id), o.id, o.display_name, o.%1$I, o.rank_id'
                '  FROM found f JOIN xp.users o ON o.id = f.user_id'
                ' WHERE %2$s ORDER BY o.%1$I DESC, o.id LIMIT $1 OFFSET $2'
            ELSE
                'SELECT xp._place($3, o.%1$I, o.id), o.id, o.display_name, o.%1$I, o.rank_id'
                '  FROM (SELECT * FROM xp.users o WHERE %2$s ORDER BY o.%1$I DESC, o.id LIMIT 1000000000) AS o'
                ' WHERE EXISTS (SELECT 1 FROM xp.accounts a WHERE a.user_id = o.id'
                '                  AND lower(a.display_name) LIKE $4 AND a.display_name IS NOT NULL)'
                ' ORDER BY o.%1$I DESC, o.id LIMIT $1 OFFSET $2'
            END, b.score, b.filter)
            USING leaderboard.lim, leaderboard.skip, leaderboard.period, v_like;
        IF v_found > 5000 THEN
            PERFORM set_config('enable_hashjoin', v_hash, true), set_config('enable_mergejoin', v_merge, true);
        END IF;
        RETURN;
    END IF;
    -- a deep page starts from the board mark just before it rather than walking every entry ahead;
    -- places count from that mark's
    SELECT k.place, k.xp, k.user_id INTO m
      FROM xp.board_marks k
     WHERE k.board = leaderboard.period AND k.period_of = b.period_of AND k.place <= leaderboard.skip + 1
     ORDER BY k.place DESC
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN QUERY EXECUTE format(
            'SELECT row_number() OVER (ORDER BY o.%1$I DESC, o.id), o.id, o.display_name, o.%1$I, o.rank_id'
            '  FROM xp.users o WHERE %2$s ORDER BY o.%1$I DESC, o.id LIMIT $1 OFFSET $2', b.score, b.filter)
            USING leaderboard.lim, leaderboard.skip;
        RETURN;
    END IF;
    -- the key of the page's first entry, `v_skip` entries on from the mark (index-only scans): first in
    -- the mark's tie group, then below it
    v_skip := leaderboard.skip + 1 - m.place;
    EXECUTE format('SELECT o.id FROM xp.users o WHERE %2$s AND o.%1$I = $1 AND o.id >= $2 ORDER BY o.id OFFSET $3 LIMIT 1',
                   b.score, b.filter)
       INTO v_id USING m.xp, m.user_id, v_skip;
    v_score := m.xp;
    IF v_id IS NULL THEN
        EXECUTE format('SELECT count(*) FROM xp.users o WHERE %2$s AND o.%1$I = $1 AND o.id >= $2', b.score, b.filter)
           INTO v_found USING m.xp, m.user_id;
        EXECUTE format('SELECT o.%1$I, o.id FROM xp.users o WHERE %2$s AND o.%1$I < $1 ORDER BY o.%1$I DESC, o.id '
                       'OFFSET $2 LIMIT 1', b.score, b.filter)
           INTO v_score, v_id USING m.xp, v_skip - v_found;
        IF v_id IS NULL THEN
            RETURN;  -- past the end
        END IF;
    END IF;
    -- from that key on: the rest of its tie group, then what comes below, each bounded by the page
    RETURN QUERY EXECUTE format(
        'SELECT $3 + row_number() OVER (ORDER BY p.score DESC, p.id), p.id, p.display_name, p.score, p.rank_id'
        '  FROM ((SELECT o.%1$I AS score, o.id, o.display_name, o.rank_id FROM xp.users o'
        '          WHERE %2$s AND o.%1$I = $1 AND o.id >= $2 ORDER BY o.id LIMIT $4)'
        '        UNION ALL'
        '        (SELECT o.%1$I, o.id, o.display_name, o.rank_id FROM xp.users o'
        '          WHERE %2$s AND o.%1$I < $1 ORDER BY o.%1$I DESC, o.id LIMIT $4)) AS p'
        ' ORDER BY p.score DESC, p.id LIMIT $4', b.score, b.filter)
        USING v_score, v_id, leaderboard.skip::bigint, leaderboard.lim;
END
$$;
COMMENT ON FUNCTION xp.leaderboard(int, text, int, text) IS
    'A page of a board (all time, or XP gained this season, UTC month or week), skipping `skip` places, optionally only names starting with name_prefix; hidden people are left out, ties go to the older person.';

CREATE OR REPLACE FUNCTION xp.board_size(period text DEFAULT 'all') RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    b record;
    v bigint;
BEGIN
    SELECT * INTO b FROM xp._board(board_size.period);
    IF b.period_of IS NULL THEN
        RETURN 0;
    END IF;
    EXECUTE format('SELECT count(*) FROM xp.users o WHERE %s', b.filter) INTO v;
    RETURN v;
END
$$;
COMMENT ON FUNCTION xp.board_size(text) IS 'How many people are on a board now (0 for the season board without a season).';

-- What anyone may see of a person (never an external id, language or notice settings).
CREATE OR REPLACE FUNCTION xp._person_view(u xp.users) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    p record;
    v_week bigint;
    v_month bigint;
    v_season bigint;
    v_listed boolean := u.forgotten_at IS NULL AND NOT u.hidden;
    v_place bigint;
BEGIN
    SELECT * INTO p FROM xp._periods();
    v_week := CASE WHEN u.week_of = p.week THEN u.week_xp ELSE 0 END;
    v_month := CASE WHEN u.month_of = p.month THEN u.month_xp ELSE 0 END;
    v_season := CASE WHEN p.season IS NOT NULL AND u.season_id = p.season THEN u.season_xp END;
    v_place := CASE WHEN v_listed THEN xp._place('all', u.xp, u.id) END;
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
        'platforms', coalesce((SELECT jsonb_agg(c.platform ORDER BY c.platform) FROM xp.accounts c
                                WHERE c.user_id = u.id), '[]'),
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
        'hidden', u.hidden,
        -- places as on xp.leaderboard (NULL: not on that board)
        'place', v_place,
        'places', jsonb_build_object(
            'all', v_place,
            'season', CASE WHEN v_listed THEN xp._place('season', v_season, u.id) END,
            'month', CASE WHEN v_listed THEN xp._place('month', v_month, u.id) END,
            'week', CASE WHEN v_listed THEN xp._place('week', v_week, u.id) END));
END
$$;

CREATE OR REPLACE FUNCTION xp.profile(platform text, external_id text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    u xp.users;
BEGIN
    SELECT * INTO a FROM xp._known_account(profile.platform, profile.external_id);
    SELECT * INTO u FROM xp.users x WHERE x.id = a.uid;
    RETURN xp._person_view(u) || jsonb_build_object(
        'accounts', (SELECT jsonb_agg(jsonb_build_object('platform', c.platform, 'external_id', c.external_id,
                                                         'display_name', c.display_name) ORDER BY c.platform)
                       FROM xp.accounts c WHERE c.user_id = u.id),
        'streak', u.streak,
        'last_daily', u.last_daily,
        'stats', jsonb_build_object('messages', u.messages, 'voice_seconds', u.voice_seconds,
                                    'games_won', u.games_won),
        'language', xp._speaks(u.language, (SELECT c.client_language FROM xp.accounts c WHERE c.id = a.acc)),
        'notify', u.notify);
END
$$;
COMMENT ON FUNCTION xp.profile(text, text) IS
    'Everything a bot shows about the person behind an account, as jsonb; XP001 for an account never seen.';

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
