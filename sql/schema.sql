CREATE SCHEMA xp;

COMMENT ON SCHEMA xp IS 'xpsync: one person, one progression, two platforms. Call the functions; tables are not an interface.';

CREATE TYPE xp.award_result AS (
	user_id bigint,
	xp bigint,
	coins bigint,
	old_rank integer,
	new_rank integer,
	rank_changed boolean,
	reward_coins integer,
	applied boolean
);

CREATE TYPE xp.daily_result AS (
	user_id bigint,
	xp bigint,
	coins bigint,
	old_rank integer,
	new_rank integer,
	rank_changed boolean,
	reward_coins integer,
	applied boolean,
	streak integer,
	xp_awarded integer,
	coins_awarded integer,
	next_claim_at timestamp with time zone
);

CREATE FUNCTION xp._account_for(p_platform text, p_external_id text, p_display_name text DEFAULT NULL::text, OUT acc bigint, OUT uid bigint) RETURNS record
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_name text;
BEGIN
    SELECT a.id, a.user_id, a.display_name INTO acc, uid, v_name
      FROM xp.accounts a
     WHERE a.platform = p_platform AND a.external_id = p_external_id
       FOR KEY SHARE;
    IF FOUND THEN
        IF p_display_name IS NOT NULL AND p_display_name IS DISTINCT FROM v_name THEN
            PERFORM xp._check_text(p_display_name, 'display_name');
            UPDATE xp.accounts SET display_name = p_display_name WHERE id = acc;
        END IF;
        RETURN;
    END IF;
    PERFORM xp._check_platform(p_platform);
    PERFORM xp._check_text(p_external_id, 'external_id');
    IF p_display_name IS NOT NULL THEN
        PERFORM xp._check_text(p_display_name, 'display_name');
    END IF;
    uid := xp._new_person(p_display_name);
    INSERT INTO xp.accounts (user_id, platform, external_id, display_name)
    VALUES (uid, p_platform, p_external_id, p_display_name)
    ON CONFLICT (platform, external_id) DO NOTHING
    RETURNING id INTO acc;
    IF acc IS NULL THEN
        -- a concurrent first sight of the same account won: use its person
        DELETE FROM xp.users WHERE id = uid;
        SELECT a.id, a.user_id INTO acc, uid
          FROM xp.accounts a
         WHERE a.platform = p_platform AND a.external_id = p_external_id;
    END IF;
END
$$;

CREATE FUNCTION xp._achieve(p_uid bigint, p_criteria text[] DEFAULT NULL::text[]) RETURNS integer
    LANGUAGE plpgsql
    SET plan_cache_mode TO 'force_custom_plan'
    AS $$
DECLARE
    d record;
    n int := 0;
BEGIN
    FOR d IN
        SELECT a.* FROM xp._progress(ARRAY[p_uid]) p
          JOIN xp.achievements a ON a.criterion = p.criterion AND a.threshold <= p.value
         WHERE (p_criteria IS NULL OR a.criterion = ANY (p_criteria))
           AND NOT EXISTS (SELECT 1 FROM xp.user_achievements x WHERE x.user_id = p_uid AND x.code = a.code)
         ORDER BY a.criterion, a.threshold, a.code
    LOOP
        INSERT INTO xp.user_achievements (user_id, code) VALUES (p_uid, d.code) ON CONFLICT DO NOTHING;
        CONTINUE WHEN NOT FOUND;
        n := n + 1;
        PERFORM xp._emit(p_uid, 'achievement_unlocked',
                         jsonb_build_object('code', d.code, 'name', d.name, 'emoji', d.emoji,
                                            'translations', d.translations,
                                            'reward_xp', d.reward_xp, 'reward_coins', d.reward_coins));
        IF d.reward_xp > 0 THEN
            PERFORM xp._apply(p_uid, NULL, NULL, 'xp', d.reward_xp, 'achievement: ' || d.name,
                              'achievement:' || p_uid || ':' || d.code || ':xp');
        END IF;
        IF d.reward_coins > 0 THEN
            PERFORM xp._apply(p_uid, NULL, NULL, 'coins', d.reward_coins, 'achievement: ' || d.name,
                              'achievement:' || p_uid || ':' || d.code || ':coins');
        END IF;
    END LOOP;
    RETURN n;
END
$$;

CREATE FUNCTION xp._apply(p_uid bigint, p_acc bigint, p_platform text, p_kind text, p_amount integer, p_reason text, p_key text, p_factor numeric DEFAULT 1, p_actor text DEFAULT NULL::text, p_display_name text DEFAULT NULL::text) RETURNS xp.award_result
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_delta bigint;
    v_board bigint;
    v_xp bigint;
    v_coins bigint;
    v_rank int;
    v_crossed boolean := false;
    p record;
BEGIN
    IF p_amount IS NULL OR p_amount = 0 OR p_amount NOT BETWEEN -1000000 AND 1000000 THEN
        RAISE EXCEPTION 'amount % is out of range: it must be non-zero and at most 1000000 in magnitude',
            coalesce(p_amount::text, 'NULL') USING ERRCODE = 'XP002';
    END IF;
    IF p_reason IS NULL OR length(p_reason) NOT BETWEEN 1 AND 200
       OR p_key IS NULL OR length(p_key) NOT BETWEEN 1 AND 200 THEN
        PERFORM xp._check_text(p_reason, 'reason');
        PERFORM xp._check_text(p_key, 'idempotency_key');
    END IF;
    v_delta := round(p_amount * p_factor);
    INSERT INTO xp.ledger (user_id, account_id, platform, kind, delta, reason, idempotency_key, factor, actor)
    VALUES (p_uid, p_acc, p_platform, p_kind, v_delta, p_reason, p_key, p_factor, p_actor)
    ON CONFLICT (idempotency_key) DO NOTHING;
    IF NOT FOUND THEN
        RETURN xp._replay(p_uid, p_acc, p_kind, p_amount, p_key);
    END IF;
    IF p_kind = 'xp' THEN
        SELECT * INTO p FROM xp._periods();
        v_board := CASE WHEN p_reason LIKE 'import: %' THEN 0 ELSE v_delta END;
        UPDATE xp.users u
           SET xp = u.xp + v_delta,
               week_xp = CASE WHEN u.week_of = p.week THEN u.week_xp ELSE 0 END + v_board,
               week_of = p.week,
               month_xp = CASE WHEN u.month_of = p.month THEN u.month_xp ELSE 0 END + v_board,
               month_of = p.month,
               season_xp = CASE WHEN p.season IS NULL THEN 0
                                ELSE CASE WHEN u.season_id = p.season THEN u.season_xp ELSE 0 END + v_board END,
               season_id = p.season,
               display_name = coalesce(p_display_name, u.display_name)
         WHERE u.id = p_uid AND u.xp + v_delta >= 0
        RETURNING u.xp, u.coins, u.rank_id, (u.xp < u.rank_floor OR u.xp >= u.rank_ceil)
             INTO v_xp, v_coins, v_rank, v_crossed;
    ELSE
        UPDATE xp.users u
           SET coins = u.coins + v_delta, display_name = coalesce(p_display_name, u.display_name)
         WHERE u.id = p_uid AND u.coins + v_delta >= 0
        RETURNING u.xp, u.coins, u.rank_id INTO v_xp, v_coins, v_rank;
    END IF;
    IF NOT FOUND THEN
        SELECT CASE p_kind WHEN 'xp' THEN u.xp ELSE u.coins END INTO v_xp FROM xp.users u WHERE u.id = p_uid;
        RAISE EXCEPTION '% balance % of user % would go below zero with %', p_kind, v_xp, p_uid, v_delta
            USING ERRCODE = 'XP003';
    END IF;
    IF v_crossed THEN
        RETURN xp._rerank(p_uid, v_rank);
    END IF;
    RETURN ROW(p_uid, v_xp, v_coins, v_rank, v_rank, false, 0, true)::xp.award_result;
END
$$;

CREATE FUNCTION xp._board(p_board text, OUT score text, OUT filter text, OUT period_of text) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $$
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

