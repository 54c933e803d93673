"""Side-by-side parity of pg_migrate.sh (with the real psql) and `ddlkit migrate` on
real open-source migration trees (/work/corpus/real, see its SOURCES.md).

For each project it builds a ddl tree of the project's *up* migrations (renamed
`NNNN_<original name>.sql`, so `sort -V` and ddlkit order them as the project does),
then on fresh databases runs the script and ddlkit and compares exit codes, the
schema (`pg_dump --schema-only`, normalised), the data (`--data-only` without the
tracker and ddlkit's side tables) and the tracker rows. Then: a second run of each,
an edit inside an applied function's body, a comment-only edit of an applied file;
and `ddlkit verify`, `dump`, `test`, `lint` on the tree (exit code, no traceback, no
password in any output). Prints a per-project table; asserts nothing.

    python bench/parity_real_trees.py --url postgresql://postgres:pw@127.0.0.1:5432/postgres \
        [--bindir /usr/lib/postgresql/15/bin] [--corpus /work/corpus/real] [--only lemmy,umami]
        [--no-tools] [--keep-trees DIR] [-v]

The URL names a maintenance database on a server where the role may create databases;
give it a password (any, with trust auth) to check that none is ever printed.
Set DDLKIT_HOME to keep the embedded server `dump`/`verify` start away from your own.
"""

from __future__ import annotations

import argparse
import difflib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pglast
import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
STAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d(:\d\d)?)?")
SCRIPT = ROOT / "tests" / "data" / "pg_migrate.sh"


# ---------------------------------------------------------------- trees

@dataclass
class Tree:
    name: str
    files: list[tuple[str, Path]]           # (tree name, source)
    skipped: list[tuple[str, str]] = field(default_factory=list)   # (source name, why)


def _pad_version(name: str, sep: str = "_") -> str:
    """popx versions: 14-digit stamps are the 20-digit ones without their 000000 tail."""
    version = name.split(sep, 1)[0]
    return version.ljust(20, "0")


def _popx(src: Path, prefix: str) -> Tree:
    """ory hydra/kratos/keto: order by version; a `.postgres` file replaces the generic one."""
    tree = Tree(src.name, [])
    chosen: dict[str, Path] = {}
    for f in sorted(src.iterdir()):
        n = f.name
        if not n.startswith(prefix):
            continue
        base = n[len(prefix):]
        if base.endswith(".down.sql"):
            tree.skipped.append((n, "down migration"))
            continue
        for other in (".mysql.", ".sqlite3.", ".cockroach."):
            if other in base:
                tree.skipped.append((n, "another dialect"))
                break
        else:
            key = _pad_version(base) + "|" + base.split("_", 1)[1].split(".")[0]
            if key in chosen and ".postgres." not in base:
                tree.skipped.append((n, "generic file; the .postgres variant of this version runs"))
                continue
            if key in chosen:
                tree.skipped.append((chosen[key].name, "generic file; the .postgres variant of this version runs"))
            chosen[key] = f
    for i, key in enumerate(sorted(chosen), 1):
        f = chosen[key]
        tree.files.append((f"{i:04d}_{f.name[len(prefix):].removesuffix('.up.sql').replace('.postgres', '')}.sql", f))
    return tree


def _simple(src: Path, keep, key, tree_name, why_skip) -> Tree:
    tree = Tree(src.name, [])
    kept = []
    for f in sorted(src.iterdir()):
        why = why_skip(f.name)
        if why:
            tree.skipped.append((f.name, why))
        elif keep(f.name):
            kept.append(f)
    kept.sort(key=lambda f: key(f.name))
    for i, f in enumerate(kept, 1):
        tree.files.append((f"{i:04d}_{tree_name(f.name).removesuffix('.sql')}.sql", f))
    return tree


