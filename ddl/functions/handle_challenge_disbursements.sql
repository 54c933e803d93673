-- challenge_reward notifications for reward disbursements, from either
-- disbursement table:
--
--   handle_challenge_disbursement()   AFTER INSERT ON challenge_disbursements
--       (the legacy indexer's table; trigger on_challenge_disbursement)
--   handle_sol_reward_disbursement()  AFTER INSERT ON sol_reward_disbursements
--       (the new indexer's table; trigger on_sol_reward_disbursement)
--
-- Both insert the same shape:
--     type      'challenge_reward'
--     group_id  'challenge_reward:<user_id>:challenge:<challenge_id>:specifier:<specifier>'
--     specifier the user id
--     data      {specifier, challenge_id, amount}   (amount as text)
-- and both skip the insert when the user already has a challenge_reward
-- notification whose timestamp is at or after the disbursement time - 1 hour.
-- While the two indexers run side by side, a disbursement seen by both
-- therefore yields one notification (the 1-hour dedupe, and uq_notification
-- behind it for identical group_id/specifier).
--
-- The dedupe lookups are written  user_ids @> ARRAY[user_id]::integer[]  so
-- that the GIN ix_notification serves them; never  user_id = ANY(user_ids),
-- which GIN cannot serve (a sequential scan of notification per disbursement).
--
-- A notification is a side effect: any error is reported as a WARNING and the
-- disbursement row is still inserted.

CREATE OR REPLACE FUNCTION handle_challenge_disbursement()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_tx_created_at timestamp;
    v_tx_found      boolean;
    v_timestamp     timestamp;
BEGIN
    -- Only disbursements whose reward manager transaction has been indexed.
    SELECT t.created_at, true
      INTO v_tx_created_at, v_tx_found
      FROM reward_manager_txs t
     WHERE t.signature = new.signature;

    IF NOT coalesce(v_tx_found, false) THEN
        RETURN NULL;
    END IF;

    -- The transaction time (naive UTC) is the notification time; fall back to
    -- the disbursement row's own time.
    v_timestamp := coalesce(v_tx_created_at,
                            new.created_at AT TIME ZONE 'UTC',
                            now() AT TIME ZONE 'UTC');

    IF NOT EXISTS (
        SELECT 1
          FROM notification n
         WHERE n.type = 'challenge_reward'
           AND n.user_ids @> ARRAY[new.user_id]::integer[]
           AND n."timestamp" >= v_timestamp - interval '1 hour'
    ) THEN
        INSERT INTO notification
            (slot, user_ids, "timestamp", type, specifier, group_id, data)
        VALUES (
            new.slot,
            ARRAY[new.user_id]::integer[],
            v_timestamp,
            'challenge_reward',
            new.user_id::text,
            'challenge_reward:' || new.user_id || ':challenge:' || new.challenge_id
                || ':specifier:' || new.specifier,
            jsonb_build_object(
                'specifier', new.specifier,
                'challenge_id', new.challenge_id,
                'amount', new.amount)
        )
        ON CONFLICT DO NOTHING;
    END IF;

    RETURN NULL;
EXCEPTION
    WHEN OTHERS THEN
        RAISE WARNING 'An error occurred in %: %', tg_name, sqlerrm;
        RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER on_challenge_disbursement
    AFTER INSERT ON challenge_disbursements
    FOR EACH ROW
    EXECUTE FUNCTION handle_challenge_disbursement();


-- pg_notify channel 'sol_reward_disbursement', payload JSON
--     {signature, instruction_index, user_id, challenge_id, specifier, amount}
-- sent for every disbursement that resolves to a user and is not a reward
-- code, whether or not the notification row was deduplicated. Listeners get
-- it at commit (never for a rolled-back insert).
CREATE OR REPLACE FUNCTION handle_sol_reward_disbursement()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_user_id   integer;
    v_timestamp timestamp;
BEGIN
    SELECT u.user_id
      INTO v_user_id
      FROM users u
     WHERE u.wallet = new.recipient_eth_address
       AND u.is_current
     ORDER BY u.blocknumber DESC NULLS LAST
     LIMIT 1;

    IF v_user_id IS NULL THEN
        RETURN NULL;  -- a wallet we do not index
    END IF;

    IF EXISTS (SELECT 1 FROM reward_codes rc WHERE rc.code = new.challenge_id) THEN
        RETURN NULL;  -- reward codes are not challenges
    END IF;

    v_timestamp := coalesce(new.created_at, now()) AT TIME ZONE 'UTC';

    IF NOT EXISTS (
        SELECT 1
          FROM notification n
         WHERE n.type = 'challenge_reward'
           AND n.user_ids @> ARRAY[v_user_id]::integer[]
           AND n."timestamp" >= v_timestamp - interval '1 hour'
    ) THEN
        INSERT INTO notification
            (slot, user_ids, "timestamp", type, specifier, group_id, data)
        VALUES (
            new.slot,
            ARRAY[v_user_id]::integer[],
            v_timestamp,
            'challenge_reward',
            v_user_id::text,
            'challenge_reward:' || v_user_id || ':challenge:' || new.challenge_id
                || ':specifier:' || new.specifier,
            jsonb_build_object(
                'specifier', new.specifier,
                'challenge_id', new.challenge_id,
                'amount', new.amount::text)
        )
        ON CONFLICT DO NOTHING;
    END IF;

    PERFORM pg_notify(
        'sol_reward_disbursement',
        jsonb_build_object(
            'signature', new.signature,
            'instruction_index', new.instruction_index,
            'user_id', v_user_id,
            'challenge_id', new.challenge_id,
            'specifier', new.specifier,
            'amount', new.amount::text)::text);

    RETURN NULL;
EXCEPTION
    WHEN OTHERS THEN
        RAISE WARNING 'An error occurred in %: %', tg_name, sqlerrm;
        RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER on_sol_reward_disbursement
    AFTER INSERT ON sol_reward_disbursements
    FOR EACH ROW
    EXECUTE FUNCTION handle_sol_reward_disbursement();
