"""First steps and checks without a run: init, new, lint and the effective configuration."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ddlkit.api.arguments import checked
from ddlkit.api.reports import ConfigReport
from ddlkit.api.resolve import _root

if TYPE_CHECKING:  # pragma: no cover
    from ddlkit.schema.scaffold import NewFile


@checked
def init(project: str | os.PathLike = ".") -> Any:
    """``ddlkit init``: ``ddl/`` with its directories, a commented ``ddlkit.toml``
    and ``.ddlkit/`` in ``.gitignore`` (a ``ddlkit.schema.project.InitReport``)."""
    from ddlkit.schema.project import init_project  # noqa: PLC0415

    return init_project(Path(project))


@checked
def new(name: str, *, directory: str = "migrations", ddl_dir: str | os.PathLike | None = None,
        database_url: str | None = None, offline: bool = False, number: str | None = None) -> "NewFile":
    """Create the next file of ``directory`` (``ddlkit new``): numbered after the
    last file in ``sort -V`` order, with that file's zero-padding, a slug of
    ``name`` and a short header. Raises InputError (exit 2) when the name would
    sort before files already applied on the target; when no target is reachable
    (or ``offline``), ``result.warning`` says the order was not checked."""
    from ddlkit.schema import scaffold  # noqa: PLC0415

    return scaffold.new_file(name, directory, ddl_dir=ddl_dir, database_url=database_url, offline=offline,
                             number=number)


@checked
def lint(paths: list[str | os.PathLike] | None = None, *, ddl_dir: str | os.PathLike | None = None,
         select: set[str] | None = None, ignore: set[str] | None = None,
         assume_lock_timeout: bool = False, per_file_ignores: dict[str, list[str]] | None = None) -> list[Any]:
    """Lint files (or the tree): a list of findings; any error-severity finding fails CI.
    ``per_file_ignores``: {glob over the name in the tree: [rule ids]} (the config's)."""
    from ddlkit import lint as linting  # noqa: PLC0415

    return linting.lint_paths([Path(p) for p in paths] if paths else None, ddl_root=_root(ddl_dir),
                              select=select, ignore=ignore, assume_lock_timeout=assume_lock_timeout,
                              per_file_ignores=per_file_ignores)


@checked
def effective_config(*, ddl_dir: str | os.PathLike | None = None, database_url: str | None = None,
                     start: Path | None = None) -> ConfigReport:
    from ddlkit.tree import config  # noqa: PLC0415
    from ddlkit.fleet import targets
    from ddlkit.db.connection import redact, resolve_target  # noqa: PLC0415
    from ddlkit.server import server  # noqa: PLC0415
    from ddlkit.util.errors import InputError  # noqa: PLC0415

    cfg = config.load(start)
    settings = [cfg.setting("ddl_dir", ddl_dir), *(cfg.setting(k) for k in config.KEYS if k != "ddl_dir")]
    settings = [config.Setting(s.name, redact(s.value) if s.value and config.KEYS[s.name].secret else s.value,
                               s.source) for s in settings]
    try:
        root = _root(settings[0].value)
    except InputError:  # `ddlkit config` works without a tree
        root = Path(settings[0].value or "ddl")
    target = resolve_target(database_url, ddl_root=root)
    database = (redact(target.conninfo, target.secrets), target.source) if target else \
        (f"the embedded PostgreSQL {server.PINNED_MAJOR}", "default")
    env = targets.environment(root, cfg.environ)
    shown = []
    for spec in cfg.targets.values():
        try:
            url, direct = spec.expand(env)
            shown.append({"name": spec.name, "url": redact(url), "direct_url": redact(direct) if direct else None,
                          "source": spec.where, "error": None})
        except InputError as exc:
            shown.append({"name": spec.name, "url": redact(spec.url),  # a literal password beside an unset ${VAR}
                          "direct_url": redact(spec.direct_url) if spec.direct_url else None,
                          "source": spec.where, "error": str(exc)})
    return ConfigReport(cfg.file, settings, database, shown)
