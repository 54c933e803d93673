"""The tree contract, byte for byte with pg_migrate.sh: order, checksums, names."""

from __future__ import annotations

import random
import shutil
import subprocess

import pytest

from ddlkit.util.errors import InputError
from ddlkit.tree.planner import FileState, TrackerRow, build_plan
from ddlkit.tree.tree import load_tree, whitespace_free_md5
from ddlkit.util.versort import version_sorted


def gnu_sort_v(names: list[str]) -> list[str]:
    out = subprocess.run(["sort", "-V"], input="\n".join(names) + "\n", capture_output=True, text=True,
                         env={"LC_ALL": "C"}, check=True)
    return out.stdout.splitlines()


def test_nine_before_ten_and_duplicate_numbers(make_tree):
    root = make_tree({
        "migrations/10_b.sql": "select 1;",
        "migrations/9_a.sql": "select 1;",
        "migrations/0209_b.sql": "select 1;",
        "migrations/0209_a.sql": "select 1;",
        "migrations/0210_x.sql": "select 1;",
        "migrations/.hidden.sql": "select 1;",
        "migrations/notes.txt": "not sql",
        "functions/f10.sql": "select 1;",
        "functions/f9.sql": "select 1;",
        "utils/u.sql": "select 1;",
        "preflight/p.sql": "select 1;",
    })
    names = [f.file_name for f in load_tree(root).files]
    assert names == [
        "utils/u.sql",
        "migrations/9_a.sql", "migrations/10_b.sql",
        "migrations/0209_a.sql", "migrations/0209_b.sql", "migrations/0210_x.sql",
        "functions/f9.sql", "functions/f10.sql",
        "preflight/p.sql",
    ]
    assert "preflight/p.sql" not in [f.file_name for f in load_tree(root, test_mode=True).files]


@pytest.mark.skipif(shutil.which("sort") is None, reason="GNU sort is the oracle")
def test_order_matches_gnu_sort_v_on_random_names():
    rng = random.Random(20261129)
    names = {"".join(rng.choice("0123456789abZ._-~") for _ in range(rng.randint(1, 10))) + ".sql"
             for _ in range(3000)}
    names = sorted(n for n in names if not n.startswith("."))
    rng.shuffle(names)
    assert version_sorted(names) == gnu_sort_v(names)


@pytest.mark.skipif(shutil.which("sort") is None, reason="GNU sort is the oracle")
def test_order_matches_gnu_sort_v_on_long_digit_runs_and_suffixes():
    # Digit runs longer than 255 digits, leading zeros, trailing zero runs, '~',
    # bytes above 0x7f and several suffixes: the byte-string sort key agrees with sort -V.
    rng = random.Random(20261203)
    names = set()
    for _ in range(2000):
        parts = []
        for _ in range(rng.randint(1, 4)):
            kind = rng.random()
            if kind < 0.4:
                parts.append("0" * rng.randint(0, 3) + str(rng.randint(0, 10 ** rng.randint(1, 300))))
            elif kind < 0.8:
                parts.append("".join(rng.choice("aZ_-~é") for _ in range(rng.randint(1, 3))))
            else:
                parts.append(rng.choice([".a", ".sql", ".0", ".b2", "~", ".tar.gz"]))
        name = "".join(parts) + rng.choice([".sql", "", ".0", "~"])
        if name and not name.startswith("."):
            names.add(name)
    names = sorted(names)
    rng.shuffle(names)
    assert version_sorted(names) == gnu_sort_v(names)


