"""design.md §13: every public SQL function under hostile input raises only XP00x errors, never an
internal error, and never writes part of a call; balances equal ledger sums after every example."""

from __future__ import annotations

import json
from datetime import UTC

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from tests.helpers import balances_match_ledger

INT32 = st.integers(min_value=-(2**31), max_value=2**31 - 1)
HOSTILE = st.one_of(
    st.sampled_from(["telegram", "discord", "website", "", " ", "TELEGRAM", "x" * 201, "x" * 10_000,
                     "'; DROP TABLE xp.ledger; --", "1 OR 1=1", "$$; SELECT 1; $$", "%s", "\\", "Ⅻ🎉",
                     "42", "-1", "0", "ABCD2345", "abcd-2345"]),
    st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=300),
)
MAYBE_NULL_TEXT = st.one_of(st.none(), HOSTILE)
MAYBE_NULL_INT = st.one_of(st.none(), INT32, st.sampled_from([0, 1, -1, 1_000_000, 1_000_001, -1_000_000]))
MAYBE_NULL_BIGINT = st.one_of(st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1))
# mostly valid values, so that hostile ones also reach the code behind the first check
PLATFORM = st.one_of(st.sampled_from(["telegram", "discord", "website"]), st.just("telegram"), MAYBE_NULL_TEXT)
ID = st.one_of(st.sampled_from(["42", "43", "7"]), st.text(min_size=1, max_size=20).filter(lambda t: "\x00" not in t),
               MAYBE_NULL_TEXT)
AMOUNT = st.one_of(st.integers(-400, 400), st.integers(-1_000_000, 1_000_000), MAYBE_NULL_INT)
WORDS = st.one_of(st.text(min_size=1, max_size=40).filter(lambda t: "\x00" not in t), MAYBE_NULL_TEXT)
PERSON = st.one_of(st.sampled_from([1, 2, 3]), MAYBE_NULL_BIGINT)
PERIOD = st.one_of(st.sampled_from(["all", "week", "month", "season"]), MAYBE_NULL_TEXT)

# JSON for the batch entry points: arrays of items with hostile fields, or anything else at all
JSON_SCALAR = st.one_of(st.none(), st.booleans(), INT32, st.integers(-(2**70), 2**70),
                        st.floats(allow_nan=False, allow_infinity=False), HOSTILE)


# a NUL cannot be in a jsonb text at all: the cast refuses it before any function runs
JSON_KEY = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=5)


def batch(fields: dict) -> st.SearchStrategy:
    item = st.fixed_dictionaries(fields, optional={"display_name": st.one_of(MAYBE_NULL_TEXT, JSON_SCALAR)})
    return st.one_of(st.none(),
                     st.one_of(st.lists(st.one_of(item, JSON_SCALAR, st.lists(JSON_SCALAR, max_size=2)), max_size=6),
                               JSON_SCALAR, st.dictionaries(JSON_KEY, JSON_SCALAR, max_size=3)).map(Jsonb))


