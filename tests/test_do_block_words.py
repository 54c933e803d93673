"""What a DO block may run, read from PostgreSQL's scanner (ddlkit.sql.bodywords):
written out, or in a string constant it may EXECUTE; never in a comment."""

from __future__ import annotations

import pytest

from ddlkit.sql.bodywords import alters_login_settings, sets_for_transaction, word_runs


@pytest.mark.parametrize("block, scoped, login", [
    ("do $$ begin set local lock_timeout = 1; end $$", True, False),
    ("do $$ begin execute 'set constraints all deferred'; end $$", True, False),
    ("do $$ begin perform pg_catalog.set_config('a.b', 'c', true); end $$", True, False),
    ("do $$ begin execute format('alter role %I set search_path = x', current_user); end $$", False, True),
    ("do $$ begin execute E'alter database d\\nreset all'; end $$", False, True),
    ("do $$ begin execute 'alter role x in database y set a.b = ''c'''; end $$", False, True),
    ("do $$ begin -- set local x = 1\n /* alter role x set y = 1 */ perform 1; end $$", False, False),
    ("do $$ begin /* /* set local */ nested */ perform 1; end $$", False, False),
    ("do $$ begin alter role x rename to y; perform 1; end $$", False, False),
    ("do $$ begin alter role x rename to y; set search_path = s; end $$", False, False),
    ("do $do$ begin execute $q$ SET  LOCAL  statement_timeout = 0 $q$; end $do$", True, False),
])
def test_a_do_block_is_read_for_what_it_may_run_not_for_its_comments(block, scoped, login):
    assert sets_for_transaction(block) is scoped
    assert alters_login_settings(block) is login


def test_string_constants_are_read_to_a_bounded_depth_in_linear_time():
    # the statement, its body, a string the body executes: read; a string inside that one: past DEPTH
    inner = "set local a.b = 1"
    level3 = "execute '" + inner.replace("'", "''") + "'"
    level2 = "begin " + level3 + "; end"
    block = "do $$ " + level2 + " $$"
    assert sets_for_transaction(block)
    deeper = "do $$ begin execute 'execute ''" + inner.replace("'", "''''") + "'''; end $$"
    assert not sets_for_transaction(deeper)
    # 100,000 nested comment levels: blanked, not handed to the scanner
    assert list(word_runs("do $$ begin " + "/*" * 100_000 + "*/" * 100_000 + " perform 1; end $$")) == [
        ["do", ""], ["begin", "perform", "1"], ["end"]]


@pytest.mark.parametrize("block, scoped, login", [
    ("do $$ begin execute 'alter role ' || quote_ident(r) || ' set search_path = s'; end $$", False, True),
    ("do $$ begin execute 'alter database ' || current_database() || E' reset all'; end $$", False, True),
    ("do $$ begin execute 'set ' || 'local a.b = 1'; end $$", False, False),  # not written out, nor was it before
    ("do $$ begin execute 'select 1; set local a.b = 1'; end $$", True, False),
])
def test_dynamic_sql_built_from_pieces_is_read_as_one_statement(block, scoped, login):
    assert sets_for_transaction(block) is scoped
    assert alters_login_settings(block) is login
