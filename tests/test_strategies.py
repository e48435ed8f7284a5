"""Prompt strategies end to end against the test server: a server in "shape" mode answers right only
when the request has the strategy's shape, so each run below scores 100 with the strategy and 0
without it; `vote:N` against a server that guesses shows the vote."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mabench.data import load_benchmark
from mabench.evaluation.api import evaluate
from mabench.evaluation.strategies import COT_INSTRUCTION, StrategyError, majority, parse_strategy
from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

EVAL_CLIPS = ("clip_000", "clip_001", "clip_002")


@pytest.fixture(scope="module")
def split(clip_set, tmp_path_factory):
    """CMAR/FMAR of clips 0-2 to evaluate (question texts unique there, so a key can answer them) and
    the other clips' questions as the few-shot support set."""
    root = tmp_path_factory.mktemp("split")
    rows = json.loads((clip_set / "bench.json").read_text())
    ev = [r for r in rows if r["video_name"] in EVAL_CLIPS and r["task"] in ("CMAR", "FMAR")]
    sup = [r for r in rows if r["video_name"] not in EVAL_CLIPS]
    (root / "eval.json").write_text(json.dumps(ev))
    (root / "support.json").write_text(json.dumps(sup))
    key = {r["question"]: r["answer"] for r in rows if r["task"] in ("CMAR", "FMAR")}
    return root, key


def run(clip_set, split, out: Path, server: FakeOpenAIServer, strategy: str | None, **kw):
    root, _ = split
    return evaluate(root / "eval.json", "openai:test-model", out, videos=clip_set / "clips",
                    base_url=server.base_url, strategy=strategy, concurrency=2, **kw)


def acc(res) -> float:
    """Accuracy over the asked CMAR and FMAR questions (closed AVG needs all six closed tasks)."""
    t = res.scores.tasks
    return (t["CMAR"].correct + t["FMAR"].correct) / (t["CMAR"].total + t["FMAR"].total) * 100


def lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "predictions.jsonl").read_text().splitlines() if x.strip()]


def test_parse_strategy_names_compose_and_refuse_nonsense():
    s = parse_strategy("definitions+cot+fewshot:3+vote:5")
    assert (s.cot, s.definitions, s.fewshot, s.vote) == (True, True, 3, 5)
    assert s.name == "cot+definitions+fewshot:3+vote:5"
    assert parse_strategy(["cot", "vote:3"]).name == "cot+vote:3"
    assert parse_strategy(None).is_zero_shot and parse_strategy("zero-shot").is_zero_shot
    for bad in ("cott", "fewshot:0", "vote:1", "vote:x", "fewshot"):
        with pytest.raises(StrategyError):
            parse_strategy(bad)


def test_cot_reads_only_the_final_line():
    s = parse_strategy("cot")
    assert s.extract("The answer is A, I think.\nFinal answer: C", "CMAR").answer == "C"
    # an answer only inside the reasoning does not count, and scoring does not search for it again
    ex = s.extract("The answer is A.\nFinal answer: I cannot tell", "CMAR")
    assert ex.answer is None and ex.method.startswith("final_line")
    from mabench.data.predictions import Prediction
    from mabench.evaluation.metrics import normalize_prediction

    q = load_benchmark_row("SAD")
    ex = s.extract("Yes, the head rises.\nFinal answer: hard to say", "SAD")
    assert ex.answer is None
    p = normalize_prediction(Prediction("q", "SAD", raw_output="Yes, the head rises.\nFinal answer: hard to say",
                                        method=ex.method), q)
    assert p.pred_answer is None


def load_benchmark_row(task: str):
    from mabench.data.io import parse_record

    return parse_record({"video_name": "v", "task": task, "qid": "q", "question": "Does the head move?",
                         "answer": "Yes"}, "test")


def test_majority_ties_are_invalid():
    assert majority(["A", "B", "A", None]) == ("A", {"A": 2, "B": 1})
    assert majority(["A", "B"])[0] is None and majority([None, None]) == (None, {})


def test_cot_scores_only_with_the_final_line_shape(clip_set, split, tmp_path):
    _, key = split
    with FakeOpenAIServer(Behaviour(key=key, shape="cot")) as srv:
        plain = run(clip_set, split, tmp_path / "plain", srv, None)
        cot = run(clip_set, split, tmp_path / "cot", srv, "cot")
        sent = [r for r in srv.requests if r["system"] and COT_INSTRUCTION in r["system"]]
    assert acc(plain) == 0.0
    assert cot.scores.tasks["CMAR"].accuracy == 100.0 and cot.scores.tasks["FMAR"].accuracy == 100.0
    rows = lines(tmp_path / "cot")
    # the reasoning is kept; the answer came from the last line (the reasoning names a wrong one first)
    assert all("at first sight" in r["raw_output"] and r["method"].startswith("final_line") for r in rows)
    assert len(sent) == 6 and all(r["extra"]["max_tokens"] == 2048 for r in sent)  # its own budget
    sub = json.loads((tmp_path / "cot" / "submission.json").read_text())
    by_task = {p["task"]: p for p in sub["prompts"]}
    assert by_task["CMAR"]["system_prompt"] in {r["system"] for r in sent}  # exactly what was sent
    assert by_task["CMAR"]["strategy"] == "cot"


