"""`ddlkit drift`: a database migrated from a tree, then changed by hand, compared
with the tree's schema dump (or the tree itself) object by object."""

from __future__ import annotations

import json
import shutil

import psycopg
from psycopg import sql
import pytest

from conftest import SERVER, run_cli, url_for
from ddlkit import api
from ddlkit.schema.drift import Change

ROLE = "ddlkit_drift_reader"

TREE = {
    "utils/0001_roles.sql": (
        "do $$ begin\n"
        f"  if not exists (select from pg_roles where rolname = '{ROLE}') then create role {ROLE}; end if;\n"
        "exception when duplicate_object or unique_violation then null;\n"
        "end $$;\n"),
    "migrations/0001_base.sql": (
        "create type mood as enum ('happy', 'sad');\n"
        "create table accounts (\n"
        "  id bigint generated always as identity primary key,\n"
        "  name text not null,\n"
        "  status text not null default 'active',\n"
        "  feeling mood,\n"
        "  created_at timestamptz not null default now()\n"
        ");\n"
        "create table events (\n"
        "  id bigserial primary key,\n"
        "  account_id bigint not null,\n"
        "  payload jsonb,\n"
        "  constraint events_account_fk foreign key (account_id) references accounts (id)\n"
        ");\n"
        "create index events_account_idx on events (account_id);\n"
        "create view active_accounts as select id, name from accounts where status = 'active';\n"
        "create statistics accounts_stats on name, status from accounts;\n"
        "create rule events_keep as on delete to events where old.payload is not null do instead nothing;\n"),
    "migrations/0002_grants.sql": f"grant select on accounts to {ROLE};\n",
    "functions/touch_account.sql": (
        "create or replace function touch_account() returns trigger language plpgsql as $$\n"
        "begin\n"
        "  new.name := trim(new.name);\n"
        "  return new;\n"
        "end $$;\n"
        "drop trigger if exists accounts_touch on accounts;\n"
        "create trigger accounts_touch before insert or update on accounts\n"
        "  for each row execute function touch_account();\n"),
}


@pytest.fixture(scope="module")
def dumped(tmp_path_factory):
    """A tree with its schema dump beside it (made once, by `ddlkit dump`)."""
    base = tmp_path_factory.mktemp("drift")
    for rel, text in TREE.items():
        path = base / "ddl" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    out = run_cli("dump", "--ddl-dir", str(base / "ddl"))
    assert out.returncode == 0, out.stderr
    return base


@pytest.fixture
def project(dumped, tmp_path):
    shutil.copytree(dumped / "ddl", tmp_path / "ddl")
    shutil.copytree(dumped / "schema_dump", tmp_path / "schema_dump")
    return tmp_path


@pytest.fixture
def migrated(project, empty_db, db_url):
    """(project, connection, url) of a database migrated from the tree."""
    api.migrate(ddl_dir=project / "ddl", database_url=db_url, progress=False)
    return project, empty_db, db_url


SCRATCH = url_for(SERVER["maintenance"])  # expected side built on the test server: no second server needed


def drift(project, url, **kw):
    kw.setdefault("scratch_url", SCRATCH)
    return api.drift(ddl_dir=project / "ddl", database_url=url, **kw)


def only(report):
    """The single difference of a report, as (change, kind, name, detail)."""
    assert len(report.differences) == 1, [d.line for d in report.differences]
    d = report.differences[0]
    return d.change.value, d.kind, d.name, d.detail


# --------------------------------------------------------------------------- zero noise

def test_freshly_migrated_database_has_no_drift(migrated):
    project, conn, url = migrated
    # ddlkit's side tables (token fingerprints; the run history with its identity sequence) are there,
    # and left out: neither a table nor a sequence the expected schema lacks.
    sides = conn.execute("select count(*) from pg_class where relname in "
                         "('ddlkit_file_tokens', 'ddlkit_runs', 'ddlkit_runs_id_seq')").fetchone()[0]
    assert sides == 3
    report = drift(project, url)
    assert report.ok, [d.line for d in report.differences]
    assert report.objects["table"] == 3 and report.objects["trigger"] == 1 and report.objects["function"] == 1
    assert report.objects["sequence"] == conn.execute(
        "select count(*) from pg_sequences where sequencename <> 'ddlkit_runs_id_seq'").fetchone()[0]
    assert report.exit_code == 0


