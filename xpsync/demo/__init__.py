"""`xpsync demo`: a community on the embedded PostgreSQL, the real listeners against the
loopback sandbox, simulated activity on both platforms, then a summary and a reconcile.

Nothing outside the demo's own temporary server is touched; it is stopped and
removed at the end (or kept for exploring with --keep).
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from psycopg_pool import AsyncConnectionPool
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from ..console import out
from ..db import as_role, create_pool, fetch_value
from ..embedded import EmbeddedServer
from ..listener.discord_roles import DiscordRoles
from ..listener.latency import FirstCallLatency
from ..listener.runtime import Listener, Options
from ..listener.telegram_notices import TelegramNotices
from ..migrate import migrate
from ..sandbox import Limits, Sandbox
from ..settings import ConfigError, Settings
from ..vocabulary import TARGETS
from ..web.serve import free_port, in_thread
from . import economy, report
from .activity import Activity
from .community import Community, people, seed
from .panel import admin_env, admin_link, admin_link_async

# The demo's own knobs, set with ordinary UPDATEs of xp.settings: a short message
# cooldown so that a few seconds show activity, and quick retries. The platforms'
# limits stay real: the sandbox answers as Discord and Telegram do, and the
# listeners pace themselves as in production.
DEMO_SETTINGS = {
    "message.cooldown_seconds": "2",
    "delivery.backoff_base_seconds": "0.2",
    "delivery.backoff_cap_seconds": "2",
}
FAULT_RATES = {"429": 0.02, "5xx": 0.03, "slow": 0.01}
STOP_GRACE = 20.0  # seconds SIGTERM leaves the demo to clean up before it stops regardless


@dataclass(frozen=True)
class DemoOptions:
    members: int = 300
    seconds: float = 20.0
    keep: bool = False
    seed: int = 7


def run(options: DemoOptions, settings: Settings) -> int:
    # the faults are injected on purpose and counted in the summary: no line per retry
    for name in (Listener.__module__.rpartition(".")[0], "discord.http"):
        logging.getLogger(name).setLevel(logging.ERROR)
    if settings.database_url is not None:
        raise ConfigError("xpsync demo runs on its own embedded PostgreSQL and never touches DATABASE_URL: unset it")
    if options.members < 2 or options.seconds <= 0:
        raise ConfigError("--members must be at least 2 and --seconds positive")
    home = Path(tempfile.mkdtemp(prefix="xpsync-demo-"))
    server = EmbeddedServer(home)
    # the watchdog stops and removes the server even if the demo is killed
    url = server.start(watch_pid=None if options.keep else os.getpid(), delete_on_exit=not options.keep)
    port = free_port()
    try:
        migrate(url)
        code = asyncio.run(_demo(url, options, port))
    except asyncio.CancelledError:  # SIGTERM: stop at once, clean up below
        out.print("demo stopped")
        code = 143
    finally:
        if not options.keep:
            try:
                server.stop()
            finally:
                shutil.rmtree(home, ignore_errors=True)
    if options.keep:
        web = _keep_web(url, port, home)
        out.print("\nThe demo database is still running. Explore it with:")
        out.print(f"  XPSYNC_HOME={home} xpsync db psql")
        out.print(f"The web is still running at http://127.0.0.1:{port}/ (process {web}).")
        out.print(f"The admin panel (a one-time login link): {admin_link(url, f'http://127.0.0.1:{port}')}")
        out.print(f"Stop both with:\n  kill {web}; XPSYNC_HOME={home} xpsync db stop && rm -rf {home}")
    return code


def _web_env(port: int) -> dict[str, str]:
    """The web's settings in the demo: a loopback port and a session secret of its own."""
    return {"XPSYNC_WEB_BIND": f"127.0.0.1:{port}", "XPSYNC_WEB_SECRET": secrets.token_hex(32)}


