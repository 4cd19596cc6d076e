"""How fast one listener process delivers, how soon after the commit, and how soon a threshold change
converges under the platforms' real limits.

    python -m bench.delivery [--target discord|telegram] [--events 20000] [--rate 500] [--seconds 10]
                             [--people 100000] [--scale 1]

Throughput: the real `xpsync listen TARGET` process against the sandbox in a
process of its own with its rate limits lifted (`--lifted`) and our own pacing
off, so that what is measured is the machine. Printed: deliveries/s draining a
backlog of --events rank-ups, and commit -> platform-call latency p50/p99
while rank-ups are committed at a steady --rate per second (targets 5 ms /
50 ms). Every backlog delivery must end done: the run fails if one is lost.
In the same run, as ratios: the same platform calls made by a bare HTTP
client with nothing else in the way (the machine's limit: target >= 0.8), and
procrastinate and pgqueuer jobs making those calls to the same sandbox from
the same server (`pip install -e '.[bench]'`).

Convergence (bench/convergence.py): a threshold change that moves --people
members of one guild, under the sandbox's realistic limits and the default
pacing, over the least time those limits allow (target <= 1.1), with the 429s
and dead deliveries it caused (targets 0). At the real limits 100 000 people
take 55 hours at the least (2 role edits each, 10 per 10 s per guild):
--scale k runs limits and pacing k times faster, --people 0 skips it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

import psycopg

from xpsync.demo.report import percentile_ms

from . import ceiling, convergence, peers
from .common import bench_database, show

# our own pacing off for the throughput runs, whose sandbox has no rate limits either
PACE_OFF = {"telegram.messages_per_second": "100000", "telegram.chat_interval_seconds": "0",
            "discord.requests_per_second": "0", "discord.member_reads_per_second": "0",
            "discord.role_edits_per_second": "0"}


GUILD = "1"
ROLE = "200000000000000002"  # the guild's role for rank 2, which every backlog rank-up reaches


def start_sandbox() -> tuple[subprocess.Popen, dict[str, str]]:
    proc = subprocess.Popen([sys.executable, "-m", "xpsync.sandbox", "--lifted", "--open-chats",
                             "--open-guild", GUILD], stdout=subprocess.PIPE, text=True)
    env = {}
    for line in proc.stdout:
        if line.strip() == "READY":
            return proc, env
        key, _, value = line.strip().partition("=")
        env[key] = value
    raise RuntimeError("the sandbox did not start")


def stop_sandbox(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(10)
    if proc.stdout is not None:
        proc.stdout.close()


def start_listener(url: str, sandbox_env: dict[str, str], target: str, *, tuned: bool = True,
                   **extra: str) -> subprocess.Popen:
    """`xpsync listen TARGET`; `tuned`: with the throughput runs' batch and concurrency, else the defaults."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "DATABASE_URL": url, **sandbox_env,
           "XPSYNC_LOG_LEVEL": "WARNING", "XPSYNC_POLL_SECONDS": "1"}
    if tuned:
        env |= {"XPSYNC_BATCH_SIZE": str(peers.BATCH), "XPSYNC_CONCURRENCY": str(peers.CONCURRENCY)}
    env |= extra
    return subprocess.Popen([sys.executable, "-m", "xpsync", "listen", target], env=env)


def arrivals(sandbox_env: dict[str, str], target: str) -> dict[str, float]:
    """When each account's first platform call arrived at the sandbox."""
    base = sandbox_env["TELEGRAM_API_BASE"].rsplit("/telegram", 1)[0]
    with urllib.request.urlopen(f"{base}/_sandbox/{target}/arrivals", timeout=30) as response:  # noqa: S310
        return json.load(response)


def rank_ups(conn: psycopg.Connection, target: str, first: int, count: int) -> None:
    """`count` new members each ranking up, in one set-based statement (on Telegram they opened the chat)."""
    if target == "telegram":
        conn.execute("SELECT count(xp.chat_opened('telegram', g::text)) FROM generate_series(%s::bigint, %s::bigint) g",
                     (first, first + count - 1))
    conn.execute("SELECT count(xp.award_xp(%s, g::text, 300, 'bench', 'rank-up-' || g)) "
                 "FROM generate_series(%s::bigint, %s::bigint) g", (target, first, first + count - 1))


def pending(conn: psycopg.Connection) -> bool:
    """Whether a delivery is still pending (cheap: the first one found answers, so that watching costs the
    server, which the listener shares, next to nothing)."""
    return conn.execute("SELECT EXISTS (SELECT FROM xp.deliveries WHERE status = 'pending')").fetchone()[0]


def wait_drained(conn: psycopg.Connection, interval: float = 0.2) -> float:
    """Seconds from now until the last delivery pending was finished, by the server's clock (so that how
    often this looks does not matter)."""
    started = conn.execute("SELECT clock_timestamp()").fetchone()[0]
    while pending(conn):
        time.sleep(interval)
    last = conn.execute("SELECT max(finished_at) FROM xp.deliveries").fetchone()[0]
    return max(0.0, (last - started).total_seconds())


