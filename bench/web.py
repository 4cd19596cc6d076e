"""The website at scale: xp.profile and the board and profile pages over 1 M people.

    python -m bench.web [--people 1000000] [--rows-per-person 3] [--requests 400]

The community is generated with set-based SQL (as bench.scale does; the week,
month and season counters are filled from the ledger in one pass rather than
by declaring the season, which rebuilds them row by row). Printed, as medians
and 99th percentiles over random people and pages:

- `xp.profile` (places on all four boards from the board marks) against what
  it did before the marks: counting everyone ahead of the person on each board,
  on the same data in the same run;
- the time to retake the board marks (`xp.refresh_places`);
- the web's pages through HTTP against a real uvicorn on loopback, logged in
  as xp_web: the board's first page, random deeper pages, a name search, a
  member's profile and their rank card (target: board and profile p99 < 50 ms).
"""

from __future__ import annotations

import argparse
import random
import secrets
import statistics
import time
from collections.abc import Callable

import httpx2
import psycopg

from xpsync.db import as_role
from xpsync.settings import Settings
from xpsync.web.serve import free_port, in_thread

from .common import bench_database, show

LOAD = """
SET session_replication_role = replica;
INSERT INTO xp.users (display_name, rank_floor, rank_ceil)
SELECT 'member ' || g, 0, 255 FROM generate_series(1, %(people)s) g;
INSERT INTO xp.accounts (user_id, platform, external_id, display_name)
SELECT g, 'discord', g::text, 'member ' || g FROM generate_series(1, %(people)s) g;
INSERT INTO xp.ledger (user_id, account_id, platform, source, kind, delta, reason, idempotency_key, created_at)
SELECT 1 + g %% %(people)s, 1 + g %% %(people)s, 'discord', 'award', 'xp', 1 + (g * 7919) %% 60, 'bench', 'web-' || g,
       now() - ((g * 104729) %% (60 * 86400)) * interval '1 second'
  FROM generate_series(0::bigint, %(rows)s - 1) g;
SET session_replication_role = origin;
ALTER TABLE xp.seasons DISABLE TRIGGER seasons_changed;
INSERT INTO xp.seasons (name, starts_on, ends_on)
VALUES ('bench', (now() AT TIME ZONE 'UTC')::date - 30, (now() AT TIME ZONE 'UTC')::date + 30);
ALTER TABLE xp.seasons ENABLE TRIGGER seasons_changed;
WITH p AS (SELECT *, week::timestamp AT TIME ZONE 'UTC' AS w0, month::timestamp AT TIME ZONE 'UTC' AS m0,
                  (SELECT starts_on FROM xp.seasons)::timestamp AT TIME ZONE 'UTC' AS s0 FROM xp._periods()),
     s AS (SELECT l.user_id, sum(l.delta) AS xp,
                  coalesce(sum(l.delta) FILTER (WHERE l.created_at >= (SELECT w0 FROM p)), 0) AS w,
                  coalesce(sum(l.delta) FILTER (WHERE l.created_at >= (SELECT m0 FROM p)), 0) AS m,
                  coalesce(sum(l.delta) FILTER (WHERE l.created_at >= (SELECT s0 FROM p)), 0) AS s
             FROM xp.ledger l GROUP BY l.user_id)
UPDATE xp.users u SET xp = s.xp, week_of = p.week, week_xp = s.w, month_of = p.month, month_xp = s.m,
                      season_id = p.season, season_xp = s.s
  FROM s, p WHERE u.id = s.user_id;
WITH ladder AS (SELECT id, min_xp AS lo, lead(min_xp) OVER (ORDER BY min_xp) AS hi FROM xp.ranks)
UPDATE xp.users u SET rank_id = l.id, rank_floor = l.lo, rank_ceil = l.hi, rewarded_rank = l.id
  FROM ladder l WHERE u.xp >= l.lo AND (l.hi IS NULL OR u.xp < l.hi);
"""

