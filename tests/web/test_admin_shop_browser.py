"""The shop's approval queue in a real headless Chromium against a real `xpsync web`: a purchase a
bot makes appears on the open queue without a reload, an operator approves it with a click, and the
buyer's balance on the queue follows a later award live."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By

from tests.helpers import scalar
from tests.web.test_admin_browser import as_bot, open_page, panel, same_page, site, text  # noqa: F401 - fixtures
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
