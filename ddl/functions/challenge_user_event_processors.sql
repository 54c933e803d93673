-- Incremental processors for the user_events challenges:
--
--   m   mobile install      recipient: the user           specifier <hex user>
--   r   referral (unverified referrer)
--                           recipient: the referrer       specifier <hex referrer>:<hex referred>
--   rv  referral (verified referrer)
--                           recipient: the referrer       specifier <hex referrer>:<hex referred>
--   rd  referred            recipient: the referred user  specifier <hex referred>:<hex referrer>
--
-- Hex is lowercase without 0x (to_hex(255) = 'ff').
--
-- Public API
--   challenge_high_water_mark(prev, max_bn, scanned, batch_size) -> bigint
--       The checkpoint-advance rule, as a pure function.
--   challenge_user_event_dirty_rows(challenge_id, after_blocknumber, limit)
--       The dirty scan (inlined by the planner; EXPLAIN it to see the plan).
--   reconcile_user_event_challenge(challenge_id, batch_size DEFAULT 5000) -> integer
--       One tick of one processor; returns the number of dirty rows scanned.
--
-- How a tick works
--   1. The checkpoint is indexing_checkpoints row 'challenges:<id>:last_blocknumber'
--      (an absent row reads as 0).
--   2. Dirty scan: current user_events rows past the checkpoint, m: mobile rows,
--      r/rv/rd: rows with a referrer; in blocknumber order, at most batch_size
--      rows. It is an index range read on ix_user_events_blocknumber (0209).
--   3. For the distinct users of the batch the challenge state is derived again
--      from their *current* rows (not from the batch rows), and upserted into
--      user_challenges as complete, step 1 of 1, amount = challenges.amount
--      parsed as an integer (0 if it does not parse). A row that is already
--      complete is left untouched: is_complete stays true, amount and
--      completed_at keep their first values, and the on_user_challenge trigger
--      does not fire again for it.
--   4. The checkpoint advances by the high-water rule.
--   Steps 3 and 4 run in the caller's transaction, as one function call: they
--   commit together or not at all. Concurrent ticks of the same processor are
--   serialised by a transaction-level advisory lock.
--
-- KNOWN CAVEAT (referrer verification): the dirty scan keys on
-- user_events.blocknumber, so when a referrer becomes verified (users.is_verified
-- turns true) nothing is re-derived until the *referred* user's user_events row
-- changes again: the referral stays an r and no rv is awarded until then.
-- Verification changes are rare, and the earlier full-scan processors also only
-- saw them on their next tick; this matches the other incremental processors.
--
-- Over-full blocks: when one block holds more dirty rows than batch_size, the
-- whole batch lies in that block and the no-wedge branch of the high-water rule
-- moves the checkpoint past it. So the tick then takes the rest of that block
-- too (one more range read on ix_user_events_blocknumber): no row is skipped,
-- and the scan still cannot wedge. Such a tick scans more than batch_size rows.

-- ---------------------------------------------------------------------------
-- The high-water rule
-- ---------------------------------------------------------------------------
--   nothing scanned                      -> prev (unchanged)
--   full batch (scanned >= batch_size)   -> max_bn - 1, because more rows may
--                                           share max_bn beyond the batch;
--                                           but max_bn when max_bn - 1 is not
--                                           past prev, so the scan cannot wedge
--   otherwise                            -> max_bn
-- A NULL prev reads as 0 (an absent checkpoint); a NULL batch_size never counts
-- as a full batch.
CREATE OR REPLACE FUNCTION challenge_high_water_mark(
    prev bigint,
    max_bn bigint,
    scanned integer,
    batch_size integer)
RETURNS bigint
LANGUAGE sql
IMMUTABLE
PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN coalesce(scanned, 0) <= 0 OR max_bn IS NULL
            THEN coalesce(prev, 0)
        WHEN scanned >= batch_size
            THEN CASE WHEN max_bn - 1 > coalesce(prev, 0) THEN max_bn - 1 ELSE max_bn END
        ELSE max_bn
    END
$$;

COMMENT ON FUNCTION challenge_high_water_mark(bigint, bigint, integer, integer) IS
    'Checkpoint after a dirty scan: prev if nothing scanned; max_bn - 1 after a full batch '
    '(max_bn if that would not move past prev); else max_bn.';

