-- 07_achievements: achievements unlocked in SQL when their criterion holds:
-- once per person, with their rewards, a notice and optional Discord roles.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- How far each person (uids NULL: everyone not forgotten) has come on every achievement criterion:
-- one row per person and criterion, set-based so that reconcile reads each table once.
CREATE OR REPLACE FUNCTION xp._progress(uids bigint[])
RETURNS TABLE (uid bigint, criterion text, value bigint)
LANGUAGE sql STABLE AS $$
    SELECT u.id, v.criterion, v.value
      FROM xp.users u
      LEFT JOIN (SELECT c.user_id, count(*) AS n FROM xp.accounts c
                  WHERE uids IS NULL OR c.user_id = ANY (uids) GROUP BY c.user_id) AS acc ON acc.user_id = u.id
     CROSS JOIN LATERAL (VALUES ('messages', u.messages), ('voice_seconds', u.voice_seconds),
                                ('streak', u.streak::bigint), ('games_won', u.games_won), ('rank', u.rank_id::bigint),
                                ('platforms', coalesce(acc.n, 0))) AS v (criterion, value)
     WHERE (uids IS NULL OR u.id = ANY (uids)) AND u.forgotten_at IS NULL
$$;

-- Unlock every achievement (of the given criteria; NULL: all) whose criterion
-- now holds for the person and that they do not have: record it, and pay its
-- reward unless the person's family was paid it already (someone who shared an
-- account with them earned it: the badge is theirs, the reward was paid once);
-- emit it with what was paid. Returns how many were unlocked. The caller holds
-- the person's row lock.
-- Planned for the one person it is called for (force_custom_plan): a generic
-- plan cached while the table was near-empty (a fresh install, thousands of
-- awards in one statement) scanned every person, so each award of a bulk
-- statement cost more than the one before (3 000 rank-ups: 12.6 s).
CREATE OR REPLACE FUNCTION xp._achieve(p_uid bigint, p_criteria text[] DEFAULT NULL) RETURNS int
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    d record;
    n int := 0;
    v_family bigint;
    v_pays boolean;
BEGIN
    FOR d IN
        SELECT a.* FROM xp._progress(ARRAY[p_uid]) p
          JOIN xp.achievements a ON a.criterion = p.criterion AND a.threshold <= p.value
         WHERE (p_criteria IS NULL OR a.criterion = ANY (p_criteria))
           AND NOT EXISTS (SELECT 1 FROM xp.user_achievements x WHERE x.user_id = p_uid AND x.code = a.code)
         ORDER BY a.criterion, a.threshold, a.code
    LOOP
        INSERT INTO xp.user_achievements (user_id, code) VALUES (p_uid, d.code) ON CONFLICT DO NOTHING;
        CONTINUE WHEN NOT FOUND;
        n := n + 1;
        v_family := coalesce(v_family, xp._family(p_uid));
        v_pays := xp._family_pays(v_family, 'achievement:' || d.code);
        PERFORM xp._emit(p_uid, 'achievement_unlocked',
                         jsonb_build_object('code', d.code, 'name', d.name, 'emoji', d.emoji,
                                            'translations', d.translations,
                                            'reward_xp', CASE WHEN v_pays THEN d.reward_xp ELSE 0 END,
                                            'reward_coins', CASE WHEN v_pays THEN d.reward_coins ELSE 0 END));
        CONTINUE WHEN NOT v_pays;
        IF d.reward_xp > 0 THEN
            PERFORM xp._apply(p_uid, NULL, NULL, 'achievement', 'xp', d.reward_xp, 'achievement: ' || d.name,
                              'achievement:' || p_uid || ':' || d.code || ':xp');
        END IF;
        IF d.reward_coins > 0 THEN
            PERFORM xp._apply(p_uid, NULL, NULL, 'achievement', 'coins', d.reward_coins, 'achievement: ' || d.name,
                              'achievement:' || p_uid || ':' || d.code || ':coins');
        END IF;
    END LOOP;
    RETURN n;
END
$$;
