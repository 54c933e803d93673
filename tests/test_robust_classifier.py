"""The transaction-mode classifier (ddlkit.sql.sqltext.nontransactional_reason)
derived from PostgreSQL itself: every statement below runs inside a transaction
block on a real server; PostgreSQL refuses it with SQLSTATE 25001 exactly when
the classifier sends it to autocommit. Every other statement must succeed there
(so no other error hides the transaction-block check)."""

from __future__ import annotations

import psycopg
import pytest
from pglast import ast

from ddlkit.sql import psqlscript, sqltext

SETUP = """
create schema s;
create table s.t (a int primary key, b int);
create index t_b on s.t (b);
create table parted (a int) partition by range (a);
create table parted_1 partition of parted for values from (0) to (10);
create materialized view mv as select 1 as x;
create unique index mv_x on mv (x);
create type mood as enum ('happy');
create sequence s.seq;
create publication ddlkit_t_pub;
create subscription ddlkit_t_sub_slot connection 'dbname=ddlkit_nowhere' publication ddlkit_t_pub
  with (connect = false);
create subscription ddlkit_t_sub_noslot connection 'dbname=ddlkit_nowhere' publication ddlkit_t_pub
  with (connect = false, slot_name = none);
"""

TEARDOWN = """
alter subscription ddlkit_t_sub_slot set (slot_name = none);
drop subscription ddlkit_t_sub_slot;
drop subscription ddlkit_t_sub_noslot;
"""

# PostgreSQL refuses these inside a transaction block (SQLSTATE 25001).
REFUSED = [
    "create index concurrently t_b2 on s.t (b)",
    "create unique index concurrently if not exists t_b3 on s.t (b)",
    "drop index concurrently s.t_b",
    "drop index concurrently if exists s.nothing",
    "reindex index concurrently s.t_b",
    "reindex (concurrently) table s.t",
    "reindex table concurrently s.t",
    "reindex schema s",
    "reindex schema concurrently s",
    "reindex (verbose) schema s",
    "reindex database {db}",
    "reindex system {db}",
    "vacuum",
    "vacuum s.t",
    "vacuum (analyze, verbose false) s.t",
    "vacuum full s.t",
    "alter system set work_mem = '8MB'",
    "alter system reset all",
    "create database ddlkit_never_created",
    "drop database if exists ddlkit_never_created",
    "drop database if exists ddlkit_never_created with (force)",
    "alter database {db} set tablespace pg_default",
    "create tablespace ddlkit_never location '/nonexistent'",
    "drop tablespace if exists ddlkit_never",
    "cluster",
    "cluster verbose",
    "discard all",
    "alter table parted detach partition parted_1 concurrently",
    "create subscription ddlkit_t_sub2 connection 'dbname=ddlkit_nowhere' publication ddlkit_t_pub",
    "create subscription ddlkit_t_sub2 connection 'dbname=ddlkit_nowhere' publication ddlkit_t_pub "
    "with (enabled = false)",
    "drop subscription ddlkit_t_sub_slot",
]

# PostgreSQL runs these inside a transaction block.
ACCEPTED = [
    "create table s.u (a int)",
    "create table s.v as select 1 as x",
    "select 1 as x into s.w",
    "alter table s.t add column c text",
    "alter table s.t alter column b set not null",
    "alter table s.t set tablespace pg_default",
    "alter table parted detach partition parted_1",
    "alter index s.t_b rename to t_b_renamed",
    "drop table s.t cascade",
    "drop index s.t_b",
    "create index t_b4 on s.t (b)",
    "create unique index if not exists t_b5 on s.t (a, b)",
    "reindex index s.t_b",
    "reindex table s.t",
    "reindex (concurrently false) table s.t",
    "cluster s.t using t_pkey",
    "analyze s.t",
    "analyze",
    "refresh materialized view mv",
    "refresh materialized view concurrently mv",
    "alter type mood add value 'sad'",
    "alter type mood rename value 'happy' to 'glad'",
    "create schema s2",
    "alter schema s rename to s3",
    "create sequence s.seq_new",
    "alter sequence s.seq restart",
    "create view s.vw as select a from s.t",
    "create function s.f() returns int language sql as 'select 1'",
    "create procedure s.p() language sql as 'select 1'",
    "do $$ begin perform 1; end $$",
    "create trigger trg before insert on s.t for each row execute function suppress_redundant_updates_trigger()",
    "create policy pol on s.t using (true)",
    "alter table s.t enable row level security",
    "create rule r as on insert to s.t do also notify t_changed",
    "comment on table s.t is 'x'",
    "grant select on s.t to public",
    "revoke select on s.t from public",
    "alter default privileges in schema s grant select on tables to public",
    "create role ddlkit_t_role",
    "alter role current_user set work_mem = '8MB'",
    "alter database {db} set work_mem = '8MB'",
    "alter database {db} reset all",
    "create domain posint as int check (value > 0)",
    "create statistics s.st on a, b from s.t",
    "create extension if not exists plpgsql",
    "create publication ddlkit_t_pub2 for table s.t",
    "create subscription ddlkit_t_sub3 connection 'dbname=ddlkit_nowhere' publication ddlkit_t_pub "
    "with (connect = false)",
    "create subscription ddlkit_t_sub3 connection 'dbname=ddlkit_nowhere' publication ddlkit_t_pub "
    "with (connect = off, slot_name = none)",
    "alter subscription ddlkit_t_sub_noslot set (binary = true)",
    "alter subscription ddlkit_t_sub_noslot set publication ddlkit_t_pub with (refresh = false)",
    "insert into s.t values (1, 1)",
    "update s.t set b = 2",
    "delete from s.t",
    "truncate s.t",
    "lock table s.t in access exclusive mode",
    "set search_path = s, public",
    "set local lock_timeout = '1s'",
    "reset all",
    "discard temp",
    "discard plans",
    "discard sequences",
    "notify t_changed",
    "listen t_changed",
    "checkpoint",
    "explain select 1",
    "prepare q as select 1",
    "create text search configuration s.ts (copy = simple)",
    "create aggregate s.agg (int) (sfunc = int4pl, stype = int)",
    "create foreign data wrapper ddlkit_t_fdw",
    "create event trigger ddlkit_t_evt on ddl_command_end execute function pg_catalog.pg_event_trigger_noop()",
    "security label for nobody on table s.t is 'x'",
]

