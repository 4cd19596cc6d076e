-- 11_delivery: the listener side of the outbox. Claiming a batch with FOR
-- UPDATE SKIP LOCKED under a lease, acking only under one's own claim,
-- rescheduling failures with capped exponential backoff and jitter (a 429 at
-- its retry_after, uncounted), permanent failures and dead letters; what the
-- handlers read (the Discord roles a person should hold in each guild, the
-- Telegram chat to tell); pacing shared by every listener instance (send
-- slots, pauses after a 429); each Discord guild's refusals and its circuit
-- breaker; chats opened with the bot; and resync requests for drifted roles.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- Claim up to `batch_size` due deliveries for `target` under a lease: the row
-- stays pending, counts an attempt, and is due again when the lease ends.
-- Discord deliveries coalesce: any one of a person's converges all their roles
-- from current state, so a person's pending Discord deliveries are claimed
-- together (those waiting for a later run_at too), in one claim that the
-- handler turns into one convergence, and none of them while another claim of
-- that person's is live; the platform then sees one member read and one role
-- change per guild however many rank changes the person had meanwhile. A
-- change committed after the claim is not in it, and gets a convergence of
-- its own. Telegram deliveries are notices, each one its own message.
CREATE OR REPLACE FUNCTION xp.claim_deliveries(target text, owner text, batch_size int DEFAULT 100,
                                    lease_seconds int DEFAULT 30)
