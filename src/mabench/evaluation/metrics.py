"""Scores exactly as MA-Bench defines them.

- Closed tasks (CMAR, FMAR, SAD, MAD, MAS, PPR): accuracy in percent over *every* question of the
  task; invalid, failed and (for submissions) missing answers count as wrong.
- Open tasks (MADU, MARE): the mean of each judge dimension L1-L3 (integers 0-5).
- Closed AVG = mean of the 6 accuracies; open AVG = mean of the 6 dimension means (0-5).
- Final = mean of 12 numbers on a 0-100 scale: the 6 accuracies and the 6 dimension means x 20.
- Tier scores (ours, not in the paper): perceptual = mean(CMAR, FMAR), relational = mean(SAD, MAD,
  MAS, PPR), interpretive = mean of the 6 dimension means x 20.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from statistics import fmean
from typing import Any

import numpy as np

from mabench.data.io import Benchmark
from mabench.data.predictions import Prediction
from mabench.evaluation.extract import extract
from mabench.taxonomy import (
    CLOSED_TASKS,
    OPEN_DIMENSIONS,
    OPEN_TASKS,
    OPEN_TO_PERCENT,
    TASK_ORDER,
    TASKS,
    TIERS,
)


@dataclass
class TaskScore:
    task: str
    total: int = 0
    answered: int = 0  # a prediction exists without a request error
    correct: int = 0
    invalid: int = 0  # answered but no valid answer could be extracted
    errors: int = 0  # the request failed (bad clip, server error)
    missing: int = 0  # no prediction at all
    judged: int = 0  # open tasks: questions with judge scores
    accuracy: float | None = None  # percent, closed tasks
    dims: dict[str, float] | None = None  # open tasks: L1..L3 means (0-5)

    @property
    def coverage(self) -> float:
        return self.answered / self.total if self.total else 0.0

    @property
    def invalid_rate(self) -> float:
        return self.invalid / self.total if self.total else 0.0


@dataclass
class LabelAccuracy:
    """MARE: the labels a prediction concludes with vs the reference's (no LLM involved)."""

    total: int
    coarse_correct: int
    fine_correct: int
    parsed: int  # predictions from which a fine label could be read

    @property
    def coarse(self) -> float:
        return 100.0 * self.coarse_correct / self.total if self.total else 0.0

    @property
    def fine(self) -> float:
        return 100.0 * self.fine_correct / self.total if self.total else 0.0


@dataclass
class Scores:
    tasks: dict[str, TaskScore]
    closed_avg: float | None = None
    open_avg: float | None = None  # 0-5
    final: float | None = None  # 0-100
    tiers: dict[str, float | None] = field(default_factory=dict)
    partial: bool = False
    notes: list[str] = field(default_factory=list)
    mare_labels: LabelAccuracy | None = None

    def to_dict(self) -> dict[str, Any]:
        tasks = {}
        for t, ts in self.tasks.items():
            d = asdict(ts)
            d["coverage"] = ts.coverage
            d["invalid_rate"] = ts.invalid_rate
            tasks[t] = d
        return {
            "tasks": tasks,
            "closed_avg": self.closed_avg,
            "open_avg": self.open_avg,
            "final": self.final,
            "tiers": self.tiers,
            "partial": self.partial,
            "notes": self.notes,
            "mare_labels": None if self.mare_labels is None else {
                **asdict(self.mare_labels), "coarse_accuracy": self.mare_labels.coarse,
                "fine_accuracy": self.mare_labels.fine},
        }

    def columns(self) -> dict[str, float | None]:
        """The paper's column order: CMAR..PPR, closed AVG, MADU L1-L3, MARE L1-L3, open AVG, final."""
        cols: dict[str, float | None] = {}
        for t in CLOSED_TASKS:
            cols[t] = self.tasks[t].accuracy if t in self.tasks else None
        cols["closed AVG"] = self.closed_avg
        for t in OPEN_TASKS:
            for dim in OPEN_DIMENSIONS[t]:
                ts = self.tasks.get(t)
                cols[f"{t} {dim}"] = ts.dims.get(dim) if ts and ts.dims else None
        cols["open AVG"] = self.open_avg
        cols["final"] = self.final
        return cols


