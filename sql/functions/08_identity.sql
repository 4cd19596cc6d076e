-- 08_identity: one person across platforms. One-time link codes (kept only as
-- peppered hashes), redeeming them under a brute-force lock-out, merging two
-- persons with progress (ledger rows re-pointed, never rewritten), and
-- unlinking an account, which then starts over with nothing and without a
-- second daily claim or rank reward.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- Identity changes (a new code, redeem, unlink, forget) are rare and run one at a time. Every
-- caller takes this lock before it locks any account or person row (the order of design.md §5:
-- identity lock, accounts, persons by id): a redeem that locked its own account first and then
-- waited here deadlocked with a redeem, a new code or an unlink holding it and moving that account.
CREATE OR REPLACE FUNCTION xp._identity_lock() RETURNS void
LANGUAGE sql AS $$
    SELECT pg_advisory_xact_lock(hashtext('xp.identity'))
$$;

-- 8 characters from an alphabet without look-alikes (no I, L, O, 0, 1).
CREATE OR REPLACE FUNCTION xp._new_code() RETURNS text
LANGUAGE sql VOLATILE AS $$
    SELECT string_agg(substr('ABCDEFGHJKMNPQRSTUVWXYZ23456789',
                             1 + ((get_byte(b, 0) << 8) | get_byte(b, 1)) % 31, 1), '')
      FROM (SELECT uuid_send(gen_random_uuid()) AS b FROM generate_series(1, 8)) AS s
$$;

-- Codes are case-insensitive and may be typed with spaces or dashes.
CREATE OR REPLACE FUNCTION xp._code_hash(code text) RETURNS bytea
LANGUAGE sql STABLE AS $$
    SELECT sha256(p.pepper || convert_to(upper(regexp_replace(code, '[\s-]', '', 'g')), 'UTF8'))
      FROM xp.link_pepper p
$$;

