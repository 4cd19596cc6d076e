"""SIGTERM stops the demo within a bounded time even when its clean-up hangs: the demo is cancelled
(every finally runs), and should that not end it, the process stops regardless after the grace,
saying where it waited."""

from __future__ import annotations

import subprocess
import sys
import textwrap

HANGING_CLEANUP = textwrap.dedent("""
    import asyncio, os, signal
    import xpsync.demo as demo

    demo.STOP_GRACE = 0.5

    async def stuck():
        task = asyncio.current_task()
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, demo._terminated, task)
        os.kill(os.getpid(), signal.SIGTERM)
        try:
            await asyncio.sleep(60)
        finally:
            await asyncio.shield(asyncio.sleep(60))  # a clean-up that never ends

    asyncio.run(stuck())
""")


def test_sigterm_stops_a_demo_whose_clean_up_hangs():
    done = subprocess.run([sys.executable, "-c", HANGING_CLEANUP], capture_output=True, text=True, timeout=30)
    assert done.returncode == 143, done.stderr
    assert "clean-up took over 0.5 s after SIGTERM: stopping now" in done.stderr
    assert "in stuck" in done.stderr  # where it waited
