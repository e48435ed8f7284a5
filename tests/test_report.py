"""Leaderboards: bootstrap CIs on cases with known answers, paired tests, the report on two runs."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from mabench.data import load_benchmark
from mabench.data.predictions import Prediction
from mabench.report.stats import (
    bootstrap_metrics,
    clip_table,
    mcnemar_exact,
    paired_bootstrap,
    percentile_ci,
    point_metrics,
    replicate_weights,
)


def _preds(bench, right):
    """`right(q)` -> whether the prediction for q is correct."""
    out = {}
    for q in bench:
        if q.spec.closed:
            ans = q.answer if right(q) else next(c for c in q.spec.choices if c != q.answer)
            out[q.qid] = Prediction(q.qid, q.task, q.video, pred_answer=ans, method="exact")
    return out


def test_ci_collapses_when_every_clip_scores_the_same(bench_file):
    bench = load_benchmark(bench_file)
    # every clip: its first SAD right, second wrong -> 50% in every clip, so every resample is 50%
    first = {}
    for q in bench:
        if q.task == "SAD":
            first.setdefault(q.video_id, q.qid)
    table = clip_table(bench, _preds(bench, lambda q: q.task != "SAD" or first[q.video_id] == q.qid))
    boots = bootstrap_metrics(table, replicate_weights(len(bench.videos), 500, 1), have_open=False)
    assert percentile_ci(boots["SAD"]) == (50.0, 50.0)
    assert point_metrics(table, False)["CMAR"] == 100.0


def test_ci_matches_the_binomial_standard_error(tmp_path):
    # 400 clips with one CMAR question each; 30% right: CI half-width ~ 1.96 * sqrt(p(1-p)/n)
    from mabench.synth.questions import placeholder_records

    recs = [r for r in placeholder_records(400, seed=3) if r["task"] == "CMAR"]
    p = tmp_path / "b.json"
    p.write_text(json.dumps(recs))
    bench = load_benchmark(p)
    right = {q.qid for i, q in enumerate(bench) if i % 10 < 3}
    table = clip_table(bench, _preds(bench, lambda q: q.qid in right))
    boots = bootstrap_metrics(table, replicate_weights(400, 4000, 0), have_open=False)
    lo, hi = percentile_ci(boots["CMAR"])
    expected = 1.96 * 100 * math.sqrt(0.3 * 0.7 / 400)
    assert point_metrics(table, False)["CMAR"] == pytest.approx(30.0)
    assert (hi - lo) / 2 == pytest.approx(expected, rel=0.12)


def test_mcnemar_exact_known_values():
    assert mcnemar_exact(0, 5) == pytest.approx(2 / 32)
    assert mcnemar_exact(5, 5) == 1.0
    assert mcnemar_exact(0, 0) == 1.0
    assert mcnemar_exact(1, 9) == pytest.approx(2 * (1 + 10) / 1024)


def test_paired_bootstrap_of_a_run_with_itself_and_a_clear_winner(bench_file):
    bench = load_benchmark(bench_file)
    w = replicate_weights(len(bench.videos), 500, 0)
    good = clip_table(bench, _preds(bench, lambda q: True))
    bad = clip_table(bench, _preds(bench, lambda q: False))
    same = {p.metric: p for p in paired_bootstrap(good, good, w, False)}
    assert same["closed AVG"].diff == 0 and same["closed AVG"].ci == (0.0, 0.0) and same["closed AVG"].p == 1.0
    win = {p.metric: p for p in paired_bootstrap(good, bad, w, False)}
    assert win["closed AVG"].diff == 100.0 and win["closed AVG"].p == 0.0


def _eval(clip_set, out, model, *extra):
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "eval", str(clip_set / "bench.json"), "--model", model,
                        "--out", str(out), "--no-progress", *extra], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr


def test_report_on_two_runs(clip_set, tmp_path):
    _eval(clip_set, tmp_path / "random", "random", "--seed", "1")
    _eval(clip_set, tmp_path / "prior", "prior", "--prior-key", str(clip_set / "bench.json"))
    out = tmp_path / "report"
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "report", str(tmp_path / "random"),
                        str(tmp_path / "prior"), "--out", str(out), "--bootstrap", "300"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rep = json.loads((out / "report.json").read_text())
    assert [x["name"] for x in rep["runs"]] == ["random", "prior"]
    scores = json.loads((tmp_path / "random" / "scores.json").read_text())
    m = rep["runs"][0]["metrics"]
    assert m["CMAR"] == pytest.approx(scores["tasks"]["CMAR"]["accuracy"])
    assert m["closed AVG"] == pytest.approx(scores["closed_avg"])
    lo, hi = rep["runs"][0]["ci95"]["closed AVG"]
    assert lo <= m["closed AVG"] <= hi and hi > lo
    comp = rep["paired"][0]
    assert comp["a"] == "random" and set(comp["mcnemar"]) == {"CMAR", "FMAR", "SAD", "MAD", "MAS", "PPR"}
    assert rep["runs"][0]["breakdowns"]["body part"]["right hand"]["n"] == 20
    assert sum(sum(v.values()) for v in rep["runs"][0]["confusion"]["CMAR"].values()) == 5
    md = (out / "leaderboard.md").read_text()
    assert "| random |" in md
    # the paper's rows are MA-Bench's numbers: not beside runs on another benchmark (this one is a placeholder)
    assert "GPT-4o (paper)" not in md and not rep["paper"]
    # the paired tests and the breakdowns are in the file too, not only in the terminal
    assert "### random − prior (paired bootstrap over clips; McNemar exact for closed tasks)" in md
    assert "### Closed-task accuracy (%) by body part" in md and "| right hand | 20 |" in md
    assert (out / "leaderboard.csv").read_text().startswith("model,CMAR,CMAR ci_lo")
    assert "McNemar" in r.stdout


def test_report_needs_a_key_with_answers(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "report", str(tmp_path / "nope"), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr.strip().count("\n") == 0


def test_replicate_weights_draw_every_clip_count():
    w = replicate_weights(10, 50, 0)
    assert w.shape == (50, 10) and np.all(w.sum(axis=1) == 10)


def test_paper_rows_only_beside_the_official_benchmark(tmp_path, official_file):
    """The answered variant of the official question file gets the paper's rows; it is recognised by what it
    asks (qids, tasks, clips, texts), whatever its answers."""
    import json

    from mabench.data import load_benchmark
    from mabench.report.leaderboard import is_official

    official = official_file
    recs = json.loads(official.read_text())
    for r in recs:
        r["answer"] = "A" if r["task"] in ("CMAR", "FMAR") else "Yes" if r["task"] not in ("MADU", "MARE") else "text"
    answered = tmp_path / "answered.json"
    answered.write_text(json.dumps(recs))
    assert is_official(load_benchmark(official)) and is_official(load_benchmark(answered))
    recs[0]["question"] += " (edited)"
    answered.write_text(json.dumps(recs))
    assert not is_official(load_benchmark(answered))