CALLS = {
    "award_many": ("SELECT * FROM xp.award_many(%s)",
                   [batch({"platform": PLATFORM, "external_id": ID, "amount": st.one_of(AMOUNT, JSON_SCALAR),
                           "reason": WORDS, "idempotency_key": WORDS})]),
    "record_messages": ("SELECT * FROM xp.record_messages(%s)",
                        [batch({"platform": PLATFORM, "external_id": ID, "chat_id": ID, "message_id": ID,
                                "length": st.one_of(AMOUNT, JSON_SCALAR)})]),
    "award_xp": ("SELECT * FROM xp.award_xp(%s, %s, %s::int, %s, %s, %s)",
                 [PLATFORM, ID, AMOUNT, WORDS, WORDS, MAYBE_NULL_TEXT]),
    "award_coins": ("SELECT * FROM xp.award_coins(%s, %s, %s::int, %s, %s)", [PLATFORM, ID, AMOUNT, WORDS, WORDS]),
    "claim_daily": ("SELECT * FROM xp.claim_daily(%s, %s, %s)", [PLATFORM, ID, MAYBE_NULL_TEXT]),
    "record_message": ("SELECT * FROM xp.record_message(%s, %s, %s, %s, %s::int, %s)",
                       [PLATFORM, ID, ID, ID, AMOUNT, MAYBE_NULL_TEXT]),
    "record_voice": ("SELECT * FROM xp.record_voice(%s, %s, %s, %s::int)", [PLATFORM, ID, ID, AMOUNT]),
    "create_link_code": ("SELECT xp.create_link_code(%s, %s)", [PLATFORM, ID]),
    "redeem_link_code": ("SELECT xp.redeem_link_code(%s, %s, %s)", [PLATFORM, ID, WORDS]),
    "unlink": ("SELECT xp.unlink(%s, %s)", [PLATFORM, ID]),
    "profile": ("SELECT xp.profile(%s, %s)", [PLATFORM, ID]),
    "leaderboard": ("SELECT * FROM xp.leaderboard(%s::int, %s, %s::int, %s)",
                    [st.one_of(st.integers(0, 101), MAYBE_NULL_INT), PERIOD,
                     st.one_of(st.integers(-1, 200), MAYBE_NULL_INT), MAYBE_NULL_TEXT]),
    "board_size": ("SELECT xp.board_size(%s)", [PERIOD]),
    "rank_ladder": ("SELECT * FROM xp.rank_ladder()", []),
    "set_privacy": ("SELECT xp.set_privacy(%s, %s, %s)", [PLATFORM, ID, st.one_of(st.none(), st.booleans())]),
    "public_profile": ("SELECT xp.public_profile(%s::bigint, %s::bigint)", [PERSON, PERSON]),
    "account_person": ("SELECT xp.account_person(%s, %s)", [PLATFORM, ID]),
    "web_settings": ("SELECT xp.web_settings()", []),
    "web_sign_in": ("SELECT xp.web_sign_in(%s, %s, %s)", [PLATFORM, ID, MAYBE_NULL_TEXT]),
    "link_accounts": ("SELECT xp.link_accounts(%s, %s, %s, %s, %s)",
                      [PLATFORM, ID, PLATFORM, ID, st.one_of(st.none(), st.booleans())]),
    "create_api_key": ("SELECT xp.create_api_key(%s)", [WORDS]),
    "revoke_api_key": ("SELECT xp.revoke_api_key(%s)", [WORDS]),
    "api_key_name": ("SELECT xp.api_key_name(%s)", [MAYBE_NULL_TEXT]),
    "refresh_places": ("SELECT xp.refresh_places(%s)", [st.one_of(st.none(), st.booleans())]),
    "request_resync": ("SELECT xp.request_resync(%s, %s)", [PLATFORM, ID]),
    "discord_roles_changed": ("SELECT xp.discord_roles_changed(%s, %s, %s::text[], %s::text[])",
                              [st.one_of(st.sampled_from(["g1", "77"]), MAYBE_NULL_TEXT), ID,
                               st.one_of(st.none(), st.lists(st.one_of(st.sampled_from(["r2", "r3"]), MAYBE_NULL_TEXT),
                                                             max_size=3)),
                               st.one_of(st.none(), st.lists(st.one_of(st.sampled_from(["r2", "r3"]), MAYBE_NULL_TEXT),
                                                             max_size=3))]),
    "set_notify": ("SELECT xp.set_notify(%s, %s, %s)", [PLATFORM, ID, st.one_of(st.none(), st.booleans())]),
    "start_game": ("SELECT xp.start_game(%s, %s, %s)",
                   [PLATFORM, ID, st.one_of(st.sampled_from(["guess", "quiz", "spin"]), MAYBE_NULL_TEXT)]),
    "play_game": ("SELECT xp.play_game(%s, %s, %s::bigint, %s)",
                  [PLATFORM, ID, PERSON, st.one_of(st.sampled_from(["1", "50", "100", "0", " 7 "]), MAYBE_NULL_TEXT)]),
    "language": ("SELECT xp.language(%s, %s)", [PLATFORM, ID]),
    "set_language": ("SELECT xp.set_language(%s, %s, %s)",
                     [PLATFORM, ID, st.one_of(st.sampled_from(["en", "ru", "RU", "de"]), MAYBE_NULL_TEXT)]),
    "set_client_language": ("SELECT xp.set_client_language(%s, %s, %s)",
                            [PLATFORM, ID, st.one_of(st.sampled_from(["en", "ru-RU", "pt_br", "x", "zh-hans"]),
                                                     MAYBE_NULL_TEXT)]),
    "adjust": ("SELECT * FROM xp.adjust(%s::bigint, %s, %s::int, %s, %s)",
               [PERSON, st.one_of(st.sampled_from(["xp", "coins"]), MAYBE_NULL_TEXT), AMOUNT, WORDS, WORDS]),
    "import_xp": ("SELECT * FROM xp.import_xp(%s, %s, %s::bigint, %s::bigint, %s, %s)",
                  [PLATFORM, ID, st.one_of(st.none(), st.integers(-5, 3_000_000), MAYBE_NULL_BIGINT),
                   st.one_of(st.none(), st.integers(-5, 10_000), MAYBE_NULL_BIGINT),
                   st.one_of(WORDS, st.sampled_from(["xpsync:x", "mee6:1"])), MAYBE_NULL_TEXT]),
    "export_accounts": ("SELECT * FROM xp.export_accounts()", []),
    "reconcile_user": ("SELECT * FROM xp.reconcile_user(%s::bigint, %s)",
                       [PERSON, st.one_of(st.none(), st.booleans())]),
    "cleanup": ("SELECT xp.cleanup(%s::interval)",
                [st.sampled_from([None, "1 day", "-1 day", "0", "100 years", "1 second"])]),
    "reconcile_all": ("SELECT * FROM xp.reconcile_all(%s)", [st.one_of(st.none(), st.booleans())]),
    "stats": ("SELECT xp.stats()", []),
    "forget_person": ("SELECT xp.forget_person(%s::bigint)", [PERSON]),
    "resync_roles": ("SELECT xp.resync_roles(%s::bigint)", [PERSON]),
    "rerank_batch": ("SELECT xp.rerank_batch(%s::int)", [AMOUNT]),
    "claim_deliveries": ("SELECT * FROM xp.claim_deliveries(%s, %s, %s::int, %s::int)",
                         [st.one_of(st.sampled_from(["discord", "telegram"]), MAYBE_NULL_TEXT), WORDS, AMOUNT, AMOUNT]),
    "ack_deliveries": ("SELECT xp.ack_deliveries(%s, %s::bigint[], %s::int[], %s::text[], %s::text[])",
                       [WORDS, st.lists(st.one_of(st.none(), st.integers(-5, 10)), max_size=5),
                        st.lists(st.one_of(st.none(), INT32), max_size=5),
                        st.one_of(st.none(), st.lists(MAYBE_NULL_TEXT, max_size=5)),
                        st.one_of(st.none(), st.lists(MAYBE_NULL_TEXT, max_size=5))]),
    "fail_delivery": ("SELECT xp.fail_delivery(%s::bigint, %s, %s::int, %s, %s, %s::float8, %s)",
                      [PERSON, WORDS, AMOUNT, MAYBE_NULL_TEXT, st.one_of(st.none(), st.booleans()),
                       st.one_of(st.none(), st.floats()), st.one_of(st.none(), st.booleans())]),
    "release_deliveries": ("SELECT xp.release_deliveries(%s, %s::bigint[])",
                           [WORDS, st.lists(st.one_of(st.none(), st.integers(-5, 10)), max_size=5)]),
    "discord_role_plan": ("SELECT * FROM xp.discord_role_plan(%s::bigint)", [PERSON]),
    "telegram_recipient": ("SELECT * FROM xp.telegram_recipient(%s::bigint)", [PERSON]),
    "discord_recipient": ("SELECT * FROM xp.discord_recipient(%s::bigint)", [PERSON]),
    "chat_opened": ("SELECT xp.chat_opened(%s, %s)", [PLATFORM, ID]),
    "reserve_slot": ("SELECT * FROM xp.reserve_slot(%s::text[], %s::float8[], %s::float8, %s::int[])",
                     [st.one_of(st.none(), st.lists(MAYBE_NULL_TEXT, max_size=12)),
                      st.one_of(st.none(), st.lists(st.one_of(st.none(), st.floats()), max_size=12)),
                      st.one_of(st.none(), st.floats()),
                      st.one_of(st.none(), st.lists(st.one_of(st.none(), INT32), max_size=12))]),
    "pause_pace": ("SELECT xp.pause_pace(%s::text[], %s::float8)",
                   [st.one_of(st.none(), st.lists(MAYBE_NULL_TEXT, max_size=12)), st.one_of(st.none(), st.floats())]),
    "pace_held": ("SELECT xp.pace_held(%s::text[])", [st.one_of(st.none(), st.lists(MAYBE_NULL_TEXT, max_size=12))]),
    "guild_refused": ("SELECT xp.guild_refused(%s, %s)", [ID, MAYBE_NULL_TEXT]),
    "resume_guild": ("SELECT xp.resume_guild(%s)", [ID]),
}

