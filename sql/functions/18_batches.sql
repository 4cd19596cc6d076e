-- 18_batches: many awards or messages in one call, for bots that buffer a tick of chat. Each item
-- is exactly the single call (xp.award_xp, xp.record_message: the same idempotency, the same
-- rules); an item refused with an XP00x error is reported as its own result, with nothing of it
-- written, while the others apply; one commit carries them all.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- An integer field of a batch item: XP002 naming the item when it is missing or not an integer.
CREATE OR REPLACE FUNCTION xp._item_int(p_item jsonb, p_field text, p_ord int) RETURNS int
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v text := p_item ->> p_field;
BEGIN
    IF v IS NULL OR v !~ '^-?[0-9]{1,9}$' THEN
        RAISE EXCEPTION 'item %: % must be an integer, not %', p_ord, p_field, coalesce(left(v, 40), 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    RETURN v::int;
END
$$;

-- One item of a batch: the single call it stands for.
CREATE OR REPLACE FUNCTION xp._batch_item(p_call text, p_item jsonb, p_ord int) RETURNS xp.award_result
LANGUAGE plpgsql AS $$
BEGIN
    IF jsonb_typeof(p_item) <> 'object' THEN
        RAISE EXCEPTION 'item %: expected an object, not %', p_ord, jsonb_typeof(p_item) USING ERRCODE = 'XP002';
    ELSIF p_call = 'award_xp' THEN
        RETURN xp.award_xp(p_item ->> 'platform', p_item ->> 'external_id', xp._item_int(p_item, 'amount', p_ord),
                           p_item ->> 'reason', p_item ->> 'idempotency_key', p_item ->> 'display_name');
    END IF;
    RETURN xp.record_message(p_item ->> 'platform', p_item ->> 'external_id', p_item ->> 'chat_id',
                             p_item ->> 'message_id', xp._item_int(p_item, 'length', p_ord), p_item ->> 'display_name');
END
$$;

-- Run `p_call` (award_xp or record_message) for every item of a JSON array, one result per item
-- (its place in the array, from 1) in the array's order. Lock order, as for every writer: the
-- accounts first (FOR KEY SHARE, in id order, so that no link or unlink moves one under the
-- batch), then the persons by family and id (two batches meet on a person, or on a family's
-- once-only reward, in the same order); an item of an account never seen comes last.
-- The items run in one subtransaction; only when one of them is refused are they run again,
-- each in its own (a subtransaction per item costs a transaction id each, and most batches
-- have nothing refused).
CREATE OR REPLACE FUNCTION xp._batch(p_call text, p_items jsonb)
RETURNS TABLE (item int, user_id bigint, xp bigint, coins bigint, old_rank int, new_rank int, rank_changed boolean,
               reward_coins int, applied boolean, error_code text, error text)
LANGUAGE plpgsql AS $$
DECLARE
    it record;
    r xp.award_result;
    v_each boolean := false;
    v_families bigint[];
    v_uids bigint[];
    v_items int[];
    v_results xp.award_result[];
    v_codes text[];
    v_errors text[];
BEGIN
    IF p_items IS NULL OR jsonb_typeof(p_items) <> 'array' THEN
        RAISE EXCEPTION 'a batch is a JSON array of items, not %', coalesce(jsonb_typeof(p_items), 'NULL')
            USING ERRCODE = 'XP002';
    ELSIF jsonb_array_length(p_items) > 1000 THEN
        RAISE EXCEPTION 'a batch holds at most 1000 items, not %', jsonb_array_length(p_items)
            USING ERRCODE = 'XP002';
    END IF;
    -- the items' accounts, each by its index (LATERAL ... LIMIT 1, which the planner cannot turn into
    -- a join over every account), locked
    PERFORM 1
       FROM xp.accounts a
      WHERE a.id = ANY (ARRAY(SELECT k.id
                                FROM jsonb_array_elements(p_items) AS e
                               CROSS JOIN LATERAL (SELECT c.id FROM xp.accounts c
                                                    WHERE c.platform = e ->> 'platform'
                                                      AND c.external_id = e ->> 'external_id'
                                                    LIMIT 1) AS k))
      ORDER BY a.id
        FOR KEY SHARE;
    -- then, under those locks, the person and family of each item
    SELECT array_agg(k.family ORDER BY t.ord), array_agg(k.uid ORDER BY t.ord) INTO v_families, v_uids
      FROM jsonb_array_elements(p_items) WITH ORDINALITY AS t (e, ord)
      LEFT JOIN LATERAL (SELECT a.user_id AS uid, coalesce(u.family, u.id) AS family
                           FROM xp.accounts a JOIN xp.users u ON u.id = a.user_id
                          WHERE a.platform = t.e ->> 'platform' AND a.external_id = t.e ->> 'external_id'
                          LIMIT 1) AS k
        ON true;
    LOOP
        BEGIN
            v_items := '{}'; v_results := '{}'; v_codes := '{}'; v_errors := '{}';
            FOR it IN
                SELECT t.ord::int AS ord, t.e
                  FROM jsonb_array_elements(p_items) WITH ORDINALITY AS t (e, ord)
                 ORDER BY v_families[t.ord] NULLS LAST, v_uids[t.ord], t.ord
            LOOP
                v_codes := v_codes || NULL::text;
                v_errors := v_errors || NULL::text;
                IF NOT v_each THEN
                    r := xp._batch_item(p_call, it.e, it.ord);
                ELSE
                    BEGIN
                        r := xp._batch_item(p_call, it.e, it.ord);
                    EXCEPTION WHEN SQLSTATE 'XP000' THEN  -- the class: every XP00x refusal
                        r := NULL;
                        v_codes[cardinality(v_codes)] := SQLSTATE;
                        v_errors[cardinality(v_errors)] := SQLERRM;
                    END;
                END IF;
                v_items := v_items || it.ord;
                v_results := v_results || r;
            END LOOP;
            EXIT;
        EXCEPTION WHEN SQLSTATE 'XP000' THEN
            IF v_each THEN
                RAISE;  -- cannot happen (every item catches its own): never a second pass
            END IF;
            v_each := true;  -- an item was refused: all of it is undone, and run again item by item
        END;
    END LOOP;
    RETURN QUERY
        SELECT v_items[n], (v_results[n]).user_id, (v_results[n]).xp, (v_results[n]).coins,
               (v_results[n]).old_rank, (v_results[n]).new_rank, (v_results[n]).rank_changed,
               (v_results[n]).reward_coins, coalesce((v_results[n]).applied, false), v_codes[n], v_errors[n]
          FROM generate_subscripts(v_items, 1) AS n
         ORDER BY v_items[n];
END
$$;

CREATE OR REPLACE FUNCTION xp.award_many(awards jsonb)
RETURNS TABLE (item int, user_id bigint, xp bigint, coins bigint, old_rank int, new_rank int, rank_changed boolean,
               reward_coins int, applied boolean, error_code text, error text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM xp._batch('award_xp', awards)
$$;
COMMENT ON FUNCTION xp.award_many(jsonb) IS
    'xp.award_xp for each item of a JSON array ({platform, external_id, amount, reason, idempotency_key, display_name}) in one call; one result per item, an XP00x refusal reported in its row.';

CREATE OR REPLACE FUNCTION xp.record_messages(messages jsonb)
RETURNS TABLE (item int, user_id bigint, xp bigint, coins bigint, old_rank int, new_rank int, rank_changed boolean,
               reward_coins int, applied boolean, error_code text, error text)
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM xp._batch('record_message', messages)
$$;
COMMENT ON FUNCTION xp.record_messages(jsonb) IS
    'xp.record_message for each item of a JSON array ({platform, external_id, chat_id, message_id, length, display_name}) in one call; one result per item, an XP00x refusal reported in its row.';