CREATE FUNCTION xp._check_platform(platform text) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF platform IS NULL OR platform NOT IN ('telegram', 'discord', 'website') THEN
        RAISE EXCEPTION 'unknown platform %: expected telegram, discord or website',
            coalesce(quote_literal(left(platform, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
END
$$;

CREATE FUNCTION xp._check_text(value text, what text, max_length integer DEFAULT 200) RETURNS void
    LANGUAGE plpgsql IMMUTABLE
    AS $$
BEGIN
    IF value IS NULL OR length(value) = 0 THEN
        RAISE EXCEPTION '% must not be empty', what USING ERRCODE = 'XP002';
    ELSIF length(value) > max_length THEN
        RAISE EXCEPTION '% is % characters long (at most %)', what, length(value), max_length
            USING ERRCODE = 'XP002';
    END IF;
END
$$;

CREATE FUNCTION xp._code_hash(code text) RETURNS bytea
    LANGUAGE sql STABLE
    AS $$
    SELECT sha256(p.pepper || convert_to(upper(regexp_replace(code, '[\s-]', '', 'g')), 'UTF8'))
      FROM xp.link_pepper p
$$;

CREATE FUNCTION xp._emit(p_uid bigint, p_kind text, p_payload jsonb DEFAULT '{}'::jsonb) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_event bigint;
BEGIN
    INSERT INTO xp.events (user_id, kind, payload) VALUES (p_uid, p_kind, p_payload) RETURNING id INTO v_event;
    INSERT INTO xp.deliveries (event_id, target, user_id)
    SELECT v_event, a.platform, p_uid
      FROM xp.accounts a
      JOIN xp.users u ON u.id = a.user_id
     WHERE a.user_id = p_uid
       AND (a.platform = 'discord'
            OR (a.platform = 'telegram' AND u.notify AND p_kind IN ('rank_changed', 'achievement_unlocked')));
    RETURN v_event;
END
$$;

CREATE TABLE xp.game_sessions (
    id bigint NOT NULL,
    account_id bigint NOT NULL,
    game text NOT NULL,
    state jsonb NOT NULL,
    status text DEFAULT 'active'::text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT game_sessions_game_check CHECK ((game = ANY (ARRAY['guess'::text, 'quiz'::text, 'spin'::text]))),
    CONSTRAINT game_sessions_status_check CHECK ((status = ANY (ARRAY['active'::text, 'won'::text, 'lost'::text, 'done'::text])))
);

COMMENT ON TABLE xp.game_sessions IS 'One row per game played; the state (secret number, right answer) never leaves the database.';

CREATE FUNCTION xp._game_view(g xp.game_sessions, p_xp integer, p_applied boolean) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT jsonb_build_object('session_id', g.id, 'game', g.game, 'status', g.status,
                              'xp_awarded', p_xp, 'applied', p_applied)
           || CASE g.game
                  WHEN 'guess' THEN jsonb_build_object('tries_left', g.state -> 'tries_left',
                                                       'hint', g.state -> 'hint',
                                                       'guesses', g.state -> 'guesses')
                                    || CASE WHEN g.status <> 'active'
                                            THEN jsonb_build_object('number', g.state -> 'secret') ELSE '{}' END
                  WHEN 'quiz' THEN jsonb_build_object('question', q.question, 'options', to_jsonb(q.options))
                                   || CASE WHEN g.status <> 'active'
                                           THEN jsonb_build_object('answer', q.answer) ELSE '{}' END
                  ELSE g.state - 'secret'
              END
      FROM (SELECT 1) AS one
      LEFT JOIN xp.quiz_questions q ON q.id = (g.state ->> 'question_id')::int
$$;

CREATE FUNCTION xp._game_won(g xp.game_sessions, p_uid bigint, p_platform text, p_xp integer) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE xp.users u SET games_won = u.games_won + 1 WHERE u.id = p_uid;
    PERFORM xp._apply(p_uid, g.account_id, p_platform, 'xp', p_xp, g.game || ' won', 'game:' || g.id,
                      xp._multiplier());
    PERFORM xp._achieve(p_uid, '{games_won}');
END
$$;

CREATE FUNCTION xp._identity_lock() RETURNS void
    LANGUAGE sql
    AS $$
    SELECT pg_advisory_xact_lock(hashtext('xp.identity'))
$$;

CREATE FUNCTION xp._known_account(p_platform text, p_external_id text, OUT acc bigint, OUT uid bigint) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $$
BEGIN
    SELECT a.id, a.user_id INTO acc, uid
      FROM xp.accounts a
     WHERE a.platform = p_platform AND a.external_id = p_external_id;
    IF NOT FOUND THEN
        PERFORM xp._check_platform(p_platform);
        RAISE EXCEPTION 'unknown account %:%', p_platform, coalesce(left(p_external_id, 60), 'NULL')
            USING ERRCODE = 'XP001';
    END IF;
END
$$;

CREATE FUNCTION xp._ledger_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    RAISE EXCEPTION 'xp.ledger is append-only: % of ledger rows is not allowed', lower(TG_OP)
        USING ERRCODE = 'restrict_violation';
END
$$;

CREATE FUNCTION xp._merge(p_into bigint, p_from bigint, p_by_account bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
DECLARE
    f xp.users;
    t xp.users;
    p record;
    v_both boolean;
BEGIN
    UPDATE xp.accounts SET user_id = p_into, linked_at = now() WHERE user_id = p_from;
    UPDATE xp.accounts SET linked_at = now() WHERE user_id = p_into AND linked_at IS NULL;
    PERFORM 1 FROM xp.users WHERE id IN (p_into, p_from) ORDER BY id FOR UPDATE;
    SELECT * INTO f FROM xp.users WHERE id = p_from;
    SELECT * INTO t FROM xp.users WHERE id = p_into;
    SELECT * INTO p FROM xp._periods();
    v_both := EXISTS (SELECT 1 FROM xp.ledger WHERE user_id = p_from)
              AND EXISTS (SELECT 1 FROM xp.ledger WHERE user_id = p_into);
    UPDATE xp.ledger SET user_id = p_into WHERE user_id = p_from;
    UPDATE xp.deliveries SET user_id = p_into WHERE user_id = p_from AND status = 'pending';
    INSERT INTO xp.user_achievements (user_id, code, unlocked_at)
    SELECT p_into, x.code, x.unlocked_at FROM xp.user_achievements x WHERE x.user_id = p_from
    ON CONFLICT (user_id, code) DO UPDATE SET unlocked_at = least(xp.user_achievements.unlocked_at,
                                                                   EXCLUDED.unlocked_at);
    DELETE FROM xp.user_achievements WHERE user_id = p_from;
    INSERT INTO xp.merges (from_user, into_user, by_account, from_xp, from_coins)
    VALUES (p_from, p_into, p_by_account, f.xp, f.coins);
    DELETE FROM xp.users WHERE id = p_from;
    UPDATE xp.users u
       SET xp = u.xp + f.xp,
           coins = u.coins + f.coins,
           messages = u.messages + f.messages,
           voice_seconds = u.voice_seconds + f.voice_seconds,
           games_won = u.games_won + f.games_won,
           streak = greatest(u.streak, f.streak),
           last_daily = greatest(u.last_daily, f.last_daily),
           last_message_at = greatest(u.last_message_at, f.last_message_at),
           rewarded_rank = greatest(u.rewarded_rank, f.rewarded_rank),
           display_name = coalesce(u.display_name, f.display_name),
           week_of = p.week,
           week_xp = CASE WHEN u.week_of = p.week THEN u.week_xp ELSE 0 END
                     + CASE WHEN f.week_of = p.week THEN f.week_xp ELSE 0 END,
           month_of = p.month,
           month_xp = CASE WHEN u.month_of = p.month THEN u.month_xp ELSE 0 END
                      + CASE WHEN f.month_of = p.month THEN f.month_xp ELSE 0 END,
           season_id = p.season,
           season_xp = CASE WHEN u.season_id = p.season THEN u.season_xp ELSE 0 END
                       + CASE WHEN f.season_id = p.season THEN f.season_xp ELSE 0 END
     WHERE u.id = p_into;
    PERFORM xp._rerank(p_into, t.rank_id);
    PERFORM xp._emit(p_into, CASE WHEN v_both THEN 'persons_merged' ELSE 'account_linked' END,
                     jsonb_build_object('from_user', p_from, 'by_account', p_by_account));
    PERFORM xp._achieve(p_into);
END
$$;

CREATE FUNCTION xp._multiplier(p_platform text DEFAULT NULL::text, p_chat_id text DEFAULT NULL::text) RETURNS numeric
    LANGUAGE sql STABLE
    AS $$
    SELECT least(round(coalesce(exp(sum(ln(m.factor))), 1), 3), xp._setting('multiplier.cap')::numeric)
      FROM xp.multipliers m
     WHERE m.ends_at > now() AND m.starts_at <= now()
       AND (m.chat_id IS NULL OR (m.platform = p_platform AND m.chat_id = p_chat_id))
$$;

CREATE FUNCTION xp._new_code() RETURNS text
    LANGUAGE sql
    AS $$
    SELECT string_agg(substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789',
                             1 + ((get_byte(b, 0) << 8) | get_byte(b, 1)) % 31, 1), '')
      FROM (SELECT uuid_send(gen_random_uuid()) AS b FROM generate_series(1, 8)) AS s
$$;

CREATE FUNCTION xp._new_person(p_display_name text) RETURNS bigint
    LANGUAGE sql
    AS $$
    INSERT INTO xp.users (display_name, rank_id, rank_floor, rank_ceil)
    SELECT p_display_name, r.id, r.min_xp, (SELECT min(n.min_xp) FROM xp.ranks n WHERE n.min_xp > r.min_xp)
      FROM xp.ranks r ORDER BY r.min_xp LIMIT 1
    RETURNING id
$$;

CREATE FUNCTION xp._out_of_step(uids bigint[], lim integer DEFAULT NULL::integer) RETURNS TABLE(uid bigint, rank_id integer, want integer, rewarded_rank integer)
    LANGUAGE sql STABLE
    AS $$
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

CREATE FUNCTION xp._periods(p_at timestamp with time zone DEFAULT now(), OUT week date, OUT month date, OUT season integer) RETURNS record
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    d date := (p_at AT TIME ZONE 'UTC')::date;
BEGIN
    week := d - (extract(isodow FROM d)::int - 1);
    month := date_trunc('month', d)::date;
    SELECT s.id INTO season FROM xp.seasons s WHERE s.starts_on <= d AND d < s.ends_on;
END
$$;

CREATE TABLE xp.users (
    id bigint NOT NULL,
    display_name text,
    xp bigint DEFAULT 0 NOT NULL,
    coins bigint DEFAULT 0 NOT NULL,
    rank_id integer DEFAULT 1 NOT NULL,
    rank_floor bigint DEFAULT 0 NOT NULL,
    rank_ceil bigint,
    rewarded_rank integer DEFAULT 1 NOT NULL,
    streak integer DEFAULT 0 NOT NULL,
    last_daily date,
    last_message_at timestamp with time zone,
    messages bigint DEFAULT 0 NOT NULL,
    voice_seconds bigint DEFAULT 0 NOT NULL,
    roles_rank integer,
    language text DEFAULT 'en'::text NOT NULL,
    notify boolean DEFAULT true NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    forgotten_at timestamp with time zone,
    games_won bigint DEFAULT 0 NOT NULL,
    week_of date,
    week_xp bigint DEFAULT 0 NOT NULL,
    month_of date,
    month_xp bigint DEFAULT 0 NOT NULL,
    season_id integer,
    season_xp bigint DEFAULT 0 NOT NULL,
    hidden boolean DEFAULT false NOT NULL,
    CONSTRAINT users_coins_check CHECK ((coins >= 0)),
    CONSTRAINT users_xp_check CHECK ((xp >= 0))
);

COMMENT ON TABLE xp.users IS 'People. xp and coins are a cache of the ledger sums (xp.reconcile_* proves it); rank is derived from xp.';

CREATE FUNCTION xp._person_view(u xp.users) RETURNS jsonb
    LANGUAGE plpgsql STABLE
    AS $$
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

CREATE FUNCTION xp._place(p_board text, p_score bigint, p_uid bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE
    AS $_$
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
$_$;

CREATE FUNCTION xp._privacy_follows() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    UPDATE xp.users u SET hidden = true
     WHERE u.id = NEW.user_id AND NOT u.hidden
       AND EXISTS (SELECT 1 FROM xp.users o WHERE o.id = OLD.user_id AND o.hidden);
    RETURN NULL;
END
$$;

CREATE FUNCTION xp._progress(uids bigint[]) RETURNS TABLE(uid bigint, criterion text, value bigint)
    LANGUAGE sql STABLE
    AS $$
    SELECT u.id, v.criterion, v.value
      FROM xp.users u
      LEFT JOIN (SELECT c.user_id, count(*) AS n FROM xp.accounts c
                  WHERE uids IS NULL OR c.user_id = ANY (uids) GROUP BY c.user_id) AS acc ON acc.user_id = u.id
     CROSS JOIN LATERAL (VALUES ('messages', u.messages), ('voice_seconds', u.voice_seconds),
                                ('streak', u.streak::bigint), ('games_won', u.games_won), ('rank', u.rank_id::bigint),
                                ('platforms', coalesce(acc.n, 0))) AS v (criterion, value)
     WHERE (uids IS NULL OR u.id = ANY (uids)) AND u.forgotten_at IS NULL
$$;

CREATE FUNCTION xp._queue_resync(uids bigint[], reason text) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_count bigint;
BEGIN
    WITH wanted AS (
        SELECT DISTINCT a.user_id
          FROM xp.accounts a
         WHERE a.platform = 'discord' AND (uids IS NULL OR a.user_id = ANY (uids))
           AND NOT EXISTS (SELECT 1 FROM xp.deliveries d
                            WHERE d.user_id = a.user_id AND d.target = 'discord'
                              AND d.status = 'pending' AND d.lease_owner IS NULL)),
    ev AS (
        INSERT INTO xp.events (user_id, kind, payload)
        SELECT w.user_id, 'roles_resync', jsonb_build_object('reason', reason) FROM wanted w
        RETURNING events.id, events.user_id),
    dl AS (
        INSERT INTO xp.deliveries (event_id, target, user_id)
        SELECT ev.id, 'discord', ev.user_id FROM ev
        RETURNING 1)
    SELECT count(*) INTO v_count FROM dl;
    RETURN v_count;
END
$$;

CREATE FUNCTION xp._ranks_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION xp._reconcile(uids bigint[], dry_run boolean) RETURNS TABLE(user_id bigint, check_name text, expected text, actual text, fixed boolean)
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION xp._reconcile_achievements(uids bigint[], dry_run boolean) RETURNS TABLE(user_id bigint, check_name text, expected text, actual text, fixed boolean)
    LANGUAGE plpgsql
    AS $$
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

CREATE FUNCTION xp._reconcile_boards(uids bigint[], dry_run boolean) RETURNS TABLE(user_id bigint, check_name text, expected text, actual text, fixed boolean)
    LANGUAGE plpgsql
    AS $$
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
             WHERE l.kind = 'xp' AND l.created_at >= v_since AND l.reason NOT LIKE 'import: %'
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

CREATE FUNCTION xp._redeem_failed(p_acc bigint) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO xp.redeem_failures (account_id) VALUES (p_acc);
    IF (SELECT count(*) FROM xp.redeem_failures f
         WHERE f.account_id = p_acc
           AND f.created_at > now() - make_interval(mins => xp._setting('link.failure_window_minutes')::int))
       >= xp._setting('link.max_failures')::int THEN
        UPDATE xp.accounts
           SET redeem_locked_until = now() + make_interval(mins => xp._setting('link.lockout_minutes')::int)
         WHERE id = p_acc;
    END IF;
END
$$;

CREATE FUNCTION xp._refresh(r xp.award_result) RETURNS xp.award_result
    LANGUAGE sql STABLE
    AS $$
    SELECT ROW(u.id, u.xp, u.coins, r.old_rank, u.rank_id, u.rank_id <> r.old_rank, r.reward_coins,
               r.applied)::xp.award_result
      FROM xp.users u WHERE u.id = r.user_id
$$;

CREATE FUNCTION xp._replay(p_uid bigint, p_acc bigint, p_kind text, p_amount integer, p_key text) RETURNS xp.award_result
    LANGUAGE plpgsql
    AS $$
DECLARE
    l xp.ledger;
BEGIN
    SELECT * INTO l FROM xp.ledger WHERE idempotency_key = p_key;
    IF l.kind <> p_kind
       OR l.delta <> round(p_amount * l.factor)
       OR (p_acc IS NOT NULL AND l.account_id IS DISTINCT FROM p_acc)
       OR (p_acc IS NULL AND l.user_id <> p_uid) THEN
        RAISE EXCEPTION 'idempotency key % was already used for % % to another account or with another amount',
            quote_literal(left(p_key, 60)), l.delta, l.kind USING ERRCODE = 'XP004';
    END IF;
    RETURN xp._state(l.user_id);
END
$$;

CREATE FUNCTION xp._rerank(p_uid bigint, p_old_rank integer) RETURNS xp.award_result
    LANGUAGE plpgsql
    AS $$
DECLARE
    v_xp bigint;
    v_coins bigint;
    v_rewarded int;
    v_new int;
    v_floor bigint;
    v_ceil bigint;
    v_reward int := 0;
    v_paid int;
    k record;
    v_result xp.award_result;
BEGIN
    SELECT u.xp, u.rewarded_rank INTO v_xp, v_rewarded FROM xp.users u WHERE u.id = p_uid;
    SELECT r.id, r.min_xp, (SELECT min(n.min_xp) FROM xp.ranks n WHERE n.min_xp > r.min_xp)
      INTO v_new, v_floor, v_ceil
      FROM xp.ranks r
     WHERE r.min_xp <= v_xp
     ORDER BY r.min_xp DESC
     LIMIT 1;
    FOR k IN SELECT r.id, r.name, r.reward_coins FROM xp.ranks r
              WHERE r.id > v_rewarded AND r.id <= v_new AND r.reward_coins > 0
              ORDER BY r.id LOOP
        INSERT INTO xp.ledger (user_id, kind, delta, reason, idempotency_key)
        VALUES (p_uid, 'coins', k.reward_coins, 'rank reward: ' || k.name, 'rank-reward:' || p_uid || ':' || k.id)
        ON CONFLICT (idempotency_key) DO NOTHING
        RETURNING delta INTO v_paid;
        v_reward := v_reward + coalesce(v_paid, 0);
        v_paid := NULL;
    END LOOP;
    UPDATE xp.users u
       SET rank_id = v_new, rank_floor = v_floor, rank_ceil = v_ceil,
           rewarded_rank = greatest(u.rewarded_rank, v_new), coins = u.coins + v_reward
     WHERE u.id = p_uid
    RETURNING u.coins INTO v_coins;
    IF v_new <> p_old_rank THEN
        -- the event carries what a notice shows, as it was when it happened
        PERFORM xp._emit(p_uid, 'rank_changed',
                         jsonb_build_object('old_rank', p_old_rank, 'new_rank', v_new, 'xp', v_xp)
                         || (SELECT jsonb_build_object('name', r.name, 'emoji', r.emoji, 'tier', r.tier)
                               FROM xp.ranks r WHERE r.id = v_new));
    END IF;
    v_result := ROW(p_uid, v_xp, v_coins, p_old_rank, v_new, v_new <> p_old_rank, v_reward, true)::xp.award_result;
    IF v_new > p_old_rank AND xp._achieve(p_uid, '{rank}') > 0 THEN
        v_result := xp._refresh(v_result);
    END IF;
    RETURN v_result;
END
$$;

CREATE FUNCTION xp._ring() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('xp_' || NEW.target, '');
    RETURN NULL;
END
$$;

CREATE FUNCTION xp._role_mapping_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM xp._queue_resync(NULL, 'the rank role mapping changed');
    RETURN NULL;
END
$$;

CREATE FUNCTION xp._seasons_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM count(*) FROM xp._reconcile_boards(NULL, false);
    RETURN NULL;
END
$$;

CREATE FUNCTION xp._setting(p_key text) RETURNS jsonb
    LANGUAGE sql STABLE
    AS $$
    SELECT value FROM xp.settings WHERE key = p_key
$$;

CREATE FUNCTION xp._settings_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM pg_notify('xp_config', 'settings');
    RETURN NULL;
END
$$;

CREATE FUNCTION xp._state(p_uid bigint) RETURNS xp.award_result
    LANGUAGE sql STABLE
    AS $$
    SELECT ROW(u.id, u.xp, u.coins, u.rank_id, u.rank_id, false, 0, false)::xp.award_result
      FROM xp.users u WHERE u.id = p_uid
$$;

CREATE FUNCTION xp.account_person(platform text, external_id text) RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    PERFORM xp._check_platform(account_person.platform);
    RETURN (SELECT a.user_id FROM xp.accounts a
             WHERE a.platform = account_person.platform AND a.external_id = account_person.external_id);
END
$$;

COMMENT ON FUNCTION xp.account_person(platform text, external_id text) IS 'The person id an account belongs to now, or NULL for an account never seen.';

CREATE FUNCTION xp.ack_deliveries(owner text, ids bigint[], attempts integer[], refs text[] DEFAULT NULL::text[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    WITH done AS (
        UPDATE xp.deliveries d
           SET status = 'done', finished_at = now(), sent_ref = coalesce(a.ref, d.sent_ref),
               lease_owner = NULL, last_error = NULL
          FROM unnest(ack_deliveries.ids, ack_deliveries.attempts,
                      coalesce(ack_deliveries.refs, array_fill(NULL::text, ARRAY[cardinality(ack_deliveries.ids)])))
               AS a (id, attempt, ref)
         WHERE d.id = a.id AND d.attempts = a.attempt AND d.lease_owner = ack_deliveries.owner
           AND d.status = 'pending'
        RETURNING d.user_id, d.target),
    synced AS (
        UPDATE xp.users u SET roles_rank = u.rank_id
         WHERE u.id IN (SELECT done.user_id FROM done WHERE done.target = 'discord')
           AND u.roles_rank IS DISTINCT FROM u.rank_id)
    SELECT count(*)::int FROM done
$$;

COMMENT ON FUNCTION xp.ack_deliveries(owner text, ids bigint[], attempts integer[], refs text[]) IS 'Listener: mark claimed deliveries done (with the platform''s message id); returns how many were still ours.';

CREATE FUNCTION xp.adjust(user_id bigint, kind text, amount integer, reason text, actor text) RETURNS xp.award_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
    RETURN xp._apply(adjust.user_id, NULL, NULL, adjust.kind, adjust.amount, 'admin: ' || adjust.reason,
                     'adjust:' || gen_random_uuid(), 1, adjust.actor);
END
$$;

COMMENT ON FUNCTION xp.adjust(user_id bigint, kind text, amount integer, reason text, actor text) IS 'Admin: change a person''s XP or coins by hand, capped, with actor and reason on the ledger row.';

CREATE FUNCTION xp.api_key_name(key text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT k.name FROM xp.api_keys k
     WHERE k.key_hash = sha256(convert_to(coalesce(api_key_name.key, ''), 'UTF8')) AND k.revoked_at IS NULL
$$;

COMMENT ON FUNCTION xp.api_key_name(key text) IS 'Web: the name of a valid API key, or NULL for an unknown or revoked one.';

CREATE FUNCTION xp.award_coins(platform text, external_id text, amount integer, reason text, idempotency_key text) RETURNS xp.award_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    a record;
BEGIN
    SELECT * INTO a FROM xp._account_for(award_coins.platform, award_coins.external_id);
    RETURN xp._apply(a.uid, a.acc, award_coins.platform, 'coins', award_coins.amount, award_coins.reason,
                     award_coins.idempotency_key);
END
$$;

COMMENT ON FUNCTION xp.award_coins(platform text, external_id text, amount integer, reason text, idempotency_key text) IS 'Add coins, or spend them with a negative amount (never below zero), once per idempotency key.';

CREATE FUNCTION xp.award_xp(platform text, external_id text, amount integer, reason text, idempotency_key text, display_name text DEFAULT NULL::text) RETURNS xp.award_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    a record;
BEGIN
    SELECT * INTO a FROM xp._account_for(award_xp.platform, award_xp.external_id, award_xp.display_name);
    -- running global multipliers raise what is earned, never a penalty
    RETURN xp._apply(a.uid, a.acc, award_xp.platform, 'xp', award_xp.amount, award_xp.reason,
                     award_xp.idempotency_key,
                     CASE WHEN award_xp.amount > 0 THEN xp._multiplier() ELSE 1 END, NULL, award_xp.display_name);
END
$$;

COMMENT ON FUNCTION xp.award_xp(platform text, external_id text, amount integer, reason text, idempotency_key text, display_name text) IS 'Add (or, negative, take) XP once per idempotency key; first sight of the account creates its person.';

CREATE FUNCTION xp.board_size(period text DEFAULT 'all'::text) RETURNS bigint
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.board_size(period text) IS 'How many people are on a board now (0 for the season board without a season).';

CREATE FUNCTION xp.claim_daily(platform text, external_id text, display_name text DEFAULT NULL::text) RETURNS xp.daily_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    a record;
    v_today date := (now() AT TIME ZONE 'UTC')::date;
    v_next timestamptz := (((now() AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC');
    v_streak int;
    v_xp int;
    v_coins int;
    v_factor numeric;
    r xp.award_result;
BEGIN
    SELECT * INTO a FROM xp._account_for(claim_daily.platform, claim_daily.external_id, claim_daily.display_name);
    -- the claim belongs to the person, so it binds every account they hold today
    UPDATE xp.users u
       SET streak = CASE WHEN u.last_daily = v_today - 1 THEN u.streak + 1 ELSE 1 END,
           last_daily = v_today
     WHERE u.id = a.uid AND (u.last_daily IS NULL OR u.last_daily < v_today)
    RETURNING u.streak INTO v_streak;
    IF NOT FOUND THEN
        r := xp._state(a.uid);
        RETURN ROW(r.user_id, r.xp, r.coins, r.old_rank, r.new_rank, false, 0, false,
                   (SELECT u.streak FROM xp.users u WHERE u.id = a.uid), 0, 0, v_next)::xp.daily_result;
    END IF;
    v_xp := xp._setting('daily.xp')::int;
    v_coins := xp._setting('daily.coins')::int
             + xp._setting('daily.streak_bonus_coins')::int
               * least(v_streak - 1, xp._setting('daily.streak_bonus_cap')::int);
    v_factor := xp._multiplier();
    r := xp._state(a.uid);
    IF v_xp > 0 THEN
        r := xp._apply(a.uid, a.acc, claim_daily.platform, 'xp', v_xp, 'daily reward',
                       'daily:' || a.uid || ':' || v_today || ':xp', v_factor, NULL, claim_daily.display_name);
    END IF;
    IF v_coins > 0 THEN
        -- coins never cross a rank threshold, so the rank fields of r stand
        SELECT l.xp, l.coins INTO r.xp, r.coins
          FROM xp._apply(a.uid, a.acc, claim_daily.platform, 'coins', v_coins, 'daily reward',
                         'daily:' || a.uid || ':' || v_today || ':coins') AS l;
    END IF;
    IF xp._achieve(a.uid, '{streak}') > 0 THEN
        r := xp._refresh(r);
    END IF;
    RETURN ROW(r.user_id, r.xp, r.coins, r.old_rank, r.new_rank, r.rank_changed, r.reward_coins, true,
               v_streak, greatest(round(v_xp * v_factor)::int, 0), greatest(v_coins, 0), v_next)::xp.daily_result;
END
$$;

COMMENT ON FUNCTION xp.claim_daily(platform text, external_id text, display_name text) IS 'The daily reward, once per UTC day per person (every account they hold that day); applied=false when already claimed.';

CREATE FUNCTION xp.claim_deliveries(target text, owner text, batch_size integer DEFAULT 100, lease_seconds integer DEFAULT 30) RETURNS TABLE(id bigint, event_id bigint, user_id bigint, kind text, payload jsonb, attempts integer, sent_ref text, created_at timestamp with time zone)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    IF claim_deliveries.batch_size IS NULL OR claim_deliveries.batch_size NOT BETWEEN 1 AND 10000
       OR claim_deliveries.lease_seconds IS NULL OR claim_deliveries.lease_seconds NOT BETWEEN 1 AND 3600 THEN
        RAISE EXCEPTION 'batch_size % and lease_seconds % must be within 1..10000 and 1..3600',
            claim_deliveries.batch_size, claim_deliveries.lease_seconds USING ERRCODE = 'XP002';
    END IF;
    PERFORM xp._check_text(claim_deliveries.owner, 'owner');
    RETURN QUERY
        WITH due AS (
            SELECT d.id
              FROM xp.deliveries d
             WHERE d.target = claim_deliveries.target AND d.status = 'pending' AND d.run_at <= now()
             ORDER BY d.run_at, d.id
             LIMIT claim_deliveries.batch_size
               FOR UPDATE SKIP LOCKED),
        claimed AS (
            UPDATE xp.deliveries d
               SET attempts = d.attempts + 1,
                   lease_owner = claim_deliveries.owner,
                   run_at = now() + make_interval(secs => claim_deliveries.lease_seconds)
              FROM due
             WHERE d.id = due.id
            RETURNING d.id, d.event_id, d.user_id, d.attempts, d.sent_ref, d.created_at)
        SELECT c.id, c.event_id, c.user_id, e.kind, e.payload, c.attempts, c.sent_ref, c.created_at
          FROM claimed c
          JOIN xp.events e ON e.id = c.event_id
         ORDER BY c.id;
END
$$;

COMMENT ON FUNCTION xp.claim_deliveries(target text, owner text, batch_size integer, lease_seconds integer) IS 'Listener: claim due deliveries for a target under a lease (SKIP LOCKED); an expired lease is due again.';

CREATE FUNCTION xp.cleanup(older_than interval DEFAULT '30 days'::interval) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
    RETURN v_total + v_rows;
END
$$;

COMMENT ON FUNCTION xp.cleanup(older_than interval) IS 'Remove finished deliveries (and old message ids, failed redeems, expired codes) older than older_than.';

CREATE FUNCTION xp.create_api_key(name text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.create_api_key(name text) IS 'Admin: make an API key for the web''s JSON API; the key is returned once and kept only as a hash.';

CREATE FUNCTION xp.create_link_code(platform text, external_id text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    a record;
    v_code text;
BEGIN
    SELECT * INTO a FROM xp._account_for(create_link_code.platform, create_link_code.external_id);
    -- one live code per account: a new one retires the old
    UPDATE xp.link_codes c SET expires_at = now()
     WHERE c.account_id = a.acc AND c.redeemed_at IS NULL AND c.expires_at > now();
    LOOP
        v_code := xp._new_code();
        INSERT INTO xp.link_codes (code_hash, account_id, expires_at)
        VALUES (xp._code_hash(v_code), a.acc,
                now() + make_interval(mins => xp._setting('link.code_minutes')::int))
        ON CONFLICT DO NOTHING;
        EXIT WHEN FOUND;
    END LOOP;
    RETURN v_code;
END
$$;

COMMENT ON FUNCTION xp.create_link_code(platform text, external_id text) IS 'Issue a one-time link code (8 characters, valid 10 minutes) for the account to redeem on another platform.';

CREATE FUNCTION xp.discord_role_plan(uid bigint) RETURNS TABLE(guild_id text, member_id text, desired text[], managed text[])
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT g.guild_id,
           a.external_id,
           coalesce((SELECT array_agg(rr.role_id ORDER BY rr.rank_id)
                       FROM xp.rank_roles rr
                      WHERE rr.guild_id = g.guild_id
                        AND rr.rank_id <= u.rank_id
                        AND (coalesce(gs.role_mode, 'replace') = 'stack'
                             OR rr.rank_id = (SELECT max(x.rank_id) FROM xp.rank_roles x
                                               WHERE x.guild_id = g.guild_id AND x.rank_id <= u.rank_id))),
                    '{}')
           || coalesce((SELECT array_agg(ar.role_id ORDER BY ar.code)
                          FROM xp.achievement_roles ar
                          JOIN xp.user_achievements ua ON ua.code = ar.code AND ua.user_id = u.id
                         WHERE ar.guild_id = g.guild_id), '{}'),
           coalesce((SELECT array_agg(rr.role_id ORDER BY rr.rank_id) FROM xp.rank_roles rr
                      WHERE rr.guild_id = g.guild_id), '{}')
           || coalesce((SELECT array_agg(ar.role_id ORDER BY ar.code) FROM xp.achievement_roles ar
                         WHERE ar.guild_id = g.guild_id), '{}')
      FROM xp.users u
      JOIN xp.accounts a ON a.user_id = u.id AND a.platform = 'discord'
     CROSS JOIN (SELECT r.guild_id FROM xp.rank_roles r
                 UNION
                 SELECT r.guild_id FROM xp.achievement_roles r) AS g
      LEFT JOIN xp.guild_settings gs ON gs.guild_id = g.guild_id
     WHERE u.id = uid
     ORDER BY g.guild_id
$$;

COMMENT ON FUNCTION xp.discord_role_plan(uid bigint) IS 'Listener: per guild, the managed Discord roles (rank and achievement) a person should hold now and all roles xpsync manages there.';

CREATE FUNCTION xp.fail_delivery(id bigint, owner text, attempt integer, error text, permanent boolean DEFAULT false, retry_after double precision DEFAULT NULL::double precision, mute_person boolean DEFAULT false) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    d xp.deliveries;
    v_status text;
    v_delay double precision;
BEGIN
    IF fail_delivery.retry_after NOT BETWEEN 0 AND 86400 THEN  -- also NaN and infinity
        RAISE EXCEPTION 'retry_after % is invalid: it must be between 0 and 86400 seconds', fail_delivery.retry_after
            USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO d FROM xp.deliveries x
     WHERE x.id = fail_delivery.id AND x.attempts = fail_delivery.attempt AND x.lease_owner = fail_delivery.owner
       AND x.status = 'pending'
       FOR UPDATE;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    IF fail_delivery.permanent THEN
        v_status := 'failed';
    ELSIF fail_delivery.retry_after IS NOT NULL THEN
        v_status := 'pending';
        v_delay := greatest(fail_delivery.retry_after, 0);
    ELSIF d.attempts >= xp._setting('delivery.max_attempts')::int THEN
        v_status := 'dead';
    ELSE
        v_status := 'pending';
        v_delay := least(xp._setting('delivery.backoff_cap_seconds')::double precision,
                         xp._setting('delivery.backoff_base_seconds')::double precision * 2 ^ (d.attempts - 1))
                   * (0.5 + random() / 2);
    END IF;
    UPDATE xp.deliveries x
       SET status = v_status,
           attempts = x.attempts - CASE WHEN fail_delivery.retry_after IS NOT NULL THEN 1 ELSE 0 END,
           run_at = CASE WHEN v_status = 'pending' THEN now() + make_interval(secs => v_delay) ELSE x.run_at END,
           finished_at = CASE WHEN v_status = 'pending' THEN NULL ELSE now() END,
           lease_owner = NULL,
           last_error = left(coalesce(fail_delivery.error, 'unknown error'), 500)
     WHERE x.id = d.id;
    IF fail_delivery.mute_person THEN
        UPDATE xp.users u SET notify = false WHERE u.id = d.user_id;
    END IF;
    RETURN v_status;
END
$$;

COMMENT ON FUNCTION xp.fail_delivery(id bigint, owner text, attempt integer, error text, permanent boolean, retry_after double precision, mute_person boolean) IS 'Listener: record a failed claim (retry with backoff, 429 at retry_after uncounted, failed, or dead).';

CREATE FUNCTION xp.forget_person(user_id bigint) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.forget_person(user_id bigint) IS 'Admin: privacy deletion: remove every account and name of a person on all platforms; the ledger keeps numbers only.';

CREATE FUNCTION xp.import_xp(platform text, external_id text, xp bigint, coins bigint, source text, display_name text DEFAULT NULL::text) RETURNS xp.award_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
                                          AND l.reason = 'import: ' || import_xp.source), 0);
        v_n := 0;
        WHILE v_delta <> 0 LOOP  -- in steps the ledger accepts
            v_step := sign(v_delta) * least(abs(v_delta), 1000000);
            v_n := v_n + 1;
            r := xp._apply(a.uid, a.acc, import_xp.platform, k.kind, v_step, 'import: ' || import_xp.source,
                           'import:' || import_xp.source || ':' || a.acc || ':' || k.kind || ':' || k.total || ':' || v_n,
                           1, NULL, import_xp.display_name);
            v_delta := v_delta - v_step;
        END LOOP;
    END LOOP;
    RETURN r;
END
$$;

COMMENT ON FUNCTION xp.import_xp(platform text, external_id text, xp bigint, coins bigint, source text, display_name text) IS 'Admin: set an account''s imported XP and coins from a source (e.g. mee6:GUILD), applying only the difference.';

CREATE FUNCTION xp.leaderboard(lim integer DEFAULT 10, period text DEFAULT 'all'::text, skip integer DEFAULT 0, name_prefix text DEFAULT NULL::text) RETURNS TABLE(place bigint, user_id bigint, display_name text, xp bigint, rank_id integer)
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    b record;
    m record;
    v_like text;
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
        RETURN QUERY EXECUTE format(
            'SELECT xp._place($3, o.%1$I, o.id), o.id, o.display_name, o.%1$I, o.rank_id'
            '  FROM xp.users o'
            ' WHERE %2$s AND o.id IN (SELECT a.user_id FROM xp.accounts a'
            '                          WHERE lower(a.display_name) LIKE $4 AND a.display_name IS NOT NULL)'
            ' ORDER BY o.%1$I DESC, o.id LIMIT $1 OFFSET $2', b.score, b.filter)
            USING leaderboard.lim, leaderboard.skip, leaderboard.period, v_like;
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
        SELECT 1::bigint AS place, NULL::bigint AS xp, NULL::bigint AS user_id INTO m;
    END IF;
    RETURN QUERY EXECUTE format(
        'SELECT $2 + row_number() OVER (ORDER BY o.%1$I DESC, o.id), o.id, o.display_name, o.%1$I, o.rank_id'
        '  FROM xp.users o'
        ' WHERE %2$s AND ($4::bigint IS NULL OR (o.%1$I <= $4 AND (o.%1$I < $4 OR o.id >= $5)))'
        ' ORDER BY o.%1$I DESC, o.id LIMIT $1 OFFSET $3', b.score, b.filter)
        USING leaderboard.lim, m.place - 1, leaderboard.skip + 1 - m.place, m.xp, m.user_id;
END
$_$;

COMMENT ON FUNCTION xp.leaderboard(lim integer, period text, skip integer, name_prefix text) IS 'A page of a board (all time, or XP gained this season, UTC month or week), skipping `skip` places, optionally only names starting with name_prefix; hidden people are left out, ties go to the older person.';

CREATE FUNCTION xp.link_accounts(platform text, external_id text, other_platform text, other_external_id text, dry_run boolean DEFAULT false) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.link_accounts(platform text, external_id text, other_platform text, other_external_id text, dry_run boolean) IS 'Web: link two verified accounts as /link does (merging progress, XP006 refusals); dry_run previews the merged person and writes nothing.';

CREATE FUNCTION xp.play_game(platform text, external_id text, session_id bigint, move text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
DECLARE
    a record;
    g xp.game_sessions;
    v_guess int;
    v_secret int;
    v_xp int := 0;
    q xp.quiz_questions;
BEGIN
    SELECT * INTO a FROM xp._known_account(play_game.platform, play_game.external_id);
    SELECT * INTO g FROM xp.game_sessions s
     WHERE s.id = play_game.session_id AND s.account_id = a.acc AND s.game IN ('guess', 'quiz')
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'game session % is not a game of %:% that takes answers',
            coalesce(play_game.session_id::text, 'NULL'), play_game.platform, left(play_game.external_id, 60)
            USING ERRCODE = 'XP002';
    END IF;
    IF g.status <> 'active' THEN
        RETURN xp._game_view(g, 0, false);  -- an answer after the end (a double tap): nothing more
    END IF;
    IF play_game.move IS NULL OR play_game.move !~ '^\s*\d{1,3}\s*$' THEN
        RAISE EXCEPTION 'move % is not a number', coalesce(quote_literal(left(play_game.move, 40)), 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    v_guess := trim(play_game.move)::int;
    IF g.game = 'guess' THEN
        IF v_guess NOT BETWEEN 1 AND 100 THEN
            RAISE EXCEPTION 'guess % is out of range: the number is between 1 and 100', v_guess USING ERRCODE = 'XP002';
        END IF;
        v_secret := (g.state ->> 'secret')::int;
        g.state := g.state || jsonb_build_object(
            'tries_left', (g.state ->> 'tries_left')::int - 1,
            'hint', CASE WHEN v_guess < v_secret THEN 'higher' WHEN v_guess > v_secret THEN 'lower' END,
            'guesses', (g.state -> 'guesses') || to_jsonb(v_guess));
        g.status := CASE WHEN v_guess = v_secret THEN 'won'
                         WHEN (g.state ->> 'tries_left')::int <= 0 THEN 'lost'
                         ELSE 'active' END;
        v_xp := CASE WHEN g.status = 'won' THEN xp._setting('games.guess_xp')::int ELSE 0 END;
    ELSE
        SELECT * INTO q FROM xp.quiz_questions x WHERE x.id = (g.state ->> 'question_id')::int;
        IF v_guess >= cardinality(q.options) THEN
            RAISE EXCEPTION 'answer % is out of range: the question has % options (0 to %)',
                v_guess, cardinality(q.options), cardinality(q.options) - 1 USING ERRCODE = 'XP002';
        END IF;
        g.state := g.state || jsonb_build_object('chosen', v_guess);
        g.status := CASE WHEN v_guess = q.answer THEN 'won' ELSE 'lost' END;
        v_xp := CASE WHEN g.status = 'won' THEN xp._setting('games.quiz_xp')::int ELSE 0 END;
    END IF;
    UPDATE xp.game_sessions s
       SET state = g.state, status = g.status,
           finished_at = CASE WHEN g.status <> 'active' THEN now() END
     WHERE s.id = g.id;
    IF v_xp > 0 THEN
        PERFORM xp._game_won(g, a.uid, play_game.platform, v_xp);
    END IF;
    RETURN xp._game_view(g, v_xp, true);
END
$_$;

COMMENT ON FUNCTION xp.play_game(platform text, external_id text, session_id bigint, move text) IS 'Bots: one answer in a guess or quiz session (a number); the database scores it and rewards a win once.';

CREATE FUNCTION xp.profile(platform text, external_id text) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.profile(platform text, external_id text) IS 'Everything a bot shows about the person behind an account, as jsonb; XP001 for an account never seen.';

CREATE FUNCTION xp.public_profile(uid bigint, viewer bigint DEFAULT NULL::bigint) RETURNS jsonb
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.public_profile(uid bigint, viewer bigint) IS 'The public part of a person''s profile with places and 30 days of activity; NULL when unknown, forgotten, or hidden from anyone but viewer.';

CREATE FUNCTION xp.rank_ladder() RETURNS TABLE(id integer, name text, tier text, stars integer, min_xp bigint, color text, emoji text, reward_coins integer)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT r.id, r.name, r.tier, r.stars, r.min_xp, r.color, r.emoji, r.reward_coins FROM xp.ranks r ORDER BY r.min_xp
$$;

COMMENT ON FUNCTION xp.rank_ladder() IS 'The ranks from the lowest up: name, tier, stars, XP needed, color, emoji, reward.';

CREATE FUNCTION xp.reconcile_all(dry_run boolean DEFAULT false) RETURNS TABLE(user_id bigint, check_name text, expected text, actual text, fixed boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RETURN QUERY SELECT * FROM xp._reconcile(NULL, coalesce(reconcile_all.dry_run, false));
    RETURN QUERY SELECT * FROM xp._reconcile_boards(NULL, coalesce(reconcile_all.dry_run, false));
    RETURN QUERY SELECT * FROM xp._reconcile_achievements(NULL, coalesce(reconcile_all.dry_run, false));
END
$$;

COMMENT ON FUNCTION xp.reconcile_all(dry_run boolean) IS 'Check everyone, set-based, and fix what drifted unless dry_run; one row per finding.';

CREATE FUNCTION xp.reconcile_user(uid bigint, dry_run boolean DEFAULT false) RETURNS TABLE(user_id bigint, check_name text, expected text, actual text, fixed boolean)
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.reconcile_user(uid bigint, dry_run boolean) IS 'Check one person (balances, rank, rewards, boards, achievements, deliveries, Discord roles) and fix what drifted unless dry_run.';

CREATE FUNCTION xp.record_message(platform text, external_id text, chat_id text, message_id text, length integer, display_name text DEFAULT NULL::text) RETURNS xp.award_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    a record;
    s jsonb;
    v_min int;
    v_max int;
    r xp.award_result;
BEGIN
    IF record_message.length IS NULL OR record_message.length < 0 THEN
        RAISE EXCEPTION 'length % is invalid: it must be 0 or more', coalesce(record_message.length::text, 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    PERFORM xp._check_text(record_message.chat_id, 'chat_id', 64);
    PERFORM xp._check_text(record_message.message_id, 'message_id', 64);
    SELECT * INTO a FROM xp._account_for(record_message.platform, record_message.external_id,
                                         record_message.display_name);
    INSERT INTO xp.message_log (platform, chat_id, message_id)
    VALUES (record_message.platform, record_message.chat_id, record_message.message_id)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        RETURN xp._state(a.uid);  -- seen before: counted at most once
    END IF;
    SELECT jsonb_object_agg(t.key, t.value) INTO s FROM xp.settings t WHERE t.key LIKE 'message.%';
    IF record_message.length < (s ->> 'message.min_length')::int
       OR (s -> 'message.ignored_chats') ? (record_message.platform || ':' || record_message.chat_id) THEN
        RETURN xp._state(a.uid);
    END IF;
    UPDATE xp.users u
       SET last_message_at = now(), messages = u.messages + 1
     WHERE u.id = a.uid
       AND (u.last_message_at IS NULL
            OR u.last_message_at <= now() - make_interval(secs => (s ->> 'message.cooldown_seconds')::int));
    IF NOT FOUND THEN
        RETURN xp._state(a.uid);  -- inside the cooldown, whichever platform the last one came from
    END IF;
    v_min := (s ->> 'message.xp_min')::int;
    v_max := (s ->> 'message.xp_max')::int;
    r := xp._apply(a.uid, a.acc, record_message.platform, 'xp', v_min + floor(random() * (v_max - v_min + 1))::int,
                   'message', 'msg:' || record_message.platform || ':' || record_message.chat_id || ':'
                              || record_message.message_id,
                   xp._multiplier(record_message.platform, record_message.chat_id), NULL,
                   record_message.display_name);
    IF xp._achieve(a.uid, '{messages}') > 0 THEN
        r := xp._refresh(r);
    END IF;
    RETURN r;
END
$$;

COMMENT ON FUNCTION xp.record_message(platform text, external_id text, chat_id text, message_id text, length integer, display_name text) IS 'Count a chat message for XP: once per (platform, chat_id, message_id), one per cooldown per person; applied=false otherwise.';

CREATE FUNCTION xp.record_voice(platform text, external_id text, session_id text, eligible_seconds integer) RETURNS xp.award_result
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    a record;
    v_prev_seconds int;
    v_prev_xp bigint;
    v_xp bigint;
    r xp.award_result;
BEGIN
    IF record_voice.eligible_seconds IS NULL OR record_voice.eligible_seconds NOT BETWEEN 1 AND 1000000 THEN
        RAISE EXCEPTION 'eligible_seconds % is invalid: it must be between 1 and 1000000',
            coalesce(record_voice.eligible_seconds::text, 'NULL') USING ERRCODE = 'XP002';
    END IF;
    PERFORM xp._check_text(record_voice.session_id, 'session_id', 100);
    SELECT * INTO a FROM xp._account_for(record_voice.platform, record_voice.external_id);
    INSERT INTO xp.voice_sessions (account_id, session_id) VALUES (a.acc, record_voice.session_id)
    ON CONFLICT DO NOTHING;
    SELECT v.seconds, v.base_xp INTO v_prev_seconds, v_prev_xp
      FROM xp.voice_sessions v
     WHERE v.account_id = a.acc AND v.session_id = record_voice.session_id
       FOR UPDATE;
    IF record_voice.eligible_seconds <= v_prev_seconds THEN
        RETURN xp._state(a.uid);  -- a replay or an older report: nothing new
    END IF;
    v_xp := (record_voice.eligible_seconds / 60) * xp._setting('voice.xp_per_minute')::int;
    UPDATE xp.voice_sessions v
       SET seconds = record_voice.eligible_seconds, base_xp = greatest(v_xp, v_prev_xp), updated_at = now()
     WHERE v.account_id = a.acc AND v.session_id = record_voice.session_id;
    UPDATE xp.users u
       SET voice_seconds = u.voice_seconds + (record_voice.eligible_seconds - v_prev_seconds)
     WHERE u.id = a.uid;
    IF v_xp <= v_prev_xp THEN
        r := xp._state(a.uid);  -- no new whole minute yet
    ELSE
        r := xp._apply(a.uid, a.acc, record_voice.platform, 'xp', (v_xp - v_prev_xp)::int, 'voice',
                       'voice:' || a.acc || ':' || record_voice.session_id || ':' || v_xp, xp._multiplier());
    END IF;
    IF xp._achieve(a.uid, '{voice_seconds}') > 0 THEN
        r := xp._refresh(r);
    END IF;
    RETURN r;
END
$$;

COMMENT ON FUNCTION xp.record_voice(platform text, external_id text, session_id text, eligible_seconds integer) IS 'Voice XP for a session''s eligible seconds so far; a later call for the same session awards only the increase.';

CREATE FUNCTION xp.redeem_link_code(platform text, external_id text, code text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    r record;
    c xp.link_codes;
    v_issuer bigint;
    v_redeemer bigint;
    v_clash text;
BEGIN
    IF redeem_link_code.code IS NULL OR length(redeem_link_code.code) = 0 THEN
        RAISE EXCEPTION 'code must not be empty' USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO r FROM xp._account_for(redeem_link_code.platform, redeem_link_code.external_id);
    PERFORM xp._identity_lock();
    IF (SELECT a.redeem_locked_until FROM xp.accounts a WHERE a.id = r.acc) > now() THEN
        RAISE EXCEPTION 'account %:% may not redeem link codes until % after too many failed attempts',
            redeem_link_code.platform, redeem_link_code.external_id,
            to_char((SELECT a.redeem_locked_until FROM xp.accounts a WHERE a.id = r.acc) AT TIME ZONE 'UTC',
                    'YYYY-MM-DD HH24:MI:SS "UTC"')
            USING ERRCODE = 'XP005';
    END IF;
    SELECT * INTO c FROM xp.link_codes l WHERE l.code_hash = xp._code_hash(redeem_link_code.code) FOR UPDATE;
    IF FOUND AND c.redeemed_by = r.acc THEN
        RETURN (SELECT a.user_id FROM xp.accounts a WHERE a.id = r.acc);  -- the same redeem again
    END IF;
    IF NOT FOUND OR c.redeemed_at IS NOT NULL OR c.expires_at <= now() THEN
        -- unknown, used and expired look the same; the failure must commit, so no error
        PERFORM xp._redeem_failed(r.acc);
        RETURN NULL;
    END IF;
    SELECT a.user_id INTO v_issuer FROM xp.accounts a WHERE a.id = c.account_id;
    SELECT a.user_id INTO v_redeemer FROM xp.accounts a WHERE a.id = r.acc;
    IF v_issuer = v_redeemer THEN
        RAISE EXCEPTION 'account %:% already belongs to person %, who issued this code',
            redeem_link_code.platform, redeem_link_code.external_id, v_issuer USING ERRCODE = 'XP006';
    END IF;
    SELECT string_agg(DISTINCT x.platform, ', ') INTO v_clash
      FROM xp.accounts x JOIN xp.accounts y ON y.platform = x.platform
     WHERE x.user_id = v_issuer AND y.user_id = v_redeemer;
    IF v_clash IS NOT NULL THEN
        RAISE EXCEPTION 'person % and person % both have a % account; unlink one first',
            v_issuer, v_redeemer, v_clash USING ERRCODE = 'XP006';
    END IF;
    UPDATE xp.link_codes l SET redeemed_at = now(), redeemed_by = r.acc WHERE l.code_hash = c.code_hash;
    -- the older person lives on
    PERFORM xp._merge(least(v_issuer, v_redeemer), greatest(v_issuer, v_redeemer), r.acc);
    RETURN least(v_issuer, v_redeemer);
END
$$;

COMMENT ON FUNCTION xp.redeem_link_code(platform text, external_id text, code text) IS 'Redeem a link code from another platform: both accounts become one person (merging progress); NULL for a bad code.';

CREATE FUNCTION xp.refresh_places(force boolean DEFAULT false) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $_$
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
$_$;

COMMENT ON FUNCTION xp.refresh_places(force boolean) IS 'Retake the board marks places are counted from, unless they are younger than places.refresh_seconds (or force); false when skipped.';

CREATE FUNCTION xp.release_deliveries(owner text, ids bigint[]) RETURNS integer
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    WITH released AS (
        UPDATE xp.deliveries d
           SET run_at = now(), attempts = d.attempts - 1, lease_owner = NULL
         WHERE d.id = ANY (release_deliveries.ids) AND d.lease_owner = release_deliveries.owner AND d.status = 'pending'
        RETURNING 1)
    SELECT count(*)::int FROM released
$$;

COMMENT ON FUNCTION xp.release_deliveries(owner text, ids bigint[]) IS 'Listener: hand claimed deliveries back unprocessed (on shutdown); they are due at once.';

CREATE FUNCTION xp.request_resync(platform text, external_id text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    v_uid bigint;
BEGIN
    PERFORM xp._check_platform(request_resync.platform);
    SELECT a.user_id INTO v_uid FROM xp.accounts a
     WHERE a.platform = request_resync.platform AND a.external_id = request_resync.external_id;
    IF NOT FOUND THEN
        RETURN 0;  -- never seen: there are no roles to put right
    END IF;
    RETURN xp._queue_resync(ARRAY[v_uid], 'requested via ' || request_resync.platform);
END
$$;

COMMENT ON FUNCTION xp.request_resync(platform text, external_id text) IS 'Bots: ask for the Discord roles of the person behind an account to be put right; returns deliveries queued.';

CREATE FUNCTION xp.rerank_batch(batch_size integer DEFAULT 1000) RETURNS integer
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.rerank_batch(batch_size integer) IS 'Move up to batch_size people whose rank no longer matches xp.ranks; call until it returns 0.';

CREATE FUNCTION xp.resync_roles(user_id bigint DEFAULT NULL::bigint) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
BEGIN
    RETURN xp._queue_resync(CASE WHEN resync_roles.user_id IS NULL THEN NULL ELSE ARRAY[resync_roles.user_id] END,
                            'resync_roles by ' || session_user);
END
$$;

COMMENT ON FUNCTION xp.resync_roles(user_id bigint) IS 'Admin: queue a Discord role resync for one person, or (NULL) everyone with a Discord account.';

CREATE FUNCTION xp.revoke_api_key(name text) RETURNS boolean
    LANGUAGE sql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    WITH gone AS (UPDATE xp.api_keys k SET revoked_at = now()
                   WHERE k.name = revoke_api_key.name AND k.revoked_at IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM gone)
$$;

COMMENT ON FUNCTION xp.revoke_api_key(name text) IS 'Admin: revoke the API key of that name; false when there is none in use.';

CREATE FUNCTION xp.set_language(platform text, external_id text, language text) RETURNS text
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.set_language(platform text, external_id text, language text) IS 'Bots: the language of the person''s notices and bot replies (one of the notices.languages setting).';

CREATE FUNCTION xp.set_notify(platform text, external_id text, enabled boolean) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.set_notify(platform text, external_id text, enabled boolean) IS 'Bots: turn the person''s Telegram notices (rank-ups, achievements) on or off.';

CREATE FUNCTION xp.set_privacy(platform text, external_id text, hidden boolean) RETURNS boolean
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.set_privacy(platform text, external_id text, hidden boolean) IS 'Hide the person behind an account from every public board, profile and card (true), or show them again (false).';

CREATE FUNCTION xp.start_game(platform text, external_id text, game text) RETURNS jsonb
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    a record;
    g xp.game_sessions;
    v_today date := (now() AT TIME ZONE 'UTC')::date;
    v_prize xp.wheel_prizes;
    v_lang text;
BEGIN
    IF start_game.game IS NULL OR start_game.game NOT IN ('guess', 'quiz', 'spin') THEN
        RAISE EXCEPTION 'unknown game %: expected guess, quiz or spin',
            coalesce(quote_literal(left(start_game.game, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO a FROM xp._account_for(start_game.platform, start_game.external_id);
    PERFORM 1 FROM xp.users u WHERE u.id = a.uid FOR UPDATE;  -- one start at a time per person
    IF start_game.game = 'guess' THEN
        -- an unfinished game goes on rather than starting over with a fresh set of tries
        SELECT * INTO g FROM xp.game_sessions s
         WHERE s.account_id = a.acc AND s.game = 'guess' AND s.status = 'active'
         ORDER BY s.id DESC LIMIT 1;
        IF NOT FOUND THEN
            INSERT INTO xp.game_sessions (account_id, game, state)
            VALUES (a.acc, 'guess', jsonb_build_object('secret', 1 + floor(random() * 100)::int,
                                                       'tries_left', xp._setting('games.guess_tries')::int,
                                                       'hint', NULL, 'guesses', '[]'::jsonb))
            RETURNING * INTO g;
        END IF;
        RETURN xp._game_view(g, 0, false);
    ELSIF start_game.game = 'quiz' THEN
        SELECT u.language INTO v_lang FROM xp.users u WHERE u.id = a.uid;
        INSERT INTO xp.game_sessions (account_id, game, state)
        SELECT a.acc, 'quiz', jsonb_build_object('question_id', q.id)
          FROM xp.quiz_questions q
         ORDER BY (q.language = v_lang) DESC, random()
         LIMIT 1
        RETURNING * INTO g;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'there are no quiz questions yet (xp.quiz_questions is empty)' USING ERRCODE = 'XP002';
        END IF;
        RETURN xp._game_view(g, 0, false);
    END IF;
    -- the wheel: once per UTC day for the person (any of their accounts) and for the account
    SELECT s.* INTO g FROM xp.game_sessions s JOIN xp.accounts c ON c.id = s.account_id
     WHERE (c.user_id = a.uid OR s.account_id = a.acc) AND s.game = 'spin'
       AND s.created_at >= (v_today::timestamp AT TIME ZONE 'UTC')
     ORDER BY s.id LIMIT 1;
    IF FOUND THEN
        RETURN xp._game_view(g, 0, false);
    END IF;
    SELECT p.* INTO v_prize
      FROM (SELECT w.*, sum(w.weight) OVER (ORDER BY w.id) AS upto, sum(w.weight) OVER () AS total
              FROM xp.wheel_prizes w) AS p,
           (SELECT random() AS r) AS roll
     WHERE p.upto > roll.r * p.total
     ORDER BY p.id LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'the wheel has no prizes (xp.wheel_prizes is empty)' USING ERRCODE = 'XP002';
    END IF;
    INSERT INTO xp.game_sessions (account_id, game, state, status, finished_at)
    VALUES (a.acc, 'spin', jsonb_build_object('kind', v_prize.kind, 'amount', v_prize.amount,
                                              'next_spin_at', (v_today + 1)::timestamp AT TIME ZONE 'UTC'),
            'done', now())
    RETURNING * INTO g;
    PERFORM xp._apply(a.uid, a.acc, start_game.platform, v_prize.kind, v_prize.amount, 'wheel', 'game:' || g.id,
                      CASE WHEN v_prize.kind = 'xp' THEN xp._multiplier() ELSE 1 END);
    RETURN xp._game_view(g, CASE WHEN v_prize.kind = 'xp' THEN v_prize.amount ELSE 0 END, true);
END
$$;

COMMENT ON FUNCTION xp.start_game(platform text, external_id text, game text) IS 'Bots: start guess (or go on with the unfinished one) or quiz, or spin the daily wheel; returns what to show.';

CREATE FUNCTION xp.stats() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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
        'notify_queue_usage', pg_notification_queue_usage())
$$;

COMMENT ON FUNCTION xp.stats() IS 'Health at a glance: deliveries by target and status, oldest pending, top failures, people, ledger, NOTIFY queue.';

CREATE FUNCTION xp.telegram_recipient(uid bigint) RETURNS TABLE(chat_id text, language text, notify boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT a.external_id, u.language, u.notify
      FROM xp.users u
      JOIN xp.accounts a ON a.user_id = u.id AND a.platform = 'telegram'
     WHERE u.id = uid
$$;

COMMENT ON FUNCTION xp.telegram_recipient(uid bigint) IS 'Listener: the private chat, language and notice preference of a person''s Telegram account.';

CREATE FUNCTION xp.unlink(platform text, external_id text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
DECLARE
    a record;
    p xp.users;
    v_new bigint;
BEGIN
    SELECT * INTO a FROM xp._known_account(unlink.platform, unlink.external_id);
    PERFORM xp._identity_lock();
    SELECT c.user_id INTO a.uid FROM xp.accounts c WHERE c.id = a.acc;
    IF (SELECT count(*) FROM xp.accounts c WHERE c.user_id = a.uid) < 2 THEN
        RAISE EXCEPTION 'account %:% is the only account of person %; there is nothing to unlink it from',
            unlink.platform, unlink.external_id, a.uid USING ERRCODE = 'XP007';
    END IF;
    v_new := xp._new_person((SELECT c.display_name FROM xp.accounts c WHERE c.id = a.acc));
    -- the account moves first (waiting for writes in flight through it), then the person is locked
    UPDATE xp.accounts c SET user_id = v_new, linked_at = NULL WHERE c.id = a.acc;
    SELECT * INTO p FROM xp.users u WHERE u.id = a.uid FOR UPDATE;
    -- starting over with nothing must not open a second daily claim or rank reward
    UPDATE xp.users u
       SET rewarded_rank = greatest(u.rewarded_rank, p.rewarded_rank),
           last_daily = p.last_daily,
           last_message_at = p.last_message_at,
           language = p.language,
           notify = p.notify
     WHERE u.id = v_new;
    PERFORM xp._emit(v_new, 'account_unlinked', jsonb_build_object('from_user', a.uid, 'account', a.acc));
    PERFORM xp._emit(a.uid, 'account_unlinked', jsonb_build_object('to_user', v_new, 'account', a.acc));
    RETURN v_new;
END
$$;

COMMENT ON FUNCTION xp.unlink(platform text, external_id text) IS 'Take an account off its person: the person keeps all progress, the account starts over as a new person.';

CREATE FUNCTION xp.web_settings() RETURNS jsonb
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
    SELECT coalesce(jsonb_object_agg(s.key, s.value), '{}') FROM xp.settings s WHERE s.key LIKE 'web.%'
$$;

COMMENT ON FUNCTION xp.web_settings() IS 'Web: the web.* settings (web.visibility) as one jsonb object.';

CREATE FUNCTION xp.web_sign_in(platform text, external_id text, display_name text DEFAULT NULL::text) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path TO 'pg_catalog', 'pg_temp'
    AS $$
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

COMMENT ON FUNCTION xp.web_sign_in(platform text, external_id text, display_name text) IS 'Web: a member signed in with a verified Discord or Telegram account; returns their person id (first sight creates one).';

CREATE TABLE xp.accounts (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    platform text NOT NULL,
    external_id text NOT NULL,
    display_name text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    linked_at timestamp with time zone,
    redeem_locked_until timestamp with time zone,
    CONSTRAINT accounts_external_id_check CHECK (((length(external_id) >= 1) AND (length(external_id) <= 200))),
    CONSTRAINT accounts_platform_check CHECK ((platform = ANY (ARRAY['telegram'::text, 'discord'::text, 'website'::text])))
);

COMMENT ON TABLE xp.accounts IS 'Platform accounts; a person holds at most one per platform.';

ALTER TABLE xp.accounts ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME xp.accounts_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE xp.achievement_roles (
    guild_id text NOT NULL,
    code text NOT NULL,
    role_id text NOT NULL
);

COMMENT ON TABLE xp.achievement_roles IS 'Operator table: the Discord role a guild gives for an achievement.';

CREATE TABLE xp.achievements (
    code text NOT NULL,
    name text NOT NULL,
    description text DEFAULT ''::text NOT NULL,
    emoji text DEFAULT '🏆'::text NOT NULL,
    criterion text NOT NULL,
    threshold bigint NOT NULL,
    reward_xp integer DEFAULT 0 NOT NULL,
    reward_coins integer DEFAULT 0 NOT NULL,
    translations jsonb DEFAULT '{}'::jsonb NOT NULL,
    CONSTRAINT achievements_code_check CHECK ((code ~ '^[a-z0-9_]{1,40}$'::text)),
    CONSTRAINT achievements_criterion_check CHECK ((criterion = ANY (ARRAY['games_won'::text, 'streak'::text, 'messages'::text, 'voice_seconds'::text, 'rank'::text, 'platforms'::text]))),
    CONSTRAINT achievements_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100))),
    CONSTRAINT achievements_reward_coins_check CHECK (((reward_coins >= 0) AND (reward_coins <= 1000000))),
    CONSTRAINT achievements_reward_xp_check CHECK (((reward_xp >= 0) AND (reward_xp <= 1000000))),
    CONSTRAINT achievements_threshold_check CHECK ((threshold > 0)),
    CONSTRAINT achievements_translations_check CHECK ((jsonb_typeof(translations) = 'object'::text))
);

COMMENT ON TABLE xp.achievements IS 'Operator table: an achievement unlocks once per person when the criterion (games_won, streak, messages, voice_seconds, rank, platforms) reaches threshold.';

CREATE TABLE xp.api_keys (
    id bigint NOT NULL,
    name text NOT NULL,
    key_hash bytea NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    revoked_at timestamp with time zone,
    CONSTRAINT api_keys_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100)))
);

COMMENT ON TABLE xp.api_keys IS 'API keys of the web''s JSON API, as SHA-256 hashes; made by xp.create_api_key.';

ALTER TABLE xp.api_keys ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME xp.api_keys_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE xp.board_marks (
    board text NOT NULL,
    period_of text NOT NULL,
    place bigint NOT NULL,
    xp bigint NOT NULL,
    user_id bigint NOT NULL,
    CONSTRAINT board_marks_board_check CHECK ((board = ANY (ARRAY['all'::text, 'season'::text, 'month'::text, 'week'::text])))
);

COMMENT ON TABLE xp.board_marks IS 'Cache: every places.stride-th (xp, id) of each board and its place when taken; xp.refresh_places() retakes it.';

CREATE TABLE xp.board_marks_taken (
    only_row boolean DEFAULT true NOT NULL,
    taken_at timestamp with time zone NOT NULL,
    CONSTRAINT board_marks_taken_only_row_check CHECK (only_row)
);

COMMENT ON TABLE xp.board_marks_taken IS 'When xp.board_marks was last taken.';

CREATE TABLE xp.deliveries (
    id bigint NOT NULL,
    event_id bigint NOT NULL,
    target text NOT NULL,
    user_id bigint NOT NULL,
    status text DEFAULT 'pending'::text NOT NULL,
    attempts integer DEFAULT 0 NOT NULL,
    run_at timestamp with time zone DEFAULT now() NOT NULL,
    lease_owner text,
    last_error text,
    sent_ref text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    finished_at timestamp with time zone,
    CONSTRAINT deliveries_status_check CHECK ((status = ANY (ARRAY['pending'::text, 'done'::text, 'failed'::text, 'dead'::text]))),
    CONSTRAINT deliveries_target_check CHECK ((target = ANY (ARRAY['discord'::text, 'telegram'::text])))
);

COMMENT ON TABLE xp.deliveries IS 'The mailbox: one row per event and interested platform; NOTIFY xp_<target> is only the doorbell.';

ALTER TABLE xp.deliveries ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME xp.deliveries_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE xp.events (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    kind text NOT NULL,
    payload jsonb DEFAULT '{}'::jsonb NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT events_kind_check CHECK ((kind = ANY (ARRAY['rank_changed'::text, 'achievement_unlocked'::text, 'account_linked'::text, 'account_unlinked'::text, 'persons_merged'::text, 'roles_resync'::text])))
);

COMMENT ON TABLE xp.events IS 'What happened that a platform cares about, written in the transaction of the change.';

ALTER TABLE xp.events ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME xp.events_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE xp.game_sessions ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME xp.game_sessions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE xp.guild_settings (
    guild_id text NOT NULL,
    role_mode text DEFAULT 'replace'::text NOT NULL,
    CONSTRAINT guild_settings_role_mode_check CHECK ((role_mode = ANY (ARRAY['replace'::text, 'stack'::text])))
);

COMMENT ON TABLE xp.guild_settings IS 'Operator table: replace = only the role of the highest rank reached; stack = the roles of every rank reached.';

CREATE TABLE xp.ledger (
    id bigint NOT NULL,
    user_id bigint NOT NULL,
    account_id bigint,
    platform text,
    kind text NOT NULL,
    delta bigint NOT NULL,
    reason text NOT NULL,
    idempotency_key text NOT NULL,
    factor numeric(6,3) DEFAULT 1 NOT NULL,
    actor text,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    CONSTRAINT ledger_kind_check CHECK ((kind = ANY (ARRAY['xp'::text, 'coins'::text])))
);

COMMENT ON TABLE xp.ledger IS 'Append-only: every XP and coin change. Rows are re-pointed by merges, never rewritten or deleted.';

ALTER TABLE xp.ledger ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME xp.ledger_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE xp.link_codes (
    code_hash bytea NOT NULL,
    account_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    redeemed_at timestamp with time zone,
    redeemed_by bigint
);

COMMENT ON TABLE xp.link_codes IS 'One-time link codes, as hashes: a reader cannot redeem what it sees.';

CREATE TABLE xp.link_pepper (
    only_row boolean DEFAULT true NOT NULL,
    pepper bytea NOT NULL,
    CONSTRAINT link_pepper_only_row_check CHECK (only_row)
);

CREATE TABLE xp.merges (
    id bigint NOT NULL,
    from_user bigint NOT NULL,
    into_user bigint NOT NULL,
    by_account bigint NOT NULL,
    from_xp bigint NOT NULL,
    from_coins bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE xp.merges IS 'Audit of merged persons: the merged person''s ledger rows now point at into_user.';

ALTER TABLE xp.merges ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME xp.merges_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE xp.message_log (
    platform text NOT NULL,
    chat_id text NOT NULL,
    message_id text NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE xp.message_log IS 'Every message seen, counted or not, so that a replay never counts one later.';

CREATE TABLE xp.multipliers (
    id bigint NOT NULL,
    factor numeric(6,3) NOT NULL,
    platform text,
    chat_id text,
    starts_at timestamp with time zone NOT NULL,
    ends_at timestamp with time zone NOT NULL,
    reason text DEFAULT ''::text NOT NULL,
    CONSTRAINT multipliers_check CHECK ((ends_at > starts_at)),
    CONSTRAINT multipliers_check1 CHECK (((platform IS NULL) = (chat_id IS NULL))),
    CONSTRAINT multipliers_factor_check CHECK (((factor >= (1)::numeric) AND (factor <= (3)::numeric))),
    CONSTRAINT multipliers_platform_check CHECK ((platform = ANY (ARRAY['telegram'::text, 'discord'::text, 'website'::text])))
);

COMMENT ON TABLE xp.multipliers IS 'Operator table: XP multipliers from starts_at (inclusive) to ends_at (exclusive), global (no platform/chat) or for one chat/channel; overlapping ones multiply, capped by multiplier.cap.';

ALTER TABLE xp.multipliers ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME xp.multipliers_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE xp.quiz_questions (
    id integer NOT NULL,
    language text DEFAULT 'en'::text NOT NULL,
    question text NOT NULL,
    options text[] NOT NULL,
    answer integer NOT NULL,
    CONSTRAINT quiz_questions_check CHECK (((answer >= 0) AND (answer < cardinality(options)))),
    CONSTRAINT quiz_questions_options_check CHECK (((cardinality(options) >= 2) AND (cardinality(options) <= 6))),
    CONSTRAINT quiz_questions_question_check CHECK (((length(question) >= 1) AND (length(question) <= 300)))
);

COMMENT ON TABLE xp.quiz_questions IS 'Operator table: quiz questions per language; answer is the 0-based index of the right option.';

ALTER TABLE xp.quiz_questions ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME xp.quiz_questions_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE xp.rank_roles (
    guild_id text NOT NULL,
    rank_id integer NOT NULL,
    role_id text NOT NULL
);

COMMENT ON TABLE xp.rank_roles IS 'Operator table: the Discord role that mirrors a rank in a guild.';

CREATE TABLE xp.ranks (
    id integer NOT NULL,
    name text NOT NULL,
    tier text NOT NULL,
    stars integer NOT NULL,
    min_xp bigint NOT NULL,
    color text NOT NULL,
    emoji text NOT NULL,
    reward_coins integer DEFAULT 0 NOT NULL,
    CONSTRAINT ranks_color_check CHECK ((color ~ '^#[0-9A-Fa-f]{6}$'::text)),
    CONSTRAINT ranks_id_check CHECK ((id >= 1)),
    CONSTRAINT ranks_min_xp_check CHECK ((min_xp >= 0)),
    CONSTRAINT ranks_reward_coins_check CHECK ((reward_coins >= 0)),
    CONSTRAINT ranks_stars_check CHECK (((stars >= 1) AND (stars <= 3)))
);

COMMENT ON TABLE xp.ranks IS 'Operator table: rank thresholds; rank ids ascend with min_xp and the lowest rank starts at 0 XP.';

CREATE TABLE xp.redeem_failures (
    account_id bigint NOT NULL,
    created_at timestamp with time zone DEFAULT now() NOT NULL
);

CREATE TABLE xp.seasons (
    id integer NOT NULL,
    name text NOT NULL,
    starts_on date NOT NULL,
    ends_on date NOT NULL,
    CONSTRAINT seasons_check CHECK ((ends_on > starts_on)),
    CONSTRAINT seasons_name_check CHECK (((length(name) >= 1) AND (length(name) <= 100)))
);

COMMENT ON TABLE xp.seasons IS 'Operator table: seasons from starts_on (first UTC day) to ends_on (first day after); season XP is a window over the ledger.';

ALTER TABLE xp.seasons ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME xp.seasons_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE xp.settings (
    key text NOT NULL,
    value jsonb NOT NULL,
    description text DEFAULT ''::text NOT NULL
);

COMMENT ON TABLE xp.settings IS 'Operator table: tunables; the functions read them on every call.';

CREATE TABLE xp.user_achievements (
    user_id bigint NOT NULL,
    code text NOT NULL,
    unlocked_at timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE xp.user_achievements IS 'Who unlocked what; merges unite both sides'' rows.';

ALTER TABLE xp.users ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY (
    SEQUENCE NAME xp.users_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

CREATE TABLE xp.voice_sessions (
    account_id bigint NOT NULL,
    session_id text NOT NULL,
    seconds integer DEFAULT 0 NOT NULL,
    base_xp bigint DEFAULT 0 NOT NULL,
    updated_at timestamp with time zone DEFAULT now() NOT NULL
);

COMMENT ON TABLE xp.voice_sessions IS 'Eligible seconds and XP so far per voice session: a later report awards only the increase.';

CREATE TABLE xp.wheel_prizes (
    id integer NOT NULL,
    kind text NOT NULL,
    amount integer NOT NULL,
    weight integer NOT NULL,
    CONSTRAINT wheel_prizes_amount_check CHECK (((amount >= 1) AND (amount <= 100000))),
    CONSTRAINT wheel_prizes_kind_check CHECK ((kind = ANY (ARRAY['xp'::text, 'coins'::text]))),
    CONSTRAINT wheel_prizes_weight_check CHECK ((weight > 0))
);

COMMENT ON TABLE xp.wheel_prizes IS 'Operator table: the daily wheel; a prize comes up with probability weight / sum of weights.';

ALTER TABLE xp.wheel_prizes ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY (
    SEQUENCE NAME xp.wheel_prizes_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1
);

ALTER TABLE ONLY xp.accounts
    ADD CONSTRAINT accounts_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.accounts
    ADD CONSTRAINT accounts_platform_external_id_key UNIQUE (platform, external_id);

ALTER TABLE ONLY xp.accounts
    ADD CONSTRAINT accounts_user_id_platform_key UNIQUE (user_id, platform);

ALTER TABLE ONLY xp.achievement_roles
    ADD CONSTRAINT achievement_roles_guild_id_role_id_key UNIQUE (guild_id, role_id);

ALTER TABLE ONLY xp.achievement_roles
    ADD CONSTRAINT achievement_roles_pkey PRIMARY KEY (guild_id, code);

ALTER TABLE ONLY xp.achievements
    ADD CONSTRAINT achievements_pkey PRIMARY KEY (code);

ALTER TABLE ONLY xp.api_keys
    ADD CONSTRAINT api_keys_key_hash_key UNIQUE (key_hash);

ALTER TABLE ONLY xp.api_keys
    ADD CONSTRAINT api_keys_name_key UNIQUE (name);

ALTER TABLE ONLY xp.api_keys
    ADD CONSTRAINT api_keys_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.board_marks
    ADD CONSTRAINT board_marks_pkey PRIMARY KEY (board, period_of, place);

ALTER TABLE ONLY xp.board_marks_taken
    ADD CONSTRAINT board_marks_taken_pkey PRIMARY KEY (only_row);

ALTER TABLE ONLY xp.deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.events
    ADD CONSTRAINT events_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.game_sessions
    ADD CONSTRAINT game_sessions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.guild_settings
    ADD CONSTRAINT guild_settings_pkey PRIMARY KEY (guild_id);

ALTER TABLE ONLY xp.ledger
    ADD CONSTRAINT ledger_idempotency_key_key UNIQUE (idempotency_key);

ALTER TABLE ONLY xp.ledger
    ADD CONSTRAINT ledger_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.link_codes
    ADD CONSTRAINT link_codes_pkey PRIMARY KEY (code_hash);

ALTER TABLE ONLY xp.link_pepper
    ADD CONSTRAINT link_pepper_pkey PRIMARY KEY (only_row);

ALTER TABLE ONLY xp.merges
    ADD CONSTRAINT merges_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.message_log
    ADD CONSTRAINT message_log_pkey PRIMARY KEY (platform, chat_id, message_id);

ALTER TABLE ONLY xp.multipliers
    ADD CONSTRAINT multipliers_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.quiz_questions
    ADD CONSTRAINT quiz_questions_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.rank_roles
    ADD CONSTRAINT rank_roles_guild_id_role_id_key UNIQUE (guild_id, role_id);

ALTER TABLE ONLY xp.rank_roles
    ADD CONSTRAINT rank_roles_pkey PRIMARY KEY (guild_id, rank_id);

ALTER TABLE ONLY xp.ranks
    ADD CONSTRAINT ranks_min_xp_key UNIQUE (min_xp);

ALTER TABLE ONLY xp.ranks
    ADD CONSTRAINT ranks_name_key UNIQUE (name);

ALTER TABLE ONLY xp.ranks
    ADD CONSTRAINT ranks_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.seasons
    ADD CONSTRAINT seasons_daterange_excl EXCLUDE USING gist (daterange(starts_on, ends_on) WITH &&);

ALTER TABLE ONLY xp.seasons
    ADD CONSTRAINT seasons_name_key UNIQUE (name);

ALTER TABLE ONLY xp.seasons
    ADD CONSTRAINT seasons_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.settings
    ADD CONSTRAINT settings_pkey PRIMARY KEY (key);

ALTER TABLE ONLY xp.user_achievements
    ADD CONSTRAINT user_achievements_pkey PRIMARY KEY (user_id, code);

ALTER TABLE ONLY xp.users
    ADD CONSTRAINT users_pkey PRIMARY KEY (id);

ALTER TABLE ONLY xp.voice_sessions
    ADD CONSTRAINT voice_sessions_pkey PRIMARY KEY (account_id, session_id);

ALTER TABLE ONLY xp.wheel_prizes
    ADD CONSTRAINT wheel_prizes_pkey PRIMARY KEY (id);

CREATE INDEX accounts_name ON xp.accounts USING btree (lower(display_name) text_pattern_ops) WHERE (display_name IS NOT NULL);

CREATE INDEX board_marks_key ON xp.board_marks USING btree (board, period_of, xp, user_id);

CREATE INDEX deliveries_due ON xp.deliveries USING btree (target, run_at) WHERE (status = 'pending'::text);

CREATE INDEX deliveries_event ON xp.deliveries USING btree (event_id);

CREATE INDEX game_sessions_account ON xp.game_sessions USING btree (account_id, game, created_at);

CREATE INDEX ledger_time ON xp.ledger USING brin (created_at);

CREATE INDEX ledger_user ON xp.ledger USING btree (user_id, created_at);

CREATE INDEX ledger_xp_time ON xp.ledger USING btree (created_at, user_id) WHERE (kind = 'xp'::text);

CREATE INDEX link_codes_account ON xp.link_codes USING btree (account_id);

CREATE INDEX message_log_time ON xp.message_log USING brin (created_at);

CREATE INDEX multipliers_live ON xp.multipliers USING btree (ends_at);

CREATE INDEX redeem_failures_account ON xp.redeem_failures USING btree (account_id, created_at);

CREATE INDEX users_board ON xp.users USING btree (xp DESC, id) WHERE ((xp > 0) AND (forgotten_at IS NULL) AND (NOT hidden));

CREATE INDEX users_month ON xp.users USING btree (month_of, month_xp DESC, id) WHERE ((month_xp > 0) AND (forgotten_at IS NULL) AND (NOT hidden));

CREATE INDEX users_season ON xp.users USING btree (season_id, season_xp DESC, id) WHERE ((season_xp > 0) AND (forgotten_at IS NULL) AND (NOT hidden));

CREATE INDEX users_week ON xp.users USING btree (week_of, week_xp DESC, id) WHERE ((week_xp > 0) AND (forgotten_at IS NULL) AND (NOT hidden));

CREATE TRIGGER achievement_roles_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON xp.achievement_roles FOR EACH STATEMENT EXECUTE FUNCTION xp._role_mapping_changed();

CREATE TRIGGER deliveries_ring AFTER INSERT ON xp.deliveries FOR EACH ROW WHEN ((new.status = 'pending'::text)) EXECUTE FUNCTION xp._ring();

CREATE TRIGGER guild_settings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON xp.guild_settings FOR EACH STATEMENT EXECUTE FUNCTION xp._role_mapping_changed();

CREATE TRIGGER ledger_no_delete BEFORE DELETE ON xp.ledger FOR EACH ROW EXECUTE FUNCTION xp._ledger_append_only();

CREATE TRIGGER ledger_no_rewrite BEFORE UPDATE ON xp.ledger FOR EACH ROW WHEN (((((((((((old.id IS DISTINCT FROM new.id) OR (old.account_id IS DISTINCT FROM new.account_id)) OR (old.platform IS DISTINCT FROM new.platform)) OR (old.kind IS DISTINCT FROM new.kind)) OR (old.delta IS DISTINCT FROM new.delta)) OR (old.reason IS DISTINCT FROM new.reason)) OR (old.idempotency_key IS DISTINCT FROM new.idempotency_key)) OR (old.factor IS DISTINCT FROM new.factor)) OR (old.actor IS DISTINCT FROM new.actor)) OR (old.created_at IS DISTINCT FROM new.created_at))) EXECUTE FUNCTION xp._ledger_append_only();

CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON xp.ledger FOR EACH STATEMENT EXECUTE FUNCTION xp._ledger_append_only();

CREATE TRIGGER privacy_follows AFTER UPDATE OF user_id ON xp.accounts FOR EACH ROW WHEN ((old.user_id IS DISTINCT FROM new.user_id)) EXECUTE FUNCTION xp._privacy_follows();

CREATE TRIGGER rank_roles_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON xp.rank_roles FOR EACH STATEMENT EXECUTE FUNCTION xp._role_mapping_changed();

CREATE TRIGGER ranks_changed AFTER INSERT OR DELETE OR UPDATE ON xp.ranks FOR EACH STATEMENT EXECUTE FUNCTION xp._ranks_changed();

CREATE TRIGGER seasons_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON xp.seasons FOR EACH STATEMENT EXECUTE FUNCTION xp._seasons_changed();

CREATE TRIGGER settings_changed AFTER INSERT OR DELETE OR UPDATE OR TRUNCATE ON xp.settings FOR EACH STATEMENT EXECUTE FUNCTION xp._settings_changed();

ALTER TABLE ONLY xp.accounts
    ADD CONSTRAINT accounts_user_id_fkey FOREIGN KEY (user_id) REFERENCES xp.users(id);

ALTER TABLE ONLY xp.achievement_roles
    ADD CONSTRAINT achievement_roles_code_fkey FOREIGN KEY (code) REFERENCES xp.achievements(code) ON DELETE CASCADE;

ALTER TABLE ONLY xp.deliveries
    ADD CONSTRAINT deliveries_event_id_fkey FOREIGN KEY (event_id) REFERENCES xp.events(id) ON DELETE CASCADE;

ALTER TABLE ONLY xp.game_sessions
    ADD CONSTRAINT game_sessions_account_id_fkey FOREIGN KEY (account_id) REFERENCES xp.accounts(id) ON DELETE CASCADE;

ALTER TABLE ONLY xp.ledger
    ADD CONSTRAINT ledger_user_id_fkey FOREIGN KEY (user_id) REFERENCES xp.users(id);

ALTER TABLE ONLY xp.link_codes
    ADD CONSTRAINT link_codes_account_id_fkey FOREIGN KEY (account_id) REFERENCES xp.accounts(id);

ALTER TABLE ONLY xp.link_codes
    ADD CONSTRAINT link_codes_redeemed_by_fkey FOREIGN KEY (redeemed_by) REFERENCES xp.accounts(id);

ALTER TABLE ONLY xp.rank_roles
    ADD CONSTRAINT rank_roles_rank_id_fkey FOREIGN KEY (rank_id) REFERENCES xp.ranks(id);

ALTER TABLE ONLY xp.user_achievements
    ADD CONSTRAINT user_achievements_code_fkey FOREIGN KEY (code) REFERENCES xp.achievements(code) ON DELETE CASCADE;

ALTER TABLE ONLY xp.user_achievements
    ADD CONSTRAINT user_achievements_user_id_fkey FOREIGN KEY (user_id) REFERENCES xp.users(id);

ALTER TABLE ONLY xp.users
    ADD CONSTRAINT users_rank_id_fkey FOREIGN KEY (rank_id) REFERENCES xp.ranks(id);

ALTER TABLE ONLY xp.voice_sessions
    ADD CONSTRAINT voice_sessions_account_id_fkey FOREIGN KEY (account_id) REFERENCES xp.accounts(id);

GRANT USAGE ON SCHEMA xp TO xp_bot;
GRANT USAGE ON SCHEMA xp TO xp_listener;
GRANT USAGE ON SCHEMA xp TO xp_admin;
GRANT USAGE ON SCHEMA xp TO xp_web;

REVOKE ALL ON FUNCTION xp._account_for(p_platform text, p_external_id text, p_display_name text, OUT acc bigint, OUT uid bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._achieve(p_uid bigint, p_criteria text[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._apply(p_uid bigint, p_acc bigint, p_platform text, p_kind text, p_amount integer, p_reason text, p_key text, p_factor numeric, p_actor text, p_display_name text) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._board(p_board text, OUT score text, OUT filter text, OUT period_of text) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._check_platform(platform text) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._check_text(value text, what text, max_length integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._code_hash(code text) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._emit(p_uid bigint, p_kind text, p_payload jsonb) FROM PUBLIC;

GRANT ALL ON TABLE xp.game_sessions TO xp_admin;

REVOKE ALL ON FUNCTION xp._game_view(g xp.game_sessions, p_xp integer, p_applied boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._game_won(g xp.game_sessions, p_uid bigint, p_platform text, p_xp integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._identity_lock() FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._known_account(p_platform text, p_external_id text, OUT acc bigint, OUT uid bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._ledger_append_only() FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._merge(p_into bigint, p_from bigint, p_by_account bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._multiplier(p_platform text, p_chat_id text) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._new_code() FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._new_person(p_display_name text) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._out_of_step(uids bigint[], lim integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._periods(p_at timestamp with time zone, OUT week date, OUT month date, OUT season integer) FROM PUBLIC;

GRANT ALL ON TABLE xp.users TO xp_admin;

REVOKE ALL ON FUNCTION xp._person_view(u xp.users) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._place(p_board text, p_score bigint, p_uid bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._privacy_follows() FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._progress(uids bigint[]) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._queue_resync(uids bigint[], reason text) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._ranks_changed() FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._reconcile(uids bigint[], dry_run boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._reconcile_achievements(uids bigint[], dry_run boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._reconcile_boards(uids bigint[], dry_run boolean) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._redeem_failed(p_acc bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._refresh(r xp.award_result) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._replay(p_uid bigint, p_acc bigint, p_kind text, p_amount integer, p_key text) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._rerank(p_uid bigint, p_old_rank integer) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._ring() FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._role_mapping_changed() FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._seasons_changed() FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._setting(p_key text) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._settings_changed() FROM PUBLIC;

REVOKE ALL ON FUNCTION xp._state(p_uid bigint) FROM PUBLIC;

REVOKE ALL ON FUNCTION xp.account_person(platform text, external_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.account_person(platform text, external_id text) TO xp_web;
GRANT ALL ON FUNCTION xp.account_person(platform text, external_id text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.ack_deliveries(owner text, ids bigint[], attempts integer[], refs text[]) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.ack_deliveries(owner text, ids bigint[], attempts integer[], refs text[]) TO xp_listener;
GRANT ALL ON FUNCTION xp.ack_deliveries(owner text, ids bigint[], attempts integer[], refs text[]) TO xp_admin;

REVOKE ALL ON FUNCTION xp.adjust(user_id bigint, kind text, amount integer, reason text, actor text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.adjust(user_id bigint, kind text, amount integer, reason text, actor text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.api_key_name(key text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.api_key_name(key text) TO xp_web;
GRANT ALL ON FUNCTION xp.api_key_name(key text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.award_coins(platform text, external_id text, amount integer, reason text, idempotency_key text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.award_coins(platform text, external_id text, amount integer, reason text, idempotency_key text) TO xp_bot;
GRANT ALL ON FUNCTION xp.award_coins(platform text, external_id text, amount integer, reason text, idempotency_key text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.award_xp(platform text, external_id text, amount integer, reason text, idempotency_key text, display_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.award_xp(platform text, external_id text, amount integer, reason text, idempotency_key text, display_name text) TO xp_bot;
GRANT ALL ON FUNCTION xp.award_xp(platform text, external_id text, amount integer, reason text, idempotency_key text, display_name text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.board_size(period text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.board_size(period text) TO xp_web;
GRANT ALL ON FUNCTION xp.board_size(period text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.claim_daily(platform text, external_id text, display_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.claim_daily(platform text, external_id text, display_name text) TO xp_bot;
GRANT ALL ON FUNCTION xp.claim_daily(platform text, external_id text, display_name text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.claim_deliveries(target text, owner text, batch_size integer, lease_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.claim_deliveries(target text, owner text, batch_size integer, lease_seconds integer) TO xp_listener;
GRANT ALL ON FUNCTION xp.claim_deliveries(target text, owner text, batch_size integer, lease_seconds integer) TO xp_admin;

REVOKE ALL ON FUNCTION xp.cleanup(older_than interval) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.cleanup(older_than interval) TO xp_admin;

REVOKE ALL ON FUNCTION xp.create_api_key(name text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.create_api_key(name text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.create_link_code(platform text, external_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.create_link_code(platform text, external_id text) TO xp_bot;
GRANT ALL ON FUNCTION xp.create_link_code(platform text, external_id text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.discord_role_plan(uid bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.discord_role_plan(uid bigint) TO xp_listener;
GRANT ALL ON FUNCTION xp.discord_role_plan(uid bigint) TO xp_admin;

REVOKE ALL ON FUNCTION xp.fail_delivery(id bigint, owner text, attempt integer, error text, permanent boolean, retry_after double precision, mute_person boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.fail_delivery(id bigint, owner text, attempt integer, error text, permanent boolean, retry_after double precision, mute_person boolean) TO xp_listener;
GRANT ALL ON FUNCTION xp.fail_delivery(id bigint, owner text, attempt integer, error text, permanent boolean, retry_after double precision, mute_person boolean) TO xp_admin;

REVOKE ALL ON FUNCTION xp.forget_person(user_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.forget_person(user_id bigint) TO xp_admin;

REVOKE ALL ON FUNCTION xp.import_xp(platform text, external_id text, xp bigint, coins bigint, source text, display_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.import_xp(platform text, external_id text, xp bigint, coins bigint, source text, display_name text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.leaderboard(lim integer, period text, skip integer, name_prefix text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.leaderboard(lim integer, period text, skip integer, name_prefix text) TO xp_bot;
GRANT ALL ON FUNCTION xp.leaderboard(lim integer, period text, skip integer, name_prefix text) TO xp_web;
GRANT ALL ON FUNCTION xp.leaderboard(lim integer, period text, skip integer, name_prefix text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.link_accounts(platform text, external_id text, other_platform text, other_external_id text, dry_run boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.link_accounts(platform text, external_id text, other_platform text, other_external_id text, dry_run boolean) TO xp_web;
GRANT ALL ON FUNCTION xp.link_accounts(platform text, external_id text, other_platform text, other_external_id text, dry_run boolean) TO xp_admin;

REVOKE ALL ON FUNCTION xp.play_game(platform text, external_id text, session_id bigint, move text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.play_game(platform text, external_id text, session_id bigint, move text) TO xp_bot;
GRANT ALL ON FUNCTION xp.play_game(platform text, external_id text, session_id bigint, move text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.profile(platform text, external_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.profile(platform text, external_id text) TO xp_bot;
GRANT ALL ON FUNCTION xp.profile(platform text, external_id text) TO xp_admin;
GRANT ALL ON FUNCTION xp.profile(platform text, external_id text) TO xp_web;

REVOKE ALL ON FUNCTION xp.public_profile(uid bigint, viewer bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.public_profile(uid bigint, viewer bigint) TO xp_web;
GRANT ALL ON FUNCTION xp.public_profile(uid bigint, viewer bigint) TO xp_admin;

REVOKE ALL ON FUNCTION xp.rank_ladder() FROM PUBLIC;
GRANT ALL ON FUNCTION xp.rank_ladder() TO xp_web;
GRANT ALL ON FUNCTION xp.rank_ladder() TO xp_admin;

REVOKE ALL ON FUNCTION xp.reconcile_all(dry_run boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.reconcile_all(dry_run boolean) TO xp_admin;

REVOKE ALL ON FUNCTION xp.reconcile_user(uid bigint, dry_run boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.reconcile_user(uid bigint, dry_run boolean) TO xp_admin;

REVOKE ALL ON FUNCTION xp.record_message(platform text, external_id text, chat_id text, message_id text, length integer, display_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.record_message(platform text, external_id text, chat_id text, message_id text, length integer, display_name text) TO xp_bot;
GRANT ALL ON FUNCTION xp.record_message(platform text, external_id text, chat_id text, message_id text, length integer, display_name text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.record_voice(platform text, external_id text, session_id text, eligible_seconds integer) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.record_voice(platform text, external_id text, session_id text, eligible_seconds integer) TO xp_bot;
GRANT ALL ON FUNCTION xp.record_voice(platform text, external_id text, session_id text, eligible_seconds integer) TO xp_admin;

REVOKE ALL ON FUNCTION xp.redeem_link_code(platform text, external_id text, code text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.redeem_link_code(platform text, external_id text, code text) TO xp_bot;
GRANT ALL ON FUNCTION xp.redeem_link_code(platform text, external_id text, code text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.refresh_places(force boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.refresh_places(force boolean) TO xp_web;
GRANT ALL ON FUNCTION xp.refresh_places(force boolean) TO xp_admin;

REVOKE ALL ON FUNCTION xp.release_deliveries(owner text, ids bigint[]) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.release_deliveries(owner text, ids bigint[]) TO xp_listener;
GRANT ALL ON FUNCTION xp.release_deliveries(owner text, ids bigint[]) TO xp_admin;

REVOKE ALL ON FUNCTION xp.request_resync(platform text, external_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.request_resync(platform text, external_id text) TO xp_bot;
GRANT ALL ON FUNCTION xp.request_resync(platform text, external_id text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.rerank_batch(batch_size integer) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.rerank_batch(batch_size integer) TO xp_admin;
GRANT ALL ON FUNCTION xp.rerank_batch(batch_size integer) TO xp_listener;

REVOKE ALL ON FUNCTION xp.resync_roles(user_id bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.resync_roles(user_id bigint) TO xp_admin;

REVOKE ALL ON FUNCTION xp.revoke_api_key(name text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.revoke_api_key(name text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.set_language(platform text, external_id text, language text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.set_language(platform text, external_id text, language text) TO xp_bot;
GRANT ALL ON FUNCTION xp.set_language(platform text, external_id text, language text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.set_notify(platform text, external_id text, enabled boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.set_notify(platform text, external_id text, enabled boolean) TO xp_bot;
GRANT ALL ON FUNCTION xp.set_notify(platform text, external_id text, enabled boolean) TO xp_admin;

REVOKE ALL ON FUNCTION xp.set_privacy(platform text, external_id text, hidden boolean) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.set_privacy(platform text, external_id text, hidden boolean) TO xp_bot;
GRANT ALL ON FUNCTION xp.set_privacy(platform text, external_id text, hidden boolean) TO xp_web;
GRANT ALL ON FUNCTION xp.set_privacy(platform text, external_id text, hidden boolean) TO xp_admin;

REVOKE ALL ON FUNCTION xp.start_game(platform text, external_id text, game text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.start_game(platform text, external_id text, game text) TO xp_bot;
GRANT ALL ON FUNCTION xp.start_game(platform text, external_id text, game text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.stats() FROM PUBLIC;
GRANT ALL ON FUNCTION xp.stats() TO xp_admin;

REVOKE ALL ON FUNCTION xp.telegram_recipient(uid bigint) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.telegram_recipient(uid bigint) TO xp_listener;
GRANT ALL ON FUNCTION xp.telegram_recipient(uid bigint) TO xp_admin;

REVOKE ALL ON FUNCTION xp.unlink(platform text, external_id text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.unlink(platform text, external_id text) TO xp_bot;
GRANT ALL ON FUNCTION xp.unlink(platform text, external_id text) TO xp_admin;

REVOKE ALL ON FUNCTION xp.web_settings() FROM PUBLIC;
GRANT ALL ON FUNCTION xp.web_settings() TO xp_web;
GRANT ALL ON FUNCTION xp.web_settings() TO xp_admin;

REVOKE ALL ON FUNCTION xp.web_sign_in(platform text, external_id text, display_name text) FROM PUBLIC;
GRANT ALL ON FUNCTION xp.web_sign_in(platform text, external_id text, display_name text) TO xp_web;
GRANT ALL ON FUNCTION xp.web_sign_in(platform text, external_id text, display_name text) TO xp_admin;

GRANT ALL ON TABLE xp.accounts TO xp_admin;

GRANT ALL ON SEQUENCE xp.accounts_id_seq TO xp_admin;

GRANT ALL ON TABLE xp.achievement_roles TO xp_admin;

GRANT ALL ON TABLE xp.achievements TO xp_admin;

GRANT SELECT ON TABLE xp.api_keys TO xp_admin;

GRANT SELECT ON TABLE xp.board_marks TO xp_admin;

GRANT SELECT ON TABLE xp.board_marks_taken TO xp_admin;

GRANT ALL ON TABLE xp.deliveries TO xp_admin;

GRANT ALL ON SEQUENCE xp.deliveries_id_seq TO xp_admin;

GRANT ALL ON TABLE xp.events TO xp_admin;

GRANT ALL ON SEQUENCE xp.events_id_seq TO xp_admin;

GRANT ALL ON SEQUENCE xp.game_sessions_id_seq TO xp_admin;

GRANT ALL ON TABLE xp.guild_settings TO xp_admin;

GRANT ALL ON TABLE xp.ledger TO xp_admin;

GRANT ALL ON SEQUENCE xp.ledger_id_seq TO xp_admin;

GRANT ALL ON TABLE xp.link_codes TO xp_admin;

GRANT ALL ON TABLE xp.merges TO xp_admin;

GRANT ALL ON SEQUENCE xp.merges_id_seq TO xp_admin;

GRANT ALL ON TABLE xp.message_log TO xp_admin;

GRANT ALL ON TABLE xp.multipliers TO xp_admin;

GRANT ALL ON SEQUENCE xp.multipliers_id_seq TO xp_admin;

GRANT ALL ON TABLE xp.quiz_questions TO xp_admin;

GRANT ALL ON SEQUENCE xp.quiz_questions_id_seq TO xp_admin;

GRANT ALL ON TABLE xp.rank_roles TO xp_admin;

GRANT ALL ON TABLE xp.ranks TO xp_admin;
GRANT SELECT ON TABLE xp.ranks TO xp_listener;

GRANT ALL ON TABLE xp.redeem_failures TO xp_admin;

GRANT ALL ON TABLE xp.seasons TO xp_admin;

GRANT ALL ON SEQUENCE xp.seasons_id_seq TO xp_admin;

GRANT ALL ON TABLE xp.settings TO xp_admin;
GRANT SELECT ON TABLE xp.settings TO xp_listener;

GRANT ALL ON TABLE xp.user_achievements TO xp_admin;

GRANT ALL ON SEQUENCE xp.users_id_seq TO xp_admin;

GRANT ALL ON TABLE xp.voice_sessions TO xp_admin;

GRANT ALL ON TABLE xp.wheel_prizes TO xp_admin;

GRANT ALL ON SEQUENCE xp.wheel_prizes_id_seq TO xp_admin;
