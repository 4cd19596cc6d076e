-- 0030_web: why: the community's website (public board, profiles, JSON API,
-- sign-in). A NOLOGIN role `xp_web` for the web's login (functions only, no
-- table); a privacy choice per person that every public board honours (so the
-- board indexes leave hidden people out); board marks, every Nth place of each
-- board taken now and then, from which a place is counted in bounded time
-- instead of counting everyone ahead; API keys kept only as hashes; the ledger
-- indexed by person and time for a profile's recent activity; account names
-- indexed for the board's search; and the web's settings.

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'xp_web') THEN
        CREATE ROLE xp_web NOLOGIN;
    END IF;
END
$$;

INSERT INTO xp.settings (key, value, description) VALUES
    ('web.visibility', '"public"',
     'who sees the board, profiles, cards and the keyless API: public, members (signed-in members) or off (API keys only)'),
    ('places.stride', '1000', 'board marks are every this many places; a place costs at most about this many index entries'),
    ('places.refresh_seconds', '60', 'board marks older than this are taken again by xp.refresh_places()');

ALTER TABLE xp.users ADD COLUMN hidden boolean NOT NULL DEFAULT false;

-- every public board leaves hidden people out, so the board indexes hold only the others
DROP INDEX xp.users_board;
DROP INDEX xp.users_week;
DROP INDEX xp.users_month;
DROP INDEX xp.users_season;
CREATE INDEX users_board ON xp.users (xp DESC, id) WHERE xp > 0 AND forgotten_at IS NULL AND NOT hidden;
CREATE INDEX users_week ON xp.users (week_of, week_xp DESC, id)
    WHERE week_xp > 0 AND forgotten_at IS NULL AND NOT hidden;
CREATE INDEX users_month ON xp.users (month_of, month_xp DESC, id)
    WHERE month_xp > 0 AND forgotten_at IS NULL AND NOT hidden;
CREATE INDEX users_season ON xp.users (season_id, season_xp DESC, id)
    WHERE season_xp > 0 AND forgotten_at IS NULL AND NOT hidden;

-- a person's ledger by time (recent activity); replaces the index on the person alone,
-- so the award path keeps the same number of ledger indexes
DROP INDEX xp.ledger_user;
CREATE INDEX ledger_user ON xp.ledger (user_id, created_at);

-- the board's search: names that start with what was typed, whatever the case
CREATE INDEX accounts_name ON xp.accounts (lower(display_name) text_pattern_ops) WHERE display_name IS NOT NULL;

-- Every places.stride-th entry of each board as it was at refreshed_at: a
-- person's place is a mark's place plus the entries between that mark and them.
CREATE TABLE xp.board_marks (
    board     text NOT NULL CHECK (board IN ('all', 'season', 'month', 'week')),
    period_of text NOT NULL,  -- 'all', the week's or month's first day, or the season id
    place     bigint NOT NULL,
    xp        bigint NOT NULL,
    user_id   bigint NOT NULL,
    PRIMARY KEY (board, period_of, place)
);
CREATE INDEX board_marks_key ON xp.board_marks (board, period_of, xp, user_id);
COMMENT ON TABLE xp.board_marks IS
    'Cache: every places.stride-th (xp, id) of each board and its place when taken; xp.refresh_places() retakes it.';

CREATE TABLE xp.board_marks_taken (
    only_row    boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    taken_at    timestamptz NOT NULL
);
COMMENT ON TABLE xp.board_marks_taken IS 'When xp.board_marks was last taken.';

-- API keys for the web's JSON API: only a hash is kept; the key is shown once.
CREATE TABLE xp.api_keys (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    key_hash   bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
COMMENT ON TABLE xp.api_keys IS 'API keys of the web''s JSON API, as SHA-256 hashes; made by xp.create_api_key.';

-- xp.leaderboard gains trailing arguments (paging, search) with defaults, which the old form
-- would also match: the old signature goes (sql/functions/10_reads.sql has the new one)
DROP FUNCTION IF EXISTS xp.leaderboard(int, text);
