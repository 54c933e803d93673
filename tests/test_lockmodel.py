"""The lock model against the server: for every statement kind the model knows,
run the statement on real tables and read pg_locks, pg_class.relfilenode and
pg_stat_xact_user_tables. The model must agree; where they disagreed, the model
was changed.

Statements that run in a transaction block are run inside one, and the
migration session's own pg_locks rows are read before the rollback. Statements
PostgreSQL refuses in a transaction block (CONCURRENTLY, VACUUM) run in
autocommit behind a second session holding SHARE UPDATE EXCLUSIVE on the table:
the lock they request (pg_locks, granted = false) is read while they wait.

The model covers the relations a statement names; tables read through a view's
or a function's body are out of its reach (the fixtures avoid them).
"""

from __future__ import annotations

import threading
import time

import psycopg
from psycopg import sql as sql_
import pytest
from pglast import parser

from ddlkit.locks import lockmodel
from ddlkit.locks.lockmodel import LockMode

from conftest import conninfo_for

SETUP = """
create table parent (id int primary key, v int);
create table t (id int primary key, a int, b varchar(20), parent_id int, c int check (c > 0));
create index t_a_idx on t (a);
create table other (id int);
create table part (id int not null) partition by range (id);
create table part_1 (id int not null);
create materialized view mv as select g as id from generate_series(1, 20) g;
create unique index mv_id on mv (id);
create or replace function trg() returns trigger language plpgsql as 'begin return new; end';
insert into parent select g, g from generate_series(1, 20) g;
insert into t select g, g, g::text, g, 1 from generate_series(1, 20) g;
insert into other select g from generate_series(1, 20) g;
alter table t add constraint t_a_pos check (a > 0) not valid;
create table part_0 partition of part for values from (-100) to (0);
create trigger t_tr before update on t for each row execute function trg();
create policy t_p on t using (true);
create view v as select id from parent;
create sequence seq1;
create type mood as enum ('a');
analyze;
"""
INDEX_TABLES = {"t_a_idx": "t", "mv_id": "mv"}
A, RS, RE, SUE, S, SRE, E, AE = (LockMode.ACCESS_SHARE, LockMode.ROW_SHARE, LockMode.ROW_EXCLUSIVE,
                                 LockMode.SHARE_UPDATE_EXCLUSIVE, LockMode.SHARE, LockMode.SHARE_ROW_EXCLUSIVE,
                                 LockMode.EXCLUSIVE, LockMode.ACCESS_EXCLUSIVE)

