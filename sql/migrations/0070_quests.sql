-- 0070_quests: why: operators set members tasks for a reward. A quest is
-- proven by a counter the database already keeps (messages, voice minutes,
-- games won, the daily streak), completed in the transaction of the activity,
-- or by a submission that an operator approves or declines. A quest pays at
-- most per_person times per window (once ever, a UTC day, week or month) to a
-- family (xp.family_rewards: quest:CODE#N), whatever links and unlinks happen.

ALTER TABLE xp.ledger DROP CONSTRAINT ledger_source_check;
ALTER TABLE xp.ledger ADD CONSTRAINT ledger_source_check
    CHECK (source IN ('award', 'daily', 'message', 'voice', 'game', 'achievement', 'rank_reward', 'admin',
                      'import', 'void', 'quest', 'shop'));
COMMENT ON COLUMN xp.ledger.source IS
    'What wrote the row: award (award_xp/award_coins), daily, message, voice, game, achievement, rank_reward, admin (xp.adjust), import (xp.import_xp), void (xp.void_ledger: its key is void:<id of the row it reverses>), quest (a completed quest) or shop (a purchase, or its refund).';

-- What an operator names a quest or a shop item with, per language: {"en": "...", "ru": "..."}, English
-- required (Russian falls back to it), no other language. coalesce: a missing key makes a test NULL,
-- which a CHECK would let through.
CREATE DOMAIN xp.title_words AS jsonb
    CHECK (coalesce(jsonb_typeof(VALUE) = 'object' AND jsonb_typeof(VALUE -> 'en') = 'string'
                    AND length(VALUE ->> 'en') BETWEEN 1 AND 100 AND (VALUE - 'en' - 'ru') = '{}'
                    AND (NOT VALUE ? 'ru' OR (jsonb_typeof(VALUE -> 'ru') = 'string'
                                              AND length(VALUE ->> 'ru') BETWEEN 1 AND 100)), false));
CREATE DOMAIN xp.description_words AS jsonb
    CHECK (coalesce(jsonb_typeof(VALUE) = 'object' AND (VALUE - 'en' - 'ru') = '{}'
                    AND length(coalesce(VALUE ->> 'en', '')) <= 1000
                    AND length(coalesce(VALUE ->> 'ru', '')) <= 1000, false));

-- The quests operators define (an operator table: edited in the panel or from psql).
CREATE TABLE xp.quests (
    code         text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    title        xp.title_words NOT NULL,
    description  xp.description_words NOT NULL DEFAULT '{}',
    reward_xp    int NOT NULL DEFAULT 0 CHECK (reward_xp BETWEEN 0 AND 1000000),
    reward_coins int NOT NULL DEFAULT 0 CHECK (reward_coins BETWEEN 0 AND 1000000),
    -- the window a completion counts in: once ever, or a UTC day, week (from Monday) or month
    period       text NOT NULL DEFAULT 'once' CHECK (period IN ('once', 'day', 'week', 'month')),
    -- completions paid per person (per family) and window
    per_person   int NOT NULL DEFAULT 1 CHECK (per_person BETWEEN 1 AND 100),
    -- how completion is proven: a counter of the window, or a submission an operator reviews
    proof        text NOT NULL CHECK (proof IN ('messages', 'voice_minutes', 'games_won', 'streak', 'submission')),
    -- for a counter: how much of it one completion takes (messages, minutes, wins, streak days)
    target       int NOT NULL DEFAULT 1 CHECK (target BETWEEN 1 AND 1000000),
    starts_at    timestamptz,
    ends_at      timestamptz,
    active       boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (reward_xp > 0 OR reward_coins > 0),
    CHECK (ends_at > starts_at)
);
COMMENT ON TABLE xp.quests IS
    'Quests: en/ru title and description, XP and coin reward, window (once|day|week|month), completions per person, proof (a counter or a submission).';
CREATE INDEX quests_proof ON xp.quests (proof) WHERE active;

-- How far a person has come on a counter quest in a window (the counter's increase within it;
-- for a streak, the longest streak seen in it).
CREATE TABLE xp.quest_progress (
    user_id    bigint NOT NULL REFERENCES xp.users (id) ON DELETE CASCADE,
    quest      text NOT NULL REFERENCES xp.quests (code) ON DELETE CASCADE ON UPDATE CASCADE,
    -- the first UTC day of the window; -infinity for a quest done once ever
    window_start date NOT NULL,
    value      bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, quest, window_start)
);

-- Submissions waiting for, or given, an operator's review.
CREATE TABLE xp.quest_submissions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quest       text NOT NULL REFERENCES xp.quests (code) ON DELETE CASCADE ON UPDATE CASCADE,
    user_id     bigint NOT NULL REFERENCES xp.users (id) ON DELETE CASCADE,
    account_id  bigint REFERENCES xp.accounts (id) ON DELETE SET NULL,
    -- the platform it was submitted from, which hears the review
    platform    text NOT NULL CHECK (platform IN ('telegram', 'discord', 'website')),
    window_start date NOT NULL,
    proof       text NOT NULL CHECK (length(proof) BETWEEN 1 AND 1000),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'declined')),
    note        text CHECK (length(note) <= 500),
    reviewed_by text,
    reviewed_at timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE xp.quest_submissions IS
    'Quest submissions: pending until an operator approves (the quest pays) or declines them, with a note.';
-- one waiting submission per person, quest and window: a double submission is the same one
CREATE UNIQUE INDEX quest_submissions_waiting ON xp.quest_submissions (user_id, quest, window_start)
    WHERE status = 'pending';
CREATE INDEX quest_submissions_queue ON xp.quest_submissions (status, id);

-- Every completion, paid or not (a family that had been paid its completions of the window).
CREATE TABLE xp.quest_completions (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    quest         text NOT NULL REFERENCES xp.quests (code) ON DELETE CASCADE ON UPDATE CASCADE,
    user_id       bigint NOT NULL REFERENCES xp.users (id) ON DELETE CASCADE,
    window_start  date NOT NULL,
    submission_id bigint REFERENCES xp.quest_submissions (id) ON DELETE SET NULL,
    paid          boolean NOT NULL,
    completed_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE xp.quest_completions IS
    'Completed quests per person and window; paid = false when the family had been paid every completion of the window.';
CREATE INDEX quest_completions_person ON xp.quest_completions (user_id, quest, window_start);


-- What members hear of: a quest completed by itself, a submission or a purchase reviewed.
ALTER TABLE xp.events DROP CONSTRAINT events_kind_check;
ALTER TABLE xp.events ADD CONSTRAINT events_kind_check
    CHECK (kind IN ('rank_changed', 'achievement_unlocked', 'account_linked', 'account_unlinked', 'persons_merged',
                    'roles_resync', 'quest_completed', 'quest_reviewed', 'purchase_reviewed'));
