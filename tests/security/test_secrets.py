"""Tokens and database passwords never appear in logs or error output, even at DEBUG."""

from __future__ import annotations

import signal

import pytest

from tests.helpers import call
from tests.listener.conftest import G1, R2
from tests.listener.test_runtime import listen, wait_until
from xpsync.sandbox import Sandbox, SandboxThread

TELEGRAM_TOKEN = "424242:AAF-very-secret-telegram-token"
DISCORD_TOKEN = "MTIz.very-secret-discord-token.xyz"
PASSWORD = "db-secret-password-77"


@pytest.mark.slow
def test_listeners_never_log_a_secret(conn, db_url):
    conn.execute("INSERT INTO xp.rank_roles VALUES (%s, 2, %s)", (G1, R2))
    conn.execute("UPDATE xp.settings SET value = '0.05' WHERE key = 'delivery.backoff_base_seconds'")
    call(conn, "chat_opened", "telegram", "501")  # pressed Start: the listener writes to them
    code = conn.execute("SELECT xp.create_link_code('telegram', '501') AS c").fetchone()["c"]
    conn.execute("SELECT xp.redeem_link_code('discord', '601', %s)", (code,))
    url = db_url.replace("postgresql://postgres@", f"postgresql://postgres:{PASSWORD}@")
    with SandboxThread(Sandbox(discord_token=DISCORD_TOKEN, telegram_token=TELEGRAM_TOKEN)) as box:
        box.discord.add_guild(G1, [R2], forbidden=[R2])  # a 403 to log
        box.discord.add_member(G1, "601")
        box.telegram.open_chat("501")
        box.faults.script("telegram", "5xx", "429")
        procs = [listen(t, url, box, XPSYNC_LOG_LEVEL="DEBUG") for t in ("discord", "telegram")]
        try:
            call(conn, "award_xp", "telegram", "501", 300, "quiz", "k1")
            wait_until(lambda: conn.execute("SELECT count(*) AS n FROM xp.deliveries WHERE status = 'pending'"
                                            ).fetchone()["n"] == 0, 60)
        finally:
            for proc in procs:
                proc.send_signal(signal.SIGTERM)
            outputs = [proc.communicate(timeout=30) for proc in procs]
    logs = "".join(out + err for out, err in outputs)
    assert f"discord 403 in guild {G1}" in logs  # the failure itself is logged…
    assert "retry after" in logs.lower() or "429" in logs
    for secret in (TELEGRAM_TOKEN, DISCORD_TOKEN, PASSWORD, TELEGRAM_TOKEN.split(":")[1]):
        assert secret not in logs  # …but no secret is
    stored = "".join(r["last_error"] or "" for r in conn.execute("SELECT last_error FROM xp.deliveries"))
    assert DISCORD_TOKEN not in stored and TELEGRAM_TOKEN not in stored


def test_the_log_formatter_masks_secrets_in_messages_and_tracebacks(capsys):
    import logging

    from xpsync import logs
    from xpsync.settings import Settings

    settings = Settings.from_env({"TELEGRAM_TOKEN": TELEGRAM_TOKEN, "DISCORD_TOKEN": DISCORD_TOKEN,
                                  "DATABASE_URL": f"postgresql://u:{PASSWORD}@db/x"})
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure(settings)
        log = logging.getLogger("xpsync.test")
        log.warning("POST https://api.telegram.org/bot%s/sendMessage failed", TELEGRAM_TOKEN)
        try:
            raise RuntimeError(f"Authorization: Bot {DISCORD_TOKEN} (db password {PASSWORD})")
        except RuntimeError:
            log.exception("call failed")
    finally:
        root.handlers[:], level = saved
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "bot********/sendMessage" in err and "Bot ******** (db password ********)" in err
    for secret in (TELEGRAM_TOKEN, DISCORD_TOKEN, PASSWORD):
        assert secret not in err
