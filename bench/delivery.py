"""How fast one listener process delivers, and how soon after the commit, with the limits lifted and on.

    python -m bench.delivery [--target discord|telegram] [--events 20000] [--rate 500] [--seconds 10]
                             [--limited-events N] [--people 100000] [--scale 1]

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

In the same run, as ratios, with the limits lifted: the same platform calls
made by a bare HTTP client with nothing else in the way (the machine's limit,
measured just before and just after the listener's drain: target >= 0.8), and
procrastinate and pgqueuer jobs making those calls to the same sandbox from
the same server (`pip install -e '.[bench]'`).

Convergence (bench/convergence.py): a threshold change that moves --people
members of one guild, under the sandbox's realistic limits and the default
pacing, over the least time those limits allow (target <= 1.1), with the 429s
and dead deliveries it caused (targets 0) and the calls per person
(coalescing). At the real limits 100 000 people take 55 hours at the least (2
role edits each, 10 per 10 s per guild): --scale k runs limits and pacing k
times faster, --people 0 skips it.
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


def start_listener(url: str, sandbox_env: dict[str, str], target: str, *, tuned: bool = True,
                   **extra: str) -> subprocess.Popen:
    """`xpsync listen TARGET`; `tuned`: with the throughput runs' batch and concurrency, else the defaults."""
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "DATABASE_URL": url, **sandbox_env,
           "XPSYNC_LOG_LEVEL": "WARNING", "XPSYNC_POLL_SECONDS": "1"}
    if tuned:
        env |= {"XPSYNC_BATCH_SIZE": str(peers.BATCH), "XPSYNC_CONCURRENCY": str(peers.CONCURRENCY)}
    env |= extra
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
        # the machine's limit just before and just after the listener's drain (the load of a shared machine
        # drifts): the listener is compared with their mean
        limits = [ceiling.platform_calls_per_second(args.target, sandbox_env, (GUILD, ROLE), args.events,
                                                    peers.CONCURRENCY)]
        rate = throughput(conn, url, sandbox_env, args.target, args.events)
        limits.append(ceiling.platform_calls_per_second(args.target, sandbox_env, (GUILD, ROLE), args.events,
                                                        peers.CONCURRENCY,
                                                        first=ceiling.FIRST_ACCOUNT + 3 * args.events))
        lat = latency(conn, url, sandbox_env, args.target, args.rate, args.seconds)
        peer_rates = peers.drain_rates(url, args.events, peers.Work(args.target, sandbox_env, (GUILD, ROLE),
                                                                    ceiling.FIRST_ACCOUNT + 4 * args.events))
    finally:
        settings(conn, shipped)
        stop_sandbox(sandbox)
    return {"drain_per_second": rate, "p50_ms": percentile_ms(lat, 0.5), "p99_ms": percentile_ms(lat, 0.99),
            "samples": len(lat), "platform_calls_per_second": sum(limits) / 2,
            "platform_calls_before": limits[0], "platform_calls_after": limits[1],
            **{f"{name}_per_second": r for name, r in peer_rates.items()}}


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
    parser.add_argument("--people", type=int, default=100_000, help="moved by the threshold change (0: skip it)")
    parser.add_argument("--scale", type=float, default=1.0, help="its limits and pacing this many times faster")
    args = parser.parse_args(argv)
    args.limited_events = args.limited_events or LIMITED_EVENTS[args.target]
    figures: dict[str, float] = {}
    if args.people:
        figures |= converge_run(args)
    with bench_database() as (url, _), psycopg.connect(url, autocommit=True) as conn:
        conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s)", (GUILD, ROLE))
        figures |= lifted_run(conn, url, args)
        figures |= limited_run(conn, url, args)
    peer_rates = {name: figures[f"{name}_per_second"] for name in peers.PEERS}
    rate, limit, p50, p99 = (figures[k] for k in ("drain_per_second", "platform_calls_per_second", "p50_ms",
                                                    "p99_ms"))
    allowed, words = ALLOWED[args.target]
    limited = figures["limited_drain_per_second"]
    show(f"delivery, one `xpsync listen {args.target}` process against the sandbox process", [
        ("limits lifted", "the machinery alone (no platform allows this)"),
        ("backlog drained", f"{args.events} deliveries at {rate:.0f}/s   (target >= 2000/s), none lost"),
        (f"commit -> call at {args.rate}/s", f"p50 {p50:.1f} ms, p99 {p99:.1f} ms over {figures['samples']:.0f} "
                                             "rank-ups   (targets 5 ms / 50 ms)"),
        ("bare HTTP client", f"{limit:.0f}/s (before {figures['platform_calls_before']:.0f}/s, after "
                             f"{figures['platform_calls_after']:.0f}/s): the listener drains at {rate / limit:.2f} "
                             "of it   (target >= 0.8)"),
        *((f"{name} jobs, same calls", f"{peer:.0f}/s: the listener drains at {rate / peer:.2f}x {name}")
          for name, peer in peer_rates.items()),
        ("limits on", f"the platform's: {words}"),
        ("backlog drained", f"{args.limited_events} deliveries at {limited:.2f}/s: {limited / allowed:.2f} of the "
                            f"{allowed:g}/s allowed, none lost"),
        ("429 answers", f"{figures['limited_429s']:.0f} of {figures['limited_calls']:.0f} calls"),
        *converge_rows(args, figures),
    ])
    return figures


