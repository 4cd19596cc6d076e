-- 13_web: what the website calls beyond the boards and the profile: the
-- public part of a person, the rank ladder, privacy (which follows the person
-- through merges and unlinks), sign-in and linking by signing in (through the
-- link-code machinery, never a copy of it), API keys kept as hashes, and the
-- web's settings. Granted in 99_grants.sql (xp_web reads no table).
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.

CREATE OR REPLACE FUNCTION xp.rank_ladder()
RETURNS TABLE (id int, name text, tier text, stars int, min_xp bigint, color text, emoji text, reward_coins int)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT r.id, r.name, r.tier, r.stars, r.min_xp, r.color, r.emoji, r.reward_coins FROM xp.ranks r ORDER BY r.min_xp
$$;
COMMENT ON FUNCTION xp.rank_ladder() IS 'The ranks from the lowest up: name, tier, stars, XP needed, color, emoji, reward.';

CREATE OR REPLACE FUNCTION xp.public_profile(uid bigint, viewer bigint DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    u xp.users;
    v_today date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    SELECT * INTO u FROM xp.users x WHERE x.id = public_profile.uid;
    IF NOT FOUND OR u.forgotten_at IS NOT NULL OR (u.hidden AND u.id IS DISTINCT FROM public_profile.viewer) THEN
        RETURN NULL;
    END IF;
    RETURN xp._person_view(u) || jsonb_build_object(
        -- XP gained on each of the last 30 UTC days, oldest first
        'activity', (SELECT jsonb_agg(jsonb_build_object('day', d.day, 'xp', coalesce(g.xp, 0)) ORDER BY d.day)
                       FROM (SELECT (v_today - n) AS day FROM generate_series(0, 29) AS n) AS d
                       LEFT JOIN (SELECT (l.created_at AT TIME ZONE 'UTC')::date AS day, sum(l.delta) AS xp
                                    FROM xp.ledger l
                                   WHERE l.user_id = u.id AND l.kind = 'xp'
                                     AND l.created_at >= (v_today - 29)::timestamp AT TIME ZONE 'UTC'
                                   GROUP BY 1) AS g ON g.day = d.day));
END
$$;
COMMENT ON FUNCTION xp.public_profile(bigint, bigint) IS
    'The public part of a person''s profile with places and 30 days of activity; NULL when unknown, forgotten, or hidden from anyone but viewer.';

CREATE OR REPLACE FUNCTION xp.account_person(platform text, external_id text) RETURNS bigint
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM xp._check_platform(account_person.platform);
    RETURN (SELECT a.user_id FROM xp.accounts a
             WHERE a.platform = account_person.platform AND a.external_id = account_person.external_id);
END
$$;
COMMENT ON FUNCTION xp.account_person(text, text) IS 'The person id an account belongs to now, or NULL for an account never seen.';

CREATE OR REPLACE FUNCTION xp.set_privacy(platform text, external_id text, hidden boolean) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
BEGIN
    IF set_privacy.hidden IS NULL THEN
        RAISE EXCEPTION 'hidden must be true or false' USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO a FROM xp._account_for(set_privacy.platform, set_privacy.external_id);
    UPDATE xp.users u SET hidden = set_privacy.hidden WHERE u.id = a.uid;
    RETURN set_privacy.hidden;
END
$$;
COMMENT ON FUNCTION xp.set_privacy(text, text, boolean) IS
    'Hide the person behind an account from every public board, profile and card (true), or show them again (false).';

-- Privacy is the person's choice, whichever account made it: a person who gains
-- an account from a hidden person (a merge) and an account that leaves a hidden
-- person (an unlink) stay hidden.
CREATE OR REPLACE FUNCTION xp._privacy_follows() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE xp.users u SET hidden = true
     WHERE u.id = NEW.user_id AND NOT u.hidden
       AND EXISTS (SELECT 1 FROM xp.users o WHERE o.id = OLD.user_id AND o.hidden);
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER privacy_follows AFTER UPDATE OF user_id ON xp.accounts
    FOR EACH ROW WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id) EXECUTE FUNCTION xp._privacy_follows();

