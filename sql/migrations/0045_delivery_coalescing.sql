-- 0045_delivery_coalescing: why: a mass change (a threshold moved, a resync)
-- wasted calls under Discord's limits and left some of them unused. A person's
-- Discord deliveries are now claimed together and never while another claim
-- of theirs is live, so that however many rank changes waited, the platform
-- sees one convergence per person; the claim looks a person's pending
-- deliveries up, which without this index read every pending delivery for
-- each one claimed (a 100 000-person threshold change turned quadratic).

CREATE INDEX deliveries_pending_person ON xp.deliveries (user_id, target) WHERE status = 'pending';

-- A pace of 0.9 role edits a second per guild left a tenth of Discord's 10 per
-- 10 s unused, so a mass change took 1.11 times what the limit allows. Our
-- calls are spaced by the gap (never a burst), and a window of Discord's
-- holds 10 calls spaced a second apart, so 0.95 a second keeps a half-second
-- margin in every window for late arrivals and converges in 1.05 times the
-- least. Changed only where the operator kept the old default.
UPDATE xp.settings
   SET value = '0.95',
       description = 'Discord listeners together: role changes a second per guild (Discord: 10 per 10 s; our calls go one per gap, so 0.95 keeps half a second of every window spare)'
 WHERE key = 'discord.role_edits_per_second' AND value = '0.9';