-- Record a failed redeem; the one that reaches the limit locks the account out.
CREATE OR REPLACE FUNCTION xp._redeem_failed(p_acc bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO xp.redeem_failures (account_id) VALUES (p_acc);
    IF (SELECT count(*) FROM xp.redeem_failures f
         WHERE f.account_id = p_acc
           AND f.created_at > now() - make_interval(mins => xp._setting('link.failure_window_minutes')::int))
       >= xp._setting('link.max_failures')::int THEN
        UPDATE xp.accounts
           SET redeem_locked_until = now() + make_interval(mins => xp._setting('link.lockout_minutes')::int)
         WHERE id = p_acc;
    END IF;
END
$$;

-- Merge person p_from into p_into. Accounts move first (a key update that waits
-- for writes in flight through them), then the persons are locked by id: both,
-- and every other member of p_from's family when the two families differ (it
-- joins p_into's, with everything it was paid: xp._family_pays). Ledger rows are
-- re-pointed, balances, stats and this period's counters summed, achievements
-- united, the rank follows the sum and pays only rewards neither family was
-- paid, and whatever the united person now qualifies for unlocks.
CREATE OR REPLACE FUNCTION xp._merge(p_into bigint, p_from bigint, p_by_account bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    f xp.users;
    t xp.users;
    p record;
    v_both boolean;
    v_into_family bigint;
    v_from_family bigint;
BEGIN
    UPDATE xp.accounts SET user_id = p_into, linked_at = now() WHERE user_id = p_from;
    UPDATE xp.accounts SET linked_at = now() WHERE user_id = p_into AND linked_at IS NULL;
    -- families change only under the identity lock, which the caller holds
    v_into_family := xp._family(p_into);
    v_from_family := xp._family(p_from);
    PERFORM 1 FROM xp.users
     WHERE id IN (p_into, p_from)
        OR (v_from_family <> v_into_family AND (id = v_from_family OR family = v_from_family)
            AND coalesce(family, id) = v_from_family)
     ORDER BY id FOR UPDATE;
    IF v_from_family <> v_into_family THEN
        UPDATE xp.users SET family = v_into_family
         WHERE (id = v_from_family OR family = v_from_family) AND coalesce(family, id) = v_from_family;
        INSERT INTO xp.family_rewards (family, reward, day, paid_at)
        SELECT v_into_family, r.reward, r.day, r.paid_at FROM xp.family_rewards r WHERE r.family = v_from_family
        ON CONFLICT DO NOTHING;
        DELETE FROM xp.family_rewards r WHERE r.family = v_from_family;
    END IF;
    SELECT * INTO f FROM xp.users WHERE id = p_from;
    SELECT * INTO t FROM xp.users WHERE id = p_into;
    SELECT * INTO p FROM xp._periods();
    v_both := EXISTS (SELECT 1 FROM xp.ledger WHERE user_id = p_from)
              AND EXISTS (SELECT 1 FROM xp.ledger WHERE user_id = p_into);
    UPDATE xp.ledger SET user_id = p_into WHERE user_id = p_from;
    UPDATE xp.deliveries SET user_id = p_into WHERE user_id = p_from AND status = 'pending';
    UPDATE xp.purchases SET user_id = p_into WHERE user_id = p_from;
    PERFORM xp._quests_merged(p_into, p_from);
    INSERT INTO xp.user_achievements (user_id, code, unlocked_at)
    SELECT p_into, x.code, x.unlocked_at FROM xp.user_achievements x WHERE x.user_id = p_from
    ON CONFLICT (user_id, code) DO UPDATE SET unlocked_at = least(xp.user_achievements.unlocked_at,
                                                                   EXCLUDED.unlocked_at);
    DELETE FROM xp.user_achievements WHERE user_id = p_from;
    INSERT INTO xp.merges (from_user, into_user, by_account, from_xp, from_coins)
    VALUES (p_from, p_into, p_by_account, f.xp, f.coins);
    DELETE FROM xp.users WHERE id = p_from;
    UPDATE xp.users u
       SET xp = u.xp + f.xp,
           coins = u.coins + f.coins,
           messages = u.messages + f.messages,
           voice_seconds = u.voice_seconds + f.voice_seconds,
           games_won = u.games_won + f.games_won,
           streak = greatest(u.streak, f.streak),
           last_daily = greatest(u.last_daily, f.last_daily),
           last_message_at = greatest(u.last_message_at, f.last_message_at),
           rewarded_rank = greatest(u.rewarded_rank, f.rewarded_rank),
           display_name = coalesce(u.display_name, f.display_name),
           language = coalesce(u.language, f.language),
           week_of = p.week,
           week_xp = CASE WHEN u.week_of = p.week THEN u.week_xp ELSE 0 END
                     + CASE WHEN f.week_of = p.week THEN f.week_xp ELSE 0 END,
           month_of = p.month,
           month_xp = CASE WHEN u.month_of = p.month THEN u.month_xp ELSE 0 END
                      + CASE WHEN f.month_of = p.month THEN f.month_xp ELSE 0 END,
           season_id = p.season,
           season_xp = CASE WHEN u.season_id = p.season THEN u.season_xp ELSE 0 END
                       + CASE WHEN f.season_id = p.season THEN f.season_xp ELSE 0 END
     WHERE u.id = p_into;
    PERFORM xp._rerank(p_into, t.rank_id);
    PERFORM xp._emit(p_into, CASE WHEN v_both THEN 'persons_merged' ELSE 'account_linked' END,
                     jsonb_build_object('from_user', p_from, 'by_account', p_by_account));
    PERFORM xp._achieve(p_into);
    PERFORM xp._quest_recheck(p_into);
END
$$;

CREATE OR REPLACE FUNCTION xp.create_link_code(platform text, external_id text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    v_code text;
BEGIN
    PERFORM xp._identity_lock();
    SELECT * INTO a FROM xp._account_for(create_link_code.platform, create_link_code.external_id);
    -- one live code per account: a new one retires the old
    UPDATE xp.link_codes c SET expires_at = now()
     WHERE c.account_id = a.acc AND c.redeemed_at IS NULL AND c.expires_at > now();
    LOOP
        v_code := xp._new_code();
        INSERT INTO xp.link_codes (code_hash, account_id, expires_at)
        VALUES (xp._code_hash(v_code), a.acc,
                now() + make_interval(mins => xp._setting('link.code_minutes')::int))
        ON CONFLICT DO NOTHING;
        EXIT WHEN FOUND;
    END LOOP;
    RETURN v_code;
END
$$;
COMMENT ON FUNCTION xp.create_link_code(text, text) IS
    'Issue a one-time link code (8 characters, valid 10 minutes) for the account to redeem on another platform.';

CREATE OR REPLACE FUNCTION xp.redeem_link_code(platform text, external_id text, code text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
    c xp.link_codes;
    v_issuer bigint;
    v_redeemer bigint;
    v_clash text;
BEGIN
    IF redeem_link_code.code IS NULL OR length(redeem_link_code.code) = 0 THEN
        RAISE EXCEPTION 'code must not be empty' USING ERRCODE = 'XP002';
    END IF;
    PERFORM xp._identity_lock();
    SELECT * INTO r FROM xp._account_for(redeem_link_code.platform, redeem_link_code.external_id);
    IF (SELECT a.redeem_locked_until FROM xp.accounts a WHERE a.id = r.acc) > now() THEN
        RAISE EXCEPTION 'account %:% may not redeem link codes until % after too many failed attempts',
            redeem_link_code.platform, redeem_link_code.external_id,
            to_char((SELECT a.redeem_locked_until FROM xp.accounts a WHERE a.id = r.acc) AT TIME ZONE 'UTC',
                    'YYYY-MM-DD HH24:MI:SS "UTC"')
            USING ERRCODE = 'XP005';
    END IF;
    SELECT * INTO c FROM xp.link_codes l WHERE l.code_hash = xp._code_hash(redeem_link_code.code) FOR UPDATE;
    IF FOUND AND c.redeemed_by = r.acc THEN
        RETURN (SELECT a.user_id FROM xp.accounts a WHERE a.id = r.acc);  -- the same redeem again
    END IF;
    IF NOT FOUND OR c.redeemed_at IS NOT NULL OR c.expires_at <= now() THEN
        -- unknown, used and expired look the same; the failure must commit, so no error
        PERFORM xp._redeem_failed(r.acc);
        RETURN NULL;
    END IF;
    SELECT a.user_id INTO v_issuer FROM xp.accounts a WHERE a.id = c.account_id;
    SELECT a.user_id INTO v_redeemer FROM xp.accounts a WHERE a.id = r.acc;
    IF v_issuer = v_redeemer THEN
        RAISE EXCEPTION 'account %:% already belongs to person %, who issued this code',
            redeem_link_code.platform, redeem_link_code.external_id, v_issuer USING ERRCODE = 'XP006';
    END IF;
    SELECT string_agg(DISTINCT x.platform, ', ') INTO v_clash
      FROM xp.accounts x JOIN xp.accounts y ON y.platform = x.platform
     WHERE x.user_id = v_issuer AND y.user_id = v_redeemer;
    IF v_clash IS NOT NULL THEN
        RAISE EXCEPTION 'person % and person % both have a % account; unlink one first',
            v_issuer, v_redeemer, v_clash USING ERRCODE = 'XP006';
    END IF;
    UPDATE xp.link_codes l SET redeemed_at = now(), redeemed_by = r.acc WHERE l.code_hash = c.code_hash;
    -- the older person lives on
    PERFORM xp._merge(least(v_issuer, v_redeemer), greatest(v_issuer, v_redeemer), r.acc);
    RETURN least(v_issuer, v_redeemer);
END
$$;
COMMENT ON FUNCTION xp.redeem_link_code(text, text, text) IS
    'Redeem a link code from another platform: both accounts become one person (merging progress); NULL for a bad code.';

CREATE OR REPLACE FUNCTION xp.unlink(platform text, external_id text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    p xp.users;
    v_new bigint;
BEGIN
    SELECT * INTO a FROM xp._known_account(unlink.platform, unlink.external_id);
    PERFORM xp._identity_lock();
    SELECT c.user_id INTO a.uid FROM xp.accounts c WHERE c.id = a.acc;
    IF (SELECT count(*) FROM xp.accounts c WHERE c.user_id = a.uid) < 2 THEN
        RAISE EXCEPTION 'account %:% is the only account of person %; there is nothing to unlink it from',
            unlink.platform, unlink.external_id, a.uid USING ERRCODE = 'XP007';
    END IF;
    v_new := xp._new_person((SELECT c.display_name FROM xp.accounts c WHERE c.id = a.acc));
    -- the account moves first (waiting for writes in flight through it), then the person is locked
    UPDATE xp.accounts c SET user_id = v_new, linked_at = NULL WHERE c.id = a.acc;
    SELECT * INTO p FROM xp.users u WHERE u.id = a.uid FOR UPDATE;
    -- starting over with nothing, in the person's family: what it was paid stays paid (a rank
    -- reward, an achievement, the day's claim and spin), for both sides, whoever earns it next
    UPDATE xp.users u
       SET family = coalesce(p.family, p.id),
           rewarded_rank = greatest(u.rewarded_rank, p.rewarded_rank),
           last_daily = p.last_daily,
           last_message_at = p.last_message_at,
           language = p.language,
           notify = p.notify
     WHERE u.id = v_new;
    PERFORM xp._emit(v_new, 'account_unlinked', jsonb_build_object('from_user', a.uid, 'account', a.acc));
    PERFORM xp._emit(a.uid, 'account_unlinked', jsonb_build_object('to_user', v_new, 'account', a.acc));
    RETURN v_new;
END
$$;
COMMENT ON FUNCTION xp.unlink(text, text) IS
    'Take an account off its person: the person keeps all progress, the account starts over as a new person.';
