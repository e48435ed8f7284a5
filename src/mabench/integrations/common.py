"""What every harness integration calls: mabench's own benchmark loading, frame sampling, chat turn,
answer extraction, judge prompts and scoring formula, as plain synchronous functions.

A harness sample built from these is asked exactly what `mabench eval` asks (same system prompt, same
user text, the same JPEG frames byte for byte) and scored exactly as `mabench eval` / `mabench judge`
score it, so scores agree across harnesses by construction.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from mabench.data.io import Benchmark, load_benchmark
from mabench.data.records import Question
from mabench.evaluation.extract import Extraction
from mabench.evaluation.judge import DIMS, parse_judge_reply
from mabench.evaluation.metrics import summary_metrics
from mabench.evaluation.rubrics import judge_user_prompt
from mabench.evaluation.run_setup import resolve_clip
from mabench.evaluation.tasks import task
from mabench.taxonomy import CLOSED_TASKS, OPEN_DIMENSIONS, OPEN_TASKS, OPEN_TO_PERCENT, TASKS, TIERS
from mabench.video.cache import data_url
from mabench.video.decode import SampledFrames, sample_frames
from mabench.video.sampling import SamplingConfig

__all__ = ["DIMS", "closed_summary", "extract_answer", "frame_urls", "frame_images", "judge_turn", "load_questions",
           "open_summary", "parse_judge_reply", "sampling_config", "turn"]

# Clips whose sampled frames stay decoded: a clip's 12 questions arrive close together in every harness.
FRAME_LRU_CLIPS = 32


def load_questions(benchmark: str | Path, tasks: Iterable[str] | None = None) -> list[Question]:
    """The benchmark's questions (official JSON or JSONL, any variant `mabench eval` reads), clip-major,
    only `tasks` when given."""
    bench: Benchmark = load_benchmark(benchmark)
    return bench.select(list(tasks) if tasks else None).clip_major()


def sampling_config(strategy: str = "uniform", frames: int = 8, fps: float = 2.0,
                    max_side: int | None = None, max_pixels: int | None = None) -> SamplingConfig:
    """`mabench eval`'s frame settings (`--sampling`, `--frames`, `--fps`, sizes); defaults are its defaults.
    `kit`: the official runner's frames (OpenCV, its stride, full resolution, JPEG 95); the request
    around them is the harness's own."""
    if strategy == "kit":
        from mabench.evaluation.protocol import KIT_SAMPLING

        return KIT_SAMPLING
    base = SamplingConfig()
    return SamplingConfig(strategy=strategy, num_frames=frames, fps=fps,
                          max_side=base.max_side if max_side is None else max_side,
                          max_pixels=base.max_pixels if max_pixels is None else max_pixels)


def clip_file(videos: str | Path, video: str) -> Path:
    """The clip of a benchmark video name inside `videos` (the same rule and safety check as eval)."""
    return resolve_clip(Path(videos), video)


@lru_cache(maxsize=FRAME_LRU_CLIPS)
def _sampled(path: str, mtime_ns: int, cfg: SamplingConfig) -> SampledFrames:  # noqa: ARG001 (cache key)
    frames = sample_frames(path, cfg)
    frames.data_urls = [data_url(j) for j in frames.jpegs]
    return frames


def sampled_frames(videos: str | Path, video: str, cfg: SamplingConfig | None = None) -> SampledFrames:
    """The clip's frames as `mabench eval` samples and encodes them (raises `VideoError` for a bad clip)."""
    path = clip_file(videos, video)
    mtime = path.stat().st_mtime_ns if path.exists() else 0
    return _sampled(str(path), mtime, cfg or SamplingConfig())


def frame_urls(videos: str | Path, video: str, cfg: SamplingConfig | None = None) -> list[str]:
    """JPEG data URLs, byte for byte the `image_url`s `mabench eval` sends for this clip."""
    return list(sampled_frames(videos, video, cfg).data_urls)


def frame_images(videos: str | Path, video: str, cfg: SamplingConfig | None = None) -> list[Any]:
    """The same frames as PIL images (for harnesses that take images, not URLs)."""
    from PIL import Image

    return [Image.open(io.BytesIO(j)).convert("RGB") for j in sampled_frames(videos, video, cfg).jpegs]


def turn(q: Question, prompts: Mapping[str, str] | None = None) -> tuple[str, str]:
    """(system prompt, user text) that `mabench eval` sends for `q` (the task registry's chat turn)."""
    return task(q.task).turn(q.question, prompts)


def extract_answer(q: Question, output: str | None) -> Extraction:
    """The answer in a model's reply and how it was found: `mabench eval`'s extraction."""
    return task(q.task).extract(output, q.options)


def judge_turn(q: Question, prediction: str) -> tuple[str, str]:
    """(system, user) of `mabench judge`'s request for an open answer (rubric `ma-judge-v1`)."""
    if q.answer is None:
        raise ValueError(f"{q.qid}: no reference answer to judge against")
    return task(q.task).judge_prompt(), judge_user_prompt(q.question, q.answer, prediction)


def _mean(xs: Sequence[float]) -> float | None:
    return float(np.mean(xs)) if xs else None


def closed_summary(correct: Mapping[str, Sequence[bool]]) -> dict[str, float]:
    """Per-task accuracy (percent) and tier scores from right/wrong per question, task by task.
    Closed AVG only when all six tasks are there (it is their mean, `metrics.summary_metrics`)."""
    acc = {t: 100.0 * float(np.mean(v)) for t, v in correct.items() if t in CLOSED_TASKS and len(v)}
    out: dict[str, float] = dict(acc)
    if all(t in acc for t in CLOSED_TASKS):
        out["closed AVG"] = float(summary_metrics(np.array([[acc[t] for t in CLOSED_TASKS]]), None)["closed AVG"][0])
    for tier in TIERS[:2]:
        vals = [acc[t] for t in CLOSED_TASKS if TASKS[t].tier == tier and t in acc]
        if vals and len(vals) == sum(TASKS[t].tier == tier for t in CLOSED_TASKS):
            out[tier] = float(np.mean(vals))
    return out


def open_summary(dims: Mapping[str, Sequence[Mapping[str, float]]]) -> dict[str, float]:
    """Per-dimension means (0-5) of judged answers, open AVG and the interpretive tier (x 20), from
    each open task's judgments ({"L1": 3, "L2": 2, "L3": 4} per answer)."""
    out: dict[str, float] = {}
    for t in OPEN_TASKS:
        for d in OPEN_DIMENSIONS[t]:
            m = _mean([float(j[d]) for j in dims.get(t, ())])
            if m is not None:
                out[f"{t} {d}"] = m
    cols = [f"{t} {d}" for t in OPEN_TASKS for d in OPEN_DIMENSIONS[t]]
    if all(c in out for c in cols):
        out["open AVG"] = float(np.mean([out[c] for c in cols]))
        out[TIERS[2]] = OPEN_TO_PERCENT * out["open AVG"]
    return out
