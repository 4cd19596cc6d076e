"""The admin panel in a real headless Chromium against a real `xpsync web` server thread: an award a
bot makes (no NOTIFY) shows on an open page without a reload; a setting saved in the panel reaches a
running listener, and the page shows it took it up; a threshold preview is what applying then does;
a void reverses exactly the rows it previewed. With XPSYNC_SCREENSHOT_DIR set, the pages are saved
there (docs/img/admin-*.png are such screenshots)."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import as_bot, assert_consistent, call, scalar
from tests.web.browser import chromium
from tests.web.conftest import admin_env, as_web, login_token, web_settings
from tests.web.test_browser import shot, wait
from xpsync.db import as_role, create_pool
from xpsync.listener.discord_roles import DiscordRoles
from xpsync.listener.runtime import Listener, Options
from xpsync.listener.telegram_notices import TelegramNotices
from xpsync.web.serve import free_port, in_thread

pytestmark = pytest.mark.slow  # a real browser, a web server and a listener

PEOPLE = [("discord", "201", 40, "Ann"), ("telegram", "202", 270, "Boris"), ("discord", "203", 290, "Chen"),
          ("telegram", "204", 800, "Daria"), ("discord", "205", 1400, "Emil")]


@pytest.fixture
def site(db_url, sandbox, conn):
    conn.execute("UPDATE xp.settings SET value = '10000' WHERE key = 'telegram.messages_per_second'")
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'telegram.chat_interval_seconds'")
    for platform, external_id, xp, name in PEOPLE:
        call(conn, "award_xp", platform, external_id, xp, "seed", f"seed{external_id}", name)
    port = free_port()
    settings = web_settings(sandbox, XPSYNC_WEB_BIND=f"127.0.0.1:{port}", XPSYNC_PUBLIC_URL=f"http://127.0.0.1:{port}",
                            **admin_env(db_url))
    with in_thread(settings, as_web(db_url)) as url:
        yield url


@pytest.fixture
def panel(site, conn, tmp_path):
    """A browser signed in to the panel as admin 'ops' with a login link (its page, then one click)."""
    with chromium(tmp_path / "profile", width=1280, height=1000) as driver:
        driver.get(f"{site}/admin/login?token={login_token(conn, 'ops', 'admin')}")
        driver.find_element(By.ID, "login-button").click()
        wait(driver).until(lambda d: d.current_url.rstrip("/").endswith("/admin"))
        live(driver)
        yield driver


def live(driver) -> None:
    """The page's event stream is open (its first event came)."""
    wait(driver).until(lambda d: attribute(d, "#live", "data-state") == "on")


def open_page(driver, site: str, path: str) -> None:
    driver.get(site + path)
    live(driver)
    driver.execute_script("window.xpSamePage = true")  # gone if the page reloads


def same_page(driver) -> bool:
    return driver.execute_script("return window.xpSamePage === true")


def text(driver, css: str) -> str | None:
    """The element's text as shown now (read in the page: htmx may swap it between two WebDriver calls)."""
    return driver.execute_script("var e = document.querySelector(arguments[0]); return e && e.innerText.trim()", css)


def attribute(driver, css: str, name: str) -> str | None:
    script = "var e = document.querySelector(arguments[0]); return e && e.getAttribute(arguments[1])"
    return driver.execute_script(script, css, name)


def user_id(conn, platform: str, external_id: str) -> int:
    return scalar(conn, "SELECT user_id FROM xp.accounts WHERE platform = %s AND external_id = %s",
                  platform, external_id)


def screenshot(driver, name: str) -> None:
    driver.execute_script("window.scrollTo(0, 0)")
    shot(driver, name)


def test_an_award_a_bot_makes_appears_on_an_open_page_without_a_reload(panel, site, conn):
    uid = user_id(conn, "telegram", "202")
    open_page(panel, site, f"/admin/people/{uid}")
    assert text(panel, "#xp") == "270"
    for amount, total in ((15, "285"), (25, "310")):  # twice: the page keeps following
        made = time.monotonic()
        as_bot(conn, "award_xp", "telegram", "202", amount, "chat", f"live{amount}")
        # polled every 20 ms; 10 s is only a guard against hanging
        WebDriverWait(panel, 10, poll_frequency=0.02).until(lambda d, total=total: text(d, "#xp") == total)
        print(f"\naward shown on the open page {(time.monotonic() - made) * 1000:.0f} ms after its commit")
    assert same_page(panel)
    wait(panel, 10).until(lambda d: text(d, "#ledger tbody tr:first-child .delta") == "+25")  # the ledger too
    screenshot(panel, "admin-person.png")
    open_page(panel, site, "/admin/people")
    row = f"#people-rows tr[data-user='{uid}'] .xp"
    as_bot(conn, "award_xp", "telegram", "202", 5, "chat", "live-list")
    wait(panel, 10).until(lambda d: text(d, row) == "315")
    assert same_page(panel)


