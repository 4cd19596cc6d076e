"""xp.award_xp against the bare procedure design.md §12 names, on the same server with the same clients.

    python -m bench.awards [--clients 16] [--seconds 8] [--rounds 2] [--people 20000] [--batch 50]
                           [--server-bin /usr/lib/postgresql/15/bin]

pgbench drives every variant (a C client, so that the client is not what is measured), twice
over: with durable commits (`synchronous_commit = on`, as operators run it; target >= 0.85) and
with `synchronous_commit = off`, which measures the functions' own work (target >= 0.75).
Printed for each: both rates and their ratio, the same with one hot person (every client on one
row), a bare procedure that also NOTIFYs on every commit (what a NOTIFY per award would cost),
and xp.award_many with `--batch` awards per call, as awards a second against the bare
single-call rate (target >= 3 with durable commits). `--server-bin` runs all of it on the
PostgreSQL whose programs are there (Debian's 15) instead of the embedded 18.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import psycopg

from .common import bench_database, median, pgbench, show

BARE = """
CREATE SCHEMA IF NOT EXISTS bench;
-- only what design.md §12 names: insert a ledger row, update a balance
CREATE OR REPLACE FUNCTION bench.bare(p_uid bigint, p_amount int, p_key text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
    INSERT INTO xp.ledger (user_id, source, kind, delta, reason, idempotency_key)
    VALUES (p_uid, 'award', 'xp', p_amount, 'bench', p_key);
    UPDATE xp.users SET xp = xp + p_amount WHERE id = p_uid RETURNING xp INTO v;
    RETURN v;
END $$;
CREATE OR REPLACE FUNCTION bench.bare_notify(p_uid bigint, p_amount int, p_key text) RETURNS bigint
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('bench', '');
    RETURN bench.bare(p_uid, p_amount, p_key);
END $$;
"""

# 1 XP per call: thresholds are crossed rarely, as with real traffic
SCRIPTS = {
    "bare": "SELECT bench.bare(:uid, 1, 'b' || :k);",
    "award_xp": "SELECT * FROM xp.award_xp('discord', (:uid)::text, 1, 'bench', 'a' || :k);",
    "bare+notify": "SELECT bench.bare_notify(:uid, 1, 'n' || :k);",
    # a bot's tick of awards in one call: distinct random people (one hot person: all on one)
    "award_many": "SELECT count(*) FROM xp.award_many((SELECT jsonb_agg(jsonb_build_object("
                  "'platform', 'discord', 'external_id', {who}, 'amount', 1, 'reason', 'bench', "
                  "'idempotency_key', 'm' || :k || '-' || g)) FROM generate_series(1, {batch}) g));",
}
COMMITS = {"durable commits": "", "synchronous_commit = off": "-c synchronous_commit=off"}


def script(call: str, people: int, hot: bool, batch: int) -> str:
    uid = "\\set uid 1" if hot else f"\\set uid random(1, {people})"
    who = "'1'" if hot else f"(1 + floor(random() * {people}))::int::text"
    return f"{uid}\n\\set k random(1, 9000000000000000000)\n{call.format(who=who, batch=batch)}\n"


def prepare(url: str, people: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(BARE)
        conn.execute(  # person n has the Discord account 'n', so both paths touch the same rows
            "SELECT count(xp.award_xp('discord', g::text, 1, 'seed', 'seed-' || g)) FROM generate_series(1, %s) g",
            (people,))
        conn.execute("VACUUM ANALYZE xp.users, xp.accounts, xp.ledger")


def measure(server, url: str, *, clients: int, seconds: float, rounds: int, people: int, hot: bool, batch: int,
            options: str, names: list[str]) -> dict:
    rates: dict[str, list[float]] = {name: [] for name in names}
    for _ in range(rounds):  # interleaved, so that drift in the machine hits every variant alike
        for name in names:
            call = SCRIPTS[name]
            tps = pgbench(server, url, script(call, people, hot, batch), clients=clients, seconds=seconds,
                          options=options)
            rates[name].append(tps * (batch if name == "award_many" else 1))  # awards a second
    return {name: median(values) for name, values in rates.items()}


def rows(r: dict[str, float], *, batch: int, target: float, durable: bool) -> list[tuple[str, str]]:
    shown = [
        ("bare procedure", f"{r['bare']:.0f}/s"),
        ("xp.award_xp", f"{r['award_xp']:.0f}/s"),
        ("ratio award_xp / bare", f"{r['award_xp'] / r['bare']:.2f}   (target >= {target})"),
        ("bare + NOTIFY per commit", f"{r['bare+notify']:.0f}/s = {r['bare+notify'] / r['bare']:.2f} of bare"),
    ]
    if "award_many" in r:
        shown.append((f"xp.award_many, {batch} a call", f"{r['award_many']:.0f} awards/s = "
                       f"{r['award_many'] / r['bare']:.2f}x bare" + ("   (target >= 3)" if durable else "")))
    return shown


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.awards", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=50, help="awards per xp.award_many call")
    parser.add_argument("--server-bin", type=Path, default=None,
                        help="run on the PostgreSQL whose programs are here (e.g. /usr/lib/postgresql/15/bin)")
    args = parser.parse_args(argv)
    figures = {}
    with bench_database(durable=True, server_bin=args.server_bin) as (url, server):
        with psycopg.connect(url) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
            # a schema from before the batch entry point (a comparison of releases) runs without it
            names = [n for n in SCRIPTS if n != "award_many"
                     or conn.execute("SELECT to_regproc('xp.award_many') IS NOT NULL").fetchone()[0]]
        prepare(url, args.people)
        for commit, options in COMMITS.items():
            target = 0.85 if commit == "durable commits" else 0.75
            for hot in (False, True):
                r = measure(server, url, clients=args.clients, seconds=args.seconds, rounds=args.rounds,
                            people=args.people, hot=hot, batch=args.batch, options=options,
                            names=names)
                label = "one hot person" if hot else f"{args.people} people"
                show(f"awards on PostgreSQL {version}, {commit}, {args.clients} clients, {label} "
                     f"(median of {args.rounds} runs of {args.seconds:g}s)",
                     rows(r, batch=args.batch, target=target, durable=commit == "durable commits"))
                prefix = ("" if commit == "durable commits" else "off_") + ("hot" if hot else "spread")
                figures.update({f"{prefix}_{k}": v for k, v in r.items()})
    return figures


if __name__ == "__main__":
    main()
