"""The Python API: evaluate -> judge -> score -> report, the same numbers as the CLI's files."""

from __future__ import annotations

import doctest
import json
import subprocess
import sys

import pytest

import mabench
from mabench.data import BenchmarkError
from mabench.evaluation.rundir import RunDir
from mabench.testing.openai_server import Behaviour, FakeOpenAIServer


def test_import_mabench_stays_light():
    r = subprocess.run([sys.executable, "-c", "import sys, mabench; print(sorted(m for m in sys.modules "
                        "if m.startswith(('mabench.', 'numpy', 'openai'))))"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.strip() == "[]", r.stdout + r.stderr


def test_api_names_stay_functions_after_the_subpackages_are_imported():
    import mabench.builder.pipeline  # noqa: F401
    import mabench.report.leaderboard  # noqa: F401
    from mabench.report.leaderboard import build_report

    assert callable(build_report)
    for name in ("evaluate", "judge", "score", "report", "build", "open_run"):
        assert getattr(mabench, name) is getattr(mabench.api, name), name


def test_evaluate_score_report_open_run(tmp_path, bench_file):
    res = mabench.evaluate(bench_file, "random", tmp_path / "r1", seed=1)
    assert res.total == 60 and res.asked == 60 and res.scores is not None
    again = mabench.evaluate(bench_file, "random", tmp_path / "r1", seed=1)  # resumes: nothing to ask
    assert again.asked == 0 and again.skipped == 60
    on_disk = json.loads((tmp_path / "r1" / "scores.json").read_text())
    assert mabench.score(tmp_path / "r1").closed_avg == on_disk["closed_avg"] == res.scores.closed_avg
    sub = mabench.score(tmp_path / "r1" / "submission.json", key=bench_file)
    assert sub.closed_avg == on_disk["closed_avg"]

    mabench.evaluate(bench_file, "prior", tmp_path / "r2", prior_key=bench_file)
    rep = mabench.report([tmp_path / "r1", tmp_path / "r2"], tmp_path / "rep", n_boot=100, html=False)
    assert rep.data["runs"][0]["metrics"]["closed AVG"] == on_disk["closed_avg"]
    assert "| r1 |" in rep.markdown and (tmp_path / "rep" / "leaderboard.md").exists() and rep.index is None

    run = mabench.open_run(tmp_path / "r1")
    assert isinstance(run, RunDir) and len(run.predictions()) == 60 and run.benchmark_sha256()
    with pytest.raises(BenchmarkError, match="no such run directory"):
        mabench.open_run(tmp_path / "nothing")


def test_judge_through_the_api_on_a_real_server(tmp_path, clip_set):
    with FakeOpenAIServer(Behaviour()) as srv:
        res = mabench.evaluate(clip_set / "bench.json", "openai:test-model", tmp_path / "run",
                               videos=clip_set / "clips", base_url=srv.base_url)
    assert res.errors == 0 and res.scores is not None and res.scores.final is None  # not judged yet
    reply = '{"L1": 4, "L2": 3, "L3": 2, "reason": "ok"}'
    with FakeOpenAIServer(Behaviour(model="judge", judge_replies=[reply])) as srv:
        out = mabench.judge(tmp_path / "run", ["openai:judge"], base_url=srv.base_url)
    assert out.result.judged + out.result.empty == 10 and out.result.errors == 0
    assert out.scores.tasks["MADU"].judged == 5 and out.scores.final is not None
    assert json.loads((tmp_path / "run" / "scores.json").read_text())["final"] == out.scores.final


def test_api_docstring_examples_run():
    from mabench import api
    from mabench.evaluation import metrics, tasks

    for mod in (api, metrics, tasks):
        res = doctest.testmod(mod)
        assert res.failed == 0 and res.attempted > 0, mod.__name__
