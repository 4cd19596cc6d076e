-- 0002_ledger_core: why: the one write path every award shares. An account
-- lookup (first sight creates a person), a ledger insert guarded by its
-- idempotency key, one balance update that also says whether a rank threshold
-- was crossed, and rank work (rewards once ever, an event, the NOTIFY doorbell)
-- only when it was. Plus the ledger's append-only guard.

-- Raise XP002 unless `value` is 1..max_length characters.
CREATE FUNCTION xp._check_text(value text, what text, max_length int DEFAULT 200) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF value IS NULL OR length(value) = 0 THEN
        RAISE EXCEPTION '% must not be empty', what USING ERRCODE = 'XP002';
    ELSIF length(value) > max_length THEN
        RAISE EXCEPTION '% is % characters long (at most %)', what, length(value), max_length
            USING ERRCODE = 'XP002';
    END IF;
END
$$;

-- Raise XP002 unless `platform` is one of ours.
CREATE FUNCTION xp._check_platform(platform text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF platform IS NULL OR platform NOT IN ('telegram', 'discord', 'website') THEN
        RAISE EXCEPTION 'unknown platform %: expected telegram, discord or website',
            coalesce(quote_literal(left(platform, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
END
$$;

-- A setting as jsonb (NULL when absent).
CREATE FUNCTION xp._setting(p_key text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT value FROM xp.settings WHERE key = p_key
$$;

-- A new person with nothing, at the lowest rank.
CREATE FUNCTION xp._new_person(p_display_name text) RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO xp.users (display_name, rank_id, rank_floor, rank_ceil)
    SELECT p_display_name, r.id, r.min_xp, (SELECT min(n.min_xp) FROM xp.ranks n WHERE n.min_xp > r.min_xp)
      FROM xp.ranks r ORDER BY r.min_xp LIMIT 1
    RETURNING id
$$;

-- The account for (platform, external_id); first sight creates it with a new person.
-- FOR KEY SHARE: moving an account to another person (link, unlink) is a key
-- update of the row, so it waits for writes in flight, and writes that start
-- after it wait for it and then see the account's new person.
CREATE FUNCTION xp._account_for(p_platform text, p_external_id text, p_display_name text DEFAULT NULL,
                                OUT acc bigint, OUT uid bigint)
LANGUAGE plpgsql AS $$
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

-- The account for (platform, external_id), or XP001 when it was never seen.
CREATE FUNCTION xp._known_account(p_platform text, p_external_id text, OUT acc bigint, OUT uid bigint)
LANGUAGE plpgsql STABLE AS $$
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

-- A person's current state as an award_result that applied nothing.
CREATE FUNCTION xp._state(p_uid bigint) RETURNS xp.award_result
LANGUAGE sql STABLE AS $$
    SELECT ROW(u.id, u.xp, u.coins, u.rank_id, u.rank_id, false, 0, false)::xp.award_result
      FROM xp.users u WHERE u.id = p_uid
$$;

-- The outbox: an event and one delivery per interested platform, in the caller's
-- transaction. Discord cares about everything that can change roles; Telegram
-- only about what it tells the person, and only while their notices are on.
CREATE FUNCTION xp._emit(p_uid bigint, p_kind text, p_payload jsonb DEFAULT '{}') RETURNS bigint
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
            OR (a.platform = 'telegram' AND u.notify AND p_kind IN ('rank_changed', 'achievement_unlocked')));
    RETURN v_event;
END
$$;

-- The doorbell: one tiny NOTIFY per target and transaction (PostgreSQL folds duplicates).
CREATE FUNCTION xp._ring() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('xp_' || NEW.target, '');
    RETURN NULL;
END
$$;
CREATE TRIGGER deliveries_ring AFTER INSERT ON xp.deliveries
    FOR EACH ROW WHEN (NEW.status = 'pending') EXECUTE FUNCTION xp._ring();

-- Derive the rank from XP after a threshold was crossed: move the rank and its
-- bounds, pay the rewards of ranks never rewarded before, and emit the change.
CREATE FUNCTION xp._rerank(p_uid bigint, p_old_rank int) RETURNS xp.award_result
LANGUAGE plpgsql AS $$
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
    RETURN ROW(p_uid, v_xp, v_coins, p_old_rank, v_new, v_new <> p_old_rank, v_reward, true)::xp.award_result;
END
$$;

-- A key seen before: the same award again is a no-op that returns the current
-- state; the same key for another account, kind or amount is XP004.
CREATE FUNCTION xp._replay(p_uid bigint, p_acc bigint, p_kind text, p_amount int, p_key text)
RETURNS xp.award_result
LANGUAGE plpgsql AS $$
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

-- Apply one ledger change: validate, insert the row under its key, move the
-- balance (never below zero), and rerank only when a threshold was crossed.
CREATE FUNCTION xp._apply(p_uid bigint, p_acc bigint, p_platform text, p_kind text, p_amount int,
                          p_reason text, p_key text, p_factor numeric DEFAULT 1, p_actor text DEFAULT NULL,
                          p_display_name text DEFAULT NULL)
RETURNS xp.award_result
LANGUAGE plpgsql AS $$
DECLARE
    v_delta bigint;
    v_xp bigint;
    v_coins bigint;
    v_rank int;
    v_crossed boolean := false;
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
        UPDATE xp.users u
           SET xp = u.xp + v_delta, display_name = coalesce(p_display_name, u.display_name)
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

-- The ledger is append-only: rows may only be re-pointed to another person (merges).
CREATE FUNCTION xp._ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'xp.ledger is append-only: % of ledger rows is not allowed', lower(TG_OP)
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER ledger_no_rewrite BEFORE UPDATE ON xp.ledger
    FOR EACH ROW
    WHEN ((OLD.id, OLD.account_id, OLD.platform, OLD.kind, OLD.delta, OLD.reason, OLD.idempotency_key,
           OLD.factor, OLD.actor, OLD.created_at)
          IS DISTINCT FROM
          (NEW.id, NEW.account_id, NEW.platform, NEW.kind, NEW.delta, NEW.reason, NEW.idempotency_key,
           NEW.factor, NEW.actor, NEW.created_at))
    EXECUTE FUNCTION xp._ledger_append_only();
CREATE TRIGGER ledger_no_delete BEFORE DELETE ON xp.ledger
    FOR EACH ROW EXECUTE FUNCTION xp._ledger_append_only();
CREATE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON xp.ledger
    FOR EACH STATEMENT EXECUTE FUNCTION xp._ledger_append_only();

CREATE FUNCTION xp.award_xp(platform text, external_id text, amount int, reason text, idempotency_key text,
                            display_name text DEFAULT NULL)
RETURNS xp.award_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
BEGIN
    SELECT * INTO a FROM xp._account_for(award_xp.platform, award_xp.external_id, award_xp.display_name);
    RETURN xp._apply(a.uid, a.acc, award_xp.platform, 'xp', award_xp.amount, award_xp.reason,
                     award_xp.idempotency_key, 1, NULL, award_xp.display_name);
END
$$;
COMMENT ON FUNCTION xp.award_xp(text, text, int, text, text, text) IS
    'Add (or, negative, take) XP once per idempotency key; first sight of the account creates its person.';

CREATE FUNCTION xp.award_coins(platform text, external_id text, amount int, reason text, idempotency_key text)
RETURNS xp.award_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
BEGIN
    SELECT * INTO a FROM xp._account_for(award_coins.platform, award_coins.external_id);
    RETURN xp._apply(a.uid, a.acc, award_coins.platform, 'coins', award_coins.amount, award_coins.reason,
                     award_coins.idempotency_key);
END
$$;
COMMENT ON FUNCTION xp.award_coins(text, text, int, text, text) IS
    'Add coins, or spend them with a negative amount (never below zero), once per idempotency key.';

-- New functions are EXECUTE-able by PUBLIC (a per-schema default cannot revoke
-- that); every migration that creates functions ends with this, then grants.
REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA xp FROM PUBLIC;

GRANT EXECUTE ON FUNCTION xp.award_xp(text, text, int, text, text, text),
                          xp.award_coins(text, text, int, text, text)
    TO xp_bot, xp_admin;