# (statement, expected {table: mode}, rewritten tables, scanned tables). The expectation is
# what the server did; the test checks the model says the same.
IN_TRANSACTION = [
    ("alter table t add column d int", {"t": AE}, set(), set()),
    ("alter table t add column d int default 0", {"t": AE}, set(), set()),
    ("alter table t add column d timestamptz default now()", {"t": AE}, set(), set()),
    ("alter table t add column d float8 default random()", {"t": AE}, {"t"}, {"t"}),
    ("alter table t add column d bigserial", {"t": AE}, {"t"}, {"t"}),
    ("alter table t add column d int generated always as identity", {"t": AE}, {"t"}, {"t"}),
    ("alter table t add column d int references parent (id)", {"t": AE, "parent": SRE}, set(), set()),
    ("alter table t drop column b", {"t": AE}, set(), set()),
    ("alter table t alter column a type bigint", {"t": AE}, {"t"}, {"t"}),
    ("alter table t alter column b type text", {"t": AE}, set(), set()),
    ("alter table t alter column b type varchar(40)", {"t": AE}, set(), set()),
    ("alter table t alter column b type text using upper(b)", {"t": AE}, {"t"}, {"t"}),
    ("alter table t alter column a set default 1", {"t": AE}, set(), set()),
    ("alter table t alter column a drop default", {"t": AE}, set(), set()),
    ("alter table t alter column a set not null", {"t": AE}, set(), {"t"}),
    ("alter table t alter column a drop not null", {"t": AE}, set(), set()),
    ("alter table t alter column a set statistics 500", {"t": SUE}, set(), set()),
    ("alter table t set (fillfactor = 70)", {"t": SUE}, set(), set()),
    ("alter table t set (autovacuum_enabled = off)", {"t": SUE}, set(), set()),
    ("alter table t set unlogged", {"t": AE}, {"t"}, {"t"}),
    ("alter table t add constraint t_b check (a < 1000)", {"t": AE}, set(), {"t"}),
    ("alter table t add constraint t_b check (a < 1000) not valid", {"t": AE}, set(), set()),
    ("alter table t add constraint t_fk foreign key (parent_id) references parent (id)",
     {"t": SRE, "parent": SRE}, set(), {"t", "parent"}),
    ("alter table t add constraint t_fk foreign key (parent_id) references parent (id) not valid",
     {"t": SRE, "parent": SRE}, set(), set()),
    ("alter table t validate constraint t_a_pos", {"t": SUE}, set(), {"t"}),
    ("alter table t drop constraint t_a_pos", {"t": AE}, set(), set()),
    ("alter table other add primary key (id)", {"other": AE}, set(), {"other"}),
    ("alter table other add constraint other_u unique (id)", {"other": AE}, set(), {"other"}),
    ("alter table t disable trigger all", {"t": SRE}, set(), set()),
    ("alter table t cluster on t_a_idx", {"t": SUE}, set(), set()),
    ("alter table t rename column b to bb", {"t": AE}, set(), set()),
    ("alter table t rename to t2", {"t": AE}, set(), set()),
    ("alter table part attach partition part_1 for values from (0) to (100)",
     {"part": SUE, "part_1": AE}, set(), {"part_1"}),
    ("create index t_b_idx on t (b)", {"t": S}, set(), {"t"}),
    ("create unique index t_b_idx on t (b)", {"t": S}, set(), {"t"}),
    ("drop index t_a_idx", {"t": AE}, set(), set()),
    ("reindex index t_a_idx", {"t": S}, set(), {"t"}),
    ("reindex table t", {"t": S}, set(), {"t"}),
    ("create table c (id int, p int references parent (id))", {"parent": SRE}, set(), set()),
    ("create table c (like t)", {"t": A}, set(), set()),
    ("create table part_2 partition of part for values from (100) to (200)", {"part": AE}, set(), set()),
    ("create table c as select * from t", {"t": A}, set(), None),
    ("drop table other", {"other": AE}, set(), set()),
    ("truncate other", {"other": AE}, {"other"}, set()),
    ("create trigger tr before insert on t for each row execute function trg()", {"t": SRE}, set(), set()),
    ("create policy p on t using (true)", {"t": AE}, set(), set()),
    ("create statistics st on a, b from t", {"t": SUE}, set(), set()),
    ("comment on table t is 'x'", {"t": SUE}, set(), set()),
    ("comment on column t.a is 'x'", {"t": SUE}, set(), set()),
    ("analyze t", {"t": SUE}, set(), set()),
    ("cluster t using t_a_idx", {"t": AE}, {"t"}, {"t"}),
    ("refresh materialized view mv", {"mv": AE}, {"mv"}, {"mv"}),
    ("lock table t in share mode", {"t": S}, set(), set()),
    ("lock table t in exclusive mode", {"t": E}, set(), set()),
    ("insert into other values (1)", {"other": RE}, set(), set()),
    ("insert into other select id from parent", {"other": RE, "parent": A}, set(), None),
    ("update t set a = a + 1 where parent_id in (select id from parent)", {"t": RE, "parent": A}, set(), None),
    ("delete from other where id > 10", {"other": RE}, set(), None),
    ("select * from t join parent on parent.id = t.parent_id", {"t": A, "parent": A}, set(), None),
    ("select * from t for update", {"t": RS}, set(), None),
    ("select * into c from t", {"t": A}, set(), None),
    ("create materialized view mv2 as select * from t", {"t": A}, set(), None),
    ("merge into other using parent on other.id = parent.id when not matched then insert values (parent.id)",
     {"other": RE, "parent": A}, set(), None),
    ("copy other from stdin", {"other": RE}, set(), set()),
    ("create table c (x int) inherits (parent)", {"parent": SUE}, set(), set()),
    ("alter table part detach partition part_0", {"part": AE, "part_0": AE}, set(), set()),
    ("alter table t replica identity full", {"t": AE}, set(), set()),
    ("alter table t enable row level security", {"t": AE}, set(), set()),
    ("alter index t_a_idx rename to t_a_idx2", {}, set(), set()),
    ("drop trigger t_tr on t", {"t": AE}, set(), set()),
    ("drop policy t_p on t", {"t": AE}, set(), set()),
    ("drop view v", {"v": AE}, set(), set()),
    ("create sequence s", {}, set(), set()),
    ("create function f() returns int language sql as 'select 1'", {}, set(), set()),
    ("create type e as enum ('a')", {}, set(), set()),
    ("create schema s", {}, set(), set()),
    ("set lock_timeout = '1s'", {}, set(), set()),
    ("show lock_timeout", {}, set(), set()),
    ("savepoint sp", {}, set(), set()),
    ("create domain pos as int check (value > 0)", {}, set(), set()),
    ("create type pair as (a int, b int)", {}, set(), set()),
    ("create collation c2 from \"C\"", {}, set(), set()),
    ("create extension if not exists plpgsql", {}, set(), set()),
    ("alter sequence seq1 restart", {}, set(), set()),
    ("alter type mood add value 'b'", {}, set(), set()),
]

