-- handle_on_user_challenge(): notifications for completed user_challenges rows.
--
-- Trigger on_user_challenge: AFTER INSERT OR UPDATE ON user_challenges, per row.
--
-- When the row is complete, the challenge's cooldown_days decides:
--
--   cooldown_days NULL or 0
--     * claimable_reward  (not for the trending challenges tt, tp, tut)
--         group_id  'claimable_reward:<user_id>:challenge:<challenge_id>:specifier:<specifier>'
--         specifier the row's specifier
--         data      {specifier, challenge_id, amount}
--     * challenge_reward  (always)
--         group_id  'challenge_reward:<user_id>:challenge:<challenge_id>:specifier:<specifier>'
--         specifier the user id
--         data      {specifier, challenge_id, amount: amount || '00000000'}
--                   (+ listen_streak for challenge e)
--     Both inserts are ON CONFLICT DO NOTHING against uq_notification.
--
--   cooldown_days > 0 (except the audio-matching challenges b and s)
--     * reward_in_cooldown, unless the user already has one whose timestamp is
--       at or after completed_at - 1 hour
--         group_id  'reward_in_cooldown:<user_id>:challenge:<challenge_id>:specifier:<specifier>'
--         specifier the row's specifier
--         data      {specifier, challenge_id, amount}
--
-- The dedupe lookup is written  user_ids @> ARRAY[user_id]::integer[]  so that
-- the partial GIN ix_notification_cooldown_user_ids (migration 0210) serves
-- it. Never write it as  user_id = ANY(user_ids): GIN does not support that
-- form, and on a large notification table every trigger call then becomes a
-- sequential scan (seconds per row; the IndexChallengesJob wedge).
--
-- Notification timestamps are naive UTC (notification.timestamp is
-- timestamp without time zone). A complete row without completed_at, which
-- only legacy writers produce, is stamped with the current UTC time.

CREATE OR REPLACE FUNCTION handle_on_user_challenge()
RETURNS trigger
LANGUAGE plpgsql
AS $$
DECLARE
    v_cooldown_days integer;
    v_completed_at  timestamp;
    v_group_suffix  text;
BEGIN
    IF NOT new.is_complete THEN
        RETURN NULL;
    END IF;

    SELECT c.cooldown_days
      INTO v_cooldown_days
      FROM challenges c
     WHERE c.id = new.challenge_id;

    v_completed_at := coalesce(new.completed_at, now() AT TIME ZONE 'UTC');
    v_group_suffix := new.user_id || ':challenge:' || new.challenge_id
                      || ':specifier:' || new.specifier;

    IF v_cooldown_days IS NULL OR v_cooldown_days = 0 THEN
        -- Trending rewards are announced by their own notification type.
        IF new.challenge_id NOT IN ('tt', 'tp', 'tut') THEN
            INSERT INTO notification
                (user_ids, type, group_id, specifier, slot, blocknumber, "timestamp", data)
            VALUES (
                ARRAY[new.user_id]::integer[],
                'claimable_reward',
                'claimable_reward:' || v_group_suffix,
                new.specifier,
                new.completed_blocknumber,
                new.completed_blocknumber,
                v_completed_at,
                jsonb_build_object(
                    'specifier', new.specifier,
                    'challenge_id', new.challenge_id,
                    'amount', new.amount)
            )
            ON CONFLICT DO NOTHING;
        END IF;

        INSERT INTO notification
            (user_ids, type, group_id, specifier, slot, blocknumber, "timestamp", data)
        VALUES (
            ARRAY[new.user_id]::integer[],
            'challenge_reward',
            'challenge_reward:' || v_group_suffix,
            new.user_id::text,
            new.completed_blocknumber,
            new.completed_blocknumber,
            v_completed_at,
            jsonb_build_object(
                'specifier', new.specifier,
                'challenge_id', new.challenge_id,
                -- The reward amount in wei-style units: eight decimal places.
                'amount', new.amount::text || '00000000')
            || CASE
                   WHEN new.challenge_id = 'e' THEN jsonb_build_object(
                       'listen_streak',
                       (SELECT ls.listen_streak
                          FROM challenge_listen_streak ls
                         WHERE ls.user_id = new.user_id))
                   ELSE '{}'::jsonb
               END
        )
        ON CONFLICT DO NOTHING;

    ELSIF v_cooldown_days > 0 AND new.challenge_id NOT IN ('b', 's') THEN
        -- At most one reward_in_cooldown per user per hour. Served by the
        -- partial GIN ix_notification_cooldown_user_ids: keep the literal type
        -- (it implies the index predicate) and the @> form.
        IF NOT EXISTS (
            SELECT 1
              FROM notification n
             WHERE n.type = 'reward_in_cooldown'
               AND n.user_ids @> ARRAY[new.user_id]::integer[]
               AND n."timestamp" >= v_completed_at - interval '1 hour'
        ) THEN
            INSERT INTO notification
                (user_ids, type, group_id, specifier, slot, blocknumber, "timestamp", data)
            VALUES (
                ARRAY[new.user_id]::integer[],
                'reward_in_cooldown',
                'reward_in_cooldown:' || v_group_suffix,
                new.specifier,
                new.completed_blocknumber,
                new.completed_blocknumber,
                v_completed_at,
                jsonb_build_object(
                    'specifier', new.specifier,
                    'challenge_id', new.challenge_id,
                    'amount', new.amount)
            )
            ON CONFLICT DO NOTHING;
        END IF;
    END IF;

    RETURN NULL;
END;
$$;

CREATE OR REPLACE TRIGGER on_user_challenge
    AFTER INSERT OR UPDATE ON user_challenges
    FOR EACH ROW
    EXECUTE FUNCTION handle_on_user_challenge();
