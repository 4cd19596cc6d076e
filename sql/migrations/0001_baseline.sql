-- 0001_baseline: why: everything xpsync keeps state in, as one migration: the
-- three NOLOGIN roles, the xp schema, its tables, types and indexes, the seed
-- rows (ranks, settings, achievements, quiz questions, wheel prizes) and the
-- link pepper. It squashes the unreleased history 0001_schema … 0010_bulk_awards
-- and produces exactly the tables those produced, so a database made by them
-- is adopted by marking this migration applied (xpsync/migrate.py).
--
-- No function, trigger or grant lives here: they are in sql/functions/, which
-- `xpsync migrate` applies after the migrations (see sql/README.md).

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

-- --- ranks and settings ---------------------------------------------------------------------------

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
    ('daily.streak_bonus_cap', '6', 'streak days that earn the bonus at most'),
    ('link.code_minutes', '10', 'how long a link code stays valid'),
    ('link.max_failures', '5', 'failed redeems within link.failure_window_minutes that lock an account out'),
    ('link.failure_window_minutes', '10', 'the window in which failed redeems are counted'),
    ('link.lockout_minutes', '10', 'how long a locked-out account cannot redeem'),
    ('delivery.max_attempts', '10', 'attempts after which a delivery is dead'),
    ('delivery.backoff_base_seconds', '1', 'first retry delay; it doubles per attempt'),
    ('delivery.backoff_cap_seconds', '300', 'longest retry delay (before jitter)'),
    ('admin.cap', '10000', 'the largest |amount| of one xp.adjust call'),
    ('reconcile.stuck_minutes', '10', 'a delivery due this long ago means nothing is draining its target'),
    ('telegram.messages_per_second', '25', 'Telegram listener: messages a second at most, overall'),
    ('telegram.chat_interval_seconds', '1', 'Telegram listener: seconds between two messages to one chat'),
    ('multiplier.cap', '3', 'overlapping multipliers multiply, up to this factor'),
    ('notices.languages', '["en", "ru"]', 'languages members may choose for notices and bot replies'),
    ('games.guess_xp', '50', 'XP for guessing the number'),
    ('games.guess_tries', '7', 'tries to guess a number from 1 to 100'),
    ('games.quiz_xp', '20', 'XP for a right quiz answer');

-- --- people, accounts and the ledger --------------------------------------------------------------

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
    forgotten_at    timestamptz,
    -- (the columns below came with progression; they stay last, where the
    -- databases made before this baseline have them)
    games_won       bigint NOT NULL DEFAULT 0,
    -- XP gained in the current UTC week / month / season, valid while *_of names the current one
    week_of         date,
    week_xp         bigint NOT NULL DEFAULT 0,
    month_of        date,
    month_xp        bigint NOT NULL DEFAULT 0,
    season_id       int,
    season_xp       bigint NOT NULL DEFAULT 0
);
COMMENT ON TABLE xp.users IS 'People. xp and coins are a cache of the ledger sums (xp.reconcile_* proves it); rank is derived from xp.';
-- the all-time board and places count only people on it, so its index holds only them
CREATE INDEX users_board ON xp.users (xp DESC, id) WHERE xp > 0 AND forgotten_at IS NULL;
CREATE INDEX users_week ON xp.users (week_of, week_xp DESC, id) WHERE week_xp > 0 AND forgotten_at IS NULL;
CREATE INDEX users_month ON xp.users (month_of, month_xp DESC, id) WHERE month_xp > 0 AND forgotten_at IS NULL;
CREATE INDEX users_season ON xp.users (season_id, season_xp DESC, id) WHERE season_xp > 0 AND forgotten_at IS NULL;

CREATE TABLE xp.accounts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id             bigint NOT NULL REFERENCES xp.users (id),
    platform            text NOT NULL CHECK (platform IN ('telegram', 'discord', 'website')),
    external_id         text NOT NULL CHECK (length(external_id) BETWEEN 1 AND 200),
    display_name        text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    linked_at           timestamptz,
    -- set after too many failed link-code redeems (link.max_failures)
    redeem_locked_until timestamptz,
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
-- the per-period counters are rebuilt from the ledger by time
CREATE INDEX ledger_xp_time ON xp.ledger (created_at, user_id) WHERE kind = 'xp';

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

-- --- the outbox: events and their deliveries ------------------------------------------------------

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

-- Operator table: which Discord role mirrors which rank, per guild.
CREATE TABLE xp.rank_roles (
    guild_id text NOT NULL,
    rank_id  int NOT NULL REFERENCES xp.ranks (id),
    role_id  text NOT NULL,
    PRIMARY KEY (guild_id, rank_id),
    UNIQUE (guild_id, role_id)
);
COMMENT ON TABLE xp.rank_roles IS 'Operator table: the Discord role that mirrors a rank in a guild.';

CREATE TABLE xp.guild_settings (
    guild_id  text PRIMARY KEY,
    role_mode text NOT NULL DEFAULT 'replace' CHECK (role_mode IN ('replace', 'stack'))
);
COMMENT ON TABLE xp.guild_settings IS
    'Operator table: replace = only the role of the highest rank reached; stack = the roles of every rank reached.';

