"""Score a run directory: predictions (+ judgments when present) -> scores.json.

The one place that turns a run's files into its scores; `mabench eval` and `mabench judge` both
end here, so a run is scored the same way whichever stage finished last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mabench import defaults
from mabench.data.io import Benchmark, BenchmarkError, write_json
from mabench.data.predictions import Prediction
from mabench.evaluation.judge import JUDGE_PROMPT_VERSION, aggregate, agreement, bound_rows
from mabench.evaluation.metrics import Scores, score
from mabench.evaluation.rundir import RunDir
from mabench.taxonomy import OPEN_TASKS


def run_config(run: Path) -> dict[str, Any]:
    """A run directory's config.json (see `RunDir.config`)."""
    return RunDir(run).config()


def run_benchmark_path(run: Path) -> Path:
    """The benchmark file a run was made with (see `RunDir.benchmark_path`)."""
    return RunDir(run).benchmark_path()


def load_run_benchmark(run: Path, key: Path | None = None) -> Benchmark:
    """The questions a run was asked (see `RunDir.benchmark`)."""
    return RunDir(run).benchmark(key)


def failed_clips(preds) -> dict[str, str]:
    return {p.video: p.error[len("clip: "):] for p in preds.values()
            if p.error and p.error.startswith("clip: ") and p.video}


def current_judgments(rows: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Judgment rows made with this package's rubric (older prompt versions do not count)."""
    return [r for r in rows if r.get("prompt_version") == JUDGE_PROMPT_VERSION]


@dataclass
class RunScore:
    """A run scored against a benchmark: what scores.json, the leaderboard and the HTML report show.

    `judged` maps each fully judged open qid to its dimension means over the judges (None: no judge
    has run); `extra` is what scores.json adds beside the scores (failed clips, judges, agreement).
    """

    preds: dict[str, Prediction]
    judged: dict[str, dict[str, float]] | None
    scores: Scores
    extra: dict[str, Any]


def score_predictions(bench: Benchmark, preds: Mapping[str, Prediction],
                      judgment_rows: Iterable[Mapping[str, Any]], missing_is_wrong: bool = False) -> RunScore:
    """The one scoring path: predictions + judgment rows -> `RunScore` (a run directory, the
    leaderboard, `mabench score`). `missing_is_wrong`: a submission, see `metrics.score`."""
    preds = {q.qid: preds[q.qid] for q in bench if q.qid in preds}
    rows = current_judgments(judgment_rows)
    open_qids = [q.qid for q in bench if q.task in OPEN_TASKS]
    extra: dict[str, Any] = {"failed_clips": failed_clips(preds)}
    judged = None
    if rows and open_qids:
        judges = sorted({str(r["judge"]) for r in rows})
        # only judgments of the answers and references as they are now: an answer re-asked after
        # judging, or another key, is not scored with an old judgment
        rows, stale = bound_rows(rows, bench, preds)
        agg = aggregate(rows, open_qids, judges)
        judged = agg.scores
        extra["judges"] = {"names": agg.judges, "prompt_version": JUDGE_PROMPT_VERSION,
                           "failed": len(agg.failed), "missing": len(agg.missing), "stale": stale,
                           "agreement": agreement(rows, agg.judges)}
    s = score(bench, preds, judged, missing_is_wrong=missing_is_wrong)
    if judged is not None and (extra["judges"]["failed"] or extra["judges"]["missing"]):
        stale = extra["judges"]["stale"]
        s.notes.append(f"{extra['judges']['failed']} open answer(s) failed judging and "
                       f"{extra['judges']['missing']} still need judging"
                       + (f" ({stale} judgment(s) are of an earlier answer or another key)" if stale else "")
                       + ": no final score; run `mabench judge --retry-errors`")
    return RunScore(preds, judged, s, extra)


def request_tally(preds: Mapping[str, Prediction]) -> tuple[int, list[str]]:
    """(requests sent, the errors of those that failed): a bad clip's questions were never a request."""
    sent = sum(1 for p in preds.values() if p.error is None or p.request_failed)
    return sent, [p.error for p in preds.values() if p.request_failed and p.error is not None]


def failed_share_note(preds: Mapping[str, Prediction], max_share: float) -> str | None:
    """A note when more than `max_share` of a run's requests failed (or all did): its scores are then
    partial, with no final score, wherever the run is scored (eval, judge, report)."""
    sent, errors = request_tally(preds)
    failed = len(errors)
    if failed and (failed == sent or failed > max_share * sent):
        return (f"{failed} of {sent} requests failed, more than --max-error-share {max_share:g}: partial scores; "
                "fix the cause and re-run `mabench eval` with --retry-errors")
    return None


def score_run_dir(out: Path | RunDir, bench: Benchmark) -> RunScore:
    """Read the run in `out` and score it against `bench` (which must have answers). More failed
    requests than the run's --max-error-share make its scores partial (no final)."""
    run = out if isinstance(out, RunDir) else RunDir(out)
    r = score_predictions(bench, run.predictions(), run.judgment_rows())
    try:
        runner = run.config().get("runner")
    except BenchmarkError:
        runner = None
    share = runner.get("max_error_share") if isinstance(runner, dict) else None
    note = failed_share_note(r.preds, share if isinstance(share, (int, float)) else defaults.MAX_ERROR_SHARE)
    if note is not None:
        r.scores.partial, r.scores.final = True, None
        r.scores.notes.append(note)
    return r


def score_run(out: Path, bench: Benchmark, write: bool = True) -> tuple[Scores, dict[str, Any]]:
    """Scores of the run in `out` against `bench` (which must have answers); writes scores.json."""
    r = score_run_dir(out, bench)
    if write:
        write_json(RunDir(out).scores_path, {**r.scores.to_dict(), **r.extra})
    return r.scores, r.extra
