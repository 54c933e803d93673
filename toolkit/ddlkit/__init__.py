"""ddlkit: apply, plan, dump, verify and lint PostgreSQL DDL trees.

Data flows one way: tree (files, order, checksums) -> plan (pure) -> runner (I/O).

The Python API mirrors the CLI (see :mod:`ddlkit.api`)::

    import ddlkit
    report = ddlkit.migrate(ddl_dir="ddl", database_url="postgresql://app@db/app")

Every expected failure raises a :class:`DdlkitError` whose ``exit_code`` is the
CLI's documented exit code. Attributes load lazily, so ``import ddlkit`` is cheap.
"""

__version__ = "0.1.0"

# No submodule may share these names: importing it would replace the function.
_API = ("migrate", "plan", "status", "verify", "dump", "template", "test", "new", "trace", "drift", "mark")
_ERRORS = ("DdlkitError", "InputError", "ArgumentError", "ConnectError", "LockTimeout", "ServerError")

__all__ = [*_API, *_ERRORS, "MigrationFailed", "__version__"]


def __getattr__(name: str):
    if name in _API:
        from ddlkit import api  # noqa: PLC0415

        return getattr(api, name)
    if name in _ERRORS:
        from ddlkit.util import errors  # noqa: PLC0415

        return getattr(errors, name)
    if name == "MigrationFailed":
        from ddlkit.apply.failure import MigrationFailed  # noqa: PLC0415

        return MigrationFailed
    raise AttributeError(f"module 'ddlkit' has no attribute {name!r}")
