-- 0011_families: why: an unlinked account started over as a person with no
-- achievements and no record of the day's spin, so it earned them again and a
-- re-link kept both; and two sides that parted before the day's claim could
-- each claim and link again. Every once-only reward is now held by a family:
-- the persons that have ever shared an account (an unlink leaves both sides in
-- one family, a link joins two families). A family is paid each once-only
-- reward at most once; two families that meet keep what each had been paid.

-- NULL: the person is a family of its own, named by its own id (no write at first sight)
ALTER TABLE xp.users ADD COLUMN family bigint;
COMMENT ON COLUMN xp.users.family IS
    'The family (persons that ever shared an account) whose once-only rewards this person shares; NULL: its own id.';
CREATE INDEX users_family ON xp.users (family) WHERE family IS NOT NULL;

CREATE TABLE xp.family_rewards (
    family  bigint NOT NULL,
    -- rank:ID, achievement:CODE, daily, spin
    reward  text NOT NULL,
    -- the UTC day of a day's reward (the daily claim, the wheel); NULL: once ever
    day     date,
    paid_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT family_rewards_once UNIQUE NULLS NOT DISTINCT (family, reward, day)
);
COMMENT ON TABLE xp.family_rewards IS
    'The once-only rewards each family has been paid: rank:ID, achievement:CODE (once ever), daily and spin (once a day).';
CREATE INDEX family_rewards_day ON xp.family_rewards (day) WHERE day IS NOT NULL;

-- Families of the past: every unlink so far joined the account's old and new
-- person (its account_unlinked event names both); a merged person lives on in
-- the person it was merged into (xp.merges, in order).
DO $$
DECLARE
    e record;
    a bigint;
    b bigint;
BEGIN
    CREATE TEMP TABLE survivor (id bigint PRIMARY KEY, into_user bigint NOT NULL) ON COMMIT DROP;
    INSERT INTO survivor SELECT m.from_user, m.into_user FROM xp.merges m ON CONFLICT DO NOTHING;
    CREATE TEMP TABLE root (id bigint PRIMARY KEY, parent bigint NOT NULL) ON COMMIT DROP;
    FOR e IN SELECT ev.user_id AS new_user, (ev.payload ->> 'from_user')::bigint AS old_user
               FROM xp.events ev
              WHERE ev.kind = 'account_unlinked' AND ev.payload ? 'from_user'
              ORDER BY ev.id LOOP
        a := e.old_user;
        b := e.new_user;
        -- follow merges to the person that lives on
        WHILE EXISTS (SELECT 1 FROM survivor s WHERE s.id = a) LOOP
            SELECT s.into_user INTO a FROM survivor s WHERE s.id = a;
        END LOOP;
        WHILE EXISTS (SELECT 1 FROM survivor s WHERE s.id = b) LOOP
            SELECT s.into_user INTO b FROM survivor s WHERE s.id = b;
        END LOOP;
        -- union by the smaller root
        WHILE EXISTS (SELECT 1 FROM root r WHERE r.id = a) LOOP
            SELECT r.parent INTO a FROM root r WHERE r.id = a;
        END LOOP;
        WHILE EXISTS (SELECT 1 FROM root r WHERE r.id = b) LOOP
            SELECT r.parent INTO b FROM root r WHERE r.id = b;
        END LOOP;
        IF a <> b THEN
            INSERT INTO root VALUES (greatest(a, b), least(a, b));
        END IF;
    END LOOP;
    UPDATE xp.users u SET family = f.top
      FROM (WITH RECURSIVE up (id, top) AS (
                SELECT r.id, r.parent FROM root r
                UNION ALL
                SELECT up.id, r.parent FROM up JOIN root r ON r.id = up.top)
            SELECT up.id, min(up.top) AS top FROM up GROUP BY up.id) AS f
     WHERE u.id = f.id;
END
$$;

-- What each family has been paid so far, from what its persons hold: the rank
-- rewards up to each one's high-water mark, their achievements, today's claim
-- and today's spin (earlier days can no longer be claimed).
INSERT INTO xp.family_rewards (family, reward, day)
SELECT DISTINCT coalesce(u.family, u.id), 'rank:' || r.id, NULL::date
  FROM xp.users u JOIN xp.ranks r ON r.id <= u.rewarded_rank AND r.min_xp > 0
UNION
SELECT DISTINCT coalesce(u.family, u.id), 'achievement:' || x.code, NULL::date
  FROM xp.user_achievements x JOIN xp.users u ON u.id = x.user_id
UNION
SELECT DISTINCT coalesce(u.family, u.id), 'daily', u.last_daily
  FROM xp.users u WHERE u.last_daily >= (now() AT TIME ZONE 'UTC')::date - 1
UNION
SELECT DISTINCT coalesce(u.family, u.id), 'spin', (s.created_at AT TIME ZONE 'UTC')::date
  FROM xp.game_sessions s JOIN xp.accounts c ON c.id = s.account_id JOIN xp.users u ON u.id = c.user_id
 WHERE s.game = 'spin' AND s.created_at >= ((now() AT TIME ZONE 'UTC')::date - 1)::timestamp AT TIME ZONE 'UTC'
ON CONFLICT DO NOTHING;
