"""Approving or declining every waiting review a queue's filter matches, over HTTP: the count shown
first, exactly those reviewed (each through xp.review_purchase / xp.review_submission, each
audited), one reviewed meanwhile skipped and counted, one that arrived after the count left waiting;
a viewer, a stale form and bad input change nothing."""

from __future__ import annotations

import html
import re

import pytest

from tests.helpers import call, scalar
from tests.web.test_admin_actions import admin  # noqa: F401 - its fixture: a client signed in as admin alice
from tests.web.test_admin_economy import post, viewer  # noqa: F401 - fixtures and the form's POST


@pytest.fixture
def shop(conn):
    """Three people who bought a sticker, one who bought a hoodie: all waiting."""
    conn.execute("INSERT INTO xp.shop_items (code, kind, title, price) VALUES "
                 "('sticker', 'custom', '{\"en\": \"Sticker\"}', 10), ('hoodie', 'custom', '{\"en\": \"Hoodie\"}', 50)")
    bought = {}
    for who, item in (("10", "sticker"), ("11", "sticker"), ("12", "sticker"), ("13", "hoodie")):
        call(conn, "award_coins", "telegram", who, 100, "gift", f"g{who}")
        bought[who] = scalar(conn, "SELECT xp.buy('telegram', %s, %s, 'r1')", who, item)["purchase_id"]
    return bought


def counted(page: str) -> dict[str, str]:
    """What the bulk form carries from the count it shows: what, upto, seen_at."""
    form = re.search(r'<form method="post" action="/admin/\w+/review-all".*?</form>', page, re.S)
    assert form, page
    return {name: html.unescape(value) for name, value in
            re.findall(r'name="(what|upto|seen_at)" value="([^"]*)"', form.group(0))}


def test_approve_all_reviews_exactly_the_counted_ones_and_skips_one_reviewed_meanwhile(admin, conn, shop):  # noqa: F811
    page = admin.get("/admin/shop?item=sticker").text
    assert "3 waiting match." in page and 'id="approve-all"' in page and "Approve all 3" in page
    assert "Hoodie" not in page.split("<tbody>")[1]  # the queue shows the stickers only
    form = counted(page)
    assert form["what"] == "sticker" and form["upto"] == str(shop["12"])
    # meanwhile: another operator declines one, and a fourth sticker is bought after the count
    assert post(admin, "/admin/shop/review", id=str(shop["11"]), decision="decline").status_code == 303
    call(conn, "award_coins", "telegram", "14", 100, "gift", "g14")
    late = scalar(conn, "SELECT xp.buy('telegram', '14', 'sticker', 'r1')")["purchase_id"]
    r = post(admin, "/admin/shop/review-all", decision="approve", note="all yours", **form)
    assert r.status_code == 303 and r.headers["location"] == "/admin/shop?item=sticker"
    assert "2 approved (1 reviewed meanwhile, skipped)." in admin.get(r.headers["location"]).text
    status = {r["id"]: r["status"] for r in conn.execute("SELECT id, status FROM xp.purchases")}
    assert status == {shop["10"]: "approved", shop["11"]: "declined", shop["12"]: "approved",
                      shop["13"]: "pending", late: "pending"}
    notes = conn.execute("SELECT DISTINCT note, reviewed_by FROM xp.purchases WHERE status = 'approved'").fetchall()
    assert [tuple(n.values()) for n in notes] == [("all yours", "alice")]
    audit = conn.execute("SELECT target FROM xp.admin_audit WHERE action = 'purchase.approve' AND actor = 'alice' "
                         "ORDER BY target::bigint").fetchall()
    assert [a["target"] for a in audit] == [str(shop["10"]), str(shop["12"])]
    told = scalar(conn, "SELECT count(*) FROM xp.events WHERE kind = 'purchase_reviewed' "
                        "AND payload ->> 'status' = 'approved'")
    assert told == 2


def test_decline_all_of_a_quest_refunds_nothing_pays_nothing_and_audits_each(admin, conn):  # noqa: F811
    conn.execute("INSERT INTO xp.quests (code, title, proof, reward_xp, reward_coins) VALUES "
                 "('shot', '{\"en\": \"Screenshot\"}', 'submission', 100, 25), "
                 "('clip', '{\"en\": \"Clip\"}', 'submission', 50, 5)")
    for who in ("20", "21"):
        scalar(conn, "SELECT xp.submit_quest('telegram', %s, 'shot', 'https://x.org/s.png')", who)
    other = scalar(conn, "SELECT xp.submit_quest('telegram', '22', 'clip', 'https://x.org/c.png')")
    page = admin.get("/admin/quests?quest=shot").text
    assert "2 waiting match." in page
    r = post(admin, "/admin/quests/review-all", decision="decline", note="blurry", **counted(page))
    assert r.status_code == 303 and r.headers["location"] == "/admin/quests?quest=shot"
    assert "2 declined (0 reviewed meanwhile, skipped)." in admin.get(r.headers["location"]).text
    rows = conn.execute("SELECT quest, status, note FROM xp.quest_submissions ORDER BY id").fetchall()
    assert [tuple(x.values()) for x in rows] == [("shot", "declined", "blurry"), ("shot", "declined", "blurry"),
                                                 ("clip", "pending", None)]
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE source = 'quest'") == 0
    assert scalar(conn, "SELECT count(*) FROM xp.admin_audit WHERE action = 'quest.decline'") == 2
    assert other["applied"]


def test_a_viewer_and_a_stale_form_change_nothing(viewer, admin, conn, shop):  # noqa: F811
    page = viewer.get("/admin/shop").text
    assert "4 waiting match." in page and 'id="approve-all"' not in page  # a viewer sees the count, no buttons
    form = counted(admin.get("/admin/shop").text)
    assert post(viewer, "/admin/shop/review-all", decision="approve", **form).status_code == 403
    stale = admin.post("/admin/shop/review-all", data={"csrf": "nope", "decision": "approve", **form})
    assert stale.status_code == 403
    no_token = admin.post("/admin/shop/review-all", data={"decision": "approve", **form})
    assert no_token.status_code == 403
    assert scalar(conn, "SELECT count(*) FROM xp.purchases WHERE status = 'pending'") == 4
    assert scalar(conn, "SELECT count(*) FROM xp.admin_audit WHERE action LIKE 'purchase.%%'") == 0


@pytest.mark.parametrize("change", [
    {"decision": "maybe"}, {"upto": ""}, {"upto": "x1"}, {"what": "no such thing!"}, {"seen_at": "yesterday"},
    {"note": "n" * 501},
])
def test_bad_input_is_a_clear_page_and_changes_nothing(admin, conn, shop, change):  # noqa: F811
    form = {"decision": "approve", **counted(admin.get("/admin/shop").text), **change}
    r = post(admin, "/admin/shop/review-all", **form)
    assert r.status_code == 400, r.text
    assert post(admin, "/admin/elsewhere/review-all", **{**form, **{"decision": "approve"}}).status_code == 400
    assert scalar(conn, "SELECT count(*) FROM xp.purchases WHERE status = 'pending'") == 4


def test_the_filter_must_be_a_code(admin, shop):  # noqa: F811
    assert admin.get("/admin/shop?item=a%20b").status_code == 400
    assert "Nothing is waiting." in admin.get("/admin/shop?item=nosuch").text
