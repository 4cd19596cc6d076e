-- 15_quests: quests that members complete for a reward. A counter quest
-- (messages, voice minutes, games won, the daily streak) completes by itself
-- in the transaction of the activity that moved its counter; a submission
-- quest waits for an operator to approve or decline it. Every completion pays
-- through the ledger under a key of its own, and only while the person's
-- family has a completion of the window left (xp.family_rewards: quest:CODE#N
-- for N up to per_person, with the window's first day), so that no sequence of
-- links, unlinks, double submissions or concurrent approvals pays a quest
-- more than per_person times per window.
-- Re-applied by every `xpsync migrate` (CREATE OR REPLACE); a body lives only here.
-- Changing a signature or a return type, or removing a function: sql/README.md.

-- The window a quest of `p_period` counts in now: its first UTC day (-infinity: once ever).
CREATE OR REPLACE FUNCTION xp._quest_window(p_period text) RETURNS date
LANGUAGE plpgsql STABLE AS $$
DECLARE
    d date := (now() AT TIME ZONE 'UTC')::date;
BEGIN
    RETURN CASE p_period
        WHEN 'once' THEN '-infinity'::date
        WHEN 'day' THEN d
        WHEN 'week' THEN d - (extract(isodow FROM d)::int - 1)
        ELSE date_trunc('month', d)::date
    END;
END
$$;

-- Whether a quest runs now.
CREATE OR REPLACE FUNCTION xp._quest_running(q xp.quests) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT q.active AND coalesce(q.starts_at <= now(), true) AND coalesce(q.ends_at > now(), true)
$$;

-- How many completions of a quest's window a family has been paid.
CREATE OR REPLACE FUNCTION xp._quest_family_paid(p_family bigint, p_code text, p_window date) RETURNS int
LANGUAGE sql STABLE AS $$
    SELECT count(*)::int FROM xp.family_rewards r
     WHERE r.family = p_family AND r.reward LIKE 'quest:' || p_code || '#%'
       AND r.day IS NOT DISTINCT FROM nullif(p_window, '-infinity')
$$;

-- One completion of quest q in window p_window: recorded, and paid (XP and coins, each under the
-- completion's own key) when the family has a completion of the window left. A notice follows:
-- to every platform of the person for a counter quest, to the platform it was submitted from for
-- a submission (xp.review_submission emits that one). The caller holds the person's row lock.
CREATE OR REPLACE FUNCTION xp._quest_complete(p_uid bigint, q xp.quests, p_window date, p_submission bigint)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    v_family bigint := xp._family(p_uid);
    v_day date := nullif(p_window, '-infinity');
    v_paid boolean := false;
    v_id bigint;
BEGIN
    FOR v_slot IN 1 .. q.per_person LOOP
        IF xp._family_pays(v_family, 'quest:' || q.code || '#' || v_slot, v_day) THEN
            v_paid := true;
            EXIT;
        END IF;
    END LOOP;
    INSERT INTO xp.quest_completions (quest, user_id, window_start, submission_id, paid)
    VALUES (q.code, p_uid, p_window, p_submission, v_paid)
    RETURNING id INTO v_id;
    IF v_paid AND q.reward_xp > 0 THEN
        PERFORM xp._apply(p_uid, NULL, NULL, 'quest', 'xp', q.reward_xp, 'quest: ' || (q.title ->> 'en'),
                          'quest:' || v_id || ':xp');
    END IF;
    IF v_paid AND q.reward_coins > 0 THEN
        PERFORM xp._apply(p_uid, NULL, NULL, 'quest', 'coins', q.reward_coins, 'quest: ' || (q.title ->> 'en'),
                          'quest:' || v_id || ':coins');
    END IF;
    IF p_submission IS NULL THEN
        PERFORM xp._emit(p_uid, 'quest_completed',
                         jsonb_build_object('quest', q.code, 'title', q.title,
                                            'reward_xp', CASE WHEN v_paid THEN q.reward_xp ELSE 0 END,
                                            'reward_coins', CASE WHEN v_paid THEN q.reward_coins ELSE 0 END));
    END IF;
    RETURN v_paid;
END
$$;

-- A counter moved for a person (p_proof: messages, voice_minutes (p_amount in seconds), games_won,
-- or streak (p_amount the streak now)): every running quest it proves counts it in its window and
-- completes as often as the window's progress now allows. Returns how many completed. Called in
-- the transaction of the activity, which holds the person's row lock. p_amount 0 (a merge) only
-- looks again.
CREATE OR REPLACE FUNCTION xp._quest_tick(p_uid bigint, p_proof text, p_amount bigint) RETURNS int
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
    q xp.quests;
    v_window date;
    v_value bigint;
    v_done int;
    v_due int;
    n int := 0;
BEGIN
    FOR q IN SELECT x.* FROM xp.quests x WHERE x.proof = p_proof AND x.active ORDER BY x.code LOOP
        CONTINUE WHEN NOT xp._quest_running(q);
        v_window := xp._quest_window(q.period);
        SELECT count(*) INTO v_done FROM xp.quest_completions c
         WHERE c.user_id = p_uid AND c.quest = q.code AND c.window_start = v_window;
        CONTINUE WHEN v_done >= q.per_person;
        INSERT INTO xp.quest_progress AS g (user_id, quest, window_start, value)
        VALUES (p_uid, q.code, v_window, greatest(p_amount, 0))
        ON CONFLICT (user_id, quest, window_start) DO UPDATE
           SET value = CASE WHEN p_proof = 'streak' THEN greatest(g.value, EXCLUDED.value)
                            ELSE g.value + EXCLUDED.value END
        RETURNING g.value INTO v_value;
        v_due := least(q.per_person, v_value / (q.target * CASE WHEN p_proof = 'voice_minutes' THEN 60 ELSE 1 END));
        WHILE v_done < v_due LOOP
            PERFORM xp._quest_complete(p_uid, q, v_window, NULL);
            v_done := v_done + 1;
            n := n + 1;
        END LOOP;
    END LOOP;
    RETURN n;
END
$$;

-- A merge (xp._merge, before the merged person is deleted): its quest progress, completions and
-- submissions become the survivor's (progress added up, a streak's the longer one; of two
-- submissions waiting for the same quest and window, the survivor's stays).
CREATE OR REPLACE FUNCTION xp._quests_merged(p_into bigint, p_from bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO xp.quest_progress AS g (user_id, quest, window_start, value)
    SELECT p_into, f.quest, f.window_start, f.value FROM xp.quest_progress f WHERE f.user_id = p_from
    ON CONFLICT (user_id, quest, window_start) DO UPDATE
       SET value = CASE WHEN (SELECT x.proof FROM xp.quests x WHERE x.code = EXCLUDED.quest) = 'streak'
                        THEN greatest(g.value, EXCLUDED.value) ELSE g.value + EXCLUDED.value END;
    DELETE FROM xp.quest_progress WHERE user_id = p_from;
    UPDATE xp.quest_completions SET user_id = p_into WHERE user_id = p_from;
    UPDATE xp.quest_submissions f
       SET status = 'declined', note = 'merged: the other submission of this quest stays', reviewed_by = 'xpsync',
           reviewed_at = now()
     WHERE f.user_id = p_from AND f.status = 'pending'
       AND EXISTS (SELECT 1 FROM xp.quest_submissions s
                    WHERE s.user_id = p_into AND s.quest = f.quest AND s.window_start = f.window_start
                      AND s.status = 'pending');
    UPDATE xp.quest_submissions SET user_id = p_into WHERE user_id = p_from;
END
$$;

-- Every counter quest of a person looked at again (after a merge added progress up).
CREATE OR REPLACE FUNCTION xp._quest_recheck(p_uid bigint) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    v_proof text;
    n int := 0;
BEGIN
    FOR v_proof IN SELECT DISTINCT x.proof FROM xp.quests x WHERE x.active AND x.proof <> 'submission' LOOP
        n := n + xp._quest_tick(p_uid, v_proof, 0);
    END LOOP;
    RETURN n;
END
$$;

CREATE OR REPLACE FUNCTION xp.quest_list(platform text, external_id text)
RETURNS TABLE (code text, title jsonb, description jsonb, reward_xp int, reward_coins int, period text,
               per_person int, proof text, target int, ends_at timestamptz, progress bigint, completed int,
               left_to_earn int, pending boolean)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    v_uid bigint;
    v_family bigint;
BEGIN
    PERFORM xp._check_platform(quest_list.platform);
    SELECT a.user_id INTO v_uid FROM xp.accounts a
     WHERE a.platform = quest_list.platform AND a.external_id = quest_list.external_id;
    v_family := xp._family(v_uid);
    RETURN QUERY
    SELECT q.code, q.title::jsonb, q.description::jsonb, q.reward_xp, q.reward_coins, q.period, q.per_person, q.proof,
           q.target, q.ends_at,
           coalesce((SELECT g.value / CASE WHEN q.proof = 'voice_minutes' THEN 60 ELSE 1 END
                       FROM xp.quest_progress g
                      WHERE g.user_id = v_uid AND g.quest = q.code AND g.window_start = w.key), 0),
           (SELECT count(*)::int FROM xp.quest_completions c
             WHERE c.user_id = v_uid AND c.quest = q.code AND c.window_start = w.key),
           q.per_person - CASE WHEN v_family IS NULL THEN 0 ELSE xp._quest_family_paid(v_family, q.code, w.key) END,
           EXISTS (SELECT 1 FROM xp.quest_submissions s
                    WHERE s.user_id = v_uid AND s.quest = q.code AND s.window_start = w.key AND s.status = 'pending')
      FROM xp.quests q
     CROSS JOIN LATERAL (SELECT xp._quest_window(q.period) AS key) AS w
     WHERE xp._quest_running(q)
     ORDER BY q.created_at, q.code;
END
$$;
COMMENT ON FUNCTION xp.quest_list(text, text) IS
    'The quests running now, with the account''s progress, completions and what its family may still earn in the window.';

CREATE OR REPLACE FUNCTION xp.submit_quest(platform text, external_id text, quest text, proof text) RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    a record;
    q xp.quests;
    v_window date;
    v_id bigint;
BEGIN
    PERFORM xp._check_text(submit_quest.proof, 'proof', 1000);
    SELECT * INTO q FROM xp.quests x WHERE x.code = submit_quest.quest;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'unknown quest %', coalesce(quote_literal(left(submit_quest.quest, 40)), 'NULL')
            USING ERRCODE = 'XP002';
    ELSIF q.proof <> 'submission' THEN
        RAISE EXCEPTION 'quest % completes by itself (%): there is nothing to submit', q.code, q.proof
            USING ERRCODE = 'XP002';
    ELSIF NOT xp._quest_running(q) THEN
        RAISE EXCEPTION 'quest % is not running now', q.code USING ERRCODE = 'XP009';
    END IF;
    SELECT * INTO a FROM xp._account_for(submit_quest.platform, submit_quest.external_id);
    PERFORM 1 FROM xp.users u WHERE u.id = a.uid FOR UPDATE;
    v_window := xp._quest_window(q.period);
    SELECT s.id INTO v_id FROM xp.quest_submissions s
     WHERE s.user_id = a.uid AND s.quest = q.code AND s.window_start = v_window AND s.status = 'pending';
    IF FOUND THEN
        -- submitted twice: the one waiting stays (with its first proof)
        RETURN jsonb_build_object('submission_id', v_id, 'status', 'pending', 'applied', false);
    END IF;
    IF xp._quest_family_paid(xp._family(a.uid), q.code, v_window) >= q.per_person THEN
        RAISE EXCEPTION 'quest % was completed already (% of % this %)', q.code, q.per_person, q.per_person,
            CASE q.period WHEN 'once' THEN 'time' ELSE q.period END USING ERRCODE = 'XP009';
    END IF;
    INSERT INTO xp.quest_submissions (quest, user_id, account_id, platform, window_start, proof)
    VALUES (q.code, a.uid, a.acc, submit_quest.platform, v_window, submit_quest.proof)
    RETURNING id INTO v_id;
    PERFORM pg_notify('xp_admin', 'quests');
    RETURN jsonb_build_object('submission_id', v_id, 'status', 'pending', 'applied', true);
END
$$;
COMMENT ON FUNCTION xp.submit_quest(text, text, text, text) IS
    'Submit a quest for an operator''s review; a second submission while one waits returns it (applied=false).';

-- Before an operator's review of a submission or purchase (p_table): the note checked, then the person
-- the row belongs to locked, then the row itself: the order a merge takes (persons, then their rows),
-- looked at again when a merge moved the row meanwhile. XP002 for a long note or an unknown row,
-- XP009 for a row reviewed already (by whom).
CREATE OR REPLACE FUNCTION xp._lock_for_review(p_table text, p_id bigint, p_note text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    v_uid bigint;
    v_now bigint;
    v_noun text := CASE p_table WHEN 'purchases' THEN 'purchase' ELSE 'submission' END;
    v_status text;
    v_by text;
BEGIN
    IF length(p_note) > 500 THEN
        RAISE EXCEPTION 'note is % characters long (at most 500)', length(p_note) USING ERRCODE = 'XP002';
    END IF;
    LOOP
        EXECUTE format('SELECT user_id FROM xp.%I WHERE id = $1', p_table) INTO v_uid USING p_id;
        IF v_uid IS NULL THEN
            RAISE EXCEPTION 'unknown % %', v_noun, coalesce(p_id::text, 'NULL') USING ERRCODE = 'XP002';
        END IF;
        PERFORM 1 FROM xp.users u WHERE u.id = v_uid FOR UPDATE;
        EXECUTE format('SELECT user_id, status, reviewed_by FROM xp.%I WHERE id = $1 FOR UPDATE', p_table)
            INTO v_now, v_status, v_by USING p_id;
        IF v_now = v_uid THEN
            IF v_status <> 'pending' THEN
                RAISE EXCEPTION '% % was % already by %', v_noun, p_id, v_status, coalesce(v_by, 'xpsync')
                    USING ERRCODE = 'XP009';
            END IF;
            RETURN v_uid;
        END IF;
    END LOOP;
END
$$;

-- An operator approves or declines a waiting submission with a note: the approval completes the
-- quest in the window it was submitted in (paid if the family has a completion left), and the
-- platform it came from is told.
CREATE OR REPLACE FUNCTION xp.review_submission(submission_id bigint, approve boolean, note text DEFAULT NULL)
RETURNS jsonb
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    s xp.quest_submissions;
    q xp.quests;
    v_paid boolean := false;
    v_actor text := xp._actor();
BEGIN
    PERFORM xp._check_flag(review_submission.approve, 'approve');
    PERFORM xp._lock_for_review('quest_submissions', review_submission.submission_id, review_submission.note);
    SELECT * INTO s FROM xp.quest_submissions x WHERE x.id = review_submission.submission_id;
    SELECT * INTO q FROM xp.quests x WHERE x.code = s.quest;
    IF review_submission.approve THEN
        v_paid := xp._quest_complete(s.user_id, q, s.window_start, s.id);
    END IF;
    UPDATE xp.quest_submissions x
       SET status = CASE WHEN review_submission.approve THEN 'approved' ELSE 'declined' END,
           note = nullif(review_submission.note, ''), reviewed_by = v_actor, reviewed_at = now()
     WHERE x.id = s.id
    RETURNING * INTO s;
    PERFORM xp._emit_to(s.user_id, 'quest_reviewed',
                        jsonb_build_object('submission_id', s.id, 'quest', q.code, 'title', q.title,
                                           'status', s.status, 'note', s.note,
                                           'reward_xp', CASE WHEN v_paid THEN q.reward_xp ELSE 0 END,
                                           'reward_coins', CASE WHEN v_paid THEN q.reward_coins ELSE 0 END),
                        s.platform);
    PERFORM xp._audit('quest.' || CASE WHEN review_submission.approve THEN 'approve' ELSE 'decline' END,
                      s.id::text, jsonb_build_object('quest', q.code, 'user_id', s.user_id, 'paid', v_paid,
                                                     'note', s.note));
    RETURN jsonb_build_object('submission_id', s.id, 'user_id', s.user_id, 'status', s.status, 'paid', v_paid,
                              'reward_xp', CASE WHEN v_paid THEN q.reward_xp ELSE 0 END,
                              'reward_coins', CASE WHEN v_paid THEN q.reward_coins ELSE 0 END);
END
$$;
COMMENT ON FUNCTION xp.review_submission(bigint, boolean, text) IS
    'Admin: approve (the quest pays, once per family and window) or decline a waiting submission, with a note; the member is told.';

-- A review queue's filter: pending, approved, declined, or NULL for all (XP002 otherwise).
CREATE OR REPLACE FUNCTION xp._check_review_state(state text) RETURNS void
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF state IS NOT NULL AND state NOT IN ('pending', 'approved', 'declined') THEN
        RAISE EXCEPTION 'unknown status %: expected pending, approved or declined', quote_literal(left(state, 40))
            USING ERRCODE = 'XP002';
    END IF;
END
$$;

CREATE OR REPLACE FUNCTION xp.admin_quest_queue(state text DEFAULT 'pending', by_quest text DEFAULT NULL,
                                                lim int DEFAULT 100)
RETURNS TABLE (id bigint, quest text, title jsonb, reward_xp int, reward_coins int, user_id bigint,
               display_name text, platform text, proof text, status text, note text, reviewed_by text,
               created_at timestamptz, reviewed_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
    PERFORM xp._check_review_state(admin_quest_queue.state);
    RETURN QUERY
    SELECT s.id, s.quest, q.title::jsonb, q.reward_xp, q.reward_coins, s.user_id, u.display_name, s.platform, s.proof,
           s.status, s.note, s.reviewed_by, s.created_at, s.reviewed_at
      FROM xp.quest_submissions s
      JOIN xp.quests q ON q.code = s.quest
      JOIN xp.users u ON u.id = s.user_id
     WHERE (admin_quest_queue.state IS NULL OR s.status = admin_quest_queue.state)
       AND (admin_quest_queue.by_quest IS NULL OR s.quest = admin_quest_queue.by_quest)
     ORDER BY CASE WHEN s.status = 'pending' THEN s.id ELSE -s.id END
     LIMIT least(greatest(coalesce(admin_quest_queue.lim, 100), 1), 500);
END
$$;
COMMENT ON FUNCTION xp.admin_quest_queue(text, text, int) IS
    'Admin panel: quest submissions of a status (NULL: all) and quest (NULL: any), the waiting ones oldest first, the others newest first.';

CREATE OR REPLACE FUNCTION xp.admin_submissions(state text DEFAULT 'pending', lim int DEFAULT 100)
RETURNS TABLE (id bigint, quest text, title jsonb, reward_xp int, reward_coins int, user_id bigint,
               display_name text, platform text, proof text, status text, note text, reviewed_by text,
               created_at timestamptz, reviewed_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
    SELECT * FROM xp.admin_quest_queue(admin_submissions.state, NULL, admin_submissions.lim)
$$;
COMMENT ON FUNCTION xp.admin_submissions(text, int) IS
    'Admin panel: quest submissions of a status (NULL: all), the waiting ones oldest first, the others newest first.';

-- quests are an operator table: audited, and running bots take a change up
CREATE OR REPLACE TRIGGER quests_audit AFTER INSERT OR DELETE ON xp.quests
    FOR EACH ROW EXECUTE FUNCTION xp._operator_row_changed('code');
CREATE OR REPLACE TRIGGER quests_audit_update AFTER UPDATE ON xp.quests
    FOR EACH ROW WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION xp._operator_row_changed('code');
