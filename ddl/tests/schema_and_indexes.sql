-- The migrated schema: the indexes the challenge job relies on exist, are
-- valid and have the right shape; 0211 seeded the four checkpoints; the
-- triggers are attached; no function in the schema tests membership with
-- "= ANY(" (GIN cannot serve it).

DO $$
DECLARE
    v_def text;
BEGIN
    -- 0209
    SELECT pg_get_indexdef(i.indexrelid) INTO v_def
      FROM pg_index i
     WHERE i.indexrelid = to_regclass('ix_user_events_blocknumber')
       AND i.indisvalid AND i.indisready;
    ASSERT v_def IS NOT NULL,
        'ix_user_events_blocknumber (0209) is missing or not valid';
    ASSERT v_def ~ 'USING btree \(blocknumber\)$',
        format('ix_user_events_blocknumber should be a plain btree on (blocknumber), got: %s', v_def);

    -- 0210
    SELECT pg_get_indexdef(i.indexrelid) INTO v_def
      FROM pg_index i
     WHERE i.indexrelid = to_regclass('ix_notification_cooldown_user_ids')
       AND i.indisvalid AND i.indisready;
    ASSERT v_def IS NOT NULL,
        'ix_notification_cooldown_user_ids (0210) is missing or not valid';
    ASSERT v_def ~ 'USING gin \(user_ids\) WHERE \(\(type\)::text = ''reward_in_cooldown''::text\)$',
        format('ix_notification_cooldown_user_ids should be GIN (user_ids) WHERE type = reward_in_cooldown, got: %s', v_def);

    -- baseline
    SELECT pg_get_indexdef(i.indexrelid) INTO v_def
      FROM pg_index i
     WHERE i.indexrelid = to_regclass('ix_notification') AND i.indisvalid;
    ASSERT v_def ~ 'USING gin \(user_ids\)$',
        format('ix_notification should be a full GIN on (user_ids), got: %s', coalesce(v_def, 'nothing'));
    ASSERT to_regclass('uq_notification') IS NOT NULL,
        'the unique constraint uq_notification (group_id, specifier) is missing';
    ASSERT to_regtype('challengetype') IS NOT NULL, 'enum challengetype is missing';
    ASSERT (SELECT array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
              FROM pg_enum e WHERE e.enumtypid = to_regtype('challengetype'))
           = ARRAY['boolean', 'numeric', 'aggregate', 'trending'],
        'challengetype should have the labels boolean, numeric, aggregate, trending in that order';
END
$$;

DO $$
DECLARE
    v_missing text[];
BEGIN
    -- 0211 ran on an empty user_events table: every checkpoint is 0.
    SELECT array_agg(want.name) INTO v_missing
      FROM (VALUES ('challenges:m:last_blocknumber'), ('challenges:r:last_blocknumber'),
                   ('challenges:rv:last_blocknumber'), ('challenges:rd:last_blocknumber')) AS want (name)
      LEFT JOIN indexing_checkpoints ic ON ic.tablename = want.name AND ic.last_checkpoint = 0
     WHERE ic.tablename IS NULL;
    ASSERT v_missing IS NULL,
        format('0211 should have seeded these checkpoints to 0 on the empty test database: %s', v_missing);

    -- The seed challenges the processors and trigger paths need.
    ASSERT (SELECT count(*) FROM challenges
             WHERE id IN ('m', 'r', 'rv', 'rd') AND active AND amount = '1'
               AND step_count = 1 AND cooldown_days = 7) = 4,
        'challenges m, r, rv, rd should be seeded active, amount 1, step_count 1, cooldown_days 7';
    ASSERT (SELECT count(*) FROM challenges
             WHERE id IN ('tt', 'tp', 'tut', 'e', 'p0') AND cooldown_days = 0) = 5,
        'cooldown-0 challenges tt, tp, tut, e, p0 should be seeded';
END
$$;

DO $$
DECLARE
    v_trigger record;
    v_offenders text[];
BEGIN
    FOR v_trigger IN
        SELECT * FROM (VALUES
            ('on_user_challenge', 'user_challenges', 'handle_on_user_challenge', true),
            ('on_challenge_disbursement', 'challenge_disbursements', 'handle_challenge_disbursement', false),
            ('on_sol_reward_disbursement', 'sol_reward_disbursements', 'handle_sol_reward_disbursement', false)
        ) AS t (name, tbl, func, on_update)
    LOOP
        ASSERT EXISTS (
            SELECT 1
              FROM pg_trigger tg
              JOIN pg_proc p ON p.oid = tg.tgfoid
             WHERE tg.tgname = v_trigger.name
               AND tg.tgrelid = v_trigger.tbl::regclass
               AND p.proname = v_trigger.func
               AND NOT tg.tgisinternal
               AND tg.tgenabled = 'O'
               -- row-level (1), AFTER (before bit 2 unset), INSERT (4), UPDATE (16)
               AND tg.tgtype & 1 = 1 AND tg.tgtype & 2 = 0 AND tg.tgtype & 4 = 4
               AND (tg.tgtype & 16 = 16) = v_trigger.on_update
        ), format('trigger %s should be an enabled AFTER INSERT%s row trigger on %s executing %s()',
                  v_trigger.name, CASE WHEN v_trigger.on_update THEN ' OR UPDATE' ELSE '' END,
                  v_trigger.tbl, v_trigger.func);
    END LOOP;

    -- The membership lookups must be GIN-eligible: no "= ANY(" in any function
    -- of this schema.
    SELECT array_agg(p.proname ORDER BY p.proname) INTO v_offenders
      FROM pg_proc p
     WHERE p.pronamespace = current_schema()::regnamespace
       AND p.prosrc ~* '=\s*any\s*\(';
    ASSERT v_offenders IS NULL,
        format('these functions test membership with "= ANY(", which GIN cannot serve; use user_ids @> ARRAY[x]::integer[]: %s', v_offenders);
END
$$;
