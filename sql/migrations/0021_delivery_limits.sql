-- 0021_delivery_limits: why: each listener paced only itself, so several
-- instances together went past the platforms' limits and kept claims past
-- their leases (the same message sent again by another instance); a guild
-- that refused (the bot's role below the rank roles, a deleted role) failed
-- the delivery for every other guild too and was asked again for every
-- person. Pacing is now shared through the database (a slot per limit, taken
-- by whichever instance sends next); each guild's refusals are counted, and a
-- guild that keeps refusing is paused until an operator resumes it.

CREATE TABLE xp.pace (
    key          text PRIMARY KEY,
    next_at      timestamptz NOT NULL,
    -- a 429's pause: no call under this limit before then, slots taken earlier included
    paused_until timestamptz
);
COMMENT ON TABLE xp.pace IS
    'Shared send pacing: per limit (a platform, a guild''s bucket, a chat), when its next call may go (xp.reserve_slot).';

CREATE TABLE xp.guild_health (
    guild_id        text PRIMARY KEY,
    refusals        int NOT NULL DEFAULT 0,
    window_start    timestamptz NOT NULL DEFAULT now(),
    last_refusal    text,
    last_refusal_at timestamptz,
    paused_at       timestamptz,
    paused_reason   text
);
COMMENT ON TABLE xp.guild_health IS
    'Per Discord guild: refusals counted in a window, the last one, and whether the guild is paused (xp.resume_guild).';

INSERT INTO xp.settings (key, value, description) VALUES
    ('discord.requests_per_second', '40', 'Discord listeners together: requests a second at most (Discord allows a bot 50 in all, the bot included)'),
    ('discord.member_reads_per_second', '4.5', 'Discord listeners together: member reads a second per guild (Discord: 5 a second)'),
    ('discord.role_edits_per_second', '0.9', 'Discord listeners together: role changes a second per guild (Discord: 10 per 10 s)'),
    ('discord.guild_pause_after', '10', 'refusals (403, missing role) from one guild within the window that pause it'),
    ('discord.guild_refusal_window_minutes', '10', 'the window in which a guild''s refusals are counted'),
    ('telegram.group_messages_per_minute', '20', 'Telegram listeners together: messages a minute per group chat');

-- the return types change (a guild's pause, who may be written to and where), and the ack takes notes
DROP FUNCTION IF EXISTS xp.discord_role_plan(bigint);
DROP FUNCTION IF EXISTS xp.telegram_recipient(bigint);
DROP FUNCTION IF EXISTS xp.ack_deliveries(text, bigint[], int[], text[]);
