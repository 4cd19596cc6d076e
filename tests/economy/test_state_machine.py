"""A model of the economy (design.md §13): hypothesis drives random sequences of awards, penalties,
purchases, messages, voice, dailies, games, quests (counted and submitted, approved and declined,
at once from two connections), shop purchases and their reviews, links, unlinks, merges, imports,
threshold changes, days passing and reconciles (alone and with a writer running) over several people with accounts on
both platforms, and after every step checks what must always hold:

- balances equal the ledger's sums, ranks follow XP, nothing is below zero;
- every once-only reward (a rank reward, an achievement, the day's claim, the day's spin, a quest's
  completion of its window) was paid
  at most once to the people who share it, and no account was given more of an imported total than
  a file ever said. "Who shares it" is computed here from what the accounts went through (which
  person held each account after every step), not read from the tables that enforce it: persons
  that ever shared an account share every once-only reward from then on, while two that had each
  been paid before they met keep both payments;
- the shop never sells more than its stock, and every declined purchase was refunded once;
- a reconcile finds no drift in balances, ranks, boards or achievements (no call leaves any), and
  its dry run reports exactly what it then fixes;
- no call fails with anything but an XP00x refusal.

Bounded for CI by the `ci` profile (XPSYNC_STATEFUL=release selects the longer one of
docs/reliability.md). Every run prints how many steps it took."""

from __future__ import annotations

import os
import re
import threading
import uuid
from collections import Counter, defaultdict
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from psycopg import sql
from psycopg.rows import dict_row

from tests.clock import pass_days
from tests.helpers import assert_consistent, balances_match_ledger

PROFILES = {
    "ci": settings(max_examples=40, stateful_step_count=40, deadline=None, database=None,
                   suppress_health_check=list(HealthCheck)),
    "release": settings(max_examples=200, stateful_step_count=60, deadline=None, database=None,
                        suppress_health_check=list(HealthCheck)),
}
PROFILE = os.environ.get("XPSYNC_STATEFUL", "ci")

ACCOUNTS = [("telegram", "t1"), ("telegram", "t2"), ("telegram", "t3"),
            ("discord", "d1"), ("discord", "d2"), ("discord", "d3"), ("website", "w1")]
ACCOUNT = st.sampled_from(ACCOUNTS)
TELEGRAM = st.sampled_from([a for a in ACCOUNTS if a[0] == "telegram"])
ELSEWHERE = st.sampled_from([a for a in ACCOUNTS if a[0] != "telegram"])
KEY = st.integers(0, 15).map(lambda n: f"k{n}")  # few keys: replays and reused keys happen
SOURCES = ("mee6:g1", "csv")
DRIFT_CHECKS = ("balance_xp", "balance_coins", "rank", "rank_rewards", "rank_bounds", "board_week", "board_month",
                "board_season", "achievements")

STEPS: Counter[str] = Counter()  # over every example of the run, by rule


def finding(f: dict[str, Any]) -> tuple[Any, ...]:
    """A reconcile finding as the dry and the real run must agree on it: a stuck delivery's age
    ("due 1 day ago", "due 1 day 00:00:01 ago") moves on between the two runs."""
    actual = f["actual"] if f["check_name"] != "stuck_delivery" else re.sub(r"due .* ago", "due … ago", f["actual"])
    return f["user_id"], f["check_name"], f["expected"], actual


def refusal(exc: psycopg.Error) -> str:
    """The SQLSTATE of an allowed refusal; anything else fails the step."""
    state = exc.sqlstate or "?"
    assert state.startswith("XP"), f"{state}: {exc}"
    return state


