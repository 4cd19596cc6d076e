-- 04_ledger: the one write path every award shares. A ledger insert guarded
-- by its idempotency key, one balance update that also says whether a rank
-- threshold was crossed, and rank work (rewards once ever, an event, rank
-- achievements) only when it was; the ledger's append-only guard; and the two
-- award functions bots call.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- Derive the rank from XP after a threshold was crossed: move the rank and its
-- bounds, pay the rewards of ranks never rewarded before (to the person, whose
-- high-water mark says which it passed, and to its family: xp._family_pays),
-- emit the change, and unlock the rank achievements it earned. The caller holds
-- the person's row lock.
CREATE OR REPLACE FUNCTION xp._rerank(p_uid bigint, p_old_rank int) RETURNS xp.award_result
LANGUAGE plpgsql AS $$
DECLARE
    v_xp bigint;
    v_coins bigint;
    v_rewarded int;
    v_family bigint;
    v_new int;
    v_floor bigint;
    v_ceil bigint;
    v_reward int := 0;
    v_paid int;
    k record;
    v_result xp.award_result;
BEGIN
    SELECT u.xp, u.rewarded_rank, coalesce(u.family, u.id) INTO v_xp, v_rewarded, v_family
      FROM xp.users u WHERE u.id = p_uid;
    SELECT r.id, r.min_xp, (SELECT min(n.min_xp) FROM xp.ranks n WHERE n.min_xp > r.min_xp)
      INTO v_new, v_floor, v_ceil
      FROM xp.ranks r
     WHERE r.min_xp <= v_xp
     ORDER BY r.min_xp DESC
     LIMIT 1;
    FOR k IN SELECT r.id, r.name, r.reward_coins FROM xp.ranks r
              WHERE r.id > v_rewarded AND r.id <= v_new AND r.min_xp > 0
              ORDER BY r.id LOOP
        CONTINUE WHEN NOT xp._family_pays(v_family, 'rank:' || k.id) OR k.reward_coins = 0;
        INSERT INTO xp.ledger (user_id, source, kind, delta, reason, idempotency_key)
        VALUES (p_uid, 'rank_reward', 'coins', k.reward_coins, 'rank reward: ' || k.name,
                'rank-reward:' || p_uid || ':' || k.id)
        ON CONFLICT (idempotency_key, source) DO NOTHING
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

