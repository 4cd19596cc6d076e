-- 02_people: persons and their platform accounts. First sight of an account
-- creates its person; these lookups start every call that names an account.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- A new person with nothing, at the lowest rank.
CREATE OR REPLACE FUNCTION xp._new_person(p_display_name text) RETURNS bigint
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
CREATE OR REPLACE FUNCTION xp._account_for(p_platform text, p_external_id text, p_display_name text DEFAULT NULL,
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
CREATE OR REPLACE FUNCTION xp._known_account(p_platform text, p_external_id text, OUT acc bigint, OUT uid bigint)
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

-- --- families: who shares the once-only rewards ------------------------------------------------
-- Persons that have ever shared an account are one family (xp.users.family; NULL: a family of
-- one, named by the person's id). An unlink leaves the account's old and new person in one
-- family; a link between two families makes them one, each keeping what it had been paid. Every
-- once-only reward (rank:ID and achievement:CODE once ever, daily and spin once a UTC day) is paid
-- to a family at most once: the payer claims it here first. Callers hold the person's row lock, so that the family
-- cannot change under them (a merge locks every person whose family it changes).

-- The family of a person.
CREATE OR REPLACE FUNCTION xp._family(p_uid bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
    SELECT coalesce(u.family, u.id) FROM xp.users u WHERE u.id = p_uid
$$;

-- Claim a once-only reward (of a day: p_day) for a family: true when it had not been paid it (and
-- now holds it), false when it had. A concurrent claim of the same reward waits for the first and
-- then gets false.
CREATE OR REPLACE FUNCTION xp._family_pays(p_family bigint, p_reward text, p_day date DEFAULT NULL) RETURNS boolean
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO xp.family_rewards (family, reward, day) VALUES (p_family, p_reward, p_day)
    ON CONFLICT DO NOTHING;
    RETURN FOUND;
END
$$;

-- A person's current state as an award_result that applied nothing.
CREATE OR REPLACE FUNCTION xp._state(p_uid bigint) RETURNS xp.award_result
LANGUAGE sql STABLE AS $$
    SELECT ROW(u.id, u.xp, u.coins, u.rank_id, u.rank_id, false, 0, false)::xp.award_result
      FROM xp.users u WHERE u.id = p_uid
$$;
