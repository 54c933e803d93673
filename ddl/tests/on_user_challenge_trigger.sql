-- handle_on_user_challenge() / trigger on_user_challenge on user_challenges.
-- User ids 900001.. are used only by this file.

-- cooldown_days > 0: at most one reward_in_cooldown per user within an hour.
DO $$
DECLARE
    v_t0 constant timestamp := '2026-05-29 12:00:00';
    v_n  integer;
    v_row notification%ROWTYPE;
BEGIN
    -- Incomplete rows notify nothing.
    INSERT INTO user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count, amount)
    VALUES ('p', 900001, 'dbba1', false, 1, 1);
    ASSERT NOT EXISTS (SELECT 1 FROM notification WHERE user_ids @> ARRAY[900001]),
        'an incomplete user_challenges row must not create any notification';

    -- Completing it (UPDATE) notifies once.
    UPDATE user_challenges
       SET is_complete = true, current_step_count = 3, completed_at = v_t0, completed_blocknumber = 77
     WHERE challenge_id = 'p' AND specifier = 'dbba1';
    SELECT * INTO v_row FROM notification
     WHERE type = 'reward_in_cooldown' AND user_ids @> ARRAY[900001];
    ASSERT FOUND, 'completing a cooldown_days>0 challenge (p) should insert a reward_in_cooldown notification';
    ASSERT v_row.group_id = 'reward_in_cooldown:900001:challenge:p:specifier:dbba1',
        format('reward_in_cooldown group_id: got %s', v_row.group_id);
    ASSERT v_row.specifier = 'dbba1',
        format('reward_in_cooldown specifier should be the row''s specifier, got %s', v_row.specifier);
    ASSERT v_row."timestamp" = v_t0 AND v_row.blocknumber = 77 AND v_row.slot = 77,
        format('reward_in_cooldown timestamp/blocknumber/slot should be completed_at/completed_blocknumber, got %s/%s/%s',
               v_row."timestamp", v_row.blocknumber, v_row.slot);
    ASSERT v_row.user_ids = ARRAY[900001],
        format('reward_in_cooldown user_ids should be {900001}, got %s', v_row.user_ids);
    ASSERT v_row.data = jsonb_build_object('specifier', 'dbba1', 'challenge_id', 'p', 'amount', 1),
        format('reward_in_cooldown data: got %s', v_row.data);
    ASSERT NOT EXISTS (SELECT 1 FROM notification WHERE user_ids @> ARRAY[900001]
                        AND type IN ('claimable_reward', 'challenge_reward')),
        'a cooldown_days>0 completion must not insert claimable_reward or challenge_reward';

    -- Another cooldown completion 59 minutes later, other challenge: deduped.
    INSERT INTO user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count, amount, completed_at)
    VALUES ('u', 900001, 'dbba1-u', true, 1, 1, v_t0 + interval '59 minutes');
    SELECT count(*) INTO v_n FROM notification
     WHERE type = 'reward_in_cooldown' AND user_ids @> ARRAY[900001];
    ASSERT v_n = 1,
        format('a second cooldown completion within the hour must be deduplicated: %s reward_in_cooldown rows, expected 1', v_n);

    -- Re-writing a complete row (the processors' upsert does this) does not duplicate.
    UPDATE user_challenges SET current_step_count = 3 WHERE challenge_id = 'p' AND specifier = 'dbba1';
    SELECT count(*) INTO v_n FROM notification
     WHERE type = 'reward_in_cooldown' AND user_ids @> ARRAY[900001];
    ASSERT v_n = 1, format('updating an already complete row must not add a notification: %s rows', v_n);

    -- Two hours later the window has passed: a second notification.
    INSERT INTO user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count, amount, completed_at)
    VALUES ('p', 900001, 'dbba1-later', true, 3, 1, v_t0 + interval '2 hours');
    SELECT count(*) INTO v_n FROM notification
     WHERE type = 'reward_in_cooldown' AND user_ids @> ARRAY[900001];
    ASSERT v_n = 2,
        format('a cooldown completion after the hour should insert a second reward_in_cooldown: %s rows, expected 2', v_n);

    -- The dedupe is per user: another user in the same hour gets their own.
    INSERT INTO user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count, amount, completed_at)
    VALUES ('p', 900002, 'dbba2', true, 3, 1, v_t0);
    ASSERT (SELECT count(*) FROM notification
             WHERE type = 'reward_in_cooldown' AND user_ids @> ARRAY[900002]) = 1,
        'another user''s completion in the same hour should get its own reward_in_cooldown';

    -- b and s (cooldown_days > 0) notify nothing at all.
    INSERT INTO user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count, amount, completed_at)
    VALUES ('b', 900003, 'dbba3-b', true, 1, 1, v_t0),
           ('s', 900003, 'dbba3-s', true, 1, 1, v_t0);
    ASSERT NOT EXISTS (SELECT 1 FROM notification WHERE user_ids @> ARRAY[900003]),
        'challenges b and s must not create any notification';
