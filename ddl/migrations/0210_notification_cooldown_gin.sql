-- 0210: partial GIN on notification(user_ids) for the reward_in_cooldown rows
-- only. It serves the cooldown dedupe lookup of the on_user_challenge trigger
-- (ddl/functions/handle_user_challenges.sql), which runs for every completed
-- user_challenges row of a challenge with cooldown_days > 0:
--
--     ... WHERE type = 'reward_in_cooldown'
--           AND user_ids @> ARRAY[new.user_id]::integer[]
--           AND "timestamp" >= new.completed_at - interval '1 hour'
--
-- The index is small (one notification type out of ~30) and its predicate is
-- implied by the lookup's type = 'reward_in_cooldown'. GIN's array operator
-- class serves @>, && and <@ but NOT  x = ANY(user_ids): a lookup written with
-- = ANY can never use this index (or ix_notification) and scans the table.
--
-- CONCURRENTLY, alone in its file: see 0209.

CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_notification_cooldown_user_ids
    ON notification USING gin (user_ids)
    WHERE type = 'reward_in_cooldown';
