-- 17_texts: the operators' wording of the bots' and listeners' texts. A body
-- may use only the {placeholders} its text's callers fill in (xp.text_keys):
-- any other, a malformed field or a lone brace is refused on every write
-- (XP002), from the panel or from psql, so that nothing unrenderable reaches a
-- member. Every change is audited, adds one to the config version and rings
-- xp_config: running bots and listeners drop what they keep and read again.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- A body read as str.format reads it ({name} a placeholder, {{ and }} literal braces, left to right)
-- for a text: what is wrong with it (NULL: nothing), and the body filled with p_values (a placeholder
-- without a value stays as written).
CREATE OR REPLACE FUNCTION xp._text_fill(p_key text, p_body text, p_values jsonb DEFAULT '{}',
                                         OUT problem text, OUT filled text)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    v_allowed text[];
    v_at int := 1;
    v_len int;
    v_char text;
    v_close int;
    v_field text;
    v_out text := '';
BEGIN
    SELECT k.placeholders INTO v_allowed FROM xp.text_keys k WHERE k.key = p_key;
    IF NOT FOUND THEN
        problem := format('unknown text %s', coalesce(quote_literal(left(p_key, 60)), 'NULL'));
        RETURN;
    END IF;
    IF p_body IS NULL OR length(p_body) NOT BETWEEN 1 AND 2000 THEN
        problem := format('the text must be 1 to 2000 characters long, not %s', coalesce(length(p_body), 0));
        RETURN;
    END IF;
    v_len := length(p_body);
    WHILE v_at <= v_len LOOP
        v_char := substr(p_body, v_at, 1);
        IF v_char = '{' AND substr(p_body, v_at + 1, 1) = '{' THEN
            v_out := v_out || '{';
            v_at := v_at + 2;
        ELSIF v_char = '}' AND substr(p_body, v_at + 1, 1) = '}' THEN
            v_out := v_out || '}';
            v_at := v_at + 2;
        ELSIF v_char = '}' THEN
            problem := 'a brace without its pair: write {name}, or {{ and }} for braces';
            RETURN;
        ELSIF v_char = '{' THEN
            v_close := strpos(substr(p_body, v_at + 1), '}');
            IF v_close = 0 THEN
                problem := 'a brace without its pair: write {name}, or {{ and }} for braces';
                RETURN;
            END IF;
            v_field := substr(p_body, v_at + 1, v_close - 1);
            IF v_field !~ '^[A-Za-z_][A-Za-z0-9_]*$' THEN
                problem := format('{%s} is not a placeholder: write {name}, or {{ and }} for braces', left(v_field, 40));
                RETURN;
            ELSIF NOT v_field = ANY (v_allowed) THEN
                problem := format('unknown placeholder {%s} in %s: it may use %s', v_field, p_key,
                                  CASE WHEN cardinality(v_allowed) = 0 THEN 'none'
                                       ELSE (SELECT string_agg('{' || x || '}', ', ') FROM unnest(v_allowed) AS x) END);
                RETURN;
            END IF;
            v_out := v_out || coalesce(p_values ->> v_field, '{' || v_field || '}');
            v_at := v_at + v_close + 1;
        ELSE
            v_out := v_out || v_char;
            v_at := v_at + 1;
        END IF;
    END LOOP;
    filled := v_out;
END
$$;

CREATE OR REPLACE FUNCTION xp._texts_valid() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_problem text := (xp._text_fill(NEW.key, NEW.body)).problem;
BEGIN
    IF v_problem IS NOT NULL THEN
        RAISE EXCEPTION 'text %/% is refused: %', NEW.key, NEW.language, v_problem USING ERRCODE = 'XP002';
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;
CREATE OR REPLACE TRIGGER texts_valid BEFORE INSERT OR UPDATE ON xp.texts
    FOR EACH ROW EXECUTE FUNCTION xp._texts_valid();
CREATE OR REPLACE TRIGGER texts_audit AFTER INSERT OR DELETE ON xp.texts
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('key', 'language');
CREATE OR REPLACE TRIGGER texts_audit_update AFTER UPDATE ON xp.texts
    FOR EACH ROW WHEN (OLD.body IS DISTINCT FROM NEW.body) EXECUTE FUNCTION xp._operator_row_changed('key', 'language');

CREATE OR REPLACE FUNCTION xp.texts()
RETURNS TABLE (key text, language text, body text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT t.key, t.language, t.body FROM xp.texts t ORDER BY t.key, t.language
$$;
COMMENT ON FUNCTION xp.texts() IS
    'The texts operators reworded, per language (the code''s words stand for the others); read again on every xp_config.';

CREATE OR REPLACE FUNCTION xp.text_catalogue()
RETURNS TABLE (key text, placeholders text[], samples jsonb, description text, en text, ru text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT k.key, k.placeholders, k.samples, k.description,
           (SELECT t.body FROM xp.texts t WHERE t.key = k.key AND t.language = 'en'),
           (SELECT t.body FROM xp.texts t WHERE t.key = k.key AND t.language = 'ru')
      FROM xp.text_keys k ORDER BY k.key
$$;
COMMENT ON FUNCTION xp.text_catalogue() IS
    'The texts an operator may reword: placeholders, preview samples and the wording per language (NULL: the default).';

-- The body with its placeholders filled with the samples (and {{ }} as braces), as a member would
-- read it; XP002 for what saving would refuse.
CREATE OR REPLACE FUNCTION xp.preview_text(key text, body text) RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    r record;
BEGIN
    SELECT * INTO r FROM xp._text_fill(preview_text.key, preview_text.body,
                                       (SELECT k.samples FROM xp.text_keys k WHERE k.key = preview_text.key));
    IF r.problem IS NOT NULL THEN
        RAISE EXCEPTION 'text % is refused: %', left(preview_text.key, 60), r.problem USING ERRCODE = 'XP002';
    END IF;
    RETURN r.filled;
END
$$;
COMMENT ON FUNCTION xp.preview_text(text, text) IS
    'Admin: a text''s body as a member would read it, filled with sample values; XP002 for what saving would refuse.';

-- Set (body) or drop (NULL: back to the code's words) the wording of a text in a language.
CREATE OR REPLACE FUNCTION xp.set_text(key text, language text, body text) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    IF set_text.language IS NULL OR set_text.language NOT IN ('en', 'ru') THEN
        RAISE EXCEPTION 'unknown language %: expected en or ru', coalesce(quote_literal(left(set_text.language, 20)),
                                                                         'NULL') USING ERRCODE = 'XP002';
    END IF;
    IF set_text.body IS NULL THEN
        PERFORM 1 FROM xp.text_keys k WHERE k.key = set_text.key;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'unknown text %', coalesce(quote_literal(left(set_text.key, 60)), 'NULL')
                USING ERRCODE = 'XP002';
        END IF;
        DELETE FROM xp.texts t WHERE t.key = set_text.key AND t.language = set_text.language;
        RETURN FOUND;
    END IF;
    INSERT INTO xp.texts AS t (key, language, body) VALUES (set_text.key, set_text.language, set_text.body)
    ON CONFLICT ON CONSTRAINT texts_pkey DO UPDATE SET body = EXCLUDED.body
     WHERE t.body IS DISTINCT FROM EXCLUDED.body;
    RETURN FOUND;
END
$$;
COMMENT ON FUNCTION xp.set_text(text, text, text) IS
    'Admin: reword a text in a language (placeholders checked, XP002), or NULL for the code''s words; true when it changed.';
