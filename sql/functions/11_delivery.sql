-- 11_delivery: the listener side of the outbox. Claiming a batch with FOR
-- UPDATE SKIP LOCKED under a lease, acking only under one's own claim,
-- rescheduling failures with capped exponential backoff and jitter (a 429 at
-- its retry_after, uncounted), permanent failures and dead letters; what the
-- handlers read (the Discord roles a person should hold in each guild, the
-- Telegram chat to tell); and resync requests for drifted roles.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- Claim up to `batch_size` due deliveries for `target` under a lease: the row
-- stays pending, counts an attempt, and is due again when the lease ends.
CREATE OR REPLACE FUNCTION xp.claim_deliveries(target text, owner text, batch_size int DEFAULT 100,
                                    lease_seconds int DEFAULT 30)
RETURNS TABLE (id bigint, event_id bigint, user_id bigint, kind text, payload jsonb, attempts int,
               sent_ref text, created_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
COMMENT ON FUNCTION xp.claim_deliveries(text, text, int, int) IS
    'Listener: claim due deliveries for a target under a lease (SKIP LOCKED); an expired lease is due again.';

-- Ack claims by (id, attempt): only the holder of that claim may finish it.
-- A done Discord delivery also records the rank whose roles were applied, so
-- that reconcile can tell who never had their roles set (imports, dead letters).
CREATE OR REPLACE FUNCTION xp.ack_deliveries(owner text, ids bigint[], attempts int[], refs text[] DEFAULT NULL)
RETURNS int
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
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
COMMENT ON FUNCTION xp.ack_deliveries(text, bigint[], int[], text[]) IS
    'Listener: mark claimed deliveries done (with the platform''s message id); returns how many were still ours.';

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
        UPDATE xp.users u SET notify = false WHERE u.id = d.user_id;
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
-- shop roles until they end), and every role xpsync manages there.
CREATE OR REPLACE FUNCTION xp.discord_role_plan(uid bigint)
RETURNS TABLE (guild_id text, member_id text, desired text[], managed text[])
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
                                SELECT p.role_id FROM xp.purchases p WHERE p.guild_id = g.guild_id) AS x), '{}')
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
    'Listener: per guild, the managed Discord roles (rank, achievement, shop roles until they end) a person should hold now and all roles xpsync manages there.';

-- Where and how to tell a person something on Telegram (no row: no Telegram account).
CREATE OR REPLACE FUNCTION xp.telegram_recipient(uid bigint)
RETURNS TABLE (chat_id text, language text, notify boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT a.external_id, xp._speaks(u.language, a.client_language), u.notify
      FROM xp.users u
      JOIN xp.accounts a ON a.user_id = u.id AND a.platform = 'telegram'
     WHERE u.id = uid
$$;
COMMENT ON FUNCTION xp.telegram_recipient(bigint) IS
    'Listener: the private chat, language (chosen, else the app''s) and notice preference of a person''s Telegram account.';

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
