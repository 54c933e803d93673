-- try_parse_integer(text) -> integer
--
-- Parses a plain decimal integer ('42', '-7', '+3'); returns NULL for anything
-- else: NULL, '', '1.5', ' 42 ', '1e3', '0x1f', '1_000', or a value outside the
-- int4 range. The incremental challenge processors use it to read
-- challenges.amount (varchar) as "parse as integer, 0 if it does not parse".
--
-- The regex keeps out the forms that int4 input would otherwise accept
-- (surrounding whitespace, and since PostgreSQL 16 underscores and 0x/0o/0b
-- prefixes). It is PL/pgSQL on purpose: a SQL function would be inlined, and
-- the planner could then constant-fold a cast of a literal argument and fail
-- before the regex guard had run.

CREATE OR REPLACE FUNCTION try_parse_integer(p_text text)
RETURNS integer
LANGUAGE plpgsql
IMMUTABLE
PARALLEL SAFE
AS $$
BEGIN
    IF p_text IS NULL OR p_text !~ '^[+-]?[0-9]+$' THEN
        RETURN NULL;
    END IF;
    -- More than 10 significant digits cannot fit into int4; reject them here
    -- instead of paying for an exception block on every call.
    IF length(ltrim(p_text, '+-0')) > 10 THEN
        RETURN NULL;
    END IF;
    IF p_text::numeric NOT BETWEEN -2147483648 AND 2147483647 THEN
        RETURN NULL;
    END IF;
    RETURN p_text::integer;
END;
$$;

COMMENT ON FUNCTION try_parse_integer(text) IS
    'Plain decimal text to int4; NULL when it does not parse or overflows.';
