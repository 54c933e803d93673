-- reconcile_user_event_challenge('r' | 'rv' | 'rd'): the incremental referral
-- processors. User ids 930001.. and blocks 2000+ are used only by this file.

DELETE FROM indexing_checkpoints WHERE tablename LIKE 'challenges:%:last_blocknumber';

INSERT INTO users (user_id, handle, handle_lc, wallet, is_verified, is_current, blocknumber) VALUES
    (930010, 'Plain', 'plain', '0xee10', false, true, 1),     -- unverified referrer
    (930020, 'Blue', 'blue', '0xee20', true, true, 1),        -- verified referrer
    (930040, 'Gone', 'gone', '0xee40', true, false, 1);       -- no current row

INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, referrer, is_mobile_user) VALUES
    ('h2001', 2001, true, 930101, 930010, false),   -- referred by the unverified one
    ('h2001', 2001, true, 930102, 930020, false),   -- referred by the verified one
    ('h2002', 2002, true, 930103, 930030, false),   -- referrer has no users row
    ('h2002', 2002, true, 930104, 930040, false),   -- referrer has no current users row
    ('h2002', 2002, true, 930105, NULL, true),      -- no referrer
    ('h2002', 2002, false, 930106, 930010, false);  -- not current

-- r versus rv splits on the referrer's verification; rd ignores it.
DO $$
DECLARE
    v_uc user_challenges%ROWTYPE;
    v_n  integer;
BEGIN
    v_n := reconcile_user_event_challenge('r');
    ASSERT v_n = 4, format('r should scan the 4 current rows with a referrer, scanned %s', v_n);
    v_n := reconcile_user_event_challenge('rv');
    ASSERT v_n = 4, format('rv should scan the 4 current rows with a referrer, scanned %s', v_n);
    v_n := reconcile_user_event_challenge('rd');
    ASSERT v_n = 4, format('rd should scan the 4 current rows with a referrer, scanned %s', v_n);

    -- r: unverified referrer 930010 referred 930101.
    SELECT * INTO v_uc FROM user_challenges WHERE challenge_id = 'r';
    ASSERT (SELECT count(*) FROM user_challenges WHERE challenge_id = 'r') = 1,
        format('exactly one r row expected (930010 -> 930101), got %s',
               (SELECT string_agg(specifier, ', ') FROM user_challenges WHERE challenge_id = 'r'));
    ASSERT v_uc.specifier = to_hex(930010) || ':' || to_hex(930101) AND v_uc.user_id = 930010,
        format('r should be <hex referrer>:<hex referred> for the referrer, got %s for %s', v_uc.specifier, v_uc.user_id);
    ASSERT v_uc.is_complete AND v_uc.amount = 1 AND v_uc.current_step_count = 1 AND v_uc.completed_blocknumber = 2001,
        format('r row should be complete, amount 1, step 1, block 2001: %s', row_to_json(v_uc));

    -- rv: verified referrer 930020 referred 930102.
    SELECT * INTO v_uc FROM user_challenges WHERE challenge_id = 'rv';
    ASSERT (SELECT count(*) FROM user_challenges WHERE challenge_id = 'rv') = 1,
        format('exactly one rv row expected (930020 -> 930102), got %s',
               (SELECT string_agg(specifier, ', ') FROM user_challenges WHERE challenge_id = 'rv'));
    ASSERT v_uc.specifier = 'e30e4:e3136' AND v_uc.user_id = 930020,
        format('rv should be e30e4:e3136 for user 930020, got %s for %s', v_uc.specifier, v_uc.user_id);

    -- rd: both referred users, whatever the referrer's verification.
    ASSERT (SELECT array_agg(user_id ORDER BY user_id) FROM user_challenges WHERE challenge_id = 'rd')
           = ARRAY[930101, 930102],
        format('rd should go to the referred users 930101 and 930102, got %s',
               (SELECT array_agg(user_id ORDER BY user_id) FROM user_challenges WHERE challenge_id = 'rd'));
    ASSERT EXISTS (SELECT 1 FROM user_challenges WHERE challenge_id = 'rd' AND user_id = 930101
                     AND specifier = to_hex(930101) || ':' || to_hex(930010)),
        'rd specifier should be <hex referred>:<hex referrer>';

    ASSERT NOT EXISTS (SELECT 1 FROM user_challenges
                        WHERE challenge_id IN ('r', 'rv', 'rd')
                          AND (specifier LIKE '%' || to_hex(930103) || '%'
                               OR specifier LIKE '%' || to_hex(930104) || '%'
                               OR specifier LIKE '%' || to_hex(930106) || '%')),
        'referrals whose referrer has no current users row, or whose row is not current, must not be awarded';

    ASSERT (SELECT array_agg(last_checkpoint ORDER BY tablename) FROM indexing_checkpoints
             WHERE tablename IN ('challenges:r:last_blocknumber', 'challenges:rv:last_blocknumber',
                                 'challenges:rd:last_blocknumber')) = ARRAY[2002, 2002, 2002],
        'r, rv and rd should each have advanced their own checkpoint to 2002';
    ASSERT NOT EXISTS (SELECT 1 FROM indexing_checkpoints WHERE tablename = 'challenges:m:last_blocknumber'),
        'running r/rv/rd must not touch the m checkpoint';

    -- Idempotent.
    ASSERT reconcile_user_event_challenge('r') + reconcile_user_event_challenge('rv')
           + reconcile_user_event_challenge('rd') = 0,
        're-running r, rv and rd with nothing new should scan nothing';
    ASSERT (SELECT count(*) FROM user_challenges WHERE challenge_id IN ('r', 'rv', 'rd')) = 4,
        're-running must not add user_challenges rows';
END
$$;

-- The documented caveat: a referrer's verification flip is only seen when the
-- referred user's row changes again.
DO $$
BEGIN
    UPDATE users SET is_verified = true WHERE user_id = 930010;
    ASSERT reconcile_user_event_challenge('rv') = 0,
        'a verification flip alone does not make any user_events row dirty';
    ASSERT NOT EXISTS (SELECT 1 FROM user_challenges WHERE challenge_id = 'rv' AND user_id = 930010),
        'rv must not be awarded to 930010 before the referred user''s row changes (documented caveat)';

    UPDATE user_events SET is_current = false WHERE user_id = 930101;
    INSERT INTO user_events (blockhash, blocknumber, is_current, user_id, referrer, is_mobile_user)
    VALUES ('h2003', 2003, true, 930101, 930010, true);
    ASSERT reconcile_user_event_challenge('rv') = 1, 'the referred user''s new row (block 2003) should be scanned';
    ASSERT EXISTS (SELECT 1 FROM user_challenges WHERE challenge_id = 'rv' AND user_id = 930010
                     AND specifier = to_hex(930010) || ':' || to_hex(930101) AND completed_blocknumber = 2003),
        'once the referred user''s row changes, rv should be awarded to the now verified referrer';
    ASSERT reconcile_user_event_challenge('r') = 1, 'r scans the same new row';
    ASSERT EXISTS (SELECT 1 FROM user_challenges WHERE challenge_id = 'r' AND user_id = 930010 AND is_complete),
        'the earlier r completion stays complete';
END
$$;