# Refused in a transaction block: observed while they wait behind ACCESS EXCLUSIVE.
AUTOCOMMIT = [
    ("create index concurrently t_b_idx on t (b)", {"t": SUE}),
    ("drop index concurrently t_a_idx", {"t": SUE}),
    ("reindex index concurrently t_a_idx", {"t": SUE}),
    ("vacuum t", {"t": SUE}),
    ("vacuum full t", {"t": AE}),
    ("refresh materialized view concurrently mv", {"mv": E}),
]


def _node(sql: str):
    return parser.parse_sql(sql)[0].stmt


def _model(sql: str) -> lockmodel.Effect:
    return lockmodel.effect(_node(sql), INDEX_TABLES)


# Relations that existed before the statement, by oid (a dropped or renamed table keeps its old name).
_LOCKS = "select relation::int, mode from pg_locks where pid = %s and locktype = 'relation' and relation = any(%s)"
_FILENODES = """
select relname, relfilenode from pg_class where relnamespace = 'public'::regnamespace and relkind in ('r', 'p', 'm')
"""

_SEQ_SCANS = "select relname, seq_scan from pg_stat_xact_user_tables"


def _strongest(rows) -> dict[str, LockMode]:
    out: dict[str, LockMode] = {}
    for rel, mode in rows:
        out[rel] = max(LockMode.from_pg(mode), out.get(rel, LockMode.ACCESS_SHARE))
    return out


def _existing_tables(conn) -> dict[int, str]:
    return dict(conn.execute("select oid::int, relname from pg_class where relnamespace = 'public'::regnamespace"
                             " and relkind in ('r', 'p', 'm', 'v')").fetchall())


# Each case runs its statement on the server and reads pg_locks: 170 of them are most of a
# minute of the server's time. The quick loop (-m "not slow") takes every eighth; the full suite all.
@pytest.mark.parametrize("sql,locks,rewrites,scans", [
    pytest.param(*case, id=case[0], marks=() if i % 8 == 0 else pytest.mark.slow)
    for i, case in enumerate(IN_TRANSACTION)])
def test_model_agrees_with_pg_locks_in_a_transaction(empty_db, sql, locks, rewrites, scans):
    conn = empty_db
    conn.execute(SETUP)
    tables = _existing_tables(conn)
    before = dict(conn.execute(_FILENODES).fetchall())
    conn.autocommit = False
    try:
        # Pending statistics are flushed only outside a transaction: the delta is this statement's.
        scans_before = dict(conn.execute(_SEQ_SCANS).fetchall())
        if sql.startswith("copy"):
            with conn.cursor().copy(sql) as copy:
                copy.write_row((21,))
        else:
            conn.execute(sql)
        held = _strongest((tables[oid], mode) for oid, mode in
                          conn.execute(_LOCKS, (conn.info.backend_pid, list(tables))).fetchall())
        after = dict(conn.execute(_FILENODES).fetchall())
        scanned = {rel for rel, n in conn.execute(_SEQ_SCANS).fetchall()
                   if n > scans_before.get(rel, 0) and rel in before}
    finally:
        conn.rollback()
        conn.autocommit = True
    rewritten = {rel for rel, node in before.items() if rel in after and after[rel] != node}

    # The server, as recorded in the table above...
    assert held == locks
    assert rewritten == rewrites
    if scans is not None:
        assert scanned == scans
    # ...and the model says the same.
    model = _model(sql)
    assert model.known
    assert dict(model.locks) == held
    assert set(model.rewrites) == rewritten
    if scans is not None:
        assert set(model.scans) == scanned


