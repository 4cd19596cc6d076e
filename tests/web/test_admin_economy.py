"""The panel's quests, shop and texts pages over HTTP: reviews and their refusals (a viewer, a stale
form, a review already made, a bad id), the operator tables of quests and items, the texts editor's
preview and its refusal of an unknown placeholder, with nothing written when refused."""

from __future__ import annotations

import html
import json
import re

import pytest

from tests.helpers import call, scalar
from tests.web.conftest import admin_env, csrf_of, sign_in_admin
from tests.web.test_admin_actions import admin  # noqa: F401 - its fixture: a client signed in as admin alice


@pytest.fixture
def viewer(make_client, db_url, conn):
    client = make_client(**admin_env(db_url))
    sign_in_admin(client, conn, "victor", role="viewer")
    client.csrf = csrf_of(client, "/admin")
    return client


@pytest.fixture
def waiting(conn):
    """A submission and a purchase waiting for review."""
    conn.execute("INSERT INTO xp.quests (code, title, proof, reward_xp, reward_coins) "
                 "VALUES ('shot', '{\"en\": \"Share a screenshot\", \"ru\": \"Скриншот\"}', 'submission', 100, 25)")
    conn.execute("INSERT INTO xp.shop_items (code, kind, title, price, stock) "
                 "VALUES ('hoodie', 'custom', '{\"en\": \"Hoodie\"}', 100, 1)")
    call(conn, "award_coins", "telegram", "10", 150, "gift", "g1")
    submission = scalar(conn, "SELECT xp.submit_quest('telegram', '10', 'shot', 'https://x.org/s.png')")
    purchase = scalar(conn, "SELECT xp.buy('telegram', '10', 'hoodie', 'r1')")
    return submission["submission_id"], purchase["purchase_id"]


def post(client, path, **data):
    return client.post(path, data={"csrf": client.csrf, **data})


def test_the_queues_list_what_waits(admin, waiting):  # noqa: F811
    quests = admin.get("/admin/quests").text
    assert "Share a screenshot" in quests and "https://x.org/s.png" in quests and 'id="approve-1"' in quests
    shop = admin.get("/admin/shop").text
    assert "Hoodie" in shop and 'class="num balance" data-person="1">50<' in shop
    assert "Скриншот" in admin.get("/admin/quests?lang=ru").text
    assert admin.get("/admin/quests?state=maybe").status_code == 400
    assert admin.get("/admin/fragments/shop").status_code == 200


def test_approving_a_submission_pays_and_a_second_review_is_refused(admin, conn, waiting):  # noqa: F811
    submission, _ = waiting
    r = post(admin, "/admin/quests/review", id=str(submission), decision="approve", note="nice")
    assert r.status_code == 303
    assert scalar(conn, "SELECT status FROM xp.quest_submissions") == "approved"
    assert scalar(conn, "SELECT reviewed_by FROM xp.quest_submissions") == "alice"
    assert scalar(conn, "SELECT sum(delta) FROM xp.ledger WHERE source = 'quest' AND kind = 'coins'") == 25
    again = post(admin, "/admin/quests/review", id=str(submission), decision="decline")
    assert again.status_code == 409 and "approved already by alice" in html.unescape(again.text)
    assert "Nothing is waiting." in admin.get("/admin/quests").text


def test_declining_a_purchase_refunds_it(admin, conn, waiting):  # noqa: F811
    _, purchase = waiting
    r = post(admin, "/admin/shop/review", id=str(purchase), decision="decline", note="out of sizes")
    assert r.status_code == 303
    assert scalar(conn, "SELECT coins FROM xp.users") == 150  # the purchase's 100 back
    refund = conn.execute("SELECT delta, actor FROM xp.ledger WHERE idempotency_key = %s",
                          (f"shop-refund:{purchase}",)).fetchone()
    assert refund["delta"] == 100
    assert scalar(conn, "SELECT stock FROM xp.shop_items") == 1
    audit = scalar(conn, "SELECT actor || ' ' || action FROM xp.admin_audit WHERE action LIKE 'purchase.%%'")
    assert audit == "alice purchase.decline"