def test_database_made_by_template_has_no_drift(project, empty_db, db_url):
    api.template(ddl_dir=project / "ddl", database_url=db_url)
    report = drift(project, db_url)
    assert report.ok, [d.line for d in report.differences]


def test_freshly_migrated_database_has_no_drift_against_the_tree_with_acl(migrated):
    project, conn, url = migrated
    report = drift(project, url, from_tree=True, include_acl=True)
    assert report.ok, [d.line for d in report.differences]
    assert report.objects["grant"] > 0 and report.objects["owner"] > 0


def test_embedded_server_of_another_major_shows_no_drift(migrated):
    """The same tree applied on the test server and on the embedded server of
    another major (the embedded server is 18; CI's second run has a test server of 15)."""
    from ddlkit.server import server

    project, conn, url = migrated
    major = conn.info.server_version // 10000
    if major == server.PINNED_MAJOR:
        pytest.skip(f"the test server is the embedded PostgreSQL {major} itself; "
                    "run with DDLKIT_TEST_DATABASE_URL on another major (CI's PostgreSQL 15 run)")
    other = server.PINNED_MAJOR
    was_running = server.status(other).running
    target = server.embedded_target(major=other)
    from ddlkit.db.scratch import scratch_database

    try:
        with scratch_database(target, "drift_test") as scratch:
            api.migrate(ddl_dir=project / "ddl", database_url=server.url_of(scratch), progress=False)
            for live, expected in ((server.url_of(scratch), SCRATCH), (url, server.url_of(target))):
                report = drift(project, live, from_tree=True, include_acl=True, scratch_url=expected)
                assert report.ok, (major, other, [d.line for d in report.differences])
                assert report.live_version // 10000 != report.expected_version // 10000
    finally:
        if not was_running:
            server.stop(other)


# --------------------------------------------------------------------------- each hand change, detected and named

_HAND_CHANGES = [
    ("drop trigger accounts_touch on accounts",
     ("missing", "trigger", "public.accounts.accounts_touch", "expected, not in the database")),
    ("alter table accounts disable trigger accounts_touch",
     ("changed", "trigger", "public.accounts.accounts_touch", "state: expected enabled, found disabled")),
    ("drop index events_account_idx",
     ("missing", "index", "public.events_account_idx", "expected, not in the database")),
    ("update pg_index set indisvalid = false where indexrelid = 'events_account_idx'::regclass",
     ("changed", "index", "public.events_account_idx", "validity: expected valid, found INVALID")),
    ("alter table accounts add column hotfix int",
     ("extra", "column", "public.accounts.hotfix", "in the database, not expected")),
    ("alter table accounts alter column status set default 'closed'",
     ("changed", "column", "public.accounts.status", "default: expected 'active'::text, found 'closed'::text")),
    ("alter table accounts alter column name drop not null",
     ("changed", "column", "public.accounts.name", "nullability: expected NOT NULL, found nullable")),
    ("alter table events drop constraint events_account_fk; alter table events add constraint events_account_fk "
     "foreign key (account_id) references accounts (id) not valid",
     ("changed", "constraint", "public.events.events_account_fk", "validation: expected validated, found NOT VALID")),
    ("create table hand_made (id int primary key, note text not null)",
     ("extra", "table", "public.hand_made", "in the database, not expected")),
    ("alter type mood add value 'angry'",
     ("changed", "type", "public.mood", "label 'angry' added")),
    ("create or replace view active_accounts as select id, name from accounts where status <> 'closed'",
     ("changed", "view", "public.active_accounts", "query differs")),
]
_HAND_CHANGE_IDS = ["dropped-trigger", "disabled-trigger", "dropped-index", "invalid-index", "added-column",
                    "changed-default", "dropped-not-null", "not-valid-constraint", "extra-table", "enum-label-added",
                    "changed-view"]
_QUICK = {"dropped-index", "added-column", "changed-view"}  # the quick loop's share; the full suite runs all