def _keep_web(url: str, port: int, home: Path) -> int:
    """`xpsync web` as a process of its own that outlives the demo (--keep); returns its pid."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/"),
           "DATABASE_URL": as_role(url, "xp_web"), **_web_env(port), **admin_env(url)}
    with open(home / "web.log", "ab") as log_file:
        web = subprocess.Popen([sys.executable, "-m", "xpsync", "web"], env=env, stdin=subprocess.DEVNULL,
                               stdout=log_file, stderr=log_file, start_new_session=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and web.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):
                break
        except OSError:
            time.sleep(0.2)
    return web.pid


def _terminated(demo: asyncio.Task[int]) -> None:
    """SIGTERM: cancel the demo, whose every finally runs; should cleaning up hang, the process stops
    regardless after STOP_GRACE seconds, saying where it waited (the embedded server's watchdog then
    stops and removes the server, as after a kill)."""
    demo.cancel()
    timer = threading.Timer(STOP_GRACE, _stop_regardless, (asyncio.get_running_loop(),))
    timer.daemon = True
    timer.start()


def _stop_regardless(loop: asyncio.AbstractEventLoop) -> None:
    print(f"xpsync: the demo's clean-up took over {STOP_GRACE:g} s after SIGTERM: stopping now; it waited here:",
          file=sys.stderr, flush=True)
    with contextlib.suppress(RuntimeError):  # the loop's tasks changed meanwhile: the threads still say
        for task in list(asyncio.all_tasks(loop)):
            task.print_stack(limit=8, file=sys.stderr)
    faulthandler.dump_traceback(file=sys.stderr, all_threads=True)
    os._exit(143)


async def _demo(url: str, options: DemoOptions, port: int) -> int:
    rng = random.Random(options.seed)
    # SIGTERM cancels the demo wherever it is; every finally below still runs
    demo = asyncio.current_task()
    assert demo is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, _terminated, demo)
    sandbox = Sandbox(limits=Limits())  # the platforms' real limits and refusals
    await sandbox.start()

    pool = create_pool(url, max_size=12, name="xpsync-demo")
    listener_pool = create_pool(url, max_size=20, name="xpsync-demo-listeners")  # claims, acks and pace slots
    await pool.open(wait=True)
    await listener_pool.open(wait=True)
    site = contextlib.ExitStack()
    try:
        # the web as members see it, logged in with the web's own role; sign-in goes to the sandbox's Discord
        web_settings = Settings.from_env({**sandbox.env(), **_web_env(port), **admin_env(url)})
        board = site.enter_context(in_thread(web_settings, as_role(url, "xp_web")))
        out.print(f"The board, live while the demo runs: {board}/")
        out.print(f"The admin panel, live while the demo runs (a one-time login link): "
                  f"{await admin_link_async(url, board)}")
        async with pool.connection() as conn:
            for key, value in DEMO_SETTINGS.items():
                await conn.execute("UPDATE xp.settings SET value = %s WHERE key = %s", (value, key))
        community = people(options.members, rng)
        with _progress() as progress:
            task = progress.add_task("seeding the community", total=None, info="")
            history = await seed(pool, sandbox, community, rng)
            progress.update(task, description="seeded", total=1, completed=1)
        for platform in TARGETS:
            sandbox.faults.randomize(platform, FAULT_RATES, seed=options.seed, delay=0.2)
        latency = {target: FirstCallLatency() for target in TARGETS}
        discord = DiscordRoles(sandbox.discord.token, sandbox.discord_api_base, listener_pool,
                               on_call=latency["discord"])
        telegram = TelegramNotices(sandbox.telegram.token, sandbox.telegram_api_base, listener_pool,
                                   on_call=latency["telegram"])
        await discord.start()
        await telegram.start()
        fast = Options(batch_size=100, lease_seconds=30, poll_seconds=0.5, concurrency=16)
        listeners = [Listener(listener_pool, url, h, options=fast) for h in (discord, telegram)]
        stop = asyncio.Event()
        running = [asyncio.create_task(x.run(stop), name=f"demo-{x.target}") for x in listeners]
        sale = await economy.sell_role(pool, community)  # approved while the listeners run: the role arrives
        activity = Activity(pool, community, rng)
        with _progress() as progress:
            task = progress.add_task("members at work", total=options.seconds, info="")
            work = asyncio.create_task(activity.run(options.seconds))
            director = asyncio.create_task(_direct(pool, community, rng, options.seconds))
            started = time.monotonic()
            while not work.done():
                done = sum(x.stats["done"] for x in listeners)
                progress.update(task, completed=min(options.seconds, time.monotonic() - started),
                                info=f"{sum(activity.counts.values())} calls · {done} delivered")
                await asyncio.sleep(0.2)
            elapsed = work.result()
            await director
            task = progress.add_task("delivering what is left, at the platforms' pace", total=None, info="")
            sandbox.faults.clear()
            await _drained(pool, within=600, tell=lambda left: progress.update(task, info=left))
        stop.set()
        await asyncio.gather(*running)
        events, deliveries, retried = await report.gather(pool)
        checks = await report.check(pool, sandbox, after_delivery=history)
        report.show(report.Figures(
            members=options.members, seconds=elapsed, calls=activity.counts, applied=activity.applied,
            events=events, deliveries=deliveries, retried_to_done=retried,
            latencies={target: observer.seconds for target, observer in latency.items()},
            role_changes=Counter(c.action for c in sandbox.discord.role_changes),
            messages=len(sandbox.telegram.messages), direct_messages=len(sandbox.discord.direct_messages),
            faults=sandbox.faults.injected,
            limited=_limited(sandbox),
        ), checks)
        await economy.show(pool, sandbox, sale)
        await discord.close()
        await telegram.close()
        return 0 if checks.ok else 1
    finally:
        site.close()
        await pool.close()
        await listener_pool.close()
        await sandbox.stop()


async def _direct(pool: AsyncConnectionPool, community: Community, rng: random.Random, seconds: float) -> None:
    """What the operators do meanwhile: lower the thresholds, then hand out event prizes."""
    await asyncio.sleep(seconds * 0.5)
    async with pool.connection() as conn:
        await conn.execute("UPDATE xp.ranks SET min_xp = (min_xp * 0.9)::bigint WHERE id > 1")
    await asyncio.sleep(seconds * 0.25)
    async with pool.connection() as conn:
        winners = rng.sample(community.members, max(1, len(community.members) // 10))
        for member in winners:
            platform, external_id = member.accounts[0]
            uid = await fetch_value(conn, "SELECT user_id FROM xp.accounts WHERE platform = %s AND external_id = %s",
                                    (platform, external_id))
            await conn.execute("SELECT xp.adjust(%s, 'xp', 2500, 'season finale prize', 'demo-host')", (uid,))


async def _drained(pool: AsyncConnectionPool, within: float, tell: Callable[[str], None]) -> None:
    """Until nothing is pending (Discord allows a guild about one role change a second: a backlog takes
    its time), saying how much is left."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with pool.connection() as conn:
            rows = await (await conn.execute("SELECT target, count(*) FROM xp.deliveries WHERE status = 'pending' "
                                             "GROUP BY 1 ORDER BY 1")).fetchall()
            moving = await fetch_value(conn, "SELECT count(*) FROM xp._out_of_step(NULL, 1)")
        if not rows and moving == 0:
            return
        tell(" · ".join(f"{n} {target}" for target, n in rows) + " to go")
        await asyncio.sleep(0.5)


def _limited(sandbox: Sandbox) -> Counter[str]:
    """429s the platforms' limits answered, beyond the ones injected on purpose."""
    answered = Counter(c.platform for c in sandbox.calls if c.status == 429)
    for (platform, kind), n in sandbox.faults.injected.items():
        if kind.startswith("429"):
            answered[platform] -= n
    return Counter({p: n for p, n in answered.items() if n > 0})


def _progress() -> Progress:
    return Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                    TextColumn("{task.fields[info]}"), console=out, transient=False)
