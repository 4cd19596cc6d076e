-- 0060_inlined_periods: why: xp._periods was a PL/pgSQL function returning one record, called on
-- every award; it becomes a SQL function returning a one-row table, which the planner inlines
-- into the award's UPDATE (no call on the hot path). A return type cannot change in place.

DROP FUNCTION IF EXISTS xp._periods(timestamptz);
