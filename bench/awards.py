"""xp.award_xp against the bare procedure design.md §12 names, on the same server with the same clients.

    python -m bench.awards [--clients 16] [--seconds 8] [--rounds 2] [--people 20000]

pgbench drives both (a C client, so that the client is not what is measured).
Printed: both rates and their ratio (target >= 0.85), the same with one hot
person (every client on one row), and a bare procedure that also NOTIFYs on
every commit, to show what a NOTIFY per award would cost.
"""

from __future__ import annotations

import argparse

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
}


def script(call: str, people: int, hot: bool) -> str:
    uid = "\\set uid 1" if hot else f"\\set uid random(1, {people})"
    return f"{uid}\n\\set k random(1, 9000000000000000000)\n{call}\n"


def prepare(url: str, people: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(BARE)
        conn.execute(  # person n has the Discord account 'n', so both paths touch the same rows
            "SELECT count(xp.award_xp('discord', g::text, 1, 'seed', 'seed-' || g)) FROM generate_series(1, %s) g",
            (people,))
        conn.execute("VACUUM ANALYZE xp.users, xp.accounts, xp.ledger")


def measure(server, url: str, *, clients: int, seconds: float, rounds: int, people: int, hot: bool) -> dict:
    rates: dict[str, list[float]] = {name: [] for name in SCRIPTS}
    for _ in range(rounds):  # interleaved, so that drift in the machine hits every variant alike
        for name, call in SCRIPTS.items():
            rates[name].append(pgbench(server, url, script(call, people, hot), clients=clients, seconds=seconds))
    return {name: median(values) for name, values in rates.items()}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.awards", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--people", type=int, default=20_000)
    args = parser.parse_args(argv)
    figures = {}
    with bench_database() as (url, server):
        prepare(url, args.people)
        for hot in (False, True):
            r = measure(server, url, clients=args.clients, seconds=args.seconds, rounds=args.rounds,
                        people=args.people, hot=hot)
            label = "one hot person" if hot else f"{args.people} people"
            show(f"awards, {args.clients} clients, {label} (median of {args.rounds} runs of {args.seconds:g}s)", [
                ("bare procedure", f"{r['bare']:.0f}/s"),
                ("xp.award_xp", f"{r['award_xp']:.0f}/s"),
                ("ratio award_xp / bare", f"{r['award_xp'] / r['bare']:.2f}   (target >= 0.85)"),
                ("bare + NOTIFY per commit", f"{r['bare+notify']:.0f}/s = {r['bare+notify'] / r['bare']:.2f} of bare"),
            ])
            figures.update({f"{'hot' if hot else 'spread'}_{k}": v for k, v in r.items()})
    return figures


if __name__ == "__main__":
    main()
