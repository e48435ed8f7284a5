"""Worker processes for the per-clip stages (`mabench annotate`, `mabench synth`).

Workers are started fresh ("spawn"), never forked. A fork copies the parent's memory but only the thread that
forked: a lock another thread held at that moment (a decoder's or a thread pool's, in a process that served
requests or decoded video before) stays locked in the child forever, and the child hangs in its first call that
takes it. Seen in the test suite: both workers of `mabench annotate --workers 2` waited on a futex in FFmpeg for
20 minutes. A fresh interpreter costs each worker its imports once (about a second), not each clip.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor


def process_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of `workers` fresh processes (the callables and arguments sent to it must be picklable)."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
