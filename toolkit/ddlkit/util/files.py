"""What kind of file a path is, before reading it: a FIFO would block the read
for ever, and a directory or a device is never a SQL or CSV file."""

from __future__ import annotations

import errno
import os
import stat

_KINDS = ((stat.S_ISDIR, "directory"), (stat.S_ISFIFO, "fifo"), (stat.S_ISSOCK, "socket"),
          (stat.S_ISCHR, "character device"), (stat.S_ISBLK, "block device"))


def not_regular(path: str | os.PathLike) -> str | None:
    """``"directory"``, ``"fifo"``, … when ``path`` (symlinks followed) exists and is
    not a regular file; None for a regular file, or a path that cannot be looked at
    (reading it then says why)."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return None
    return next((kind for test, kind in _KINDS if test(mode)), None)


def read_regular(path: str | os.PathLike) -> bytes:
    """The bytes of ``path``; OSError (``strerror`` "not a regular file (a fifo)")
    for anything but a regular file, so that callers' ``except OSError`` says why
    instead of blocking on a FIFO."""
    kind = not_regular(path)
    if kind:
        raise OSError(errno.EINVAL, f"not a regular file (a {kind})", os.fspath(path))
    with open(path, "rb") as fh:
        return fh.read()
