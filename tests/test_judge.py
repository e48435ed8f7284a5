"""The rubric judge: parsing, retries, errors never scored 0, cache, several judges, label metrics."""

import json
import sqlite3
import subprocess
import sys

import pytest

from mabench.evaluation.judge import JudgeParseError, cache_key, parse_judge_reply
from mabench.evaluation.labels import parse_mare_labels
from mabench.evaluation.rubrics import JUDGE_PROMPT_VERSION, judge_system_prompt, judge_user_prompt
from mabench.testing.openai_server import Behaviour, FakeOpenAIServer


@pytest.mark.parametrize("reply, scores", [
    ('{"L1": 4, "L2": 3, "L3": 5, "reason": "close"}', {"L1": 4, "L2": 3, "L3": 5}),
    ('Here you go:\n```json\n{"L1": 2, "L2": 2, "L3": 1, "reason": "weak"}\n```', {"L1": 2, "L2": 2, "L3": 1}),
    ("L1: 4\nL2: 3\nL3: 0\nReason: misses the order.", {"L1": 4, "L2": 3, "L3": 0}),
    ("**L1 (behavioural semantics)**: 3\n**L2**: 2\n**L3** = 1", {"L1": 3, "L2": 2, "L3": 1}),
    ('<think>maybe {"L1": 9}</think>{"l1": "1", "l2": 0, "l3": 2}', {"L1": 1, "L2": 0, "L3": 2}),
])
def test_parse_judge_replies(reply, scores):
    assert parse_judge_reply(reply)[0] == scores


@pytest.mark.parametrize("reply, why", [
    ('{"L1": 6, "L2": 3, "L3": 5}', "outside 0-5"),
    ('{"L1": -1, "L2": 3, "L3": 5}', "outside 0-5"),
    ('{"L1": 3.5, "L2": 3, "L3": 5}', "not an integer"),
    ('{"L1": 3, "L2": 3}', "missing L3"),
    ("I think it is quite good overall.", "no scores"),
    ("", "empty"),
    ("L1: 3\nL2: 4", "missing L3"),
])
def test_parse_judge_rejects(reply, why):
    with pytest.raises(JudgeParseError, match=why):
        parse_judge_reply(reply)


def test_prompts_hold_the_rubric_and_nothing_else():
    sp = judge_system_prompt("MADU")
    assert "spatial fidelity" in sp and "temporal structure" in sp and '"L1"' in sp and "0 to 5" in sp
    assert "coarse label correctness" in judge_system_prompt("MARE")
    up = judge_user_prompt("Describe.", "REF TEXT", "PRED TEXT")
    assert "REF TEXT" in up and "PRED TEXT" in up and "Describe." in up
    a = cache_key("openai:j", "q1", "ref", "pred")
    assert a != cache_key("openai:j", "q1", "ref", "pred", version=JUDGE_PROMPT_VERSION + "-next")
    assert a != cache_key("openai:j2", "q1", "ref", "pred") and a != cache_key("openai:j", "q1", "ref", "pred2")


@pytest.mark.parametrize("text, coarse, fine", [
    ("The head dips twice.\n[Body part (coarse-grained)] Head | [Micro-action (fine-grained)] Nodding",
     "Head", "nodding"),
    ("[body part (coarse-grained)] head | [micro-action (fine-grained)] nodding", "Head", "nodding"),
    ("[Body part (coarse-grained)] Upper limb | [Micro-action (fine-grained)] Illustrative gestures - C1",
     "Upper limb", "illustrative gestures"),
    ("[Body part (coarse-grained)] Head | [Micro-action (fine-grained)] nodding head", "Head", "nodding"),
    ("[Micro-action (fine-grained)] touching face", "Head-hand", "scratching or touching face"),
    ("The right hand repeatedly taps the thigh, so the action is patting legs.", "Leg-hand", "patting legs"),
    ("The person is either nodding or shaking head.", None, None),
    ("[Body part (coarse-grained)] Head | [Micro-action (fine-grained)] shaking", "Head", None),
    ("The head moves.", None, None),
])
def test_mare_label_parser(text, coarse, fine):
    got = parse_mare_labels(text)
    assert (got.coarse, got.fine) == (coarse, fine)


# --- end to end -------------------------------------------------------------------------------