def build_trees(corpus: Path) -> list[Tree]:
    trees = []
    down = lambda n: "down migration" if ".down." in n or n.endswith("__down.sql") else ""  # noqa: E731

    trees.append(_simple(
        corpus / "LemmyNet__lemmy", lambda n: n.endswith("__up.sql"), lambda n: n,
        lambda n: n.removeprefix("migrations__").removesuffix("__up.sql"), down))
    trees.append(_simple(
        corpus / "mattermost__mattermost", lambda n: n.endswith(".up.sql"), lambda n: n,
        lambda n: n.rsplit("__", 1)[1].removesuffix(".up.sql"), down))
    trees.append(_popx(corpus / "ory__hydra", "persistence__sql__migrations__"))
    kratos = _popx(corpus / "ory__kratos", "persistence__sql__migrations__sql__")
    # kratos's templates/ are rendered per dialect by its Go code; these two hold plain SQL
    templ = sorted(f for f in (corpus / "ory__kratos").iterdir() if "__templates__" in f.name)
    for f in templ:
        if f.name.endswith(".down.sql"):
            kratos.skipped.append((f.name, "down migration"))
        else:
            n = len(kratos.files) + 1
            kratos.files.append((f"{n:04d}_{f.name.split('__templates__')[1].removesuffix('.up.sql')}.sql", f))
    trees.append(kratos)
    trees.append(_popx(corpus / "ory__keto", "internal__persistence__sql__migrations__sql__"))

    def umami_skip(n: str) -> str:
        if "__migrations__2021" in n or "__migrations__2023" in n:
            return "umami v1 history (timestamped prisma dirs), replaced by the 01_init.. history"
        if n.endswith("migration_v2.sql"):
            return "one-off v1 -> v2 conversion script, not part of the prisma history"
        return ""
    trees.append(_simple(
        corpus / "umami-software__umami", lambda n: True,
        # prisma orders migration directories by name; the manual data-migrations come after
        lambda n: (1 if "data-migrations" in n else 0, n),
        lambda n: n.removeprefix("db__postgresql__").replace("migrations__", "").replace("__migration", "").replace("__", "_"),
        umami_skip))

    def version_key(n: str):
        v = n.split("__versioned__")[1].split("__")[0].lstrip("v")
        return (tuple(int(x) for x in v.split(".")), n)

    def temporal_skip(kind):
        def skip(n: str) -> str:
            if f"__v12__{kind}__" not in n:
                if f"__{kind}__" in n or "__v96__" in n or "__temporal__versioned" in n:
                    return "another schema variant (v96 = PostgreSQL 9.6, or the pre-v12 layout), not this tree's history"
                return "the other temporal database"
            if n.endswith("v1.18__tasks_v2.sql"):
                return "MySQL syntax at the indexed commit (not for PostgreSQL)"
            return ""
        return skip
    for kind in ("temporal", "visibility"):
        t = _simple(corpus / "temporalio__temporal", lambda n: True, version_key,
                    lambda n: n.split("__versioned__")[1].replace("__", "_"), temporal_skip(kind))
        t.name = f"temporal-{kind}"
        t.skipped = [s for s in t.skipped if s[1] != "the other temporal database"]
        trees.append(t)

    trees.append(_simple(
        corpus / "goharbor__harbor", lambda n: n.endswith(".up.sql"), lambda n: n,
        lambda n: n.rsplit("__", 1)[1].removesuffix(".up.sql"), down))
    trees.append(_simple(
        corpus / "supabase__storage", lambda n: True, lambda n: n,
        lambda n: n.rsplit("__", 1)[1].removesuffix(".sql"), down))
    return trees


FAILABLE = False


def write_tree(tree: Tree, where: Path) -> Path:
    ddl = where / tree.name / "ddl"
    if ddl.exists():
        shutil.rmtree(ddl)
    (ddl / "migrations").mkdir(parents=True)
    for name, src in tree.files:
        if FAILABLE:
            name = name.removesuffix(".sql") + "_failable.sql"
        (ddl / "migrations" / name).write_bytes(src.read_bytes())
    return ddl


# ---------------------------------------------------------------- running

def with_db(url: str, db: str) -> str:
    p = urlsplit(url)
    return urlunsplit((p.scheme, p.netloc, "/" + db, p.query, p.fragment))


def password_of(url: str) -> str | None:
    return urlsplit(url).password


@dataclass
class Run:
    rc: int
    out: str
    err: str

    def tail(self, n: int = 2) -> str:
        lines = [ln for ln in (self.err + "\n" + self.out).splitlines() if ln.strip()]
        return " | ".join(lines[-n:])[:300]


def run(cmd: list[str], env: dict, timeout: int = 600, cwd: Path | None = None) -> Run:
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd)
    except subprocess.TimeoutExpired as e:
        return Run(-9, str(e.stdout or ""), f"TIMEOUT after {timeout}s")
    return Run(p.returncode, p.stdout, p.stderr)


