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

-- Where the Discord roles a person's plan changed at `since` (an approval) stand: the discord
-- deliveries that set roles (xp._sets_roles: not a member's notice of a review) queued then or later
-- (the resync queued in the same transaction), or, when a resync was already waiting and took the
-- change along, the one still unfinished at that moment. 'done' once one of them was delivered,
-- 'pending' while one waits, else 'failed'; with the newest error or note. No row: none on record.
CREATE OR REPLACE FUNCTION xp._role_delivery(p_uid bigint, p_since timestamptz)
RETURNS TABLE (status text, error text)
LANGUAGE sql STABLE AS $$
    WITH setting_roles AS (
        SELECT d.id, d.status, d.last_error, d.created_at, d.finished_at
          FROM xp.deliveries d
          JOIN xp.events e ON e.id = d.event_id
         WHERE d.user_id = p_uid AND d.target = 'discord' AND xp._sets_roles(e.kind)),
    carrying AS (
        SELECT c.* FROM setting_roles c
         WHERE c.created_at >= p_since
            OR (coalesce(c.finished_at >= p_since, true)
                AND NOT EXISTS (SELECT 1 FROM setting_roles n WHERE n.created_at >= p_since)))
    SELECT CASE WHEN bool_or(c.status = 'done') THEN 'done'
                WHEN bool_or(c.status = 'pending') THEN 'pending'
                ELSE 'failed' END,
           (array_agg(c.last_error ORDER BY c.id DESC) FILTER (WHERE c.last_error IS NOT NULL))[1]
      FROM carrying c
    HAVING count(*) > 0
$$;

-- The shop's queue, optionally of one item; a Discord role's purchase says where its role stands
-- (role_delivery: done | pending | failed | ended, NULL when nothing is to be delivered).
CREATE OR REPLACE FUNCTION xp.admin_shop_queue(state text DEFAULT 'pending', by_item text DEFAULT NULL,
                                               lim int DEFAULT 100)
RETURNS TABLE (id bigint, item text, title jsonb, kind text, price int, user_id bigint, display_name text,
               coins bigint, platform text, status text, note text, reviewed_by text, created_at timestamptz,
               reviewed_at timestamptz, expires_at timestamptz, guild_id text, role_id text, days int,
               role_delivery text, role_error text)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM xp._check_review_state(admin_shop_queue.state);
    RETURN QUERY
    SELECT p.id, p.item, i.title::jsonb, p.kind, p.price, p.user_id, u.display_name, u.coins, p.platform, p.status,
           p.note, p.reviewed_by, p.created_at, p.reviewed_at, p.expires_at, p.guild_id, p.role_id, p.days,
           CASE WHEN p.expired_at IS NOT NULL THEN 'ended' ELSE r.status END, r.error
      FROM xp.purchases p
      JOIN xp.shop_items i ON i.code = p.item
      JOIN xp.users u ON u.id = p.user_id
      -- only a role's approved purchase reads its deliveries (OFFSET 0 keeps the filter a gate: the others read none)
      LEFT JOIN LATERAL (SELECT x.status, x.error FROM xp._role_delivery(p.user_id, coalesce(p.reviewed_at, p.created_at)) x
                          WHERE p.kind = 'discord_role' AND p.status = 'approved' OFFSET 0) r ON true
     WHERE (admin_shop_queue.state IS NULL OR p.status = admin_shop_queue.state)
       AND (admin_shop_queue.by_item IS NULL OR p.item = admin_shop_queue.by_item)
     ORDER BY CASE WHEN p.status = 'pending' THEN p.id ELSE -p.id END
     LIMIT least(greatest(coalesce(admin_shop_queue.lim, 100), 1), 500);
END
$$;
COMMENT ON FUNCTION xp.admin_shop_queue(text, text, int) IS
    'Admin panel: purchases of a status (NULL: all) and item (NULL: any) with the buyer''s balance and where a bought Discord role stands.';

CREATE OR REPLACE FUNCTION xp.admin_purchases(state text DEFAULT 'pending', lim int DEFAULT 100)
RETURNS TABLE (id bigint, item text, title jsonb, kind text, price int, user_id bigint, display_name text,
               coins bigint, platform text, status text, note text, reviewed_by text, created_at timestamptz,
               reviewed_at timestamptz, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT q.id, q.item, q.title, q.kind, q.price, q.user_id, q.display_name, q.coins, q.platform, q.status, q.note,
           q.reviewed_by, q.created_at, q.reviewed_at, q.expires_at
      FROM xp.admin_shop_queue(admin_purchases.state, NULL, admin_purchases.lim) q
$$;
COMMENT ON FUNCTION xp.admin_purchases(text, int) IS
    'Admin panel: purchases of a status (NULL: all) with the buyer''s balance, the waiting ones oldest first.';

-- The Discord roles a person holds by plan, per guild, each with what it comes from (rank,
-- achievement, shop); a bought one with its purchase, until when, and where its delivery stands.
CREATE OR REPLACE FUNCTION xp.admin_person_roles(uid bigint)
RETURNS TABLE (guild_id text, role_id text, source text, purchase_id bigint, item text, title jsonb,
               expires_at timestamptz, role_delivery text, role_error text, paused boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT pl.guild_id, r.role_id,
           CASE WHEN b.id IS NOT NULL THEN 'shop'
                WHEN EXISTS (SELECT 1 FROM xp.rank_roles rr WHERE rr.guild_id = pl.guild_id AND rr.role_id = r.role_id)
                    THEN 'rank'
                ELSE 'achievement' END,
           b.id, b.item, i.title::jsonb, b.expires_at, d.status, d.error, pl.paused
      FROM xp.discord_role_plan(admin_person_roles.uid) pl
     CROSS JOIN LATERAL unnest(pl.desired) WITH ORDINALITY AS r (role_id, n)
      LEFT JOIN LATERAL (SELECT p.* FROM xp.purchases p
                          WHERE p.user_id = admin_person_roles.uid AND p.guild_id = pl.guild_id
                            AND p.role_id = r.role_id AND p.status = 'approved' AND p.expired_at IS NULL
                            AND coalesce(p.expires_at > now(), true)
                          ORDER BY p.expires_at DESC NULLS FIRST, p.id DESC LIMIT 1) b ON true
      LEFT JOIN xp.shop_items i ON i.code = b.item
      LEFT JOIN LATERAL (SELECT x.status, x.error FROM xp._role_delivery(b.user_id, coalesce(b.reviewed_at, b.created_at)) x
                          WHERE b.id IS NOT NULL OFFSET 0) d ON true
     ORDER BY pl.guild_id, r.n
$$;
COMMENT ON FUNCTION xp.admin_person_roles(bigint) IS
    'Admin panel: per guild, the Discord roles a person holds by plan, what each comes from, and for a bought one until when and whether it was given.';

-- The waiting reviews of a queue ('quests' or 'shop') that a filter (a quest or an item; NULL: any)
-- matches, up to a purchase or submission id (NULL: the newest).
CREATE OR REPLACE FUNCTION xp._reviews_matching(p_queue text, p_what text, p_upto bigint)
RETURNS TABLE (id bigint, user_id bigint)
LANGUAGE sql STABLE AS $$
    SELECT p.id, p.user_id FROM xp.purchases p
     WHERE p_queue = 'shop' AND p.status = 'pending' AND (p_what IS NULL OR p.item = p_what)
       AND (p_upto IS NULL OR p.id <= p_upto)
    UNION ALL
    SELECT s.id, s.user_id FROM xp.quest_submissions s
     WHERE p_queue = 'quests' AND s.status = 'pending' AND (p_what IS NULL OR s.quest = p_what)
       AND (p_upto IS NULL OR s.id <= p_upto)
$$;

CREATE OR REPLACE FUNCTION xp._check_review_queue(p_queue text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_queue IS NULL OR p_queue NOT IN ('quests', 'shop') THEN
        RAISE EXCEPTION 'unknown review queue %: expected quests or shop', coalesce(quote_literal(left(p_queue, 40)), 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION xp.admin_review_count(queue text, what text DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM xp._check_review_queue(admin_review_count.queue);
    RETURN (SELECT jsonb_build_object('pending', count(*), 'upto', max(m.id), 'at', now())
              FROM xp._reviews_matching(admin_review_count.queue, admin_review_count.what, NULL) m);
END
$$;
COMMENT ON FUNCTION xp.admin_review_count(text, text) IS
    'Admin panel: how many reviews of a queue (quests or shop) wait that a quest or item matches, the newest id, and when (what "approve all" would review).';

-- An operator reviews every waiting one a filter matched when they looked (`upto`, at `seen_at`,
-- from xp.admin_review_count) with one note, each through xp.review_purchase or
-- xp.review_submission (each audited, each member told). One reviewed meanwhile, by another
-- operator since seen_at or while this runs, is skipped and counted. People are locked in id order.
CREATE OR REPLACE FUNCTION xp.review_all(queue text, what text, upto bigint, seen_at timestamptz, approve boolean,
                                         note text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    v_reviewed bigint := 0;
    v_skipped bigint := 0;
BEGIN
    PERFORM xp._check_review_queue(review_all.queue);
    PERFORM xp._check_flag(review_all.approve, 'approve');
    IF review_all.upto IS NULL OR review_all.seen_at IS NULL THEN
        RAISE EXCEPTION 'upto and seen_at are required: count the matching reviews first (xp.admin_review_count)'
            USING ERRCODE = 'XP002';
    END IF;
    IF length(review_all.note) > 500 THEN
        RAISE EXCEPTION 'note is % characters long (at most 500)', length(review_all.note) USING ERRCODE = 'XP002';
    END IF;
    IF review_all.queue = 'shop' THEN
        SELECT count(*) INTO v_skipped FROM xp.purchases p
         WHERE p.status <> 'pending' AND p.reviewed_at >= review_all.seen_at AND p.id <= review_all.upto
           AND (review_all.what IS NULL OR p.item = review_all.what);
    ELSE
        SELECT count(*) INTO v_skipped FROM xp.quest_submissions s
         WHERE s.status <> 'pending' AND s.reviewed_at >= review_all.seen_at AND s.id <= review_all.upto
           AND (review_all.what IS NULL OR s.quest = review_all.what);
    END IF;
    FOR r IN SELECT m.id FROM xp._reviews_matching(review_all.queue, review_all.what, review_all.upto) m
              ORDER BY m.user_id, m.id LOOP
        BEGIN
            IF review_all.queue = 'shop' THEN
                PERFORM xp.review_purchase(r.id, review_all.approve, review_all.note);
            ELSE
                PERFORM xp.review_submission(r.id, review_all.approve, review_all.note);
            END IF;
            v_reviewed := v_reviewed + 1;
        EXCEPTION WHEN SQLSTATE 'XP009' THEN  -- reviewed by someone else since it was read
            v_skipped := v_skipped + 1;
        END;
    END LOOP;
    RETURN jsonb_build_object('reviewed', v_reviewed, 'skipped', v_skipped);
END
$$;
COMMENT ON FUNCTION xp.review_all(text, text, bigint, timestamptz, boolean, text) IS
    'Admin: approve or decline, with one note, every waiting review of a queue that a filter matched when counted; ones reviewed meanwhile are skipped and counted.';

-- shop items are an operator table: audited, and running bots take a change up
CREATE OR REPLACE TRIGGER shop_items_audit AFTER INSERT OR DELETE ON xp.shop_items
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('code');
CREATE OR REPLACE TRIGGER shop_items_audit_update AFTER UPDATE ON xp.shop_items
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*
                       AND NOT (xp._sale_moves_stock() AND to_jsonb(OLD) - 'stock' = to_jsonb(NEW) - 'stock'))
    EXECUTE FUNCTION xp._operator_row_changed('code');
