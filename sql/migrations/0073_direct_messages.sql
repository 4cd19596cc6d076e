-- 0073_direct_messages: why: a member who submitted a quest or bought an item on
-- Discord is told of its review there, by direct message; the Discord listeners
-- together send at most this many messages a second to one member (Discord: 5
-- per 5 s per channel).

INSERT INTO xp.settings (key, value, description, rule) VALUES
    ('discord.messages_per_second', '0.9',
     'Discord listeners together: direct messages a second to one member (Discord: 5 per 5 s per channel)',
     '{"type": "number", "min": 0, "max": 100000}')
ON CONFLICT (key) DO NOTHING;