def done(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM xp.deliveries WHERE status = 'done'").fetchone()[0]


def ready(conn: psycopg.Connection, target: str, probe: int) -> None:
    """Wait until the listener has delivered a probe: it is up, logged in and listening."""
    rank_ups(conn, target, probe, 1)
    while pending(conn):
        time.sleep(0.02)


def throughput(conn: psycopg.Connection, url: str, sandbox_env: dict[str, str], target: str, events: int) -> float:
    listener = start_listener(url, sandbox_env, target)
    try:
        ready(conn, target, 900_000)
        rank_ups(conn, target, 1_000_000, events)  # one commit: the whole backlog at once
        took = wait_drained(conn)
    finally:
        listener.terminate()
        listener.wait(30)
    delivered = done(conn) - 1  # less the probe
    if delivered != events:
        raise SystemExit(f"LOST DELIVERIES: {delivered} of {events} done")
    return events / took


def latency(conn: psycopg.Connection, url: str, sandbox_env: dict[str, str], target: str, rate: int,
            seconds: float) -> list[float]:
    listener = start_listener(url, sandbox_env, target)
    committed: dict[str, float] = {}
    try:
        ready(conn, target, 910_000)
        first = 2_000_000
        started = time.monotonic()
        for n in range(int(rate * seconds)):
            due = started + n / rate
            if (wait := due - time.monotonic()) > 0:
                time.sleep(wait)
            conn.execute("SELECT xp.award_xp(%s, %s, 300, 'bench', %s)", (target, str(first + n), f"steady-{n}"))
            committed[str(first + n)] = time.time()
        wait_drained(conn)
    finally:
        listener.terminate()
        listener.wait(30)
    arrived = arrivals(sandbox_env, target)
    return sorted(arrived[c] - committed[c] for c in committed if c in arrived)


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("discord", "telegram"), default="discord")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--people", type=int, default=100_000, help="moved by the threshold change (0: skip it)")
    parser.add_argument("--scale", type=float, default=1.0, help="limits and pacing this many times faster")
    args = parser.parse_args(argv)
    if args.people:
        minimum, binding = convergence.minimum_seconds(convergence.scaled(convergence.Limits(), args.scale),
                                                       args.people)
        print(f"threshold change of {args.people} people: at least {minimum:.0f}s ({binding})", flush=True)
        with bench_database() as (url, _), psycopg.connect(url, autocommit=True) as conn:
            moved = convergence.measure(url, conn, lambda env: start_listener(url, env, "discord", tuned=False),
                                        args.people, args.scale)
    sandbox, sandbox_env = start_sandbox()
    try:
        with bench_database() as (url, _), psycopg.connect(url, autocommit=True) as conn:
            for key, value in PACE_OFF.items():
                conn.execute("UPDATE xp.settings SET value = %s WHERE key = %s", (value, key))
            conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s)", (GUILD, ROLE))
            # the machine's limit just before and just after the listener's drain (the load of a shared
            # machine drifts): the listener is compared with their mean
            limits = [ceiling.platform_calls_per_second(args.target, sandbox_env, (GUILD, ROLE), args.events,
                                                        peers.CONCURRENCY)]
            rate = throughput(conn, url, sandbox_env, args.target, args.events)
            limits.append(ceiling.platform_calls_per_second(args.target, sandbox_env, (GUILD, ROLE), args.events,
                                                            peers.CONCURRENCY, first=ceiling.FIRST_ACCOUNT
                                                            + 3 * args.events))
            limit = sum(limits) / 2
            lat = latency(conn, url, sandbox_env, args.target, args.rate, args.seconds)
            peer_rates = peers.drain_rates(url, args.events, peers.Work(args.target, sandbox_env, (GUILD, ROLE),
                                                                        ceiling.FIRST_ACCOUNT + 4 * args.events))
    finally:
        stop_sandbox(sandbox)
    p50, p99 = percentile_ms(lat, 0.5), percentile_ms(lat, 0.99)
    rows = [
        ("backlog drained", f"{args.events} deliveries at {rate:.0f}/s, none lost   (limits lifted)"),
        (f"commit -> call at {args.rate}/s", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms over {len(lat)} rank-ups   "
                                             "(targets 5 ms / 50 ms)"),
        ("bare HTTP client", f"{limit:.0f}/s (before {limits[0]:.0f}/s, after {limits[1]:.0f}/s): the listener "
                             f"drains at {rate / limit:.2f} of it   (target >= 0.8)"),
        *((f"{name} jobs, same calls", f"{peer:.0f}/s: the listener drains at {rate / peer:.2f}x {name}")
          for name, peer in peer_rates.items()),
    ]
    figures = {"drain_per_second": rate, "p50_ms": p50, "p99_ms": p99, "samples": len(lat),
               "platform_calls_per_second": limit, **{f"{name}_per_second": r for name, r in peer_rates.items()}}
    if args.people:
        scale = f", limits x{args.scale:g}" if args.scale != 1 else ""
        rows += [
            (f"threshold change, {moved.people} people{scale}",
             f"{moved.seconds:.1f}s against at least {moved.minimum:.1f}s ({moved.binding}): "
             f"{moved.ratio:.3f}x   (target <= 1.1)"),
            ("  429s answered, dead", f"{moved.too_many_requests}, {moved.dead}   (targets 0, 0)"),
            ("  calls per person", f"at most {moved.most_reads} member read(s), {moved.most_edits} role edits; "
                                   f"{moved.reads} reads and {moved.edits} edits in all"),
            ("  where the time went", f"first edit {moved.first_edit:.1f}s after the commit; role edits unused "
                                      f"for {moved.idle:.1f}s beyond the limit's own spacing"),
        ]
        figures |= {"converge_seconds": moved.seconds, "converge_minimum_seconds": moved.minimum,
                    "converge_ratio": moved.ratio, "converge_429s": moved.too_many_requests,
                    "converge_dead": moved.dead, "converge_most_edits": moved.most_edits}
    show(f"delivery, one `xpsync listen {args.target}` process against the sandbox", rows)
    return figures


if __name__ == "__main__":
    main()
