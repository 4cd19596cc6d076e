-- 05_periods: time windows. The UTC week, month and season of a moment, the
-- XP multipliers running now, and the season counters that follow a change
-- of xp.seasons.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- The UTC week (from Monday), month and season (NULL: none running) of a moment, by default now:
-- one row. A SQL set-returning function of one SELECT, so that the planner inlines it where it is
-- used in FROM (the award's UPDATE): no call at all on the hot path, planned once with it.
CREATE OR REPLACE FUNCTION xp._periods(p_at timestamptz DEFAULT now())
RETURNS TABLE (week date, month date, season int)
LANGUAGE sql STABLE AS $$
    SELECT d.day - (extract(isodow FROM d.day)::int - 1), date_trunc('month', d.day)::date,
           (SELECT s.id FROM xp.seasons s WHERE s.starts_on <= d.day AND d.day < s.ends_on)
      FROM (SELECT (p_at AT TIME ZONE 'UTC')::date AS day) AS d
$$;

-- The XP factor of the multipliers running now, for a chat (NULL: global ones only), capped: one
-- row. Inlined where it is used in FROM, like xp._periods. Most of the time no multiplier runs:
-- the aggregate (its executor start costs five index probes) is skipped then.
CREATE OR REPLACE FUNCTION xp._factor(p_platform text DEFAULT NULL, p_chat_id text DEFAULT NULL)
RETURNS TABLE (factor numeric)
LANGUAGE sql STABLE AS $$
    SELECT CASE
           WHEN NOT EXISTS (SELECT 1 FROM xp.multipliers m
                             WHERE m.ends_at > now() AND m.starts_at <= now()
                               AND (m.chat_id IS NULL OR (m.platform = p_platform AND m.chat_id = p_chat_id)))
           THEN 1::numeric
           ELSE (SELECT least(round(coalesce(exp(sum(ln(m.factor))), 1), 3),
                              (SELECT s.value::numeric FROM xp.settings s WHERE s.key = 'multiplier.cap'))
                   FROM xp.multipliers m
                  WHERE m.ends_at > now() AND m.starts_at <= now()
                    AND (m.chat_id IS NULL OR (m.platform = p_platform AND m.chat_id = p_chat_id)))
           END
$$;

-- The same factor as a value, for callers that pass it on (PL/pgSQL: it keeps its plan, where a
-- SQL function called from PL/pgSQL is planned again on every call before PostgreSQL 18).
CREATE OR REPLACE FUNCTION xp._multiplier(p_platform text DEFAULT NULL, p_chat_id text DEFAULT NULL) RETURNS numeric
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT f.factor FROM xp._factor(p_platform, p_chat_id) AS f);
END
$$;

-- A season added, moved or removed while people earn: their season counters
-- follow the ledger at once (a rare, set-based rebuild under the persons' locks).
-- (as the owner: a DBA edits the seasons, the rebuild is not theirs to call)
CREATE OR REPLACE FUNCTION xp._seasons_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM count(*) FROM xp._fix_boards(NULL);
    RETURN NULL;
END
$$;
CREATE OR REPLACE TRIGGER seasons_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON xp.seasons
    FOR EACH STATEMENT EXECUTE FUNCTION xp._seasons_changed();