# the admin panel's arguments
TARGET = st.one_of(st.sampled_from(["discord", "telegram"]), MAYBE_NULL_TEXT)
STATUS = st.one_of(st.sampled_from(["pending", "done", "failed", "dead", "discarded"]), MAYBE_NULL_TEXT)
IDS = st.one_of(st.none(), st.lists(st.one_of(st.none(), st.integers(-5, 10)), max_size=5))
FLAG = st.one_of(st.none(), st.booleans())
MOMENT = st.one_of(st.none(), st.datetimes(timezones=st.just(UTC)),
                   st.sampled_from(["infinity", "-infinity", "epoch"]))
HASH = st.one_of(st.none(), st.binary(max_size=40), st.binary(min_size=32, max_size=32))
# (jsonb holds no \u0000: such a document is refused by the cast, before any function is called)
JSON_TEXT = st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=5)
JSON_VALUE = st.one_of(st.integers(-10, 200_000), st.floats(allow_nan=False, allow_infinity=False), JSON_TEXT,
                       st.none(), st.booleans(), st.integers(10**15, 10**20))
THRESHOLDS = st.one_of(
    st.none(), st.sampled_from(["[]", '"x"', "1", "null", "{}", '{"2": 300}', '{"2": 300.0}', '{"02": 300}']),
    st.dictionaries(st.one_of(st.sampled_from(["1", "2", "3", "20", "21", "0", "x", "٣"]), JSON_TEXT),
                    JSON_VALUE, max_size=4).map(json.dumps))
