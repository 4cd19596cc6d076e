"""The fast tier: pure logic, no database. A test here that asks for one is a usage error."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent
DATABASE_FIXTURES = {"server", "postgresql", "postgresql_xp", "db_url", "conn", "connect", "pool"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if not isinstance(item, pytest.Function):
            continue
        wanted = DATABASE_FIXTURES & set(item.fixturenames)
        if wanted and HERE in item.path.parents:
            raise pytest.UsageError(f"{item.nodeid} asks for {', '.join(sorted(wanted))}: tests/unit needs no database")
