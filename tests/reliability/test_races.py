"""Identity changes racing each other and the awards (design.md §5): whatever interleaving the
server picks, a caller sees success or an XP00x refusal, never a deadlock (40P01), a serialization
failure (40001) or a constraint error (23505, 23503), and the ledger still adds up afterwards.

Each race runs its calls at once from their own connections, many rounds, each round on fresh
accounts; a low deadlock_timeout makes a deadlock show up quickly instead of after a second."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from tests.helpers import assert_consistent, call, scalar

ROUNDS = 25

Step = Callable[[psycopg.Connection, int], Any]


def code_for(conn, platform, external_id):
    return scalar(conn, "SELECT xp.create_link_code(%s, %s)", platform, external_id)


def redeem(platform, external_id, code):
    return lambda c, _i: scalar(c, "SELECT xp.redeem_link_code(%s, %s, %s)", platform, external_id, code)


def unlink(platform, external_id):
    return lambda c, _i: scalar(c, "SELECT xp.unlink(%s, %s)", platform, external_id)


def award(platform, external_id, times=5):
    def run(c, i):
        for n in range(times):
            call(c, "award_xp", platform, external_id, 60, "race", f"race-{platform}-{external_id}-{i}-{n}")
    return run


def race(conn, connect, setup: Callable[[int], list[Step]], rounds: int = ROUNDS) -> list[str]:
    """Run each round's steps at once; the SQLSTATEs of every refusal, in order."""
    states: list[str] = []
    conns: list[psycopg.Connection] = []
    for r in range(rounds):
        steps = setup(r)
        width = len(steps)
        while len(conns) < width:
            c = connect()
            c.execute("SET deadlock_timeout = '20ms'")
            conns.append(c)
        start = threading.Barrier(width)

        def go(k, steps=steps, start=start, r=r):
            start.wait()
            try:
                steps[k](conns[k], r)
            except psycopg.Error as exc:
                return exc.sqlstate or "?"
            return None

        with ThreadPoolExecutor(width) as pool:
            states += [s for s in pool.map(go, range(width)) if s is not None]
    return states


def only_refusals(states):
    assert [s for s in states if not s.startswith("XP")] == []


def seed(conn, platform, external_id, xp=300):
    call(conn, "award_xp", platform, external_id, xp, "seed", f"seed-{platform}-{external_id}")


def test_two_accounts_redeeming_each_others_codes(conn, connect):
    def setup(r):
        seed(conn, "telegram", f"t{r}")
        seed(conn, "discord", f"d{r}")
        tc, dc = code_for(conn, "telegram", f"t{r}"), code_for(conn, "discord", f"d{r}")
        return [redeem("discord", f"d{r}", tc), redeem("telegram", f"t{r}", dc)]

    states = race(conn, connect, setup)
    only_refusals(states)
    assert states.count("XP006") == ROUNDS  # one wins, the other finds itself already linked
    assert scalar(conn, "SELECT count(*) FROM xp.users") == ROUNDS
    assert_consistent(conn)


def test_unlink_racing_a_redeem_of_the_same_account(conn, connect):
    def setup(r):
        seed(conn, "telegram", f"t{r}")
        redeem("discord", f"d{r}", code_for(conn, "telegram", f"t{r}"))(conn, r)
        seed(conn, "website", f"w{r}")
        return [unlink("discord", f"d{r}"), redeem("discord", f"d{r}", code_for(conn, "website", f"w{r}"))]

    only_refusals(race(conn, connect, setup))
    assert_consistent(conn)


def test_a_redeem_racing_a_new_code_of_the_issuer(conn, connect):
    def setup(r):
        seed(conn, "telegram", f"t{r}", 10)
        seed(conn, "discord", f"d{r}", 20)  # the younger person: its accounts move
        code = code_for(conn, "discord", f"d{r}")
        return [redeem("telegram", f"t{r}", code), lambda c, _i, r=r: code_for(c, "discord", f"d{r}")]

    only_refusals(race(conn, connect, setup))
    assert_consistent(conn)


def test_merges_and_unlinks_racing_awards_through_every_account(conn, connect):
    def setup(r):
        seed(conn, "telegram", f"t{r}")
        seed(conn, "discord", f"d{r}")
        seed(conn, "website", f"w{r}")
        redeem("discord", f"d{r}", code_for(conn, "telegram", f"t{r}"))(conn, r)
        return [unlink("telegram", f"t{r}"), redeem("website", f"w{r}", code_for(conn, "discord", f"d{r}")),
                award("telegram", f"t{r}"), award("discord", f"d{r}"), award("website", f"w{r}")]

    only_refusals(race(conn, connect, setup, rounds=15))
    assert_consistent(conn)


def test_forget_racing_a_redeem_and_awards(conn, connect):
    def setup(r):
        seed(conn, "telegram", f"t{r}")
        seed(conn, "discord", f"d{r}")
        uid = scalar(conn, "SELECT user_id FROM xp.accounts WHERE external_id = %s", f"t{r}")
        code = code_for(conn, "telegram", f"t{r}")
        return [lambda c, _i, uid=uid: c.execute("SELECT xp.forget_person(%s)", (uid,)),
                redeem("discord", f"d{r}", code), award("telegram", f"t{r}"), award("discord", f"d{r}")]

    only_refusals(race(conn, connect, setup, rounds=15))
    assert_consistent(conn)


@pytest.mark.parametrize("game", ["daily", "spin"])
def test_daily_claims_and_spins_racing_a_merge(conn, connect, game):
    def play(platform, external_id):
        if game == "daily":
            return lambda c, _i: call(c, "claim_daily", platform, external_id)
        return lambda c, _i: scalar(c, "SELECT xp.start_game(%s, %s, 'spin')", platform, external_id)

    def setup(r):
        seed(conn, "telegram", f"t{r}")
        seed(conn, "discord", f"d{r}")
        code = code_for(conn, "telegram", f"t{r}")
        return [redeem("discord", f"d{r}", code), play("telegram", f"t{r}"), play("discord", f"d{r}")]

    only_refusals(race(conn, connect, setup))
    assert_consistent(conn)
