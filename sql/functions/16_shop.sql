-- 16_shop: the reward shop. A purchase takes its price at once through the
-- ledger (XP003 when the coins are short: nothing is written, the stock is
-- untouched) and one item of the stock; an item that needs a person to act
-- waits for an operator, whose decline refunds the price through the ledger
-- and puts the item back. A Discord role bought for some days is part of the
-- person's role plan (xp.discord_role_plan) until it ends; xp.expire_purchases,
-- which the Discord listener calls as it polls, queues the resync that takes it
-- back. Locks: the account, the person, then the item (a buy), or the person,
-- then the purchase, then the item (a review), so that nothing deadlocks.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- A sale (-1) or a refund (+1) moves an item's stock (NULL: no limit): not an operator's change of
-- the item, so neither audited nor a new config version (xp._sale_moves_stock). The caller holds
-- the item's row lock.
CREATE OR REPLACE FUNCTION xp._stock_move(p_item text, p_by int) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('xp.stock_move', 'on', true);
    UPDATE xp.shop_items i SET stock = i.stock + p_by WHERE i.code = p_item AND i.stock IS NOT NULL;
    PERFORM set_config('xp.stock_move', '', true);
END
$$;

-- Whether the update being made is a sale's or a refund's stock move.
CREATE OR REPLACE FUNCTION xp._sale_moves_stock() RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT coalesce(current_setting('xp.stock_move', true), '') = 'on'
$$;