class ListenerThread:
    """A real Telegram (or Discord) listener on its own event loop and thread, delivering to the sandbox."""

    def __init__(self, db_url: str, sandbox: Any, owner: str, target: str = "telegram") -> None:
        self.url = as_role(db_url, "xp_listener")
        self.sandbox = sandbox
        self.owner = owner
        self.target = target
        self.listener: Listener | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), name="listener", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        pool = create_pool(self.url, max_size=4, name="test-admin-listener")
        await pool.open(wait=True, timeout=10)
        handler: TelegramNotices | DiscordRoles
        if self.target == "discord":
            handler = DiscordRoles(self.sandbox.discord.token, self.sandbox.discord_api_base, pool, call_timeout=2)
        else:
            handler = TelegramNotices(self.sandbox.telegram.token, self.sandbox.telegram_api_base, pool, call_timeout=2)
        await handler.start()
        try:
            self.listener = Listener(pool, self.url, handler, owner=self.owner,
                                     options=Options(batch_size=50, lease_seconds=5, poll_seconds=0.2, concurrency=4))
            self._ready.set()
            await self.listener.run(self._stop)
        finally:
            self._ready.set()
            await handler.close()
            await pool.close()

    def __enter__(self) -> ListenerThread:
        self._thread.start()
        assert self._ready.wait(20) and self.listener is not None
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(20)


def test_a_setting_saved_in_the_panel_reaches_a_running_listener(panel, site, conn, sandbox, db_url):
    owner = "telegram@browser:1"
    with ListenerThread(db_url, sandbox, owner) as running:
        open_page(panel, site, "/admin/settings")
        row = f"#process-table tr[data-instance='{owner}']"
        wait(panel, 10).until(lambda d: attribute(d, row, "data-instance"))  # its first heartbeat, live
        assert same_page(panel)
        form = panel.find_element(By.CSS_SELECTOR, "form[action='/admin/settings/telegram.messages_per_second']")
        field = form.find_element(By.NAME, "value")
        field.clear()
        field.send_keys("77")
        form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        wait(panel).until(lambda d: d.find_elements(By.ID, "flash"))
        live(panel)
        saved = scalar(conn, "SELECT xp.config_version()")
        assert attribute(panel, "#config-version", "data-version") == str(saved)
        # the listener takes it up (NOTIFY xp_config), beats, and the open page shows it
        wait(panel, 10).until(lambda d: attribute(d, row, "data-config-version") == str(saved))
        assert "✓" in (text(panel, f"{row} .took") or "")
        assert running.listener is not None and running.listener.settings["telegram.messages_per_second"] == 77
        assert scalar(conn, "SELECT actor FROM xp.admin_audit WHERE action = 'settings.update' "
                            "AND target = 'telegram.messages_per_second' ORDER BY id DESC LIMIT 1") == "ops"
        screenshot(panel, "admin-settings.png")
        open_page(panel, site, "/admin")  # the overview lists it among the running processes
        wait(panel, 10).until(lambda d: owner in (text(d, "#overview") or ""))
        screenshot(panel, "admin-overview.png")


def rank_counts(conn) -> dict[str, int]:
    rows = conn.execute("SELECT rank_id, count(*) AS n FROM xp.users GROUP BY 1").fetchall()
    return {str(r["rank_id"]): r["n"] for r in rows}


def column(driver, css: str) -> dict[str, int]:
    return {tr.get_attribute("data-rank"): int(tr.find_element(By.CSS_SELECTOR, css).text.replace(",", "") or 0)
            for tr in driver.find_elements(By.CSS_SELECTOR, "#thresholds tbody tr")}


def nonzero(counts: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in counts.items() if v}


