"""Live progress on stderr while a command runs: the ``on_event`` callbacks
that :mod:`ddlkit.cli.render` re-exports (``ProgressEvents`` for long
statements, ``LiveProgress`` for every long command). stdout is never touched."""

from __future__ import annotations

from typing import Any


# The file a run is applying right now, and how many it finished: what an
# interruption's message says (render.interrupted). Kept from the run's own events.
IN_FLIGHT: dict = {"file": None, "done": 0}


def track(event: str, **kw: Any) -> None:
    """Keep :data:`IN_FLIGHT` from a run's events, whatever is shown of them."""
    if event == "file_start":
        IN_FLIGHT["file"] = kw["planned"].file.file_name
    elif event == "file_done":
        IN_FLIGHT["file"] = None
        IN_FLIGHT["done"] += 1


def _tracking(then):
    """``then`` (or nothing) as an ``on_event`` that also keeps :data:`IN_FLIGHT`:
    an interruption names the file in flight even without progress lines."""
    def events(event: str, **kw: Any) -> None:
        track(event, **kw)
        if then is not None:
            then(event, **kw)
    return events


class ProgressEvents:
    """``on_event`` that prints only the progress of long statements, on stderr
    (ddlkit.apply.progress). On a terminal, one line rewritten in place; otherwise (CI
    logs) a line when the statement reaches 2 s, then one every 10 s."""

    LOG_EVERY = 10.0

    def __init__(self, stream=None):
        import sys  # noqa: PLC0415

        self.stream = stream or sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self._printed_at: float | None = None

    def __call__(self, event: str, **kw: Any) -> None:
        track(event, **kw)
        handler = getattr(self, f"on_{event}", None)
        if handler:
            handler(**kw)

    def on_progress(self, sample) -> None:
        line = f"  ... {sample.describe()}"
        if self.tty:
            self.stream.write("\r\x1b[K" + line)
            self.stream.flush()
        elif self._printed_at is None or sample.elapsed - self._printed_at >= self.LOG_EVERY:
            self.stream.write(line + "\n")
            self.stream.flush()
            self._printed_at = sample.elapsed

    def on_db_waiting(self, target: str, reason: str, waited: float, timeout: float) -> None:
        """``--wait-for-db``: one line every few seconds while the database is not up."""
        self.stream.write(f"ddlkit: waiting for the database {target} ({reason}): "
                          f"{int(waited)}s of {timeout:g}s\n")
        self.stream.flush()

    def on_script_waiting(self, what: str, wait: float) -> None:
        # JSON keeps stdout for the document: what the run waits for goes to stderr
        self.stream.write(script_waiting_line(what, wait) + "\n")
        self.stream.flush()

    def on_progress_end(self, sample) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
        self._printed_at = None


class LiveProgress(ProgressEvents):
    """``on_event`` for every long command, on stderr only (stdout stays for
    the result, text or JSON): a line per file (prefixed with the target's
    name under ``--target``), long statements' progress, and, when stderr is
    not a terminal, a line at least every :attr:`HEARTBEAT` seconds saying what
    is running (CI runners kill silent jobs). On a terminal a spinner line is
    rewritten in place instead. ``then`` also receives every event (the
    command's own stdout renderer). Use as a context manager: the heartbeat
    runs inside it."""

    HEARTBEAT = 10.0
    SPIN = 0.25

    def __init__(self, prefix: str = "", stream=None, then=None, lock=None, spinner: bool = True):
        import threading  # noqa: PLC0415
        import time  # noqa: PLC0415

        super().__init__(stream)
        self.prefix, self.then, self.spinner = prefix, then, spinner and self.tty
        self._clock = time.monotonic
        self._lock = lock or threading.Lock()
        self._doing, self._since, self._last = "starting", self._clock(), self._clock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __call__(self, event: str, **kw: Any) -> None:
        super().__call__(event, **kw)
        if self.then is not None:
            self.then(event, **kw)

    def __enter__(self) -> "LiveProgress":
        import threading  # noqa: PLC0415

        self._thread = threading.Thread(target=self._beat, name="ddlkit-heartbeat", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        if self.spinner:
            with self._lock:
                self.stream.write("\r\x1b[K")
                self.stream.flush()

    def line(self, text: str) -> None:
        with self._lock:
            self.stream.write(("\r\x1b[K" if self.spinner else "") + f"{self.prefix}{text}\n")
            self.stream.flush()
            self._last = self._clock()

    def doing(self, what: str) -> None:
        self._doing, self._since = what, self._clock()

    def _beat(self) -> None:
        frames, i = "|/-\\", 0
        while not self._stop.wait(self.SPIN if self.spinner else 1.0):
            from ddlkit.apply.progress import human_seconds  # noqa: PLC0415

            now = self._clock()
            if self.spinner:
                with self._lock:
                    self.stream.write(f"\r\x1b[K{frames[i % 4]} {self.prefix}{self._doing} "
                                      f"({human_seconds(now - self._since)})")
                    self.stream.flush()
                i += 1
            elif now - self._last >= self.HEARTBEAT:
                self.line(f"... still {self._doing} ({human_seconds(now - self._since)})")

    # ---------------------------------------------------------------- events

    def on_db_waiting(self, target: str, reason: str, waited: float, timeout: float) -> None:
        self.doing(f"waiting for the database {target}")
        self.line(f"waiting for the database {target} ({reason}): {int(waited)}s of {timeout:g}s")

    def on_progress(self, sample) -> None:
        self.doing(sample.describe())
        if not self.spinner and (self._printed_at is None or sample.elapsed - self._printed_at >= self.LOG_EVERY):
            self.line(f"  ... {sample.describe()}")
            self._printed_at = sample.elapsed

    def on_progress_end(self, sample) -> None:
        self._printed_at = None

    def on_step(self, what: str) -> None:
        self.doing(what)
        self.line(f"{what} ...")

    def on_file_start(self, planned) -> None:
        self.doing(f"applying {planned.file.file_name}")

    def on_file_done(self, result) -> None:
        self.line(f"{result.outcome:<8} {result.file_name} ({result.duration * 1000:.0f}ms)")

    def on_lock_retry(self, file: str, attempt: int, delay: float, blocked: str | None = None) -> None:
        self.line(f"lock_timeout in {file}; retry {attempt} in {delay:.1f}s{f': {blocked}' if blocked else ''}")

    def on_waiting(self, holder, wait: float) -> None:
        self.doing("waiting for the migration lock")
        self.line(f"waiting up to {wait:g}s for the migration lock, held by "
                  f"{holder.describe() if holder else 'another runner'}")

    def on_phase_start(self, name: str) -> None:
        self.on_step(name)

    def on_test_start(self, file_name: str) -> None:
        self.doing(f"running {file_name}")


def live(enabled: bool = True, then=None, prefix: str = ""):
    """A :class:`LiveProgress` context (or, disabled, a context giving ``then``)."""
    import contextlib  # noqa: PLC0415

    return LiveProgress(prefix, then=then) if enabled else contextlib.nullcontext(_tracking(then))


def target_progress():
    """``events(name)`` for runs on targets: each target's lines prefixed with its
    name, one lock for all, no spinner (several targets run at once)."""
    import threading  # noqa: PLC0415

    lock = threading.Lock()
    return lambda name: LiveProgress(f"{name}: ", lock=lock, spinner=False)


def script_waiting_line(what: str, wait: float) -> str:
    return (f"pg_migrate.sh is running on this database; waiting up to {wait:g}s for it to finish "
            f"before the next file: {what}")
