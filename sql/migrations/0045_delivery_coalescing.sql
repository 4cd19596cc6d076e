-- 0045_delivery_coalescing: why: a person's Discord deliveries are claimed
-- together and never while another claim of theirs is live, so that however
-- many rank changes waited, the platform sees one convergence per person; the
-- claim looks a person's pending deliveries up, which without this index read
-- every pending delivery for each one claimed (a 100 000-person threshold
-- change turned quadratic).

CREATE INDEX deliveries_pending_person ON xp.deliveries (user_id, target) WHERE status = 'pending';
