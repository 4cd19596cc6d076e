"""A big community: reconcile, leaderboards and profiles over 1 M people and 10 M ledger rows.

    python -m bench.scale [--people 1000000] [--rows-per-person 10] [--deliveries 100000]

The data is generated with set-based SQL (foreign-key triggers off while
loading, as a bulk restore would), spread over the last 60 days so that the
weekly board has a real window. Printed: reconcile_all time (target < 60 s),
leaderboard top 10 all-time (target < 5 ms) and weekly (target < 50 ms),
profile lookup, and --deliveries pending deliveries drained by one listener
process with zero loss.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

import psycopg

from .common import bench_database, show
from .delivery import GUILD, ROLE, done, start_listener, start_sandbox, stop_sandbox, wait_drained

LOAD = """
-- bulk load: no FK checks per row
SET session_replication_role = replica;
INSERT INTO xp.users (display_name, rank_floor, rank_ceil)
SELECT 'person ' || g, 0, 255 FROM generate_series(1, %(people)s) g;
INSERT INTO xp.accounts (user_id, platform, external_id)
SELECT g, 'discord', g::text FROM generate_series(1, %(people)s) g;
INSERT INTO xp.ledger (user_id, account_id, platform, source, kind, delta, reason, idempotency_key, created_at)
SELECT 1 + g %% %(people)s, 1 + g %% %(people)s, 'discord', 'award', 'xp', 1 + (g * 7919) %% 60, 'bench', 'scale-' || g,
       now() - ((g * 104729) %% (60 * 86400)) * interval '1 second'
  FROM generate_series(0::bigint, %(rows)s - 1) g;
SET session_replication_role = origin;
UPDATE xp.users u SET xp = s.xp FROM (SELECT user_id, sum(delta) AS xp FROM xp.ledger GROUP BY 1) s
 WHERE u.id = s.user_id;
WITH ladder AS (SELECT id, min_xp AS lo, lead(min_xp) OVER (ORDER BY min_xp) AS hi FROM xp.ranks)
UPDATE xp.users u SET rank_id = l.id, rank_floor = l.lo, rank_ceil = l.hi, rewarded_rank = l.id
  FROM ladder l WHERE u.xp >= l.lo AND (l.hi IS NULL OR u.xp < l.hi);
-- a season over the last 30 days: declaring it rebuilds every week/month/season counter from the ledger
INSERT INTO xp.seasons (name, starts_on, ends_on)
VALUES ('bench', (now() AT TIME ZONE 'UTC')::date - 30, (now() AT TIME ZONE 'UTC')::date + 30);
SELECT count(xp._achieve(m.uid)) FROM xp._missing_achievements(NULL) m;
"""


def timed(conn: psycopg.Connection, query: str, params: tuple = (), repeat: int = 1) -> float:
    """Median seconds of `repeat` runs."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        conn.execute(query, params).fetchall()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def drain(url: str, conn: psycopg.Connection, deliveries: int) -> tuple[float, int]:
    """Queue `deliveries` role resyncs at once; one listener drains them; return (rate, done)."""
    conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s)", (GUILD, ROLE))  # queues resyncs...
    conn.execute("DELETE FROM xp.deliveries")  # ...which this benchmark replaces by its own count
    conn.execute("DELETE FROM xp.events")
    sandbox, sandbox_env = start_sandbox()
    listener = start_listener(url, sandbox_env, "discord")
    try:
        conn.execute("SELECT xp._queue_resync((SELECT array_agg(g) FROM generate_series(1, %s) g), 'bench')",
                     (deliveries,))
        took = wait_drained(conn, interval=0.1)
    finally:
        listener.terminate()
        listener.wait(30)
        stop_sandbox(sandbox)
    return deliveries / took, done(conn)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--rows-per-person", type=int, default=10)
    parser.add_argument("--deliveries", type=int, default=100_000)
    args = parser.parse_args(argv)
    rows = args.people * args.rows_per_person
    with bench_database() as (url, _), psycopg.connect(url, autocommit=True) as conn:
        started = time.monotonic()
        for statement in filter(str.strip, LOAD.split(";\n")):
            conn.execute(statement, {"people": args.people, "rows": rows} if "%(" in statement else None)
        conn.execute("VACUUM ANALYZE")
        loaded = time.monotonic() - started
        reconcile = timed(conn, "SELECT * FROM xp.reconcile_all(true)")
        drift = len(conn.execute("SELECT * FROM xp.reconcile_all(true)").fetchall())
        top_all = timed(conn, "SELECT * FROM xp.leaderboard(10)", repeat=20)
        top_week = timed(conn, "SELECT * FROM xp.leaderboard(10, 'week')", repeat=5)
        top_month = timed(conn, "SELECT * FROM xp.leaderboard(10, 'month')", repeat=5)
        top_season = timed(conn, "SELECT * FROM xp.leaderboard(10, 'season')", repeat=5)
        rng = random.Random(1)
        profile = statistics.median(
            timed(conn, "SELECT xp.profile('discord', %s)", (str(rng.randint(1, args.people)),)) for _ in range(50))
        rate, done = drain(url, conn, min(args.deliveries, args.people))
    figures = {"reconcile_s": reconcile, "top_all_ms": top_all * 1000, "top_week_ms": top_week * 1000,
               "top_month_ms": top_month * 1000, "top_season_ms": top_season * 1000, "profile_ms": profile * 1000,
               "drain_per_second": rate}
    show(f"scale: {args.people} people, {rows} ledger rows (loaded in {loaded:.0f} s)", [
        ("reconcile_all", f"{reconcile:.1f} s, {drift} finding(s)   (target < 60 s)"),
        ("leaderboard top 10, all time", f"{top_all * 1000:.2f} ms   (target < 5 ms)"),
        ("leaderboard top 10, this week", f"{top_week * 1000:.2f} ms   (target < 50 ms)"),
        ("leaderboard top 10, this month", f"{top_month * 1000:.2f} ms"),
        ("leaderboard top 10, this season", f"{top_season * 1000:.2f} ms"),
        ("profile (with place on the board)", f"{profile * 1000:.1f} ms median of 50 random people"),
        ("pending deliveries drained", f"{done} of {min(args.deliveries, args.people)} done at {rate:.0f}/s"
                                       + ("" if done == min(args.deliveries, args.people) else "  LOST DELIVERIES")),
    ])
    if drift or done != min(args.deliveries, args.people):
        raise SystemExit(1)
    return figures


if __name__ == "__main__":
    main()
