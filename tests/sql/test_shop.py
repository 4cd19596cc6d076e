"""The reward shop (design.md): a purchase takes its price at once through the ledger (XP003 when
short, nothing written), the stock never goes below zero and nobody spends a coin twice under
concurrent purchases; a decline refunds through the ledger; a timed role ends and is taken back."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from tests.clock import pass_days
from tests.helpers import assert_consistent, call, scalar


def item(conn, code, kind="custom", price=100, stock=None, needs_approval=True, **more):
    columns = {"code": code, "kind": kind, "title": json.dumps({"en": f"Item {code}"}), "price": price,
               "stock": stock, "needs_approval": needs_approval, **more}
    conn.execute(f"INSERT INTO xp.shop_items ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})",
                 list(columns.values()))


def coins(conn, platform="telegram", who="t1", amount=250, key="c1"):
    call(conn, "award_coins", platform, who, amount, "gift", key)


def buy(conn, code, key="r1", who="t1", platform="telegram"):
    return scalar(conn, "SELECT xp.buy(%s, %s, %s, %s)", platform, who, code, key)


def refusal(conn, query, *args):
    with pytest.raises(psycopg.Error) as err:
        conn.execute(query, args)
    return err.value.sqlstate


def balance(conn, who="t1"):
    return scalar(conn, "SELECT u.coins FROM xp.users u JOIN xp.accounts a ON a.user_id = u.id "
                        "WHERE a.external_id = %s", who)


def test_a_purchase_takes_the_coins_at_once_and_waits_for_approval(conn):
    item(conn, "hoodie", stock=3)
    coins(conn)
    bought = buy(conn, "hoodie")
    assert (bought["status"], bought["coins"], bought["applied"]) == ("pending", 150, True)
    assert balance(conn) == 150
    row = conn.execute("SELECT delta, idempotency_key FROM xp.ledger WHERE source = 'shop'").fetchone()
    assert row == {"delta": -100, "idempotency_key": f"shop:{bought['purchase_id']}"}
    assert scalar(conn, "SELECT stock FROM xp.shop_items") == 2
    # the same request again (a double tap) buys nothing more
    assert buy(conn, "hoodie") == {**bought, "applied": False}
    assert balance(conn) == 150
    assert refusal(conn, "SELECT xp.buy('telegram', 't1', 'other', 'r1')") == "XP004"
    queue = conn.execute("SELECT id, item, coins, status FROM xp.admin_purchases()").fetchall()
    assert queue == [{"id": bought["purchase_id"], "item": "hoodie", "coins": 150, "status": "pending"}]
    assert_consistent(conn)


def test_a_purchase_without_enough_coins_is_xp003_and_writes_nothing(conn):
    item(conn, "hoodie", price=300, stock=1)
    coins(conn)
    assert refusal(conn, "SELECT xp.buy('telegram', 't1', 'hoodie', 'r1')") == "XP003"
    assert balance(conn) == 250
    assert scalar(conn, "SELECT stock FROM xp.shop_items") == 1
    assert scalar(conn, "SELECT count(*) FROM xp.purchases") == 0


def test_what_cannot_be_bought(conn):
    item(conn, "gone", stock=0)
    item(conn, "off", active=False)
    coins(conn)
    assert refusal(conn, "SELECT xp.buy('telegram', 't1', 'gone', 'r1')") == "XP009"
    assert refusal(conn, "SELECT xp.buy('telegram', 't1', 'off', 'r2')") == "XP009"
    assert refusal(conn, "SELECT xp.buy('telegram', 't1', 'nope', 'r3')") == "XP002"
    assert refusal(conn, "SELECT xp.buy('telegram', 't1', 'off', '')") == "XP002"
    assert [r["code"] for r in conn.execute("SELECT code FROM xp.shop_list()")] == ["gone"]
    with pytest.raises(psycopg.errors.CheckViolation):
        item(conn, "role", kind="discord_role")  # a role item names its guild and role
    with pytest.raises(psycopg.errors.CheckViolation):
        item(conn, "neg", stock=-1)
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute("UPDATE xp.shop_items SET stock = -1 WHERE code = 'gone'")


def test_a_decline_refunds_through_the_ledger_and_puts_the_item_back(conn):
    item(conn, "hoodie", stock=1)
    coins(conn)
    bought = buy(conn, "hoodie")
    assert scalar(conn, "SELECT stock FROM xp.shop_items") == 0
    declined = scalar(conn, "SELECT xp.review_purchase(%s, false, 'out of sizes')", bought["purchase_id"])
    assert (declined["status"], declined["coins"]) == ("declined", 250)
    rows = conn.execute("SELECT delta, idempotency_key FROM xp.ledger WHERE source = 'shop' ORDER BY id").fetchall()
    assert [r["delta"] for r in rows] == [-100, 100]
    assert rows[1]["idempotency_key"] == f"shop-refund:{bought['purchase_id']}"
    assert scalar(conn, "SELECT stock FROM xp.shop_items") == 1
    assert refusal(conn, "SELECT xp.review_purchase(%s, true)", bought["purchase_id"]) == "XP009"
    assert refusal(conn, "SELECT xp.review_purchase(%s, false)", bought["purchase_id"]) == "XP009"
    assert balance(conn) == 250  # refunded once
    notice = conn.execute("SELECT d.target, e.payload FROM xp.deliveries d JOIN xp.events e ON e.id = d.event_id "
                          "WHERE e.kind = 'purchase_reviewed'").fetchall()
    assert [n["target"] for n in notice] == ["telegram"] and notice[0]["payload"]["note"] == "out of sizes"
    audit = [a["action"] for a in conn.execute("SELECT action FROM xp.admin_audit ORDER BY id")]
    assert audit.count("purchase.decline") == 1
    # a sale's or a refund's stock move is not an operator's edit of the item
    assert audit.count("shop_items.update") == 0
    assert_consistent(conn)


def test_a_review_of_an_unknown_purchase_or_with_a_long_note_is_refused_and_changes_nothing(conn):
    item(conn, "hoodie", stock=1)
    coins(conn)
    bought = buy(conn, "hoodie")
    assert refusal(conn, "SELECT xp.review_purchase(424242, true)") == "XP002"
    assert refusal(conn, "SELECT xp.review_purchase(NULL, true)") == "XP002"
    assert refusal(conn, "SELECT xp.review_purchase(%s, false, %s)", bought["purchase_id"], "n" * 501) == "XP002"
    assert scalar(conn, "SELECT status FROM xp.purchases WHERE id = %s", bought["purchase_id"]) == "pending"
    assert balance(conn) == 150 and scalar(conn, "SELECT stock FROM xp.shop_items") == 0
    assert_consistent(conn)


def test_a_timed_role_is_held_until_its_days_end_then_taken_back(conn):
    conn.execute("INSERT INTO xp.rank_roles (guild_id, rank_id, role_id) VALUES ('42', 2, '9002')")
    item(conn, "vip", kind="discord_role", guild_id="42", role_id="777", days=7, needs_approval=False)
    coins(conn, "discord", "d1")
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE external_id = 'd1'")
    before = conn.execute("SELECT * FROM xp.discord_role_plan(%s)", (uid,)).fetchone()
    assert "777" in before["managed"] and "777" not in before["desired"]
    conn.execute("UPDATE xp.deliveries SET status = 'done'")
    bought = buy(conn, "vip", who="d1", platform="discord")
    assert bought["status"] == "approved" and bought["expires_at"] is not None
    assert "777" in conn.execute("SELECT * FROM xp.discord_role_plan(%s)", (uid,)).fetchone()["desired"]
    assert scalar(conn, "SELECT count(*) FROM xp.deliveries WHERE status = 'pending' AND target = 'discord'") == 1
    conn.execute("UPDATE xp.deliveries SET status = 'done'")
    assert scalar(conn, "SELECT xp.expire_purchases()") == 0
    pass_days(conn, 8)
    assert "777" not in conn.execute("SELECT * FROM xp.discord_role_plan(%s)", (uid,)).fetchone()["desired"]
    assert scalar(conn, "SELECT xp.expire_purchases()") == 1
    assert scalar(conn, "SELECT xp.expire_purchases()") == 0  # told once
    resync = conn.execute("SELECT e.kind FROM xp.deliveries d JOIN xp.events e ON e.id = d.event_id "
                          "WHERE d.status = 'pending'").fetchall()
    assert resync == [{"kind": "roles_resync"}]


def test_an_approved_role_starts_its_days_when_approved(conn):
    item(conn, "vip", kind="discord_role", guild_id="42", role_id="777", days=3)
    coins(conn, "discord", "d1")
    bought = buy(conn, "vip", who="d1", platform="discord")
    assert bought["status"] == "pending" and bought["expires_at"] is None
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE external_id = 'd1'")
    assert "777" not in conn.execute("SELECT * FROM xp.discord_role_plan(%s)", (uid,)).fetchone()["desired"]
    approved = scalar(conn, "SELECT xp.review_purchase(%s, true, 'enjoy')", bought["purchase_id"])
    assert approved["status"] == "approved" and approved["expires_at"] is not None
    assert "777" in conn.execute("SELECT * FROM xp.discord_role_plan(%s)", (uid,)).fetchone()["desired"]


def test_concurrent_purchases_never_sell_more_than_the_stock(conn, connect):
    item(conn, "hoodie", price=10, stock=5)
    for n in range(16):
        coins(conn, who=f"t{n}", amount=50, key=f"c{n}")
    conns = [connect() for _ in range(16)]

    def attempt(n, c):
        try:
            return buy(c, "hoodie", key="r", who=f"t{n}")["status"]
        except psycopg.Error as exc:
            return exc.sqlstate

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(attempt, range(16), conns))
    assert results.count("pending") == 5 and results.count("XP009") == 11
    assert scalar(conn, "SELECT stock FROM xp.shop_items") == 0
    assert scalar(conn, "SELECT count(*) FROM xp.purchases") == 5
    assert_consistent(conn)


def test_concurrent_purchases_of_one_person_never_spend_a_coin_twice(conn, connect):
    item(conn, "sticker", price=100)
    coins(conn, amount=250)
    conns = [connect() for _ in range(12)]

    def attempt(n, c):
        try:
            return buy(c, "sticker", key=f"r{n}")["status"]
        except psycopg.Error as exc:
            return exc.sqlstate

    with ThreadPoolExecutor(12) as pool:
        results = list(pool.map(attempt, range(12), conns))
    assert results.count("pending") == 2 and results.count("XP003") == 10
    assert balance(conn) == 50
    assert_consistent(conn)


def test_concurrent_reviews_of_one_purchase_refund_once(conn, connect):
    item(conn, "hoodie", stock=1)
    coins(conn)
    bought = buy(conn, "hoodie")
    conns = [connect() for _ in range(8)]

    def attempt(n, c):
        try:
            return scalar(c, "SELECT xp.review_purchase(%s, %s)", bought["purchase_id"], n % 2 == 0)["status"]
        except psycopg.Error as exc:
            return exc.sqlstate

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, range(8), conns))
    assert results.count("XP009") == 7
    assert balance(conn) == (250 if "declined" in results else 150)
    assert scalar(conn, "SELECT stock FROM xp.shop_items") == (1 if "declined" in results else 0)
    assert_consistent(conn)


def test_a_purchase_follows_its_person_through_a_merge(conn):
    item(conn, "hoodie")
    coins(conn)
    coins(conn, "discord", "d1", 10, "c2")
    bought = buy(conn, "hoodie")
    code = scalar(conn, "SELECT xp.create_link_code('telegram', 't1')")
    survivor = scalar(conn, "SELECT xp.redeem_link_code('discord', 'd1', %s)", code)
    assert scalar(conn, "SELECT user_id FROM xp.purchases") == survivor
    before = balance(conn)  # 250 + 10 - 100, and whatever the link itself pays
    declined = scalar(conn, "SELECT xp.review_purchase(%s, false)", bought["purchase_id"])
    assert declined["coins"] == before + 100 == balance(conn, "d1")
    assert_consistent(conn)


def role_state(conn, purchase):
    row = conn.execute("SELECT role_delivery, role_error FROM xp.admin_shop_queue(NULL) WHERE id = %s",
                       (purchase,)).fetchone()
    return row["role_delivery"], row["role_error"]


def test_the_queue_says_where_an_approved_role_stands_on_discord(conn):
    """Given once the discord delivery that carries the approval is done; a resync already waiting at
    the approval carries it (the approval queues none of its own); failed with its reason; ended."""
    conn.execute("INSERT INTO xp.rank_roles (guild_id, rank_id, role_id) VALUES ('42', 2, '9002')")
    item(conn, "vip", kind="discord_role", guild_id="42", role_id="777", days=3)
    coins(conn, "discord", "d1")
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE external_id = 'd1'")
    bought = buy(conn, "vip", who="d1", platform="discord")["purchase_id"]
    assert role_state(conn, bought) == (None, None)  # waiting for an operator: nothing to deliver yet
    conn.execute("UPDATE xp.deliveries SET status = 'done', finished_at = now() - interval '1 minute'")
    assert scalar(conn, "SELECT xp.request_resync('discord', 'd1')") == 1  # a resync waits already
    scalar(conn, "SELECT xp.review_purchase(%s, true)", bought)
    # the waiting resync carries the role: the approval queues none of its own (only the member's notice)
    assert scalar(conn, "SELECT count(*) FROM xp.events WHERE payload ->> 'reason' = 'shop: vip'") == 0
    assert role_state(conn, bought) == ("pending", None)
    conn.execute("UPDATE xp.deliveries SET status = 'done', finished_at = now() WHERE status = 'pending' "
                 "AND event_id IN (SELECT id FROM xp.events WHERE kind = 'purchase_reviewed')")
    conn.execute("UPDATE xp.deliveries SET status = 'failed', last_error = 'Missing Permissions', "
                 "finished_at = now() WHERE status = 'pending'")
    assert role_state(conn, bought) == ("failed", "Missing Permissions")
    shop = conn.execute("SELECT source, purchase_id, role_delivery FROM xp.admin_person_roles(%s) "
                        "WHERE role_id = '777'", (uid,)).fetchone()
    assert shop == {"source": "shop", "purchase_id": bought, "role_delivery": "failed"}
    assert scalar(conn, "SELECT xp.request_resync('discord', 'd1')") == 1  # an operator's resync
    assert role_state(conn, bought) == ("pending", None)  # tried again
    conn.execute("UPDATE xp.deliveries SET status = 'done', finished_at = now() WHERE status = 'pending'")
    assert role_state(conn, bought)[0] == "done"
    assert "done" in {r["role_delivery"] for r in conn.execute("SELECT * FROM xp.admin_person_roles(%s)", (uid,))}
    pass_days(conn, 4)
    assert scalar(conn, "SELECT xp.expire_purchases()") == 1
    assert role_state(conn, bought)[0] == "ended"
    assert conn.execute("SELECT * FROM xp.admin_person_roles(%s) WHERE role_id = '777'", (uid,)).fetchall() == []


def test_a_persons_roles_by_plan_say_where_each_comes_from(conn):
    conn.execute("INSERT INTO xp.rank_roles (guild_id, rank_id, role_id) VALUES ('42', 2, '9002'), ('43', 2, '9102')")
    item(conn, "vip", kind="discord_role", guild_id="43", role_id="888", needs_approval=False)
    coins(conn, "discord", "d1")
    call(conn, "award_xp", "discord", "d1", 300, "seed", "x1")
    buy(conn, "vip", who="d1", platform="discord")
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE external_id = 'd1'")
    rows = conn.execute("SELECT guild_id, role_id, source, expires_at FROM xp.admin_person_roles(%s)", (uid,))
    assert [tuple(r.values()) for r in rows] == [("42", "9002", "rank", None), ("43", "9102", "rank", None),
                                                 ("43", "888", "shop", None)]
    assert conn.execute("SELECT * FROM xp.admin_person_roles(-1)").fetchall() == []


def test_review_all_skips_one_reviewed_while_it_runs(conn, connect):
    """Another operator's review holds the buyer while review_all has read the queue: when it gets
    the buyer, the purchase is reviewed already, so it is skipped and counted, the others reviewed."""
    item(conn, "sticker", price=10)
    for who in ("t1", "t2"):
        coins(conn, who=who, key=f"c-{who}")
        buy(conn, "sticker", who=who)
    counted = scalar(conn, "SELECT xp.admin_review_count('shop', 'sticker')")
    first, second = (r["id"] for r in conn.execute("SELECT id FROM xp.purchases ORDER BY id"))
    other, bulk = connect(), connect()
    other.execute("BEGIN")
    other.execute("SELECT xp.review_purchase(%s, false, 'no')", (first,))  # holds t1 until it commits
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(scalar, bulk, "SELECT xp.review_all('shop', 'sticker', %s, %s, true, 'yes')",
                              counted["upto"], counted["at"])
        while not scalar(conn, "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                               "AND query LIKE '%%review_all%%'"):
            assert not running.done(), running.result()
        other.execute("COMMIT")
        assert running.result(timeout=10) == {"reviewed": 1, "skipped": 1}
    statuses = [r["status"] for r in conn.execute("SELECT status FROM xp.purchases ORDER BY id")]
    assert statuses == ["declined", "approved"] and second
    assert refusal(conn, "SELECT xp.review_all('elsewhere', NULL, 1, now(), true)") == "XP002"
    assert refusal(conn, "SELECT xp.review_all('shop', NULL, NULL, now(), true)") == "XP002"
    assert refusal(conn, "SELECT xp.admin_review_count(NULL)") == "XP002"
    assert_consistent(conn)


def test_a_waiting_notice_of_a_review_does_not_stand_in_for_the_resync_of_an_approved_role(conn):
    """A review's notice only tells the member on Discord: an approval while one waits still queues
    the resync that gives the role, and the queue waits for that one, not for the notice."""
    item(conn, "vip", kind="discord_role", guild_id="42", role_id="777", days=3)
    item(conn, "hoodie")
    coins(conn, "discord", "d1", amount=500)
    hoodie = buy(conn, "hoodie", key="r0", who="d1", platform="discord")["purchase_id"]
    vip = buy(conn, "vip", who="d1", platform="discord")["purchase_id"]
    conn.execute("UPDATE xp.deliveries SET status = 'done', finished_at = now()")
    scalar(conn, "SELECT xp.review_purchase(%s, false, 'out of sizes')", hoodie)  # its notice waits, unclaimed
    scalar(conn, "SELECT xp.review_purchase(%s, true)", vip)
    queued = conn.execute("SELECT e.kind, e.payload ->> 'reason' AS reason FROM xp.deliveries d "
                          "JOIN xp.events e ON e.id = d.event_id WHERE d.status = 'pending' ORDER BY d.id").fetchall()
    assert [tuple(q.values()) for q in queued] == [("purchase_reviewed", None), ("roles_resync", "shop: vip"),
                                                   ("purchase_reviewed", None)]
    conn.execute("UPDATE xp.deliveries SET status = 'done', finished_at = now() WHERE event_id IN "
                 "(SELECT id FROM xp.events WHERE kind = 'purchase_reviewed')")  # the notices told
    assert role_state(conn, vip) == ("pending", None)
