"""The shop's approval queue in a real headless Chromium against a real `xpsync web`: a purchase a
bot makes appears on the open queue without a reload, an operator approves it with a click, and the
buyer's balance on the queue follows a later award live; an approved Discord role shows as given
once a real Discord listener gave it in the sandbox guild."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.helpers import as_bot, scalar
from tests.web.test_admin_browser import (
    ListenerThread,
    open_page,
    panel,  # noqa: F401 - a fixture
    same_page,
    site,  # noqa: F401 - a fixture
    text,
    user_id,
)
from tests.web.test_browser import wait

pytestmark = pytest.mark.slow  # a real browser and a web server


def test_an_operator_approves_a_pending_purchase_and_the_balance_follows_live(panel, site, conn):  # noqa: F811
    conn.execute("INSERT INTO xp.shop_items (code, kind, title, price, stock) "
                 "VALUES ('hoodie', 'custom', '{\"en\": \"Hoodie\"}', 100, 5)")
    as_bot(conn, "award_coins", "telegram", "202", 300, "gift", "gift-1")
    uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE external_id = '202'")
    open_page(panel, site, "/admin/shop")
    assert text(panel, "#queue td.empty") == "Nothing is waiting."
    conn.execute("SET ROLE xp_bot")
    try:
        bought = scalar(conn, "SELECT xp.buy('telegram', '202', 'hoodie', 'tap-1')")
    finally:
        conn.execute("RESET ROLE")
    row = f"#queue tr[data-review='{bought['purchase_id']}']"
    coins = scalar(conn, "SELECT coins FROM xp.users WHERE id = %s", uid)  # 100 fewer than before it
    wait(panel, 10).until(lambda d: text(d, f"{row} .balance") == str(coins))  # the bot's purchase, live
    assert same_page(panel)
    panel.find_element(By.CSS_SELECTOR, f"{row} input[name=note]").send_keys("enjoy")
    panel.find_element(By.ID, f"approve-{bought['purchase_id']}").click()
    wait(panel, 10).until(lambda d: text(d, "#flash") == f"#{bought['purchase_id']} approved.")
    assert scalar(conn, "SELECT status || ' ' || reviewed_by || ' ' || note FROM xp.purchases") == "approved ops enjoy"
    open_page(panel, site, "/admin/shop?state=approved")
    assert text(panel, f"{row} .balance") == str(coins)
    as_bot(conn, "award_coins", "telegram", "202", 40, "chat", "live-coins")
    wait(panel, 10).until(lambda d: text(d, f"{row} .balance") == str(coins + 40))
    assert same_page(panel)


GUILD, ROLE, MEMBER_ROLE = "930000000000000001", "931000000000000088", "931000000000000099"


def test_an_approved_discord_role_shows_as_given_once_a_running_listener_gave_it(panel, site, conn, sandbox,  # noqa: F811
                                                                                 db_url):
    """The queue shows the buyer's balance, then "waiting for Discord" and, once a real Discord
    listener has put the role on the member in the sandbox guild, "role given" with its end; the
    person's page lists the role among the roles they hold by plan, given, without a reload."""
    sandbox.discord.add_guild(GUILD, [ROLE, MEMBER_ROLE])
    sandbox.discord.add_member(GUILD, "201", [MEMBER_ROLE])
    conn.execute("INSERT INTO xp.shop_items (code, kind, title, price, guild_id, role_id, days) "
                 "VALUES ('vip', 'discord_role', '{\"en\": \"VIP\"}', 100, %s, %s, 7)", (GUILD, ROLE))
    as_bot(conn, "award_coins", "discord", "201", 300, "gift", "gift-1")
    bought = as_bot(conn, "buy", "discord", "201", "vip", "tap-1")["buy"]
    uid = user_id(conn, "discord", "201")
    conn.execute("DELETE FROM xp.deliveries")  # a quiet outbox: the approval's resync is the one to watch
    row = f"#queue tr[data-review='{bought['purchase_id']}']"
    open_page(panel, site, "/admin/shop")
    assert text(panel, f"{row} .role") == "7 days once approved"
    coins = scalar(conn, "SELECT coins FROM xp.users WHERE id = %s", uid)
    assert text(panel, f"{row} .balance") == str(coins)
    panel.find_element(By.ID, f"approve-{bought['purchase_id']}").click()
    wait(panel, 10).until(lambda d: text(d, "#flash") == f"#{bought['purchase_id']} approved.")
    open_page(panel, site, "/admin/shop?state=approved")
    assert text(panel, f"{row} .balance") == str(coins)
    assert (text(panel, f"{row} .role-state") or "") == "waiting for Discord"  # no listener runs yet
    assert ROLE not in sandbox.discord.roles_of(GUILD, "201")
    with ListenerThread(db_url, sandbox, "discord@browser:1", target="discord"):
        wait(panel, 15).until(lambda d: text(d, f"{row} .role-state") == "role given")
        assert same_page(panel)
        assert sandbox.discord.roles_of(GUILD, "201") == {ROLE, MEMBER_ROLE}
        until = scalar(conn, "SELECT to_char(expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI') FROM xp.purchases")
        assert text(panel, f"{row} .until") == f"until {until} UTC"
        as_bot(conn, "award_coins", "discord", "201", 40, "chat", "live-coins")  # the balance still follows
        wait(panel, 10).until(lambda d: text(d, f"{row} .balance") == str(coins + 40))
        open_page(panel, site, f"/admin/people/{uid}")
        shop_row = f"#person-roles tr[data-guild='{GUILD}'][data-role='{ROLE}']"
        assert text(panel, f"{shop_row} .role-state") == "role given"
        assert "shop: VIP" in (text(panel, shop_row) or "")