class Families:
    """Who shares once-only rewards, from the accounts' histories alone: a union-find over persons,
    joined whenever an account moves from one person to another (an unlink, a merge)."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.held: defaultdict[int, set[tuple[Any, ...]]] = defaultdict(set)

    def find(self, person: int) -> int:
        root = person
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        self.parent[person] = root
        return root

    def join(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[rb] = ra
            self.held[ra] |= self.held.pop(rb, set())  # each side keeps what it was paid

    def pay(self, person: int, reward: tuple[Any, ...]) -> bool:
        """False when the people who share `reward` with `person` had been paid it already."""
        root = self.find(person)
        if reward in self.held[root]:
            return False
        self.held[root].add(reward)
        return True


class Economy(RuleBasedStateMachine):
    server: Any = None  # the run's embedded server
    template: str = ""

    def __init__(self) -> None:
        super().__init__()
        self.name = f"economy_{uuid.uuid4().hex[:10]}"
        self.root_url = self.server.url("postgres")
        with psycopg.connect(self.root_url, autocommit=True) as c:
            c.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(self.name),
                                                                       sql.Identifier(self.template)))
        self.url = self.server.url(self.name)
        self.conn = psycopg.connect(self.url, autocommit=True, row_factory=dict_row)
        self.families = Families()
        self.accounts: dict[int, int] = {}  # account id -> person, after the last step
        self.ledger_seen = 0
        self.day = 0  # days passed (tests.clock): a reward's day is its row's date plus this
        self.imported: defaultdict[tuple[int, str], int] = defaultdict(int)  # most a file ever said
        self.violations: list[str] = []

    def teardown(self) -> None:
        self.conn.close()
        with psycopg.connect(self.root_url, autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.name)))

    # --- calling the API -----------------------------------------------------------------------

    def call(self, query: str, *args: Any) -> list[dict[str, Any]] | str:
        """Rows, or the SQLSTATE of a refusal."""
        try:
            return self.conn.execute(query, args).fetchall()
        except psycopg.Error as exc:
            return refusal(exc)

    @initialize()
    def setup(self) -> None:
        # every message counts, so that message achievements are reached within a few steps
        self.conn.execute("UPDATE xp.settings SET value = '0' WHERE key = 'message.cooldown_seconds'")
        self.conn.execute("UPDATE xp.achievements SET threshold = 3 WHERE code = 'messages_100'")
        self.conn.execute("UPDATE xp.achievements SET threshold = 2 WHERE code = 'streak_7'")
        self.conn.execute("UPDATE xp.achievements SET threshold = 120 WHERE code = 'voice_1h'")
        # a quest counted by messages (twice a day), one submitted and reviewed (once ever), a shop item
        self.conn.execute("INSERT INTO xp.quests (code, title, proof, target, period, per_person, reward_xp, "
                          "reward_coins) VALUES ('chatter', '{\"en\": \"Chatter\"}', 'messages', 2, 'day', 2, 30, 5), "
                          "('show', '{\"en\": \"Show\"}', 'submission', 1, 'once', 1, 40, 15)")
        self.conn.execute("INSERT INTO xp.shop_items (code, kind, title, price, stock) "
                          "VALUES ('hoodie', 'custom', '{\"en\": \"Hoodie\"}', 20, 3)")

    @rule(who=ACCOUNT)
    def submit_quest(self, who):
        STEPS["submit_quest"] += 1
        self.call("SELECT xp.submit_quest(%s, %s, 'show', 'proof')", *who)

    @rule(approve=st.booleans(), both=st.booleans())
    def review_submissions(self, approve, both):
        """Review the waiting submissions, each from two connections at once when `both`."""
        STEPS["review_submissions"] += 1
        waiting = [r["id"] for r in self.conn.execute("SELECT id FROM xp.admin_submissions('pending')")]
        for submission in waiting:
            self.at_once(2 if both else 1, "SELECT xp.review_submission(%s, %s)", submission, approve)

    @rule(who=ACCOUNT, key=st.integers(0, 3))
    def buy(self, who, key):
        STEPS["buy"] += 1
        self.call("SELECT xp.buy(%s, %s, 'hoodie', %s)", *who, f"b{key}")

    @rule(approve=st.booleans())
    def review_purchases(self, approve):
        STEPS["review_purchases"] += 1
        for purchase in [r["id"] for r in self.conn.execute("SELECT id FROM xp.admin_purchases('pending')")]:
            self.at_once(2, "SELECT xp.review_purchase(%s, %s)", purchase, approve)

    def at_once(self, clients: int, query: str, *args: Any) -> None:
        """The same call from `clients` connections at once: only XP00x refusals are allowed."""
        errors: list[str] = []

        def run() -> None:
            with psycopg.connect(self.url, autocommit=True) as c:
                try:
                    c.execute(query, args)
                except psycopg.Error as exc:
                    if not (exc.sqlstate or "").startswith("XP"):
                        errors.append(f"{exc.sqlstate}: {exc}")

        threads = [threading.Thread(target=run) for _ in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []

    @rule(who=ACCOUNT, amount=st.integers(-400, 900), key=KEY)
    def award_xp(self, who, amount, key):
        STEPS["award_xp"] += 1
        self.call("SELECT * FROM xp.award_xp(%s, %s, %s, 'model', %s)", *who, amount, key)

    @rule(who=ACCOUNT, amount=st.integers(-300, 300), key=KEY)
    def award_coins(self, who, amount, key):
        STEPS["award_coins"] += 1
        self.call("SELECT * FROM xp.award_coins(%s, %s, %s, 'model', %s)", *who, amount, key)

    @rule(who=ACCOUNT, message=st.integers(0, 30), length=st.integers(0, 20))
    def message(self, who, message, length):
        STEPS["message"] += 1
        self.call("SELECT * FROM xp.record_message(%s, %s, 'chat', %s, %s)", who[0], who[1], str(message), length)

    @rule(who=ACCOUNT, session=st.integers(0, 3), seconds=st.integers(1, 400))
    def voice(self, who, session, seconds):
        STEPS["voice"] += 1
        self.call("SELECT * FROM xp.record_voice(%s, %s, %s, %s)", *who, f"s{session}", seconds)

    @rule(who=ACCOUNT)
    def daily(self, who):
        STEPS["daily"] += 1
        self.call("SELECT * FROM xp.claim_daily(%s, %s)", *who)

    @rule(who=ACCOUNT)
    def spin(self, who):
        STEPS["spin"] += 1
        self.call("SELECT xp.start_game(%s, %s, 'spin')", *who)

    @rule(who=ACCOUNT, win=st.booleans())
    def guess(self, who, win):
        STEPS["guess"] += 1
        game = self.call("SELECT xp.start_game(%s, %s, 'guess') AS g", *who)
        if isinstance(game, str):
            return
        session = game[0]["g"]["session_id"]
        secret = self.conn.execute("SELECT (state ->> 'secret')::int AS n FROM xp.game_sessions WHERE id = %s",
                                   (session,)).fetchone()["n"]
        move = secret if win else (secret % 100) + 1
        self.call("SELECT xp.play_game(%s, %s, %s, %s)", *who, session, f" {move}\u00a0")

    @rule(issuer=ACCOUNT, redeemer=ACCOUNT)
    def link(self, issuer, redeemer):
        STEPS["link"] += 1
        code = self.call("SELECT xp.create_link_code(%s, %s) AS c", *issuer)
        if not isinstance(code, str):
            self.call("SELECT xp.redeem_link_code(%s, %s, %s)", *redeemer, code[0]["c"])

    @rule(issuer=TELEGRAM, redeemer=ELSEWHERE)
    def link_across(self, issuer, redeemer):
        """A link that usually works (accounts of two platforms), so that merges are frequent."""
        self.link(issuer, redeemer)

    @rule(who=ELSEWHERE)
    def unlink_again(self, who):
        self.unlink(who)

    @rule(who=ACCOUNT)
    def unlink(self, who):
        STEPS["unlink"] += 1
        self.call("SELECT xp.unlink(%s, %s)", *who)

    @rule(who=ACCOUNT, total=st.sampled_from([0, 300, 5000, 6000]), coins=st.sampled_from([0, 40]),
          source=st.sampled_from(SOURCES))
    def import_total(self, who, total, coins, source):
        STEPS["import"] += 1
        result = self.call("SELECT * FROM xp.import_xp(%s, %s, %s, %s, %s)", *who, total, coins, source)
        if not isinstance(result, str):
            account = self.conn.execute("SELECT id FROM xp.accounts WHERE platform = %s AND external_id = %s",
                                        who).fetchone()["id"]
            for kind, amount in (("xp", total), ("coins", coins)):
                self.imported[account, f"{source}:{kind}"] = max(self.imported[account, f"{source}:{kind}"],
                                                                 amount)

    @rule(floor=st.sampled_from([100, 255, 500]))
    def threshold(self, floor):
        STEPS["threshold"] += 1
        self.conn.execute("UPDATE xp.ranks SET min_xp = %s WHERE id = 2", (floor,))
        while self.conn.execute("SELECT xp.rerank_batch(5) AS n").fetchone()["n"]:  # as a listener does
            pass

    @rule()
    def day_passes(self):
        STEPS["day"] += 1
        pass_days(self.conn)
        self.day += 1

    @rule()
    def reconcile(self):
        STEPS["reconcile"] += 1
        self.reconcile_exactly()

    @rule(who=ACCOUNT)
    def reconcile_with_a_writer(self, who):
        STEPS["reconcile+writer"] += 1
        errors: list[str] = []

        def write() -> None:
            with psycopg.connect(self.url, autocommit=True) as c:
                for n in range(15):
                    try:
                        c.execute("SELECT * FROM xp.award_xp(%s, %s, 40, 'writer', %s)", (*who, f"w-{uuid.uuid4()}"))
                        c.execute("SELECT * FROM xp.award_coins(%s, %s, %s, 'writer', %s)",
                                  (*who, -5 if n % 2 else 7, f"w-{uuid.uuid4()}"))
                    except psycopg.Error as exc:
                        if not (exc.sqlstate or "").startswith("XP"):
                            errors.append(f"{exc.sqlstate}: {exc}")

        writer = threading.Thread(target=write)
        writer.start()
        try:
            found = self.conn.execute("SELECT * FROM xp.reconcile_all()").fetchall()
        finally:
            writer.join(timeout=60)
        assert errors == []
        assert [f for f in found if f["check_name"] in DRIFT_CHECKS] == []

    def reconcile_exactly(self) -> None:
        def finding(f: dict[str, Any]) -> tuple[Any, ...]:
            # a stuck delivery's age ("due 1 day 00:00:02 ago") moves on between the two runs
            actual = re.sub(r"due .* ago", "due … ago", f["actual"] or "") if f["check_name"] == "stuck_delivery" \
                else f["actual"]
            return f["user_id"], f["check_name"], f["expected"], actual

        dry = self.conn.execute("SELECT * FROM xp.reconcile_all(true)").fetchall()
        real = self.conn.execute("SELECT * FROM xp.reconcile_all(false)").fetchall()
        assert [finding(f) for f in dry] == [finding(f) for f in real]
        assert [f for f in real if f["check_name"] in DRIFT_CHECKS] == []

    # --- what must always hold -----------------------------------------------------------------

    @invariant()
    def the_ledger_adds_up(self):
        if not hasattr(self, "conn"):
            return
        assert balances_match_ledger(self.conn) == []
        assert_consistent(self.conn)
        below = self.conn.execute("SELECT user_id, kind, sum(delta) FROM xp.ledger GROUP BY 1, 2 "
                                  "HAVING sum(delta) < 0").fetchall()
        assert below == []

    @invariant()
    def once_only_rewards_are_paid_once_to_the_people_who_share_them(self):
        if not hasattr(self, "conn"):
            return
        now = {r["id"]: r["user_id"] for r in self.conn.execute("SELECT id, user_id FROM xp.accounts")}
        for account, person in now.items():
            before = self.accounts.get(account)
            if before is not None and before != person:
                self.families.join(person, before)  # the account moved: the two share from now on
        self.accounts = now
        rows = self.conn.execute(
            "SELECT id, user_id, source, kind, reason, (created_at AT TIME ZONE 'UTC')::date AS day "
            "FROM xp.ledger WHERE id > %s ORDER BY id", (self.ledger_seen,)).fetchall()
        for row in rows:
            self.ledger_seen = row["id"]
            if row["source"] in ("quest", "shop"):
                STEPS[f"{row['source']} ledger rows"] += 1  # printed: the run did pay quests and sell
            reward = self.once_only(row)
            if reward is not None and not self.families.pay(row["user_id"], reward):
                self.violations.append(f"{reward} paid again to person {row['user_id']} (ledger row {row['id']})")
        assert self.violations == []
        over = [(r["account_id"], r["kind"], r["imported_from"], r["total"]) for r in self.conn.execute(
            "SELECT account_id, kind, imported_from, sum(delta) AS total FROM xp.ledger WHERE source = 'import' "
            "GROUP BY 1, 2, 3").fetchall()
            if r["total"] > self.imported[r["account_id"], f"{r['imported_from']}:{r['kind']}"]]
        assert over == []

    @invariant()
    def the_shop_sells_its_stock_and_refunds_once(self):
        if not hasattr(self, "conn"):
            return
        stock = self.conn.execute("SELECT stock FROM xp.shop_items").fetchone()["stock"]
        kept = self.conn.execute("SELECT count(*) AS n FROM xp.purchases WHERE status <> 'declined'").fetchone()["n"]
        assert stock >= 0 and stock + kept == 3
        unrefunded = self.conn.execute(
            "SELECT p.id FROM xp.purchases p WHERE p.status = 'declined' AND (SELECT count(*) FROM xp.ledger l "
            "WHERE l.source = 'shop' AND l.idempotency_key = 'shop-refund:' || p.id) <> 1").fetchall()
        assert unrefunded == []

    def once_only(self, row: dict[str, Any]) -> tuple[Any, ...] | None:
        """What once-only reward a ledger row pays, if any (its day as the model counts days)."""
        if row["source"] == "rank_reward":
            return ("rank", row["reason"])
        if row["source"] == "achievement":
            return ("achievement", row["reason"], row["kind"])
        if row["source"] == "daily":
            return ("daily", row["day"].toordinal() + self.day, row["kind"])
        if row["source"] == "game" and row["reason"] == "wheel":
            return ("spin", row["day"].toordinal() + self.day)
        if row["source"] == "quest" and row["reason"] == "quest: Show":
            return ("quest", row["reason"], row["kind"])  # once ever
        if row["source"] == "quest":
            # twice a day: the day's first and second completion are two rewards
            day = row["day"].toordinal() + self.day
            slot = 1 if ("quest", row["reason"], row["kind"], day, 1) not in self.families.held[
                self.families.find(row["user_id"])] else 2
            return ("quest", row["reason"], row["kind"], day, slot)
        return None


@pytest.mark.slow
def test_the_economy_keeps_its_invariants_whatever_happens(server, postgresql_xp, conn):
    template = conn.execute("SELECT datname FROM pg_database WHERE datistemplate AND datname LIKE 'xpsync_test%%'"
                            ).fetchone()["datname"]
    Economy.server = server
    Economy.template = template
    STEPS.clear()
    run_state_machine_as_test(Economy, settings=PROFILES[PROFILE])
    print(f"\nstate machine ({PROFILE}): {sum(STEPS.values())} steps: {dict(sorted(STEPS.items()))}")
    assert sum(STEPS.values()) > 0