@pytest.mark.parametrize("sql, expected", [
    pytest.param(*change, id=name, marks=() if name in _QUICK else pytest.mark.slow)
    for change, name in zip(_HAND_CHANGES, _HAND_CHANGE_IDS)])
def test_hand_change_is_detected_and_named(migrated, sql, expected):
    project, conn, url = migrated
    for statement in sql.split("; "):
        conn.execute(statement)
    report = drift(project, url)
    assert only(report) == expected
    assert report.exit_code == 1


def test_missing_objects_show_the_statement_that_recreates_them(migrated):
    project, conn, url = migrated
    conn.execute("drop trigger accounts_touch on accounts")
    conn.execute("drop table events")
    report = drift(project, url)
    by_kind = {d.kind: d for d in report.differences}
    assert set(by_kind) == {"table", "sequence", "trigger"}, [d.line for d in report.differences]
    assert by_kind["trigger"].statement == ("CREATE TRIGGER accounts_touch BEFORE INSERT OR UPDATE ON public.accounts "
                                           "FOR EACH ROW EXECUTE FUNCTION public.touch_account();")
    table = by_kind["table"].statement
    # The table's columns, constraints and indexes are folded into one difference and one statement.
    assert table.startswith("CREATE TABLE public.events (\n    id bigint DEFAULT nextval(")
    assert "    account_id bigint NOT NULL" in table
    assert "ADD CONSTRAINT events_account_fk FOREIGN KEY (account_id) REFERENCES public.accounts(id);" in table
    assert "CREATE INDEX events_account_idx ON public.events USING btree (account_id);" in table


def test_changed_function_body_shows_a_unified_diff(migrated):
    project, conn, url = migrated
    conn.execute("create or replace function touch_account() returns trigger language plpgsql as $$\n"
                 "begin\n  new.name := upper(new.name);\n  return new;\nend $$")
    report = drift(project, url)
    assert only(report) == ("changed", "function", "public.touch_account()", "body differs")
    diff = report.differences[0].diff
    assert "-  new.name := trim(new.name);" in diff and "+  new.name := upper(new.name);" in diff
    assert report.differences[0].statement.startswith("CREATE OR REPLACE FUNCTION public.touch_account()")


def test_whitespace_only_body_change_is_not_drift(migrated):
    project, conn, url = migrated
    conn.execute("create or replace function touch_account() returns trigger language plpgsql as $$\n"
                 "begin new.name := trim(new.name);\n\n\treturn new; end $$")
    assert drift(project, url).ok


def test_revoked_grant_is_detected_with_include_acl(migrated):
    project, conn, url = migrated
    conn.execute(sql.SQL("revoke select on accounts from {}").format(sql.Identifier(ROLE)))
    assert drift(project, url, from_tree=True).ok  # grants are compared only when asked
    report = drift(project, url, from_tree=True, include_acl=True)
    assert only(report) == ("missing", "grant", f"public.accounts SELECT TO {ROLE}",
                            f"SELECT on table public.accounts to {ROLE}")
    assert report.differences[0].statement == f"GRANT SELECT ON TABLE public.accounts TO {ROLE};"


def test_changed_owner_is_detected_with_include_acl(migrated):
    project, conn, url = migrated
    conn.execute(sql.SQL("alter table events owner to {}").format(sql.Identifier(ROLE)))
    report = drift(project, url, from_tree=True, include_acl=True)
    changes = {(d.change.value, d.kind, d.name) for d in report.differences}
    assert ("changed", "owner", "table public.events") in changes
    owner = next(d for d in report.differences if d.kind == "owner")
    assert owner.detail.endswith(f"found {ROLE}")


# --------------------------------------------------------------------------- tracker drift