-- --- identity: link codes, redeem lock-out, merges ------------------------------------------------

-- A random secret mixed into code hashes, so a reader of xp.link_codes cannot
-- try all codes offline. Only the owner reads it (sql/functions/99_grants.sql).
CREATE TABLE xp.link_pepper (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    pepper   bytea NOT NULL
);
INSERT INTO xp.link_pepper (pepper)
SELECT uuid_send(gen_random_uuid()) || uuid_send(gen_random_uuid());

CREATE TABLE xp.link_codes (
    code_hash   bytea PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES xp.accounts (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    redeemed_at timestamptz,
    redeemed_by bigint REFERENCES xp.accounts (id)
);
COMMENT ON TABLE xp.link_codes IS 'One-time link codes, as hashes: a reader cannot redeem what it sees.';
CREATE INDEX link_codes_account ON xp.link_codes (account_id);

-- failed redeems, counted per account within link.failure_window_minutes
CREATE TABLE xp.redeem_failures (
    account_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX redeem_failures_account ON xp.redeem_failures (account_id, created_at);

CREATE TABLE xp.merges (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    from_user  bigint NOT NULL,
    into_user  bigint NOT NULL,
    by_account bigint NOT NULL,
    from_xp    bigint NOT NULL,
    from_coins bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE xp.merges IS 'Audit of merged persons: the merged person''s ledger rows now point at into_user.';

-- --- progression: seasons, multipliers, achievements ----------------------------------------------

-- Operator table: seasons, whole UTC days, never overlapping.
CREATE TABLE xp.seasons (
    id        int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    name      text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    starts_on date NOT NULL,
    ends_on   date NOT NULL,
    CHECK (ends_on > starts_on),
    EXCLUDE USING gist ((daterange(starts_on, ends_on)) WITH &&)
);
COMMENT ON TABLE xp.seasons IS
    'Operator table: seasons from starts_on (first UTC day) to ends_on (first day after); season XP is a window over the ledger.';

-- Operator table: timed XP multipliers.
CREATE TABLE xp.multipliers (
    id        bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    factor    numeric(6, 3) NOT NULL CHECK (factor >= 1 AND factor <= 3),
    platform  text CHECK (platform IN ('telegram', 'discord', 'website')),
    chat_id   text,
    starts_at timestamptz NOT NULL,
    ends_at   timestamptz NOT NULL,
    reason    text NOT NULL DEFAULT '',
    CHECK (ends_at > starts_at),
    CHECK ((platform IS NULL) = (chat_id IS NULL))
);
COMMENT ON TABLE xp.multipliers IS
    'Operator table: XP multipliers from starts_at (inclusive) to ends_at (exclusive), global (no platform/chat) or for one chat/channel; overlapping ones multiply, capped by multiplier.cap.';
CREATE INDEX multipliers_live ON xp.multipliers (ends_at);

-- Operator table: achievements and what unlocks them.
CREATE TABLE xp.achievements (
    code         text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,40}$'),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description  text NOT NULL DEFAULT '',
    emoji        text NOT NULL DEFAULT '🏆',
    criterion    text NOT NULL CHECK (criterion IN ('games_won', 'streak', 'messages', 'voice_seconds', 'rank',
                                                    'platforms')),
    threshold    bigint NOT NULL CHECK (threshold > 0),
    reward_xp    int NOT NULL DEFAULT 0 CHECK (reward_xp BETWEEN 0 AND 1000000),
    reward_coins int NOT NULL DEFAULT 0 CHECK (reward_coins BETWEEN 0 AND 1000000),
    -- the name in other languages, e.g. {"ru": "..."}
    translations jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(translations) = 'object')
);
COMMENT ON TABLE xp.achievements IS
    'Operator table: an achievement unlocks once per person when the criterion (games_won, streak, messages, voice_seconds, rank, platforms) reaches threshold.';

CREATE TABLE xp.achievement_roles (
    guild_id text NOT NULL,
    code     text NOT NULL REFERENCES xp.achievements (code) ON DELETE CASCADE,
    role_id  text NOT NULL,
    PRIMARY KEY (guild_id, code),
    UNIQUE (guild_id, role_id)
);
COMMENT ON TABLE xp.achievement_roles IS 'Operator table: the Discord role a guild gives for an achievement.';

CREATE TABLE xp.user_achievements (
    user_id     bigint NOT NULL REFERENCES xp.users (id),
    code        text NOT NULL REFERENCES xp.achievements (code) ON DELETE CASCADE,
    unlocked_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, code)
);
COMMENT ON TABLE xp.user_achievements IS 'Who unlocked what; merges unite both sides'' rows.';

