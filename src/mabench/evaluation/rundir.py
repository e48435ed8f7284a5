"""The run directory, with one owner: its paths, its rows, its config, its lock.

A run directory (`mabench eval --out RUN`) holds:

  config.json        resolved settings, package version, the benchmark's path and sha256 (no secrets)
  predictions.jsonl  `Prediction` rows, appended and flushed; the last row per qid wins
  judgments.jsonl    `Judgment` rows, one per (question, judge); only the current rubric's count
  scores.json        written by the one scoring path (`evaluation.results`)
  submission.json    the official submission format
  .lock              held by the process writing here (eval, judge); a second writer is refused

Everything else (runner, judge, results, leaderboard, HTML, CLI, pipeline) goes through `RunDir`
instead of joining file names itself.

>>> run = RunDir("runs/qwen")
>>> run.predictions_path.name, run.judgments_path.name
('predictions.jsonl', 'judgments.jsonl')
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mabench.data.io import Benchmark, BenchmarkError, iter_jsonl, load_benchmark, read_text_utf8, repair_torn_tail
from mabench.data.predictions import SCORING_FIELDS, Prediction, latest_by_qid, read_predictions
from mabench.evaluation.rubrics import JUDGE_PROMPT_VERSION

CONFIG = "config.json"
PREDICTIONS = "predictions.jsonl"
JUDGMENTS = "judgments.jsonl"
SCORES = "scores.json"
SUBMISSION = "submission.json"
LOCK = ".lock"


class RunLocked(RuntimeError):
    """Another process is writing to this run directory."""


@dataclass(frozen=True)
class RunDir:
    """A `mabench eval` run directory (it need not exist yet)."""

    path: Path

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def predictions_path(self) -> Path:
        return self.path / PREDICTIONS

    @property
    def judgments_path(self) -> Path:
        return self.path / JUDGMENTS

    @property
    def scores_path(self) -> Path:
        return self.path / SCORES

    @property
    def submission_path(self) -> Path:
        return self.path / SUBMISSION

    # --- config and benchmark ----------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """config.json; a missing or unreadable one says what the folder should be."""
        if not self.path.is_dir():
            raise BenchmarkError(f"{self.path}: no such run directory; pass a folder made by `mabench eval --out`")
        if not self.config_path.exists():
            raise BenchmarkError(f"{self.path}: no config.json; is this a `mabench eval` run directory? "
                                 "(to score loose predictions, use `mabench score PREDICTIONS --key BENCH`)")
        try:
            cfg = json.loads(read_text_utf8(self.config_path))
        except json.JSONDecodeError as err:
            raise BenchmarkError(f"{self.config_path}: invalid JSON at line {err.lineno}; "
                                 "pass the benchmark with --key") from None
        if not isinstance(cfg, dict):
            raise BenchmarkError(f"{self.config_path}: expected a JSON object; pass the benchmark with --key")
        return cfg

    def benchmark_sha256(self) -> str | None:
        """The sha256 of the benchmark file the run was made with (None for a run without config)."""
        try:
            return (self.config().get("benchmark") or {}).get("sha256")
        except BenchmarkError:
            return None

    def benchmark_path(self) -> Path:
        """The benchmark file the run was made with, as config.json names it."""
        bench = self.config().get("benchmark")
        path = bench.get("path") if isinstance(bench, dict) else None
        if not path:
            raise BenchmarkError(f"{self.config_path} names no benchmark file; pass it with --key BENCH")
        if not Path(path).exists():  # older runs stored the path relative to where eval ran
            raise BenchmarkError(f"{self.path}: the benchmark it was made with ({path}) is not there from here; "
                                 "pass it with --key BENCH")
        return Path(path)

    def benchmark(self, key: str | Path | None = None) -> Benchmark:
        """The questions the run was asked: its benchmark (or `key`) with the run's --tasks / --limit.

        A `key` must ask the questions the run was asked (the same qids, tasks, clips and texts; its
        answers may be new): another benchmark with the same qids would score the run wrongly."""
        bench = load_benchmark(key if key is not None else self.benchmark_path())
        try:
            cfg = self.config()
        except BenchmarkError:
            return bench  # with --key, a run without a readable config is judged on the whole key
        raw_sel = cfg.get("selection")
        sel: dict[str, Any] = raw_sel if isinstance(raw_sel, dict) else {}
        if sel.get("tasks") or sel.get("limit"):
            bench = bench.select(sel.get("tasks"), sel.get("limit"))
        if key is not None:
            self._check_key(bench, cfg, Path(key))
        return bench

    def _check_key(self, bench: Benchmark, cfg: dict[str, Any], key: Path) -> None:
        recorded = cfg["benchmark"].get("questions_sha256") if isinstance(cfg.get("benchmark"), dict) else None
        if recorded is not None and recorded == bench.questions_sha256():
            return
        try:
            own = self.benchmark()  # the run's own file, to name a question that differs
        except BenchmarkError:
            own = None
        if own is None:
            if recorded is None:
                return  # a run from before the hash, its benchmark gone: nothing to compare with
            raise BenchmarkError(f"--key {key}: its questions are not the ones {self.path} was asked (their hash "
                                 "differs from the run's config.json); pass the key of the benchmark the run was made "
                                 "with")
        theirs = {q.qid: (q.task, q.video_id, q.question) for q in bench}
        for q in own:
            if theirs.get(q.qid) != (q.task, q.video_id, q.question):
                what = "is not in it" if q.qid not in theirs else "asks something else there"
                raise BenchmarkError(f"--key {key}: question {q.qid!r} of {self.path} {what}; the key is another "
                                     "benchmark's: pass the key of the benchmark the run was made with")
        if len(theirs) != len(own):
            raise BenchmarkError(f"--key {key}: it has {len(theirs)} questions where {self.path} was asked "
                                 f"{len(own)}; pass the key of the benchmark the run was made with")

    # --- rows --------------------------------------------------------------------------------

    def predictions(self, fields: tuple[str, ...] | None = SCORING_FIELDS) -> dict[str, Prediction]:
        """The latest prediction per qid (only `fields` parsed; None: every field)."""
        if fields is None:
            return latest_by_qid(read_predictions(self.predictions_path))
        return latest_by_qid(read_predictions(self.predictions_path, fields))

    def judgment_rows(self, current_only: bool = True) -> list[dict[str, Any]]:
        """judgments.jsonl rows; by default only those made with this package's rubric version."""
        if not self.judgments_path.exists():
            return []
        rows = [row for _, row in iter_jsonl(self.judgments_path) if isinstance(row, dict)]
        return [r for r in rows if r.get("prompt_version") == JUDGE_PROMPT_VERSION] if current_only else rows

    def judgments(self) -> dict[tuple[str, str], dict[str, Any]]:
        """The latest current-rubric row per (qid, judge)."""
        return {(str(r["qid"]), r["judge"]): dict(r) for r in self.judgment_rows()}

    def repair_tail(self) -> None:
        """Cut a half-written last line (a kill mid-write) so the next append starts a clean line."""
        repair_torn_tail(self.predictions_path)
        repair_torn_tail(self.judgments_path)

    # --- the writer's lock -------------------------------------------------------------------

    @contextmanager
    def lock(self, what: str = "mabench") -> Iterator[None]:
        """Hold the run's write lock; a second writer (another `mabench eval` on the same --out) is
        refused with one line instead of asking every question again beside the first.

        The lock is an OS file lock (released when the process dies, even on kill -9), so a stale
        .lock file never blocks a resume."""
        self.path.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(self.path / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            if err.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise
            # a folder we cannot write to has no writer to race with; the run's own write fails next,
            # naming the file it needed
            yield
            return
        try:
            try:
                _flock(fd)
            except OSError:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
                raise RunLocked(f"{self.path} is in use by {holder}; wait for it to finish, or use another "
                                "--out") from None
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{what} (pid {os.getpid()})".encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the lock


def _flock(fd: int) -> None:
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock, the run goes on unlocked
        return
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