def test_a_threshold_preview_is_what_applying_then_does(panel, site, conn):
    conn.execute("INSERT INTO xp.rank_roles VALUES ('g1', 2, 'r2'), ('g1', 3, 'r3')")
    conn.execute("DELETE FROM xp.deliveries")
    before = rank_counts(conn)
    open_page(panel, site, "/admin/ranks")
    for rank, value in (("2", "300"), ("3", "820")):  # Boris and Chen to rank 1, Daria to rank 2
        field = panel.find_element(By.NAME, f"min_xp.{rank}")
        field.clear()
        field.send_keys(value)
    panel.find_element(By.ID, "preview-button").click()
    wait(panel).until(lambda d: d.find_elements(By.ID, "preview"))
    assert rank_counts(conn) == before  # a preview changes nothing
    previewed_before, previewed_after = column(panel, ".before"), column(panel, ".after")
    effects = json.loads(panel.find_element(By.CSS_SELECTOR, "input[name=effects]").get_attribute("value"))
    assert nonzero(previewed_before) == before
    assert effects["rank_changes"] == {"2>1": 2, "3>2": 1}
    screenshot(panel, "admin-ranks-preview.png")
    events_before = scalar(conn, "SELECT coalesce(max(id), 0) FROM xp.events")
    panel.find_element(By.ID, "apply-button").click()
    wait(panel).until(lambda d: d.find_elements(By.ID, "applied"))
    assert nonzero(column(panel, ".after")) == nonzero(previewed_after) == rank_counts(conn)
    moves = Counter(f"{r['old']}>{r['new']}" for r in conn.execute(
        "SELECT payload->>'old_rank' AS old, payload->>'new_rank' AS new FROM xp.events "
        "WHERE kind = 'rank_changed' AND id > %s", (events_before,)))
    assert dict(moves) == effects["rank_changes"]
    made = {r["target"]: r["n"] for r in conn.execute("SELECT target, count(*) AS n FROM xp.deliveries GROUP BY 1")}
    assert made == {k: v for k, v in effects["deliveries"].items() if v}
    assert scalar(conn, "SELECT min_xp FROM xp.ranks WHERE id = 2") == 300
    assert_consistent(conn)


def set_field(driver, name: str, value: str) -> None:
    field = driver.find_element(By.CSS_SELECTOR, f"#void-filter [name={name}]")
    driver.execute_script("arguments[0].value = arguments[1]", field, value)


def test_a_void_reverses_exactly_the_rows_it_previewed(panel, site, conn):
    wave = {}
    for external_id in ("203", "204"):
        for i in range(3):
            row = as_bot(conn, "award_xp", "discord" if external_id == "203" else "telegram", external_id,
                         50 + i, "raid bonus", f"raid{external_id}-{i}")
            wave.setdefault(row["user_id"], []).append(50 + i)
    as_bot(conn, "award_xp", "telegram", "204", 9, "quiz", "not-a-raid")  # outside the filter: stays
    balances = {r["id"]: r["xp"] for r in conn.execute("SELECT id, xp FROM xp.users")}
    open_page(panel, site, "/admin/void")
    now = datetime.now(UTC)
    set_field(panel, "since", (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"))
    set_field(panel, "until", (now + timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"))
    set_field(panel, "reason", "raid")
    panel.find_element(By.ID, "void-preview-button").click()
    wait(panel).until(lambda d: d.find_elements(By.ID, "void-preview"))
    section = panel.find_element(By.ID, "void-preview")
    previewed = sorted(int(tr.get_attribute("data-ledger"))
                       for tr in panel.find_elements(By.CSS_SELECTOR, "#void-rows tbody tr"))
    assert int(section.get_attribute("data-rows")) == len(previewed) == 6
    screenshot(panel, "admin-void-preview.png")
    panel.find_element(By.CSS_SELECTOR, "#void-apply [name=note]").send_keys("raid of the night")
    panel.find_element(By.ID, "void-button").click()
    wait(panel).until(lambda d: d.find_elements(By.ID, "voided"))
    reversed_rows = conn.execute(
        "SELECT v.idempotency_key, v.delta AS v_delta, o.delta AS o_delta, o.id AS o_id, o.kind = v.kind AS same "
        "FROM xp.ledger v JOIN xp.ledger o ON v.idempotency_key = 'void:' || o.id "
        "WHERE v.source = 'void'").fetchall()
    assert sorted(r["o_id"] for r in reversed_rows) == previewed
    assert all(r["v_delta"] == -r["o_delta"] and r["same"] for r in reversed_rows)
    after = {r["id"]: r["xp"] for r in conn.execute("SELECT id, xp FROM xp.users")}
    assert after == {uid: xp - sum(wave.get(uid, [])) for uid, xp in balances.items()}
    assert scalar(conn, "SELECT actor FROM xp.admin_audit WHERE action = 'ledger.void'") == "ops"
    assert_consistent(conn)
