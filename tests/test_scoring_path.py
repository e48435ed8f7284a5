"""One scoring path: scores.json, the leaderboard, the HTML report and `mabench score` agree.

Four runs over one benchmark, written by hand: complete (one judge), partial (answers missing),
half-judged (half the open answers judged) and multi-judge (two judges that disagree).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from mabench.cli import app
from mabench.data import load_benchmark
from mabench.data.predictions import Prediction
from mabench.evaluation.judge import sha
from mabench.evaluation.results import score_run
from mabench.evaluation.rubrics import JUDGE_PROMPT_VERSION
from mabench.report.html import write_html
from mabench.report.leaderboard import build_report, shown_metrics
from mabench.report.stats import METRICS

CASES = ("complete", "partial", "half_judged", "multi_judge")


def _write_run(run: Path, bench_file: Path, case: str) -> None:
    bench = load_benchmark(bench_file)
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"benchmark": {"path": str(bench_file), "sha256": bench.sha256}}))
    preds, judgments = [], []
    open_qids = [q.qid for q in bench if not q.spec.closed]
    answers = {}
    for i, q in enumerate(bench):
        if case == "partial" and i % 5 == 0:
            continue  # never asked
        if q.spec.closed:
            ans = q.answer if i % 3 else next(c for c in q.spec.choices if c != q.answer)
        else:
            ans = f"the head moves, answer {i}"
            answers[q.qid] = ans
        preds.append(Prediction(q.qid, q.task, q.video, raw_output=ans, pred_answer=ans, method="exact").to_dict())
    for k, qid in enumerate(open_qids):
        if case == "half_judged" and k % 2:
            continue
        task = bench.by_qid[qid].task
        judges = ("judge-a", "judge-b") if case == "multi_judge" else ("judge-a",)
        for n, judge in enumerate(judges):
            scores = {"L1": (k + n) % 6, "L2": (2 * k + 3 * n) % 6, "L3": (k + 1) % 6}
            # bound to the answer it judged (a judgment of another answer is not scored)
            judgments.append({"qid": qid, "task": task, "judge": judge, "prompt_version": JUDGE_PROMPT_VERSION,
                              "scores": scores, "pred_sha": sha(answers.get(qid, ""))})
    # an old rubric's row must count nowhere
    judgments.append({"qid": open_qids[0], "task": bench.by_qid[open_qids[0]].task, "judge": "judge-a",
                      "prompt_version": "old-rubric", "scores": {"L1": 5, "L2": 5, "L3": 5}})
    (run / "predictions.jsonl").write_text("".join(json.dumps(p) + "\n" for p in preds))
    (run / "judgments.jsonl").write_text("".join(json.dumps(j) + "\n" for j in judgments))


def _html_cells(index: Path, name: str) -> list[str]:
    html = index.read_text()
    row = re.search(r"<tr><td>" + re.escape(name) + r"</td>(.*?)</tr>", html).group(1)
    return re.findall(r"<td>(.*?)</td>", row)


@pytest.mark.parametrize("case", CASES)
def test_scores_json_leaderboard_html_and_score_agree(tmp_path, bench_file, case):
    run = tmp_path / case
    _write_run(run, bench_file, case)
    bench = load_benchmark(bench_file)
    scores, _ = score_run(run, bench)
    on_disk = json.loads((run / "scores.json").read_text())
    cols = scores.columns()
    assert on_disk["final"] == cols["final"] and on_disk["closed_avg"] == cols["closed AVG"]

    rep = build_report([run], n_boot=50)
    metrics = rep["runs"][0]["metrics"]
    for m in METRICS:
        assert metrics[m] == cols[m], (case, m)  # the same numbers, not approximately the same
    if case in ("partial", "half_judged"):
        assert cols["final"] is None and metrics["final"] is None  # the old leaderboard printed 75.0 here
    else:
        assert cols["final"] is not None
        assert rep["runs"][0]["ci95"]["final"][0] <= cols["final"] <= rep["runs"][0]["ci95"]["final"][1]

    index = write_html(rep, bench, [run], tmp_path / "html", plots=[])
    cells = _html_cells(index, case)
    shown = shown_metrics(rep)  # a column empty in every row is not shown
    assert all(cols[m] is None for m in METRICS if m not in shown)
    for m, cell in zip(shown, cells, strict=True):
        v = cols[m]
        assert cell.startswith("–" if v is None else f"{v:.2f}"), (case, m, cell)

    res = CliRunner().invoke(app, ["score", str(run / "predictions.jsonl"), "--key", str(bench_file),
                                   "--judgments", str(run / "judgments.jsonl"), "--json", str(tmp_path / "s.json")])
    assert res.exit_code == 0, res.output
    cli = json.loads((tmp_path / "s.json").read_text())
    for t, ts in on_disk["tasks"].items():
        assert cli["tasks"][t]["accuracy"] == ts["accuracy"] and cli["tasks"][t]["dims"] == ts["dims"]
    if case != "partial":  # a submission counts missing answers as wrong and still gets a final score
        assert cli["final"] == on_disk["final"] and cli["open_avg"] == on_disk["open_avg"]


def test_multi_judge_scores_are_the_mean_over_judges(tmp_path, bench_file):
    run = tmp_path / "multi_judge"
    _write_run(run, bench_file, "multi_judge")
    bench = load_benchmark(bench_file)
    scores, extra = score_run(run, bench)
    assert extra["judges"]["names"] == ["judge-a", "judge-b"]
    madu = [q.qid for q in bench if not q.spec.closed]
    # hand-computed MADU L2: k-th open question, judges give (2k) % 6 and (2k + 3) % 6
    expected = [((2 * k) % 6 + (2 * k + 3) % 6) / 2 for k, qid in enumerate(madu) if bench.by_qid[qid].task == "MADU"]
    assert scores.tasks["MADU"].dims["L2"] == pytest.approx(sum(expected) / len(expected))
