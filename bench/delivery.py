"""How fast one listener process delivers, and how soon after the commit, with the limits lifted and on.

    python -m bench.delivery [--target discord|telegram] [--events 20000] [--rate 500] [--seconds 10]
                             [--limited-events N]

The real `xpsync listen TARGET` process against the sandbox in a process of
its own (no latency injected), twice:

- limits lifted (the sandbox's `Limits.lifted()`, the listener's pacing set to
  0): deliveries/s draining a backlog of --events rank-ups (target >= 2 000/s),
  and commit -> platform-call latency p50/p99 while rank-ups are committed at a
  steady --rate per second (targets 5 ms / 50 ms). These figures measure the
  machinery only: no real platform lets a bot go that fast;
- limits on (the sandbox answers as the platforms do, the listener paces as
  shipped): deliveries/s draining --limited-events rank-ups in one guild or to
  distinct private chats, against what the platform allows, and how many
  answers were 429s (none is the aim: waits are taken before calling).

Every backlog delivery must end done: the run fails if one is lost.

In the same run, as ratios: the same platform calls made by a bare HTTP client
with nothing else in the way (the machine's limit), and procrastinate and
pgqueuer draining --events no-op jobs from the same server (`pip install -e
'.[bench]'`).
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

from . import ceiling, peers
from .common import bench_database, show

# the listener's shared pacing lifted (0 lifts a limit; Telegram's overall rate may not be 0, so it is
# set beyond anything reached), for the run against the lifted sandbox
PACE_OFF = {**{key: "0" for key in ("discord.requests_per_second", "discord.member_reads_per_second",
                                     "discord.role_edits_per_second", "telegram.chat_interval_seconds",
                                     "telegram.group_messages_per_minute")},
            "telegram.messages_per_second": "100000"}
# what each platform allows, for a backlog of rank-ups as the limited run sends it
ALLOWED = {"discord": (1.0, "10 role edits per 10 s in a guild"),
           "telegram": (30.0, "30 messages a second in all, 1 a second per chat")}
LIMITED_EVENTS = {"discord": 40, "telegram": 300}


GUILD = "1"
ROLE = "200000000000000002"  # the guild's role for rank 2, which every backlog rank-up reaches


def start_sandbox(*, lifted: bool) -> tuple[subprocess.Popen, dict[str, str]]:
    """The sandbox in a process of its own; every private chat counts as opened with /start."""
    proc = subprocess.Popen([sys.executable, "-m", "xpsync.sandbox", "--open-guild", GUILD, "--open-chats",
                             *(["--lifted"] if lifted else [])], stdout=subprocess.PIPE, text=True)
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


def start_listener(url: str, sandbox_env: dict[str, str], target: str) -> subprocess.Popen:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "DATABASE_URL": url, **sandbox_env,
           "XPSYNC_LOG_LEVEL": "WARNING", "XPSYNC_BATCH_SIZE": str(peers.BATCH),
           "XPSYNC_CONCURRENCY": str(peers.CONCURRENCY),
           "XPSYNC_POLL_SECONDS": "1"}
    return subprocess.Popen([sys.executable, "-m", "xpsync", "listen", target], env=env)


def control(sandbox_env: dict[str, str], target: str, what: str) -> dict[str, float]:
    """The sandbox's control endpoint: `arrivals` (when each account's first platform call arrived) or
    `answers` (how many answers of each HTTP status)."""
    base = sandbox_env["TELEGRAM_API_BASE"].rsplit("/telegram", 1)[0]
    with urllib.request.urlopen(f"{base}/_sandbox/{target}/{what}", timeout=30) as response:  # noqa: S310
        return json.load(response)


def opened(conn: psycopg.Connection, target: str, first: int, count: int) -> None:
    """On Telegram, these members opened a private chat with the bot (pressed Start): it may write to them."""
    if target == "telegram":
        conn.execute("SELECT count(xp.chat_opened('telegram', g::text)) FROM generate_series(%s::bigint, %s::bigint) g",
                     (first, first + count - 1))


def rank_ups(conn: psycopg.Connection, target: str, first: int, count: int) -> None:
    """`count` new members each ranking up, in one set-based statement."""
    opened(conn, target, first, count)
    conn.execute("SELECT count(xp.award_xp(%s, g::text, 300, 'bench', 'rank-up-' || g)) "
                 "FROM generate_series(%s::bigint, %s::bigint) g", (target, first, first + count - 1))


def pending(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM xp.deliveries WHERE status = 'pending'").fetchone()[0]


def wait_drained(conn: psycopg.Connection, interval: float = 0.02) -> float:
    """Seconds until no delivery is pending any more."""
    started = time.monotonic()
    while pending(conn):
        time.sleep(interval)
    return time.monotonic() - started


def done(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT count(*) FROM xp.deliveries WHERE status = 'done'").fetchone()[0]


def ready(conn: psycopg.Connection, target: str, probe: int) -> None:
    """Wait until the listener has delivered a probe: it is up, logged in and listening."""
    rank_ups(conn, target, probe, 1)
    wait_drained(conn)


def throughput(conn: psycopg.Connection, url: str, sandbox_env: dict[str, str], target: str, events: int,
               first: int = 1_000_000) -> float:
    listener = start_listener(url, sandbox_env, target)
    before = done(conn)
    try:
        ready(conn, target, first - 100_000)
        rank_ups(conn, target, first, events)  # one commit: the whole backlog at once
        took = wait_drained(conn)
    finally:
        listener.terminate()
        listener.wait(30)
    delivered = done(conn) - before - 1  # less the probe
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
        opened(conn, target, first, int(rate * seconds))
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
    arrived = control(sandbox_env, target, "arrivals")
    return sorted(arrived[c] - committed[c] for c in committed if c in arrived)


def settings(conn: psycopg.Connection, values: dict[str, str]) -> dict[str, str]:
    """Set these settings; returns what they were."""
    was = {k: v for k, v in conn.execute("SELECT key, value::text FROM xp.settings WHERE key = ANY(%s)",
                                         (list(values),)).fetchall()}
    for key, value in values.items():
        conn.execute("UPDATE xp.settings SET value = %s WHERE key = %s", (value, key))
    return was


def lifted_run(conn: psycopg.Connection, url: str, args: argparse.Namespace) -> dict[str, float]:
    sandbox, sandbox_env = start_sandbox(lifted=True)
    shipped = settings(conn, PACE_OFF)
    try:
        rate = throughput(conn, url, sandbox_env, args.target, args.events)
        lat = latency(conn, url, sandbox_env, args.target, args.rate, args.seconds)
        limit = ceiling.platform_calls_per_second(args.target, sandbox_env, (GUILD, ROLE), args.events,
                                                  peers.CONCURRENCY)
    finally:
        settings(conn, shipped)
        stop_sandbox(sandbox)
    return {"drain_per_second": rate, "p50_ms": percentile_ms(lat, 0.5), "p99_ms": percentile_ms(lat, 0.99),
            "samples": len(lat), "platform_calls_per_second": limit}


def limited_run(conn: psycopg.Connection, url: str, args: argparse.Namespace) -> dict[str, float]:
    sandbox, sandbox_env = start_sandbox(lifted=False)
    try:
        rate = throughput(conn, url, sandbox_env, args.target, args.limited_events, first=3_000_000)
        answers = control(sandbox_env, args.target, "answers")
    finally:
        stop_sandbox(sandbox)
    return {"limited_drain_per_second": rate, "limited_429s": answers.get("429", 0),
            "limited_calls": sum(answers.values())}


def main(argv: list[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(prog="python -m bench.delivery", description=__doc__.splitlines()[0])
    parser.add_argument("--target", choices=("discord", "telegram"), default="discord")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--limited-events", type=int, default=None,
                        help="the backlog drained under the platforms' limits (Discord 40, Telegram 300)")
    args = parser.parse_args(argv)
    args.limited_events = args.limited_events or LIMITED_EVENTS[args.target]
    with bench_database() as (url, _), psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s)", (GUILD, ROLE))
        figures = lifted_run(conn, url, args)
        figures |= limited_run(conn, url, args)
        peer_rates = peers.drain_rates(url, args.events)
    rate, limit, p50, p99 = (figures[k] for k in ("drain_per_second", "platform_calls_per_second", "p50_ms",
                                                    "p99_ms"))
    allowed, words = ALLOWED[args.target]
    limited = figures["limited_drain_per_second"]
    show(f"delivery, one `xpsync listen {args.target}` process against the sandbox process", [
        ("limits lifted", "the machinery alone (no platform allows this)"),
        ("backlog drained", f"{args.events} deliveries at {rate:.0f}/s   (target >= 2000/s), none lost"),
        (f"commit -> call at {args.rate}/s", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms over {figures['samples']:.0f} "
                                             "rank-ups   (targets 5 ms / 50 ms)"),
        ("platform calls alone", f"{limit:.0f}/s: the listener drains at {rate / limit:.2f} of the machine's limit"),
        *((f"{name}, no-op jobs", f"{peer:.0f}/s: the listener drains at {rate / peer:.2f}x {name}")
          for name, peer in peer_rates.items()),
        ("limits on", f"the platform's: {words}"),
        ("backlog drained", f"{args.limited_events} deliveries at {limited:.2f}/s: {limited / allowed:.2f} of the "
                            f"{allowed:g}/s allowed, none lost"),
        ("429 answers", f"{figures['limited_429s']:.0f} of {figures['limited_calls']:.0f} calls"),
    ])
    return {**figures, **{f"{name}_per_second": r for name, r in peer_rates.items()}}


if __name__ == "__main__":
    main()
