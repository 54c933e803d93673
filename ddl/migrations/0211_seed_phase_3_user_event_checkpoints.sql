-- 0211: seed the checkpoints of the four user_events challenge processors
-- (m, r, rv, rd) to the current high-water mark of user_events, so that a
-- database that already has its user_challenges rows starts "from now" instead
-- of re-deriving every historical user_events row on its first tick.
--
-- An existing checkpoint is never overwritten (ON CONFLICT DO NOTHING): a
-- processor that has already advanced keeps its position, and re-running this
-- file is a no-op for it. On an empty user_events table the seed is 0, which
-- is what an absent checkpoint reads as anyway.
--
-- max(blocknumber) is answered from ix_user_events_blocknumber (0209).

INSERT INTO indexing_checkpoints (tablename, last_checkpoint)
SELECT 'challenges:' || c.challenge_id || ':last_blocknumber',
       hw.blocknumber
FROM (VALUES ('m'), ('r'), ('rv'), ('rd')) AS c (challenge_id)
CROSS JOIN (SELECT coalesce(max(ue.blocknumber), 0) AS blocknumber FROM user_events ue) AS hw
ON CONFLICT (tablename) DO NOTHING;
