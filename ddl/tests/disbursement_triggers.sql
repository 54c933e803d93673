-- handle_challenge_disbursement() (challenge_disbursements) and
-- handle_sol_reward_disbursement() (sol_reward_disbursements).
-- User ids 910001.. and wallets 0xdd.. are used only by this file.

-- Legacy table.
DO $$
DECLARE
    v_t0 constant timestamp := '2026-05-29 12:00:00';
    v_row notification%ROWTYPE;
    v_n   integer;
BEGIN
    -- No reward_manager_txs row for the signature: nothing.
    INSERT INTO challenge_disbursements (challenge_id, user_id, specifier, signature, slot, amount)
    VALUES ('p0', 910001, 'ddba1', 'sig-unknown', 10, '100000000');
    ASSERT NOT EXISTS (SELECT 1 FROM notification WHERE user_ids @> ARRAY[910001]),
        'a disbursement whose signature has no reward_manager_txs row must not notify';

    INSERT INTO reward_manager_txs (signature, slot, created_at) VALUES
        ('sig-1', 11, v_t0),
        ('sig-2', 12, v_t0 + interval '30 minutes'),
        ('sig-3', 13, v_t0 + interval '3 hours');

    INSERT INTO challenge_disbursements (challenge_id, user_id, specifier, signature, slot, amount)
    VALUES ('u', 910001, 'ddba1', 'sig-1', 11, '100000000');
    SELECT * INTO v_row FROM notification
     WHERE type = 'challenge_reward' AND user_ids @> ARRAY[910001];
    ASSERT FOUND, 'a disbursement with an indexed reward manager tx should insert challenge_reward';
    ASSERT v_row.group_id = 'challenge_reward:910001:challenge:u:specifier:ddba1'
           AND v_row.specifier = '910001',
        format('legacy challenge_reward group_id/specifier: got %s / %s', v_row.group_id, v_row.specifier);
    ASSERT v_row."timestamp" = v_t0 AND v_row.slot = 11,
        format('legacy challenge_reward should take the tx time and the disbursement slot, got %s / %s',
               v_row."timestamp", v_row.slot);
    ASSERT v_row.data = jsonb_build_object('specifier', 'ddba1', 'challenge_id', 'u', 'amount', '100000000'),
        format('legacy challenge_reward data: got %s', v_row.data);

    -- Within the hour: deduplicated.
    INSERT INTO challenge_disbursements (challenge_id, user_id, specifier, signature, slot, amount)
    VALUES ('p', 910001, 'ddba1-p', 'sig-2', 12, '100000000');
    SELECT count(*) INTO v_n FROM notification WHERE type = 'challenge_reward' AND user_ids @> ARRAY[910001];
    ASSERT v_n = 1, format('a second disbursement within the hour must be deduplicated: %s rows', v_n);

    -- After the hour: a new one.
    INSERT INTO challenge_disbursements (challenge_id, user_id, specifier, signature, slot, amount)
    VALUES ('p0', 910001, 'ddba1-later', 'sig-3', 13, '100000000');
    SELECT count(*) INTO v_n FROM notification WHERE type = 'challenge_reward' AND user_ids @> ARRAY[910001];
    ASSERT v_n = 2, format('a disbursement three hours later should notify again: %s rows, expected 2', v_n);

    -- An error inside the trigger is a warning; the disbursement row stays.
    -- (A NULL user_id makes the notification's specifier and group_id NULL.)
    INSERT INTO challenge_disbursements (challenge_id, user_id, specifier, signature, slot, amount)
    VALUES ('p0', NULL, 'ddba-null', 'sig-1', 11, '1');
    ASSERT EXISTS (SELECT 1 FROM challenge_disbursements WHERE specifier = 'ddba-null'),
        'an error in handle_challenge_disbursement must not abort the disbursement insert';
END
$$;

-- New indexer table.
DO $$
DECLARE
    v_row notification%ROWTYPE;
    v_n   integer;
BEGIN
    INSERT INTO users (user_id, handle, handle_lc, wallet, is_current, blocknumber) VALUES
        (910011, 'Sol', 'sol', '0xdd11', true, 1),
        (910012, 'Old', 'old', '0xdd12', false, 1);
    INSERT INTO reward_codes (code, amount) VALUES ('DDCODE', 5);

    INSERT INTO sol_reward_disbursements (signature, instruction_index, amount, slot, user_bank,
                                          challenge_id, specifier, recipient_eth_address, created_at)
    VALUES ('sol-1', 0, 200000000, 500, 'bank', 'p0', 'ddbb1', '0xdd11', '2026-05-29 12:00:00+00');
    SELECT * INTO v_row FROM notification
     WHERE type = 'challenge_reward' AND user_ids @> ARRAY[910011];
    ASSERT FOUND, 'a sol disbursement to a known wallet should insert challenge_reward';
    ASSERT v_row.group_id = 'challenge_reward:910011:challenge:p0:specifier:ddbb1'
           AND v_row.specifier = '910011',
        format('sol challenge_reward group_id/specifier: got %s / %s', v_row.group_id, v_row.specifier);
    ASSERT v_row."timestamp" = '2026-05-29 12:00:00'::timestamp AND v_row.slot = 500,
        format('sol challenge_reward should take created_at in UTC and the slot, got %s / %s',
               v_row."timestamp", v_row.slot);
    ASSERT v_row.data = jsonb_build_object('specifier', 'ddbb1', 'challenge_id', 'p0', 'amount', '200000000'),
        format('sol challenge_reward data should match the legacy shape (amount as text), got %s', v_row.data);

    -- Within the hour: deduplicated (and a second instruction of the same tx).
    INSERT INTO sol_reward_disbursements (signature, instruction_index, amount, slot, user_bank,
                                          challenge_id, specifier, recipient_eth_address, created_at)
    VALUES ('sol-1', 1, 100000000, 500, 'bank', 'u', 'ddbb1-u', '0xdd11', '2026-05-29 12:20:00+00');
    SELECT count(*) INTO v_n FROM notification WHERE type = 'challenge_reward' AND user_ids @> ARRAY[910011];
    ASSERT v_n = 1, format('a second sol disbursement within the hour must be deduplicated: %s rows', v_n);

    -- Unknown wallet, non-current user row, reward code: no notification.
    INSERT INTO sol_reward_disbursements (signature, instruction_index, amount, slot, challenge_id,
                                          specifier, recipient_eth_address, created_at)
    VALUES ('sol-2', 0, 1, 501, 'p0', 'ddbb2', '0xdd99', '2026-05-29 15:00:00+00'),
           ('sol-3', 0, 1, 502, 'p0', 'ddbb3', '0xdd12', '2026-05-29 15:00:00+00'),
           ('sol-4', 0, 1, 503, 'DDCODE', 'ddbb4', '0xdd11', '2026-05-29 15:00:00+00');
    ASSERT NOT EXISTS (SELECT 1 FROM notification WHERE specifier IN ('ddbb2', 'ddbb3', 'ddbb4')
                                                     OR group_id LIKE '%:specifier:ddbb2'
                                                     OR group_id LIKE '%:specifier:ddbb3'
                                                     OR group_id LIKE '%:specifier:ddbb4'),
        'sol disbursements to unknown wallets, non-current users or for reward codes must not notify';
    ASSERT (SELECT count(*) FROM sol_reward_disbursements WHERE signature IN ('sol-2', 'sol-3', 'sol-4')) = 3,
        'skipped sol disbursements must still be stored';

    -- An error inside the trigger is a warning; the row stays (NULL specifier -> NULL group_id).
    INSERT INTO sol_reward_disbursements (signature, instruction_index, amount, slot, challenge_id,
                                          specifier, recipient_eth_address, created_at)
    VALUES ('sol-5', 0, 1, 504, 'p0', NULL, '0xdd11', '2026-05-29 18:00:00+00');
    ASSERT EXISTS (SELECT 1 FROM sol_reward_disbursements WHERE signature = 'sol-5'),
        'an error in handle_sol_reward_disbursement must not abort the disbursement insert';
END
$$;

-- Both indexers see the same disbursement: one notification.
DO $$
DECLARE
    v_n integer;
BEGIN
    INSERT INTO users (user_id, wallet, is_current, blocknumber) VALUES (910021, '0xdd21', true, 1);
    INSERT INTO reward_manager_txs (signature, slot, created_at) VALUES ('both-1', 600, '2026-05-30 09:00:00');
    INSERT INTO challenge_disbursements (challenge_id, user_id, specifier, signature, slot, amount)
    VALUES ('p0', 910021, 'ddbc1', 'both-1', 600, '100000000');
    INSERT INTO sol_reward_disbursements (signature, instruction_index, amount, slot, challenge_id,
                                          specifier, recipient_eth_address, created_at)
    VALUES ('both-1', 0, 100000000, 600, 'p0', 'ddbc1', '0xdd21', '2026-05-30 09:00:05+00');
    SELECT count(*) INTO v_n FROM notification WHERE type = 'challenge_reward' AND user_ids @> ARRAY[910021];
    ASSERT v_n = 1,
        format('a disbursement indexed by both the legacy and the sol indexer must notify once, got %s', v_n);
END
$$;
