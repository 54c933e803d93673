-- challenge_high_water_mark(prev, max_bn, scanned, batch_size): the
-- checkpoint-advance rule of the incremental processors.

DO $$
DECLARE
    v_case record;
    v_got  bigint;
BEGIN
    FOR v_case IN
        SELECT * FROM (VALUES
            -- prev, max_bn, scanned, batch, expected, why
            (100::bigint, NULL::bigint, 0, 5000, 100::bigint, 'nothing scanned: unchanged'),
            (100, 250, 0, 5000, 100, 'scanned 0 wins over a stray max_bn: unchanged'),
            (0, 120, 37, 5000, 120, 'partial batch: advance to max_bn'),
            (100, 101, 1, 5000, 101, 'partial batch of one row: advance to max_bn'),
            (100, 150, 5000, 5000, 149, 'full batch: max_bn - 1, rows may share max_bn past the batch'),
            (100, 150, 5001, 5000, 149, 'scanned above batch counts as full'),
            (100, 102, 3, 3, 101, 'full batch, max_bn - 1 is just past prev: max_bn - 1'),
            (100, 101, 3, 3, 101, 'full batch in a single block: max_bn, so the scan cannot wedge'),
            (0, 1, 10, 10, 1, 'full batch of block 1 from an absent checkpoint: max_bn'),
            (NULL, 7, 2, 10, 7, 'NULL prev reads as 0')
        ) AS t (prev, max_bn, scanned, batch, expected, why)
    LOOP
        v_got := challenge_high_water_mark(v_case.prev, v_case.max_bn, v_case.scanned, v_case.batch);
        ASSERT v_got IS NOT DISTINCT FROM v_case.expected,
            format('challenge_high_water_mark(%s, %s, %s, %s) = %s, expected %s (%s)',
                   v_case.prev, v_case.max_bn, v_case.scanned, v_case.batch,
                   v_got, v_case.expected, v_case.why);
    END LOOP;

    ASSERT (SELECT p.provolatile FROM pg_proc p
             WHERE p.oid = 'challenge_high_water_mark(bigint, bigint, integer, integer)'::regprocedure) = 'i',
        'challenge_high_water_mark should be IMMUTABLE (it is a pure function)';
END
$$;
