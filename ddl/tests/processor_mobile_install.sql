-- reconcile_user_event_challenge('m'): the incremental mobile-install processor.
-- User ids 920001.. and blocks 1000+ are used only by this file; every block
-- and checkpoint is set here, whatever the seeded state.

DELETE FROM indexing_checkpoints WHERE tablename LIKE 'challenges:%:last_blocknumber';

-- First run from checkpoint 0 finds the seeded rows; only current mobile rows count.
DO $$
DECLARE
    v_scanned integer;
    v_uc user_challenges%ROWTYPE;
BEGIN
    INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, referrer, is_mobile_user) VALUES
        ('h1001', 1001, true,  920001, NULL, true),    -- mobile
        ('h1001', 1001, true,  920255, NULL, true),    -- mobile, hex 'e0abf'
        ('h1001', 1001, true,  920002, NULL, false),   -- not mobile
        ('h1001', 1001, false, 920003, NULL, true);    -- mobile, but not current

    v_scanned := reconcile_user_event_challenge('m');
    ASSERT v_scanned = 2,
        format('first m run from an absent checkpoint should scan the 2 current mobile rows, scanned %s', v_scanned);

    SELECT * INTO v_uc FROM user_challenges WHERE challenge_id = 'm' AND specifier = to_hex(920255);
    ASSERT FOUND, 'm should upsert a row for user 920255 with specifier to_hex(920255)';
    ASSERT v_uc.specifier = 'e0abf', format('m specifier should be lowercase hex without 0x, got %s', v_uc.specifier);
    ASSERT v_uc.user_id = 920255 AND v_uc.is_complete AND v_uc.current_step_count = 1
           AND v_uc.amount = 1 AND v_uc.completed_blocknumber = 1001 AND v_uc.completed_at IS NOT NULL,
        format('m row should be complete, step 1, amount 1, block 1001, completed_at set; got %s', row_to_json(v_uc));
    ASSERT (SELECT count(*) FROM user_challenges WHERE challenge_id = 'm'
             AND user_id IN (920001, 920002, 920003, 920255)) = 2,
        'only the current mobile users (920001, 920255) should get an m row';

    ASSERT (SELECT last_checkpoint FROM indexing_checkpoints
             WHERE tablename = 'challenges:m:last_blocknumber') = 1001,
        'after a partial batch the m checkpoint should be the max blocknumber scanned (1001)';

    -- The trigger ran for the new complete rows (m has cooldown_days 7).
    ASSERT (SELECT count(*) FROM notification
             WHERE type = 'reward_in_cooldown' AND user_ids @> ARRAY[920255]) = 1,
        'the m upsert should have fired on_user_challenge (one reward_in_cooldown for 920255)';

    -- Idempotent: nothing new to scan, nothing changes.
    v_scanned := reconcile_user_event_challenge('m');
    ASSERT v_scanned = 0, format('a second m run with no new rows should scan 0, scanned %s', v_scanned);
    ASSERT (SELECT last_checkpoint FROM indexing_checkpoints
             WHERE tablename = 'challenges:m:last_blocknumber') = 1001,
        'a run that scans nothing must leave the checkpoint unchanged';
END
$$;

-- Rows at or below the checkpoint are skipped.
DO $$
BEGIN
    UPDATE indexing_checkpoints SET last_checkpoint = 1100 WHERE tablename = 'challenges:m:last_blocknumber';
    INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, is_mobile_user) VALUES
        ('h1050', 1050, true, 920010, true),
        ('h1100', 1100, true, 920011, true);
    ASSERT reconcile_user_event_challenge('m') = 0, 'rows at or below the checkpoint (1050, 1100) must not be scanned';
    ASSERT NOT EXISTS (SELECT 1 FROM user_challenges WHERE challenge_id = 'm' AND user_id IN (920010, 920011)),
        'rows at or below the checkpoint must not be upserted';
END
$$;

-- A full batch whose last block continues past the batch loses no row, and a
-- batch that is all one block does not wedge.
DO $$
DECLARE
    v_scanned integer;
    v_ckpt    integer;
