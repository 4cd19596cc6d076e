-- 0020_telegram_reach: why: a Telegram bot may write only to people who
-- opened a private chat with it (/start). The listener wrote to everyone, and
-- Telegram's refusal ("bot can't initiate conversation with a user") muted
-- the person for good. An account now records when its private chat was
-- opened and when Telegram said the person blocked the bot (or deleted their
-- account); a person records the Telegram group of their last counted
-- message; and a setting per chat says whether notices for people who never
-- opened a chat are announced there.

ALTER TABLE xp.accounts
    ADD COLUMN chat_opened_at  timestamptz,
    ADD COLUMN chat_blocked_at timestamptz;
COMMENT ON COLUMN xp.accounts.chat_opened_at IS
    'When the person opened a private chat with the bot (/start, xp.chat_opened); NULL: the bot may not write to them.';
COMMENT ON COLUMN xp.accounts.chat_blocked_at IS
    'When the platform said the person blocked the bot or is deactivated; their notices were turned off then.';

ALTER TABLE xp.users ADD COLUMN last_telegram_group text;
COMMENT ON COLUMN xp.users.last_telegram_group IS
    'The Telegram group of the person''s last counted message (xp.record_message): where they may be told.';

CREATE TABLE xp.chat_settings (
    platform text NOT NULL CHECK (platform IN ('telegram', 'discord')),
    chat_id  text NOT NULL CHECK (length(chat_id) BETWEEN 1 AND 64),
    announce boolean NOT NULL DEFAULT false,
    PRIMARY KEY (platform, chat_id)
);
COMMENT ON TABLE xp.chat_settings IS
    'Operator table: per chat, whether rank-ups and achievements of people the bot may not write to are announced there.';

-- Whoever was sent a notice before has opened their chat.
UPDATE xp.accounts a
   SET chat_opened_at = now()
 WHERE a.platform = 'telegram'
   AND EXISTS (SELECT 1 FROM xp.deliveries d
                WHERE d.user_id = a.user_id AND d.target = 'telegram' AND d.sent_ref IS NOT NULL);

-- The listener muted on every 403. Those whose last refusal was "can't initiate
-- conversation" never chose anything: their notices go back on. The others
-- blocked the bot (or left Telegram): that is recorded as such.
UPDATE xp.users u
   SET notify = true
  FROM (SELECT DISTINCT ON (d.user_id) d.user_id, d.last_error
          FROM xp.deliveries d
         WHERE d.target = 'telegram' AND d.status = 'failed' AND d.last_error LIKE 'telegram 403:%'
         ORDER BY d.user_id, d.finished_at DESC) AS r
 WHERE u.id = r.user_id AND NOT u.notify AND r.last_error LIKE '%can''t initiate conversation%';

UPDATE xp.accounts a
   SET chat_blocked_at = r.finished_at
  FROM (SELECT DISTINCT ON (d.user_id) d.user_id, d.last_error, d.finished_at
          FROM xp.deliveries d
         WHERE d.target = 'telegram' AND d.status = 'failed' AND d.last_error LIKE 'telegram 403:%'
         ORDER BY d.user_id, d.finished_at DESC) AS r,
       xp.users u
 WHERE a.user_id = r.user_id AND a.platform = 'telegram' AND u.id = r.user_id AND NOT u.notify
   AND r.last_error NOT LIKE '%can''t initiate conversation%';
