-- 06_activity: the three ways members earn on their own, each with its own
-- idempotency: the daily reward (once per UTC day per person, streaks),
-- message XP (once per message id, one counted message per cooldown across
-- both platforms) and voice XP (per session, a later report pays the increase).
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

CREATE OR REPLACE FUNCTION xp.claim_daily(platform text, external_id text, display_name text DEFAULT NULL)
RETURNS xp.daily_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    v_today date := (now() AT TIME ZONE 'UTC')::date;
    v_next timestamptz := (((now() AT TIME ZONE 'UTC')::date + 1)::timestamp AT TIME ZONE 'UTC');
    v_streak int;
    v_last date;
    v_family bigint;
    v_xp int;
    v_coins int;
    v_factor numeric;
    r xp.award_result;
BEGIN
    SELECT * INTO a FROM xp._account_for(claim_daily.platform, claim_daily.external_id, claim_daily.display_name);
    -- the claim belongs to the person's family (everyone who ever shared an account with them),
    -- so it binds every account any of them holds today
    SELECT u.last_daily, coalesce(u.family, u.id) INTO v_last, v_family FROM xp.users u WHERE u.id = a.uid FOR UPDATE;
    IF coalesce(v_last >= v_today, false) OR NOT xp._family_pays(v_family, 'daily', v_today) THEN
        r := xp._state(a.uid);
        RETURN ROW(r.user_id, r.xp, r.coins, r.old_rank, r.new_rank, false, 0, false,
                   (SELECT u.streak FROM xp.users u WHERE u.id = a.uid), 0, 0, v_next)::xp.daily_result;
    END IF;
    UPDATE xp.users u
       SET streak = CASE WHEN u.last_daily = v_today - 1 THEN u.streak + 1 ELSE 1 END, last_daily = v_today
     WHERE u.id = a.uid
    RETURNING u.streak INTO v_streak;
    v_xp := xp._setting('daily.xp')::int;
    v_coins := xp._setting('daily.coins')::int
             + xp._setting('daily.streak_bonus_coins')::int
               * least(v_streak - 1, xp._setting('daily.streak_bonus_cap')::int);
    v_factor := xp._multiplier();
    r := xp._state(a.uid);
    IF v_xp > 0 THEN
        r := xp._apply(a.uid, a.acc, claim_daily.platform, 'daily', 'xp', v_xp, 'daily reward',
                       'daily:' || a.uid || ':' || v_today || ':xp', v_factor, NULL, claim_daily.display_name);
    END IF;
    IF v_coins > 0 THEN
        -- coins never cross a rank threshold, so the rank fields of r stand
        SELECT l.xp, l.coins INTO r.xp, r.coins
          FROM xp._apply(a.uid, a.acc, claim_daily.platform, 'daily', 'coins', v_coins, 'daily reward',
                         'daily:' || a.uid || ':' || v_today || ':coins') AS l;
    END IF;
    IF xp._achieve(a.uid, '{streak}') + xp._quest_tick(a.uid, 'streak', v_streak) > 0 THEN
        r := xp._refresh(r);
    END IF;
    RETURN ROW(r.user_id, r.xp, r.coins, r.old_rank, r.new_rank, r.rank_changed, r.reward_coins, true,
               v_streak, greatest(round(v_xp * v_factor)::int, 0), greatest(v_coins, 0), v_next)::xp.daily_result;
END
$$;
COMMENT ON FUNCTION xp.claim_daily(text, text, text) IS
    'The daily reward, once per UTC day per person (every account they hold that day); applied=false when already claimed.';

CREATE OR REPLACE FUNCTION xp.record_message(platform text, external_id text, chat_id text, message_id text,
                                             length int, display_name text DEFAULT NULL)
RETURNS xp.award_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    s jsonb;
    v_min int;
    v_max int;
    v_key text;
    r xp.award_result;
BEGIN
    IF record_message.length IS NULL OR record_message.length < 0 THEN
        RAISE EXCEPTION 'length % is invalid: it must be 0 or more', coalesce(record_message.length::text, 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    PERFORM xp._check_text(record_message.chat_id, 'chat_id', 64);
    PERFORM xp._check_text(record_message.message_id, 'message_id', 64);
    a := xp._account_for(record_message.platform, record_message.external_id, record_message.display_name);
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
    -- the Telegram group of a counted message is where the person may be told (xp.telegram_recipient)
    v_key := 'msg:' || record_message.platform || ':' || record_message.chat_id || ':' || record_message.message_id;
    UPDATE xp.users u
       SET last_message_at = now(), messages = u.messages + 1,
           last_telegram_group = CASE WHEN record_message.platform = 'telegram' THEN record_message.chat_id
                                      ELSE u.last_telegram_group END
     WHERE u.id = a.uid
       AND (u.last_message_at IS NULL
            OR u.last_message_at <= now() - make_interval(secs => (s ->> 'message.cooldown_seconds')::int))
       -- counted before its id left xp.message_log (cleanup): counted once, ever
       AND NOT EXISTS (SELECT 1 FROM xp.ledger l WHERE l.idempotency_key = v_key AND l.source = 'message');
    IF NOT FOUND THEN
        RETURN xp._state(a.uid);  -- inside the cooldown, whichever platform the last one came from
    END IF;
    v_min := (s ->> 'message.xp_min')::int;
    v_max := (s ->> 'message.xp_max')::int;
    r := xp._apply(a.uid, a.acc, record_message.platform, 'message', 'xp',
                   v_min + floor(random() * (v_max - v_min + 1))::int,
                   'message', v_key,
                   xp._multiplier(record_message.platform, record_message.chat_id), NULL,
                   record_message.display_name);
    IF xp._achieve(a.uid, '{messages}') + xp._quest_tick(a.uid, 'messages', 1) > 0 THEN
        r := xp._refresh(r);
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION xp.record_message(text, text, text, text, int, text) IS
    'Count a chat message for XP: once per (platform, chat_id, message_id), one per cooldown per person; applied=false otherwise.';

CREATE OR REPLACE FUNCTION xp.record_voice(platform text, external_id text, session_id text, eligible_seconds int)
RETURNS xp.award_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
        r := xp._apply(a.uid, a.acc, record_voice.platform, 'voice', 'xp', (v_xp - v_prev_xp)::int, 'voice',
                       'voice:' || a.acc || ':' || record_voice.session_id || ':' || v_xp, xp._multiplier());
    END IF;
    IF xp._achieve(a.uid, '{voice_seconds}')
       + xp._quest_tick(a.uid, 'voice_minutes', record_voice.eligible_seconds - v_prev_seconds) > 0 THEN
        r := xp._refresh(r);
    END IF;
    RETURN r;
END
$$;
COMMENT ON FUNCTION xp.record_voice(text, text, text, int) IS
    'Voice XP for a session''s eligible seconds so far; a later call for the same session awards only the increase.';
