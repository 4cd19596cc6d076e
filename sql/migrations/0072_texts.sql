-- 0072_texts: why: operators word the notices and replies they care about
-- (the welcome of /start, the daily reward line, rank-up and achievement
-- notices, the quest and shop texts) per language, without a release. The
-- words of the code (xpsync/texts/) are the defaults; a row here replaces one
-- text in one language. Each editable text names the placeholders its callers
-- fill in: a body using any other is refused when saved, not rendered.

CREATE TABLE xp.text_keys (
    key          text PRIMARY KEY,
    -- the {placeholders} a body may use (its callers fill in every one)
    placeholders text[] NOT NULL,
    -- what a preview fills them with
    samples      jsonb NOT NULL,
    description  text NOT NULL
);
COMMENT ON TABLE xp.text_keys IS
    'The texts an operator may reword: the placeholders each may use and the sample values of a preview.';

CREATE TABLE xp.texts (
    key        text NOT NULL REFERENCES xp.text_keys (key) ON DELETE CASCADE,
    language   text NOT NULL CHECK (language IN ('en', 'ru')),
    body       text NOT NULL CHECK (length(body) BETWEEN 1 AND 2000),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, language)
);
COMMENT ON TABLE xp.texts IS
    'Operators'' wording of a text in a language (checked on every write); without a row the code''s default is said.';

INSERT INTO xp.text_keys (key, placeholders, samples, description) VALUES
    ('welcome', '{name}', '{"name": "Alice"}', 'Telegram /start'),
    ('daily_ok', '{xp,coins,streak}', '{"xp": 100, "coins": 60, "streak": 3}', 'the daily reward, claimed'),
    ('daily_again', '{next}', '{"next": "00:00"}', 'the daily reward, claimed already'),
    ('notice_rank_up', '{emoji,name}', '{"emoji": "⭐", "name": "E I"}', 'Telegram notice: a new rank'),
    ('notice_achievement', '{emoji,name}', '{"emoji": "🏆", "name": "Chatty"}', 'Telegram notice: an achievement'),
    ('quests_title', '{}', '{}', 'the head of the quest list'),
    ('quests_empty', '{}', '{}', 'no quest running'),
    ('quest_row', '{title,reward,progress}', '{"title": "Say hello", "reward": "+50 XP +10 coins", "progress": "3/10"}',
     'one quest of the list'),
    ('quest_submitted', '{title}', '{"title": "Share a screenshot"}', 'a submission, waiting for review'),
    ('notice_quest_approved', '{title,reward,note}',
     '{"title": "Share a screenshot", "reward": "+50 XP", "note": "nice one"}', 'notice: a submission approved'),
    ('notice_quest_declined', '{title,note}', '{"title": "Share a screenshot", "note": "blurry"}',
     'notice: a submission declined'),
    ('notice_quest_completed', '{title,reward}', '{"title": "Say hello", "reward": "+50 XP"}',
     'notice: a quest completed by itself'),
    ('shop_title', '{coins}', '{"coins": 420}', 'the head of the shop'),
    ('shop_empty', '{}', '{}', 'nothing for sale'),
    ('shop_row', '{title,price,stock}', '{"title": "VIP role (7 days)", "price": 300, "stock": "(5 left)"}',
     'one item of the shop'),
    ('purchase_done', '{title,coins}', '{"title": "VIP role (7 days)", "coins": 120}', 'a purchase granted at once'),
    ('purchase_pending', '{title,coins}', '{"title": "Hoodie", "coins": 120}', 'a purchase waiting for approval'),
    ('notice_purchase_approved', '{title,note}', '{"title": "Hoodie", "note": "ships Monday"}',
     'notice: a purchase approved'),
    ('notice_purchase_declined', '{title,price,note}', '{"title": "Hoodie", "price": 300, "note": "out of sizes"}',
     'notice: a purchase declined and refunded');
