-- 0010_bulk_awards: why: an achievement check planned once for a near-empty
-- table (a fresh install, or thousands of awards in one statement such as
-- `SELECT xp.award_xp(...) FROM generate_series(...)`) kept a cached generic
-- plan that scans every person, so each award in the statement cost more than
-- the one before: 3 000 rank-ups in one statement took 12.6 s, 10 000 several
-- minutes. The person's progress is read for one id; planned for that id it
-- is an index lookup whatever the table's size. Large tables already get
-- custom plans (the generic one costs more), so this changes nothing there.

ALTER FUNCTION xp._achieve(bigint, text[]) SET plan_cache_mode = force_custom_plan;
