"""Uncertainty for benchmark scores: clip-level bootstrap CIs, paired comparisons, McNemar.

Questions of one clip are not independent (same video, same model view of it), so resampling is by
clip: a replicate draws clips with replacement and keeps all of each clip's questions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from mabench.data.io import Benchmark
from mabench.data.predictions import Prediction
from mabench.evaluation.metrics import is_correct, summary_metrics
from mabench.taxonomy import CLOSED_TASKS, OPEN_DIMENSIONS, OPEN_TASKS

DEFAULT_BOOTSTRAP = 2000
CI_LEVEL = 0.95
METRICS = (*CLOSED_TASKS, "closed AVG", *(f"{t} {d}" for t in OPEN_TASKS for d in OPEN_DIMENSIONS[t]),
           "open AVG", "final")


@dataclass
class ClipTable:
    """Per clip: correct / total per closed task, and dimension sums / counts per open task."""

    clips: list[str]
    correct: np.ndarray  # (clips, 6)
    total: np.ndarray  # (clips, 6)
    dim_sum: np.ndarray  # (clips, 6) MADU L1..L3, MARE L1..L3
    dim_n: np.ndarray  # (clips, 6)


def clip_table(bench: Benchmark, preds: Mapping[str, Prediction],
               judged: Mapping[str, Mapping[str, float]] | None = None) -> ClipTable:
    clips = bench.videos
    idx = {c: i for i, c in enumerate(clips)}
    open_cols = [(t, d) for t in OPEN_TASKS for d in OPEN_DIMENSIONS[t]]
    correct = np.zeros((len(clips), len(CLOSED_TASKS)))
    total = np.zeros_like(correct)
    dim_sum = np.zeros((len(clips), len(open_cols)))
    dim_n = np.zeros_like(dim_sum)
    for q in bench:
        i = idx[q.video_id]
        if q.spec.closed:
            j = CLOSED_TASKS.index(q.task)
            total[i, j] += 1
            correct[i, j] += is_correct(preds.get(q.qid), q.answer)
        else:
            for j, (t, d) in enumerate(open_cols):
                if t == q.task:
                    dim_n[i, j] += 1
                    if judged is not None and q.qid in judged:
                        dim_sum[i, j] += judged[q.qid][d]
    return ClipTable(clips, correct, total, dim_sum, dim_n)


def _metrics_from_sums(correct, total, dim_sum, dim_n, have_open: bool) -> dict[str, np.ndarray]:
    """Metric arrays (one value per replicate) from weighted sums, shapes (B, 6): per-replicate
    accuracies and dimension means, then the same formula as scores.json (`summary_metrics`)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        acc = 100.0 * correct / total
        dims = dim_sum / dim_n if have_open else None
    return summary_metrics(acc, dims)


def replicate_weights(n_clips: int, n_boot: int = DEFAULT_BOOTSTRAP, seed: int = 0) -> np.ndarray:
    """(n_boot, n_clips) counts: how often each clip is drawn in each replicate."""
    rng = np.random.default_rng(seed)
    return rng.multinomial(n_clips, np.full(n_clips, 1.0 / n_clips), size=n_boot).astype(float)


def bootstrap_metrics(table: ClipTable, weights: np.ndarray, have_open: bool) -> dict[str, np.ndarray]:
    return _metrics_from_sums(weights @ table.correct, weights @ table.total, weights @ table.dim_sum,
                              weights @ table.dim_n, have_open)


def point_metrics(table: ClipTable, have_open: bool) -> dict[str, float]:
    one = np.ones((1, len(table.clips)))
    return {k: float(v[0]) for k, v in bootstrap_metrics(table, one, have_open).items()}


def percentile_ci(samples: np.ndarray, level: float = CI_LEVEL) -> tuple[float, float]:
    lo, hi = np.nanpercentile(samples, [100 * (1 - level) / 2, 100 * (1 + level) / 2])
    return float(lo), float(hi)


@dataclass
class Paired:
    metric: str
    diff: float  # a - b, on the full data
    ci: tuple[float, float]
    p: float  # two-sided bootstrap p-value of "no difference"


def bootstrap_p(d: np.ndarray) -> float:
    """Two-sided bootstrap p-value of "no difference" from replicate differences `d` (no NaNs)."""
    return float(min(1.0, 2 * min(np.mean(d <= 0), np.mean(d >= 0))))


def paired_bootstrap(a: ClipTable, b: ClipTable, weights: np.ndarray, have_open: bool) -> list[Paired]:
    """Differences a - b with the same clip resamples for both runs (they share the benchmark)."""
    if a.clips != b.clips:
        raise ValueError("paired comparison needs two runs on the same benchmark (same clips)")
    ra, rb = bootstrap_metrics(a, weights, have_open), bootstrap_metrics(b, weights, have_open)
    pa, pb = point_metrics(a, have_open), point_metrics(b, have_open)
    out = []
    for m in ra:
        d = ra[m] - rb[m]
        d = d[~np.isnan(d)]
        if d.size == 0:
            continue
        out.append(Paired(m, pa[m] - pb[m], percentile_ci(d), bootstrap_p(d)))
    return out


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value from the discordant counts b (A right, B wrong) and c."""
    n = b + c
    if n == 0:
        return 1.0
    k = min(b, c)
    tail = sum(math.comb(n, i) for i in range(k + 1)) / 2 ** n
    return min(1.0, 2 * tail)