RETURNS TABLE (id bigint, event_id bigint, user_id bigint, kind text, payload jsonb, attempts int,
               sent_ref text, created_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_ids bigint[];
    v_people bigint[];
BEGIN
    IF claim_deliveries.batch_size IS NULL OR claim_deliveries.batch_size NOT BETWEEN 1 AND 10000
       OR claim_deliveries.lease_seconds IS NULL OR claim_deliveries.lease_seconds NOT BETWEEN 1 AND 3600 THEN
        RAISE EXCEPTION 'batch_size % and lease_seconds % must be within 1..10000 and 1..3600',
            claim_deliveries.batch_size, claim_deliveries.lease_seconds USING ERRCODE = 'XP002';
    END IF;
    PERFORM xp._check_text(claim_deliveries.owner, 'owner');
    IF claim_deliveries.target = 'discord' THEN
        -- due deliveries of people no live claim is converging
        SELECT array_agg(d.id), array_agg(DISTINCT d.user_id) INTO v_ids, v_people
          FROM (SELECT x.id, x.user_id
                  FROM xp.deliveries x
                 WHERE x.target = claim_deliveries.target AND x.status = 'pending' AND x.run_at <= now()
                   AND NOT EXISTS (SELECT FROM xp.deliveries o
                                    WHERE o.user_id = x.user_id AND o.target = x.target AND o.status = 'pending'
                                      AND o.lease_owner IS NOT NULL AND o.run_at > now())
                 ORDER BY x.run_at, x.id
                 LIMIT claim_deliveries.batch_size
                   FOR UPDATE SKIP LOCKED) AS d;
        -- and every other pending one of theirs, due or not
        v_ids := v_ids || ARRAY(
            SELECT x.id
              FROM xp.deliveries x
             WHERE x.user_id = ANY (v_people) AND x.target = claim_deliveries.target AND x.status = 'pending'
               AND x.id <> ALL (v_ids) AND (x.lease_owner IS NULL OR x.run_at <= now())
               FOR UPDATE SKIP LOCKED);
    ELSE
        v_ids := ARRAY(
            SELECT x.id
              FROM xp.deliveries x
             WHERE x.target = claim_deliveries.target AND x.status = 'pending' AND x.run_at <= now()
             ORDER BY x.run_at, x.id
             LIMIT claim_deliveries.batch_size
               FOR UPDATE SKIP LOCKED);
    END IF;
    RETURN QUERY
        WITH claimed AS (
            UPDATE xp.deliveries d
               SET attempts = d.attempts + 1,
                   lease_owner = claim_deliveries.owner,
                   run_at = now() + make_interval(secs => claim_deliveries.lease_seconds)
             WHERE d.id = ANY (v_ids)
            RETURNING d.id, d.event_id, d.user_id, d.attempts, d.sent_ref, d.created_at)
        SELECT c.id, c.event_id, c.user_id, e.kind, e.payload, c.attempts, c.sent_ref, c.created_at
          FROM claimed c
          JOIN xp.events e ON e.id = c.event_id
         ORDER BY c.id;
END
$$;
COMMENT ON FUNCTION xp.claim_deliveries(text, text, int, int) IS
    'Listener: claim due deliveries for a target under a lease (SKIP LOCKED); an expired lease is due again; a person''s Discord deliveries are claimed together.';

-- Ack claims by (id, attempt): only the holder of that claim may finish it.
-- A note says why a done delivery reached nobody (kept in last_error, e.g.
-- "not told: ..."). A done Discord delivery also records the rank whose roles
-- were applied, so that reconcile can tell who never had their roles set
-- (imports, dead letters).
CREATE OR REPLACE FUNCTION xp.ack_deliveries(owner text, ids bigint[], attempts int[], refs text[] DEFAULT NULL,
                                             notes text[] DEFAULT NULL)
RETURNS int
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH done AS (
        UPDATE xp.deliveries d
           SET status = 'done', finished_at = now(), sent_ref = coalesce(a.ref, d.sent_ref),
               lease_owner = NULL, last_error = left(a.note, 500)
          FROM unnest(ack_deliveries.ids, ack_deliveries.attempts,
                      coalesce(ack_deliveries.refs, array_fill(NULL::text, ARRAY[cardinality(ack_deliveries.ids)])),
                      coalesce(ack_deliveries.notes, array_fill(NULL::text, ARRAY[cardinality(ack_deliveries.ids)])))
               AS a (id, attempt, ref, note)
         WHERE d.id = a.id AND d.attempts = a.attempt AND d.lease_owner = ack_deliveries.owner
           AND d.status = 'pending'
        RETURNING d.user_id, d.target),
    synced AS (
        UPDATE xp.users u SET roles_rank = u.rank_id
         WHERE u.id IN (SELECT done.user_id FROM done WHERE done.target = 'discord')
           AND u.roles_rank IS DISTINCT FROM u.rank_id)
    SELECT count(*)::int FROM done
$$;
COMMENT ON FUNCTION xp.ack_deliveries(text, bigint[], int[], text[], text[]) IS
    'Listener: mark claimed deliveries done (with the platform''s message id, or a note why nobody was told); returns how many were still ours.';

-- A failed claim: permanent → failed; 429 → due at retry_after, attempt not
-- counted; otherwise capped exponential backoff with jitter, dead after the
-- last attempt. Returns the delivery's new status, NULL when the claim was lost.
CREATE OR REPLACE FUNCTION xp.fail_delivery(id bigint, owner text, attempt int, error text, permanent boolean DEFAULT false,
                                 retry_after double precision DEFAULT NULL, mute_person boolean DEFAULT false)
RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    d xp.deliveries;
    v_status text;
    v_delay double precision;
BEGIN
    PERFORM xp._check_flag(fail_delivery.permanent, 'permanent');
    PERFORM xp._check_flag(fail_delivery.mute_person, 'mute_person');
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
        -- the platform said the person blocked the bot (or left): notices off until they open the chat again
        UPDATE xp.users u SET notify = false WHERE u.id = d.user_id;
        UPDATE xp.accounts a SET chat_blocked_at = now(), chat_opened_at = NULL
         WHERE a.user_id = d.user_id AND a.platform = d.target;
    END IF;
    RETURN v_status;
END
$$;
COMMENT ON FUNCTION xp.fail_delivery(bigint, text, int, text, boolean, double precision, boolean) IS
    'Listener: record a failed claim (retry with backoff, 429 at retry_after uncounted, failed, or dead).';

-- Give claims back untouched (shutdown): due now, the attempt not counted.
CREATE OR REPLACE FUNCTION xp.release_deliveries(owner text, ids bigint[]) RETURNS int
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH released AS (
        UPDATE xp.deliveries d
           SET run_at = now(), attempts = d.attempts - 1, lease_owner = NULL
         WHERE d.id = ANY (release_deliveries.ids) AND d.lease_owner = release_deliveries.owner AND d.status = 'pending'
        RETURNING 1)
    SELECT count(*)::int FROM released
$$;
COMMENT ON FUNCTION xp.release_deliveries(text, bigint[]) IS
    'Listener: hand claimed deliveries back unprocessed (on shutdown); they are due at once.';

-- Per guild with mapped rank or achievement roles or roles for sale: the person's
-- Discord member id, the managed roles it should hold now (rank, achievement, and
-- shop roles until they end), every role xpsync manages there, and whether the
-- guild is paused (its refusals tripped the circuit breaker).
CREATE OR REPLACE FUNCTION xp.discord_role_plan(uid bigint)
RETURNS TABLE (guild_id text, member_id text, desired text[], managed text[], paused boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
                         WHERE ar.guild_id = g.guild_id), '{}')
           -- roles bought in the shop, until their days are over
           || coalesce((SELECT array_agg(DISTINCT p.role_id)
                          FROM xp.purchases p
                         WHERE p.user_id = u.id AND p.guild_id = g.guild_id AND p.status = 'approved'
                           AND p.expired_at IS NULL AND coalesce(p.expires_at > now(), true)), '{}'),
           coalesce((SELECT array_agg(rr.role_id ORDER BY rr.rank_id) FROM xp.rank_roles rr
                      WHERE rr.guild_id = g.guild_id), '{}')
           || coalesce((SELECT array_agg(ar.role_id ORDER BY ar.code) FROM xp.achievement_roles ar
                         WHERE ar.guild_id = g.guild_id), '{}')
           || coalesce((SELECT array_agg(DISTINCT x.role_id)
                          FROM (SELECT i.role_id FROM xp.shop_items i WHERE i.guild_id = g.guild_id
                                UNION
                                SELECT p.role_id FROM xp.purchases p WHERE p.guild_id = g.guild_id) AS x), '{}'),
           EXISTS (SELECT 1 FROM xp.guild_health h WHERE h.guild_id = g.guild_id AND h.paused_at IS NOT NULL)
      FROM xp.users u
      JOIN xp.accounts a ON a.user_id = u.id AND a.platform = 'discord'
     CROSS JOIN (SELECT r.guild_id FROM xp.rank_roles r
                 UNION
                 SELECT r.guild_id FROM xp.achievement_roles r
                 UNION
                 SELECT i.guild_id FROM xp.shop_items i WHERE i.guild_id IS NOT NULL) AS g
      LEFT JOIN xp.guild_settings gs ON gs.guild_id = g.guild_id
     WHERE u.id = uid
     ORDER BY g.guild_id
