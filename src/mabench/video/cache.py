"""The per-run frame cache: each clip is decoded and encoded once, shared by all its questions.

Cached frames hold their JPEGs as base64 data URLs only (what requests need); `jpegs` is emptied.

Two levels: an in-memory LRU bounded in MB, and an optional on-disk cache keyed by the clip's
absolute path, size and mtime plus every sampling setting. Concurrent requests for the same clip
wait for one decode; a clip that fails is remembered as failed (its questions all get the error,
and it is not decoded again). Whatever ends a decode (an error of any kind, a cancellation) settles
it for every waiter: nobody waits on a decode that will never finish.

The disk cache is checked before a run (`check_disk_cache`: one line when the folder cannot be
written); a write that fails later (the disk filled up) turns the disk cache off for the rest of the
run (`disk_error` says why) instead of failing the clip, whose frames are already decoded.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mabench import defaults
from mabench.data.io import atomic_write_text
from mabench.video.decode import SampledFrames, VideoError, sample_frames
from mabench.video.sampling import SamplingConfig

DEFAULT_MEMORY_MB = defaults.FRAME_CACHE_MB  # ~80 clips of 8 frames at 640 px; only the few clips in flight are needed
DISK_FORMAT = 1


@dataclass
class CacheStats:
    decodes: int = 0  # clips actually decoded (the thing this cache exists to keep low)
    memory_hits: int = 0
    disk_hits: int = 0
    failures: int = 0


def data_url(jpeg: bytes) -> str:
    return "data:image/jpeg;base64," + base64.b64encode(jpeg).decode("ascii")


class _DecodeAbandoned(Exception):
    """The task decoding a clip was cancelled before it finished; whoever waits for it decodes it."""


class FrameCacheError(OSError):
    """The on-disk frame cache folder cannot be used; the message says why and what to do."""


def check_disk_cache(disk_dir: str | Path) -> None:
    """Refuse, in one line, a --frame-cache folder that cannot be written (a file, read-only, full)."""
    d = Path(disk_dir)
    probe = d / f".mabench-write-check-{os.getpid()}"
    try:
        d.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"x" * 4096)
    except OSError as err:
        what = "is a file, not a folder" if d.exists() and not d.is_dir() else (err.strerror or str(err)).lower()
        raise FrameCacheError(f"--frame-cache {d}: cannot write there ({what}); choose a writable folder "
                              "or leave --frame-cache out") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


class FrameCache:
    def __init__(self, cfg: SamplingConfig, memory_mb: float = DEFAULT_MEMORY_MB,
                 disk_dir: str | Path | None = None, workers: int | None = None):
        self.cfg = cfg
        self.limit = int(memory_mb * 1024 * 1024)
        self.disk_dir = Path(disk_dir) if disk_dir else None
        self.stats = CacheStats()
        self._lru: OrderedDict[str, SampledFrames] = OrderedDict()
        self._bytes = 0
        self._inflight: dict[str, asyncio.Future] = {}
        self._failed: dict[str, str] = {}
        self._keys: dict[str, str] = {}  # path -> key: resolve() and stat() once per clip, not per question
        self.disk_error: str | None = None  # why disk writes stopped, when they did
        self._pool = ThreadPoolExecutor(max_workers=workers or min(4, os.cpu_count() or 1),
                                        thread_name_prefix="mabench-decode")

    def key(self, path: Path) -> str:
        st = path.stat()
        raw = f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{self.cfg.key()}|v{DISK_FORMAT}"
        return hashlib.sha256(raw.encode()).hexdigest()[:32]

    async def get(self, path: str | Path) -> SampledFrames:
        """The clip's frames, with `data_urls` filled; raises VideoError for a bad clip."""
        path = Path(path)
        if str(path) in self._failed:
            raise VideoError(self._failed[str(path)])
        try:
            key = self._keys.get(str(path)) or self._keys.setdefault(str(path), self.key(path))
        except OSError:
            msg = f"{path}: clip not found"
            self._failed[str(path)] = msg
            raise VideoError(msg) from None
        if key in self._lru:
            self._lru.move_to_end(key)
            self.stats.memory_hits += 1
            return self._lru[key]
        if key in self._inflight:
            try:
                return await asyncio.shield(self._inflight[key])
            except _DecodeAbandoned:  # the task decoding it was cancelled (not this one): decode here
                return await self.get(path)
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self._inflight[key] = fut
        try:
            frames = await asyncio.get_running_loop().run_in_executor(self._pool, self._load, path, key)
        except VideoError as err:
            self.stats.failures += 1
            self._failed[str(path)] = str(err)
            fut.set_exception(err)
            fut.exception()  # mark retrieved: waiters re-raise it, nobody warns
            raise
        except Exception as err:  # anything else (a bug, memory): the waiters get it too, never a hang
            fut.set_exception(VideoError(f"{path}: {type(err).__name__}: {err}"))
            fut.exception()
            raise
        except BaseException:  # cancelled: the waiters decode it themselves (a CancelledError they get is
            fut.set_exception(_DecodeAbandoned())  # always their own cancellation)
            fut.exception()
            raise
        finally:
            self._inflight.pop(key, None)
        self._put(key, frames)
        fut.set_result(frames)
        return frames

    def _load(self, path: Path, key: str) -> SampledFrames:
        if self.disk_dir:
            cached = self._read_disk(key)
            if cached is not None:
                self.stats.disk_hits += 1
                return cached
        self.stats.decodes += 1
        frames = sample_frames(path, self.cfg)
        frames.data_urls = [data_url(j) for j in frames.jpegs]
        if self.disk_dir and self.disk_error is None:
            try:
                self._write_disk(key, frames)
            except OSError as err:  # the frames are good; only caching them failed
                self.disk_error = f"{err.filename or self.disk_dir}: {(err.strerror or str(err)).lower()}"
        frames.jpegs = []  # the data URLs carry the same bytes; keep one copy in memory
        return frames

    def _put(self, key: str, frames: SampledFrames) -> None:
        self._lru[key] = frames
        self._bytes += frames.nbytes
        while self._bytes > self.limit and len(self._lru) > 1:
            _, old = self._lru.popitem(last=False)
            self._bytes -= old.nbytes

    def _disk_path(self, key: str) -> Path:
        assert self.disk_dir is not None
        return self.disk_dir / key[:2] / f"{key}.json"

    def _read_disk(self, key: str) -> SampledFrames | None:
        p = self._disk_path(key)
        try:
            d = json.loads(p.read_text())
            if d.get("format") != DISK_FORMAT:
                return None
            urls = ["data:image/jpeg;base64," + s for s in d["jpegs"]]
            return SampledFrames([], d["timestamps"], d["indices"], d["width"], d["height"],
                                 d["total_frames"], d["duration"], urls)
        except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
            return None  # absent or damaged (not JSON, wrong types, missing fields): decode again

    def _write_disk(self, key: str, f: SampledFrames) -> None:
        d = {"format": DISK_FORMAT, "jpegs": [u.split(",", 1)[1] for u in f.data_urls],
             "timestamps": f.timestamps, "indices": f.indices, "width": f.width, "height": f.height,
             "total_frames": f.total_frames, "duration": f.duration}
        atomic_write_text(self._disk_path(key), json.dumps(d))

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