BEGIN
    UPDATE indexing_checkpoints SET last_checkpoint = 1200 WHERE tablename = 'challenges:m:last_blocknumber';
    INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, is_mobile_user) VALUES
        ('h1201', 1201, true, 920101, true),
        ('h1202', 1202, true, 920102, true),
        ('h1202', 1202, true, 920103, true),
        ('h1202', 1202, true, 920104, true),   -- past the first batch of 3
        ('h1203', 1203, true, 920105, true);

    v_scanned := reconcile_user_event_challenge('m', 3);
    SELECT last_checkpoint INTO v_ckpt FROM indexing_checkpoints WHERE tablename = 'challenges:m:last_blocknumber';
    ASSERT v_scanned = 3 AND v_ckpt = 1201,
        format('a full batch ending inside block 1202 should stop the checkpoint at 1201; scanned %s, checkpoint %s',
               v_scanned, v_ckpt);

    -- Next batch is entirely block 1202: the checkpoint must still move.
    v_scanned := reconcile_user_event_challenge('m', 3);
    SELECT last_checkpoint INTO v_ckpt FROM indexing_checkpoints WHERE tablename = 'challenges:m:last_blocknumber';
    ASSERT v_scanned = 3 AND v_ckpt = 1202,
        format('a full batch of one block (1202) must advance to that block, not wedge; scanned %s, checkpoint %s',
               v_scanned, v_ckpt);

    v_scanned := reconcile_user_event_challenge('m', 3);
    SELECT last_checkpoint INTO v_ckpt FROM indexing_checkpoints WHERE tablename = 'challenges:m:last_blocknumber';
    ASSERT v_scanned = 1 AND v_ckpt = 1203,
        format('the last partial batch should scan block 1203 and stop there; scanned %s, checkpoint %s', v_scanned, v_ckpt);

    ASSERT (SELECT count(*) FROM user_challenges
             WHERE challenge_id = 'm' AND user_id BETWEEN 920101 AND 920105) = 5,
        'every row of the split block must be derived: expected m rows for 920101..920105';
END
$$;

-- Amount and completed_at are frozen once complete; amount parses as an
-- integer, 0 when it does not parse.
DO $$
DECLARE
    v_before user_challenges%ROWTYPE;
    v_after  user_challenges%ROWTYPE;
BEGIN
    UPDATE indexing_checkpoints SET last_checkpoint = 1300 WHERE tablename = 'challenges:m:last_blocknumber';
    INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, is_mobile_user)
    VALUES ('h1301', 1301, true, 920201, true);
    PERFORM reconcile_user_event_challenge('m');
    -- An earlier completion time, so a changed completed_at would show.
    UPDATE user_challenges SET completed_at = '2020-01-01 00:00:00'
     WHERE challenge_id = 'm' AND user_id = 920201;
    SELECT * INTO v_before FROM user_challenges WHERE challenge_id = 'm' AND user_id = 920201;

    UPDATE challenges SET amount = '7' WHERE id = 'm';
    -- The user's row changes again (the old one is superseded).
    UPDATE user_events SET is_current = false WHERE user_id = 920201;
    INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, is_mobile_user)
    VALUES ('h1302', 1302, true, 920201, true),
           ('h1302', 1302, true, 920202, true);
    ASSERT reconcile_user_event_challenge('m') = 2, 'block 1302 should scan 2 rows';

    SELECT * INTO v_after FROM user_challenges WHERE challenge_id = 'm' AND user_id = 920201;
    ASSERT v_after.amount = 1,
        format('amount must stay frozen once complete: was 1, now %s', v_after.amount);
    ASSERT v_after.completed_at = v_before.completed_at,
        format('completed_at must not change once set: was %s, now %s', v_before.completed_at, v_after.completed_at);
    ASSERT v_after.completed_blocknumber = 1301,
        format('completed_blocknumber must stay 1301, now %s', v_after.completed_blocknumber);
    ASSERT (SELECT amount FROM user_challenges WHERE challenge_id = 'm' AND user_id = 920202) = 7,
        'a new completion should take the current challenge amount (7)';

    UPDATE challenges SET amount = '1.5' WHERE id = 'm';
    INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, is_mobile_user)
    VALUES ('h1303', 1303, true, 920203, true);
    PERFORM reconcile_user_event_challenge('m');
    ASSERT (SELECT amount FROM user_challenges WHERE challenge_id = 'm' AND user_id = 920203) = 0,
        'an amount that does not parse as an integer (''1.5'') should be upserted as 0';
END
$$;

-- An incomplete row written elsewhere is completed by the processor.
DO $$
DECLARE
    v_uc user_challenges%ROWTYPE;