def test_tracker_row_with_another_checksum_and_a_file_applied_by_hand(migrated):
    project, conn, url = migrated
    conn.execute("update schema_version set md5 = 'ffffffffffffffffffffffffffffffff' "
                 "where file_name = 'functions/touch_account.sql'")
    (project / "ddl/migrations/0003_notes.sql").write_text("create table notes (id int);\n")
    (project / "ddl/migrations/0004_later.sql").write_text("create table later (id int);\n")
    conn.execute("create table notes (id int)")  # applied by hand, not recorded
    report = drift(project, url)
    tracker = {(d.change.value, d.name): d.detail for d in report.differences if d.kind == "tracker"}
    assert tracker[("changed", "functions/touch_account.sql")].startswith(
        "recorded md5 ffffffffffffffffffffffffffffffff, the file's is ")
    assert tracker[("missing", "migrations/0003_notes.sql")] == (
        "not recorded in schema_version, but all 1 object(s) it creates exist (applied by hand?)")
    assert tracker[("missing", "migrations/0004_later.sql")] == (
        "not recorded in schema_version (pending: the next ddlkit migrate applies it)")
    conn.execute("insert into schema_version (file_name, md5) values ('migrations/0000_gone.sql', 'abc')")
    report = drift(project, url)
    assert ("extra", "tracker", "migrations/0000_gone.sql") in {
        (d.change.value, d.kind, d.name) for d in report.differences}


# --------------------------------------------------------------------------- ignore rules, extensions

def test_ignore_rules_from_the_config_and_the_command_line(migrated):
    project, conn, url = migrated
    conn.execute("create table app_cache_1 (id int primary key, v text)")
    conn.execute("create index accounts_adhoc_idx on accounts (created_at)")
    (project / "ddlkit.toml").write_text('drift_ignore = ["table:public.app_cache_*"]\n')
    out = run_cli("drift", "--ddl-dir", str(project / "ddl"), "--database-url", url, "--scratch-url", SCRATCH,
                  cwd=project)
    assert out.returncode == 1, out.stderr
    assert out.stdout.splitlines()[0] == "extra index public.accounts_adhoc_idx: in the database, not expected"
    assert "app_cache" not in out.stdout and "1 ignored by rules" in out.stdout
    out = run_cli("drift", "--ddl-dir", str(project / "ddl"), "--database-url", url, "--scratch-url", SCRATCH,
                  "--ignore", "index:*.accounts_adhoc_*", cwd=project)
    assert out.returncode == 0, out.stdout + out.stderr
    assert out.stdout.startswith("drift: none (") and "2 ignored by rules" in out.stdout


def test_objects_of_an_extension_are_skipped(migrated):
    project, conn, url = migrated
    available = {r[0] for r in conn.execute("select name from pg_available_extensions")}
    name = next((e for e in ("vector", "pg_trgm", "citext", "hstore") if e in available), None)
    if name is None:
        pytest.skip("no extension with objects of its own is installed on this server")
    conn.execute(psycopg.sql.SQL("create extension {}").format(psycopg.sql.Identifier(name)))
    report = drift(project, url)
    assert only(report) == ("extra", "extension", name, "in the database, not expected")
    everything = drift(project, url, include_extension_objects=True)
    assert len(everything.differences) > 1 and {"function", "extension"} <= {d.kind for d in everything.differences}


# --------------------------------------------------------------------------- command line

def test_cli_text_json_and_github_output_and_exit_codes(migrated):
    project, conn, url = migrated
    base = ("drift", "--ddl-dir", str(project / "ddl"), "--database-url", url, "--scratch-url", SCRATCH)
    clean = run_cli(*base)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.startswith("drift: none (") and "match" in clean.stdout
    conn.execute("drop index events_account_idx")
    text = run_cli(*base)
    assert text.returncode == 1
    assert text.stdout.splitlines()[:2] == [
        "missing index public.events_account_idx: expected, not in the database",
        "    CREATE INDEX events_account_idx ON public.events USING btree (account_id);"]
    doc = json.loads(run_cli(*base, "--format", "json").stdout)
    assert doc["outcome"] == "drift" and doc["exit_code"] == 1
    assert [(d["change"], d["kind"], d["name"]) for d in doc["differences"]] == [
        ("missing", "index", "public.events_account_idx")]
    gh = run_cli(*base, "--format", "github")
    assert gh.stdout.startswith("::error title=ddlkit drift%3A missing index::missing index "
                                "public.events_account_idx: expected, not in the database%0ACREATE INDEX")


