"""Helpers shared by several rules."""

from __future__ import annotations

NO_TIMEOUT = ", and this file sets no lock_timeout: while it waits, every query on the table queues behind it"
TIMEOUT_HINT = "SET lock_timeout = '5s' or similar earlier in the file"
NOT_NULL_HINT = (
    "first ADD CONSTRAINT … CHECK (col IS NOT NULL) NOT VALID and VALIDATE it; SET NOT NULL then skips the scan"
)


def with_timeout(ctx, message: str, hint: str) -> tuple[str, str]:
    """Add the lock_timeout advice when the file sets none."""
    if not ctx.file.lock_timeout:
        return message + NO_TIMEOUT, hint + "; and SET lock_timeout earlier in the file"
    return message, hint
