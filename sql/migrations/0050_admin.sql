-- 0050_admin: why: the live admin panel (/admin). Operators sign in with a
-- one-time login link (kept here as a hash only), every change they make, in
-- the panel or from psql, is written to an audit log with its actor, running
-- listeners and bots report heartbeats (which change of the operator tables
-- they have taken up, counted by a config version), settings carry a rule that
-- every write is checked against, an abuse wave is voided with reversing
-- ledger rows of a source of their own, and a delivery can be discarded.

-- One-time login links for the panel: `xpsync web admin-token create NAME --role admin|viewer`.
-- Only the SHA-256 of a token is kept; it signs in once, before it expires, unless revoked.
CREATE TABLE xp.admin_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._@-]{0,59}$'),
    role       text NOT NULL CHECK (role IN ('admin', 'viewer')),
    token_hash bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    created_at timestamptz NOT NULL DEFAULT now(),
    created_by text NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    revoked_at timestamptz,
    CHECK (expires_at > created_at)
);
COMMENT ON TABLE xp.admin_tokens IS
    'Login links of the admin panel, as SHA-256 hashes: each signs in once, before expires_at, unless revoked.';
CREATE INDEX admin_tokens_name ON xp.admin_tokens (name);

-- Every change an operator made: in the panel (actor: the Discord user or the token's name) or from
-- psql (actor: the database login), with the login that ran it in both cases.
CREATE TABLE xp.admin_audit (
    id      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor   text NOT NULL,
    db_user text NOT NULL DEFAULT session_user,
    action  text NOT NULL,
    target  text,
    detail  jsonb NOT NULL DEFAULT '{}'
);
COMMENT ON TABLE xp.admin_audit IS
    'The audit log: who changed what (operator tables, balances, deliveries, people, thresholds, voids), newest last.';
CREATE INDEX admin_audit_actor ON xp.admin_audit (actor, id);
CREATE INDEX admin_audit_action ON xp.admin_audit (action, id);

-- Counts the changes of the operator tables, which running processes take up.
CREATE TABLE xp.config_version (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version    bigint NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE xp.config_version IS
    'How many changes of the operator tables there have been; heartbeats say which one a process took up.';
INSERT INTO xp.config_version DEFAULT VALUES;

-- What running listeners and bots say about themselves every few seconds.
CREATE SEQUENCE xp.heartbeat_beats;
CREATE TABLE xp.heartbeats (
    instance       text PRIMARY KEY CHECK (length(instance) BETWEEN 1 AND 200),
    kind           text NOT NULL CHECK (kind IN ('listener:discord', 'listener:telegram', 'bot:discord',
                                                 'bot:telegram')),
    version        text NOT NULL,
    config_version bigint,
    handled        bigint NOT NULL DEFAULT 0,
    last_batch     int,
    last_batch_at  timestamptz,
    started_at     timestamptz NOT NULL DEFAULT now(),
    seen_at        timestamptz NOT NULL DEFAULT now(),
    stopped_at     timestamptz,
    beat           bigint NOT NULL DEFAULT nextval('xp.heartbeat_beats')
);
COMMENT ON TABLE xp.heartbeats IS
    'Running listeners and bots: version, the config version taken up, work done and the last batch; written by xp.heartbeat.';

-- The rule a setting's value is checked against on every write: {"type": integer|number|string|
-- boolean|array, "min", "max", "enum", "items": {"enum"|"pattern"}}. NULL: keep the JSON type it has.
ALTER TABLE xp.settings ADD COLUMN rule jsonb CHECK (rule IS NULL OR jsonb_typeof(rule) = 'object');
COMMENT ON COLUMN xp.settings.rule IS
    'What a value must be: {"type": integer|number|string|boolean|array, "min", "max", "enum", "items"}; NULL keeps its JSON type.';

UPDATE xp.settings s SET rule = r.rule::jsonb
  FROM (VALUES
    ('message.cooldown_seconds', '{"type": "integer", "min": 0, "max": 86400}'),
    ('message.xp_min', '{"type": "integer", "min": 0, "max": 1000000}'),
    ('message.xp_max', '{"type": "integer", "min": 0, "max": 1000000}'),
    ('message.min_length', '{"type": "integer", "min": 0, "max": 4096}'),
    ('message.ignored_chats', '{"type": "array", "items": {"pattern": "^(telegram|discord|website):.{1,200}$"}}'),
    ('voice.xp_per_minute', '{"type": "integer", "min": 0, "max": 10000}'),
    ('daily.xp', '{"type": "integer", "min": 0, "max": 1000000}'),
    ('daily.coins', '{"type": "integer", "min": 0, "max": 1000000}'),
    ('daily.streak_bonus_coins', '{"type": "integer", "min": 0, "max": 1000000}'),
    ('daily.streak_bonus_cap', '{"type": "integer", "min": 0, "max": 3650}'),
    ('link.code_minutes', '{"type": "integer", "min": 1, "max": 10080}'),
    ('link.max_failures', '{"type": "integer", "min": 1, "max": 1000}'),
    ('link.failure_window_minutes', '{"type": "integer", "min": 1, "max": 10080}'),
    ('link.lockout_minutes', '{"type": "integer", "min": 0, "max": 10080}'),
    ('delivery.max_attempts', '{"type": "integer", "min": 1, "max": 1000}'),
    ('delivery.backoff_base_seconds', '{"type": "number", "min": 0.001, "max": 3600}'),
    ('delivery.backoff_cap_seconds', '{"type": "number", "min": 0.001, "max": 86400}'),
    ('admin.cap', '{"type": "integer", "min": 1, "max": 1000000}'),
    ('reconcile.stuck_minutes', '{"type": "integer", "min": 1, "max": 10080}'),
    ('telegram.messages_per_second', '{"type": "number", "min": 0.01, "max": 100000}'),
    ('telegram.chat_interval_seconds', '{"type": "number", "min": 0, "max": 3600}'),
    ('multiplier.cap', '{"type": "number", "min": 1, "max": 3}'),
    ('notices.languages', '{"type": "array", "items": {"enum": ["en", "ru"]}}'),
    ('games.guess_xp', '{"type": "integer", "min": 0, "max": 1000000}'),
    ('games.guess_tries', '{"type": "integer", "min": 1, "max": 100}'),
    ('games.quiz_xp', '{"type": "integer", "min": 0, "max": 1000000}'),
    ('web.visibility', '{"type": "string", "enum": ["public", "members", "off"]}'),
    ('places.stride', '{"type": "integer", "min": 1, "max": 10000000}'),
    ('places.refresh_seconds', '{"type": "integer", "min": 1, "max": 86400}')
  ) AS r (key, rule)
 WHERE s.key = r.key;

INSERT INTO xp.settings (key, value, description, rule) VALUES
    ('admin.heartbeat_stale_seconds', '20',
     'a listener or bot whose last heartbeat is older than this is shown as stale',
     '{"type": "integer", "min": 5, "max": 86400}'),
    ('admin.void_max_rows', '10000', 'the most ledger rows one void may reverse',
     '{"type": "integer", "min": 1, "max": 1000000}');

-- A void writes one reversing row per voided row, with a source of its own.
ALTER TABLE xp.ledger DROP CONSTRAINT ledger_source_check;
ALTER TABLE xp.ledger ADD CONSTRAINT ledger_source_check
    CHECK (source IN ('award', 'daily', 'message', 'voice', 'game', 'achievement', 'rank_reward', 'admin',
                      'import', 'void'));
COMMENT ON COLUMN xp.ledger.source IS
    'What wrote the row: award (award_xp/award_coins), daily, message, voice, game, achievement, rank_reward, admin (xp.adjust), import (xp.import_xp) or void (xp.void_ledger: its key is void:<id of the row it reverses>).';

-- An operator may discard a delivery (it is never attempted again unless retried).
ALTER TABLE xp.deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE xp.deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('pending', 'done', 'failed', 'dead', 'discarded'));
-- the panel lists what did not get through; only such rows enter this index
CREATE INDEX deliveries_unsent ON xp.deliveries (status, id) WHERE status IN ('failed', 'dead', 'discarded');

-- A threshold change moves several ranks in one statement; their order is kept by the ladder check
-- at the end of the statement (sql/functions/12_operations.sql), so uniqueness may wait until then.
ALTER TABLE xp.ranks DROP CONSTRAINT ranks_min_xp_key;
ALTER TABLE xp.ranks ADD CONSTRAINT ranks_min_xp_key UNIQUE (min_xp) DEFERRABLE INITIALLY IMMEDIATE;