def test_definitions_scores_only_with_the_label_definitions(clip_set, split, tmp_path):
    _, key = split
    with FakeOpenAIServer(Behaviour(key=key, shape="definitions")) as srv:
        plain = run(clip_set, split, tmp_path / "plain", srv, None)
        defs = run(clip_set, split, tmp_path / "defs", srv, "definitions")
    assert acc(plain) == 0.0 and defs.scores.tasks["FMAR"].accuracy == 100.0
    assert defs.scores.tasks["CMAR"].accuracy == 100.0
    sub = json.loads((tmp_path / "defs" / "submission.json").read_text())
    fmar = next(p for p in sub["prompts"] if p["task"] == "FMAR")["system_prompt"]
    assert "- scratching feet:" in fmar and "Conventions:" in fmar


def test_fewshot_sends_k_example_turns_with_their_own_frames(clip_set, split, tmp_path):
    root, key = split
    with FakeOpenAIServer(Behaviour(key=key, shape="fewshot:2")) as srv:
        plain = run(clip_set, split, tmp_path / "plain", srv, None)
        one = run(clip_set, split, tmp_path / "one", srv, "fewshot:1", support=root / "support.json",
                  support_videos=clip_set / "clips")
        two = run(clip_set, split, tmp_path / "two", srv, "fewshot:2", support=root / "support.json",
                  support_videos=clip_set / "clips")
        turns = [r["turns"] for r in srv.requests]
    assert acc(plain) == 0.0 and acc(one) == 0.0
    assert acc(two) == 100.0
    assert turns.count(6) == 6  # system + 2 x (example, answer) + question
    support_qids = {q.qid for q in load_benchmark(root / "support.json")}
    rows = lines(tmp_path / "two")
    assert all(len(r["examples"]) == 2 and set(r["examples"]) <= support_qids for r in rows)
    sub = json.loads((tmp_path / "two" / "submission.json").read_text())
    for p in sub["prompts"]:
        if p["task"] in ("CMAR", "FMAR"):
            assert len(p["fewshot"]["example_qids"]) == 2 and len(p["fewshot"]["template"]) == 4
            ex = {r["examples"][0] for r in rows if r["task"] == p["task"]}
            assert ex == {p["fewshot"]["example_qids"][0]}
    cfg = json.loads((tmp_path / "two" / "config.json").read_text())
    assert cfg["strategy"]["name"] == "fewshot:2" and set(cfg["strategy"]["fewshot_examples"]) == {"CMAR", "FMAR"}


def test_fewshot_refuses_support_clips_that_are_evaluated(clip_set, split, tmp_path):
    root, _ = split
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "eval", str(root / "eval.json"), "--videos",
                        str(clip_set / "clips"), "--model", "random", "--out", str(tmp_path / "run"),
                        "--strategy", "fewshot:1", "--support", str(clip_set / "bench.json"),
                        "--support-videos", str(clip_set / "clips"), "--no-progress"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "shares 3 clips" in r.stderr and r.stderr.strip().count("\n") == 0
    assert not (tmp_path / "run" / "predictions.jsonl").exists()
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "eval", str(root / "eval.json"), "--videos",
                        str(clip_set / "clips"), "--model", "random", "--out", str(tmp_path / "run2"),
                        "--strategy", "fewshot:2", "--no-progress"], capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "--support" in r.stderr


def test_vote_records_every_sample_and_the_majority(clip_set, split, tmp_path):
    with FakeOpenAIServer(Behaviour(random_answers=True)) as srv:
        res = run(clip_set, split, tmp_path / "vote", srv, "vote:5")
        temps = {r["extra"]["temperature"] for r in srv.requests}
    assert len(srv.requests) == 5 * 6 and temps == {0.7} and res.errors == 0
    rows = lines(tmp_path / "vote")
    overruled = 0
    for r in rows:
        answers = [s["pred_answer"] for s in r["samples"]]
        assert len(answers) == 5 and r["vote"]["counts"] == {a: answers.count(a) for a in set(answers)}
        top = max(answers.count(a) for a in answers)
        winners = {a for a in answers if answers.count(a) == top}
        if len(winners) == 1:
            assert r["pred_answer"] == winners.pop() and r["method"] == "vote"
        else:
            assert r["pred_answer"] is None and r["method"] == "vote_tie"
        overruled += len(set(answers)) > 1
    assert overruled > 0  # the guessing server disagreed with itself: the vote decided
    # an invalid tie stays invalid when scored, it is not searched for in the raw output again
    s = json.loads((tmp_path / "vote" / "scores.json").read_text())
    ties = sum(r["pred_answer"] is None for r in rows)
    assert s["tasks"]["CMAR"]["invalid"] + s["tasks"]["FMAR"]["invalid"] == ties


def test_definitions_cover_every_label_once_and_go_where_they_help():
    from mabench.evaluation.definitions import COARSE, FINE
    from mabench.taxonomy import COARSE_CLASSES, FINE_LABELS

    assert set(FINE) == set(FINE_LABELS) and set(COARSE) == set(COARSE_CLASSES)
    s = parse_strategy("definitions")
    fmar = s.system_prompt("FMAR", "base")
    assert fmar.startswith("base") and sum(line.startswith("- ") for line in fmar.splitlines()) == 52
    assert "Coarse classes:" in s.system_prompt("CMAR", "base") and "Fine labels:" not in s.system_prompt("SAD", "b")
    assert "Conventions:" in s.system_prompt("SAD", "b")
