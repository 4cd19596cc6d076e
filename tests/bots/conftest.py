from __future__ import annotations

from tests.listener.conftest import pool, sandbox  # noqa: F401 - the same loopback platforms and pool
