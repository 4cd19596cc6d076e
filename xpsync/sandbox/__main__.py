"""Run the sandbox on its own: `python -m xpsync.sandbox [--port N] [--lifted] [--open-chats]` prints the
environment to use. By default it meets the platforms' real limits; --lifted takes the rate limits away."""

from __future__ import annotations

import argparse
import asyncio
import signal
from dataclasses import replace

from .limits import Limits
from .server import Sandbox


async def serve(port: int, open_guilds: list[str], *, lifted: bool, open_chats: bool) -> None:
    limits = replace(Limits.lifted() if lifted else Limits(), telegram_requires_start=not open_chats)
    box = Sandbox(limits=limits)
    box.discord.open_guilds.update(open_guilds)
    await box.start(port)
    for key, value in box.env().items():
        print(f"{key}={value}", flush=True)
    print("READY", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await box.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m xpsync.sandbox", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--open-guild", action="append", default=[],
                        help="a Discord guild where every user is a member and every role exists")
    parser.add_argument("--lifted", action="store_true", help="no rate limits (throughput benchmarks)")
    parser.add_argument("--open-chats", action="store_true",
                        help="every Telegram private chat counts as opened with /start")
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.open_guild, lifted=args.lifted, open_chats=args.open_chats))


if __name__ == "__main__":
    main()
