"""Worker processes start fresh: a lock another thread of the parent holds does not follow them
(`mabench.pool`; with fork it did, and `mabench annotate --workers 2` hung in FFmpeg)."""

import threading

from mabench.pool import process_pool

HELD = threading.Lock()


def _take_the_lock() -> str:
    if not HELD.acquire(timeout=5):  # a forked child inherits HELD locked, with no thread left to release it
        return "held by a thread that is not here"
    HELD.release()
    return "free"


def test_a_worker_does_not_inherit_a_lock_another_thread_holds():
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with HELD:
            taken.set()
            release.wait(60)

    holder = threading.Thread(target=hold, daemon=True)
    holder.start()
    assert taken.wait(10)
    try:
        with process_pool(2) as pool:
            got = [f.result(timeout=60) for f in [pool.submit(_take_the_lock) for _ in range(2)]]
    finally:
        release.set()
        holder.join(10)
    assert got == ["free", "free"]
