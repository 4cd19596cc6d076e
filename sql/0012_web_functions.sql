-- 0012_web_functions: why: what the website calls (the board with paging and
-- search, public profiles, the rank ladder, privacy, sign-in and linking by
-- signing in, API keys) and places counted in bounded time from board marks.
-- xp.profile and xp.leaderboard are restated here with those places and with
-- hidden people left out.

-- --- boards ----------------------------------------------------------------------------------------

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

CREATE OR REPLACE FUNCTION xp.rank_ladder()
RETURNS TABLE (id int, name text, tier text, stars int, min_xp bigint, color text, emoji text, reward_coins int)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.id, r.name, r.tier, r.stars, r.min_xp, r.color, r.emoji, r.reward_coins FROM xp.ranks r ORDER BY r.min_xp
$$;
COMMENT ON FUNCTION xp.rank_ladder() IS 'The ranks from the lowest up: name, tier, stars, XP needed, color, emoji, reward.';

-- --- people ----------------------------------------------------------------------------------------

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
        'language', u.language,
        'notify', u.notify);
END
$$;

CREATE OR REPLACE FUNCTION xp.public_profile(uid bigint, viewer bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u xp.users;
    v_today date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    SELECT * INTO u FROM xp.users x WHERE x.id = public_profile.uid;
    IF NOT FOUND OR u.forgotten_at IS NOT NULL OR (u.hidden AND u.id IS DISTINCT FROM public_profile.viewer) THEN
        RETURN NULL;
    END IF;
    RETURN xp._person_view(u) || jsonb_build_object(
        -- XP gained on each of the last 30 UTC days, oldest first
        'activity', (SELECT jsonb_agg(jsonb_build_object('day', d.day, 'xp', coalesce(g.xp, 0)) ORDER BY d.day)
                       FROM (SELECT (v_today - n) AS day FROM generate_series(0, 29) AS n) AS d
                       LEFT JOIN (SELECT (l.created_at AT TIME ZONE 'UTC')::date AS day, sum(l.delta) AS xp
                                    FROM xp.ledger l
                                   WHERE l.user_id = u.id AND l.kind = 'xp'
                                     AND l.created_at >= (v_today - 29)::timestamp AT TIME ZONE 'UTC'
                                   GROUP BY 1) AS g ON g.day = d.day));
END
$$;
COMMENT ON FUNCTION xp.public_profile(bigint, bigint) IS
    'The public part of a person''s profile with places and 30 days of activity; NULL when unknown, forgotten, or hidden from anyone but viewer.';

CREATE OR REPLACE FUNCTION xp.account_person(platform text, external_id text) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM xp._check_platform(account_person.platform);
    RETURN (SELECT a.user_id FROM xp.accounts a
             WHERE a.platform = account_person.platform AND a.external_id = account_person.external_id);
END
$$;
COMMENT ON FUNCTION xp.account_person(text, text) IS 'The person id an account belongs to now, or NULL for an account never seen.';

CREATE OR REPLACE FUNCTION xp.set_privacy(platform text, external_id text, hidden boolean) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
BEGIN
    IF set_privacy.hidden IS NULL THEN
        RAISE EXCEPTION 'hidden must be true or false' USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO a FROM xp._account_for(set_privacy.platform, set_privacy.external_id);
    UPDATE xp.users u SET hidden = set_privacy.hidden WHERE u.id = a.uid;
    RETURN set_privacy.hidden;
END
$$;
COMMENT ON FUNCTION xp.set_privacy(text, text, boolean) IS
    'Hide the person behind an account from every public board, profile and card (true), or show them again (false).';

-- Privacy is the person's choice, whichever account made it: a person who gains
-- an account from a hidden person (a merge) and an account that leaves a hidden
-- person (an unlink) stay hidden.
CREATE OR REPLACE FUNCTION xp._privacy_follows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE xp.users u SET hidden = true
     WHERE u.id = NEW.user_id AND NOT u.hidden
       AND EXISTS (SELECT 1 FROM xp.users o WHERE o.id = OLD.user_id AND o.hidden);
    RETURN NULL;
END
$$;
DROP TRIGGER IF EXISTS privacy_follows ON xp.accounts;
CREATE TRIGGER privacy_follows AFTER UPDATE OF user_id ON xp.accounts
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id) EXECUTE FUNCTION xp._privacy_follows();