class Harness:
    def __init__(self, url: str, bindir: Path, verbose: bool):
        self.url, self.bindir, self.verbose = url, bindir, verbose
        self.password = password_of(url)
        self.problems: list[str] = []
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("PG", "POSTGRES_", "DB_URL", "DATABASE_URL", "DDLKIT_DDL_DIR"))}
        self.env["PATH"] = f"{bindir}:{self.env.get('PATH', '')}"
        self.env["NO_COLOR"] = "1"

    def admin(self):
        return psycopg.connect(self.url, autocommit=True)

    def fresh(self, db: str) -> str:
        with self.admin() as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db)))
        return with_db(self.url, db)

    def drop(self, db: str) -> None:
        with self.admin() as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db)))

    def check_output(self, label: str, r: Run) -> None:
        text = r.out + r.err
        if "Traceback" in text or "internal error" in text:
            self.problems.append(f"{label}: traceback/internal error: {r.tail(3)}")
        if self.password and self.password in text:
            self.problems.append(f"{label}: the password is shown in the output")
        if r.rc == -9:
            self.problems.append(f"{label}: hung (timed out)")

    def script(self, ddl: Path, url: str, *args: str) -> Run:
        env = {**self.env, "DDL_DIR": str(ddl), "DB_URL": url, "PSQL": str(self.bindir / "psql")}
        return run(["bash", str(SCRIPT), *args], env)

    def ddlkit(self, *args: str, timeout: int = 600) -> Run:
        r = run([sys.executable, "-m", "ddlkit", *args], self.env, timeout=timeout)
        self.check_output("ddlkit " + args[0], r)
        return r

    def migrate(self, ddl: Path, url: str) -> Run:
        return self.ddlkit("migrate", "--ddl-dir", str(ddl), "--database-url", url, "--no-progress",
                           "--lock-timeout", "0")

    # ------------------------------------------------------------ state

    def schema(self, url: str) -> list[str]:
        r = run([str(self.bindir / "pg_dump"), "--schema-only", "--no-owner", "--no-acl",
                 "--exclude-table=*.schema_version", "--exclude-table=*.ddlkit_*", url], self.env)
        keep = []
        for ln in r.out.splitlines():
            s = ln.strip()
            if not s or s.startswith("--") or s.startswith(("\\restrict", "\\unrestrict")):
                continue
            if s.startswith("SET ") or s.startswith("SELECT pg_catalog.set_config"):
                continue
            keep.append(ln.rstrip())
        return keep

    def data(self, url: str) -> list[str]:
        r = run([str(self.bindir / "pg_dump"), "--data-only", "--no-owner", "--no-acl",
                 "--exclude-table=*.schema_version", "--exclude-table=*.ddlkit_*", url], self.env)
        # now() defaults differ between the two runs: timestamps are masked
        return [STAMP.sub("<now>", ln) for ln in r.out.splitlines()
                if ln.strip() and not ln.startswith("--") and not ln.startswith(("SET ", "SELECT pg_catalog.set_config", "\\restrict", "\\unrestrict"))]

    def tracker(self, url: str) -> list[tuple[str, str]]:
        try:
            with psycopg.connect(url) as c:
                return [tuple(r) for r in c.execute(
                    "SELECT file_name, md5 FROM schema_version ORDER BY file_name").fetchall()]
        except psycopg.errors.UndefinedTable:
            return []

    def state(self, url: str):
        return self.schema(url), self.data(url), self.tracker(url)


def same(a, b) -> str:
    return "yes" if a == b else "NO"


def diff(a: list, b: list, n: int = 12) -> str:
    return "\n".join(list(difflib.unified_diff([str(x) for x in a], [str(x) for x in b],
                                               "psql", "ddlkit", lineterm="", n=1))[:n])


# ---------------------------------------------------------------- edits

def function_body_edit(text: str) -> str | None:
    """The text with a comment inserted at the start of the first dollar-quoted function
    body (the function's source changes; a re-apply is due). Found with PostgreSQL's scanner."""
    try:
        stmts = pglast.parser.parse_sql(text)
    except Exception:
        return None   # psql meta-commands: not plain SQL
    raw = text.encode()
    for stmt in stmts:
        if type(stmt.stmt).__name__ != "CreateFunctionStmt":
            continue
        start = stmt.stmt_location
        chunk = raw[start:start + (stmt.stmt_len or len(raw) - start)].decode()
        for tok in pglast.parser.scan(chunk):
            if tok.name == "SCONST" and chunk[tok.start] == "$":
                body = chunk[tok.start:tok.end + 1]
                tag = body[:body.index("$", 1) + 1]
                at = start + len(chunk[:tok.start + len(tag)].encode())
                return (raw[:at] + b"\n-- edited by the parity harness\n" + raw[at:]).decode()
    return None


# ---------------------------------------------------------------- per project