# what xp.profile did for places before the board marks: count everyone ahead on each board
COUNTED_PLACES = """
SELECT 1 + (SELECT count(*) FROM xp.users o WHERE o.xp > u.xp AND o.forgotten_at IS NULL AND NOT o.hidden)
         + (SELECT count(*) FROM xp.users o WHERE o.xp = u.xp AND o.id < u.id
                                             AND o.forgotten_at IS NULL AND NOT o.hidden),
       1 + (SELECT count(*) FROM xp.users o WHERE o.week_of = u.week_of AND o.week_xp > u.week_xp AND o.week_xp > 0
                                             AND o.forgotten_at IS NULL AND NOT o.hidden)
         + (SELECT count(*) FROM xp.users o WHERE o.week_of = u.week_of AND o.week_xp = u.week_xp AND o.week_xp > 0
                                             AND o.id < u.id AND o.forgotten_at IS NULL AND NOT o.hidden),
       1 + (SELECT count(*) FROM xp.users o WHERE o.month_of = u.month_of AND o.month_xp > u.month_xp
                                             AND o.month_xp > 0 AND o.forgotten_at IS NULL AND NOT o.hidden)
         + (SELECT count(*) FROM xp.users o WHERE o.month_of = u.month_of AND o.month_xp = u.month_xp AND o.month_xp > 0
                                             AND o.id < u.id AND o.forgotten_at IS NULL AND NOT o.hidden),
       1 + (SELECT count(*) FROM xp.users o WHERE o.season_id = u.season_id AND o.season_xp > u.season_xp
                                             AND o.season_xp > 0 AND o.forgotten_at IS NULL AND NOT o.hidden)
         + (SELECT count(*) FROM xp.users o WHERE o.season_id = u.season_id AND o.season_xp = u.season_xp
                                             AND o.season_xp > 0 AND o.id < u.id
                                             AND o.forgotten_at IS NULL AND NOT o.hidden)
  FROM xp.users u JOIN xp.accounts a ON a.user_id = u.id WHERE a.platform = 'discord' AND a.external_id = %s
"""


def percentiles(times: list[float]) -> tuple[float, float]:
    """Median and 99th percentile, in milliseconds."""
    ordered = sorted(times)
    return statistics.median(ordered) * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000


def sample(call: Callable[[], object], n: int) -> tuple[float, float]:
    times = []
    for _ in range(n):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return percentiles(times)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.web", description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--rows-per-person", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400, help="requests per page kind")
    args = parser.parse_args(argv)
    rng = random.Random(3)
    figures: dict[str, float] = {}
    with bench_database() as (url, _), psycopg.connect(url, autocommit=True) as conn:
        started = time.monotonic()
        for statement in filter(str.strip, LOAD.split(";\n")):
            conn.execute(statement, {"people": args.people, "rows": args.people * args.rows_per_person}
                         if "%(" in statement else None)
        conn.execute("VACUUM ANALYZE")
        loaded = time.monotonic() - started
        started = time.perf_counter()
        conn.execute("SELECT xp.refresh_places(true)")
        figures["refresh_places_s"] = time.perf_counter() - started
        people = [str(rng.randint(1, args.people)) for _ in range(args.requests)]
        it = iter(people * 3)
        figures["profile_p50_ms"], figures["profile_p99_ms"] = sample(
            lambda: conn.execute("SELECT xp.profile('discord', %s)", (next(it),)).fetchall(), len(people))
        counted = people[:50]  # slow: fewer of them
        it_counted = iter(counted)
        figures["counted_p50_ms"], figures["counted_p99_ms"] = sample(
            lambda: conn.execute(COUNTED_PLACES, (next(it_counted),)).fetchall(), len(counted))
        show(f"web: {args.people} people, {args.people * args.rows_per_person} ledger rows "
             f"(loaded in {loaded:.0f} s)", [
            ("xp.profile (places from board marks)",
             f"p50 {figures['profile_p50_ms']:.2f} ms, p99 {figures['profile_p99_ms']:.2f} ms   (target < 10 ms)"),
            ("places by counting everyone ahead",
             f"p50 {figures['counted_p50_ms']:.1f} ms, p99 {figures['counted_p99_ms']:.1f} ms"),
            ("xp.refresh_places (all four boards)", f"{figures['refresh_places_s']:.2f} s"),
        ])
        uids = [int(p) for p in people]  # person n holds the Discord account n
        port = free_port()
        settings = Settings.from_env({"XPSYNC_WEB_SECRET": secrets.token_hex(16),
                                      "XPSYNC_WEB_BIND": f"127.0.0.1:{port}"})
        with in_thread(settings, as_role(url, "xp_web"), pool_size=4) as site, \
                httpx2.Client(base_url=site, timeout=60) as http:
            def get(path: str) -> None:
                response = http.get(path)
                assert response.status_code == 200, (path, response.status_code)

            pages = {
                "board, first page": lambda: get("/"),
                "board, random page": lambda: get(f"/?page={rng.randint(1, args.people // 50)}"),
                "board, this week": lambda: get(f"/?period=week&page={rng.randint(1, 200)}"),
                "board, name search": lambda: get(f"/?q=member%20{rng.randint(1, args.people)}"),
                "profile": lambda: get(f"/u/{rng.choice(uids)}"),
                "rank card (drawn)": lambda: get(f"/u/{rng.choice(uids)}/card.png"),
            }
            for call in pages.values():  # warm the pool and the caches
                call()
            results = {name: sample(call, args.requests) for name, call in pages.items()}
    for name, (p50, p99) in results.items():
        figures[f"{name} p50_ms"], figures[f"{name} p99_ms"] = p50, p99
    show("pages through HTTP (one client, sequential, keep-alive)", [
        (f"GET {name}", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms" + ("   (target p99 < 50 ms)"
                                                                  if name.startswith(("board", "profile")) else ""))
        for name, (p50, p99) in results.items()])
    return figures


if __name__ == "__main__":
    main()
