"""The admin panel over HTTP: every page for every operator, and what viewers and others cannot do."""

from __future__ import annotations

import pytest

from tests.helpers import call
from tests.web.conftest import admin_env, sign_in_admin


@pytest.fixture
def admin(make_client, db_url, conn):
    client = make_client(**admin_env(db_url))
    sign_in_admin(client, conn)
    return client


def test_every_page_renders(admin, conn):
    uid = call(conn, "award_xp", "discord", "1", 300, "r", "k1", "Ann")["user_id"]
    for path in ("/admin", "/admin/fragments/overview", "/admin/people", "/admin/people?q=an", f"/admin/people/{uid}",
                 f"/admin/fragments/people/{uid}/summary", f"/admin/fragments/people/{uid}/ledger",
                 f"/admin/fragments/people/{uid}/deliveries", f"/admin/people/{uid}/forget", "/admin/deliveries",
                 "/admin/fragments/deliveries", "/admin/settings", "/admin/fragments/processes",
                 "/admin/tables/multipliers", "/admin/tables/seasons", "/admin/tables/rank_roles",
                 "/admin/tables/guild_settings", "/admin/tables/achievements", "/admin/tables/achievement_roles",
                 "/admin/tables/ranks", "/admin/tables/quiz_questions", "/admin/tables/wheel_prizes", "/admin/ranks",
                 "/admin/reconcile", "/admin/void", "/admin/audit", "/admin/fragments/audit"):
        r = admin.get(path)
        assert r.status_code == 200, (path, r.text[:2000])
