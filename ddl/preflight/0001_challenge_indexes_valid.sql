-- Preflight: the indexes the challenge job depends on exist and are VALID.
--
-- CREATE INDEX CONCURRENTLY that is interrupted (cancel, lock timeout,
-- deadlock, a failing unique check, a killed session) leaves an INVALID index
-- behind. The next run's CREATE INDEX CONCURRENTLY IF NOT EXISTS then sees the
-- name, skips it, and reports success, while the index never serves a query:
-- exactly how the dirty scan (0209) or the cooldown trigger lookup (0210) would
-- silently fall back to scanning whole tables. This check turns that into a
-- failed deploy with the repair in the message.
--
-- Read-only and re-runnable. Skipped in test mode.

DO $$
DECLARE
    v_index   text;
    v_valid   boolean;
    v_problem text[] := ARRAY[]::text[];
BEGIN
    FOREACH v_index IN ARRAY ARRAY[
        'ix_user_events_blocknumber',         -- 0209: dirty scan of the processors
        'ix_notification_cooldown_user_ids',  -- 0210: on_user_challenge cooldown lookup
        'ix_notification'                     -- baseline: disbursement dedupe lookups
    ]
    LOOP
        SELECT i.indisvalid AND i.indisready
          INTO v_valid
          FROM pg_index i
         WHERE i.indexrelid = to_regclass(v_index);

        IF v_valid IS NULL THEN
            v_problem := v_problem || format('%s is missing', v_index);
        ELSIF NOT v_valid THEN
            v_problem := v_problem || format(
                '%s is INVALID (an interrupted CREATE INDEX CONCURRENTLY): '
                'DROP INDEX CONCURRENTLY %s, then run its CREATE INDEX CONCURRENTLY again', v_index, v_index);
        END IF;
    END LOOP;

    IF cardinality(v_problem) > 0 THEN
        RAISE EXCEPTION 'preflight: %', array_to_string(v_problem, '; ');
    END IF;
END
$$;
