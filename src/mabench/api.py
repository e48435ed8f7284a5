"""The Python API: the same steps the `mabench` command runs, as functions with typed results.

The CLI, `mabench demo` and the build pipeline's blind check all call these; nothing here prints.

Evaluate a model served by vLLM, judge its open answers, compare runs::

    import mabench

    run = mabench.evaluate("bench.json", "openai:Qwen/Qwen3-VL-8B-Instruct", "runs/qwen",
                           videos="clips/", base_url="http://127.0.0.1:8000/v1")
    print(run.scores.closed_avg if run.scores else "no answers in the benchmark")
    mabench.judge("runs/qwen", ["openai:judge-model"], base_url="http://127.0.0.1:8001/v1")
    scores = mabench.score("runs/qwen")          # the numbers scores.json holds
    rep = mabench.report(["runs/qwen", "runs/random"], "report/")
    print(rep.markdown)

Offline, with a baseline (no server, no clips)::

    >>> import json, tempfile, pathlib, mabench
    >>> from mabench.synth.questions import placeholder_records
    >>> tmp = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (tmp / "bench.json").write_text(json.dumps(placeholder_records(2)))
    >>> res = mabench.evaluate(tmp / "bench.json", "random", tmp / "run", seed=0)
    >>> res.total, res.asked
    (24, 24)
    >>> mabench.open_run(tmp / "run").predictions()["CMAR_0000"].task
    'CMAR'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mabench.evaluation.api import (
    JudgeOutcome,
    PathLike,
    SubmissionScore,
    evaluate,
    evaluate_async,
    judge,
    judge_async,
    score,
    score_file,
)
from mabench.evaluation.rundir import RunDir

__all__ = ["JudgeOutcome", "Report", "RunDir", "SubmissionScore", "build", "evaluate", "evaluate_async", "judge",
           "judge_async", "open_run", "report", "score", "score_file"]


def open_run(path: PathLike) -> RunDir:
    """A run directory made by `evaluate` / `mabench eval`: its config, rows and benchmark.

    >>> run = open_run("runs/qwen")                     # doctest: +SKIP
    >>> run.config()["model"], len(run.predictions())   # doctest: +SKIP
    """
    run = RunDir(path)
    run.config()  # refuses a folder that is not a run, with the reason
    return run


@dataclass
class Report:
    data: dict[str, Any]  # report.json: runs, metrics, CIs, paired tests, breakdowns
    markdown: str  # leaderboard.md
    out: Path
    index: Path | None  # index.html, when written


def report(runs: Sequence[PathLike], out: PathLike, *, key: PathLike | None = None, n_boot: int = 2000,
           seed: int = 0, audit: PathLike | None = None, html: bool = True, videos: PathLike | None = None,
           paper: bool = True, controls: Sequence[PathLike] | None = None) -> Report:
    """Leaderboard (with clip-bootstrap CIs), paired tests, breakdowns; tables, and with `html`
    plots and the HTML report, in `out`. Refuses runs over different benchmarks. `controls`: runs of the
    first run's model under video controls (`mabench eval --control`): adds the reliance section.

    >>> report(["runs/qwen", "runs/random"], "report/").markdown  # doctest: +SKIP
    """
    from mabench.report.leaderboard import build_report, write_tables

    if isinstance(runs, (str, Path)) or not runs:
        raise ValueError("runs: expected a list of run directories, e.g. ['runs/qwen'], got "
                         f"{runs!r}")
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 100:
        raise ValueError(f"n_boot: expected at least 100 bootstrap replicates (as --bootstrap), got {n_boot!r}")
    paths = [Path(r) for r in runs]
    rep = build_report(paths, Path(key) if key else None, n_boot, seed, Path(audit) if audit else None,
                       [Path(c) for c in controls] if controls else None)
    if not paper:
        rep["paper"] = []  # the paper's rows are MA-Bench numbers; not for another benchmark
    md = write_tables(rep, Path(out), paper)
    index = None
    if html:
        from mabench.report.html import write_html_report

        index = write_html_report(rep, paths, Path(out), Path(videos) if videos else None)
    return Report(rep, md, Path(out), index)


def build(clips: PathLike, labels: PathLike, out: PathLike, settings: Any = None,
          log: Callable[[str], None] = lambda m: None) -> dict[str, Any]:
    """Build a benchmark and a training corpus from labelled clips (see `mabench.builder.pipeline`);
    returns the build summary (also in OUT/build.json). `settings`: a `BuildSettings`; its `stems_from` (a
    benchmark file whose CMAR / FMAR / MADU / MARE stems to ask with) and, with `audit`, `reference` (the
    benchmark file QC states and gates the style AUC against) are `mabench build --stems-from / --reference`;
    `corpus_frames` and `exclude_clips` are `--corpus-frames` (the corpus's frames, as `mabench eval` sends them)
    and `--exclude-clips` (clips that never enter the corpus).

    >>> from mabench.builder.pipeline import BuildSettings
    >>> build("clips/", "labels.csv", "built/", BuildSettings(skeletons="skeletons/"))  # doctest: +SKIP
    >>> build("clips/", "labels.csv", "built/", BuildSettings(skeletons="skeletons/", audit=True,
    ...       stems_from="eval_questions.json"))  # doctest: +SKIP
    """
    from mabench.builder.pipeline import BuildSettings
    from mabench.builder.pipeline import build as run_build

    return run_build(clips, labels, out, settings or BuildSettings(), log=log)
