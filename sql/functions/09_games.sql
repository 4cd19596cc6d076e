-- 09_games: the Telegram mini-games, scored by the database. Guess the number
-- (1-100, 7 tries), a quiz from xp.quiz_questions and the daily wheel (a
-- weighted table of prizes). A game session is a row, so a game survives a bot
-- restart; the secret never leaves the database; each session rewards at most
-- once (its ledger key), however often the last answer arrives.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- What a bot may show of a session: never the secret while it is being played.
CREATE OR REPLACE FUNCTION xp._game_view(g xp.game_sessions, p_xp int, p_applied boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
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

-- A won game: count the win (achievements follow) and pay its XP once, keyed by the session.
CREATE OR REPLACE FUNCTION xp._game_won(g xp.game_sessions, p_uid bigint, p_platform text, p_xp int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE xp.users u SET games_won = u.games_won + 1 WHERE u.id = p_uid;
    PERFORM xp._apply(p_uid, g.account_id, p_platform, 'game', 'xp', p_xp, g.game || ' won', 'game:' || g.id,
                      xp._multiplier());
    PERFORM xp._achieve(p_uid, '{games_won}');
    PERFORM xp._quest_tick(p_uid, 'games_won', 1);
END
$$;

CREATE OR REPLACE FUNCTION xp.start_game(platform text, external_id text, game text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    g xp.game_sessions;
    v_today date := (now() AT TIME ZONE 'UTC')::date;
    v_prize xp.wheel_prizes;
    v_lang text;
    v_family bigint;
BEGIN
    IF start_game.game IS NULL OR start_game.game NOT IN ('guess', 'quiz', 'spin') THEN
        RAISE EXCEPTION 'unknown game %: expected guess, quiz or spin',
            coalesce(quote_literal(left(start_game.game, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO a FROM xp._account_for(start_game.platform, start_game.external_id);
    -- one start at a time per person (the row lock also keeps its family still)
    SELECT coalesce(u.family, u.id) INTO v_family FROM xp.users u WHERE u.id = a.uid FOR UPDATE;
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
        SELECT xp._speaks(u.language, c.client_language) INTO v_lang
          FROM xp.users u, xp.accounts c WHERE u.id = a.uid AND c.id = a.acc;
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
    -- the wheel: once per UTC day for the person's family (everyone who ever shared an account
    -- with them); a second spin shows the day's spin of the person's accounts, or the family's
    IF NOT xp._family_pays(v_family, 'spin', v_today) THEN
        SELECT s.* INTO g FROM xp.game_sessions s JOIN xp.accounts c ON c.id = s.account_id
          JOIN xp.users u ON u.id = c.user_id
         WHERE (u.id = a.uid OR ((u.id = v_family OR u.family = v_family) AND coalesce(u.family, u.id) = v_family))
           AND s.game = 'spin'
           AND s.created_at >= (v_today::timestamp AT TIME ZONE 'UTC')
         ORDER BY (u.id = a.uid) DESC, s.id LIMIT 1;
        IF FOUND THEN
            RETURN xp._game_view(g, 0, false);
        END IF;
        RETURN jsonb_build_object('session_id', NULL, 'game', 'spin', 'status', 'done', 'xp_awarded', 0,
                                  'applied', false,
                                  'next_spin_at', (v_today + 1)::timestamp AT TIME ZONE 'UTC');
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
    PERFORM xp._apply(a.uid, a.acc, start_game.platform, 'game', v_prize.kind, v_prize.amount, 'wheel',
                      'game:' || g.id, CASE WHEN v_prize.kind = 'xp' THEN xp._multiplier() ELSE 1 END);
    RETURN xp._game_view(g, CASE WHEN v_prize.kind = 'xp' THEN v_prize.amount ELSE 0 END, true);
END
$$;
COMMENT ON FUNCTION xp.start_game(text, text, text) IS
    'Bots: start guess (or go on with the unfinished one) or quiz, or spin the daily wheel; returns what to show.';

CREATE OR REPLACE FUNCTION xp.play_game(platform text, external_id text, session_id bigint, move text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
    -- ASCII digits between any kind of space (a phone's keyboard may send a no-break space, which
    -- \s leaves out in some locales, or a zero-width one)
    IF play_game.move IS NULL
       OR play_game.move !~ '^[\s\u00a0\u2007\u202f\u200b\ufeff]*[0-9]{1,3}[\s\u00a0\u2007\u202f\u200b\ufeff]*$' THEN
        RAISE EXCEPTION 'move % is not a number', coalesce(quote_literal(left(play_game.move, 40)), 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    v_guess := substring(play_game.move FROM '[0-9]{1,3}')::int;
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
$$;
COMMENT ON FUNCTION xp.play_game(text, text, bigint, text) IS
    'Bots: one answer in a guess or quiz session (a number); the database scores it and rewards a win once.';
