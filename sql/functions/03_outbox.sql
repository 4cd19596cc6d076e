-- 03_outbox: what platforms hear about. An event and one delivery per
-- interested platform, written in the transaction of the change; the NOTIFY
-- doorbell; and Discord role resyncs, queued once however often they are asked.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- The outbox: an event and one delivery per interested platform, in the caller's
-- transaction. Discord cares about everything that can change roles; Telegram
-- only about what it tells the person, and only while their notices are on.
CREATE OR REPLACE FUNCTION xp._emit(p_uid bigint, p_kind text, p_payload jsonb DEFAULT '{}') RETURNS bigint
LANGUAGE plpgsql AS $$
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
            OR (a.platform = 'telegram' AND u.notify AND p_kind IN ('rank_changed', 'achievement_unlocked', 'quest_completed')));
    RETURN v_event;
END
$$;

-- An event for the one platform a person acted on (a quest submitted, an item bought there): told
-- of its review there only, when the person still has an account there (and, on Telegram, wants
-- notices).
CREATE OR REPLACE FUNCTION xp._emit_to(p_uid bigint, p_kind text, p_payload jsonb, p_platform text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_event bigint;
BEGIN
    INSERT INTO xp.events (user_id, kind, payload) VALUES (p_uid, p_kind, p_payload) RETURNING id INTO v_event;
    INSERT INTO xp.deliveries (event_id, target, user_id)
    SELECT v_event, a.platform, p_uid
      FROM xp.accounts a
      JOIN xp.users u ON u.id = a.user_id
     WHERE a.user_id = p_uid AND a.platform = p_platform
       AND (a.platform = 'discord' OR (a.platform = 'telegram' AND u.notify));
    RETURN v_event;
END
$$;

-- The doorbell: one tiny NOTIFY per target and transaction (PostgreSQL folds duplicates).
CREATE OR REPLACE FUNCTION xp._ring() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('xp_' || NEW.target, '');
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER deliveries_ring AFTER INSERT ON xp.deliveries
    FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION xp._ring();

-- Whether a Discord delivery of this event puts the person's roles right: every one does but a
-- review's notice, which the Discord listener only tells the member (a direct message).
CREATE OR REPLACE FUNCTION xp._sets_roles(kind text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT kind NOT IN ('quest_reviewed', 'purchase_reviewed')
$$;

-- Queue a Discord role resync for people with a Discord account, unless one is
-- already waiting (an unclaimed delivery that sets roles recomputes everything anyway).
CREATE OR REPLACE FUNCTION xp._queue_resync(uids bigint[], reason text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_count bigint;
BEGIN
    WITH wanted AS (
        SELECT DISTINCT a.user_id
          FROM xp.accounts a
         WHERE a.platform = 'discord' AND (uids IS NULL OR a.user_id = ANY (uids))
           AND NOT EXISTS (SELECT 1 FROM xp.deliveries d JOIN xp.events e ON e.id = d.event_id
                            WHERE d.user_id = a.user_id AND d.target = 'discord'
                              AND d.status = 'pending' AND d.lease_owner IS NULL AND xp._sets_roles(e.kind))),
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