OPEN_COLUMNS: tuple[str, ...] = tuple(f"{t} {d}" for t in OPEN_TASKS for d in OPEN_DIMENSIONS[t])


def summary_metrics(acc: np.ndarray, dims: np.ndarray | None) -> dict[str, np.ndarray]:
    """The one formula behind every score mabench prints: the 6 closed accuracies (percent) and
    the 6 open dimension means (0-5) -> every leaderboard column, one value per row.

    Rows are one run (shape (1, 6)) or bootstrap replicates (B, 6); scores.json, the leaderboard,
    the HTML report and `mabench score` all go through here, so they cannot disagree.

    >>> m = summary_metrics(np.array([[50.0] * 6]), np.array([[2.5] * 6]))
    >>> float(m["closed AVG"][0]), float(m["open AVG"][0]), float(m["final"][0])
    (50.0, 2.5, 50.0)
    """
    acc = np.asarray(acc, dtype=float)
    out = {t: acc[:, j] for j, t in enumerate(CLOSED_TASKS)}
    with np.errstate(invalid="ignore", divide="ignore"):
        out["closed AVG"] = acc.mean(axis=1)
        if dims is not None:
            dims = np.asarray(dims, dtype=float)
            out.update({c: dims[:, k] for k, c in enumerate(OPEN_COLUMNS)})
            out["open AVG"] = dims.mean(axis=1)
            # final: the mean of the 12 numbers on a 0-100 scale (not a hard-coded /12: the counts come
            # from the task table)
            out["final"] = np.concatenate([acc, OPEN_TO_PERCENT * dims], axis=1).mean(axis=1)
    return out


def final_score(accuracies: Mapping[str, float], dim_means: Mapping[str, Mapping[str, float]]) -> float:
    """Mean of the 6 closed accuracies (percent) and the 6 open dimension means x 20."""
    acc = np.array([[accuracies[t] for t in CLOSED_TASKS]])
    dims = np.array([[dim_means[t][d] for t in OPEN_TASKS for d in OPEN_DIMENSIONS[t]]])
    return float(summary_metrics(acc, dims)["final"][0])


def is_correct(pred: Prediction | None, answer: str | None) -> bool:
    return pred is not None and pred.error is None and pred.pred_answer == answer


# Methods of strategies (`evaluation.strategies`) whose invalid answer is final: `cot` reads only the
# last line, `vote:N` with a tie has no answer.
NO_REEXTRACT = ("final_line", "vote")


def normalize_prediction(pred: Prediction, question) -> Prediction:
    """Fill `pred_answer` / `method` from the raw output (or normalise a given pred_answer)."""
    if pred.error is not None:
        return pred
    source = pred.pred_answer if pred.pred_answer is not None else pred.raw_output
    if pred.method is not None and pred.pred_answer is not None:
        return pred  # extracted by the runner; keep its record of how
    if pred.method is not None and pred.method.startswith(NO_REEXTRACT):
        return pred  # a strategy found no valid answer on purpose: the whole reply must not be searched
    ex = extract(source, question.task, question.options)
    pred.pred_answer, pred.method, pred.reason = ex.answer, ex.method, ex.reason
    return pred


