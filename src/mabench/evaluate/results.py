"""Score a run directory: predictions (+ judgments when present) -> scores.json.

The one place that turns a run's files into its scores; `mabench eval` and `mabench judge` both
end here, so a run is scored the same way whichever stage finished last.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mabench.data.io import Benchmark, write_json
from mabench.data.predictions import SCORING_FIELDS, latest_by_qid, read_predictions
from mabench.evaluate.judge import JUDGE_PROMPT_VERSION, aggregate, agreement, read_judgments
from mabench.evaluate.metrics import Scores, score
from mabench.taxonomy import OPEN_TASKS


def failed_clips(preds) -> dict[str, str]:
    return {p.video: p.error[len("clip: "):] for p in preds.values()
            if p.error and p.error.startswith("clip: ") and p.video}


def score_run(out: Path, bench: Benchmark, write: bool = True) -> tuple[Scores, dict[str, Any]]:
    """Scores of the run in `out` against `bench` (which must have answers)."""
    preds = latest_by_qid(read_predictions(out / "predictions.jsonl", SCORING_FIELDS))
    preds = {q.qid: preds[q.qid] for q in bench if q.qid in preds}
    rows = [r for r in read_judgments(out / "judgments.jsonl") if r.get("prompt_version") == JUDGE_PROMPT_VERSION]
    open_qids = [q.qid for q in bench if q.task in OPEN_TASKS]
    extra: dict[str, Any] = {"failed_clips": failed_clips(preds)}
    judged = None
    if rows and open_qids:
        agg = aggregate(rows, open_qids)
        judged = agg.scores
        extra["judges"] = {"names": agg.judges, "prompt_version": JUDGE_PROMPT_VERSION,
                           "failed": len(agg.failed), "missing": len(agg.missing),
                           "agreement": agreement(rows, agg.judges)}
    s = score(bench, preds, judged)
    if judged is not None and (extra["judges"]["failed"] or extra["judges"]["missing"]):
        s.notes.append(f"{extra['judges']['failed']} open answer(s) failed judging and "
                       f"{extra['judges']['missing']} are not judged yet: no final score; "
                       "run `mabench judge --retry-errors`")
    if write:
        write_json(out / "scores.json", {**s.to_dict(), **extra})
    return s, extra
