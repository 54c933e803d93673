"""A CI gate a legacy tree can pass: ``verify`` lints only files that are new
or changed against the committed tracker dump (``--lint-all`` lints every
file), and ``per_file_ignores`` in the config silences a finding without
touching the file (so its checksum stays)."""

from __future__ import annotations

import json

import pytest

from conftest import run_cli

LEGACY = {
    "migrations/0001_t.sql": "create table if not exists t (a int, b int);\n",
    # Reviewed and applied long ago; today's lint flags it (a blocking index build).
    "migrations/0002_t_a.sql": "create index if not exists t_a on t (a);\n",
    # Runs on every deploy, never in the (test-mode) dump; flagged too.
    "preflight/0001_check.sql": "create index if not exists t_ab on t (a, b);\n",
}
NEW = "create index if not exists t_b on t (b);\n"


@pytest.fixture(scope="module")
def legacy(tmp_path_factory):
    """A legacy tree with findings in applied files, dumped once (the committed dump)."""
    base = tmp_path_factory.mktemp("legacy")
    for rel, text in LEGACY.items():
        (base / "ddl" / rel).parent.mkdir(parents=True, exist_ok=True)
        (base / "ddl" / rel).write_text(text)
    out = run_cli("dump", "--ddl-dir", str(base / "ddl"), "--out", str(base / "schema_dump"))
    assert out.returncode == 0, out.stderr
    return base


def verify(project, *extra, cwd=None):
    return run_cli("verify", "--ddl-dir", str(project / "ddl"), "--dump-dir", str(project / "schema_dump"),
                   "--offline", *extra, cwd=cwd or project)


def test_untouched_legacy_tree_passes_though_applied_files_have_findings(legacy):
    assert run_cli("lint", str(legacy / "ddl")).returncode == 1  # the finding is real
    out = verify(legacy)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "lint: 0 file(s) new or changed against " in out.stdout
    assert "verify: ok (tracker, parse, lint, fingerprint)" in out.stdout


def test_lint_all_judges_applied_files_too(legacy):
    out = verify(legacy, "--lint-all", "--format", "json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["linted"] == "all"
    assert [(f["check"], f["file"].rsplit("/", 2)[-2:]) for f in doc["findings"]] == [
        ("lint", ["migrations", "0002_t_a.sql"]), ("lint", ["preflight", "0001_check.sql"])]
    assert "require-concurrent-index-creation" in doc["findings"][0]["message"]


def copy_project(legacy, project, extra: dict[str, str]):
    for rel, text in {**LEGACY, **extra}.items():
        (project / "ddl" / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / "ddl" / rel).write_text(text)
    (project / "schema_dump").mkdir()
    for f in (legacy / "schema_dump").iterdir():
        (project / "schema_dump" / f.name).write_bytes(f.read_bytes())


def test_a_newly_added_file_with_a_blocking_index_build_fails(legacy, tmp_path):
    project = tmp_path
    copy_project(legacy, project, {"migrations/0003_t_b.sql": NEW})

    out = verify(project, "--format", "json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["linted"] == ["migrations/0003_t_b.sql"]
    lint = [f for f in doc["findings"] if f["check"] == "lint"]
    assert len(lint) == 1 and lint[0]["file"].endswith("migrations/0003_t_b.sql")
    assert lint[0]["message"].startswith("require-concurrent-index-creation")

    # Silenced in the config: the file (and its checksum) stays as it is.
    before = (project / "ddl/migrations/0003_t_b.sql").read_bytes()
    (project / "ddlkit.toml").write_text('[per_file_ignores]\n"migrations/0003_*.sql" = ["index-not-concurrent"]\n')
    doc = json.loads(verify(project, "--format", "json").stdout)
    assert [f for f in doc["findings"] if f["check"] == "lint"] == []
    assert (project / "ddl/migrations/0003_t_b.sql").read_bytes() == before


def test_lint_base_still_judges_a_new_file_after_its_author_re_dumped(legacy, tmp_path):
    import subprocess

    def git(*args):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=tmp_path,
                       check=True, capture_output=True, timeout=60)

    copy_project(legacy, tmp_path, {})
    git("init", "-q")
    git("add", "ddl")
    git("commit", "-qm", "the legacy tree")
    git("add", "-A")
    git("commit", "-qm", "adopt ddlkit: the dump")
    # The adoption change has no dump at its base: the committed dump decides, and it passes.
    adopt = verify(tmp_path, "--lint-base", "HEAD~1", "--format", "json")
    assert adopt.returncode == 0, adopt.stdout
    assert json.loads(adopt.stdout)["linted"] == []

    (tmp_path / "ddl/migrations/0003_t_b.sql").write_text(NEW)
    (tmp_path / "ddl/preflight/0001_check.sql").write_text(LEGACY["preflight/0001_check.sql"] + "select 1;\n")
    assert run_cli("dump", "--tracker-only", "--ddl-dir", str(tmp_path / "ddl"),
                   "--out", str(tmp_path / "schema_dump")).returncode == 0
    git("add", "-A")
    git("commit", "-qm", "a new index, re-dumped")

    out = verify(tmp_path, "--lint-base", "HEAD~1", "--format", "json")
    assert out.returncode == 1
    doc = json.loads(out.stdout)
    assert doc["linted"] == ["migrations/0003_t_b.sql", "preflight/0001_check.sql"]
    assert doc["lint_against"] == "the dump at HEAD~1"
    lint = [f for f in doc["findings"] if f["check"] == "lint"]
    assert [f["file"].rsplit("/", 1)[-1] for f in lint] == ["0003_t_b.sql", "0001_check.sql"]
    bad = verify(tmp_path, "--lint-base", "no-such-ref")
    assert bad.returncode == 2 and "--lint-base no-such-ref: 'no-such-ref' is not a commit" in bad.stderr


def test_per_file_ignores_silence_lint_for_matching_files_only(tmp_path):
    ddl = tmp_path / "ddl" / "migrations"
    ddl.mkdir(parents=True)
    (ddl / "0001_t.sql").write_text("create table if not exists t (a int, b int);\n")
    (ddl / "0002_a.sql").write_text("create index if not exists t_a on t (a);\n")
    (ddl / "0003_b.sql").write_text("create index if not exists t_b on t (b);\n")
    (tmp_path / "ddlkit.toml").write_text(
        '[per_file_ignores]\n"migrations/0002_*" = ["require-concurrent-index-creation"]\n')
    out = run_cli("lint", "--format", "json", cwd=tmp_path)
    assert out.returncode == 1
    files = [f["file"] for f in json.loads(out.stdout) if f["rule"] == "require-concurrent-index-creation"]
    assert files == ["ddl/migrations/0003_b.sql"]

    (tmp_path / "ddlkit.toml").write_text('[per_file_ignores]\n"migrations/*" = ["no-such-rule"]\n')
    bad = run_cli("lint", cwd=tmp_path)
    assert bad.returncode == 2
    assert "unknown per_file_ignores 'migrations/*' rule id(s): no-such-rule" in bad.stderr

    (tmp_path / "ddlkit.toml").write_text('per_file_ignores = ["x"]\n')
    bad = run_cli("lint", cwd=tmp_path)
    assert bad.returncode == 2 and "bad value for per_file_ignores" in bad.stderr