CREATE OR REPLACE FUNCTION xp.shop_list()
RETURNS TABLE (code text, kind text, title jsonb, description jsonb, price int, stock int, days int,
               needs_approval boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT i.code, i.kind, i.title::jsonb, i.description::jsonb, i.price, i.stock, i.days, i.needs_approval
      FROM xp.shop_items i
     WHERE i.active
     ORDER BY i.price, i.code
$$;
COMMENT ON FUNCTION xp.shop_list() IS 'The items for sale now, cheapest first, with price, stock (NULL: no limit) and days.';

CREATE OR REPLACE FUNCTION xp.buy(platform text, external_id text, item text, request_key text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    i xp.shop_items;
    p xp.purchases;
    r xp.award_result;
BEGIN
    PERFORM xp._check_text(buy.request_key, 'request_key');
    SELECT * INTO a FROM xp._account_for(buy.platform, buy.external_id);
    PERFORM 1 FROM xp.users u WHERE u.id = a.uid FOR UPDATE;
    SELECT * INTO p FROM xp.purchases x WHERE x.account_id = a.acc AND x.request_key = buy.request_key;
    IF FOUND THEN
        IF p.item IS DISTINCT FROM buy.item THEN
            RAISE EXCEPTION 'request_key % was already used to buy %', quote_literal(left(buy.request_key, 60)),
                p.item USING ERRCODE = 'XP004';
        END IF;
        RETURN jsonb_build_object('purchase_id', p.id, 'item', p.item, 'status', p.status, 'price', p.price,
                                  'coins', (SELECT u.coins FROM xp.users u WHERE u.id = a.uid),
                                  'expires_at', p.expires_at, 'applied', false);
    END IF;
    SELECT * INTO i FROM xp.shop_items x WHERE x.code = buy.item FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown item %', coalesce(quote_literal(left(buy.item, 40)), 'NULL') USING ERRCODE = 'XP002';
    ELSIF NOT i.active THEN
        RAISE EXCEPTION 'item % is not for sale now', i.code USING ERRCODE = 'XP009';
    ELSIF i.stock = 0 THEN
        RAISE EXCEPTION 'item % is sold out', i.code USING ERRCODE = 'XP009';
    END IF;
    INSERT INTO xp.purchases (item, user_id, account_id, platform, request_key, price, kind, guild_id, role_id, days,
                              status, expires_at)
    VALUES (i.code, a.uid, a.acc, buy.platform, buy.request_key, i.price, i.kind, i.guild_id, i.role_id, i.days,
            CASE WHEN i.needs_approval THEN 'pending' ELSE 'approved' END,
            CASE WHEN NOT i.needs_approval AND i.days IS NOT NULL THEN now() + make_interval(days => i.days) END)
    RETURNING * INTO p;
    r := xp._apply(a.uid, a.acc, buy.platform, 'shop', 'coins', -i.price, 'shop: ' || (i.title ->> 'en'),
                   'shop:' || p.id);
    PERFORM xp._stock_move(i.code, -1);
    IF p.status = 'approved' AND p.kind = 'discord_role' THEN
        PERFORM xp._queue_resync(ARRAY[a.uid], 'shop: ' || i.code);
    END IF;
    IF p.status = 'pending' THEN
        PERFORM pg_notify('xp_admin', 'shop');
    END IF;
    RETURN jsonb_build_object('purchase_id', p.id, 'item', p.item, 'status', p.status, 'price', p.price,
                              'coins', r.coins, 'expires_at', p.expires_at, 'applied', true);
END
$$;
COMMENT ON FUNCTION xp.buy(text, text, text, text) IS
    'Buy a shop item: its price is taken at once (XP003 when short), one of its stock; once per request_key (applied=false).';

-- An operator approves or declines a waiting purchase with a note: a decline refunds the price
-- through the ledger and puts the item back in stock; an approved role starts its days now. The
-- platform it was bought on is told.
CREATE OR REPLACE FUNCTION xp.review_purchase(purchase_id bigint, approve boolean, note text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p xp.purchases;
    v_title jsonb;
    r xp.award_result;
BEGIN
    PERFORM xp._check_flag(review_purchase.approve, 'approve');
    PERFORM xp._lock_for_review('purchases', review_purchase.purchase_id, review_purchase.note);
    SELECT * INTO p FROM xp.purchases x WHERE x.id = review_purchase.purchase_id;
    IF p.status <> 'pending' THEN
        RAISE EXCEPTION 'purchase % was % already by %', p.id, p.status, coalesce(p.reviewed_by, 'xpsync')
            USING ERRCODE = 'XP009';
    END IF;
    SELECT i.title INTO v_title FROM xp.shop_items i WHERE i.code = p.item;
    IF review_purchase.approve THEN
        UPDATE xp.purchases x
           SET status = 'approved', note = nullif(review_purchase.note, ''), reviewed_by = xp._actor(),
               reviewed_at = now(),
               expires_at = CASE WHEN x.days IS NOT NULL THEN now() + make_interval(days => x.days) END
         WHERE x.id = p.id
        RETURNING * INTO p;
        IF p.kind = 'discord_role' THEN
            PERFORM xp._queue_resync(ARRAY[p.user_id], 'shop: ' || p.item);
        END IF;
        r := xp._state(p.user_id);
    ELSE
        r := xp._apply(p.user_id, NULL, NULL, 'shop', 'coins', p.price, 'shop refund: ' || (v_title ->> 'en'),
                       'shop-refund:' || p.id);
        PERFORM xp._stock_move(p.item, 1);
        UPDATE xp.purchases x
           SET status = 'declined', note = nullif(review_purchase.note, ''), reviewed_by = xp._actor(),
               reviewed_at = now()
         WHERE x.id = p.id
        RETURNING * INTO p;
    END IF;
    PERFORM xp._emit_to(p.user_id, 'purchase_reviewed',
                        jsonb_build_object('purchase_id', p.id, 'item', p.item, 'title', v_title,
                                           'status', p.status, 'note', p.note, 'price', p.price,
                                           'expires_at', p.expires_at),
                        p.platform);
    PERFORM xp._audit('purchase.' || CASE WHEN review_purchase.approve THEN 'approve' ELSE 'decline' END,
                      p.id::text, jsonb_build_object('item', p.item, 'user_id', p.user_id, 'price', p.price,
                                                     'note', p.note));
    RETURN jsonb_build_object('purchase_id', p.id, 'user_id', p.user_id, 'status', p.status, 'coins', r.coins,
                              'expires_at', p.expires_at);
END
$$;
COMMENT ON FUNCTION xp.review_purchase(bigint, boolean, text) IS
    'Admin: approve or decline (refunded through the ledger, back in stock) a waiting purchase, with a note; the member is told.';

-- Timed roles that ended: marked, and a role resync queued for their people (the Discord listener
-- calls this as it polls; the role plan no longer lists the role). Returns how many ended.
CREATE OR REPLACE FUNCTION xp.expire_purchases() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_people bigint[];
    v_count bigint;
BEGIN
    WITH ended AS (
        UPDATE xp.purchases x SET expired_at = now()
         WHERE x.id IN (SELECT y.id FROM xp.purchases y
                         WHERE y.status = 'approved' AND y.expired_at IS NULL AND y.expires_at <= now()
                         ORDER BY y.id FOR UPDATE SKIP LOCKED)
        RETURNING x.user_id)
    SELECT array_agg(DISTINCT e.user_id), count(*) INTO v_people, v_count FROM ended e;
    IF v_count > 0 THEN
        PERFORM xp._queue_resync(v_people, 'shop: a timed role ended');
    END IF;
    RETURN v_count;
END
$$;
COMMENT ON FUNCTION xp.expire_purchases() IS
    'Listener: mark the timed roles that ended and queue the role resync that takes them back; returns how many.';

CREATE OR REPLACE FUNCTION xp.admin_purchases(state text DEFAULT 'pending', lim int DEFAULT 100)
RETURNS TABLE (id bigint, item text, title jsonb, kind text, price int, user_id bigint, display_name text,
               coins bigint, platform text, status text, note text, reviewed_by text, created_at timestamptz,
               reviewed_at timestamptz, expires_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM xp._check_review_state(admin_purchases.state);
    RETURN QUERY
    SELECT p.id, p.item, i.title::jsonb, p.kind, p.price, p.user_id, u.display_name, u.coins, p.platform, p.status, p.note,
           p.reviewed_by, p.created_at, p.reviewed_at, p.expires_at
      FROM xp.purchases p
      JOIN xp.shop_items i ON i.code = p.item
      JOIN xp.users u ON u.id = p.user_id
     WHERE admin_purchases.state IS NULL OR p.status = admin_purchases.state
     ORDER BY CASE WHEN p.status = 'pending' THEN p.id ELSE -p.id END
     LIMIT least(greatest(coalesce(admin_purchases.lim, 100), 1), 500);
END
$$;
COMMENT ON FUNCTION xp.admin_purchases(text, int) IS
    'Admin panel: purchases of a status (NULL: all) with the buyer''s balance, the waiting ones oldest first.';

-- shop items are an operator table: audited, and running bots take a change up
CREATE OR REPLACE TRIGGER shop_items_audit AFTER INSERT OR DELETE ON xp.shop_items
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('code');
CREATE OR REPLACE TRIGGER shop_items_audit_update AFTER UPDATE ON xp.shop_items
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*
                       AND NOT (xp._sale_moves_stock() AND to_jsonb(OLD) - 'stock' = to_jsonb(NEW) - 'stock'))
    EXECUTE FUNCTION xp._operator_row_changed('code');