def _cli(*args, timeout=120):
    return subprocess.run([sys.executable, "-m", "mabench.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def answered_run(clip_set, tmp_path):
    """A finished eval run (random baseline answers closed tasks; open answers from a server)."""
    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour()) as srv:
        r = _cli("eval", str(clip_set / "bench.json"), "--videos", str(clip_set / "clips"), "--model",
                 "openai:test-model", "--base-url", srv.base_url, "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    return out


def judgments(out):
    return [json.loads(x) for x in (out / "judgments.jsonl").read_text().splitlines()]


def test_judge_retries_unusable_replies_then_scores(answered_run, tmp_path):
    replies = ["garbage, no scores", '{"L1": 7, "L2": 1, "L3": 1}', "```json\n{\"L1\": 4, \"L2\": 3, \"L3\": 2}\n```"]
    with FakeOpenAIServer(Behaviour(model="judge", judge_replies=replies)) as srv:
        r = _cli("judge", str(answered_run), "--judge", "openai:judge", "--base-url", srv.base_url,
                 "--judge-cache", str(tmp_path / "c.sqlite"))
    assert r.returncode == 0, r.stderr
    rows = judgments(answered_run)
    assert len(rows) == 10 and all(j["scores"] == {"L1": 4, "L2": 3, "L3": 2} for j in rows)
    assert all(j["attempts"] == 3 and j["prompt_version"] == JUDGE_PROMPT_VERSION for j in rows)
    assert len(srv.requests) == 30
    s = json.loads((answered_run / "scores.json").read_text())
    assert s["tasks"]["MADU"]["dims"] == {"L1": 4.0, "L2": 3.0, "L3": 2.0}
    assert s["open_avg"] == pytest.approx(3.0)
    accs = [s["tasks"][t]["accuracy"] for t in ("CMAR", "FMAR", "SAD", "MAD", "MAS", "PPR")]
    assert s["final"] == pytest.approx((sum(accs) + 20 * (4 + 3 + 2) * 2) / 12, abs=1e-9)
    assert s["mare_labels"]["total"] == 5


def test_judge_failures_are_errors_not_zeros(answered_run, tmp_path):
    with FakeOpenAIServer(Behaviour(model="judge", judge_replies=['{"L1": 9, "L2": 9, "L3": 9}'])) as srv:
        r = _cli("judge", str(answered_run), "--judge", "openai:judge", "--base-url", srv.base_url,
                 "--parse-retries", "1", "--no-cache")
    assert r.returncode == 0, r.stderr
    rows = judgments(answered_run)
    assert all(j["scores"] is None and "outside 0-5" in j["judge_error"] for j in rows)
    s = json.loads((answered_run / "scores.json").read_text())
    assert s["final"] is None and s["open_avg"] is None and s["partial"]
    assert any("failed judging" in n for n in s["notes"])
    assert "judge error" in r.stdout and "--retry-errors" in r.stdout
    # --retry-errors with a working judge fills them in; nothing else is re-asked
    with FakeOpenAIServer(Behaviour(model="judge")) as srv:
        r = _cli("judge", str(answered_run), "--judge", "openai:judge", "--base-url", srv.base_url, "--no-cache",
                 "--retry-errors")
        assert r.returncode == 0 and len(srv.requests) == 10
    assert json.loads((answered_run / "scores.json").read_text())["final"] is not None


def test_unreachable_judge_is_one_line_and_records_nothing(answered_run):
    r = _cli("judge", str(answered_run), "--judge", "openai:judge", "--base-url", "http://127.0.0.1:9/v1",
             "--no-cache")
    assert r.returncode == 2 and "cannot reach" in r.stderr and r.stderr.strip().count("\n") == 0
    assert not (answered_run / "judgments.jsonl").exists()


def test_cache_makes_rejudging_free(answered_run, tmp_path):
    cache = tmp_path / "cache.sqlite"
    with FakeOpenAIServer(Behaviour(model="judge")) as srv:
        assert _cli("judge", str(answered_run), "--judge", "openai:judge", "--base-url", srv.base_url,
                    "--judge-cache", str(cache)).returncode == 0
        assert len(srv.requests) == 10
        (answered_run / "judgments.jsonl").unlink()  # forget the run's judgments: only the cache is left
        r = _cli("judge", str(answered_run), "--judge", "openai:judge", "--base-url", srv.base_url,
                 "--judge-cache", str(cache))
        assert r.returncode == 0 and len(srv.requests) == 10  # no new request
    assert {j["source"] for j in judgments(answered_run)} == {"cache"}
    assert sqlite3.connect(cache).execute("select count(*) from judgments").fetchone()[0] == 10


def test_empty_predictions_score_zero_without_a_call(clip_set, tmp_path):
    out = tmp_path / "run"
    r = _cli("eval", str(clip_set / "bench.json"), "--model", "random", "--out", str(out), "--no-progress")
    assert r.returncode == 0, r.stderr
    with FakeOpenAIServer(Behaviour(model="judge")) as srv:
        r = _cli("judge", str(out), "--judge", "openai:judge", "--base-url", srv.base_url, "--no-cache")
        assert r.returncode == 0, r.stderr
        assert len(srv.requests) == 0
    rows = judgments(out)
    assert len(rows) == 10 and all(j["scores"] == {"L1": 0, "L2": 0, "L3": 0} for j in rows)
    assert {j["source"] for j in rows} == {"empty_prediction"}
    assert json.loads((out / "scores.json").read_text())["open_avg"] == 0.0


def test_two_judges_average_and_report_agreement(answered_run):
    with FakeOpenAIServer(Behaviour(model="j1")) as a, FakeOpenAIServer(Behaviour(model="j2", judge_offset=1)) as b:
        r = _cli("judge", str(answered_run), "--judge", f"openai:j1@{a.base_url}", "--judge",
                 f"openai:j2@{b.base_url}", "--no-cache")
    assert r.returncode == 0, r.stderr
    rows = judgments(answered_run)
    assert len(rows) == 20
    by = {(j["qid"], j["judge"]): j["scores"] for j in rows}
    s = json.loads((answered_run / "scores.json").read_text())
    qids = sorted({q for q, _ in by if q.startswith("MADU")})
    mean_l1 = sum((by[(q, "openai:j1")]["L1"] + by[(q, "openai:j2")]["L1"]) / 2 for q in qids) / len(qids)
    assert s["tasks"]["MADU"]["dims"]["L1"] == pytest.approx(mean_l1)
    agr = s["judges"]["agreement"]["dimensions"]["MADU L1"]
    assert agr["n"] == 5 and 0 <= agr["exact"] <= agr["within_1"] <= 1
    assert "Krippendorff" in r.stdout


def test_eval_with_judge_runs_both_stages(clip_set, tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour()) as model, FakeOpenAIServer(Behaviour(model="judge")) as judge:
        r = _cli("eval", str(clip_set / "bench.json"), "--videos", str(clip_set / "clips"), "--model",
                 "openai:test-model", "--base-url", model.base_url, "--out", str(out), "--no-progress",
                 "--judge", "openai:judge", "--judge-base-url", judge.base_url,
                 "--judge-cache", str(tmp_path / "c.sqlite"))
    assert r.returncode == 0, r.stderr
    s = json.loads((out / "scores.json").read_text())
    assert s["final"] is not None and len(judge.requests) == 10
    assert "final" in r.stdout


def test_score_command_reads_judgments_like_the_run(answered_run, tmp_path):
    with FakeOpenAIServer(Behaviour(model="judge")) as srv:
        assert _cli("judge", str(answered_run), "--judge", "openai:judge", "--base-url", srv.base_url,
                    "--no-cache").returncode == 0
    cfg = json.loads((answered_run / "config.json").read_text())
    out = tmp_path / "s.json"
    r = _cli("score", str(answered_run / "predictions.jsonl"), "--key", cfg["benchmark"]["path"],
             "--judgments", str(answered_run / "judgments.jsonl"), "--json", str(out))
    assert r.returncode == 0, r.stderr
    run_scores = json.loads((answered_run / "scores.json").read_text())
    assert json.loads(out.read_text())["final"] == pytest.approx(run_scores["final"]) and run_scores["final"]


# --- the rubric restated is not a score (issue #34, group 3) ----------------------------------------------


@pytest.mark.parametrize("reply, scores", [
    ("Scale: L1 = 0 means unrelated.\nL1: 4\nL2: 4\nL3: 4", {"L1": 4, "L2": 4, "L3": 4}),
    ("Each of L1: 0-5, L2: 0-5, L3: 0-5.\nL1: 2\nL2: 3\nL3: 1", {"L1": 2, "L2": 3, "L3": 1}),
    ("Draft: L1: 1, L2: 1, L3: 1. On reflection:\nL1: 3\nL2: 3\nL3: 2", {"L1": 3, "L2": 3, "L3": 2}),
    ('Format: {"L1": 0, "L2": 0, "L3": 0}\nMy verdict: {"L1": 5, "L2": 4, "L3": 3}', {"L1": 5, "L2": 4, "L3": 3}),
])
def test_the_last_complete_set_counts(reply, scores):
    assert parse_judge_reply(reply)[0] == scores


@pytest.mark.parametrize("reply, why", [
    ("L1 = 0 means unrelated, L2 = 0 means wrong side, L3 = 0 means no timing.", "no scores"),
    ("Scale: L1 = 0 means unrelated.\nL1: 4\nL2: 4", "missing L3"),
])
def test_the_rubric_alone_is_refused(reply, why):
    with pytest.raises(JudgeParseError, match=why):
        parse_judge_reply(reply)


@pytest.mark.parametrize("reply, scores", [
    ("L1: 4\nL2: 3\nL3: 5\nIf anything, the description is close.", {"L1": 4, "L2": 3, "L3": 5}),
    ("L1: 4 for matching the motion\nL2: 3 for the sides\nL3: 2 for the timing", {"L1": 4, "L2": 3, "L3": 2}),
    ('{"L1": 4, "L2": 3, "L3": 2} (scale: {"L1": "score 0-5"})', {"L1": 4, "L2": 3, "L3": 2}),
])
def test_scores_followed_by_prose_or_a_bad_object_still_count(reply, scores):
    assert parse_judge_reply(reply)[0] == scores
