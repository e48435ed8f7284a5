"""Worker processes for the per-clip stages (`mabench annotate`, `mabench synth`).

Workers are started fresh ("spawn"), never forked. A fork copies the parent's memory but only the thread that
forked: a lock another thread held at that moment (a decoder's or a thread pool's, in a process that served
requests or decoded video before) stays locked in the child forever, and the child hangs in its first call that
takes it. Seen in the test suite: both workers of `mabench annotate --workers 2` waited on a futex in FFmpeg for
20 minutes. A fresh interpreter costs each worker its imports once (about a second), not each clip.
Per-clip work runs in a `deadline_pool` (pebble's process pool, which stops a task at its deadline).
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

from pebble import ProcessPool


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` fresh processes (the callables and arguments sent to it must be picklable)."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))


def deadline_pool(workers: int) -> ProcessPool:
    """A pool of `workers` fresh processes whose tasks each get a deadline (`pool.schedule(fn, args,
    timeout=s)`): a task still running at its deadline has its worker stopped and replaced, and its future
    raises `TimeoutError`. A decoder blocked for good (a clip that is a pipe with no writer, a lock that is never
    released) then costs that clip, not the run."""
    return ProcessPool(max_workers=workers, context=multiprocessing.get_context("spawn"))