INSERT INTO xp.achievements (code, name, description, emoji, criterion, threshold, reward_xp, reward_coins, translations)
VALUES
    ('first_win', 'First win', 'Win a game', '🎮', 'games_won', 1, 50, 25, '{"ru": "Первая победа"}'),
    ('streak_7', 'Regular', 'Claim the daily reward 7 days in a row', '📅', 'streak', 7, 100, 100,
     '{"ru": "Завсегдатай"}'),
    ('streak_30', 'Devoted', 'Claim the daily reward 30 days in a row', '🌋', 'streak', 30, 500, 500,
     '{"ru": "Преданность"}'),
    ('messages_100', 'Chatty', '100 counted messages', '💬', 'messages', 100, 100, 50, '{"ru": "Болтун"}'),
    ('messages_1000', 'Voice of the community', '1 000 counted messages', '📣', 'messages', 1000, 500, 250,
     '{"ru": "Голос сообщества"}'),
    ('voice_1h', 'On air', 'One hour of eligible voice time', '🎙️', 'voice_seconds', 3600, 100, 50,
     '{"ru": "В эфире"}'),
    ('voice_10h', 'Podcaster', 'Ten hours of eligible voice time', '🎧', 'voice_seconds', 36000, 500, 250,
     '{"ru": "Подкастер"}'),
    ('linked', 'Two worlds', 'Link accounts across platforms', '🔗', 'platforms', 2, 100, 100,
     '{"ru": "Два мира"}');
-- one per rank tier above the first, from the ranks as seeded
INSERT INTO xp.achievements (code, name, description, emoji, criterion, threshold, reward_coins, translations)
SELECT 'tier_' || lower(r.tier), 'Tier ' || r.tier, 'Reach rank ' || r.name, r.emoji, 'rank', r.id, 0,
       jsonb_build_object('ru', 'Уровень ' || r.tier)
  FROM xp.ranks r
 WHERE r.stars = 1 AND r.min_xp > 0;

-- --- games ----------------------------------------------------------------------------------------

-- Operator table: quiz questions (options shown in order; answer is the index of the right one).
CREATE TABLE xp.quiz_questions (
    id       int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    language text NOT NULL DEFAULT 'en',
    question text NOT NULL CHECK (length(question) BETWEEN 1 AND 300),
    options  text[] NOT NULL CHECK (cardinality(options) BETWEEN 2 AND 6),
    answer   int NOT NULL,
    CHECK (answer >= 0 AND answer < cardinality(options))
);
COMMENT ON TABLE xp.quiz_questions IS 'Operator table: quiz questions per language; answer is the 0-based index of the right option.';

INSERT INTO xp.quiz_questions (language, question, options, answer) VALUES
    ('en', 'Which planet is known as the Red Planet?', '{Venus,Mars,Jupiter,Mercury}', 1),
    ('en', 'How many minutes are in a day?', '{1440,1240,3600,960}', 0),
    ('en', 'What is the chemical symbol of gold?', '{Ag,Gd,Au,Go}', 2),
    ('en', 'Which ocean is the largest?', '{Atlantic,Indian,Arctic,Pacific}', 3),
    ('en', 'How many sides has a hexagon?', '{5,6,7,8}', 1),
    ('en', 'Who wrote "War and Peace"?', '{Dostoevsky,Chekhov,Tolstoy,Pushkin}', 2),
    ('ru', 'Какую планету называют Красной?', '{Венера,Марс,Юпитер,Меркурий}', 1),
    ('ru', 'Сколько минут в сутках?', '{1440,1240,3600,960}', 0),
    ('ru', 'Какой химический символ у золота?', '{Ag,Gd,Au,Go}', 2),
    ('ru', 'Какой океан самый большой?', '{Атлантический,Индийский,Северный Ледовитый,Тихий}', 3),
    ('ru', 'Сколько сторон у шестиугольника?', '{5,6,7,8}', 1),
    ('ru', 'Кто написал «Войну и мир»?', '{Достоевский,Чехов,Толстой,Пушкин}', 2);

-- Operator table: the prizes of the daily wheel and their weights.
CREATE TABLE xp.wheel_prizes (
    id     int GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    kind   text NOT NULL CHECK (kind IN ('xp', 'coins')),
    amount int NOT NULL CHECK (amount BETWEEN 1 AND 100000),
    weight int NOT NULL CHECK (weight > 0)
);
COMMENT ON TABLE xp.wheel_prizes IS 'Operator table: the daily wheel; a prize comes up with probability weight / sum of weights.';

INSERT INTO xp.wheel_prizes (kind, amount, weight) VALUES
    ('xp', 10, 30), ('xp', 25, 25), ('xp', 50, 15), ('xp', 100, 5),
    ('coins', 20, 15), ('coins', 50, 8), ('coins', 200, 2);

CREATE TABLE xp.game_sessions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  bigint NOT NULL REFERENCES xp.accounts (id) ON DELETE CASCADE,
    game        text NOT NULL CHECK (game IN ('guess', 'quiz', 'spin')),
    state       jsonb NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'won', 'lost', 'done')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);
COMMENT ON TABLE xp.game_sessions IS 'One row per game played; the state (secret number, right answer) never leaves the database.';
CREATE INDEX game_sessions_account ON xp.game_sessions (account_id, game, created_at);
