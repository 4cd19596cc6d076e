"""The pages in a real headless Chromium: the board, search, a profile, sign-in through the
sandbox's Discord OAuth2, linking a Telegram account through the Login Widget's redirect, and the
merged profile. With XPSYNC_SCREENSHOT_DIR set, the board and a profile are saved there
(docs/img holds the ones the README shows)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlencode

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from tests.helpers import call, scalar, telegram_login
from tests.web.browser import chromium
from tests.web.conftest import as_web, web_settings
from xpsync.web.serve import free_port, in_thread

pytestmark = pytest.mark.slow  # a real browser and a web server

NAMES = ["Аня Смирнова", "Ben <b>bold</b>", "Chloé", "Dmitri", "Eve", "Фёдор", "Gus", "Hana", "Ivo", "Jun"]


@pytest.fixture
def site(db_url, sandbox, conn):
    for i, name in enumerate(NAMES):
        platform = "telegram" if i % 2 else "discord"
        call(conn, "award_xp", platform, str(1000 + i), 3000 - 250 * i, "seed", f"seed{i}", name)
    port = free_port()
    settings = web_settings(sandbox, XPSYNC_WEB_BIND=f"127.0.0.1:{port}", XPSYNC_PUBLIC_URL=f"http://127.0.0.1:{port}")
    with in_thread(settings, as_web(db_url)) as url:
        yield url


def wait(driver, seconds=10):
    return WebDriverWait(driver, seconds)


def shot(driver, name: str) -> None:
    target = os.environ.get("XPSYNC_SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(Path(target) / name))


def board_names(driver):
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#board a.person")]


def test_board_search_profile_sign_in_and_link_in_a_real_browser(site, sandbox, conn, tmp_path):
    with chromium(tmp_path / "profile") as driver:
        driver.get(site + "/")
        assert board_names(driver)[:3] == ["Аня Смирнова", "Ben <b>bold</b>", "Chloé"]  # literally, escaped
        shot(driver, "board.png")

        # search as you type (htmx swaps the rows in place)
        box = driver.find_element(By.ID, "q")
        box.send_keys("ф")
        wait(driver).until(lambda d: board_names(d) == ["Фёдор"])
        assert "q=%D1%84" in driver.current_url  # the URL follows, so it can be shared

        # a profile with its rank card
        driver.find_element(By.CSS_SELECTOR, "#board a.person").click()
        wait(driver).until(ec.text_to_be_present_in_element((By.ID, "name"), "Фёдор"))
        card = driver.find_element(By.CSS_SELECTOR, "img.card")
        wait(driver).until(lambda d: d.execute_script("return arguments[0].naturalWidth", card) == 800)

        # sign in with Discord through the sandbox's OAuth2 pages
        sandbox.oauth.login_as("700000000000000001", "dana", "Dana")
        driver.find_element(By.ID, "sign-in").click()
        driver.find_element(By.ID, "discord-sign-in").click()
        wait(driver).until(ec.presence_of_element_located((By.ID, "privacy")))
        assert driver.find_element(By.ID, "name").text == "Dana"
        me = scalar(conn, "SELECT xp.account_person('discord', '700000000000000001')")
        assert driver.current_url == f"{site}/u/{me}"
        call(conn, "award_xp", "discord", "700000000000000001", 400, "r", "kd")

        # the Telegram Login Widget redirects with its signed fields: a confirmation page, then one person
        # (the widget itself is Telegram's script, which a loopback test cannot load: its redirect is
        # built from the way back our sign-in page gave it)
        driver.get(f"{site}/sign-in")
        back = driver.find_element(By.CSS_SELECTOR, "script[data-auth-url]").get_attribute("data-auth-url")
        fields = telegram_login(sandbox.telegram.token, "1001", "Ben")
        driver.get(f"{back}&{urlencode(fields)}")
        wait(driver).until(ec.presence_of_element_located((By.ID, "preview")))
        assert "Dana (Discord)" in driver.page_source and "Ben (Telegram)" in driver.page_source
        driver.find_element(By.ID, "link-confirm").click()
        wait(driver).until(ec.presence_of_element_located((By.ID, "flash")))
        platforms = driver.find_element(By.ID, "platforms").text
        assert "Discord" in platforms and "Telegram" in platforms
        merged = scalar(conn, "SELECT xp.account_person('telegram', '1001')")
        assert merged == scalar(conn, "SELECT xp.account_person('discord', '700000000000000001')")
        xp = scalar(conn, "SELECT xp FROM xp.users WHERE id = %s", merged)
        assert driver.find_element(By.ID, "xp").text == f"{xp:,}".replace(",", " ") and xp >= 2750 + 400

        # the merged person is on the board where Ben was
        driver.get(site + "/")
        assert "Dana" in board_names(driver) or "Ben <b>bold</b>" in board_names(driver)


def test_a_profile_fits_a_phone_screen_and_shows_the_card(site, conn, tmp_path):
    uid = scalar(conn, "SELECT xp.account_person('discord', '1000')")
    with chromium(tmp_path / "phone", width=412, height=915) as driver:
        driver.get(f"{site}/u/{uid}?lang=ru")
        card = driver.find_element(By.CSS_SELECTOR, "img.card")
        wait(driver).until(lambda d: d.execute_script("return arguments[0].naturalWidth", card) == 800)
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
        assert "Платформы" in driver.page_source
        shot(driver, "profile.png")
        driver.get(f"{site}/")
        assert driver.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")


def test_the_pages_break_no_content_security_rule(site, conn, tmp_path):
    uid = scalar(conn, "SELECT xp.account_person('discord', '1000')")
    with chromium(tmp_path / "csp") as driver:
        for path in ("/", f"/u/{uid}", "/ranks", "/?q=a"):
            driver.get(site + path)
            violations = driver.execute_script(
                "return performance.getEntriesByType('resource').filter(e => !e.name.startsWith(location.origin))"
                ".map(e => e.name)")
            assert violations == [], path
            logs = [e for e in driver.get_log("browser") if "Content Security Policy" in e.get("message", "")]
            assert logs == [], (path, logs)