def score(
    bench: Benchmark,
    preds: Mapping[str, Prediction],
    judgments: Mapping[str, Mapping[str, float]] | None = None,
    missing_is_wrong: bool = False,
) -> Scores:
    """Score `preds` (by qid) against the answers in `bench`.

    `judgments` maps an open question's qid to its dimension scores {"L1": .., "L2": .., "L3": ..}.
    With `missing_is_wrong` (scoring a submission) unanswered questions are wrong and the final
    score is still given; otherwise (an unfinished run) the scores are marked partial and no final
    score is given.
    """
    tasks: dict[str, TaskScore] = {}
    dim_sums: dict[str, dict[str, float]] = {}
    for q in bench:
        ts = tasks.setdefault(q.task, TaskScore(q.task))
        ts.total += 1
        pred = preds.get(q.qid)
        if pred is None:
            ts.missing += 1
        elif pred.error is not None:
            ts.errors += 1
        else:
            ts.answered += 1
            if pred.pred_answer is None:
                ts.invalid += 1
        if q.spec.closed:
            if q.answer is None:
                raise ValueError(f"question {q.qid} has no answer in the key; pass a key with answers")
            if is_correct(pred, q.answer):
                ts.correct += 1
        elif judgments is not None and q.qid in judgments:
            ts.judged += 1
            sums = dim_sums.setdefault(q.task, dict.fromkeys(OPEN_DIMENSIONS[q.task], 0.0))
            for dim in sums:
                sums[dim] += float(judgments[q.qid][dim])

    notes: list[str] = []
    for t, ts in tasks.items():
        if TASKS[t].closed:
            ts.accuracy = 100.0 * ts.correct / ts.total
        elif ts.judged:
            ts.dims = {d: s / ts.total for d, s in dim_sums[t].items()}
    failed = sum(1 for q in bench if (p := preds.get(q.qid)) is not None and p.request_failed)
    if failed and not missing_is_wrong:  # too many of them and the run marks its scores partial (runner)
        notes.append(f"{failed} request(s) failed and count as wrong; re-run the same `mabench eval` with "
                     "--retry-errors to ask them again")
    missing = sum(ts.missing for ts in tasks.values())
    if missing:
        notes.append(f"{missing} question(s) have no answer" +
                     (" and count as wrong" if missing_is_wrong else ""))
    unjudged = [t for t in OPEN_TASKS if t in tasks and tasks[t].judged < tasks[t].total]
    if unjudged:
        notes.append(f"open tasks not (fully) judged: {', '.join(unjudged)}; run `mabench judge`")
    absent = [t for t in TASK_ORDER if t not in tasks]
    if absent:
        notes.append(f"tasks not in the benchmark: {', '.join(absent)}")

    s = Scores(tasks={t: tasks[t] for t in TASK_ORDER if t in tasks}, notes=notes)
    s.partial = bool(unjudged) or (missing > 0 and not missing_is_wrong)
    open_dims = {t: d for t in OPEN_TASKS if t in tasks and (d := tasks[t].dims)}
    have_dims = len(open_dims) == len(OPEN_TASKS)
    if all(t in tasks for t in CLOSED_TASKS):
        acc = np.array([[tasks[t].accuracy for t in CLOSED_TASKS]], dtype=float)
        dims = np.array([[open_dims[t][d] for t in OPEN_TASKS for d in OPEN_DIMENSIONS[t]]]) if have_dims else None
        summary = summary_metrics(acc, dims)
        s.closed_avg = float(summary["closed AVG"][0])
        if dims is not None:
            s.open_avg = float(summary["open AVG"][0])
            if not s.partial:
                s.final = float(summary["final"][0])
    elif have_dims:
        s.open_avg = fmean(v for d in open_dims.values() for v in d.values())
    perceptual = [a for t in CLOSED_TASKS if TASKS[t].tier == TIERS[0] and t in tasks
                  and (a := tasks[t].accuracy) is not None]
    relational = [a for t in CLOSED_TASKS if TASKS[t].tier == TIERS[1] and t in tasks
                  and (a := tasks[t].accuracy) is not None]
    s.tiers = {
        TIERS[0]: fmean(perceptual) if perceptual else None,
        TIERS[1]: fmean(relational) if relational else None,
        TIERS[2]: s.open_avg * OPEN_TO_PERCENT if s.open_avg is not None else None,
    }
    s.mare_labels = mare_label_accuracy(bench, preds)
    return s


def mare_label_accuracy(bench: Benchmark, preds: Mapping[str, Prediction]) -> LabelAccuracy | None:
    """Coarse and fine label accuracy of MARE answers over every MARE question with a reference."""
    from mabench.evaluation.labels import parse_mare_labels

    questions = [q for q in bench if q.task == "MARE" and q.answer]
    if not questions:
        return None
    acc = LabelAccuracy(len(questions), 0, 0, 0)
    for q in questions:
        ref = parse_mare_labels(q.answer)
        p = preds.get(q.qid)
        got = parse_mare_labels(p.pred_answer if p is not None and p.error is None else None)
        acc.parsed += got.fine is not None
        acc.coarse_correct += got.coarse is not None and got.coarse == ref.coarse
        acc.fine_correct += got.fine is not None and got.fine == ref.fine
    return acc