def test_cli_refuses_bad_input_and_reports_unreachable(project, db_url):
    ddl = str(project / "ddl")
    bad_rule = run_cli("drift", "--ddl-dir", ddl, "--database-url", db_url, "--ignore", "tabel:x*")
    assert bad_rule.returncode == 2
    assert bad_rule.stderr.startswith("ddlkit: error: bad drift ignore rule 'tabel:x*': no kind matches 'tabel'")
    acl = run_cli("drift", "--ddl-dir", ddl, "--database-url", db_url, "--include-acl", "--format", "json")
    assert acl.returncode == 2 and json.loads(acl.stdout)["error"]["message"].startswith("--include-acl needs")
    shutil.rmtree(project / "schema_dump")
    nodump = run_cli("drift", "--ddl-dir", ddl, "--database-url", db_url)
    assert nodump.returncode == 2 and "01_schema.sql not found; run `ddlkit dump` first" in nodump.stderr
    down = run_cli("drift", "--ddl-dir", ddl, "--from-tree",
                   "--database-url", "postgresql://u:s3cretpw@127.0.0.1:1/x?connect_timeout=2")
    assert down.returncode == 3 and "s3cretpw" not in down.stderr + down.stdout
    assert down.stderr.startswith("ddlkit: error: cannot connect to u@127.0.0.1:1/x")


def test_migrate_check_drift_exits_1_on_drift(project, empty_db, db_url):
    args = ("migrate", "--ddl-dir", str(project / "ddl"), "--database-url", db_url, "--check-drift")
    empty_db.execute("create table leftover (id int)")  # a hand-made table the tree does not know
    out = run_cli(*args)
    assert out.returncode == 1, out.stderr
    assert "extra table public.leftover: in the database, not expected" in out.stdout
    assert "ddlkit: error: --check-drift: the database differs from the expected schema (1 difference(s))" in out.stderr
    empty_db.execute("drop table leftover")
    again = run_cli(*args, "--format", "json")
    assert again.returncode == 0, again.stderr
    doc = json.loads(again.stdout)
    assert doc["outcome"] == "ok" and doc["drift"]["outcome"] == "ok"


def test_verify_online_includes_drift_of_the_database(migrated):
    project, conn, url = migrated
    conn.execute("alter table accounts alter column name drop not null")
    out = run_cli("verify", "--ddl-dir", str(project / "ddl"), "--database-url", url)
    assert out.returncode == 1, out.stderr
    assert "drift: " in out.stdout and "changed column public.accounts.name: nullability: expected NOT NULL, " \
                                       "found nullable" in out.stdout
    assert "(tracker, parse, lint, schema, drift)" in out.stdout


def test_python_api_returns_result_objects(migrated):
    import ddlkit

    project, conn, url = migrated
    conn.execute("drop trigger accounts_touch on accounts")
    events = []
    report = ddlkit.drift(ddl_dir=project / "ddl", database_url=url, scratch_url=SCRATCH,
                          on_event=lambda event, **kw: events.append((event, kw)))
    (d,) = report.differences
    # Progress: what it is doing, and each catalog read of both sides with its row count.
    stages = [kw["message"] for event, kw in events if event == "drift_stage"]
    assert len(stages) == 1 and stages[0].startswith(f"loading {project / 'schema_dump'} into a scratch database")
    reads = {(kw["side"], kw["kind"]): kw["count"] for event, kw in events if event == "drift_read"}
    assert reads[("database", "triggers")] == 0 and reads[("expected", "triggers")] == 1
    # The migrated database also holds the primary keys of ddlkit's side tables (ddlkit_file_tokens,
    # ddlkit_runs), which are read and then left out of the comparison.
    assert (reads[("database", "indexes")], reads[("expected", "indexes")]) == (6, 4)
    assert (d.change, d.kind) == (Change.MISSING, "trigger") and not report.ok
    assert report.to_dict()["differences"][0]["statement"].startswith("CREATE TRIGGER accounts_touch")