ADMIN_CALLS = {
    "config_version": ("SELECT xp.config_version()", []),
    "heartbeat": ("SELECT xp.heartbeat(%s, %s, %s, %s::bigint, %s::bigint, %s::int, %s::timestamptz, %s)",
                  [WORDS, st.one_of(st.sampled_from(["listener:discord", "bot:telegram"]), MAYBE_NULL_TEXT), WORDS,
                   MAYBE_NULL_BIGINT, MAYBE_NULL_BIGINT, MAYBE_NULL_INT, MOMENT, FLAG]),
    "admin_heartbeats": ("SELECT * FROM xp.admin_heartbeats()", []),
    "create_admin_token": ("SELECT xp.create_admin_token(%s, %s, %s, %s::interval)",
                           [WORDS, st.one_of(st.sampled_from(["admin", "viewer"]), MAYBE_NULL_TEXT), HASH,
                            st.sampled_from([None, "1 day", "-1 day", "0", "100 years", "1 second", "30 days"])]),
    "revoke_admin_tokens": ("SELECT xp.revoke_admin_tokens(%s)", [WORDS]),
    "use_admin_token": ("SELECT * FROM xp.use_admin_token(%s)", [HASH]),
    "admin_token_role": ("SELECT xp.admin_token_role(%s::bigint)", [PERSON]),
    "admin_cursor": ("SELECT xp.admin_cursor()", []),
    "admin_overview": ("SELECT xp.admin_overview()", []),
    "admin_people": ("SELECT * FROM xp.admin_people(%s, %s::int)", [MAYBE_NULL_TEXT, AMOUNT]),
    "admin_person": ("SELECT xp.admin_person(%s::bigint)", [PERSON]),
    "admin_ledger": ("SELECT * FROM xp.admin_ledger(%s::bigint, %s::bigint, %s::int)", [PERSON, PERSON, AMOUNT]),
    "admin_deliveries": ("SELECT * FROM xp.admin_deliveries(%s, %s, %s, %s::bigint, %s::int)",
                         [TARGET, STATUS, MAYBE_NULL_TEXT, PERSON, AMOUNT]),
    "admin_delivery_count": ("SELECT xp.admin_delivery_count(%s, %s, %s)", [TARGET, STATUS, MAYBE_NULL_TEXT]),
    "audit_log": ("SELECT * FROM xp.audit_log(%s::bigint, %s::int, %s)", [PERSON, AMOUNT, MAYBE_NULL_TEXT]),
    "admin_settings": ("SELECT * FROM xp.admin_settings()", []),
    "operator_rows": ("SELECT xp.operator_rows(%s)",
                      [st.one_of(st.sampled_from(["ranks", "seasons", "ledger", "users", "rank_roles"]),
                                 MAYBE_NULL_TEXT)]),
    "retry_deliveries": ("SELECT xp.retry_deliveries(%s, %s, %s, %s::bigint[])",
                         [TARGET, STATUS, MAYBE_NULL_TEXT, IDS]),
    "discard_deliveries": ("SELECT xp.discard_deliveries(%s, %s, %s, %s::bigint[])",
                           [TARGET, STATUS, MAYBE_NULL_TEXT, IDS]),
    "admin_unlink": ("SELECT xp.admin_unlink(%s, %s)", [PLATFORM, ID]),
    "preview_thresholds": ("SELECT xp.preview_thresholds(%s::jsonb)", [THRESHOLDS]),
    "apply_thresholds": ("SELECT xp.apply_thresholds(%s::jsonb, %s::jsonb)", [THRESHOLDS, THRESHOLDS]),
    "void_preview": ("SELECT xp.void_preview(%s::timestamptz, %s::timestamptz, %s::bigint, %s, %s)",
                     [MOMENT, MOMENT, PERSON, st.one_of(st.sampled_from(["award", "void", "import"]), MAYBE_NULL_TEXT),
                      MAYBE_NULL_TEXT]),
    "void_ledger": ("SELECT xp.void_ledger(%s::timestamptz, %s::timestamptz, %s::bigint, %s, %s, %s::bigint, %s, %s)",
                    [MOMENT, MOMENT, PERSON, st.one_of(st.sampled_from(["award"]), MAYBE_NULL_TEXT), MAYBE_NULL_TEXT,
                     PERSON, MAYBE_NULL_TEXT, WORDS]),
}
CODE = st.one_of(st.sampled_from(["shot", "chatter", "hoodie", "vip"]), MAYBE_NULL_TEXT)
TEXT_KEY = st.one_of(st.sampled_from(["welcome", "notice_rank_up", "daily_ok"]), MAYBE_NULL_TEXT)
BODY = st.one_of(st.sampled_from(["Hi {name}", "{emoji} {name}", "{user}", "{", "}}", "{{x}}"]), MAYBE_NULL_TEXT)
STATE = st.one_of(st.sampled_from(["pending", "approved", "declined"]), MAYBE_NULL_TEXT)
FLAG = st.one_of(st.none(), st.booleans())
QUEUE = st.one_of(st.sampled_from(["quests", "shop"]), MAYBE_NULL_TEXT)
ECONOMY_CALLS = {
    "quest_list": ("SELECT * FROM xp.quest_list(%s, %s)", [PLATFORM, ID]),
    "submit_quest": ("SELECT xp.submit_quest(%s, %s, %s, %s)", [PLATFORM, ID, CODE, WORDS]),
    "review_submission": ("SELECT xp.review_submission(%s::bigint, %s, %s)", [PERSON, FLAG, MAYBE_NULL_TEXT]),
    "admin_submissions": ("SELECT * FROM xp.admin_submissions(%s, %s::int)", [STATE, AMOUNT]),
    "shop_list": ("SELECT * FROM xp.shop_list()", []),
    "buy": ("SELECT xp.buy(%s, %s, %s, %s)", [PLATFORM, ID, CODE, WORDS]),
    "review_purchase": ("SELECT xp.review_purchase(%s::bigint, %s, %s)", [PERSON, FLAG, MAYBE_NULL_TEXT]),
    "expire_purchases": ("SELECT xp.expire_purchases()", []),
    "admin_purchases": ("SELECT * FROM xp.admin_purchases(%s, %s::int)", [STATE, AMOUNT]),
    "admin_quest_queue": ("SELECT * FROM xp.admin_quest_queue(%s, %s, %s::int)", [STATE, CODE, AMOUNT]),
    "admin_shop_queue": ("SELECT * FROM xp.admin_shop_queue(%s, %s, %s::int)", [STATE, CODE, AMOUNT]),
    "admin_person_roles": ("SELECT * FROM xp.admin_person_roles(%s::bigint)", [PERSON]),
    "admin_review_count": ("SELECT xp.admin_review_count(%s, %s)", [QUEUE, CODE]),
    "review_all": ("SELECT xp.review_all(%s, %s, %s::bigint, %s::timestamptz, %s, %s)",
                   [QUEUE, CODE, PERSON, MOMENT, FLAG, MAYBE_NULL_TEXT]),
    "texts": ("SELECT * FROM xp.texts()", []),
    "text_catalogue": ("SELECT * FROM xp.text_catalogue()", []),
    "preview_text": ("SELECT xp.preview_text(%s, %s)", [TEXT_KEY, BODY]),
    "set_text": ("SELECT xp.set_text(%s, %s, %s)", [TEXT_KEY, st.one_of(st.sampled_from(["en", "ru"]), MAYBE_NULL_TEXT),
                                                     BODY]),
}
CALLS.update(ADMIN_CALLS)
CALLS.update(ECONOMY_CALLS)

