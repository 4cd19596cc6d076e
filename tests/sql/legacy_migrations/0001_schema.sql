-- 0001_schema: why: the xp schema with the three NOLOGIN roles of design.md §5 and
-- the tables of the ledger core: people, their platform accounts, the
-- append-only ledger, ranks and settings (operator tables), the per-message and
-- per-voice-session idempotency records, and the outbox (events, deliveries)
-- that rank changes write into in the same transaction.

DO $$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['xp_bot', 'xp_listener', 'xp_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
END
$$;

CREATE SCHEMA xp;
COMMENT ON SCHEMA xp IS 'xpsync: one person, one progression, two platforms. Call the functions; tables are not an interface.';
REVOKE ALL ON SCHEMA xp FROM PUBLIC;
GRANT USAGE ON SCHEMA xp TO xp_bot, xp_listener, xp_admin;

-- Operator table: the 20 ranks. Rank n needs the XP MEE6 needs for level 2(n-1).
CREATE TABLE xp.ranks (
    id           int PRIMARY KEY CHECK (id >= 1),
    name         text NOT NULL UNIQUE,
    tier         text NOT NULL,
    stars        int NOT NULL CHECK (stars BETWEEN 1 AND 3),
    min_xp       bigint NOT NULL UNIQUE CHECK (min_xp >= 0),
    color        text NOT NULL CHECK (color ~ '^#[0-9A-Fa-f]{6}$'),
    emoji        text NOT NULL,
    reward_coins int NOT NULL DEFAULT 0 CHECK (reward_coins >= 0)
);
COMMENT ON TABLE xp.ranks IS 'Operator table: rank thresholds; rank ids ascend with min_xp and the lowest rank starts at 0 XP.';

INSERT INTO xp.ranks (id, name, tier, stars, min_xp, color, emoji, reward_coins)
SELECT k.n,
       t.tier || ' ' || (ARRAY['I', 'II', 'III'])[k.stars],
       t.tier,
       k.stars,
       (5 * k.level * (2 * k.level * k.level + 27 * k.level + 91)) / 6,
       t.color,
       t.emoji,
       50 * (k.n - 1)
FROM (SELECT n, (n - 1) / 3 AS tier_no, (n - 1) % 3 + 1 AS stars, 2 * (n - 1) AS level
        FROM generate_series(1, 20) AS n) AS k
JOIN (VALUES (0, 'F', '#9E9E9E', '🌱'),
             (1, 'E', '#4CAF50', '🍀'),
             (2, 'D', '#2196F3', '🔷'),
             (3, 'C', '#9C27B0', '🔮'),
             (4, 'B', '#FF9800', '🔥'),
             (5, 'A', '#F44336', '⚡'),
             (6, 'S', '#FFD700', '👑')) AS t (tier_no, tier, color, emoji)
  ON t.tier_no = k.tier_no;

-- Operator table: tunables read by the SQL functions (and, live, by bots and listeners).
CREATE TABLE xp.settings (
    key         text PRIMARY KEY,
    value       jsonb NOT NULL,
    description text NOT NULL DEFAULT ''
);
COMMENT ON TABLE xp.settings IS 'Operator table: tunables; the functions read them on every call.';

INSERT INTO xp.settings (key, value, description) VALUES
    ('message.cooldown_seconds', '60', 'at most one counted message per person in this many seconds, across platforms'),
    ('message.xp_min', '15', 'least XP for a counted message'),
    ('message.xp_max', '25', 'most XP for a counted message'),
    ('message.min_length', '3', 'messages shorter than this are not counted'),
    ('message.ignored_chats', '[]', 'chat/channel ids whose messages are never counted, as "platform:chat_id" strings'),
    ('voice.xp_per_minute', '3', 'XP per eligible voice minute'),
    ('daily.xp', '100', 'XP of the daily reward'),
    ('daily.coins', '50', 'coins of the daily reward'),
    ('daily.streak_bonus_coins', '10', 'extra coins per day of streak beyond the first'),
    ('daily.streak_bonus_cap', '6', 'streak days that earn the bonus at most');

CREATE TABLE xp.users (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    display_name    text,
    xp              bigint NOT NULL DEFAULT 0 CHECK (xp >= 0),
    coins           bigint NOT NULL DEFAULT 0 CHECK (coins >= 0),
    rank_id         int NOT NULL DEFAULT 1 REFERENCES xp.ranks (id),
    -- the current rank's XP bounds, so that an award knows without a lookup
    -- whether it crossed a threshold (rank_ceil is NULL on the top rank)
    rank_floor      bigint NOT NULL DEFAULT 0,
    rank_ceil       bigint,
    -- every rank up to this one has had its reward paid, once, ever
    rewarded_rank   int NOT NULL DEFAULT 1,
    streak          int NOT NULL DEFAULT 0,
    last_daily      date,
    last_message_at timestamptz,
    messages        bigint NOT NULL DEFAULT 0,
    voice_seconds   bigint NOT NULL DEFAULT 0,
    -- the rank whose Discord roles were last applied (NULL: never)
    roles_rank      int,
    language        text NOT NULL DEFAULT 'en',
    notify          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    -- set by xp.forget_person: no accounts, no name, numbers only
    forgotten_at    timestamptz
);
COMMENT ON TABLE xp.users IS 'People. xp and coins are a cache of the ledger sums (xp.reconcile_* proves it); rank is derived from xp.';
CREATE INDEX users_board ON xp.users (xp DESC, id);

CREATE TABLE xp.accounts (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES xp.users (id),
    platform     text NOT NULL CHECK (platform IN ('telegram', 'discord', 'website')),
    external_id  text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    display_name text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    linked_at    timestamptz,
    UNIQUE (platform, external_id),
    UNIQUE (user_id, platform)
);
COMMENT ON TABLE xp.accounts IS 'Platform accounts; a person holds at most one per platform.';

CREATE TABLE xp.ledger (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id         bigint NOT NULL REFERENCES xp.users (id),
    account_id      bigint,
    platform        text,
    kind            text NOT NULL CHECK (kind IN ('xp', 'coins')),
    delta           bigint NOT NULL,
    reason          text NOT NULL,
    idempotency_key text NOT NULL UNIQUE,
    factor          numeric(6, 3) NOT NULL DEFAULT 1,
    actor           text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE xp.ledger IS 'Append-only: every XP and coin change. Rows are re-pointed by merges, never rewritten or deleted.';
CREATE INDEX ledger_user ON xp.ledger (user_id);
CREATE INDEX ledger_time ON xp.ledger USING brin (created_at);

CREATE TABLE xp.message_log (
    platform   text NOT NULL,
    chat_id    text NOT NULL,
    message_id text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (platform, chat_id, message_id)
);
COMMENT ON TABLE xp.message_log IS 'Every message seen, counted or not, so that a replay never counts one later.';
CREATE INDEX message_log_time ON xp.message_log USING brin (created_at);

CREATE TABLE xp.voice_sessions (
    account_id bigint NOT NULL REFERENCES xp.accounts (id),
    session_id text NOT NULL,
    seconds    int NOT NULL DEFAULT 0,
    base_xp    bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, session_id)
);
COMMENT ON TABLE xp.voice_sessions IS 'Eligible seconds and XP so far per voice session: a later report awards only the increase.';

CREATE TABLE xp.events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id    bigint NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('rank_changed', 'achievement_unlocked', 'account_linked',
                                             'account_unlinked', 'persons_merged', 'roles_resync')),
    payload    jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE xp.events IS 'What happened that a platform cares about, written in the transaction of the change.';

