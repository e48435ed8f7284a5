import json
import subprocess
import sys

import pytest

from mabench.data import load_benchmark
from mabench.data.predictions import Prediction, make_submission, read_answers_file
from mabench.evaluation.metrics import final_score, normalize_prediction, score


def test_final_score_hand_computed():
    acc = {"CMAR": 60.0, "FMAR": 40.0, "SAD": 55.0, "MAD": 52.5, "MAS": 48.0, "PPR": 51.0}
    dims = {"MADU": {"L1": 1.0, "L2": 0.5, "L3": 0.75}, "MARE": {"L1": 2.0, "L2": 1.5, "L3": 0.25}}
    # by hand: closed sum = 306.5; open means x20 = 20 + 10 + 15 + 40 + 30 + 5 = 120
    # final = (306.5 + 120) / 12 = 35.541666...
    assert abs(final_score(acc, dims) - 426.5 / 12) < 1e-9
    assert abs(final_score(acc, dims) - 35.541666666666664) < 1e-9


def _preds_all_correct(bench, wrong=(), drop=()):
    out = {}
    for q in bench:
        if q.qid in drop:
            continue
        ans = q.answer
        if q.qid in wrong:
            ans = "No" if ans == "Yes" else "Yes" if ans == "No" else ("A" if ans != "A" else "B")
        out[q.qid] = Prediction(q.qid, q.task, q.video, raw_output=ans)
    return out


def test_score_counts_invalid_errors_and_missing(bench_file):
    bench = load_benchmark(bench_file)
    qs = {t: [q for q in bench if q.task == t] for t in ("CMAR", "SAD")}
    preds = _preds_all_correct(bench, wrong={qs["SAD"][0].qid}, drop={qs["SAD"][1].qid})
    preds[qs["SAD"][2].qid].raw_output = "Yes and no"  # invalid
    preds[qs["CMAR"][0].qid].error = "clip unreadable"
    preds = {k: normalize_prediction(p, bench.by_qid[k]) for k, p in preds.items()}
    judg = {q.qid: {"L1": 5, "L2": 4, "L3": 3} for q in bench if not q.spec.closed}

    s = score(bench, preds, judg)
    sad = s.tasks["SAD"]
    assert (sad.total, sad.answered, sad.missing, sad.invalid) == (10, 9, 1, 1)
    assert sad.correct == 7 and sad.accuracy == 70.0
    assert s.tasks["CMAR"].errors == 1 and s.tasks["CMAR"].accuracy == 80.0
    assert s.partial and s.final is None  # an unfinished run gives no final score

    s2 = score(bench, preds, judg, missing_is_wrong=True)
    assert not s2.partial and s2.final is not None
    assert s2.tasks["MADU"].dims == {"L1": 5.0, "L2": 4.0, "L3": 3.0}
    assert s2.open_avg == pytest.approx(4.0)
    accs = [80.0, 100.0, 70.0, 100.0, 100.0, 100.0]
    assert s2.closed_avg == pytest.approx(sum(accs) / 6)
    assert s2.final == pytest.approx((sum(accs) + 20 * (5 + 4 + 3) * 2) / 12)
    assert s2.tiers["Perceptual recognition"] == pytest.approx(90.0)

    s3 = score(bench, preds)  # no judgments: open not judged, no final score
    assert s3.final is None and s3.open_avg is None and any("judge" in n for n in s3.notes)


def test_submission_round_trip(bench_file, tmp_path):
    bench = load_benchmark(bench_file)
    preds = {k: normalize_prediction(p, bench.by_qid[k]) for k, p in _preds_all_correct(bench).items()}
    sub = make_submission(preds, {"CMAR": "Answer with one letter."})
    p = tmp_path / "submission.json"
    p.write_text(json.dumps(sub))
    back, prompts = read_answers_file(p)
    assert prompts == {"CMAR": "Answer with one letter."}
    assert {k: v.pred_answer for k, v in back.items()} == {k: v.pred_answer for k, v in preds.items()}


def _run_cli(*args):
    return subprocess.run([sys.executable, "-m", "mabench.cli", *args], capture_output=True, text=True)


def test_cli_score_submission_with_missing_qids(bench_file, tmp_path):
    bench = load_benchmark(bench_file)
    closed = [q for q in bench if q.spec.closed]
    answers = [{"qid": q.qid, "pred_answer": q.answer} for q in closed[:-3]]
    answers[0]["pred_answer"] = "The answer is " + answers[0]["pred_answer"]
    sub = tmp_path / "sub.json"
    sub.write_text(json.dumps({"prompts": [], "answers": answers}))
    out = tmp_path / "scores.json"
    r = _run_cli("score", str(sub), "--key", str(bench_file), "--json", str(out))
    assert r.returncode == 0, r.stderr
    assert "13 of 60 questions missing" in r.stdout  # 3 closed (MAS, PPR, PPR of the last clip) + 10 open
    s = json.loads(out.read_text())
    total_closed = len(closed)
    correct = sum(t["correct"] for t in s["tasks"].values())
    assert correct == total_closed - 3
    assert s["tasks"]["PPR"]["missing"] == 2 and s["tasks"]["PPR"]["accuracy"] == 80.0
    assert s["tasks"]["MAS"]["missing"] == 1 and s["tasks"]["MAS"]["accuracy"] == 90.0


def test_cli_score_predictions_jsonl_extracts_raw_output(bench_file, tmp_path):
    bench = load_benchmark(bench_file)
    p = tmp_path / "predictions.jsonl"
    with p.open("w") as f:
        for q in bench:
            if q.spec.closed:
                row = {"qid": q.qid, "raw_output": f"<think>hmm</think>Answer: {q.answer}"}
                f.write(json.dumps(row) + "\n")
        f.write('{"qid": "torn')  # a crash mid-write leaves a torn last line
    out = tmp_path / "s.json"
    r = _run_cli("score", str(p), "--key", str(bench_file), "--json", str(out))
    assert r.returncode == 0, r.stderr
    s = json.loads(out.read_text())
    assert s["closed_avg"] == 100.0


def test_cli_errors_are_one_line(tmp_path, bench_file):
    r = _run_cli("info", str(tmp_path / "missing.json"))
    assert r.returncode == 2
    assert "no such file" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    noans = [{"video_name": "v", "task": "SAD", "qid": "1", "question": "Q?"}]
    (tmp_path / "noans.json").write_text(json.dumps(noans))
    r = _run_cli("score", str(bench_file), "--key", str(tmp_path / "noans.json"))
    assert r.returncode == 2 and "has no answers" in r.stderr


def test_cli_info(bench_file, official_file):
    r = _run_cli("info", str(bench_file))
    assert r.returncode == 0 and "60 questions, 5 clips" in r.stdout
    r = _run_cli("info", str(official_file))
    assert r.returncode == 0 and "12000 questions, 1000 clips" in r.stdout and "12×1000" in r.stdout
