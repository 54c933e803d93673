"""The runner's one lock_timeout retry policy.

A statement that hits ``lock_timeout`` (55P03) is retried with exponential
backoff and jitter, up to ``RunOptions.lock_retries`` times per file: the whole
file in transactional mode (ddlkit.apply.transactional), the statement or the
author's open transaction block in autocommit mode (ddlkit.apply.autocommit).
Each retry's ``lock_retry`` event, and the final failure, name who blocked the
statement, as the progress monitor or the lock deadline saw it
(ddlkit.apply.progress.retry_facts).
"""

from __future__ import annotations

import random

from typing import TYPE_CHECKING, Any, Callable

from ddlkit.util.sqlstate import SqlState

if TYPE_CHECKING:
    from ddlkit.apply import progress
    from ddlkit.apply.results import Emit, FileResult, RunOptions


class LockRetry:
    """The retry policy, mixed into :class:`ddlkit.apply.runner.Runner`: ``lock_retry``
    is called by both modes' apply (ddlkit.apply.results.FileSession)."""

    options: RunOptions
    emit: Emit
    sleep: Callable[[float], None]
    monitor: progress.Monitor | None
    deadline: Any

    def lock_retry(self, err: Any, fr: FileResult, undo: Callable[[], None] | None = None) -> bool:
        """The one lock_timeout retry of both paths: when ``err`` (with a
        ``sqlstate``) is a lock_timeout (55P03) and the file has retries left,
        count one in ``fr.retries``, call ``undo`` (roll back what must not stay
        locked while waiting), wait with backoff (the ``lock_retry`` event names
        the blocker) and return True: the caller runs the statement, block or
        file again. Otherwise False: the caller reports ``err``."""
        if err.sqlstate != SqlState.LOCK_NOT_AVAILABLE or fr.retries >= self.options.lock_retries:
            return False
        fr.retries += 1
        if undo is not None:
            undo()
        delay = self._backoff(fr.retries)
        self.emit("lock_retry", file=fr.file_name, attempt=fr.retries, delay=delay,
                  blocked=self._retry_facts(fr.retries))
        self.sleep(delay)
        return True

    def _backoff(self, attempt: int) -> float:
        return self.options.retry_base_delay * (2 ** (attempt - 1)) * (0.75 + random.random() / 2)

    def _retry_facts(self, attempt: int) -> str | None:
        """Who blocked the statement that just hit lock_timeout, as the monitor saw it."""
        seen = self.deadline.wait if self.deadline is not None and self.deadline.fired else None
        if self.monitor is None and seen is None:
            return None
        from ddlkit.apply.progress import retry_facts  # noqa: PLC0415

        return retry_facts(self.monitor.last_watch if self.monitor else None, attempt,
                           self.options.lock_retries + 1, seen)
