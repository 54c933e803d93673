"""Linting many files on all cores, safely.

Not ``multiprocessing.Pool``: its workers inherited the CLI's SIGTERM
handler, so ``terminate()`` could not kill them and the parent could wait
forever for a worker holding the queue lock; and a Ctrl-C printed a
``KeyboardInterrupt`` traceback from each worker. Here:

* each forked worker restores the default SIGINT/SIGTERM handling, so a
  Ctrl-C (sent to the whole process group) or a SIGTERM ends it at once,
  silently; the two signals are blocked across each fork, so one that arrives
  while the child still runs Python's at-fork hooks (logging's lock release)
  waits until the default handling is in place, and never prints a traceback;
* each worker gets its share of the jobs up front (largest first, to the
  least loaded) and sends its results back on a pipe of its own: there is
  no shared queue or lock to be left held;
* when the parent is interrupted, or anything goes wrong, it SIGKILLs the
  workers and reaps them before re-raising;
* a worker that dies without answering (OOM killer, say) costs nothing: its
  jobs run again in the parent.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable, Sequence
from multiprocessing.connection import wait
from typing import Any

_BATCH = 32  # results per message
_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def map_ordered(fn: Callable[[Any], Any], jobs: Sequence[Any], *, workers: int, weight: Callable[[Any], int]
                ) -> list[Any]:
    """``[fn(job) for job in jobs]`` across ``workers`` forked processes."""
    if workers < 2 or len(jobs) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return [fn(job) for job in jobs]
    workers = min(workers, len(jobs))
    shares: list[list[int]] = [[] for _ in range(workers)]
    loads = [0] * workers
    for idx in sorted(range(len(jobs)), key=lambda i: -weight(jobs[i])):
        w = loads.index(min(loads))
        shares[w].append(idx)
        loads[w] += max(weight(jobs[idx]), 1)
    ctx = multiprocessing.get_context("fork")
    results: list[Any] = [None] * len(jobs)
    done = [False] * len(jobs)
    procs = []
    conns = {}
    try:
        for share in shares:
            recv, send = ctx.Pipe(duplex=False)
            proc = ctx.Process(target=_worker, args=(fn, jobs, sorted(share), send), daemon=True)
            blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
            try:
                proc.start()
            finally:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)  # a pending Ctrl-C is raised here
            send.close()
            procs.append(proc)
            conns[recv] = proc
        while conns:
            for conn in wait(list(conns)):
                try:
                    batch = conn.recv()
                except (EOFError, OSError):
                    batch = None
                if batch is None:  # finished, or died: whatever it did not send runs here
                    conn.close()
                    del conns[conn]
                    continue
                for idx, result in batch:
                    results[idx] = result
                    done[idx] = True
    except BaseException:
        _kill(procs)
        raise
    finally:
        for conn in conns:
            conn.close()
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                _kill([proc])
    for idx, ok in enumerate(done):
        if not ok:
            results[idx] = fn(jobs[idx])
    return results


def _kill(procs: list) -> None:
    for proc in procs:
        if proc.pid is not None and proc.exitcode is None:
            try:
                os.kill(proc.pid, signal.SIGKILL)
            except OSError:
                pass
    for proc in procs:
        proc.join(timeout=5)


def _worker(fn: Callable, jobs: Sequence[Any], share: list[int], conn) -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)  # blocked across the fork: see the module's notes
    batch = []
    for idx in share:
        batch.append((idx, fn(jobs[idx])))
        if len(batch) >= _BATCH:
            conn.send(batch)
            batch = []
    if batch:
        conn.send(batch)
    conn.send(None)
    conn.close()
