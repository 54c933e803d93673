'''The lint rules: one module per rule. The registry
(:mod:`ddlkit.lint.registry`) imports every module here whose name does not
start with ``_`` and registers its ``RULE``. Modules starting with ``_`` are
helpers shared by several rules.

How to write a rule
===================

Create ``toolkit/ddlkit/lint/rules/<rule_id_with_underscores>.py``::

    """ban-truncate-cascade: TRUNCATE … CASCADE empties every referencing table."""

    from ddlkit.lint.nodes import qual, rangevar
    from ddlkit.lint.rule import ERROR, Rule


    def check(node, ctx):
        # node: the statement (a ddlkit.lint.nodes.Node, tag "TruncateStmt")
        if node.behavior == "DROP_CASCADE":
            tables = ", ".join(qual(*rangevar(rv)) for rv in node.relations or ())
            ctx.report(f"TRUNCATE {tables} CASCADE also empties every table that references them",
                       "TRUNCATE the tables by name, without CASCADE")


    RULE = Rule(
        id="ban-truncate-cascade",
        severity=ERROR,
        kinds=("TruncateStmt",),
        summary="TRUNCATE … CASCADE",
        rationale=(
            "CASCADE truncates every table with a foreign key to the named ones, and the tables "
            "referencing those, silently. ..."
        ),
        bad="TRUNCATE TABLE orders CASCADE;",
        good="TRUNCATE TABLE orders, order_lines;",
        check=check,
    )

Then add its row to the README rule table (``tests/test_lint_registry.py``
checks the table against the registry) and run
``pytest tests/test_lint_registry.py`` (it lints ``bad``, which must give
exactly this rule, and ``good``, which must give nothing).

The contract
------------

``Rule`` (:mod:`ddlkit.lint.rule`) fields:

* ``id`` - squawk's id where the meaning is the same; ``aliases`` - old ids,
  accepted by ``--select``/``--ignore`` and ``-- ddlkit:ignore`` comments.
* ``severity`` - ``ERROR`` (exit 1) or ``WARNING``; ``default=False`` for a
  rule that runs only when ``--select`` names it (style rules).
* ``kinds`` - the statement node tags the check is called for
  (``"AlterTableStmt"``, ``"IndexStmt"``, … as in PostgreSQL's parsenodes.h);
  ``None`` calls it for every statement.
* ``summary`` (one line), ``rationale`` (one paragraph), ``bad``/``good`` (SQL).
  The examples are linted as the file ``example_file`` (default
  ``migrations/0001_example.sql``) with ``example_options`` (keywords of
  ``lint_text``, e.g. ``{"assume_lock_timeout": True}``).
* ``check(node, ctx)`` - called once per statement of a matching kind, in file
  order, for top-level statements **and for the SQL statements inside a
  ``DO`` block** (``ctx.stmt.in_do_block``). ``finish(file_ctx)`` - optional,
  once per file after the last statement (``file_ctx.statements``,
  ``file_ctx.state``); report there with ``file_ctx.report(offset, rule_id,
  message, hint)``.
* ``in_sql_tests=False`` for rules about deploying (locks on production
  tables, re-runs): they are off for ``ddl/tests`` files.

``node`` is a :class:`ddlkit.lint.nodes.Node` over pglast's JSON parse tree:
``node.node_tag`` is the type, every other attribute a field; absent fields
are ``None`` (PostgreSQL omits false, 0, empty and NULL); enums are strings
(``cmd.subtype == "AT_AddColumn"``); lists are tuples; ``cmd.def_`` reads
``def``. ``node.walk()`` / ``node.find("FuncCall")`` iterate the subtree
(without recursion). Helpers: ``names()``, ``rangevar()``, ``qual()``,
``ident()``, ``dotted()``, ``const_value()``, ``string()``.

``ctx`` (:class:`ddlkit.lint.rule.Context`):

* ``ctx.report(message, hint=None, at=None)`` - a finding of this rule. ``at``
  is a node (its ``location``, or the first location below it) or ``None``
  (the statement's start); ``offset=`` takes a file offset instead.
* ``ctx.stmt`` - the :class:`~ddlkit.lint.rule.Statement`: ``.text``,
  ``.start``/``.end`` (file offsets), ``.kind``, ``.index``, ``.do_block``.
* ``ctx.file`` - the :class:`~ddlkit.lint.rule.FileContext`, as of *before*
  this statement: ``.file`` (label), ``.text``, ``.in_migrations`` (under
  ``migrations/``), ``.is_dump`` (a schema dump: not a migration),
  ``.sql_test``, ``.transactional`` (the runner wraps the file in one
  transaction: ``ddlkit.sql.sqltext.classify``), ``.transaction_block`` (the open
  ``BEGIN`` statement, or None), ``.lock_timeout`` (a non-zero lock_timeout is
  in force: ``SET``, ``set_config`` or ``--assume-lock-timeout``),
  ``.assume_lock_timeout``, ``.created(table)`` / ``.fresh(table)`` (an
  earlier statement created it / without IF NOT EXISTS; ``table`` is
  ``(schema or None, name)``), ``.created_tables``, ``.previous`` (statements
  seen so far), ``.statements`` (all top-level statements), ``.bodies``
  (statement start -> :class:`ddlkit.lint.bodies.FunctionBody`),
  ``.line_of(offset)``.
* ``ctx.in_transaction`` - an open BEGIN or a transactional file.
* ``ctx`` itself is reused from one statement to the next: to remember a
  statement for later, keep ``ctx.stmt``, not ``ctx``.
* ``ctx.rule_state`` - a dict private to the rule for the whole file.

Shared helpers (modules starting with ``_`` are not rules):
``_alter.table_cmds(node, ctx)`` gives each sub-command of an ``ALTER TABLE``
on a table the file did not create, with its file offset (so a finding can sit
on the ``ADD …`` line); ``_common.with_timeout`` adds the lock_timeout advice;
``ctx.file.pglast_node(stmt)`` gives pglast's Python node of a statement, for
code shared with the runner (``ddlkit.sql.sqltext``).
``_ddl`` has what the lock, rewrite and breaking-change rules share:
``txn_unit(ctx)`` / ``same_transaction(file, a, b)`` (do two statements run in
one transaction, as the runner runs the file), ``existing(ctx, relation)``,
``constraint_of(column_def, *contypes)``, ``is_serial``, ``option_on`` and
``volatile_part(expr)`` (the first part of a DEFAULT expression that may be
volatile); ``_types.type_checker`` builds the style rules' column-type checks.

Findings are deduplicated, sorted, and filtered by ``-- ddlkit:ignore <ids>``
comments on the line above by the engine; a rule does none of that.
'''