def converge_run(args: argparse.Namespace) -> dict[str, float]:
    """A threshold change of --people under the real limits (--scale times faster), in a database of its own."""
    minimum, binding = convergence.minimum_seconds(convergence.scaled(convergence.Limits(), args.scale), args.people)
    print(f"threshold change of {args.people} people: at least {minimum:.0f}s ({binding})", flush=True)
    with bench_database() as (url, _), psycopg.connect(url, autocommit=True) as conn:
        moved = convergence.measure(url, conn, lambda env: start_listener(url, env, "discord", tuned=False),
                                    args.people, args.scale)
    return {"converge_people": moved.people, "converge_seconds": moved.seconds,
            "converge_minimum_seconds": moved.minimum, "converge_ratio": moved.ratio,
            "converge_429s": moved.too_many_requests, "converge_dead": moved.dead,
            "converge_failed": moved.failed, "converge_reads": moved.reads, "converge_edits": moved.edits,
            "converge_most_reads": moved.most_reads, "converge_most_edits": moved.most_edits,
            "converge_first_edit": moved.first_edit, "converge_idle": moved.idle}


def converge_rows(args: argparse.Namespace, f: dict[str, float]) -> list[tuple[str, str]]:
    if not args.people:
        return []
    scale = f", limits x{args.scale:g}" if args.scale != 1 else ""
    _, binding = convergence.minimum_seconds(convergence.scaled(convergence.Limits(), args.scale), args.people)
    return [
        (f"threshold change, {args.people} people{scale}",
         f"{f['converge_seconds']:.1f}s against at least {f['converge_minimum_seconds']:.1f}s ({binding}): "
         f"{f['converge_ratio']:.3f}x   (target <= 1.1)"),
        ("  429s answered, dead", f"{f['converge_429s']:.0f}, {f['converge_dead']:.0f}   (targets 0, 0)"),
        ("  calls per person", f"at most {f['converge_most_reads']:.0f} member read(s), "
                               f"{f['converge_most_edits']:.0f} role edits; {f['converge_reads']:.0f} reads and "
                               f"{f['converge_edits']:.0f} edits in all"),
        ("  where the time went", f"first edit {f['converge_first_edit']:.1f}s after the commit; role edits unused "
                                  f"for {f['converge_idle']:.1f}s beyond the limit's own spacing"),
    ]


if __name__ == "__main__":
    main()