# Decided by the catalog at run time; autocommit is always correct for them, so the
# classifier is deliberately conservative (PostgreSQL would accept these in a block).
CONSERVATIVE = [
    "drop subscription ddlkit_t_sub_noslot",  # refused only when the subscription has a slot
    "drop subscription if exists ddlkit_t_nothing",
]
# Need a live publisher to reach PostgreSQL's check (a disabled subscription is refused
# with 55000 first); from PostgreSQL's source (AlterSubscription: PreventInTransactionBlock).
NEEDS_PUBLISHER = [
    "alter subscription ddlkit_t_sub_slot refresh publication",
    "alter subscription ddlkit_t_sub_slot set publication ddlkit_t_pub",
    "alter subscription ddlkit_t_sub_slot add publication ddlkit_t_pub2 with (refresh = true)",
    "alter subscription ddlkit_t_sub_slot drop publication ddlkit_t_pub",
]


def node_of(statement: str):
    [st] = psqlscript.split(statement)
    return st.node


def in_a_transaction_block(conn: psycopg.Connection, statement: str) -> str | None:
    """Run ``statement`` inside BEGIN … ROLLBACK; the SQLSTATE it fails with, or None."""
    try:
        with conn.transaction(force_rollback=True):
            conn.execute(statement)
    except psycopg.Error as exc:
        return exc.sqlstate or "?"
    return None


@pytest.fixture
def catalog(empty_db):
    if empty_db.info.server_version < 150000:
        pytest.skip("the corpus uses PostgreSQL 15 syntax")
    for statement in SETUP.split(";\n"):
        if statement.strip():
            empty_db.execute(statement)
    empty_db.execute("create or replace function pg_catalog.pg_event_trigger_noop() returns event_trigger "
                     "language plpgsql as 'begin end'")
    yield empty_db
    for statement in TEARDOWN.split(";\n"):
        if statement.strip():
            empty_db.execute(statement)
    empty_db.execute("drop function pg_catalog.pg_event_trigger_noop()")


def test_classifier_agrees_with_postgresql(catalog):
    db = catalog.info.dbname
    disagreements = []
    for statement in REFUSED + ACCEPTED:
        statement = statement.format(db=db)
        state = in_a_transaction_block(catalog, statement)
        reason = sqltext.nontransactional_reason(node_of(statement))
        if state not in (None, "25001"):
            # security label needs a provider: the one statement allowed to fail for another reason
            if not (state == "22023" and statement.startswith("security label")):
                disagreements.append(f"{statement!r}: fails with {state} in a block, not 25001 or success")
        elif (state == "25001") != (reason is not None):
            disagreements.append(f"{statement!r}: PostgreSQL {'refuses' if state else 'accepts'} it in a "
                                 f"block; classifier says {reason!r}")
    assert disagreements == []
    for statement in REFUSED:
        assert in_a_transaction_block(catalog, statement.format(db=db)) == "25001", statement


def test_conservative_and_publisher_cases(catalog):
    for statement in CONSERVATIVE + NEEDS_PUBLISHER:
        assert sqltext.nontransactional_reason(node_of(statement)) is not None, statement
    for statement in CONSERVATIVE:
        assert in_a_transaction_block(catalog, statement) is None, statement


def test_the_corpus_covers_every_statement_kind_the_classifier_knows():
    kinds = {type(node_of(s.format(db="d"))).__name__ for s in REFUSED + ACCEPTED + CONSERVATIVE + NEEDS_PUBLISHER}
    knows = {"IndexStmt", "DropStmt", "ReindexStmt", "VacuumStmt", "AlterSystemStmt", "CreatedbStmt",
             "DropdbStmt", "AlterDatabaseStmt", "CreateTableSpaceStmt", "DropTableSpaceStmt",
             "CreateSubscriptionStmt", "DropSubscriptionStmt", "AlterSubscriptionStmt", "ClusterStmt",
             "DiscardStmt", "AlterTableStmt"}
    assert knows <= kinds, knows - kinds
    assert all(hasattr(ast, k) for k in knows)


def test_files_with_these_statements_run_in_autocommit(make_tree, empty_db):
    from ddlkit.tree.tree import load_tree

    root = make_tree({"migrations/0001_reindex.sql": "create table t (a int);\nreindex schema public;\n",
                      "migrations/0002_move.sql": f"alter database {empty_db.info.dbname} set tablespace pg_default;\n",
                      "migrations/0003_discard.sql": "discard temp;\ncreate table u (a int);\n"})
    modes = {f.name: f.mode for f in load_tree(root).files}
    assert modes["0001_reindex.sql"].describe() == "autocommit: REINDEX SCHEMA at line 2"
    assert modes["0002_move.sql"].describe() == "autocommit: ALTER DATABASE SET TABLESPACE at line 1"
    assert modes["0003_discard.sql"].transactional