def test_each_target_is_compared_with_one_expected_schema(project, empty_db, db_url):
    api.migrate(ddl_dir=project / "ddl", database_url=db_url, progress=False)
    empty_db.execute("alter table accounts disable trigger accounts_touch")
    other = "ddlkit_drift_target_ok"
    empty_db.execute(psycopg.sql.SQL("drop database if exists {}").format(psycopg.sql.Identifier(other)))
    empty_db.execute(psycopg.sql.SQL("create database {}").format(psycopg.sql.Identifier(other)))
    try:
        api.migrate(ddl_dir=project / "ddl", database_url=url_for(other), progress=False)
        (project / "ddlkit.toml").write_text(f'[targets.clean]\nurl = "{url_for(other)}"\n'
                                             f'[targets.drifted]\nurl = "{db_url}"\n')
        out = run_cli("drift", "--ddl-dir", str(project / "ddl"), "--all-targets", "--scratch-url", SCRATCH,
                      cwd=project)
        assert out.returncode == 1, out.stderr
        lines = out.stdout.splitlines()
        assert lines[0].startswith("target clean (") and lines[1].startswith("  drift: none (")
        assert lines[2].startswith("target drifted (")
        assert lines[3] == ("  changed trigger public.accounts.accounts_touch: state: expected enabled, "
                            "found disabled")
        assert lines[-1] == "2 target(s): 1 without drift, 1 drifted"
        doc = json.loads(run_cli("drift", "--ddl-dir", str(project / "ddl"), "--all-targets", "--scratch-url",
                                 SCRATCH, "--format", "json", cwd=project).stdout)
        assert [(t["name"], t["outcome"], len(t["differences"])) for t in doc["targets"]] == [
            ("clean", "ok", 0), ("drifted", "drift", 1)]
    finally:
        from ddlkit.db.scratch import drop_database

        drop_database(empty_db, other)


def test_verify_with_targets_includes_each_targets_drift(migrated):
    project, conn, url = migrated
    conn.execute("drop index events_account_idx")
    (project / "ddlkit.toml").write_text(f'[targets.eu]\nurl = "{url}"\n')
    out = run_cli("verify", "--ddl-dir", str(project / "ddl"), "--target", "eu", "--format", "json", cwd=project)
    assert out.returncode == 1, out.stderr
    doc = json.loads(out.stdout)
    assert doc["checks"][-2:] == ["targets", "drift"]
    (finding,) = doc["findings"]
    assert finding["check"] == "drift" and finding["message"].endswith(
        "missing index public.events_account_idx: expected, not in the database")


def test_the_databases_migration_role_stands_for_the_scratch_role(project, empty_db):
    """Migrated by an unprivileged role `app`: objects owned by it match the
    expected side's objects, owned by the role that built the scratch database."""
    from psycopg.conninfo import make_conninfo

    from conftest import conninfo_for

    app = "ddlkit_drift_app"
    for role, extra in ((ROLE, ""), (app, " login password 'drift-app-pw'")):
        create = sql.SQL("create role {}{}").format(sql.Identifier(role), sql.SQL(extra))
        empty_db.execute(sql.SQL("do {} ").format(sql.Literal(
            "begin " + create.as_string(empty_db) + "; exception when duplicate_object then null; end")))
    empty_db.execute(psycopg.sql.SQL("alter database {} owner to {}").format(
        psycopg.sql.Identifier(empty_db.info.dbname), psycopg.sql.Identifier(app)))
    app_url = make_conninfo(conninfo_for(empty_db.info.dbname), user=app, password="drift-app-pw")
    api.migrate(ddl_dir=project / "ddl", database_url=app_url, progress=False)
    report = drift(project, app_url, from_tree=True, include_acl=True)
    assert report.ok, [d.line for d in report.differences]
    assert f"role {SERVER['user']} (expected side) stands for {app}" in report.normalised
    empty_db.execute(sql.SQL("revoke select on accounts from {}").format(sql.Identifier(ROLE)))
    empty_db.execute(sql.SQL("alter table events owner to {}").format(sql.Identifier(SERVER["user"])))
    report = drift(project, app_url, from_tree=True, include_acl=True)
    found = {(d.change.value, d.kind, d.name): d for d in report.differences}
    assert found[("missing", "grant", f"public.accounts SELECT TO {ROLE}")].statement == \
        f"GRANT SELECT ON TABLE public.accounts TO {ROLE};"
    assert found[("changed", "owner", "table public.events")].detail == \
        f"owner: expected {app}, found {SERVER['user']}"
