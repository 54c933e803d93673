#!/usr/bin/env bash
# A copy of the old runner's contract (/work/shared/notes/pg_migrate-contract.md,
# steps 1-12), written from the contract for the tests: ddlkit must notice it
# running beside itself. Usage: DDL_DIR=path/to/ddl pg_migrate.sh [test]
# PSQL names the psql binary (default: psql on PATH).
set -euo pipefail

DDL_DIR="${DDL_DIR:-ddl}"
PSQL="${PSQL:-psql}"
LOCK_KEY=5432109876

# 1. Connection: .env in the ddl directory; DB_URL, else the POSTGRES_* variables; no +psycopg2.
if [ -f "$DDL_DIR/.env" ]; then
    set -a
    # shellcheck disable=SC1091
    . "$DDL_DIR/.env"
    set +a
fi
if [ -z "${DB_URL:-}" ]; then
    DB_URL="postgres://${POSTGRES_USER:-postgres}:${POSTGRES_PASSWORD:-}@${POSTGRES_HOST:-127.0.0.1}:${POSTGRES_PORT:-5432}/${POSTGRES_DB:-}"
fi
DB_URL="${DB_URL//+psycopg2/}"

q() {  # one psql process per call, as the script does
    "$PSQL" -qtAX -v ON_ERROR_STOP=1 "$DB_URL" "$@"
}

# 12. Lock: try, else wait for it, release it and exit 0 (a one-shot session: released at once).
got="$(q -c "select pg_try_advisory_lock($LOCK_KEY)")"
if [ "$got" != "t" ]; then
    q -c "select pg_advisory_lock($LOCK_KEY)" >/dev/null
    q -c "select pg_advisory_unlock($LOCK_KEY)" >/dev/null || true
    echo "another replica completed the migrations"
    exit 0
fi

# 2. Tracker.
q -c "CREATE TABLE IF NOT EXISTS schema_version (file_name text PRIMARY KEY, md5 text, applied_at timestamptz NOT NULL DEFAULT now())"

migrate() {
    # 7. Every md5 in the tracker.
    local applied
    applied="$(q -c "select md5 from schema_version")"
    local dirs=(utils migrations functions)
    if [ "${PG_MIGRATE_TEST_MODE:-}" != "true" ]; then
        dirs+=(preflight)
    fi
    local dir file rel md5 stem csv table header cols
    for dir in "${dirs[@]}"; do  # 3. directories in order
        [ -d "$DDL_DIR/$dir" ] || continue
        # 4. *.sql ordered like sort -V
        while IFS= read -r file; do
            [ -n "$file" ] || continue
            rel="$dir/$(basename "$file")"  # 5. relative to the ddl root
            md5="$(tr -d '[:space:]' < "$file" | md5sum | cut -d' ' -f1)"  # 6.
            if grep -qxF "$md5" <<<"$applied"; then
                continue
            fi
            stem="$(basename "$file" .sql)"
            # 8. CSV staging into temp_<csv stem>, text columns from the header.
            local staged=()
            if [ -d "$DDL_DIR/data/$stem" ]; then
                for csv in "$DDL_DIR/data/$stem"/*.csv; do
                    [ -f "$csv" ] || continue
                    table="temp_$(basename "$csv" .csv | tr ' ' '_')"
                    header="$(head -n1 "$csv" | tr -d '\r')"
                    cols="$(tr ' ' '_' <<<"$header" | sed 's/,/ text, /g') text"
                    q -c "DROP TABLE IF EXISTS $table" -c "CREATE TABLE $table ($cols)"
                    q -c "\\copy $table FROM '$csv' WITH (FORMAT csv, HEADER true)"
                    staged+=("$table")
                done
            fi
            # 9. The file through psql; failable files' errors are printed and ignored.
            if ! q < "$file"; then
                if [[ "$rel" == *failable* ]]; then
                    echo "failable file $rel failed; ignored" >&2
                else
                    echo "migration $rel failed" >&2
                    exit 1
                fi
            fi
            for table in "${staged[@]}"; do
                q -c "DROP TABLE IF EXISTS $table"
            done
            # 10. The tracker upsert, in its own psql call.
            q -v fn="$rel" -v md5="$md5" <<'SQL'
INSERT INTO schema_version (file_name, md5) VALUES (:'fn', :'md5')
ON CONFLICT (file_name) DO UPDATE SET md5 = EXCLUDED.md5, applied_at = now();
SQL
            applied+=$'\n'"$md5"
            echo "applied $rel"
        done < <(find "$DDL_DIR/$dir" -maxdepth 1 -name '*.sql' -type f | sort -V)
    done
}

migrate
if [ "${1:-}" = "test" ]; then  # 11. twice, then the tests
    migrate
    if [ -d "$DDL_DIR/tests" ]; then
        while IFS= read -r file; do
            q < "$file"
        done < <(find "$DDL_DIR/tests" -maxdepth 1 -name '*.sql' -type f | sort -V)
    fi
fi