@pytest.mark.parametrize("data", [
    {"id": "abc", "decision": "approve"}, {"id": "1", "decision": "maybe"}, {"id": "9" * 19, "decision": "approve"},
])
def test_bad_reviews_are_a_clear_page_and_change_nothing(admin, conn, waiting, data):  # noqa: F811
    assert post(admin, "/admin/quests/review", **data).status_code == 400
    assert post(admin, "/admin/elsewhere/review", id="1", decision="approve").status_code == 400
    assert scalar(conn, "SELECT count(*) FROM xp.quest_submissions WHERE status = 'pending'") == 1


def test_a_viewer_and_a_stale_form_change_nothing(viewer, admin, conn, waiting):  # noqa: F811
    submission, purchase = waiting
    assert post(viewer, "/admin/quests/review", id=str(submission), decision="approve").status_code == 403
    assert 'id="approve-1"' not in viewer.get("/admin/quests").text
    stale = admin.post("/admin/shop/review", data={"csrf": "nope", "id": str(purchase), "decision": "approve"})
    assert stale.status_code == 403
    assert scalar(conn, "SELECT count(*) FROM xp.quest_submissions WHERE status = 'pending'") == 1
    assert scalar(conn, "SELECT status FROM xp.purchases") == "pending"


def test_quests_and_items_are_operator_tables_of_the_panel(admin, conn):  # noqa: F811
    r = post(admin, "/admin/tables/quests/insert", code="chatter", title=json.dumps({"en": "Say hello"}),
             description="{}", proof="messages", target="10", period="day", per_person="1", reward_xp="50",
             reward_coins="0", starts_at="", ends_at="", active="true")
    assert r.status_code == 303
    assert scalar(conn, "SELECT target FROM xp.quests WHERE code = 'chatter'") == 10
    bad = post(admin, "/admin/tables/shop_items/insert", code="role", kind="discord_role", title='{"en": "VIP"}',
               description="{}", price="10", stock="", guild_id="", role_id="", days="", needs_approval="false",
               active="true")
    assert bad.status_code == 400  # a role item names its guild and role: the table's own check
    assert scalar(conn, "SELECT count(*) FROM xp.shop_items") == 0
    assert "Say hello" in admin.get("/admin/tables/quests").text


def test_the_texts_editor_previews_saves_and_refuses_unknown_placeholders(admin, conn):  # noqa: F811
    page = admin.get("/admin/texts").text
    assert 'id="text-notice_rank_up"' in page and "🎉 Rank up! You are now {emoji} {name}." in page
    shown = post(admin, "/admin/texts/preview", key="notice_rank_up", language="en", body="{emoji} {name}!")
    assert shown.status_code == 200 and "⭐ E I!" in shown.text
    refused = post(admin, "/admin/texts/preview", key="notice_rank_up", language="en", body="{user} up")
    assert refused.status_code == 400 and "unknown placeholder {user}" in html.unescape(refused.text)
    assert scalar(conn, "SELECT count(*) FROM xp.texts") == 0  # a preview saves nothing
    bad = post(admin, "/admin/texts/save", key="notice_rank_up", language="en", body="{user} up")
    assert bad.status_code == 400 and "unknown placeholder {user}" in html.unescape(bad.text)
    assert scalar(conn, "SELECT count(*) FROM xp.texts") == 0
    ok = post(admin, "/admin/texts/save", key="notice_rank_up", language="ru", body="Ранг {name} {emoji}")
    assert ok.status_code == 303
    assert scalar(conn, "SELECT body FROM xp.texts") == "Ранг {name} {emoji}"
    assert scalar(conn, "SELECT actor FROM xp.admin_audit WHERE action = 'texts.insert'") == "alice"
    assert "(the code's words)" not in re.search(r'id="form-notice_rank_up-ru".*?</form>', admin.get(
        "/admin/texts").text, re.S).group(0)
    back = post(admin, "/admin/texts/save", key="notice_rank_up", language="ru", body="", reset="yes")
    assert back.status_code == 303 and scalar(conn, "SELECT count(*) FROM xp.texts") == 0
    assert post(admin, "/admin/texts/save", key="notice_rank_up", language="de", body="x").status_code == 400