CREATE TABLE xp.deliveries (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id    bigint NOT NULL REFERENCES xp.events (id) ON DELETE CASCADE,
    target      text NOT NULL CHECK (target IN ('discord', 'telegram')),
    user_id     bigint NOT NULL,
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'failed', 'dead')),
    attempts    int NOT NULL DEFAULT 0,
    -- due time; a claim moves it to the end of the lease, so an expired lease is simply due again
    run_at      timestamptz NOT NULL DEFAULT now(),
    lease_owner text,
    last_error  text,
    sent_ref    text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
COMMENT ON TABLE xp.deliveries IS 'The mailbox: one row per event and interested platform; NOTIFY xp_<target> is only the doorbell.';
CREATE INDEX deliveries_due ON xp.deliveries (target, run_at) WHERE status = 'pending';
CREATE INDEX deliveries_event ON xp.deliveries (event_id);

CREATE TYPE xp.award_result AS (
    user_id      bigint,
    xp           bigint,
    coins        bigint,
    old_rank     int,
    new_rank     int,
    rank_changed boolean,
    reward_coins int,
    applied      boolean
);

CREATE TYPE xp.daily_result AS (
    user_id       bigint,
    xp            bigint,
    coins         bigint,
    old_rank      int,
    new_rank      int,
    rank_changed  boolean,
    reward_coins  int,
    applied       boolean,
    streak        int,
    xp_awarded    int,
    coins_awarded int,
    next_claim_at timestamptz
);

GRANT ALL ON ALL TABLES IN SCHEMA xp TO xp_admin;
GRANT ALL ON ALL SEQUENCES IN SCHEMA xp TO xp_admin;
GRANT SELECT ON xp.ranks, xp.settings TO xp_listener;