def _waiting_request(conn, sql: str, table: str) -> dict[str, LockMode]:
    """Run ``sql`` in autocommit in a thread while another session holds SHARE
    UPDATE EXCLUSIVE on ``table`` (ANALYZE in an open transaction: it works on
    materialized views too, where LOCK TABLE does not); return the lock it waits
    for. SHARE UPDATE EXCLUSIVE conflicts with itself and every stronger mode, so
    the weak lookups some commands take first (VACUUM's ACCESS SHARE) pass."""
    blocker = psycopg.connect(conninfo_for(conn.info.dbname))
    worker = psycopg.connect(conninfo_for(conn.info.dbname), autocommit=True)
    errors: list[Exception] = []
    try:
        blocker.execute(sql_.SQL("analyze {}").format(sql_.Identifier(table)))
        pid = worker.info.backend_pid

        def run():
            try:
                worker.execute(sql)
            except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                errors.append(exc)

        th = threading.Thread(target=run)
        th.start()
        waiting: list = []
        for _ in range(200):
            waiting = conn.execute(
                "select c.relname, l.mode from pg_locks l join pg_class c on c.oid = l.relation"
                " where l.pid = %s and not l.granted and l.locktype = 'relation'", (pid,)).fetchall()
            if waiting:
                break
            time.sleep(0.05)
        blocker.rollback()
        th.join(30)
        assert not errors, errors
        return _strongest(waiting)
    finally:
        blocker.close()
        worker.close()


@pytest.mark.parametrize("sql,locks", AUTOCOMMIT, ids=[c[0] for c in AUTOCOMMIT])
def test_model_agrees_with_pg_locks_in_autocommit(empty_db, sql, locks):
    empty_db.execute(SETUP)
    table = next(iter(locks))
    before = dict(empty_db.execute(_FILENODES).fetchall())
    requested = _waiting_request(empty_db, sql, table)
    after = dict(empty_db.execute(_FILENODES).fetchall())
    rewritten = {rel for rel, node in before.items() if after.get(rel) != node}
    assert requested == locks
    model = _model(sql)
    assert dict(model.locks) == requested
    assert set(model.rewrites) == rewritten


def test_conflict_matrix_matches_the_server(empty_db):
    """LockMode.conflicts_with against the server: does LOCK ... NOWAIT fail?"""
    empty_db.execute("create table m (id int)")
    holder = psycopg.connect(conninfo_for(empty_db.info.dbname))
    other = psycopg.connect(conninfo_for(empty_db.info.dbname))
    try:
        for held in LockMode:
            holder.execute(sql_.SQL("lock table m in {} mode").format(sql_.SQL(held.label)))
            for asked in LockMode:
                try:
                    other.execute(sql_.SQL("lock table m in {} mode nowait").format(sql_.SQL(asked.label)))
                    conflict = False
                except psycopg.errors.LockNotAvailable:
                    conflict = True
                other.rollback()
                assert held.conflicts_with(asked) == conflict, (held, asked)
            holder.rollback()
    finally:
        holder.close()
        other.close()


def test_unknown_statements_say_so():
    assert not _model("do $$ begin perform 1; end $$").known
    assert not _model("select my_function()").known
    assert _model("create function f() returns int language sql as 'select 1'").known
    assert _model("create function f() returns int language sql as 'select 1'").locks == {}


def test_blocks_wording():
    assert LockMode.ACCESS_EXCLUSIVE.blocks == "reads and writes"
    assert LockMode.SHARE.blocks == "writes"
    assert LockMode.SHARE_UPDATE_EXCLUSIVE.blocks == "DDL"
    assert LockMode.ACCESS_SHARE.blocks == ""
    assert LockMode.ROW_EXCLUSIVE.blocks == ""


def test_every_statement_kind_the_model_knows_is_checked():
    checked = {type(_node(c[0])) for c in IN_TRANSACTION} | {type(_node(c[0])) for c in AUTOCOMMIT}
    assert lockmodel.KNOWN_KINDS - checked == set()
