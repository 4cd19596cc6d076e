-- 0074_pace_rules: why: the shared pace's settings came after settings got
-- their rules, and had none: the panel took any JSON for them (a string, a
-- negative rate) and the listeners fell back to their defaults in silence.
-- 0 lifts a rate (benchmarks, a local Bot API server), so 0 is allowed (it was
-- refused for telegram.messages_per_second, although documented); a guild is paused after at least one refusal, counted over a minute or
-- more.

UPDATE xp.settings s SET rule = r.rule::jsonb
  FROM (VALUES
    ('discord.requests_per_second', '{"type": "number", "min": 0, "max": 100000}'),
    ('discord.member_reads_per_second', '{"type": "number", "min": 0, "max": 100000}'),
    ('discord.role_edits_per_second', '{"type": "number", "min": 0, "max": 100000}'),
    ('discord.guild_pause_after', '{"type": "integer", "min": 1, "max": 1000000}'),
    ('discord.guild_refusal_window_minutes', '{"type": "integer", "min": 1, "max": 10080}'),
    ('telegram.messages_per_second', '{"type": "number", "min": 0, "max": 100000}'),
    ('telegram.group_messages_per_minute', '{"type": "number", "min": 0, "max": 100000}')
  ) AS r (key, rule)
 WHERE s.key = r.key;
