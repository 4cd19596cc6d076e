-- 0012_reconcile_log: why: a reconcile fixed balances, ranks, boards and
-- achievements and left no trace but its output, which a timer's journal
-- keeps for a while at best. Every finding of a real run (what was expected,
-- what was found, whether it was fixed, and why not) is now kept here, with
-- who ran it and when: the DBA's audit of what reconcile changed.

CREATE TABLE xp.reconcile_log (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- the run's transaction time: the findings of one run share it
    run_at     timestamptz NOT NULL DEFAULT now(),
    run_by     text NOT NULL DEFAULT session_user,
    user_id    bigint,
    check_name text NOT NULL,
    expected   text,
    actual     text,
    fixed      boolean NOT NULL,
    error      text
);
COMMENT ON TABLE xp.reconcile_log IS
    'Every finding of every reconcile that was not a dry run: what was expected and found, whether it was fixed, and why not.';
CREATE INDEX reconcile_log_time ON xp.reconcile_log USING brin (run_at);
CREATE INDEX reconcile_log_user ON xp.reconcile_log (user_id);
