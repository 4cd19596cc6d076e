"""Achievements (design.md §2): unlocked in SQL when the criterion holds, once per person, with rewards,
events for both platforms, Discord roles, united by merges and backfilled by reconcile."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from tests.helpers import assert_consistent, call, scalar


def unlocked(conn, platform, external_id):
    return {a["code"] for a in scalar(conn, "SELECT xp.profile(%s, %s)", platform, external_id)["achievements"]}


def person_of(conn, platform, external_id):
    return scalar(conn, "SELECT user_id FROM xp.accounts WHERE platform = %s AND external_id = %s",
                  platform, external_id)


def no_cooldown(conn):
    conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'message.cooldown_seconds'")


def link(conn, issuer=("telegram", "t1"), redeemer=("discord", "d1")):
    code = scalar(conn, "SELECT xp.create_link_code(%s, %s)", *issuer)
    return scalar(conn, "SELECT xp.redeem_link_code(%s, %s, %s)", *redeemer, code)


def test_the_seeded_set_covers_games_streaks_messages_voice_tiers_and_linking(conn):
    rows = conn.execute("SELECT code, criterion, threshold FROM xp.achievements").fetchall()
    by_code = {r["code"]: (r["criterion"], r["threshold"]) for r in rows}
    assert by_code["first_win"] == ("games_won", 1)
    assert by_code["streak_7"] == ("streak", 7) and by_code["streak_30"] == ("streak", 30)
    assert by_code["messages_100"] == ("messages", 100) and by_code["messages_1000"] == ("messages", 1000)
    assert by_code["voice_1h"] == ("voice_seconds", 3600) and by_code["voice_10h"] == ("voice_seconds", 36000)
    assert by_code["linked"] == ("platforms", 2)
    assert {c for c in by_code if c.startswith("tier_")} == {f"tier_{t}" for t in "edcbas"}


def test_messages_unlock_at_exactly_the_threshold_and_not_before(conn):
    no_cooldown(conn)
    call(conn, "record_message", "telegram", "t1", "c", "m0", 10)
    conn.execute("UPDATE xp.users SET messages = 98")
    call(conn, "record_message", "telegram", "t1", "c", "m99", 10)
    assert "messages_100" not in unlocked(conn, "telegram", "t1")
    before = call(conn, "record_message", "telegram", "t1", "c", "m99", 10)  # a replay counts nothing
    result = call(conn, "record_message", "telegram", "t1", "c", "m100", 10)
    assert unlocked(conn, "telegram", "t1") == {"messages_100"}
    # the result already includes the reward: 100 XP and 50 coins on top of the message's 15-25
    assert result["xp"] - before["xp"] - 100 in range(15, 26)
    assert result["coins"] == before["coins"] + 50
    rewards = conn.execute("SELECT kind, delta FROM xp.ledger WHERE reason = 'achievement: Chatty' ORDER BY kind")
    assert [(r["kind"], r["delta"]) for r in rewards] == [("coins", 50), ("xp", 100)]
    event = conn.execute("SELECT payload FROM xp.events WHERE kind = 'achievement_unlocked'").fetchone()["payload"]
    assert (event["code"], event["name"], event["translations"]["ru"]) == ("messages_100", "Chatty", "Болтун")
    assert_consistent(conn)


def test_voice_unlocks_at_one_hour(conn):
    call(conn, "record_voice", "discord", "d1", "s1", 3599)
    assert unlocked(conn, "discord", "d1") == set()
    call(conn, "record_voice", "discord", "d1", "s1", 3600)
    assert unlocked(conn, "discord", "d1") == {"voice_1h"}


def test_a_seven_day_streak_unlocks_on_the_seventh_claim(conn):
    call(conn, "award_xp", "telegram", "a", 1, "r", "k-a")
    call(conn, "award_xp", "telegram", "b", 1, "r", "k-b")
    conn.execute("UPDATE xp.users SET last_daily = (now() AT TIME ZONE 'UTC')::date - 1, "
                 "streak = CASE WHEN id = %s THEN 5 ELSE 6 END", (person_of(conn, "telegram", "a"),))
    assert call(conn, "claim_daily", "telegram", "a")["streak"] == 6
    assert call(conn, "claim_daily", "telegram", "b")["streak"] == 7
    assert unlocked(conn, "telegram", "a") == set()
    assert unlocked(conn, "telegram", "b") == {"streak_7"}


def test_reaching_a_tier_unlocks_it_and_every_tier_passed(conn):
    call(conn, "award_xp", "discord", "d1", 1624, "r", "k1")  # F III, one short of E I
    assert unlocked(conn, "discord", "d1") == set()
    result = call(conn, "award_xp", "discord", "d1", 1, "r", "k2")
    assert unlocked(conn, "discord", "d1") == {"tier_e"}
    assert result["new_rank"] == 4
    call(conn, "award_xp", "discord", "d1", 20000, "r", "k3")  # straight to C I (18 375), passing D
    assert unlocked(conn, "discord", "d1") == {"tier_e", "tier_d", "tier_c"}
    assert_consistent(conn)


def test_unlocking_happens_once_under_concurrent_awards(conn, connect):
    no_cooldown(conn)
    call(conn, "record_message", "discord", "d1", "c", "seed", 10)
    conn.execute("UPDATE xp.users SET messages = 95")
    clients = 8

    def work(i, c):
        for n in range(4):
            call(c, "record_message", "discord", "d1", "c", f"m{i}-{n}", 10)
            call(c, "award_xp", "discord", "d1", 400, "burst", f"burst-{i}-{n}")

    conns = [connect() for _ in range(clients)]
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, range(clients), conns))
    rows = conn.execute("SELECT code, count(*) AS n FROM xp.user_achievements GROUP BY code").fetchall()
    assert all(r["n"] == 1 for r in rows)
    assert {"messages_100", "tier_e", "tier_d"} <= {r["code"] for r in rows}
    paid = scalar(conn, "SELECT count(*) FROM xp.ledger WHERE reason LIKE 'achievement:%%'")
    assert paid == scalar(conn, "SELECT count(*) FROM xp.achievements a JOIN xp.user_achievements u USING (code) "
                                "WHERE a.reward_xp > 0") + scalar(
        conn, "SELECT count(*) FROM xp.achievements a JOIN xp.user_achievements u USING (code) WHERE a.reward_coins > 0")
    events = scalar(conn, "SELECT count(*) FROM xp.events WHERE kind = 'achievement_unlocked'")
    assert events == len(rows)
    assert_consistent(conn)


def test_linking_unlocks_two_worlds_once_however_often_it_is_repeated(conn):
    call(conn, "award_xp", "telegram", "t1", 10, "r", "k1")
    link(conn)
    assert unlocked(conn, "discord", "d1") == {"linked"}
    coins = scalar(conn, "SELECT coins FROM xp.users WHERE id = %s", person_of(conn, "telegram", "t1"))
    for _ in range(3):
        scalar(conn, "SELECT xp.unlink('discord', 'd1')")
        link(conn)
    assert scalar(conn, "SELECT coins FROM xp.users WHERE id = %s", person_of(conn, "telegram", "t1")) == coins
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE reason = 'achievement: Two worlds' AND kind = 'coins'") == 1
    assert_consistent(conn)


def test_a_merge_unites_achievements_and_unlocks_what_the_sums_reach(conn):
    no_cooldown(conn)
    call(conn, "record_voice", "telegram", "t1", "s", 3600)  # voice_1h on one side
    call(conn, "record_voice", "discord", "d1", "s", 3700)  # ... and on the other
    call(conn, "record_message", "telegram", "t1", "c", "m", 10)
    call(conn, "record_message", "discord", "d1", "c", "m", 10)
    conn.execute("UPDATE xp.users SET messages = 60")  # 60 + 60 once merged
    assert unlocked(conn, "telegram", "t1") == unlocked(conn, "discord", "d1") == {"voice_1h"}
    survivor = link(conn)
    assert unlocked(conn, "discord", "d1") == {"voice_1h", "messages_100", "linked"}
    assert scalar(conn, "SELECT count(*) FROM xp.user_achievements WHERE user_id = %s AND code = 'voice_1h'",
                  survivor) == 1
    # both sides earned voice_1h before they were one person: both rewards stay, none is paid again
    assert scalar(conn, "SELECT count(*) FROM xp.ledger WHERE reason = 'achievement: On air' AND kind = 'xp'") == 2
    assert scalar(conn, "SELECT count(*) FROM xp.user_achievements WHERE user_id <> %s", survivor) == 0
    assert_consistent(conn)


def test_achievements_reach_telegram_only_while_notices_are_on_and_discord_always(conn):
    call(conn, "award_xp", "telegram", "t1", 10, "r", "k1")
    link(conn)
    targets = {r["target"] for r in conn.execute(
        "SELECT d.target FROM xp.deliveries d JOIN xp.events e ON e.id = d.event_id "
        "WHERE e.kind = 'achievement_unlocked'")}
    assert targets == {"telegram", "discord"}
    assert scalar(conn, "SELECT xp.set_notify('discord', 'd1', false)") is False
    conn.execute("UPDATE xp.users SET messages = 99")
    no_cooldown(conn)
    call(conn, "record_message", "discord", "d1", "c", "m", 10)
    last = conn.execute("SELECT array_agg(d.target) AS t FROM xp.deliveries d WHERE d.event_id = "
                        "(SELECT max(id) FROM xp.events WHERE kind = 'achievement_unlocked')").fetchone()["t"]
    assert last == ["discord"]


def test_an_achievement_role_is_planned_for_discord_after_unlocking(conn):
    conn.execute("INSERT INTO xp.achievement_roles (guild_id, code, role_id) VALUES ('g', 'voice_1h', 'r-voice')")
    conn.execute("INSERT INTO xp.rank_roles (guild_id, rank_id, role_id) VALUES ('g', 1, 'r-1')")
    call(conn, "record_voice", "discord", "d1", "s", 600)
    uid = person_of(conn, "discord", "d1")
    plan = conn.execute("SELECT * FROM xp.discord_role_plan(%s)", (uid,)).fetchone()
    assert (plan["desired"], sorted(plan["managed"])) == (["r-1"], ["r-1", "r-voice"])
    call(conn, "record_voice", "discord", "d1", "s", 3600)
    plan = conn.execute("SELECT * FROM xp.discord_role_plan(%s)", (uid,)).fetchone()
    assert plan["desired"] == ["r-1", "r-voice"]


def test_achievement_roles_alone_make_a_guild_managed(conn):
    conn.execute("INSERT INTO xp.achievement_roles (guild_id, code, role_id) VALUES ('g2', 'voice_1h', 'rv')")
    call(conn, "record_voice", "discord", "d1", "s", 3600)
    plan = conn.execute("SELECT * FROM xp.discord_role_plan(%s)", (person_of(conn, "discord", "d1"),)).fetchall()
    assert [(p["guild_id"], p["desired"], p["managed"]) for p in plan] == [("g2", ["rv"], ["rv"])]


def test_a_definition_added_later_is_unlocked_by_reconcile(conn):
    no_cooldown(conn)
    for n in range(6):
        call(conn, "record_message", "telegram", "t1", "c", f"m{n}", 10)
    conn.execute("INSERT INTO xp.achievements (code, name, criterion, threshold, reward_coins) "
                 "VALUES ('messages_5', 'Hello', 'messages', 5, 7)")
    found = conn.execute("SELECT * FROM xp.reconcile_all(true) WHERE check_name = 'achievements'").fetchall()
    assert [(f["expected"], f["fixed"]) for f in found] == [("unlocked: messages_5", False)]
    assert unlocked(conn, "telegram", "t1") == set()
    conn.execute("SELECT * FROM xp.reconcile_all()")
    assert unlocked(conn, "telegram", "t1") == {"messages_5"}
    assert scalar(conn, "SELECT coins FROM xp.users") == 7
    assert conn.execute("SELECT * FROM xp.reconcile_all(true)").fetchall() == []


def test_forgotten_people_unlock_nothing(conn):
    call(conn, "record_voice", "discord", "d1", "s", 60)
    uid = person_of(conn, "discord", "d1")
    conn.execute("SELECT xp.forget_person(%s)", (uid,))
    conn.execute("UPDATE xp.users SET voice_seconds = 99999")
    assert conn.execute("SELECT * FROM xp.reconcile_all() WHERE check_name = 'achievements'").fetchall() == []
    assert scalar(conn, "SELECT count(*) FROM xp.user_achievements") == 0
