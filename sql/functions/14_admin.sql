-- 14_admin: the database side of the live admin panel (/admin). Who made a
-- change and the audit log every change is written to (the panel's operators
-- and psql edits of the operator tables alike); the config version that
-- running listeners and bots take up and report in their heartbeats; the
-- panel's login links; what the panel reads (a cheap cursor for the live
-- pages, the overview, people, ledger, deliveries, the audit log); and its
-- changes: deliveries retried or discarded, accounts unlinked, rank
-- thresholds previewed then applied, and abuse waves voided with reversing
-- ledger rows. A preview runs the real change and rolls it back, so it says
-- exactly what applying does.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- --- who changed what -----------------------------------------------------------------------------

-- The actor of a change: the panel names its operator in the transaction's setting xp.actor
-- (SET LOCAL xp.actor = 'alice' does the same in psql); anyone else is their database login.
CREATE OR REPLACE FUNCTION xp._actor() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT left(coalesce(nullif(current_setting('xp.actor', true), ''), session_user::text), 200)
$$;

-- One entry of the audit log, by the actor named (a function's own actor argument, as xp.adjust
-- takes) or else the transaction's (db_user is always the login).
CREATE OR REPLACE FUNCTION xp._audit(p_action text, p_target text DEFAULT NULL, p_detail jsonb DEFAULT '{}',
                                     p_actor text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql AS $$
    INSERT INTO xp.admin_audit (actor, action, target, detail)
    VALUES (coalesce(left(p_actor, 200), xp._actor()), p_action, left(p_target, 200), coalesce(p_detail, '{}'))
    RETURNING id
$$;

-- Open admin pages hear of a change at once (xp_admin is the panel's doorbell; the page re-reads).
CREATE OR REPLACE FUNCTION xp._audit_ring() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM pg_notify('xp_admin', 'audit');
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER admin_audit_ring AFTER INSERT ON xp.admin_audit
    FOR EACH STATEMENT EXECUTE FUNCTION xp._audit_ring();

-- A row of an operator table inserted, changed or deleted, from the panel or from psql: an audit
-- entry (the row's key from the trigger's arguments, what changed), one more config version, and
-- xp_config rung with the table's name, so running processes take the change up. Runs as the
-- owner: a DBA may edit the operator tables but not write the audit log or the version.
CREATE OR REPLACE FUNCTION xp._operator_row_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_old jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    v_new jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    v_target text;
    v_detail jsonb;
BEGIN
    SELECT string_agg(coalesce(v_new, v_old) ->> k.col, ':' ORDER BY k.n) INTO v_target
      FROM unnest(TG_ARGV) WITH ORDINALITY AS k (col, n);
    IF TG_OP = 'UPDATE' THEN
        SELECT jsonb_build_object('old', jsonb_object_agg(o.key, o.value), 'new', jsonb_object_agg(o.key, v_new -> o.key))
          INTO v_detail
          FROM jsonb_each(v_old) AS o
         WHERE o.value IS DISTINCT FROM v_new -> o.key;
    ELSE
        v_detail := jsonb_build_object(CASE TG_OP WHEN 'INSERT' THEN 'new' ELSE 'old' END, coalesce(v_new, v_old));
    END IF;
    PERFORM xp._audit(TG_TABLE_NAME || '.' || lower(TG_OP), v_target, v_detail);
    UPDATE xp.config_version SET version = version + 1, changed_at = now();
    PERFORM pg_notify('xp_config', TG_TABLE_NAME);
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER settings_audit AFTER INSERT OR DELETE ON xp.settings
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('key');
CREATE OR REPLACE TRIGGER settings_audit_update AFTER UPDATE ON xp.settings
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('key');
CREATE OR REPLACE TRIGGER ranks_audit AFTER INSERT OR DELETE ON xp.ranks
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('id');
CREATE OR REPLACE TRIGGER ranks_audit_update AFTER UPDATE ON xp.ranks
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('id');
CREATE OR REPLACE TRIGGER rank_roles_audit AFTER INSERT OR DELETE ON xp.rank_roles
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('guild_id', 'rank_id');
CREATE OR REPLACE TRIGGER rank_roles_audit_update AFTER UPDATE ON xp.rank_roles
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('guild_id', 'rank_id');
CREATE OR REPLACE TRIGGER guild_settings_audit AFTER INSERT OR DELETE ON xp.guild_settings
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('guild_id');
CREATE OR REPLACE TRIGGER guild_settings_audit_update AFTER UPDATE ON xp.guild_settings
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('guild_id');
CREATE OR REPLACE TRIGGER achievements_audit AFTER INSERT OR DELETE ON xp.achievements
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('code');
CREATE OR REPLACE TRIGGER achievements_audit_update AFTER UPDATE ON xp.achievements
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('code');
CREATE OR REPLACE TRIGGER achievement_roles_audit AFTER INSERT OR DELETE ON xp.achievement_roles
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('guild_id', 'code');
CREATE OR REPLACE TRIGGER achievement_roles_audit_update AFTER UPDATE ON xp.achievement_roles
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('guild_id', 'code');
CREATE OR REPLACE TRIGGER seasons_audit AFTER INSERT OR DELETE ON xp.seasons
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('id');
CREATE OR REPLACE TRIGGER seasons_audit_update AFTER UPDATE ON xp.seasons
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('id');
CREATE OR REPLACE TRIGGER multipliers_audit AFTER INSERT OR DELETE ON xp.multipliers
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('id');
CREATE OR REPLACE TRIGGER multipliers_audit_update AFTER UPDATE ON xp.multipliers
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('id');
CREATE OR REPLACE TRIGGER quiz_questions_audit AFTER INSERT OR DELETE ON xp.quiz_questions
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('id');
CREATE OR REPLACE TRIGGER quiz_questions_audit_update AFTER UPDATE ON xp.quiz_questions
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('id');
CREATE OR REPLACE TRIGGER wheel_prizes_audit AFTER INSERT OR DELETE ON xp.wheel_prizes
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('id');
CREATE OR REPLACE TRIGGER wheel_prizes_audit_update AFTER UPDATE ON xp.wheel_prizes
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('id');

-- --- settings are checked on every write -----------------------------------------------------------

-- What is wrong with a setting's value under its rule (NULL: nothing). Without a rule a value keeps
-- the JSON type it had.
CREATE OR REPLACE FUNCTION xp._setting_problem(p_value jsonb, p_rule jsonb, p_old jsonb) RETURNS text
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    v_kind text := jsonb_typeof(p_value);
    v_type text := p_rule ->> 'type';
    v_items jsonb := p_rule -> 'items';
    v_item jsonb;
BEGIN
    IF p_value IS NULL OR v_kind = 'null' THEN
        RETURN 'needs a value';
    END IF;
    IF p_rule IS NULL THEN
        RETURN CASE WHEN p_old IS NOT NULL AND jsonb_typeof(p_old) <> v_kind
                    THEN 'must stay a JSON ' || jsonb_typeof(p_old) END;
    END IF;
    IF v_type IN ('integer', 'number') THEN
        IF v_kind <> 'number' THEN
            RETURN 'must be a number';
        ELSIF v_type = 'integer' AND p_value::numeric <> trunc(p_value::numeric) THEN
            RETURN 'must be a whole number';
        END IF;
    ELSIF v_type IN ('string', 'boolean', 'array') AND v_kind <> v_type THEN
        RETURN 'must be a JSON ' || v_type;
    END IF;
    IF v_kind = 'number' THEN
        IF p_rule ? 'min' AND p_value::numeric < (p_rule ->> 'min')::numeric THEN
            RETURN 'must be at least ' || (p_rule ->> 'min');
        ELSIF p_rule ? 'max' AND p_value::numeric > (p_rule ->> 'max')::numeric THEN
            RETURN 'must be at most ' || (p_rule ->> 'max');
        END IF;
    END IF;
    IF p_rule ? 'enum' AND NOT (p_rule -> 'enum') @> jsonb_build_array(p_value) THEN
        RETURN 'must be one of ' || (p_rule -> 'enum')::text;
    END IF;
    IF v_kind = 'array' AND v_items IS NOT NULL THEN
        FOR v_item IN SELECT e.value FROM jsonb_array_elements(p_value) AS e LOOP
            IF jsonb_typeof(v_item) <> 'string' THEN
                RETURN 'must hold strings only, not ' || left(v_item::text, 40);
            ELSIF v_items ? 'enum' AND NOT (v_items -> 'enum') @> jsonb_build_array(v_item) THEN
                RETURN 'holds ' || left(v_item::text, 40) || ', which is not one of ' || (v_items -> 'enum')::text;
            ELSIF v_items ? 'pattern' AND (v_item #>> '{}') !~ (v_items ->> 'pattern') THEN
                RETURN 'holds ' || left(v_item::text, 40) || ', which does not match ' || (v_items ->> 'pattern');
            END IF;
        END LOOP;
    END IF;
    RETURN NULL;
END
$$;

-- (the settings triggers run as the owner, as every operator table's do: a DBA edits the table, the
-- helpers are not theirs to call)
CREATE OR REPLACE FUNCTION xp._settings_valid() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_problem text := xp._setting_problem(NEW.value, NEW.rule, CASE WHEN TG_OP = 'UPDATE' THEN OLD.value END);
BEGIN
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION 'setting % = % is refused: it %', NEW.key, coalesce(left(NEW.value::text, 60), 'NULL'),
            v_problem USING ERRCODE = 'XP002';
    END IF;
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER settings_valid BEFORE INSERT OR UPDATE ON xp.settings
    FOR EACH ROW EXECUTE FUNCTION xp._settings_valid();

-- Settings that only make sense together, checked once the statement is done.
CREATE OR REPLACE FUNCTION xp._settings_coherent() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    p record;
BEGIN
    FOR p IN SELECT * FROM (VALUES ('message.xp_min', 'message.xp_max'),
                                   ('delivery.backoff_base_seconds', 'delivery.backoff_cap_seconds')) AS t (low, high)
    LOOP
        IF xp._setting(p.low)::numeric > xp._setting(p.high)::numeric THEN
            RAISE EXCEPTION 'setting % (%) must not be above % (%)', p.low, xp._setting(p.low), p.high,
                xp._setting(p.high) USING ERRCODE = 'XP002';
        END IF;
    END LOOP;
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER settings_coherent AFTER INSERT OR UPDATE ON xp.settings
    FOR EACH STATEMENT EXECUTE FUNCTION xp._settings_coherent();

-- --- heartbeats and the config version -------------------------------------------------------------

CREATE OR REPLACE FUNCTION xp.config_version() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT v.version FROM xp.config_version v
$$;
COMMENT ON FUNCTION xp.config_version() IS
    'How many changes of the operator tables there have been: read it before re-reading what you cache, and report it in xp.heartbeat.';

CREATE OR REPLACE FUNCTION xp.heartbeat(instance text, kind text, version text, config_version bigint DEFAULT NULL,
                                        handled bigint DEFAULT 0, last_batch int DEFAULT NULL,
                                        last_batch_at timestamptz DEFAULT NULL, stopping boolean DEFAULT false)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM xp._check_text(heartbeat.instance, 'instance');
    PERFORM xp._check_text(heartbeat.version, 'version', 40);
    IF heartbeat.kind IS NULL OR heartbeat.kind NOT IN ('listener:discord', 'listener:telegram', 'bot:discord',
                                                        'bot:telegram') THEN
        RAISE EXCEPTION 'kind % is invalid: expected listener:discord, listener:telegram, bot:discord or bot:telegram',
            coalesce(quote_literal(left(heartbeat.kind, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
    IF heartbeat.handled IS NULL OR heartbeat.handled < 0 OR heartbeat.last_batch < 0
       OR heartbeat.stopping IS NULL THEN
        RAISE EXCEPTION 'handled % and last_batch % must be 0 or more, stopping true or false',
            coalesce(heartbeat.handled::text, 'NULL'), heartbeat.last_batch USING ERRCODE = 'XP002';
    END IF;
    INSERT INTO xp.heartbeats AS h (instance, kind, version, config_version, handled, last_batch, last_batch_at,
                                    stopped_at)
    VALUES (heartbeat.instance, heartbeat.kind, heartbeat.version, heartbeat.config_version, heartbeat.handled,
            heartbeat.last_batch, heartbeat.last_batch_at, CASE WHEN heartbeat.stopping THEN now() END)
    ON CONFLICT ON CONSTRAINT heartbeats_pkey DO UPDATE
       SET kind = EXCLUDED.kind, version = EXCLUDED.version,
           config_version = coalesce(EXCLUDED.config_version, h.config_version),
           handled = EXCLUDED.handled, last_batch = coalesce(EXCLUDED.last_batch, h.last_batch),
           last_batch_at = coalesce(EXCLUDED.last_batch_at, h.last_batch_at), seen_at = now(),
           stopped_at = EXCLUDED.stopped_at, beat = nextval('xp.heartbeat_beats');
    -- instances gone for a day are forgotten (the table stays as small as what runs)
    DELETE FROM xp.heartbeats h WHERE h.seen_at < now() - interval '1 day';
    RETURN (SELECT v.version FROM xp.config_version v);
END
$$;
COMMENT ON FUNCTION xp.heartbeat(text, text, text, bigint, bigint, int, timestamptz, boolean) IS
    'Listeners and bots: say that this instance runs (version, the config version it took up, work handled, last batch); returns the current config version.';

-- Every process that reported in the last day: running, stale (no heartbeat for admin.heartbeat_stale_seconds)
-- or stopped.
CREATE OR REPLACE FUNCTION xp.admin_heartbeats()
RETURNS TABLE (instance text, kind text, version text, config_version bigint, handled bigint, last_batch int,
               last_batch_at timestamptz, started_at timestamptz, seen_at timestamptz, state text,
               seen_seconds_ago double precision)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT h.instance, h.kind, h.version, h.config_version, h.handled, h.last_batch, h.last_batch_at, h.started_at,
           h.seen_at,
           CASE WHEN h.stopped_at IS NOT NULL THEN 'stopped'
                WHEN h.seen_at < now() - make_interval(secs => xp._setting('admin.heartbeat_stale_seconds')::int)
                THEN 'stale'
                ELSE 'running' END,
           round(extract(epoch FROM now() - h.seen_at)::numeric, 1)::double precision
      FROM xp.heartbeats h
     ORDER BY h.kind, h.started_at, h.instance
$$;
COMMENT ON FUNCTION xp.admin_heartbeats() IS
    'Admin panel: the listeners and bots that reported lately, each running, stale or stopped, with the config version it took up.';

-- --- the panel's login links -----------------------------------------------------------------------

CREATE OR REPLACE FUNCTION xp.create_admin_token(name text, role text, token_hash bytea,
                                                 valid_for interval DEFAULT '1 day')
RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_expires timestamptz;
BEGIN
    IF create_admin_token.name IS NULL OR create_admin_token.name !~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,59}$' THEN
        RAISE EXCEPTION 'token name % is invalid: 1 to 60 letters, digits and . _ @ - (starting with a letter or digit)',
            coalesce(quote_literal(left(create_admin_token.name, 60)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
    IF create_admin_token.role IS NULL OR create_admin_token.role NOT IN ('admin', 'viewer') THEN
        RAISE EXCEPTION 'role % is invalid: expected admin or viewer',
            coalesce(quote_literal(left(create_admin_token.role, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
    IF create_admin_token.token_hash IS NULL OR length(create_admin_token.token_hash) <> 32 THEN
        RAISE EXCEPTION 'token_hash must be the 32 bytes of a SHA-256' USING ERRCODE = 'XP002';
    END IF;
    IF create_admin_token.valid_for IS NULL OR create_admin_token.valid_for NOT BETWEEN interval '1 minute'
                                                                             AND interval '30 days' THEN
        RAISE EXCEPTION 'valid_for % is invalid: from 1 minute to 30 days',
            coalesce(create_admin_token.valid_for::text, 'NULL') USING ERRCODE = 'XP002';
    END IF;
    INSERT INTO xp.admin_tokens (name, role, token_hash, created_by, expires_at)
    VALUES (create_admin_token.name, create_admin_token.role, create_admin_token.token_hash, xp._actor(),
            now() + create_admin_token.valid_for)
    ON CONFLICT ON CONSTRAINT admin_tokens_token_hash_key DO NOTHING
    RETURNING expires_at INTO v_expires;
    IF v_expires IS NULL THEN
        RAISE EXCEPTION 'that token exists already: make a new one' USING ERRCODE = 'XP002';
    END IF;
    PERFORM xp._audit('admin_token.create', create_admin_token.name,
                      jsonb_build_object('role', create_admin_token.role, 'expires_at', v_expires));
    RETURN v_expires;
END
$$;
COMMENT ON FUNCTION xp.create_admin_token(text, text, bytea, interval) IS
    'Admin: record a login link of the admin panel for NAME (admin or viewer) by the SHA-256 of its token; it signs in once within valid_for.';

CREATE OR REPLACE FUNCTION xp.revoke_admin_tokens(name text) RETURNS int
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_n int;
BEGIN
    UPDATE xp.admin_tokens t SET revoked_at = now()
     WHERE t.name = revoke_admin_tokens.name AND t.revoked_at IS NULL;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 THEN
        PERFORM xp._audit('admin_token.revoke', revoke_admin_tokens.name, jsonb_build_object('tokens', v_n));
    END IF;
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION xp.revoke_admin_tokens(text) IS
    'Admin: revoke every login link of NAME, used or not; the panel signs their sessions out at their next request.';

CREATE OR REPLACE FUNCTION xp.use_admin_token(token_hash bytea)
RETURNS TABLE (token_id bigint, name text, role text)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    RETURN QUERY
        WITH used AS (
            UPDATE xp.admin_tokens t SET used_at = now()
             WHERE t.token_hash = use_admin_token.token_hash AND t.used_at IS NULL AND t.revoked_at IS NULL
               AND t.expires_at > now()
            RETURNING t.id, t.name, t.role),
        noted AS (
            INSERT INTO xp.admin_audit (actor, action, target, detail)
            SELECT u.name, 'admin.sign_in', u.name, jsonb_build_object('role', u.role, 'token', u.id) FROM used u)
        SELECT u.id, u.name, u.role FROM used u;
END
$$;
COMMENT ON FUNCTION xp.use_admin_token(bytea) IS
    'Web: sign in with an admin login link by the SHA-256 of its token: once, before it expires, unless revoked; no row otherwise.';

CREATE OR REPLACE FUNCTION xp.admin_token_role(token_id bigint) RETURNS text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.role FROM xp.admin_tokens t
     WHERE t.id = admin_token_role.token_id AND t.used_at IS NOT NULL AND t.revoked_at IS NULL
$$;
COMMENT ON FUNCTION xp.admin_token_role(bigint) IS
    'Web: the role of the panel session a login link opened (admin or viewer), or NULL once it was revoked.';

-- --- what the panel reads --------------------------------------------------------------------------

-- Where everything an open page shows stands, read about twice a second by the web: each a newest
-- id (or a counter) found by one index probe, never a scan.
CREATE OR REPLACE FUNCTION xp.admin_cursor() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT jsonb_build_object(
        'ledger', coalesce((SELECT max(l.id) FROM xp.ledger l), 0),
        'events', coalesce((SELECT max(e.id) FROM xp.events e), 0),
        'deliveries', coalesce((SELECT max(d.id) FROM xp.deliveries d), 0),
        'audit', coalesce((SELECT max(a.id) FROM xp.admin_audit a), 0),
        'config', (SELECT v.version FROM xp.config_version v),
        'beats', coalesce((SELECT max(h.beat) FROM xp.heartbeats h), 0),
        -- a new quest submission (purchases move the ledger, reviews the audit log)
        'submissions', coalesce((SELECT max(q.id) FROM xp.quest_submissions q), 0))
$$;
COMMENT ON FUNCTION xp.admin_cursor() IS
    'Admin panel: the newest ledger row, event, delivery, audit entry, config version, heartbeat and quest submission, for the live pages.';

CREATE OR REPLACE FUNCTION xp.admin_overview() RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT xp.stats() || jsonb_build_object(
        'awards_per_minute', (
            SELECT jsonb_agg(jsonb_build_object('minute', m.minute, 'rows', coalesce(c.n, 0)) ORDER BY m.minute)
              FROM generate_series(date_trunc('minute', now()) - interval '59 minutes', date_trunc('minute', now()),
                                   interval '1 minute') AS m (minute)
              LEFT JOIN (SELECT date_trunc('minute', l.created_at) AS minute, count(*) AS n
                           FROM xp.ledger l
                          WHERE l.created_at >= date_trunc('minute', now()) - interval '59 minutes'
                          GROUP BY 1) AS c ON c.minute = m.minute),
        'processes', (SELECT coalesce(jsonb_agg(to_jsonb(h)), '[]') FROM xp.admin_heartbeats() h),
        'config_version', (SELECT v.version FROM xp.config_version v))
$$;
COMMENT ON FUNCTION xp.admin_overview() IS
    'Admin panel: xp.stats() with ledger rows a minute over the last hour, the running processes and the config version.';

-- People by a name's start (any case), a platform id or a person id; everyone newest first without q.
CREATE OR REPLACE FUNCTION xp.admin_people(q text DEFAULT NULL, lim int DEFAULT 50)
RETURNS TABLE (user_id bigint, display_name text, xp bigint, coins bigint, rank_id int, forgotten boolean,
               accounts jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_q text := nullif(btrim(coalesce(admin_people.q, '')), '');
BEGIN
    IF admin_people.lim IS NULL OR admin_people.lim NOT BETWEEN 1 AND 200 THEN
        RAISE EXCEPTION 'lim % is invalid: it must be between 1 and 200', coalesce(admin_people.lim::text, 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    PERFORM xp._check_text(coalesce(v_q, '-'), 'q', 200);
    RETURN QUERY
        WITH found AS (
            (SELECT u.id FROM xp.users u WHERE v_q IS NULL ORDER BY u.id DESC LIMIT admin_people.lim)
            UNION
            SELECT u.id FROM xp.users u
             WHERE u.id = CASE WHEN v_q ~ '^#?[0-9]{1,18}$' THEN ltrim(v_q, '#')::bigint END
            UNION
            SELECT a.user_id FROM xp.accounts a
             WHERE (a.platform, a.external_id) IN (('discord', v_q), ('telegram', v_q), ('website', v_q))
            UNION
            (SELECT a.user_id FROM xp.accounts a
              WHERE lower(a.display_name) LIKE replace(replace(replace(lower(v_q), '\', '\\'), '%', '\%'), '_', '\_') || '%'
              ORDER BY lower(a.display_name) LIMIT admin_people.lim))
        SELECT u.id, u.display_name, u.xp, u.coins, u.rank_id, u.forgotten_at IS NOT NULL,
               coalesce((SELECT jsonb_agg(jsonb_build_object('platform', a.platform, 'external_id', a.external_id,
                                                             'display_name', a.display_name) ORDER BY a.platform)
                           FROM xp.accounts a WHERE a.user_id = u.id), '[]')
          FROM found f JOIN xp.users u ON u.id = f.id
         ORDER BY u.id DESC
         LIMIT admin_people.lim;
END
$$;
COMMENT ON FUNCTION xp.admin_people(text, int) IS
    'Admin panel: people whose account name starts with q (any case), who hold the platform id q, or whose id is q; newest first.';

CREATE OR REPLACE FUNCTION xp.admin_person(uid bigint) RETURNS jsonb
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT to_jsonb(u) - 'rank_floor' - 'rank_ceil' || jsonb_build_object(
        'rank', (SELECT to_jsonb(r) FROM xp.ranks r WHERE r.id = u.rank_id),
        'accounts', coalesce((SELECT jsonb_agg(jsonb_build_object(
                                  'platform', a.platform, 'external_id', a.external_id, 'display_name', a.display_name,
                                  'created_at', a.created_at, 'linked_at', a.linked_at,
                                  'redeem_locked_until', a.redeem_locked_until) ORDER BY a.platform)
                                FROM xp.accounts a WHERE a.user_id = u.id), '[]'),
        'achievements', coalesce((SELECT jsonb_agg(jsonb_build_object('code', x.code, 'name', a.name, 'emoji', a.emoji,
                                                                      'unlocked_at', x.unlocked_at)
                                                   ORDER BY x.unlocked_at)
                                    FROM xp.user_achievements x JOIN xp.achievements a ON a.code = x.code
                                   WHERE x.user_id = u.id), '[]'),
        'deliveries', coalesce((SELECT jsonb_agg(to_jsonb(d) ORDER BY d.id DESC)
                                  FROM (SELECT d.id, d.target, d.status, d.attempts, d.run_at, d.last_error,
                                               d.created_at, d.finished_at, e.kind
                                          FROM xp.deliveries d JOIN xp.events e ON e.id = d.event_id
                                         WHERE d.user_id = u.id ORDER BY d.id DESC LIMIT 20) AS d), '[]'),
        'ledger_rows', (SELECT count(*) FROM xp.ledger l WHERE l.user_id = u.id))
      FROM xp.users u WHERE u.id = admin_person.uid
$$;
COMMENT ON FUNCTION xp.admin_person(bigint) IS
    'Admin panel: everything about a person (balances, rank, stats, accounts with their platform ids, achievements, latest deliveries); NULL when unknown.';

-- A person's ledger, newest first, a page at a time (before: the smallest id of the page shown).
CREATE OR REPLACE FUNCTION xp.admin_ledger(uid bigint, before bigint DEFAULT NULL, lim int DEFAULT 50)
RETURNS TABLE (id bigint, kind text, delta bigint, reason text, source text, platform text, factor numeric,
               actor text, idempotency_key text, created_at timestamptz, voided_by bigint)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF admin_ledger.lim IS NULL OR admin_ledger.lim NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION 'lim % is invalid: it must be between 1 and 500', coalesce(admin_ledger.lim::text, 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    RETURN QUERY
        SELECT l.id, l.kind, l.delta, l.reason, l.source, l.platform, l.factor, l.actor, l.idempotency_key,
               l.created_at,
               (SELECT v.id FROM xp.ledger v WHERE v.source = 'void' AND v.idempotency_key = 'void:' || l.id)
          FROM xp.ledger l
         WHERE l.user_id = admin_ledger.uid AND (admin_ledger.before IS NULL OR l.id < admin_ledger.before)
         ORDER BY l.id DESC
         LIMIT admin_ledger.lim;
END
$$;
COMMENT ON FUNCTION xp.admin_ledger(bigint, bigint, int) IS
    'Admin panel: a page of a person''s ledger, newest first, each row with the void that reversed it (if any).';

-- A delivery filter (NULL: any) that names a target and a status there are.
CREATE OR REPLACE FUNCTION xp._check_delivery_filter(p_target text, p_status text, p_error text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_target IS NOT NULL AND p_target NOT IN ('discord', 'telegram') THEN
        RAISE EXCEPTION 'target % is invalid: expected discord or telegram', quote_literal(left(p_target, 40))
            USING ERRCODE = 'XP002';
    END IF;
    IF p_status IS NOT NULL AND p_status NOT IN ('pending', 'done', 'failed', 'dead', 'discarded') THEN
        RAISE EXCEPTION 'status % is invalid: expected pending, done, failed, dead or discarded',
            quote_literal(left(p_status, 40)) USING ERRCODE = 'XP002';
    END IF;
    IF p_error IS NOT NULL THEN
        PERFORM xp._check_text(p_error, 'error');
    END IF;
END
$$;

-- Deliveries matching a filter (NULL: any; error: contained, any case).
CREATE OR REPLACE FUNCTION xp._deliveries_matching(p_target text, p_status text, p_error text)
RETURNS SETOF xp.deliveries
LANGUAGE plpgsql STABLE AS $$
BEGIN
    PERFORM xp._check_delivery_filter(p_target, p_status, p_error);
    RETURN QUERY
        SELECT d.* FROM xp.deliveries d
         WHERE (p_target IS NULL OR d.target = p_target) AND (p_status IS NULL OR d.status = p_status)
           AND (p_error IS NULL OR strpos(lower(d.last_error), lower(p_error)) > 0);
END
$$;

CREATE OR REPLACE FUNCTION xp.admin_deliveries(by_target text DEFAULT NULL, by_status text DEFAULT NULL,
                                               by_error text DEFAULT NULL, before bigint DEFAULT NULL, lim int DEFAULT 50)
RETURNS TABLE (id bigint, event_id bigint, kind text, user_id bigint, display_name text, target text, status text,
               attempts int, run_at timestamptz, lease_owner text, last_error text, created_at timestamptz,
               finished_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF admin_deliveries.lim IS NULL OR admin_deliveries.lim NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION 'lim % is invalid: it must be between 1 and 500', coalesce(admin_deliveries.lim::text, 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    RETURN QUERY
        SELECT d.id, d.event_id, e.kind, d.user_id, u.display_name, d.target, d.status, d.attempts, d.run_at,
               d.lease_owner, d.last_error, d.created_at, d.finished_at
          FROM xp._deliveries_matching(admin_deliveries.by_target, admin_deliveries.by_status, admin_deliveries.by_error) d
          JOIN xp.events e ON e.id = d.event_id
          LEFT JOIN xp.users u ON u.id = d.user_id
         WHERE admin_deliveries.before IS NULL OR d.id < admin_deliveries.before
         ORDER BY d.id DESC
         LIMIT admin_deliveries.lim;
END
$$;
COMMENT ON FUNCTION xp.admin_deliveries(text, text, text, bigint, int) IS
    'Admin panel: deliveries by target, status and error (contained, any case), newest first, a page at a time.';

CREATE OR REPLACE FUNCTION xp.admin_delivery_count(by_target text DEFAULT NULL, by_status text DEFAULT NULL,
                                                   by_error text DEFAULT NULL)
RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT count(*) FROM xp._deliveries_matching(admin_delivery_count.by_target, admin_delivery_count.by_status,
                                                 admin_delivery_count.by_error)
$$;
COMMENT ON FUNCTION xp.admin_delivery_count(text, text, text) IS
    'Admin panel: how many deliveries match a filter (what "retry all" or "discard all" would look at).';

CREATE OR REPLACE FUNCTION xp.audit_log(before bigint DEFAULT NULL, lim int DEFAULT 50, q text DEFAULT NULL)
RETURNS TABLE (id bigint, at timestamptz, actor text, db_user text, action text, target text, detail jsonb)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF audit_log.lim IS NULL OR audit_log.lim NOT BETWEEN 1 AND 500 THEN
        RAISE EXCEPTION 'lim % is invalid: it must be between 1 and 500', coalesce(audit_log.lim::text, 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    RETURN QUERY
        SELECT a.id, a.at, a.actor, a.db_user, a.action, a.target, a.detail
          FROM xp.admin_audit a
         WHERE (audit_log.before IS NULL OR a.id < audit_log.before)
           AND (audit_log.q IS NULL OR strpos(lower(a.actor || ' ' || a.action || ' ' || coalesce(a.target, '')),
                                              lower(audit_log.q)) > 0)
         ORDER BY a.id DESC
         LIMIT audit_log.lim;
END
$$;
COMMENT ON FUNCTION xp.audit_log(bigint, int, text) IS
    'Admin panel: the audit log, newest first, a page at a time; q keeps entries whose actor, action or target contains it.';

CREATE OR REPLACE FUNCTION xp.admin_settings()
RETURNS TABLE (key text, value jsonb, description text, rule jsonb)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT s.key, s.value, s.description, s.rule FROM xp.settings s ORDER BY s.key
$$;
COMMENT ON FUNCTION xp.admin_settings() IS 'Admin panel: every setting with its description and the rule its value is checked against.';

-- The rows of one operator table, for the panel's editors.
CREATE OR REPLACE FUNCTION xp.operator_rows(table_name text) RETURNS jsonb
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_order text := CASE operator_rows.table_name
        WHEN 'ranks' THEN 'id' WHEN 'rank_roles' THEN 'guild_id, rank_id' WHEN 'guild_settings' THEN 'guild_id'
        WHEN 'achievements' THEN 'code' WHEN 'achievement_roles' THEN 'guild_id, code'
        WHEN 'seasons' THEN 'starts_on' WHEN 'multipliers' THEN 'starts_at DESC, id'
        WHEN 'quiz_questions' THEN 'language, id' WHEN 'wheel_prizes' THEN 'id'
        WHEN 'quests' THEN 'created_at, code' WHEN 'shop_items' THEN 'price, code' END;
    v jsonb;
BEGIN
    IF v_order IS NULL THEN
        RAISE EXCEPTION 'table % is not an operator table', coalesce(quote_literal(left(operator_rows.table_name, 60)), 'NULL')
            USING ERRCODE = 'XP002';
    END IF;
    EXECUTE format('SELECT coalesce(jsonb_agg(to_jsonb(t) ORDER BY %s), ''[]'') FROM xp.%I t', v_order,
                   operator_rows.table_name)
       INTO v;
    RETURN v;
END
$$;
COMMENT ON FUNCTION xp.operator_rows(text) IS
    'Admin panel: the rows of an operator table (ranks, rank_roles, guild_settings, achievements, achievement_roles, seasons, multipliers, quiz_questions, wheel_prizes, quests, shop_items) as jsonb.';

-- --- the panel's changes ---------------------------------------------------------------------------

-- Deliveries a retry or a discard may touch, never one a listener holds under a lease now. A retry
-- takes failed, dead and discarded ones and those backing off; a discard takes failed and dead ones
-- and those waiting.
CREATE OR REPLACE FUNCTION xp._deliveries_to_act_on(p_action text, p_target text, p_status text, p_error text,
                                                    p_ids bigint[])
RETURNS SETOF bigint
LANGUAGE sql STABLE AS $$
    SELECT d.id FROM xp._deliveries_matching(p_target, p_status, p_error) d
     WHERE (p_ids IS NULL OR d.id = ANY (p_ids))
       AND CASE p_action
               WHEN 'retry' THEN d.status IN ('failed', 'dead', 'discarded')
                                 OR (d.status = 'pending' AND d.lease_owner IS NULL AND d.run_at > now())
               WHEN 'discard' THEN d.status IN ('failed', 'dead')
                                   OR (d.status = 'pending' AND (d.lease_owner IS NULL OR d.run_at <= now()))
           END
$$;

CREATE OR REPLACE FUNCTION xp.retry_deliveries(by_target text DEFAULT NULL, by_status text DEFAULT NULL,
                                               by_error text DEFAULT NULL, ids bigint[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_targets text[];
BEGIN
    PERFORM xp._check_delivery_filter(retry_deliveries.by_target, retry_deliveries.by_status, retry_deliveries.by_error);
    WITH retried AS (
        UPDATE xp.deliveries d
           SET status = 'pending', run_at = now(), attempts = 0, lease_owner = NULL, finished_at = NULL
          FROM xp._deliveries_to_act_on('retry', retry_deliveries.by_target, retry_deliveries.by_status,
                                        retry_deliveries.by_error, retry_deliveries.ids) AS x (id)
         WHERE d.id = x.id
        RETURNING d.target)
    SELECT array_agg(r.target) INTO v_targets FROM retried r;
    IF v_targets IS NULL THEN
        RETURN 0;
    END IF;
    PERFORM pg_notify('xp_' || t.target, '') FROM (SELECT DISTINCT u.target FROM unnest(v_targets) AS u (target)) AS t;
    PERFORM xp._audit('deliveries.retry', retry_deliveries.by_target,
                      jsonb_strip_nulls(jsonb_build_object('deliveries', cardinality(v_targets),
                                                           'status', retry_deliveries.by_status,
                                                           'error', retry_deliveries.by_error,
                                                           'ids', to_jsonb(retry_deliveries.ids))));
    RETURN cardinality(v_targets);
END
$$;
COMMENT ON FUNCTION xp.retry_deliveries(text, text, text, bigint[]) IS
    'Admin: make failed, dead, discarded or backing-off deliveries matching a filter (or ids) due now with fresh attempts; returns how many.';

CREATE OR REPLACE FUNCTION xp.discard_deliveries(by_target text DEFAULT NULL, by_status text DEFAULT NULL,
                                                 by_error text DEFAULT NULL, ids bigint[] DEFAULT NULL)
RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_n bigint;
BEGIN
    PERFORM xp._check_delivery_filter(discard_deliveries.by_target, discard_deliveries.by_status,
                                      discard_deliveries.by_error);
    UPDATE xp.deliveries d
       SET status = 'discarded', finished_at = now(), lease_owner = NULL
      FROM xp._deliveries_to_act_on('discard', discard_deliveries.by_target, discard_deliveries.by_status,
                                    discard_deliveries.by_error, discard_deliveries.ids) AS x (id)
     WHERE d.id = x.id;
    GET DIAGNOSTICS v_n = ROW_COUNT;
    IF v_n > 0 THEN
        PERFORM xp._audit('deliveries.discard', discard_deliveries.by_target,
                          jsonb_strip_nulls(jsonb_build_object('deliveries', v_n, 'status', discard_deliveries.by_status,
                                                               'error', discard_deliveries.by_error,
                                                               'ids', to_jsonb(discard_deliveries.ids))));
    END IF;
    RETURN v_n;
END
$$;
COMMENT ON FUNCTION xp.discard_deliveries(text, text, text, bigint[]) IS
    'Admin: never attempt again the pending (unclaimed), failed or dead deliveries matching a filter (or ids); returns how many.';

CREATE OR REPLACE FUNCTION xp.admin_unlink(platform text, external_id text) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_from bigint := xp.account_person(admin_unlink.platform, admin_unlink.external_id);
    v_new bigint;
BEGIN
    v_new := xp.unlink(admin_unlink.platform, admin_unlink.external_id);
    PERFORM xp._audit('account.unlink', admin_unlink.platform || ':' || admin_unlink.external_id,
                      jsonb_build_object('from_user', v_from, 'new_user', v_new));
    RETURN v_new;
END
$$;
COMMENT ON FUNCTION xp.admin_unlink(text, text) IS
    'Admin: unlink an account from its person as /unlink does (the person keeps the progress), audited; returns the account''s new person.';

-- --- what a change did: previews and their checks ---------------------------------------------------

-- Where the outbox, the ledger and the unlocks stand before a change.
CREATE OR REPLACE FUNCTION xp._marks() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('events', coalesce((SELECT max(e.id) FROM xp.events e), 0),
                              'deliveries', coalesce((SELECT max(d.id) FROM xp.deliveries d), 0),
                              'ledger', coalesce((SELECT max(l.id) FROM xp.ledger l), 0))
$$;

-- How many people (not forgotten) hold each rank now.
CREATE OR REPLACE FUNCTION xp._rank_counts() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(c.rank_id, c.n), '{}')
      FROM (SELECT u.rank_id, count(*) AS n FROM xp.users u WHERE u.forgotten_at IS NULL GROUP BY u.rank_id) AS c
$$;

-- The managed Discord roles each of these people should hold now, per guild.
CREATE OR REPLACE FUNCTION xp._role_plans(p_uids bigint[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(p.uid || '/' || r.guild_id, to_jsonb(r.desired)), '{}')
      FROM unnest(p_uids) AS p (uid), xp.discord_role_plan(p.uid) AS r
$$;

-- What the current transaction wrote since the marks (rows it wrote carry its start time, now()):
-- rank changes, unlocks, events and deliveries by kind and target, ledger rows by source, and the
-- member-guild pairs whose managed roles it changed (plans taken before, for these people).
CREATE OR REPLACE FUNCTION xp._effects(p_marks jsonb, p_uids bigint[], p_plans jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_plans jsonb := xp._role_plans(p_uids);
BEGIN
    RETURN jsonb_build_object(
        'rank_changes', coalesce((
            SELECT jsonb_object_agg(m.move, m.n)
              FROM (SELECT (e.payload ->> 'old_rank') || '>' || (e.payload ->> 'new_rank') AS move, count(*) AS n
                      FROM xp.events e
                     WHERE e.id > (p_marks ->> 'events')::bigint AND e.created_at = now() AND e.kind = 'rank_changed'
                     GROUP BY 1) AS m), '{}'),
        'events', coalesce((
            SELECT jsonb_object_agg(k.kind, k.n)
              FROM (SELECT e.kind, count(*) AS n FROM xp.events e
                     WHERE e.id > (p_marks ->> 'events')::bigint AND e.created_at = now() GROUP BY 1) AS k), '{}'),
        'deliveries', coalesce((
            SELECT jsonb_object_agg(t.target, t.n)
              FROM (SELECT d.target, count(*) AS n FROM xp.deliveries d
                     WHERE d.id > (p_marks ->> 'deliveries')::bigint AND d.created_at = now() GROUP BY 1) AS t), '{}'),
        'ledger', coalesce((
            SELECT jsonb_object_agg(s.source || ':' || s.kind, jsonb_build_object('rows', s.n, 'sum', s.total))
              FROM (SELECT l.source, l.kind, count(*) AS n, sum(l.delta) AS total FROM xp.ledger l
                     WHERE l.id > (p_marks ->> 'ledger')::bigint AND l.created_at = now() GROUP BY 1, 2) AS s), '{}'),
        'achievements', (SELECT count(*) FROM xp.user_achievements x
                          WHERE x.user_id = ANY (p_uids) AND x.unlocked_at = now()),
        'role_changes', (SELECT count(*)
                           FROM (SELECT b.key FROM jsonb_each(p_plans) AS b
                                 UNION SELECT a.key FROM jsonb_each(v_plans) AS a) AS k
                          WHERE p_plans -> k.key IS DISTINCT FROM v_plans -> k.key));
END
$$;

-- Move the rank thresholds ({"rank id": min_xp, ...}) and everyone out of step with them now, in the
-- caller's transaction, as xp.rerank_batch would; what it did. The one body both the preview and
-- the change run.
CREATE OR REPLACE FUNCTION xp._change_thresholds(p_thresholds jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_bad text;
    v_marks jsonb := xp._marks();
    v_before jsonb := xp._rank_counts();
    v_uids bigint[];
    v_plans jsonb;
    r record;
BEGIN
    IF p_thresholds IS NULL OR jsonb_typeof(p_thresholds) <> 'object' OR p_thresholds = '{}' THEN
        RAISE EXCEPTION 'thresholds must be a JSON object of rank id to XP, such as {"2": 300}'
            USING ERRCODE = 'XP002';
    END IF;
    SELECT string_agg(t.key || ': ' || left(t.value::text, 30), ', ') INTO v_bad
      FROM jsonb_each(p_thresholds) AS t
     WHERE t.key !~ '^[1-9][0-9]{0,8}$' OR NOT EXISTS (SELECT 1 FROM xp.ranks k WHERE k.id = t.key::int)
        OR jsonb_typeof(t.value) <> 'number' OR t.value::numeric < 0 OR t.value::numeric > 1e15
        OR t.value::numeric <> trunc(t.value::numeric);
    IF v_bad IS NOT NULL THEN
        RAISE EXCEPTION 'thresholds must map rank ids of xp.ranks to whole XP from 0: % is not', v_bad
            USING ERRCODE = 'XP002';
    END IF;
    -- one statement: the ladder is checked when it is done (ranks_min_xp_key is deferrable)
    BEGIN
        UPDATE xp.ranks k SET min_xp = (p_thresholds -> k.id::text)::numeric
         WHERE p_thresholds ? k.id::text AND k.min_xp <> (p_thresholds -> k.id::text)::numeric;
    EXCEPTION WHEN unique_violation THEN
        RAISE EXCEPTION 'rank thresholds must rise with rank ids: two ranks would start at the same XP (%)',
            p_thresholds USING ERRCODE = 'XP002';
    END;
    v_uids := ARRAY(SELECT o.uid FROM xp._out_of_step(NULL) AS o ORDER BY o.uid);
    v_plans := xp._role_plans(v_uids);
    FOR r IN SELECT u.id, u.rank_id FROM xp.users u WHERE u.id = ANY (v_uids) ORDER BY u.id FOR UPDATE LOOP
        PERFORM xp._rerank(r.id, r.rank_id);
    END LOOP;
    RETURN jsonb_build_object('before', v_before, 'after', xp._rank_counts(),
                              'effects', xp._effects(v_marks, v_uids, v_plans)
                                         || jsonb_build_object('people', cardinality(v_uids)));
END
$$;

CREATE OR REPLACE FUNCTION xp.preview_thresholds(thresholds jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v jsonb;
BEGIN
    BEGIN
        v := xp._change_thresholds(preview_thresholds.thresholds);
        RAISE EXCEPTION 'preview' USING ERRCODE = 'XP099';
    EXCEPTION WHEN SQLSTATE 'XP099' THEN
        NULL;  -- everything the change did is rolled back; what it did is returned
    END;
    RETURN v;
END
$$;
COMMENT ON FUNCTION xp.preview_thresholds(jsonb) IS
    'What moving rank thresholds ({"rank id": min_xp}) would do, done and rolled back: people per rank before and after, rank changes, rewards, unlocks, deliveries, role changes.';

CREATE OR REPLACE FUNCTION xp.apply_thresholds(thresholds jsonb, expected jsonb) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v jsonb := xp._change_thresholds(apply_thresholds.thresholds);
BEGIN
    IF apply_thresholds.expected IS NULL OR v -> 'effects' IS DISTINCT FROM apply_thresholds.expected THEN
        RAISE EXCEPTION 'the preview is out of date: applying now would do %', v -> 'effects'
            USING ERRCODE = 'XP008';
    END IF;
    PERFORM xp._audit('thresholds.apply', NULL,
                      jsonb_build_object('thresholds', apply_thresholds.thresholds, 'effects', v -> 'effects'));
    RETURN v;
END
$$;
COMMENT ON FUNCTION xp.apply_thresholds(jsonb, jsonb) IS
    'Admin: move rank thresholds and everyone with them at once, only if that does exactly what the preview''s effects say (else XP008).';

-- --- voiding an abuse wave -------------------------------------------------------------------------

-- The ledger rows a void chooses: written in [since, until) and up to the ledger id upto, of one
-- person, source and reason (contained, any case) when given, never a void or an import, and not
-- voided before.
CREATE OR REPLACE FUNCTION xp._void_rows(p_since timestamptz, p_until timestamptz, p_uid bigint, p_source text,
                                         p_reason text, p_upto bigint)
RETURNS SETOF xp.ledger
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF p_since IS NULL OR p_until IS NULL OR p_until <= p_since THEN
        RAISE EXCEPTION 'a void needs a time window: since % must be before until %', coalesce(p_since::text, 'NULL'),
            coalesce(p_until::text, 'NULL') USING ERRCODE = 'XP002';
    END IF;
    IF p_source IS NOT NULL AND p_source NOT IN ('award', 'daily', 'message', 'voice', 'game', 'achievement',
                                                 'rank_reward', 'admin') THEN
        RAISE EXCEPTION 'source % cannot be voided: expected award, daily, message, voice, game, achievement, rank_reward or admin',
            quote_literal(left(p_source, 40)) USING ERRCODE = 'XP002';
    END IF;
    IF p_reason IS NOT NULL THEN
        PERFORM xp._check_text(p_reason, 'reason');
    END IF;
    RETURN QUERY
        SELECT l.* FROM xp.ledger l
         WHERE l.created_at >= p_since AND l.created_at < p_until AND l.id <= p_upto
           AND (p_uid IS NULL OR l.user_id = p_uid)
           AND (p_source IS NULL OR l.source = p_source)
           AND l.source NOT IN ('void', 'import')
           AND (p_reason IS NULL OR strpos(lower(l.reason), lower(p_reason)) > 0)
           AND NOT EXISTS (SELECT 1 FROM xp.ledger v WHERE v.source = 'void' AND v.idempotency_key = 'void:' || l.id)
         ORDER BY l.id;
END
$$;

-- What the rows add up to: how many, the sums, a digest of their ids, and per person what they hold
-- now and would hold after.
CREATE OR REPLACE FUNCTION xp._void_summary(p_rows xp.ledger[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    WITH r AS (SELECT * FROM unnest(p_rows)),
    people AS (
        SELECT r.user_id, count(*) AS n,
               coalesce(sum(r.delta) FILTER (WHERE r.kind = 'xp'), 0) AS xp,
               coalesce(sum(r.delta) FILTER (WHERE r.kind = 'coins'), 0) AS coins
          FROM r GROUP BY r.user_id)
    SELECT jsonb_build_object(
        'rows', (SELECT count(*) FROM r),
        'digest', (SELECT md5(coalesce(string_agg(r.id::text, ',' ORDER BY r.id), '')) FROM r),
        'xp', (SELECT coalesce(sum(p.xp), 0) FROM people p),
        'coins', (SELECT coalesce(sum(p.coins), 0) FROM people p),
        'sources', coalesce((SELECT jsonb_object_agg(s.source, s.n)
                               FROM (SELECT r.source, count(*) AS n FROM r GROUP BY 1) AS s), '{}'),
        'reasons', coalesce((SELECT jsonb_agg(jsonb_build_object('reason', s.reason, 'rows', s.n) ORDER BY s.n DESC)
                               FROM (SELECT r.reason, count(*) AS n FROM r GROUP BY 1 ORDER BY 2 DESC LIMIT 10) AS s),
                            '[]'),
        'people', coalesce((
            SELECT jsonb_agg(jsonb_build_object('user_id', p.user_id, 'display_name', u.display_name, 'rows', p.n,
                                                'xp', p.xp, 'coins', p.coins, 'xp_now', u.xp, 'coins_now', u.coins,
                                                'xp_after', u.xp - p.xp, 'coins_after', u.coins - p.coins)
                             ORDER BY abs(p.xp) + abs(p.coins) DESC, p.user_id)
              FROM people p JOIN xp.users u ON u.id = p.user_id), '[]'),
        'short', coalesce((
            SELECT jsonb_agg(p.user_id ORDER BY p.user_id)
              FROM people p JOIN xp.users u ON u.id = p.user_id
             WHERE u.xp - p.xp < 0 OR u.coins - p.coins < 0), '[]'))
$$;

-- Reverse the rows through the ledger's own write path, one reversing row each (keyed void:<id>;
-- more than one step only for a row beyond what one call may move), each person's additions first so
-- that no balance dips below zero on the way; what it did.
CREATE OR REPLACE FUNCTION xp._reverse(p_rows xp.ledger[], p_note text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_marks jsonb := xp._marks();
    v_uids bigint[] := ARRAY(SELECT DISTINCT r.user_id FROM unnest(p_rows) AS r ORDER BY 1);
    v_plans jsonb := xp._role_plans(v_uids);
    v_left bigint;
    v_step int;
    v_n int;
    r record;
BEGIN
    FOR r IN SELECT * FROM unnest(p_rows) AS x ORDER BY x.user_id, x.delta, x.id LOOP
        v_left := -r.delta;
        v_n := 0;
        WHILE v_left <> 0 LOOP
            v_step := sign(v_left) * least(abs(v_left), 1000000);
            v_n := v_n + 1;
            PERFORM xp._apply(r.user_id, NULL, NULL, 'void', r.kind, v_step, left('void: ' || p_note, 200),
                              'void:' || r.id || CASE WHEN v_n > 1 THEN ':' || v_n ELSE '' END, 1, xp._actor());
            v_left := v_left - v_step;
        END LOOP;
    END LOOP;
    RETURN xp._effects(v_marks, v_uids, v_plans);
END
$$;

CREATE OR REPLACE FUNCTION xp.void_preview(since timestamptz, until timestamptz, user_id bigint DEFAULT NULL,
                                           source text DEFAULT NULL, reason text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_upto bigint := coalesce((SELECT max(l.id) FROM xp.ledger l), 0);
    v_rows xp.ledger[] := ARRAY(SELECT l FROM xp._void_rows(void_preview.since, void_preview.until,
                                                            void_preview.user_id, void_preview.source,
                                                            void_preview.reason, v_upto) AS l);
    v jsonb := xp._void_summary(v_rows);
    v_effects jsonb;
BEGIN
    v := v || jsonb_build_object(
        'upto', v_upto, 'max_rows', xp._setting('admin.void_max_rows')::int,
        'sample', coalesce((SELECT jsonb_agg(jsonb_build_object('id', s.id, 'user_id', s.user_id, 'kind', s.kind,
                                                                'delta', s.delta, 'reason', s.reason,
                                                                'source', s.source, 'created_at', s.created_at)
                                             ORDER BY s.id)
                              FROM (SELECT * FROM unnest(v_rows) LIMIT 100) AS s), '[]'));
    IF (v ->> 'rows')::int BETWEEN 1 AND (v ->> 'max_rows')::int AND v -> 'short' = '[]' THEN
        BEGIN
            v_effects := xp._reverse(v_rows, 'preview');
            RAISE EXCEPTION 'preview' USING ERRCODE = 'XP099';
        EXCEPTION WHEN SQLSTATE 'XP099' THEN
            NULL;  -- the reversal is rolled back; what it did is returned
        END;
    END IF;
    RETURN v || jsonb_build_object('effects', v_effects);
END
$$;
COMMENT ON FUNCTION xp.void_preview(timestamptz, timestamptz, bigint, text, text) IS
    'What voiding the ledger rows of a window (and a person, source, reason) would do: the rows, sums per person, who would go below zero, and the effects, done and rolled back.';

CREATE OR REPLACE FUNCTION xp.void_ledger(since timestamptz, until timestamptz, user_id bigint, source text,
                                          reason text, upto bigint, digest text, note text)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_rows xp.ledger[];
    v jsonb;
    v_max int := xp._setting('admin.void_max_rows')::int;
BEGIN
    PERFORM xp._check_text(void_ledger.note, 'note', 190);
    IF void_ledger.upto IS NULL OR void_ledger.digest IS NULL THEN
        RAISE EXCEPTION 'upto and digest come from xp.void_preview: preview first' USING ERRCODE = 'XP002';
    END IF;
    v_rows := ARRAY(SELECT l FROM xp._void_rows(void_ledger.since, void_ledger.until, void_ledger.user_id,
                                                void_ledger.source, void_ledger.reason, void_ledger.upto) AS l);
    v := xp._void_summary(v_rows);
    IF v ->> 'digest' <> void_ledger.digest THEN
        RAISE EXCEPTION 'the preview is out of date: the filter now chooses % rows, not the ones previewed',
            v ->> 'rows' USING ERRCODE = 'XP008';
    END IF;
    IF (v ->> 'rows')::int = 0 THEN
        RAISE EXCEPTION 'no ledger row matches: nothing to void' USING ERRCODE = 'XP002';
    END IF;
    IF (v ->> 'rows')::int > v_max THEN
        RAISE EXCEPTION 'the filter chooses % rows; one void reverses at most % (admin.void_max_rows)', v ->> 'rows',
            v_max USING ERRCODE = 'XP002';
    END IF;
    IF v -> 'short' <> '[]' THEN
        RAISE EXCEPTION 'voiding these rows would take persons % below zero', v -> 'short' USING ERRCODE = 'XP003';
    END IF;
    v := v - 'people' - 'reasons' || jsonb_build_object('effects', xp._reverse(v_rows, void_ledger.note));
    PERFORM xp._audit('ledger.void', void_ledger.user_id::text,
                      jsonb_strip_nulls(jsonb_build_object(
                          'since', void_ledger.since, 'until', void_ledger.until, 'source', void_ledger.source,
                          'reason', void_ledger.reason, 'upto', void_ledger.upto, 'note', void_ledger.note,
                          'rows', v -> 'rows', 'xp', v -> 'xp', 'coins', v -> 'coins',
                          'effects', v -> 'effects')));
    RETURN v;
END
$$;
COMMENT ON FUNCTION xp.void_ledger(timestamptz, timestamptz, bigint, text, text, bigint, text, text) IS
    'Admin: reverse exactly the ledger rows a void preview listed (same filter, upto and digest; else XP008), one reversing row each, in one audited change.';
