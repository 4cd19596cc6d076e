-- 05_periods: time windows. The UTC week, month and season of a moment, the
-- XP multipliers running now, and the season counters that follow a change
-- of xp.seasons.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- The UTC week (from Monday), month and season (NULL: none running) of a moment, by default now.
-- PL/pgSQL rather than SQL: the award path calls it, and a PL/pgSQL function keeps its plans.
CREATE OR REPLACE FUNCTION xp._periods(p_at timestamptz DEFAULT now(), OUT week date, OUT month date, OUT season int)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d date := (p_at AT TIME ZONE 'UTC')::date;
BEGIN
    week := d - (extract(isodow FROM d)::int - 1);
    month := date_trunc('month', d)::date;
    SELECT s.id INTO season FROM xp.seasons s WHERE s.starts_on <= d AND d < s.ends_on;
END
$$;

-- The XP factor of the multipliers running now, for a chat (NULL: global ones only), capped.
CREATE OR REPLACE FUNCTION xp._multiplier(p_platform text DEFAULT NULL, p_chat_id text DEFAULT NULL) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT least(round(coalesce(exp(sum(ln(m.factor))), 1), 3), xp._setting('multiplier.cap')::numeric)
      FROM xp.multipliers m
     WHERE m.ends_at > now() AND m.starts_at <= now()
       AND (m.chat_id IS NULL OR (m.platform = p_platform AND m.chat_id = p_chat_id))
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
