#!/usr/bin/env bash
# A copy of pg_migrate.sh's logic as /work/shared/notes/pg_migrate-contract.md
# describes it (tracker, directories, sort -V, whitespace-free md5, psql with
# ON_ERROR_STOP, upsert after each file), for tests that check what the old
# script would do on a database ddlkit also migrates. Not the original script.
#   usage: PSQL=/path/to/psql pg_migrate_copy.sh DB_URL DDL_DIR
# Prints "applying <file_name>" for each file it runs.
set -euo pipefail
url="$1"; root="$2"; psql="${PSQL:-psql}"
cd "$root"
"$psql" -qtAX -v ON_ERROR_STOP=1 "$url" -c "CREATE TABLE IF NOT EXISTS schema_version (file_name text PRIMARY KEY, md5 text, applied_at timestamptz NOT NULL DEFAULT now())" >/dev/null
known="$("$psql" -qtAX -v ON_ERROR_STOP=1 "$url" -c "select md5 from schema_version")"
for dir in utils migrations functions preflight; do
  [ -d "$dir" ] || continue
  [ "$dir" = preflight ] && [ "${PG_MIGRATE_TEST_MODE:-}" = true ] && continue
  for f in $(ls "$dir" | grep '\.sql$' | sort -V); do
    name="$dir/$f"
    sum="$(tr -d "[:space:]" < "$name" | md5sum | cut -d' ' -f1)"
    if grep -qx "$sum" <<<"$known"; then continue; fi
    echo "applying $name"
    if ! "$psql" -qtAX -v ON_ERROR_STOP=1 "$url" < "$name"; then
      [[ "$name" == *failable* ]] || exit 1
    fi
    "$psql" -qtAX -v ON_ERROR_STOP=1 -v name="$name" -v sum="$sum" "$url" >/dev/null <<'SQL'
insert into schema_version (file_name, md5) values (:'name', :'sum')
on conflict (file_name) do update set md5 = excluded.md5, applied_at = now();
SQL
  done
done