-- A key seen before (within the writer's namespace, xp.ledger.source): the same
-- award again is a no-op that returns the current state of the caller's person
-- (who may have left the person it was paid to: an unlinked account); the same
-- key for another account, kind or amount is XP004.
CREATE OR REPLACE FUNCTION xp._replay(p_uid bigint, p_acc bigint, p_source text, p_kind text, p_amount bigint,
                                      p_key text)
RETURNS xp.award_result
LANGUAGE plpgsql AS $$
DECLARE
    l xp.ledger;
BEGIN
    SELECT * INTO l FROM xp.ledger WHERE idempotency_key = p_key AND source = p_source;
    IF l.kind <> p_kind
       OR l.delta <> round(p_amount * l.factor)
       OR (p_acc IS NOT NULL AND l.account_id IS DISTINCT FROM p_acc)
       OR (p_acc IS NULL AND l.user_id <> p_uid) THEN
        RAISE EXCEPTION 'idempotency key % was already used for % % to another account or with another amount',
            quote_literal(left(p_key, 60)), l.delta, l.kind USING ERRCODE = 'XP004';
    END IF;
    RETURN xp._state(p_uid);
END
$$;

-- Apply one ledger change: validate, insert the row under its key, move the
-- balance (never below zero) and, for XP, the current week/month/season
-- counters in the same update; rerank only when a threshold was crossed.
-- p_source says what writes the row (xp.ledger.source); imported XP counts
-- for all time, not for the period boards, and an import's difference may be
-- larger than an award (xp.import_xp checks its totals).
CREATE OR REPLACE FUNCTION xp._apply(p_uid bigint, p_acc bigint, p_platform text, p_source text, p_kind text,
                                     p_amount bigint, p_reason text, p_key text, p_factor numeric DEFAULT 1,
                                     p_actor text DEFAULT NULL, p_display_name text DEFAULT NULL,
                                     p_imported_from text DEFAULT NULL)
RETURNS xp.award_result
LANGUAGE plpgsql AS $$
DECLARE
    v_delta bigint;
    v_board bigint;
    v_xp bigint;
    v_coins bigint;
    v_rank int;
    v_crossed boolean := false;
    p record;
BEGIN
    IF p_amount IS NULL OR p_amount = 0
       OR (p_amount NOT BETWEEN -1000000 AND 1000000
           AND (p_source <> 'import' OR p_amount NOT BETWEEN -2000000000 AND 2000000000)) THEN
        RAISE EXCEPTION 'amount % is out of range: it must be non-zero and at most 1000000 in magnitude',
            coalesce(p_amount::text, 'NULL') USING ERRCODE = 'XP002';
    END IF;
    IF p_reason IS NULL OR length(p_reason) NOT BETWEEN 1 AND 200
       OR p_key IS NULL OR length(p_key) NOT BETWEEN 1 AND 200 THEN
        PERFORM xp._check_text(p_reason, 'reason');
        PERFORM xp._check_text(p_key, 'idempotency_key');
    END IF;
    v_delta := round(p_amount * p_factor);
    INSERT INTO xp.ledger (user_id, account_id, platform, source, kind, delta, reason, idempotency_key, factor,
                           actor, imported_from)
    VALUES (p_uid, p_acc, p_platform, p_source, p_kind, v_delta, p_reason, p_key, p_factor, p_actor, p_imported_from)
    ON CONFLICT (idempotency_key, source) DO NOTHING;
    IF NOT FOUND THEN
        RETURN xp._replay(p_uid, p_acc, p_source, p_kind, p_amount, p_key);
    END IF;
    IF p_kind = 'xp' THEN
        SELECT * INTO p FROM xp._periods();
        v_board := CASE WHEN p_source = 'import' THEN 0 ELSE v_delta END;
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

-- A result re-read after unlocks paid rewards on top of it.
CREATE OR REPLACE FUNCTION xp._refresh(r xp.award_result) RETURNS xp.award_result
LANGUAGE sql STABLE AS $$
    SELECT ROW(u.id, u.xp, u.coins, r.old_rank, u.rank_id, u.rank_id <> r.old_rank, r.reward_coins,
               r.applied)::xp.award_result
      FROM xp.users u WHERE u.id = r.user_id
$$;

-- The ledger is append-only: rows may only be re-pointed to another person (merges), or lose
-- what identifies a forgotten person (xp.forget_person: the key becomes 'forgotten:' || id, a
-- reason written by a bot or an admin becomes 'forgotten'); the numbers never change.
CREATE OR REPLACE FUNCTION xp._ledger_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'xp.ledger is append-only: % of ledger rows is not allowed', lower(TG_OP)
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE OR REPLACE TRIGGER ledger_no_rewrite BEFORE UPDATE ON xp.ledger
    FOR EACH ROW
    -- any column but user_id, key and reason, and those two only to their forgotten form;
    -- one OR per column, which a dump reloads as written
    WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.account_id IS DISTINCT FROM NEW.account_id
          OR OLD.platform IS DISTINCT FROM NEW.platform OR OLD.kind IS DISTINCT FROM NEW.kind
          OR OLD.delta IS DISTINCT FROM NEW.delta
          OR (OLD.reason IS DISTINCT FROM NEW.reason AND NEW.reason IS DISTINCT FROM 'forgotten')
          OR (OLD.idempotency_key IS DISTINCT FROM NEW.idempotency_key
              AND NEW.idempotency_key IS DISTINCT FROM 'forgotten:' || OLD.id)
          OR OLD.factor IS DISTINCT FROM NEW.factor
          OR OLD.actor IS DISTINCT FROM NEW.actor OR OLD.created_at IS DISTINCT FROM NEW.created_at
          OR OLD.source IS DISTINCT FROM NEW.source OR OLD.imported_from IS DISTINCT FROM NEW.imported_from)
    EXECUTE FUNCTION xp._ledger_append_only();
CREATE OR REPLACE TRIGGER ledger_no_delete BEFORE DELETE ON xp.ledger
    FOR EACH ROW EXECUTE FUNCTION xp._ledger_append_only();
CREATE OR REPLACE TRIGGER ledger_no_truncate BEFORE TRUNCATE ON xp.ledger
    FOR EACH STATEMENT EXECUTE FUNCTION xp._ledger_append_only();

CREATE OR REPLACE FUNCTION xp.award_xp(platform text, external_id text, amount int, reason text,
                                       idempotency_key text, display_name text DEFAULT NULL)
RETURNS xp.award_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
BEGIN
    SELECT * INTO a FROM xp._account_for(award_xp.platform, award_xp.external_id, award_xp.display_name);
    -- running global multipliers raise what is earned, never a penalty
    RETURN xp._apply(a.uid, a.acc, award_xp.platform, 'award', 'xp', award_xp.amount, award_xp.reason,
                     award_xp.idempotency_key,
                     CASE WHEN award_xp.amount > 0 THEN xp._multiplier() ELSE 1 END, NULL, award_xp.display_name);
END
$$;
COMMENT ON FUNCTION xp.award_xp(text, text, int, text, text, text) IS
    'Add (or, negative, take) XP once per idempotency key; first sight of the account creates its person.';

CREATE OR REPLACE FUNCTION xp.award_coins(platform text, external_id text, amount int, reason text, idempotency_key text)
RETURNS xp.award_result
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
BEGIN
    SELECT * INTO a FROM xp._account_for(award_coins.platform, award_coins.external_id);
    RETURN xp._apply(a.uid, a.acc, award_coins.platform, 'award', 'coins', award_coins.amount, award_coins.reason,
                     award_coins.idempotency_key);
END
$$;
COMMENT ON FUNCTION xp.award_coins(text, text, int, text, text) IS
    'Add coins, or spend them with a negative amount (never below zero), once per idempotency key.';
