-- The same three call sites after PR 880: `user_ids @> ARRAY[...]`, which the
-- partial GIN index serves (2 ms per call). Nothing to report.

CREATE OR REPLACE FUNCTION handle_on_user_challenge() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cooldown_days integer;
    existing_notification integer;
BEGIN
    SELECT c.cooldown_days INTO cooldown_days FROM challenges c WHERE c.id = new.challenge_id;
    IF new.is_complete AND cooldown_days > 0 THEN
        SELECT id INTO existing_notification
          FROM notification
         WHERE
           type = 'reward_in_cooldown'
           -- the form that made every call seq-scan the 8 GB table
           AND user_ids @> ARRAY[new.user_id]::integer[]
           AND timestamp >= (new.completed_at - interval '1 hour')
         LIMIT 1;
        IF existing_notification IS NULL THEN
            INSERT INTO notification (slot, user_ids, timestamp, type, specifier, group_id, data)
            VALUES (new.completed_blocknumber, ARRAY[new.user_id], new.completed_at, 'reward_in_cooldown',
                    new.user_id, 'reward_in_cooldown:' || new.user_id, '{}')
            ON CONFLICT DO NOTHING;
        END IF;
    END IF;
    RETURN new;
END
$$;

CREATE OR REPLACE FUNCTION handle_challenge_disbursement() RETURNS trigger
LANGUAGE plpgsql AS $fn$
DECLARE
    reward_manager_tx_id text;
    existing_notification integer;
BEGIN
    SELECT signature INTO reward_manager_tx_id
      FROM reward_manager_txs
     WHERE specifier = new.specifier AND challenge_id = new.challenge_id;
    SELECT id INTO existing_notification
      FROM notification
     WHERE type = 'challenge_reward'
       AND specifier = new.specifier
       AND user_ids @> ARRAY[new.user_id]::integer[]
       AND timestamp >= (new.created_at - interval '1 hour')
     LIMIT 1;
    IF existing_notification IS NULL THEN
        INSERT INTO notification (slot, user_ids, timestamp, type, specifier, group_id, data)
        VALUES (new.slot, ARRAY[new.user_id], new.created_at, 'challenge_reward', new.user_id,
                'challenge_reward:' || new.user_id, json_build_object('amount', new.amount))
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$fn$;

CREATE OR REPLACE FUNCTION handle_sol_reward_disbursement() RETURNS trigger
LANGUAGE plpgsql AS $body$
DECLARE
    v_user_id integer;
BEGIN
    SELECT user_id INTO v_user_id FROM users WHERE wallet = new.recipient_eth_address AND is_current;
    IF v_user_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF NOT EXISTS (
        SELECT 1
          FROM notification n
         WHERE n.type = 'challenge_reward'
           AND n.specifier = new.specifier
           AND n.user_ids @> ARRAY[v_user_id]::integer[]
    ) THEN
        INSERT INTO notification (slot, user_ids, timestamp, type, specifier, group_id, data)
        VALUES (new.slot, ARRAY[v_user_id], now(), 'challenge_reward', v_user_id,
                'challenge_reward:' || v_user_id, '{}')
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$body$;
