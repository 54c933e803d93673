-- Legitimate `= any(` forms from a real-world schema dump: the array is a
-- parameter, a variable, a record field, a literal, a bind parameter, or an
-- expression that is not a plain column. None of them may be reported.
SET check_function_bodies = false;

CREATE OR REPLACE FUNCTION public.get_users(user_ids integer[]) RETURNS SETOF public.users
    LANGUAGE sql STABLE
    AS $_$
  SELECT * FROM users WHERE users.is_current AND "user_id" = any(user_ids)
$_$;

CREATE OR REPLACE FUNCTION public.get_tracks(integer[]) RETURNS SETOF public.tracks
    LANGUAGE sql STABLE
    AS $_$ SELECT * FROM tracks t WHERE t.track_id = ANY($1) AND t.is_current $_$;

CREATE OR REPLACE FUNCTION public.filter_followers(target_user_ids integer[], p_user integer) RETURNS integer[]
    LANGUAGE plpgsql STABLE
    AS $$
DECLARE
    v_ids integer[] := '{}';
    blocked integer[];
    r record;
BEGIN
    SELECT array_agg(blockee_user_id) INTO blocked FROM blocks WHERE blocker_user_id = p_user;
    FOR r IN SELECT f.followee_user_id FROM follows f WHERE f.follower_user_id = p_user LOOP
        IF r.followee_user_id = any(target_user_ids) AND NOT r.followee_user_id = any(blocked) THEN
            v_ids := v_ids || r.followee_user_id;
        END IF;
    END LOOP;
    RETURN (SELECT array_agg(u.user_id) FROM users u
             WHERE users_u_is_ok(u) AND u.user_id = any(v_ids) AND u.user_id = ANY(filter_followers.target_user_ids));
END
$$;

CREATE OR REPLACE FUNCTION public.on_new_row() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
declare
  milestone integer;
  milestones integer[] := '{10,25,50,100,250,500,1000}';
begin
  select count(*) into milestone from follows where followee_user_id = new.followee_user_id;
  if milestone = any(milestones) then
    insert into milestones (id, name, threshold) values (new.followee_user_id, 'FOLLOWER_COUNT', milestone)
    on conflict do nothing;
  end if;
  if new.followee_user_id = any(old.blocked_ids) or new.followee_user_id = any(new.muted_ids) then
    return null;
  end if;
  perform 1 from notification where type = any(array['follow', 'repost']) and specifier = any('{a,b}');
  perform 1 from notification n where n.group_id = any(string_to_array(new.group_ids, ','));
  perform 1 from notification n where n.id = any(select unnest(new.ids));
  execute 'select 1 from notification where user_ids && $1 and $2 = any(user_ids)' using new.ids, new.followee_user_id;
  return new;
end
$$;

CREATE OR REPLACE PROCEDURE public.prune(keep_ids bigint[])
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM sessions s WHERE NOT s.id = ANY(keep_ids);
    COMMIT;
END
$$;

WITH picked AS (SELECT ARRAY[1, 2, 3] AS ids)
SELECT u.* FROM users u, picked WHERE u.user_id = ANY(picked.ids);

PREPARE by_ids(integer[]) AS SELECT * FROM users WHERE user_id = ANY($1);