COUNTED = ("users", "accounts", "ledger", "events", "deliveries", "link_codes", "message_log", "voice_sessions",
           "user_achievements", "game_sessions", "pace", "guild_health", "admin_audit", "admin_tokens",
           "heartbeats", "quest_submissions", "quest_completions", "quest_progress", "purchases", "texts")


def footprint(conn) -> dict[str, int]:
    return conn.execute("SELECT " + ", ".join(f"(SELECT count(*) FROM xp.{t}) AS {t}" for t in COUNTED)).fetchone()


def test_every_public_function_is_fuzzed(conn):
    public = {r["proname"] for r in conn.execute(
        "SELECT p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = 'xp' AND p.proname NOT LIKE '\\_%' AND p.prokind = 'f'")}
    assert public == set(CALLS)


@pytest.mark.parametrize("function", sorted(CALLS))
def test_hostile_input_gets_only_domain_errors_and_no_partial_writes(conn, function):
    query, arguments = CALLS[function]
    conn.execute("SELECT xp.award_xp('telegram', '42', 300, 'seed', 'fuzz-seed')")  # a rank-up: deliveries
    conn.execute("SELECT xp.award_xp('discord', '42', 20, 'seed', 'fuzz-seed-2')")
    # quests and items to submit, buy and review (a submission and a purchase waiting)
    conn.execute("INSERT INTO xp.quests (code, title, proof, reward_xp) VALUES "
                 "('shot', '{\"en\": \"Shot\"}', 'submission', 10), ('chatter', '{\"en\": \"Chat\"}', 'messages', 10)")
    conn.execute("INSERT INTO xp.shop_items (code, kind, title, price, stock, guild_id, role_id, days) VALUES "
                 "('hoodie', 'custom', '{\"en\": \"Hoodie\"}', 5, 3, NULL, NULL, NULL), "
                 "('vip', 'discord_role', '{\"en\": \"VIP\"}', 5, NULL, '77', '901', 2)")
    conn.execute("SELECT xp.submit_quest('telegram', '42', 'shot', 'proof'), xp.buy('telegram', '42', 'hoodie', 'k')")
    outcomes: dict[str, int] = {}

    @settings(max_examples=120, deadline=None, database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(st.tuples(*arguments))
    def call(args):
        before = footprint(conn)
        try:
            conn.execute(query, args).fetchall()
            outcomes["ok"] = outcomes.get("ok", 0) + 1
        except psycopg.Error as exc:
            assert exc.sqlstate is not None and exc.sqlstate.startswith("XP"), (function, args, exc.sqlstate, exc)
            assert footprint(conn) == before, (function, args)  # a refused call wrote nothing
            outcomes[exc.sqlstate] = outcomes.get(exc.sqlstate, 0) + 1
        assert balances_match_ledger(conn) == []
        assert conn.execute("SELECT to_regclass('xp.ledger') IS NOT NULL AS ok").fetchone()["ok"]

    call()
    print(f"\n{function}: {outcomes}")