END
$$;

-- cooldown_days = 0: claimable_reward (not for tt/tp/tut) and challenge_reward.
DO $$
DECLARE
    v_t0 constant timestamp := '2026-05-29 12:00:00';
    v_row notification%ROWTYPE;
    v_n   integer;
BEGIN
    INSERT INTO user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count,
                                 completed_blocknumber, amount, completed_at)
    VALUES ('p0', 900011, 'dbbab', true, 1, 42, 5, v_t0);

    SELECT * INTO v_row FROM notification
     WHERE type = 'claimable_reward' AND user_ids @> ARRAY[900011];
    ASSERT FOUND, 'a cooldown-0 challenge (p0) should insert a claimable_reward notification';
    ASSERT v_row.group_id = 'claimable_reward:900011:challenge:p0:specifier:dbbab',
        format('claimable_reward group_id: got %s', v_row.group_id);
    ASSERT v_row.specifier = 'dbbab',
        format('claimable_reward specifier should be the row''s specifier, got %s', v_row.specifier);
    ASSERT v_row.data = jsonb_build_object('specifier', 'dbbab', 'challenge_id', 'p0', 'amount', 5),
        format('claimable_reward data: got %s', v_row.data);
    ASSERT v_row."timestamp" = v_t0 AND v_row.blocknumber = 42,
        format('claimable_reward timestamp/blocknumber: got %s/%s', v_row."timestamp", v_row.blocknumber);

    SELECT * INTO v_row FROM notification
     WHERE type = 'challenge_reward' AND user_ids @> ARRAY[900011];
    ASSERT FOUND, 'a cooldown-0 challenge (p0) should insert a challenge_reward notification';
    ASSERT v_row.group_id = 'challenge_reward:900011:challenge:p0:specifier:dbbab',
        format('challenge_reward group_id: got %s', v_row.group_id);
    ASSERT v_row.specifier = '900011',
        format('challenge_reward specifier should be the user id, got %s', v_row.specifier);
    ASSERT v_row.data = jsonb_build_object('specifier', 'dbbab', 'challenge_id', 'p0', 'amount', '500000000'),
        format('challenge_reward data should carry amount || 8 zeros as text, got %s', v_row.data);

    ASSERT NOT EXISTS (SELECT 1 FROM notification
                        WHERE type = 'reward_in_cooldown' AND user_ids @> ARRAY[900011]),
        'a cooldown-0 challenge must not insert reward_in_cooldown';

    -- Updating the complete row again: ON CONFLICT DO NOTHING, no duplicates.
    UPDATE user_challenges SET amount = 5 WHERE challenge_id = 'p0' AND specifier = 'dbbab';
    SELECT count(*) INTO v_n FROM notification WHERE user_ids @> ARRAY[900011];
    ASSERT v_n = 2, format('re-firing on a complete p0 row should keep 2 notifications, found %s', v_n);

    -- Trending challenges: challenge_reward only.
    INSERT INTO user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count, amount, completed_at)
    VALUES ('tt', 900012, '2026-05-29:1', true, 1, 1000, v_t0),
           ('tp', 900012, '2026-05-29:2', true, 1, 100, v_t0),
           ('tut', 900012, '2026-05-29:3', true, 1, 1000, v_t0);
    ASSERT NOT EXISTS (SELECT 1 FROM notification
                        WHERE type = 'claimable_reward' AND user_ids @> ARRAY[900012]),
        'tt, tp and tut must not insert claimable_reward';
    SELECT count(*) INTO v_n FROM notification
     WHERE type = 'challenge_reward' AND user_ids @> ARRAY[900012];
    ASSERT v_n = 3, format('tt, tp and tut should each insert a challenge_reward: %s, expected 3', v_n);
    ASSERT (SELECT data ->> 'amount' FROM notification
             WHERE group_id = 'challenge_reward:900012:challenge:tp:specifier:2026-05-29:2') = '10000000000',
        'tp challenge_reward amount should be 100 followed by eight zeros';

    -- Challenge e: challenge_reward carries listen_streak.
    INSERT INTO challenge_listen_streak (user_id, last_listen_date, listen_streak) VALUES (900013, v_t0, 14);
    INSERT INTO user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count, amount, completed_at)
    VALUES ('e', 900013, 'dbbad:14', true, 1, 1, v_t0);
    SELECT * INTO v_row FROM notification
     WHERE type = 'challenge_reward' AND user_ids @> ARRAY[900013];
    ASSERT v_row.data = jsonb_build_object('specifier', 'dbbad:14', 'challenge_id', 'e',
                                           'amount', '100000000', 'listen_streak', 14),
        format('challenge e challenge_reward data should include listen_streak 14, got %s', v_row.data);
    ASSERT EXISTS (SELECT 1 FROM notification WHERE type = 'claimable_reward' AND user_ids @> ARRAY[900013]),
        'challenge e (not trending) should also insert claimable_reward';
END
$$;