def prune(h: Harness, tree: Tree, where: Path) -> list[tuple[str, str]]:
    """Drop each file the script fails on (on a fresh database each time) until the
    script passes: the corpus holds parts of each history, so many files need a table
    an absent file made. Returns (file, psql's error) for each file dropped."""
    dropped = []
    while True:
        ddl = write_tree(tree, where)
        url = h.fresh("p7_prune")
        r = h.script(ddl, url)
        if r.rc == 0:
            break
        failed = [ln.split()[1] for ln in r.err.splitlines() if ln.startswith("migration ") and ln.endswith(" failed")]
        if not failed:
            dropped.append(("?", r.tail()))
            break
        name = failed[-1].split("/", 1)[1]
        error = next((ln for ln in r.err.splitlines() if ln.startswith("ERROR:")), r.tail(1))
        dropped.append((name, error))
        tree.files = [(n, f) for n, f in tree.files if n != name]
    h.drop("p7_prune")
    return dropped


def project(h: Harness, tree: Tree, where: Path, tools: bool, pruned: list | None = None) -> dict:
    ddl = write_tree(tree, where)
    tag = re.sub(r"[^a-z0-9]", "_", tree.name.lower())[:30]
    row: dict = {"project": tree.name, "files": len(tree.files), "skipped": len(tree.skipped),
                 "pruned": "-" if pruned is None else len(pruned)}
    a_db, b_db = f"p7_{tag}_psql", f"p7_{tag}_ddlkit"
    a, b = h.fresh(a_db), h.fresh(b_db)

    ra, rb = h.script(ddl, a), h.migrate(ddl, b)
    sa, sb = h.state(a), h.state(b)
    row.update(psql=ra.rc, ddlkit=rb.rc, schema=same(sa[0], sb[0]), data=same(sa[1], sb[1]),
               tracker=same(sa[2], sb[2]), applied=f"{len(sa[2])}/{len(sb[2])}")
    row["psql_says"], row["ddlkit_says"] = ra.tail(), rb.tail()
    if h.verbose:
        for what, x, y in zip(("schema", "data", "tracker"), sa, sb):
            if x != y:
                print(f"--- {tree.name}: {what} differs\n{diff(x, y)}")

    ra2, rb2 = h.script(ddl, a), h.migrate(ddl, b)
    sa2, sb2 = h.state(a), h.state(b)
    row["rerun"] = f"{ra2.rc}/{rb2.rc}"
    row["rerun_same"] = same(sa2, sb2) + ("" if (sa2, sb2) == (sa, sb) else " (changed)")

    # each takes over the other's database: nothing to apply, exit 0 (ddlkit status agrees)
    rx, ry = h.migrate(ddl, a), h.script(ddl, b)
    rs_a = h.ddlkit("status", "--ddl-dir", str(ddl), "--database-url", a)
    rs_b = h.ddlkit("status", "--ddl-dir", str(ddl), "--database-url", b)
    took = (h.state(a), h.state(b)) == (sa2, sb2)
    row["takeover"] = f"{rx.rc}/{ry.rc} status {rs_a.rc}/{rs_b.rc}" + ("" if took else " (changed)")
    if h.verbose and (rx.rc, ry.rc) != (0, 0) and (ra2.rc, rb2.rc) == (0, 0):
        print(f"--- {tree.name}: takeover: ddlkit on psql's db: {rx.tail()}\n    script on ddlkit's: {ry.tail()}")

    applied = [n for n, _ in sb[2] if n in dict(sa[2]) and "0000_base" not in n]
    files = {f"migrations/{f.name}": f for f in (ddl / "migrations").iterdir()}
    row["fn_edit"] = row["comment_edit"] = "-"
    originals = {}
    fn_file = None
    for name in applied:
        edited = function_body_edit(files[name].read_text())
        if edited is not None:
            fn_file = name
            originals[name] = files[name].read_bytes()
            files[name].write_text(edited)
            break
    if fn_file:
        ra3, rb3 = h.script(ddl, a), h.migrate(ddl, b)
        sa3, sb3 = h.state(a), h.state(b)
        row["fn_edit"] = (f"{ra3.rc}/{rb3.rc} schema {same(sa3[0], sb3[0])} tracker {same(sa3[2], sb3[2])}"
                          f" ({fn_file.split('/')[1][:18]})")
        if h.verbose and (ra3.rc, rb3.rc) != (0, 0):
            print(f"--- {tree.name}: fn edit: psql: {ra3.tail()}\n    ddlkit: {rb3.tail()}")
        files[fn_file].write_bytes(originals[fn_file])  # the comment edit starts from the tree as it was
    cm_file = next((n for n in applied if n != fn_file), None)
    if cm_file:
        originals[cm_file] = files[cm_file].read_bytes()
        files[cm_file].write_bytes(originals[cm_file] + b"\n-- a comment added by the parity harness\n")
        ra4, rb4 = h.script(ddl, a), h.migrate(ddl, b)
        sa4, sb4 = h.state(a), h.state(b)
        ry4 = h.script(ddl, b)   # the script, on ddlkit's database after the comment edit: nothing to run
        row["comment_edit"] = (f"{ra4.rc}/{rb4.rc} schema {same(sa4[0], sb4[0])} tracker {same(sa4[2], sb4[2])}"
                               f" then script on ddlkit's db {ry4.rc}{'' if 'applied' not in ry4.out else ' (RAN FILES)'}"
                               f" ({cm_file.split('/')[1][:18]})")
        if h.verbose and (ra4.rc, rb4.rc) != (0, 0):
            print(f"--- {tree.name}: comment edit: psql: {ra4.tail()}\n    ddlkit: {rb4.tail()}")
    for name, data in originals.items():
        files[name].write_bytes(data)
    h.drop(a_db)
    h.drop(b_db)

    if tools:
        out = where / tree.name / "schema_dump"
        if out.exists():
            shutil.rmtree(out)
        rd = h.ddlkit("dump", "--ddl-dir", str(ddl), "--out", str(out), "--no-progress")
        rv = h.ddlkit("verify", "--ddl-dir", str(ddl), "--dump-dir", str(out))
        rt = h.ddlkit("test", "--ddl-dir", str(ddl), "--database-url", h.url, "--no-progress", "--no-rerun")
        rr = h.ddlkit("test", "--ddl-dir", str(ddl), "--database-url", h.url, "--no-progress")
        rl = h.ddlkit("lint", "--ddl-dir", str(ddl))
        row["dump/verify/test/test-rerun/lint"] = f"{rd.rc}/{rv.rc}/{rt.rc}/{rr.rc}/{rl.rc}"
        row["tools_say"] = {"dump": rd.tail(1), "verify": rv.tail(1), "test": rt.tail(1), "test-rerun": rr.tail(2)}
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--bindir", type=Path, default=Path("/usr/lib/postgresql/15/bin"))
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus/real"))
    ap.add_argument("--only", default="")
    ap.add_argument("--no-tools", action="store_true")
    ap.add_argument("--prune", action="store_true",
                    help="first drop the files the script itself fails on (partial histories), then compare")
    ap.add_argument("--keep-trees", type=Path)
    ap.add_argument("-v", "--verbose", action="store_true")
    ap.add_argument("--base", action="append", default=[], metavar="PROJECT=FILE",
                    help="run FILE first in PROJECT's tree (a stand-in for a history's missing start; "
                         "bench/corpus_bases/)")
    ap.add_argument("--failable", action="store_true",
                    help="name every file *_failable.sql: both run every file up to its first error")
    args = ap.parse_args()
    global FAILABLE
    FAILABLE = args.failable

    h = Harness(args.url, args.bindir, args.verbose)
    trees = build_trees(args.corpus)
    if args.only:
        wanted = args.only.split(",")
        trees = [t for t in trees if any(w in t.name.lower() for w in wanted)]
    for spec in args.base:
        project_name, _, file = spec.partition("=")
        for t in trees:
            if project_name in t.name:
                t.files.insert(0, ("0000_base.sql", Path(file)))
    where = args.keep_trees or Path(tempfile.mkdtemp(prefix="parity-real-"))
    rows = []
    for t in trees:
        print(f"== {t.name}: {len(t.files)} files", file=sys.stderr, flush=True)
        pruned = prune(h, t, where) if args.prune else None
        for name, error in pruned or []:
            print(f"   pruned (fails under psql): {name}: {error}", file=sys.stderr)
        rows.append(project(h, t, where, not args.no_tools, pruned))
        r = rows[-1]
        print(f"   psql {r['psql']}: {r['psql_says']}\n   ddlkit {r['ddlkit']}: {r['ddlkit_says']}", file=sys.stderr)
        if "tools_say" in r:
            for k, v in r["tools_say"].items():
                print(f"   {k}: {v}", file=sys.stderr)

    cols = ["project", "files", "skipped", "pruned", "psql", "ddlkit", "applied", "schema", "data", "tracker",
            "rerun", "rerun_same", "takeover", "fn_edit", "comment_edit"] + (["dump/verify/test/test-rerun/lint"] if not args.no_tools else [])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
    print("\nskipped files:")
    for t in trees:
        for n, why in t.skipped:
            print(f"  {t.name}: {n}: {why}")
    if h.problems:
        print("\nproblems:")
        for p in h.problems:
            print("  " + p)
    print(f"\ntrees in {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