-- --- sign-in and linking ---------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION xp.web_sign_in(platform text, external_id text, display_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
BEGIN
    IF web_sign_in.platform IS NULL OR web_sign_in.platform NOT IN ('discord', 'telegram') THEN
        RAISE EXCEPTION 'cannot sign in with %: expected discord or telegram',
            coalesce(quote_literal(left(web_sign_in.platform, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO a FROM xp._account_for(web_sign_in.platform, web_sign_in.external_id, web_sign_in.display_name);
    UPDATE xp.users u SET display_name = web_sign_in.display_name
     WHERE u.id = a.uid AND u.display_name IS NULL AND web_sign_in.display_name IS NOT NULL;
    RETURN a.uid;
END
$$;
COMMENT ON FUNCTION xp.web_sign_in(text, text, text) IS
    'Web: a member signed in with a verified Discord or Telegram account; returns their person id (first sight creates one).';

CREATE OR REPLACE FUNCTION xp.link_accounts(platform text, external_id text, other_platform text,
                                            other_external_id text, dry_run boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_uid bigint;
    v jsonb;
BEGIN
    PERFORM xp._known_account(link_accounts.platform, link_accounts.external_id);
    BEGIN
        -- exactly a link code issued by one account and redeemed by the other: the same
        -- merge, rewards and refusals (XP006) as /link
        v_uid := xp.redeem_link_code(link_accounts.other_platform, link_accounts.other_external_id,
                                     xp.create_link_code(link_accounts.platform, link_accounts.external_id));
        v := xp._person_view((SELECT u FROM xp.users u WHERE u.id = v_uid));
        IF coalesce(link_accounts.dry_run, false) THEN
            RAISE EXCEPTION 'dry run' USING ERRCODE = 'XP099';
        END IF;
    EXCEPTION WHEN SQLSTATE 'XP099' THEN
        NULL;  -- a preview: everything the link did is rolled back, what it made is returned
    END;
    RETURN v;
END
$$;
COMMENT ON FUNCTION xp.link_accounts(text, text, text, text, boolean) IS
    'Web: link two verified accounts as /link does (merging progress, XP006 refusals); dry_run previews the merged person and writes nothing.';

-- --- API keys and settings -------------------------------------------------------------------------

CREATE OR REPLACE FUNCTION xp.create_api_key(name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_key text := 'xpk_' || encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'hex');
BEGIN
    PERFORM xp._check_text(create_api_key.name, 'name', 100);
    INSERT INTO xp.api_keys (name, key_hash) VALUES (create_api_key.name, sha256(convert_to(v_key, 'UTF8')))
    ON CONFLICT ON CONSTRAINT api_keys_name_key DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'an API key named % exists already', quote_literal(create_api_key.name)
            USING ERRCODE = 'XP002';
    END IF;
    RETURN v_key;
END
$$;
COMMENT ON FUNCTION xp.create_api_key(text) IS 'Admin: make an API key for the web''s JSON API; the key is returned once and kept only as a hash.';

CREATE OR REPLACE FUNCTION xp.revoke_api_key(name text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH gone AS (UPDATE xp.api_keys k SET revoked_at = now()
                   WHERE k.name = revoke_api_key.name AND k.revoked_at IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM gone)
$$;
COMMENT ON FUNCTION xp.revoke_api_key(text) IS 'Admin: revoke the API key of that name; false when there is none in use.';

CREATE OR REPLACE FUNCTION xp.api_key_name(key text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT k.name FROM xp.api_keys k
     WHERE k.key_hash = sha256(convert_to(coalesce(api_key_name.key, ''), 'UTF8')) AND k.revoked_at IS NULL
$$;
COMMENT ON FUNCTION xp.api_key_name(text) IS 'Web: the name of a valid API key, or NULL for an unknown or revoked one.';

CREATE OR REPLACE FUNCTION xp.web_settings() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_object_agg(s.key, s.value), '{}') FROM xp.settings s WHERE s.key LIKE 'web.%'
$$;
COMMENT ON FUNCTION xp.web_settings() IS 'Web: the web.* settings (web.visibility) as one jsonb object.';

-- --- grants ----------------------------------------------------------------------------------------

REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA xp FROM PUBLIC;

GRANT EXECUTE ON FUNCTION xp.leaderboard(int, text, int, text), xp.profile(text, text),
                          xp.set_privacy(text, text, boolean)
    TO xp_bot, xp_web, xp_admin;
GRANT EXECUTE ON FUNCTION xp.public_profile(bigint, bigint), xp.account_person(text, text), xp.board_size(text),
                          xp.rank_ladder(), xp.web_settings(), xp.web_sign_in(text, text, text),
                          xp.link_accounts(text, text, text, text, boolean), xp.api_key_name(text),
                          xp.refresh_places(boolean)
    TO xp_web, xp_admin;
GRANT EXECUTE ON FUNCTION xp.create_api_key(text), xp.revoke_api_key(text) TO xp_admin;
GRANT SELECT ON xp.board_marks, xp.board_marks_taken, xp.api_keys TO xp_admin;
