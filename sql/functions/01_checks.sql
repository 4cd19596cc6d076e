-- 01_checks: the argument checks every function shares (XP002 with a message
-- that names the value) and the settings lookup.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- Raise XP002 unless `value` is 1..max_length characters.
CREATE OR REPLACE FUNCTION xp._check_text(value text, what text, max_length int DEFAULT 200) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF value IS NULL OR length(value) = 0 THEN
        RAISE EXCEPTION '% must not be empty', what USING ERRCODE = 'XP002';
    ELSIF length(value) > max_length THEN
        RAISE EXCEPTION '% is % characters long (at most %)', what, length(value), max_length
            USING ERRCODE = 'XP002';
    END IF;
END
$$;

-- Raise XP002 unless `platform` is one of ours.
CREATE OR REPLACE FUNCTION xp._check_platform(platform text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF platform IS NULL OR platform NOT IN ('telegram', 'discord', 'website') THEN
        RAISE EXCEPTION 'unknown platform %: expected telegram, discord or website',
            coalesce(quote_literal(left(platform, 40)), 'NULL') USING ERRCODE = 'XP002';
    END IF;
END
$$;

-- Raise XP002 unless a flag is true or false: NULL must never choose a side (a NULL dry_run
-- was taken for false and ran the writing reconcile).
CREATE OR REPLACE FUNCTION xp._check_flag(value boolean, what text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF value IS NULL THEN
        RAISE EXCEPTION '% must be true or false, not NULL', what USING ERRCODE = 'XP002';
    END IF;
END
$$;

-- A setting as jsonb (NULL when absent).
CREATE OR REPLACE FUNCTION xp._setting(p_key text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT value FROM xp.settings WHERE key = p_key
$$;