BEGIN
    UPDATE challenges SET amount = '3' WHERE id = 'm';
    UPDATE indexing_checkpoints SET last_checkpoint = 1400 WHERE tablename = 'challenges:m:last_blocknumber';
    INSERT INTO user_challenges (challenge_id, user_id, specifier, is_complete, current_step_count, amount)
    VALUES ('m', 920301, to_hex(920301), false, 0, 0);
    INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, is_mobile_user)
    VALUES ('h1401', 1401, true, 920301, true);
    PERFORM reconcile_user_event_challenge('m');
    SELECT * INTO v_uc FROM user_challenges WHERE challenge_id = 'm' AND user_id = 920301;
    ASSERT v_uc.is_complete AND v_uc.current_step_count = 1 AND v_uc.amount = 3
           AND v_uc.completed_at IS NOT NULL AND v_uc.completed_blocknumber = 1401,
        format('an incomplete m row should be completed with amount 3 and completed_at; got %s', row_to_json(v_uc));
END
$$;

-- Inactive or missing challenge: no-op. Unknown id: a clear error.
DO $$
DECLARE
    v_ckpt_before integer;
    v_state text;
    v_msg   text;
BEGIN
    UPDATE indexing_checkpoints SET last_checkpoint = 1500 WHERE tablename = 'challenges:m:last_blocknumber';
    INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, is_mobile_user)
    VALUES ('h1501', 1501, true, 920401, true);

    UPDATE challenges SET active = false WHERE id = 'm';
    ASSERT reconcile_user_event_challenge('m') = 0, 'an inactive challenge should return 0';
    ASSERT NOT EXISTS (SELECT 1 FROM user_challenges WHERE challenge_id = 'm' AND user_id = 920401),
        'an inactive challenge must not upsert';
    ASSERT (SELECT last_checkpoint FROM indexing_checkpoints
             WHERE tablename = 'challenges:m:last_blocknumber') = 1500,
        'an inactive challenge must not move its checkpoint';

    DELETE FROM challenges WHERE id = 'rd';
    DELETE FROM indexing_checkpoints WHERE tablename = 'challenges:rd:last_blocknumber';
    ASSERT reconcile_user_event_challenge('rd') = 0, 'a missing challenge row should return 0';
    ASSERT NOT EXISTS (SELECT 1 FROM indexing_checkpoints WHERE tablename = 'challenges:rd:last_blocknumber'),
        'a missing challenge must not write a checkpoint';

    BEGIN
        PERFORM reconcile_user_event_challenge('p');
        ASSERT false, 'reconcile_user_event_challenge(''p'') should raise: p is not a user_events challenge';
    EXCEPTION WHEN invalid_parameter_value THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_msg = MESSAGE_TEXT;
    END;
    ASSERT v_msg LIKE '%unknown challenge id ''p''%',
        format('the unknown-id error should name the id, got: %s', v_msg);

    BEGIN
        PERFORM reconcile_user_event_challenge('m', 0);
        ASSERT false, 'a batch size of 0 should raise';
    EXCEPTION WHEN invalid_parameter_value THEN
        NULL;
    END;
END
$$;

-- Atomic: when the upsert fails, the checkpoint does not move either.
CREATE FUNCTION pg_temp.fail_for_920501() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF new.user_id = 920501 THEN
        RAISE EXCEPTION 'injected failure for 920501';
    END IF;
    RETURN new;
END
$$;
CREATE TRIGGER zz_test_fail BEFORE INSERT ON user_challenges
    FOR EACH ROW EXECUTE FUNCTION pg_temp.fail_for_920501();

DO $$
DECLARE
    v_failed boolean := false;
BEGIN
    UPDATE challenges SET active = true WHERE id = 'm';
    UPDATE indexing_checkpoints SET last_checkpoint = 1600 WHERE tablename = 'challenges:m:last_blocknumber';
    INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, is_mobile_user)
    VALUES ('h1601', 1601, true, 920500, true),
           ('h1601', 1601, true, 920501, true);
    BEGIN
        PERFORM reconcile_user_event_challenge('m');
    EXCEPTION WHEN OTHERS THEN
        v_failed := true;
    END;
    ASSERT v_failed, 'the injected upsert failure should surface as an error';
    ASSERT (SELECT last_checkpoint FROM indexing_checkpoints
             WHERE tablename = 'challenges:m:last_blocknumber') = 1600,
        'a failed tick must not move the checkpoint';
    ASSERT NOT EXISTS (SELECT 1 FROM user_challenges WHERE challenge_id = 'm' AND user_id = 920500),
        'a failed tick must not leave any of its upserts behind (920500)';
END
$$;