-- ---------------------------------------------------------------------------
-- The dirty scan
-- ---------------------------------------------------------------------------
-- A plain (not STRICT, not VOLATILE) SQL set-returning function, so the
-- planner inlines it into the calling query and, with a constant challenge id,
-- folds the CASE down to the one filter that applies.
CREATE OR REPLACE FUNCTION challenge_user_event_dirty_rows(
    p_challenge_id text,
    p_after_blocknumber bigint,
    p_limit integer)
RETURNS TABLE (id integer, blocknumber integer, user_id integer)
LANGUAGE sql
STABLE
AS $$
    SELECT ue.id, ue.blocknumber, ue.user_id
      FROM user_events ue
     WHERE ue.blocknumber > p_after_blocknumber
       AND ue.is_current
       AND CASE WHEN p_challenge_id = 'm' THEN ue.is_mobile_user
                ELSE ue.referrer IS NOT NULL
           END
     ORDER BY ue.blocknumber, ue.id
     LIMIT p_limit
$$;

COMMENT ON FUNCTION challenge_user_event_dirty_rows(text, bigint, integer) IS
    'Current user_events rows past a checkpoint for challenge m (mobile) or r/rv/rd '
    '(with a referrer), in blocknumber order, at most p_limit.';

-- ---------------------------------------------------------------------------
-- One tick
-- ---------------------------------------------------------------------------
CREATE OR REPLACE FUNCTION reconcile_user_event_challenge(
    p_challenge_id text,
    p_batch_size integer DEFAULT 5000)
RETURNS integer
LANGUAGE plpgsql
VOLATILE
AS $$
DECLARE
    v_checkpoint_name text;
    v_amount          integer;
    v_prev            bigint;
    v_scanned         integer;
    v_max_bn          bigint;
    v_users           integer[];
    v_completed_at    timestamp := now() AT TIME ZONE 'UTC';