$$;
COMMENT ON FUNCTION xp.discord_role_plan(bigint) IS
    'Listener: per guild, the managed Discord roles (rank, achievement, shop roles until they end) a person should hold now, all roles xpsync manages there, and whether the guild is paused.';

-- Where and how to tell a person something on Telegram (no row: no Telegram
-- account): their private chat and whether they opened it with the bot, the
-- group of their last counted message when that group has announcements on,
-- their name for a group, their language and notice preference.
CREATE OR REPLACE FUNCTION xp.telegram_recipient(uid bigint)
RETURNS TABLE (chat_id text, opened boolean, group_chat text, name text, language text, notify boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.external_id, a.chat_opened_at IS NOT NULL,
           (SELECT c.chat_id FROM xp.chat_settings c
             WHERE c.platform = 'telegram' AND c.chat_id = u.last_telegram_group AND c.announce),
           coalesce(a.display_name, u.display_name), xp._speaks(u.language, a.client_language), u.notify
      FROM xp.users u
      JOIN xp.accounts a ON a.user_id = u.id AND a.platform = 'telegram'
     WHERE u.id = uid
$$;
COMMENT ON FUNCTION xp.telegram_recipient(bigint) IS
    'Listener: where a person may be told on Telegram (their opened private chat, else their announcing group), their name, language (chosen, else the app''s) and notice preference.';

-- Where to tell a person something on Discord (no row: no Discord account): their
-- user id, to open a direct message with, their language (chosen, else the
-- client's), their notice preference, and whether they have a Telegram account
-- (where a quest completed by itself is told).
CREATE OR REPLACE FUNCTION xp.discord_recipient(uid bigint)
RETURNS TABLE (member_id text, language text, notify boolean, on_telegram boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.external_id, xp._speaks(u.language, a.client_language), u.notify,
           EXISTS (SELECT 1 FROM xp.accounts t WHERE t.user_id = u.id AND t.platform = 'telegram')
      FROM xp.users u
      JOIN xp.accounts a ON a.user_id = u.id AND a.platform = 'discord'
     WHERE u.id = uid
$$;
COMMENT ON FUNCTION xp.discord_recipient(bigint) IS
    'Listener: the Discord user a person is told by direct message (reviews of what they did there; quests completed by themselves when they have no Telegram), their language, notice preference, and whether they have Telegram.';

-- /start: the person opened a private chat with the bot, which may write to
-- them from now on. Notices turned off because they had blocked the bot go
-- back on (a choice made with /notify off stays). Returns whether they did.
CREATE OR REPLACE FUNCTION xp.chat_opened(platform text, external_id text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    v_blocked timestamptz;
BEGIN
    SELECT * INTO a FROM xp._account_for(chat_opened.platform, chat_opened.external_id);
    SELECT c.chat_blocked_at INTO v_blocked FROM xp.accounts c WHERE c.id = a.acc FOR NO KEY UPDATE;
    UPDATE xp.accounts c SET chat_opened_at = now(), chat_blocked_at = NULL WHERE c.id = a.acc;
    IF v_blocked IS NOT NULL THEN
        UPDATE xp.users u SET notify = true WHERE u.id = a.uid;
    END IF;
    RETURN v_blocked IS NOT NULL;
END
$$;
COMMENT ON FUNCTION xp.chat_opened(text, text) IS
    'Bots (/start): the person opened a private chat with the bot; notices muted by a block go back on (returns whether they did).';

-- --- pacing shared by every listener instance ------------------------------------------------------

-- Reserve the next call under several limits at once: each key is one limit
-- (the platform, a guild's bucket, a chat), its gap the seconds between two
-- calls under it, and its burst how many may go at once before the gap holds
-- (a token bucket as a theoretical arrival time: next_at). The slot is the
-- first moment every key allows; it is taken (each key's next_at moves on by
-- its gap) only when it comes within `within` seconds, so that a caller never
-- waits past its lease. Returns the seconds to wait for the slot and whether it
-- was taken. Keys are locked in their order, so reservations never deadlock.
CREATE OR REPLACE FUNCTION xp.reserve_slot(keys text[], gaps double precision[], within double precision DEFAULT 30,
                                           bursts int[] DEFAULT NULL)
RETURNS TABLE (wait double precision, reserved boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_now timestamptz;
    v_at timestamptz;
BEGIN
    IF reserve_slot.keys IS NULL OR cardinality(reserve_slot.keys) NOT BETWEEN 1 AND 10
       OR cardinality(reserve_slot.gaps) IS DISTINCT FROM cardinality(reserve_slot.keys)
       OR (reserve_slot.bursts IS NOT NULL AND cardinality(reserve_slot.bursts) <> cardinality(reserve_slot.keys))
       OR EXISTS (SELECT 1 FROM unnest(reserve_slot.keys, reserve_slot.gaps, reserve_slot.bursts) AS k (key, gap, burst)
                   WHERE k.key IS NULL OR length(k.key) NOT BETWEEN 1 AND 200 OR k.gap IS NULL
                      OR NOT k.gap BETWEEN 0 AND 86400 OR NOT coalesce(k.burst, 1) BETWEEN 1 AND 1000) THEN
        RAISE EXCEPTION 'keys %, gaps % and bursts % must pair 1 to 10 keys of 1 to 200 characters with gaps of 0 to 86400 seconds and bursts of 1 to 1000',
            left(coalesce(reserve_slot.keys::text, 'NULL'), 200), left(coalesce(reserve_slot.gaps::text, 'NULL'), 200),
            left(coalesce(reserve_slot.bursts::text, 'NULL'), 100) USING ERRCODE = 'XP002';
    END IF;
    IF reserve_slot.within IS NULL OR NOT reserve_slot.within BETWEEN 0 AND 86400 THEN
        RAISE EXCEPTION 'within % is invalid: it must be between 0 and 86400 seconds',
            coalesce(reserve_slot.within::text, 'NULL') USING ERRCODE = 'XP002';
    END IF;
    INSERT INTO xp.pace (key, next_at)
    SELECT DISTINCT k, '-infinity'::timestamptz FROM unnest(reserve_slot.keys) AS k ORDER BY k
    ON CONFLICT (key) DO NOTHING;
    PERFORM 1 FROM xp.pace p WHERE p.key = ANY (reserve_slot.keys) ORDER BY p.key FOR UPDATE;
    v_now := clock_timestamp();  -- after the locks: waiting for another reservation is part of the wait
    SELECT greatest(v_now, max(p.next_at - make_interval(secs => (l.burst - 1) * l.gap)), max(p.paused_until))
      INTO v_at
      FROM xp.pace p
      JOIN (SELECT k.key, max(k.gap) AS gap, max(coalesce(k.burst, 1)) AS burst
              FROM unnest(reserve_slot.keys, reserve_slot.gaps, reserve_slot.bursts) AS k (key, gap, burst)
             GROUP BY k.key) AS l ON l.key = p.key;
    IF v_at > v_now + make_interval(secs => reserve_slot.within) THEN
        RETURN QUERY SELECT extract(epoch FROM v_at - v_now)::double precision, false;
        RETURN;
    END IF;
    UPDATE xp.pace p
       SET next_at = greatest(p.next_at, v_at) + make_interval(secs => g.gap)
      FROM (SELECT k.key, max(k.gap) AS gap FROM unnest(reserve_slot.keys, reserve_slot.gaps) AS k (key, gap)
             GROUP BY k.key) AS g
     WHERE p.key = g.key;
    RETURN QUERY SELECT extract(epoch FROM v_at - v_now)::double precision, true;
END
$$;
COMMENT ON FUNCTION xp.reserve_slot(text[], double precision[], double precision, int[]) IS
    'Listener: take the next call slot under several limits shared by every instance (within a bound); returns the wait and whether it was taken.';

-- Nothing goes under these limits for `seconds` (a 429's retry_after).
CREATE OR REPLACE FUNCTION xp.pause_pace(keys text[], seconds double precision) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_until timestamptz;
BEGIN
    IF pause_pace.keys IS NULL OR cardinality(pause_pace.keys) NOT BETWEEN 1 AND 10
       OR EXISTS (SELECT 1 FROM unnest(pause_pace.keys) AS k WHERE k IS NULL OR length(k) NOT BETWEEN 1 AND 200)
       OR pause_pace.seconds IS NULL OR NOT pause_pace.seconds BETWEEN 0 AND 86400 THEN
        RAISE EXCEPTION 'keys % and seconds % are invalid: 1 to 10 keys of 1 to 200 characters, 0 to 86400 seconds',
            left(coalesce(pause_pace.keys::text, 'NULL'), 200), coalesce(pause_pace.seconds::text, 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    v_until := clock_timestamp() + make_interval(secs => pause_pace.seconds);  -- once: a key named twice is one
    INSERT INTO xp.pace AS p (key, next_at, paused_until)
    SELECT DISTINCT k, v_until, v_until
      FROM unnest(pause_pace.keys) AS k ORDER BY 1
    ON CONFLICT (key) DO UPDATE
       SET next_at = greatest(p.next_at, excluded.next_at),
           paused_until = greatest(p.paused_until, excluded.paused_until);
END
$$;
COMMENT ON FUNCTION xp.pause_pace(text[], double precision) IS
    'Listener: hold every call under these limits for so many seconds (a 429''s retry_after), for every instance.';

-- Seconds until a pause of these limits ends (0: none holds them): a caller
-- that slept until its slot asks this before calling, since a pause begun
-- meanwhile voids the slots taken before it.
CREATE OR REPLACE FUNCTION xp.pace_held(keys text[]) RETURNS double precision
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(greatest(max(extract(epoch FROM p.paused_until - clock_timestamp())), 0), 0)::double precision
      FROM xp.pace p WHERE p.key = ANY (pace_held.keys)
$$;
COMMENT ON FUNCTION xp.pace_held(text[]) IS
    'Listener: seconds until a pause of these limits (a 429) ends; 0 when none holds them.';

-- --- Discord guilds: refusals and the circuit breaker ----------------------------------------------

-- A guild refused a call (403 Missing Permissions or Access, a missing role, an
-- id it cannot read): count it in the window; at discord.guild_pause_after the
-- guild is paused, so that a misconfigured guild cannot cause a storm of
-- invalid requests (Discord bans an IP after 10 000 in 10 minutes). Returns
-- whether the guild is paused now.
CREATE OR REPLACE FUNCTION xp.guild_refused(guild_id text, reason text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_window interval := make_interval(mins => xp._setting('discord.guild_refusal_window_minutes')::int);
    h xp.guild_health;
BEGIN
    PERFORM xp._check_text(guild_refused.guild_id, 'guild_id', 64);
    INSERT INTO xp.guild_health AS g (guild_id, refusals, window_start, last_refusal, last_refusal_at)
    VALUES (guild_refused.guild_id, 1, now(), left(coalesce(guild_refused.reason, 'refused'), 500), now())
    ON CONFLICT ON CONSTRAINT guild_health_pkey DO UPDATE
       SET refusals = CASE WHEN g.window_start > now() - v_window THEN g.refusals + 1 ELSE 1 END,
           window_start = CASE WHEN g.window_start > now() - v_window THEN g.window_start ELSE now() END,
           last_refusal = excluded.last_refusal,
           last_refusal_at = now()
    RETURNING g.* INTO h;
    IF h.paused_at IS NULL AND h.refusals >= xp._setting('discord.guild_pause_after')::int THEN
        UPDATE xp.guild_health g SET paused_at = now(), paused_reason = h.last_refusal
         WHERE g.guild_id = guild_refused.guild_id;
        RETURN true;
    END IF;
    RETURN h.paused_at IS NOT NULL;
END
$$;
COMMENT ON FUNCTION xp.guild_refused(text, text) IS
    'Listener: count a Discord guild''s refusal; repeated refusals pause the guild (returns whether it is paused).';

-- The operator fixed the guild (the bot's role above the rank roles, the role
-- mapping): clear its pause and refusals, and queue a role resync for everyone
-- with a Discord account, since nobody's roles were set there meanwhile.
-- Returns the deliveries queued (0 when the guild was not paused).
CREATE OR REPLACE FUNCTION xp.resume_guild(guild_id text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_paused timestamptz;
BEGIN
    PERFORM xp._check_text(resume_guild.guild_id, 'guild_id', 64);
    DELETE FROM xp.guild_health g WHERE g.guild_id = resume_guild.guild_id RETURNING g.paused_at INTO v_paused;
    IF v_paused IS NULL THEN
        RETURN 0;
    END IF;
    RETURN xp._queue_resync(NULL, 'guild ' || resume_guild.guild_id || ' resumed by ' || session_user);
END
$$;
COMMENT ON FUNCTION xp.resume_guild(text) IS
    'Admin: resume a Discord guild paused after repeated refusals, and queue a role resync for everyone; returns deliveries queued.';

CREATE OR REPLACE FUNCTION xp.request_resync(platform text, external_id text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
COMMENT ON FUNCTION xp.request_resync(text, text) IS
    'Bots: ask for the Discord roles of the person behind an account to be put right; returns deliveries queued.';

-- A Discord member's roles changed. Discord sends a member update for every
-- change, the listener's own included, so a change is drift only when it moved
-- a managed role away from the plan: a managed role the person should not hold
-- was added, or one they should hold was removed. Only then is a resync queued;
-- a change towards the plan (the listener at work, one role at a time) or of
-- roles xpsync does not manage queues nothing.
CREATE OR REPLACE FUNCTION xp.discord_roles_changed(guild_id text, member_id text, added text[], removed text[])
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_uid bigint;
    v_desired text[];
    v_managed text[];
BEGIN
    PERFORM xp._check_text(discord_roles_changed.guild_id, 'guild_id');
    PERFORM xp._check_text(discord_roles_changed.member_id, 'member_id');
    SELECT a.user_id INTO v_uid FROM xp.accounts a
     WHERE a.platform = 'discord' AND a.external_id = discord_roles_changed.member_id;
    IF NOT FOUND THEN
        RETURN 0;  -- never seen: there are no roles to put right
    END IF;
    SELECT p.desired, p.managed INTO v_desired, v_managed
      FROM xp.discord_role_plan(v_uid) p
     WHERE p.guild_id = discord_roles_changed.guild_id;
    IF NOT FOUND THEN
        RETURN 0;  -- xpsync manages no role in that guild
    END IF;
    IF EXISTS (SELECT 1 FROM unnest(discord_roles_changed.added) AS r(id)
                WHERE r.id = ANY (v_managed) AND r.id <> ALL (v_desired))
       OR discord_roles_changed.removed && v_desired THEN
        RETURN xp._queue_resync(ARRAY[v_uid],
                                'managed roles changed by hand in guild ' || discord_roles_changed.guild_id);
    END IF;
    RETURN 0;
END
$$;
COMMENT ON FUNCTION xp.discord_roles_changed(text, text, text[], text[]) IS
    'Bots: a Discord member''s roles changed (added, removed); queues a role resync only when a managed role moved away from what the person should hold; returns deliveries queued.';

CREATE OR REPLACE FUNCTION xp.resync_roles(user_id bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_queued bigint;
BEGIN
    v_queued := xp._queue_resync(CASE WHEN resync_roles.user_id IS NULL THEN NULL ELSE ARRAY[resync_roles.user_id] END,
                                 'resync_roles by ' || xp._actor());
    PERFORM xp._audit('person.resync_roles', coalesce(resync_roles.user_id::text, 'everyone'),
                      jsonb_build_object('queued', v_queued));
    RETURN v_queued;
END
$$;
COMMENT ON FUNCTION xp.resync_roles(bigint) IS
    'Admin: queue a Discord role resync for one person, or (NULL) everyone with a Discord account.';