@pytest.mark.skipif(shutil.which("sort") is None, reason="GNU sort is the oracle")
@pytest.mark.parametrize("width", [1, 4, 14])
def test_order_of_names_numbered_alike_matches_gnu_sort_v(width):
    # Distinct numbers of one width (the fast path), with tails where sort -V and
    # byte order disagree ('_' after letters, '~', digits, suffixes, non-ASCII).
    rng = random.Random(width)
    numbers = rng.sample(range(10 ** width), min(10 ** width, 500))
    tails = ["_a.sql", "a.sql", "_a_b.sql", "_ab.sql", "~x.sql", "_10.sql", "_9.sql", ".sql", "_é.sql", "-Z.sql"]
    names = [f"{n:0{width}d}{rng.choice(tails)}" for n in numbers]
    assert version_sorted(names) == gnu_sort_v(names)
    # A repeated number, or another width: byte order would be wrong; sort -V's order it is.
    for odd in (["0209_zz.sql", "0209a.sql"], ["9_b.sql", "10_a.sql"]):
        assert version_sorted(odd) == gnu_sort_v(odd) == sorted(odd, reverse=True)
        assert version_sorted(names + odd) == gnu_sort_v(names + odd)


CHECKSUM_CASES = {
    "crlf": b"create table t (\r\n  a int\r\n);\r\n",
    "tabs_ff_vt": b"select\t1;\f\vselect 2;\n",
    "non_ascii": "select 'héllo wörld — ✓';\u00a0\n".encode("utf-8"),
    "latin1_bytes": b"select '\xe9';\n",
    "empty": b"",
    "only_space": b" \n\t\r\n",
}


@pytest.mark.parametrize("name", sorted(CHECKSUM_CASES))
def test_md5_equals_tr_md5sum(tmp_path, name):
    path = tmp_path / f"{name}.sql"
    path.write_bytes(CHECKSUM_CASES[name])
    shell = subprocess.run(f'tr -d "[:space:]" < "{path}" | md5sum', shell=True, capture_output=True,
                           check=True, env={"LC_ALL": "C.UTF-8"})
    assert whitespace_free_md5(path.read_bytes()) == shell.stdout.split()[0].decode()


@pytest.mark.parametrize("size", [0, 1, 7, 8, 9, 16, 17, 40])
def test_files_around_the_read_chunk_are_read_whole(make_tree, monkeypatch, size):
    from ddlkit.tree import tree as tree_module

    monkeypatch.setattr(tree_module, "_CHUNK", 8)  # one read, a full chunk, chunks and a tail
    content = bytes(range(65, 65 + 26)) * 2
    root = make_tree({"migrations/a.sql": content[:size], "migrations/b.sql": b"x"})
    files = load_tree(root).files
    assert [f.data for f in files] == [content[:size], b"x"]


def test_whitespace_only_edit_keeps_checksum():
    assert whitespace_free_md5(b"select 1;\n") == whitespace_free_md5(b"select   1 ;\r\n\n")
    assert whitespace_free_md5(b"select 1;") != whitespace_free_md5(b"select 2;")