CREATE OR REPLACE FUNCTION xp.web_sign_in(platform text, external_id text, display_name text DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
BEGIN
    IF web_sign_in.platform IS NULL OR web_sign_in.platform NOT IN ('discord', 'telegram') THEN
        RAISE EXCEPTION 'cannot sign in with %: expected discord or telegram',
            coalesce(quote_literal(left(web_sign_in.platform, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
    SELECT * INTO a FROM xp._account_for(web_sign_in.platform, web_sign_in.external_id, web_sign_in.display_name);
    UPDATE xp.users u SET display_name = web_sign_in.display_name
     WHERE u.id = a.uid AND u.display_name IS NULL AND web_sign_in.display_name IS NOT NULL;
    RETURN a.uid;
END
$$;
COMMENT ON FUNCTION xp.web_sign_in(text, text, text) IS
    'Web: a member signed in with a verified Discord or Telegram account; returns their person id (first sight creates one).';

CREATE OR REPLACE FUNCTION xp.link_accounts(platform text, external_id text, other_platform text,
                                            other_external_id text, dry_run boolean DEFAULT false)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_uid bigint;
    v jsonb;
BEGIN
    PERFORM xp._known_account(link_accounts.platform, link_accounts.external_id);
    BEGIN
        -- exactly a link code issued by one account and redeemed by the other: the same
        -- merge, rewards and refusals (XP006) as /link
        v_uid := xp.redeem_link_code(link_accounts.other_platform, link_accounts.other_external_id,
                                     xp.create_link_code(link_accounts.platform, link_accounts.external_id));
        v := xp._person_view((SELECT u FROM xp.users u WHERE u.id = v_uid));
        IF coalesce(link_accounts.dry_run, false) THEN
            RAISE EXCEPTION 'dry run' USING ERRCODE = 'XP099';
        END IF;
    EXCEPTION WHEN SQLSTATE 'XP099' THEN
        NULL;  -- a preview: everything the link did is rolled back, what it made is returned
    END;
    RETURN v;
END
$$;
COMMENT ON FUNCTION xp.link_accounts(text, text, text, text, boolean) IS
    'Web: link two verified accounts as /link does (merging progress, XP006 refusals); dry_run previews the merged person and writes nothing.';

CREATE OR REPLACE FUNCTION xp.create_api_key(name text) RETURNS text
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_key text := 'xpk_' || encode(uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid()), 'hex');
BEGIN
    PERFORM xp._check_text(create_api_key.name, 'name', 100);
    INSERT INTO xp.api_keys (name, key_hash) VALUES (create_api_key.name, sha256(convert_to(v_key, 'UTF8')))
    ON CONFLICT ON CONSTRAINT api_keys_name_key DO NOTHING;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'an API key named % exists already', quote_literal(create_api_key.name)
            USING ERRCODE = 'XP002';
    END IF;
    RETURN v_key;
END
$$;
COMMENT ON FUNCTION xp.create_api_key(text) IS 'Admin: make an API key for the web''s JSON API; the key is returned once and kept only as a hash.';

CREATE OR REPLACE FUNCTION xp.revoke_api_key(name text) RETURNS boolean
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    WITH gone AS (UPDATE xp.api_keys k SET revoked_at = now()
                   WHERE k.name = revoke_api_key.name AND k.revoked_at IS NULL RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM gone)
$$;
COMMENT ON FUNCTION xp.revoke_api_key(text) IS 'Admin: revoke the API key of that name; false when there is none in use.';

CREATE OR REPLACE FUNCTION xp.api_key_name(key text) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT k.name FROM xp.api_keys k
     WHERE k.key_hash = sha256(convert_to(coalesce(api_key_name.key, ''), 'UTF8')) AND k.revoked_at IS NULL
$$;
COMMENT ON FUNCTION xp.api_key_name(text) IS 'Web: the name of a valid API key, or NULL for an unknown or revoked one.';

CREATE OR REPLACE FUNCTION xp.web_settings() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT coalesce(jsonb_object_agg(s.key, s.value), '{}') FROM xp.settings s WHERE s.key LIKE 'web.%'
$$;
COMMENT ON FUNCTION xp.web_settings() IS 'Web: the web.* settings (web.visibility) as one jsonb object.';