BEGIN
    IF p_challenge_id IS NULL OR p_challenge_id NOT IN ('m', 'r', 'rv', 'rd') THEN
        RAISE EXCEPTION 'reconcile_user_event_challenge: unknown challenge id %',
                coalesce(quote_literal(p_challenge_id), 'NULL')
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'The user_events processors are m, r, rv and rd.';
    END IF;
    IF p_batch_size IS NULL OR p_batch_size < 1 THEN
        RAISE EXCEPTION 'reconcile_user_event_challenge: batch size must be a positive integer, got %',
                coalesce(p_batch_size::text, 'NULL')
            USING ERRCODE = 'invalid_parameter_value';
    END IF;

    -- A missing or inactive challenge is a no-op: no upsert, no checkpoint move.
    SELECT coalesce(try_parse_integer(c.amount), 0)
      INTO v_amount
      FROM challenges c
     WHERE c.id = p_challenge_id
       AND c.active;
    IF NOT FOUND THEN
        RETURN 0;
    END IF;

    v_checkpoint_name := 'challenges:' || p_challenge_id || ':last_blocknumber';

    -- Serialise overlapping ticks of this processor (released at commit or
    -- rollback), so two of them never derive and notify the same batch.
    PERFORM pg_advisory_xact_lock(hashtextextended(v_checkpoint_name, 0));

    SELECT ic.last_checkpoint
      INTO v_prev
      FROM indexing_checkpoints ic
     WHERE ic.tablename = v_checkpoint_name;
    v_prev := coalesce(v_prev, 0);

    -- 1. Dirty scan.
    SELECT count(*), max(d.blocknumber), array_agg(DISTINCT d.user_id)
      INTO v_scanned, v_max_bn, v_users
      FROM challenge_user_event_dirty_rows(p_challenge_id, v_prev, p_batch_size) d;

    IF v_scanned = 0 THEN
        RETURN 0;
    END IF;

    -- 1b. A full batch inside one block (max_bn - 1 is not past the checkpoint):
    -- the high-water rule will advance past that block, so take all of it.
    IF v_scanned >= p_batch_size AND v_max_bn - 1 <= v_prev THEN
        SELECT count(*), array_agg(DISTINCT ue.user_id)
          INTO v_scanned, v_users
          FROM user_events ue
         WHERE ue.blocknumber = v_max_bn
           AND ue.is_current
           AND CASE WHEN p_challenge_id = 'm' THEN ue.is_mobile_user
                    ELSE ue.referrer IS NOT NULL
               END;
    END IF;

    -- 2. Derive and upsert, for the distinct users of the batch.
    IF p_challenge_id = 'm' THEN
        -- The user still has a current mobile row.
        INSERT INTO user_challenges AS uc
            (challenge_id, user_id, specifier, is_complete, current_step_count,
             completed_blocknumber, amount, completed_at)
        SELECT 'm', mobile.user_id, to_hex(mobile.user_id), true, 1,
               mobile.blocknumber, v_amount, v_completed_at
          FROM (
                SELECT DISTINCT ON (ue.user_id) ue.user_id, ue.blocknumber
                  FROM unnest(v_users) AS batch (user_id)
                  JOIN user_events ue ON ue.user_id = batch.user_id
                 WHERE ue.is_current
                   AND ue.is_mobile_user
                 ORDER BY ue.user_id, ue.blocknumber DESC, ue.id DESC
               ) AS mobile
        ON CONFLICT (challenge_id, specifier) DO UPDATE
           SET is_complete           = true,
               current_step_count    = excluded.current_step_count,
               completed_blocknumber = excluded.completed_blocknumber,
               amount                = excluded.amount,
               completed_at          = excluded.completed_at
         WHERE NOT uc.is_complete;  -- a complete row is final
    ELSE
        -- The referred user's current referral row, and a current users row for
        -- the referrer: unverified -> r, verified -> rv; rd either way.
        INSERT INTO user_challenges AS uc
            (challenge_id, user_id, specifier, is_complete, current_step_count,
             completed_blocknumber, amount, completed_at)
        SELECT p_challenge_id,
               CASE WHEN p_challenge_id = 'rd' THEN ref.referred ELSE ref.referrer END,
               CASE WHEN p_challenge_id = 'rd'
                    THEN to_hex(ref.referred) || ':' || to_hex(ref.referrer)
                    ELSE to_hex(ref.referrer) || ':' || to_hex(ref.referred)
               END,
               true, 1, ref.blocknumber, v_amount, v_completed_at
          FROM (
                SELECT DISTINCT ON (ue.user_id)
                       ue.user_id AS referred, ue.referrer, ue.blocknumber
                  FROM unnest(v_users) AS batch (user_id)
                  JOIN user_events ue ON ue.user_id = batch.user_id
                 WHERE ue.is_current
                   AND ue.referrer IS NOT NULL
                 ORDER BY ue.user_id, ue.blocknumber DESC, ue.id DESC
               ) AS ref
         CROSS JOIN LATERAL (
                SELECT coalesce(u.is_verified, false) AS is_verified
                  FROM users u
                 WHERE u.user_id = ref.referrer
                   AND u.is_current
                 ORDER BY u.blocknumber DESC NULLS LAST
                 LIMIT 1
               ) AS referrer_user
         WHERE p_challenge_id = 'rd'
            OR referrer_user.is_verified = (p_challenge_id = 'rv')
        ON CONFLICT (challenge_id, specifier) DO UPDATE
           SET is_complete           = true,
               current_step_count    = excluded.current_step_count,
               completed_blocknumber = excluded.completed_blocknumber,
               amount                = excluded.amount,
               completed_at          = excluded.completed_at
         WHERE NOT uc.is_complete;  -- a complete row is final
    END IF;

    -- 3. Advance the checkpoint (never backwards).
    INSERT INTO indexing_checkpoints AS ic (tablename, last_checkpoint)
    VALUES (v_checkpoint_name,
            challenge_high_water_mark(v_prev, v_max_bn, v_scanned, p_batch_size))
    ON CONFLICT (tablename) DO UPDATE
       SET last_checkpoint = greatest(ic.last_checkpoint, excluded.last_checkpoint);

    RETURN v_scanned;
END;
$$;

COMMENT ON FUNCTION reconcile_user_event_challenge(text, integer) IS
    'One incremental tick of user_events challenge m, r, rv or rd; returns the dirty rows scanned. '
    'Caveat: a referrer''s verification change is seen only when the referred user''s row changes.';