def test_missing_and_empty_tree_are_input_errors(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_tree(tmp_path / "nope")
    (tmp_path / "empty" / "migrations").mkdir(parents=True)
    with pytest.raises(InputError, match="no \\*.sql files"):
        load_tree(tmp_path / "empty")


def test_plan_states(make_tree):
    root = make_tree({
        "migrations/0001_a.sql": "select 1;",
        "migrations/0002_renamed.sql": "select 2;",
        "migrations/0003_new.sql": "select 3;",
        "functions/f.sql": "select 4;",
        "migrations/0004_x_failable.sql": "select 5;",
    })
    tree = load_tree(root)
    md5 = {f.file_name: f.md5 for f in tree.files}
    rows = [
        TrackerRow("migrations/0001_a.sql", md5["migrations/0001_a.sql"]),
        TrackerRow("migrations/0002_old_name.sql", md5["migrations/0002_renamed.sql"]),
        TrackerRow("functions/f.sql", "0" * 32),
        TrackerRow("migrations/gone.sql", "f" * 32),
    ]
    plan = build_plan(tree, rows)
    states = {p.file.file_name: p.state for p in plan.files}
    assert states == {
        "migrations/0001_a.sql": FileState.APPLIED,
        "migrations/0002_renamed.sql": FileState.RENAMED,
        "migrations/0003_new.sql": FileState.PENDING_NEW,
        "migrations/0004_x_failable.sql": FileState.FAILABLE,
        "functions/f.sql": FileState.PENDING_CHANGED,
    }
    assert [p.file.file_name for p in plan.pending] == [
        "migrations/0003_new.sql", "migrations/0004_x_failable.sql", "functions/f.sql"]
    assert [r.file_name for r in plan.orphans] == ["migrations/0002_old_name.sql", "migrations/gone.sql"]
    renamed = next(p for p in plan.files if p.state is FileState.RENAMED)
    assert renamed.recorded_as == "migrations/0002_old_name.sql"


def test_twin_of_a_file_still_in_the_tree_is_new_not_renamed(make_tree):
    # Unlike pg_migrate.sh (md5 alone): a recorded twin that is still in the tree is another file.
    root = make_tree({"migrations/a.sql": "select 1;", "migrations/b.sql": "select   1;"})
    tree = load_tree(root)
    plan = build_plan(tree, [TrackerRow("migrations/a.sql", tree.files[0].md5)])
    assert [p.state for p in plan.files] == [FileState.APPLIED, FileState.PENDING_NEW]
    assert [p.file.file_name for p in plan.pending] == ["migrations/b.sql"]


def test_renamed_only_from_a_name_gone_from_the_tree(make_tree):
    root = make_tree({"migrations/a.sql": "select 1;", "migrations/b.sql": "select 1;"})
    tree = load_tree(root)
    md5 = tree.files[0].md5
    plan = build_plan(tree, [TrackerRow("migrations/a.sql", md5), TrackerRow("migrations/old_b.sql", md5)])
    assert [(p.state, p.recorded_as) for p in plan.files] == [
        (FileState.APPLIED, None), (FileState.RENAMED, "migrations/old_b.sql")]


def test_a_tree_file_equals_one_built_by_the_constructor(make_tree):
    from ddlkit.tree.tree import DdlFile

    root = make_tree({"migrations/a.sql": "select 1;"})
    f = load_tree(root).files[0]
    built = DdlFile("migrations", "a.sql", str(root / "migrations" / "a.sql"), b"select 1;")
    assert f == built and hash(f) == hash(built) and repr(f) == repr(built)
    assert (f.file_name, f.md5, f.path, f.include_root) == (built.file_name, built.md5, built.path, None)


def test_applied_file_of_a_plan_equals_one_built_by_the_constructor(make_tree):
    import datetime as dt

    from ddlkit.tree.planner import PlannedFile, _applied

    tree = load_tree(make_tree({"migrations/a.sql": "select 1;"}))
    f = tree.files[0]
    stamp = dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)
    fast, built = _applied(f, stamp), PlannedFile(f, FileState.APPLIED, None, None, applied_at=stamp)
    assert fast == built and hash(fast) == hash(built) and repr(fast) == repr(built)
    assert fast.to_dict() == built.to_dict() and not fast.pending
    plan = build_plan(tree, [TrackerRow("migrations/a.sql", f.md5, stamp)])
    assert plan.files == (built,)


@pytest.mark.slow  # a sweep of generated names against GNU's filevercmp: the full suite runs it
def test_version_key_agrees_with_filevercmp():
    """The fast sort key and gnulib's comparison agree, '~' and zero runs included."""
    import os

    from ddlkit.util import versort

    rng = random.Random(11)
    for alphabet in ("0123456789abZ._-~", "0~a.", "00~.a1"):
        for _ in range(20000):
            a, b = ("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))) for _ in range(2))
            if a.startswith(".") or b.startswith("."):
                continue
            c = versort._sort_v_cmp(os.fsencode(a), os.fsencode(b))
            ka, kb = versort.version_key(a), versort.version_key(b)
            assert (c > 0) - (c < 0) == (ka > kb) - (ka < kb), (a, b)
