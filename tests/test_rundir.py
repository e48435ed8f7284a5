"""The run directory's owner: paths, rows, the writer's lock, and the report's same-benchmark check."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from mabench.cli import app
from mabench.data.predictions import Prediction
from mabench.evaluation.rubrics import JUDGE_PROMPT_VERSION
from mabench.evaluation.rundir import RunDir, RunLocked
from mabench.synth.questions import placeholder_records


def test_rows_are_typed_and_only_the_current_rubric_counts(tmp_path):
    run = RunDir(tmp_path / "r")
    run.path.mkdir()
    run.predictions_path.write_text(
        json.dumps(Prediction("q1", "SAD", "v", raw_output="No", pred_answer="No", method="exact").to_dict()) + "\n"
        + json.dumps(Prediction("q1", "SAD", "v", raw_output="Yes", pred_answer="Yes", method="exact").to_dict())
        + "\n")
    run.judgments_path.write_text("".join(json.dumps(r) + "\n" for r in [
        {"qid": "q2", "task": "MADU", "judge": "j", "prompt_version": "old", "scores": {"L1": 5, "L2": 5, "L3": 5}},
        {"qid": "q2", "task": "MADU", "judge": "j", "prompt_version": JUDGE_PROMPT_VERSION,
         "scores": {"L1": 1, "L2": 2, "L3": 3}}]))
    preds = run.predictions()
    assert isinstance(preds["q1"], Prediction) and preds["q1"].pred_answer == "Yes"  # the last row wins
    assert [r["prompt_version"] for r in run.judgment_rows()] == [JUDGE_PROMPT_VERSION]
    assert len(run.judgment_rows(current_only=False)) == 2
    assert run.judgments()[("q2", "j")]["scores"]["L1"] == 1


def test_a_second_writer_is_refused_in_process_and_across_processes(tmp_path):
    run = RunDir(tmp_path / "r")
    with run.lock("mabench eval"):
        other = subprocess.run([sys.executable, "-c", textwrap.dedent(f"""
            from mabench.evaluation.rundir import RunDir, RunLocked
            try:
                with RunDir({str(run.path)!r}).lock():
                    print("got it")
            except RunLocked as e:
                print("refused:", e)
            """)], capture_output=True, text=True, timeout=60)
        assert other.stdout.startswith("refused:") and "mabench eval (pid" in other.stdout, other.stderr
        assert "use another --out" in other.stdout
        with pytest.raises(RunLocked):
            with RunDir(run.path).lock():
                pass
    with run.lock():  # released: a resume takes it again
        pass


def test_eval_on_a_locked_run_directory_says_so_in_one_line(tmp_path, bench_file):
    out = tmp_path / "run"
    with RunDir(out).lock("mabench eval"):
        r = CliRunner().invoke(app, ["eval", str(bench_file), "--model", "random", "--out", str(out), "--no-progress"])
    assert r.exit_code == 2 and "is in use by mabench eval" in r.output
    assert not (out / "predictions.jsonl").exists()


def _eval(bench, out):
    r = CliRunner().invoke(app, ["eval", str(bench), "--model", "random", "--seed", "1", "--out", str(out),
                                 "--no-progress"])
    assert r.exit_code == 0, r.output


def test_report_refuses_runs_over_different_benchmarks(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(placeholder_records(3, seed=0)))
    other = placeholder_records(3, seed=5)  # same qids, other questions and answers
    b.write_text(json.dumps(other))
    _eval(a, tmp_path / "ra")
    _eval(b, tmp_path / "rb")
    r = CliRunner().invoke(app, ["report", str(tmp_path / "ra"), str(tmp_path / "rb"), "--out", str(tmp_path / "o"),
                                 "--no-html"])
    assert r.exit_code == 2 and "different benchmark files" in r.output
    r = CliRunner().invoke(app, ["report", str(tmp_path / "ra"), str(tmp_path / "rb"), "--key", str(a),
                                 "--out", str(tmp_path / "o"), "--no-html"])
    assert r.exit_code == 2 and "rb asks questions that are not" in r.output


def test_report_accepts_the_same_questions_with_and_without_answers(tmp_path):
    recs = placeholder_records(3, seed=0)
    key, questions = tmp_path / "key.json", tmp_path / "questions.json"
    key.write_text(json.dumps(recs))
    questions.write_text(json.dumps([{k: v for k, v in r.items() if k != "answer"} for r in recs]))
    _eval(key, tmp_path / "ra")
    _eval(questions, tmp_path / "rb")
    r = CliRunner().invoke(app, ["report", str(tmp_path / "ra"), str(tmp_path / "rb"), "--key", str(key),
                                 "--out", str(tmp_path / "o"), "--no-html", "--bootstrap", "100"])
    assert r.exit_code == 0, r.output
