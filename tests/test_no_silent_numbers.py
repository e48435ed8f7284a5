"""Never a silent wrong number, never a hang (issue #34): what a fault probe found, each case a test.

Servers are real HTTP servers on 127.0.0.1 (`FakeOpenAIServer`), files are real files, the CLI runs as a
real process; every test is bounded (subprocess timeouts well under 60 s).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

CLI = [sys.executable, "-m", "mabench.cli"]


def cli(*args, timeout: float = 55) -> subprocess.CompletedProcess:
    return subprocess.run([*CLI, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def eval_cmd(clip_set: Path, out: Path, base_url: str, *extra) -> subprocess.CompletedProcess:
    return cli("eval", clip_set / "bench.json", "--videos", clip_set / "clips", "--model", "openai:test-model",
               "--base-url", base_url, "--out", out, "--no-progress", "--backoff", "0.01", *extra)


def one_line(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in stderr, stderr
    return lines[0]


def rows(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def scores(out: Path) -> dict:
    return json.loads((out / "scores.json").read_text())


# --- 1. old judgments are not scored against new answers ---------------------------------------------------


def test_judgments_of_earlier_answers_are_not_scored(clip_set, tmp_path):
    """eval (every request fails) -> judge (empty answers: 0/0/0) -> eval --retry-errors: the 0/0/0 judged the
    empty answers, not the new ones, so there is no final until they are judged; then the same final as a
    run that never failed."""
    out, fresh = tmp_path / "run", tmp_path / "fresh"
    sel = ("--tasks", "MADU,MARE,CMAR")
    with FakeOpenAIServer(Behaviour(fail_first=1, fail_status=503)) as model, \
            FakeOpenAIServer(Behaviour(model="judge")) as judge:
        r = eval_cmd(clip_set, out, model.base_url, *sel, "--max-retries", "0")
        assert r.returncode == 2 and "15 of 15 requests failed" in r.stderr, r.stderr
        jargs = ("--judge", "openai:judge", "--base-url", judge.base_url, "--no-cache")
        assert cli("judge", out, *jargs).returncode == 0
        assert {j["source"] for j in rows(out / "judgments.jsonl")} == {"empty_prediction"}
        r = eval_cmd(clip_set, out, model.base_url, *sel, "--max-retries", "0", "--retry-errors")
        assert r.returncode == 0, r.stderr
        s = scores(out)
        assert s["final"] is None and s["partial"] and s["tasks"]["MADU"]["dims"] is None, s
        assert any("10 still need judging (10 judgment(s) are of an earlier answer" in n for n in s["notes"]), s
        assert cli("judge", out, *jargs).returncode == 0
        assert len(judge.requests) == 10  # all ten judged again, none kept
        r = eval_cmd(clip_set, fresh, model.base_url, *sel, "--judge", "openai:judge", "--judge-base-url",
                     judge.base_url, "--judge-cache", tmp_path / "c.sqlite")
        assert r.returncode == 0, r.stderr
    assert scores(out)["open_avg"] == scores(fresh)["open_avg"] is not None
    assert scores(out)["tasks"]["MADU"]["dims"] == scores(fresh)["tasks"]["MADU"]["dims"]


def test_force_with_new_settings_sets_the_old_judgments_aside(clip_set, tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour()) as model, FakeOpenAIServer(Behaviour(model="judge")) as judge:
        judged = ("--judge", "openai:judge", "--judge-base-url", judge.base_url, "--judge-cache", tmp_path / "c.db")
        assert eval_cmd(clip_set, out, model.base_url, "--limit", "24", *judged).returncode == 0
        assert scores(out)["final"] is not None
        r = eval_cmd(clip_set, out, model.base_url, "--limit", "24", "--max-tokens", "77", "--force")
        assert r.returncode == 0, r.stderr
    s = scores(out)
    assert s["final"] is None and s["open_avg"] is None
    assert not (out / "judgments.jsonl").exists() and list(out.glob("judgments.jsonl.*.bak"))


def test_a_judgment_is_bound_to_its_reference(clip_set, tmp_path):
    """The same answers judged against one key do not count against a key with other references."""
    from mabench.data import load_benchmark
    from mabench.evaluation.results import score_run_dir

    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour()) as model, FakeOpenAIServer(Behaviour(model="judge")) as judge:
        assert eval_cmd(clip_set, out, model.base_url, "--judge", "openai:judge", "--judge-base-url",
                        judge.base_url, "--no-progress", "--judge-cache", tmp_path / "c.db").returncode == 0
    recs = json.loads((clip_set / "bench.json").read_text())
    for r in recs:
        if r["task"] in ("MADU", "MARE"):
            r["answer"] = r["answer"] + " (revised)"
    other = tmp_path / "other.json"
    other.write_text(json.dumps(recs))
    res = score_run_dir(out, load_benchmark(other))
    assert res.scores.final is None and res.extra["judges"]["stale"] == 10


# --- 2. a run where every request failed is not a 0.00 ----------------------------------------------------


def test_a_base_url_without_v1_exits_non_zero_with_the_fix(clip_set, tmp_path):
    with FakeOpenAIServer(Behaviour(v1_only=True)) as srv:
        base = srv.base_url.removesuffix("/v1")
        r = eval_cmd(clip_set, tmp_path / "run", base, "--limit", "24")
        line = one_line(r.stderr)
        assert r.returncode == 2 and "24 of 24 requests failed" in line and "HTTP 404" in line
        assert "does --base-url end in /v1" in line
        # one request per task and request shape learnt it, not one per question
        assert len(srv.requests) == 0  # the 404 comes before the server reads the body: nothing recorded
    assert not (tmp_path / "run" / "submission.json").exists()
    s = scores(tmp_path / "run")
    assert s["partial"] and s["final"] is None and any("24 request(s) failed" in n for n in s["notes"])
    errors = [p["error"] for p in rows(tmp_path / "run" / "predictions.jsonl")]
    # per task until two clips got the 404: 2 questions for the one-per-clip tasks, 2-3 for the others
    assert 16 <= sum("not asked" not in e for e in errors) <= 20


def test_a_permanent_429_exits_non_zero(clip_set, tmp_path):
    with FakeOpenAIServer(Behaviour(always_status=429)) as srv:
        r = eval_cmd(clip_set, tmp_path / "run", srv.base_url, "--limit", "6", "--max-retries", "1")
    line = one_line(r.stderr)
    assert r.returncode == 2 and "6 of 6 requests failed" in line and "rate-limiting" in line
    assert len(srv.requests) == 12  # a 429 is retried: it may pass


def test_error_share_over_the_limit_exits_non_zero_under_it_is_counted_wrong(clip_set, tmp_path):
    """2 of the first clip's 10 closed questions fail (the SAD ones): over the 10% share the run exits 2 and its
    scores are partial; with --max-error-share 0.5 it ends 0 and the failed questions count as wrong, with a note."""
    out, out2 = tmp_path / "run", tmp_path / "run2"
    closed = ("--tasks", "CMAR,FMAR,SAD,MAD,MAS,PPR", "--limit", "10", "--max-retries", "0")
    with FakeOpenAIServer(Behaviour(fail_if="move primarily upward", fail_status=503)) as srv:
        r = eval_cmd(clip_set, out, srv.base_url, *closed)
        line = one_line(r.stderr)
        assert r.returncode == 2 and "2 of 10 requests failed (commonest, 2x: HTTP 503" in line, line
        r = eval_cmd(clip_set, out2, srv.base_url, *closed, "--max-error-share", "0.5")
        assert r.returncode == 0, r.stderr
    s = scores(out)
    assert s["partial"] and any("more than --max-error-share 0.1" in n for n in s["notes"])
    assert not (out / "submission.json").exists()
    s2 = scores(out2)
    assert not s2["partial"] and s2["tasks"]["SAD"]["errors"] == 2 and s2["closed_avg"] is not None
    assert any("2 request(s) failed and count as wrong" in n for n in s2["notes"])
    assert (out2 / "submission.json").exists()
    # judging later does not lose the verdict: the share is read from the run's config
    with FakeOpenAIServer(Behaviour(model="judge")) as judge:
        assert cli("judge", out, "--judge", "openai:judge", "--base-url", judge.base_url, "--no-cache").returncode == 0
    assert scores(out)["partial"]


# --- 8. runs that never end ---------------------------------------------------------------------------------


def test_a_server_that_never_answers_stops_the_run(clip_set, tmp_path):
    t0 = time.time()
    with FakeOpenAIServer(Behaviour(hang=True)) as srv:
        r = eval_cmd(clip_set, tmp_path / "run", srv.base_url, "--request-timeout", "1", "--max-retries", "0",
                     "--concurrency", "2", "--max-connection-failures", "3")
    line = one_line(r.stderr)
    assert r.returncode == 2 and "questions in a row got no answer" in line and "timed out" in line
    assert "--request-timeout" in line and "--retry-errors" in line
    assert time.time() - t0 < 30  # 60 questions would have taken 30 s of timeouts
    assert len(rows(tmp_path / "run" / "predictions.jsonl")) < 10


def test_a_judge_that_never_answers_stops(clip_set, tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour()) as model:
        assert eval_cmd(clip_set, out, model.base_url).returncode == 0
    t0 = time.time()
    with FakeOpenAIServer(Behaviour(model="judge", hang=True)) as judge:
        r = cli("judge", out, "--judge", "openai:judge", "--base-url", judge.base_url, "--no-cache",
                "--request-timeout", "1", "--max-retries", "0", "--concurrency", "1", "--max-connection-failures", "2")
    line = one_line(r.stderr)
    assert r.returncode == 2 and "2 judgments in a row got no answer from judge openai:judge" in line, line
    assert time.time() - t0 < 20
    assert len(rows(out / "judgments.jsonl")) == 2  # what it did is kept


def test_a_judge_whose_server_is_gone_stops(clip_set, tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour()) as model:
        assert eval_cmd(clip_set, out, model.base_url).returncode == 0
    srv = FakeOpenAIServer(Behaviour(model="judge")).start()
    base = srv.base_url
    srv.stop()  # probe fails first: one line, nothing judged
    r = cli("judge", out, "--judge", "openai:judge", "--base-url", base, "--no-cache")
    assert r.returncode == 2 and "cannot reach" in one_line(r.stderr)


def test_a_400_that_repeats_is_asked_once_per_request_shape(clip_set, tmp_path):
    with FakeOpenAIServer(Behaviour(always_status=400, status_message="this model does not take images")) as srv:
        r = eval_cmd(clip_set, tmp_path / "run", srv.base_url)
    assert r.returncode == 2 and "60 of 60 requests failed" in r.stderr and "takes images" in r.stderr
    # clips of 1.0-2.0 s at 20 fps all give 8 frames: one shape per task, stopped once two clips got the 400
    # (CMAR, FMAR, MADU, MARE: one question per clip, 2 asked; SAD, MAD, MAS, PPR: two per clip, 2 or 3
    # asked, as the workers reach the shape's turn: a clip's second question may come before the next clip's)
    asked = len(srv.requests)
    assert 4 * 2 + 4 * 2 <= asked <= 4 * 2 + 4 * 3
    notes = [p["error"] for p in rows(tmp_path / "run" / "predictions.jsonl")]
    assert sum("not asked" in e for e in notes) == 60 - asked


def test_a_400_about_one_clip_stops_nothing(clip_set, tmp_path):
    """vLLM answers 400 for one clip too long for the context: the other clips' questions are asked."""
    from mabench.data import load_benchmark

    cmar = [q for q in load_benchmark(clip_set / "bench.json").clip_major() if q.task == "CMAR"]
    texts = [q.question for q in cmar]
    first = texts[0]
    assert texts.count(first) == 1  # only the first clip's CMAR question fails
    with FakeOpenAIServer(Behaviour(fail_if=first, fail_status=400)) as srv:
        r = eval_cmd(clip_set, tmp_path / "run", srv.base_url, "--tasks", "CMAR", "--max-error-share", "0.5")
        assert len(srv.requests) == 5
    assert r.returncode == 0, r.stderr
    errors = [p["error"] for p in rows(tmp_path / "run" / "predictions.jsonl") if p["error"]]
    assert len(errors) == 1 and "HTTP 400" in errors[0] and "not asked" not in errors[0]


# --- 7. an unwritable frame cache is one line, never a hang -------------------------------------------------


def test_a_frame_cache_that_is_a_file_is_one_line(clip_set, tmp_path):
    f = tmp_path / "cache"
    f.write_text("not a folder")
    with FakeOpenAIServer(Behaviour()) as srv:
        r = eval_cmd(clip_set, tmp_path / "run", srv.base_url, "--frame-cache", f)
        assert len(srv.requests) == 0
    line = one_line(r.stderr)
    assert r.returncode == 2 and f"--frame-cache {f}: cannot write there (is a file" in line


def test_a_frame_cache_whose_disk_fills_up_mid_run_goes_on_in_memory(clip_set, tmp_path):
    """The write of a clip's frames fails (the cache's shard folder is a file): decoding goes on without the
    disk cache, every question is answered, and the run says so (it hung forever before)."""
    from mabench.video.cache import FrameCache
    from mabench.video.sampling import SamplingConfig

    cache_dir = tmp_path / "fc"
    cache_dir.mkdir()
    fc = FrameCache(SamplingConfig(), disk_dir=cache_dir)
    for clip in sorted((clip_set / "clips").glob("*.mp4")):
        (cache_dir / fc.key(clip)[:2]).write_text("in the way")  # every shard folder is a file
    with FakeOpenAIServer(Behaviour()) as srv:
        r = eval_cmd(clip_set, tmp_path / "run", srv.base_url, "--frame-cache", cache_dir)
    assert r.returncode == 0, r.stderr
    assert "frame cache stopped writing to disk" in r.stdout
    assert len(rows(tmp_path / "run" / "predictions.jsonl")) == 60


@pytest.mark.parametrize("damage", ["[]", '{"format": 1, "jpegs": null}', '{"format": 1}', "\x00\x01"])
def test_a_damaged_frame_cache_entry_is_decoded_again(clip_set, tmp_path, damage):
    import asyncio

    from mabench.video.cache import FrameCache
    from mabench.video.sampling import SamplingConfig

    clip = clip_set / "clips" / "clip_000.mp4"
    fc = FrameCache(SamplingConfig(), disk_dir=tmp_path)
    entry = tmp_path / fc.key(clip)[:2] / f"{fc.key(clip)}.json"
    entry.parent.mkdir(parents=True)
    entry.write_text(damage)
    frames = asyncio.run(fc.get(clip))
    fc.close()
    assert len(frames.data_urls) == 8 and fc.stats.decodes == 1


# --- 5. a key is checked against the questions the run was asked -------------------------------------------


@pytest.fixture
def judged_run(clip_set, tmp_path):
    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour()) as model, FakeOpenAIServer(Behaviour(model="judge")) as judge:
        r = eval_cmd(clip_set, out, model.base_url, "--judge", "openai:judge", "--judge-base-url", judge.base_url,
                     "--judge-cache", tmp_path / "c.db")
        assert r.returncode == 0, r.stderr
    return out


def _other_benchmark(clip_set: Path, tmp_path: Path) -> Path:
    """Same qids, tasks and clips, other questions (another benchmark's key)."""
    recs = json.loads((clip_set / "bench.json").read_text())
    for r in recs:
        r["question"] = r["question"].replace("right hand", "left knee").replace("video", "clip")
        if r["task"] in ("MADU", "MARE"):
            r["answer"] = "The left knee rises. " + r["answer"]
    other = tmp_path / "other.json"
    other.write_text(json.dumps(recs))
    return other


@pytest.mark.parametrize("command", ["judge", "score", "report"])
def test_a_key_of_another_benchmark_is_refused(judged_run, clip_set, tmp_path, command):
    other = _other_benchmark(clip_set, tmp_path)
    before = scores(judged_run)
    if command == "judge":
        with FakeOpenAIServer(Behaviour(model="judge")) as judge:
            r = cli("judge", judged_run, "--judge", "openai:judge", "--base-url", judge.base_url, "--no-cache",
                    "--key", other)
    elif command == "score":
        # a loose copy of the submission has no record of what it was asked: its judgments have (their
        # references), so the open answers need judging against this key and there is no final
        loose = tmp_path / "loose.json"
        loose.write_text((judged_run / "submission.json").read_text())
        r = cli("score", loose, "--key", other, "--judgments", judged_run / "judgments.jsonl")
        assert r.returncode == 0, r.stderr
        assert "10 still need judging (10 judgment(s) are of an earlier answer or another key)" in r.stdout
        # the run's own submission is checked against the questions the run was asked
        r = cli("score", judged_run / "submission.json", "--key", other)
    else:
        r = cli("report", judged_run, "--out", tmp_path / "rep", "--key", other, "--no-html", "--bootstrap", "100")
    line = one_line(r.stderr)
    assert r.returncode == 2 and f"--key {other}" in line and "another benchmark" in line, line
    assert scores(judged_run) == before  # nothing rescored


def test_the_same_questions_with_answers_are_a_good_key(judged_run, clip_set, tmp_path):
    """The questions-only file and the key with answers agree (the official file has no answers)."""
    recs = json.loads((clip_set / "bench.json").read_text())
    questions_only = tmp_path / "questions.json"
    questions_only.write_text(json.dumps([{k: v for k, v in r.items() if k != "answer"} for r in recs]))
    out = tmp_path / "run2"
    with FakeOpenAIServer(Behaviour()) as model:
        r = cli("eval", questions_only, "--videos", clip_set / "clips", "--model", "openai:test-model", "--base-url",
                model.base_url, "--out", out, "--no-progress")
        assert r.returncode == 0, r.stderr
    r = cli("report", out, "--out", tmp_path / "rep", "--key", clip_set / "bench.json", "--no-html",
            "--bootstrap", "100")
    assert r.returncode == 0, r.stderr


def test_a_duplicate_qid_in_a_submission_is_named(judged_run, clip_set, tmp_path):
    sub = json.loads((judged_run / "submission.json").read_text())
    sub["answers"].append({"qid": sub["answers"][0]["qid"], "pred_answer": "Z"})
    f = tmp_path / "dup.json"
    f.write_text(json.dumps(sub))
    r = cli("score", f, "--key", clip_set / "bench.json")
    line = one_line(r.stderr)
    assert r.returncode == 2 and f"qid {sub['answers'][0]['qid']!r} is answered twice" in line


# --- 6. the Python API checks its arguments as the CLI does ---------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    ({"tasks": ["XYZ"]}, "tasks: unknown task 'XYZ'"),
    ({"tasks": "XYZ"}, "tasks: unknown task 'XYZ'"),
    ({"limit": 0}, "limit: expected a whole number of at least 1, got 0"),
    ({"limit": -5}, "limit: expected a whole number of at least 1, got -5"),
    ({"concurrency": 0}, "concurrency: expected a whole number of at least 1"),
    ({"prompts": {"XYZ": "hi"}}, "unknown task 'XYZ'"),
    ({"prompts": {"SAD": 3}}, "prompt for SAD must be a string"),
])
def test_api_refuses_what_the_cli_refuses(clip_set, tmp_path, kwargs, message):
    import mabench

    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        mabench.evaluate(clip_set / "bench.json", "random", tmp_path / "run", **kwargs)
    assert not (tmp_path / "run").exists()


def test_api_model_none_is_refused(clip_set, tmp_path):
    import mabench

    with pytest.raises(ValueError, match="model: expected a spec"):
        mabench.evaluate(clip_set / "bench.json", None, tmp_path / "run")  # type: ignore[arg-type]


@pytest.mark.parametrize("tasks", ["CMAR", ["cmar"], "cmar,sad"])
def test_api_task_codes_are_read_as_the_cli_reads_them(clip_set, tmp_path, tasks):
    import mabench

    res = mabench.evaluate(clip_set / "bench.json", "random", tmp_path / "run", tasks=tasks)
    want = 5 if tasks != "cmar,sad" else 15
    assert res.total == want and res.asked == want


def test_api_report_arguments(judged_run, tmp_path):
    import mabench

    with pytest.raises(ValueError, match="runs: expected a list of run directories"):
        mabench.report([], tmp_path / "rep")
    with pytest.raises(ValueError, match="n_boot: expected at least 100"):
        mabench.report([judged_run], tmp_path / "rep", n_boot=0)


# --- 9. tracebacks become one line ------------------------------------------------------------------------


@pytest.mark.parametrize("body", [b"<html><body>It works!</body></html>", b"{}", b"[]", b"null", b'{"data":"x"}',
                                  b'{"data":[{"object":"model"}]}'])
@pytest.mark.parametrize("command", ["eval", "judge"])
def test_a_models_endpoint_that_is_not_a_model_list_is_one_line(clip_set, tmp_path, body, command):
    with FakeOpenAIServer(Behaviour(models_body=body, model="judge" if command == "judge" else "test-model")) as srv:
        if command == "eval":
            r = eval_cmd(clip_set, tmp_path / "run", srv.base_url)
        else:
            r = cli("eval", clip_set / "bench.json", "--model", "random", "--out", tmp_path / "run", "--no-progress")
            assert r.returncode == 0
            r = cli("judge", tmp_path / "run", "--judge", "openai:judge", "--base-url", srv.base_url, "--no-cache")
        assert len(srv.requests) == 0
    line = one_line(r.stderr)
    assert r.returncode == 2 and "answered something that is not a model list" in line and "/v1" in line


def test_a_stalled_models_endpoint_is_not_called_unreachable(clip_set, tmp_path):
    with FakeOpenAIServer(Behaviour(models_hang=True)) as srv:
        r = eval_cmd(clip_set, tmp_path / "run", srv.base_url)
    line = one_line(r.stderr)
    assert r.returncode == 2 and "did not answer within 10 s" in line and "cannot reach" not in line


def test_a_key_with_one_answer_missing_is_refused_before_asking(clip_set, tmp_path):
    recs = json.loads((clip_set / "bench.json").read_text())
    recs[7].pop("answer")
    f = tmp_path / "holes.json"
    f.write_text(json.dumps(recs))
    with FakeOpenAIServer(Behaviour()) as srv:
        r = cli("eval", f, "--videos", clip_set / "clips", "--model", "openai:test-model", "--base-url", srv.base_url,
                "--out", tmp_path / "run", "--no-progress")
        assert len(srv.requests) == 0
    line = one_line(r.stderr)
    assert r.returncode == 2 and f"(e.g. {recs[7]['qid']!r})" in line and "a key answers every closed" in line
    r = cli("score", clip_set / "bench.json", "--key", f)
    assert r.returncode == 2 and "a key answers every closed" in one_line(r.stderr)


@pytest.mark.parametrize("cache", ["corrupt", "folder"])
def test_an_unusable_judge_cache_is_one_line_before_anything_is_asked(clip_set, tmp_path, cache):
    path = tmp_path / "cache.sqlite"
    if cache == "corrupt":
        path.write_bytes(b"this is not a database" * 100)
    else:
        path.mkdir()
    with FakeOpenAIServer(Behaviour()) as model, FakeOpenAIServer(Behaviour(model="judge")) as judge:
        r = eval_cmd(clip_set, tmp_path / "run", model.base_url, "--judge", "openai:judge", "--judge-base-url",
                     judge.base_url, "--judge-cache", path)
        assert len(model.requests) == 0 and len(judge.requests) == 0
        line = one_line(r.stderr)
        assert r.returncode == 2 and f"--judge-cache {path}: not a usable SQLite cache" in line
        assert eval_cmd(clip_set, tmp_path / "run", model.base_url).returncode == 0
        r = cli("judge", tmp_path / "run", "--judge", "openai:judge", "--base-url", judge.base_url,
                "--judge-cache", path)
        assert r.returncode == 2 and "not a usable SQLite cache" in one_line(r.stderr)
        assert len(judge.requests) == 0


def test_a_deeply_nested_benchmark_is_one_line(tmp_path):
    f = tmp_path / "deep.json"
    f.write_text("[" * 100_000 + "]" * 100_000)
    r = cli("eval", f, "--model", "random", "--out", tmp_path / "run")
    assert r.returncode == 2 and "nested too deeply" in one_line(r.stderr)
    sub = tmp_path / "deep_sub.json"
    sub.write_text('{"answers": ' + "[" * 100_000 + "]" * 100_000 + "}")
    r = cli("score", sub, "--key", f)
    assert r.returncode == 2 and "nested too deeply" in one_line(r.stderr)


# --- 10. messages that say what happened -----------------------------------------------------------------


def test_a_corrupt_config_does_not_suggest_force(clip_set, tmp_path):
    out = tmp_path / "run"
    assert cli("eval", clip_set / "bench.json", "--model", "random", "--out", out, "--limit", "12").returncode == 0
    (out / "config.json").write_text("{ not json")
    r = cli("eval", clip_set / "bench.json", "--model", "random", "--out", out, "--limit", "24")
    line = one_line(r.stderr)
    assert r.returncode == 2 and "--force" not in line and "delete config.json" in line
    assert len(rows(out / "predictions.jsonl")) == 12  # nothing set aside
    (out / "config.json").unlink()
    r = cli("eval", clip_set / "bench.json", "--model", "random", "--out", out, "--limit", "24")
    assert r.returncode == 0 and "12 asked, 12 already answered" in r.stdout


def test_out_naming_a_file_says_so(clip_set, tmp_path):
    f = tmp_path / "run.txt"
    f.write_text("x")
    r = cli("eval", clip_set / "bench.json", "--model", "random", "--out", f)
    assert r.returncode == 2 and f"--out {f}: is a file" in one_line(r.stderr)


@pytest.mark.parametrize("sigint", ["default", "ignored"])
def test_sigterm_says_where_the_answers_are(clip_set, tmp_path, sigint):
    out = tmp_path / "run"
    # "ignored": how a background job (`mabench eval … &` in a script) starts; SIGTERM must still end the run
    start = (lambda: signal.signal(signal.SIGINT, signal.SIG_IGN)) if sigint == "ignored" else \
        (lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    # 0.5 s an answer: the run would take 15 s, so a poller starved by a busy machine still signals mid-run
    with FakeOpenAIServer(Behaviour(latency_s=0.5)) as srv:
        proc = subprocess.Popen([*CLI, *map(str, ["eval", clip_set / "bench.json", "--videos", clip_set / "clips",
                                                 "--model", "openai:test-model", "--base-url", srv.base_url, "--out",
                                                 out, "--no-progress", "--concurrency", "2"])],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=start)
        t0 = time.time()
        while time.time() - t0 < 30 and not ((out / "predictions.jsonl").exists()
                                             and (out / "predictions.jsonl").read_text().count("\n") >= 4):
            time.sleep(0.05)
        proc.terminate()
        _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 143, stderr
    line = one_line(stderr)
    assert line.startswith("terminated: finished answers are in") and "re-run the same command" in line
    done = rows(out / "predictions.jsonl")
    assert 4 <= len(done) < 60 and len({p["qid"] for p in done}) == len(done)


def test_score_on_garbage_lines_offers_repair(judged_run, clip_set, tmp_path):
    preds = tmp_path / "preds.jsonl"
    lines = (judged_run / "predictions.jsonl").read_text().splitlines()
    preds.write_text("\n".join([*lines[:5], "garbage {", *lines[5:]]) + "\n")
    r = cli("score", preds, "--key", clip_set / "bench.json")
    line = one_line(r.stderr)
    assert r.returncode == 2 and "line 6" in line and "--repair" in line
    r = cli("score", preds, "--key", clip_set / "bench.json", "--repair")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "preds.jsonl.bad").read_text().strip() == "garbage {"


def test_a_full_disk_names_the_file(clip_set, tmp_path):
    """A write to predictions.jsonl that fails (no filename in the OSError) names predictions.jsonl."""
    import errno

    from mabench.cli.common import os_error_message

    msg = os_error_message(OSError(errno.ENOSPC, "No space left on device"), file=tmp_path / "predictions.jsonl")
    assert msg.startswith(f"{tmp_path / 'predictions.jsonl'}: no space left on device; free some space")


def test_a_cancelled_decode_is_taken_over_by_its_waiter_and_a_cancelled_waiter_stays_cancelled(clip_set):
    """The task decoding a clip is cancelled (a run stopping): a question waiting on that decode decodes the
    clip itself; a waiter that is cancelled itself ends cancelled (it used to read the decoder's cancellation
    as its own and, fixed the other way, could go on after its own)."""
    import asyncio

    from mabench.video.cache import FrameCache
    from mabench.video.sampling import SamplingConfig

    clip = clip_set / "clips" / "clip_001.mp4"

    async def owner_cancelled() -> int:
        fc = FrameCache(SamplingConfig())
        owner = asyncio.ensure_future(fc.get(clip))
        await asyncio.sleep(0)  # the owner starts its decode
        waiter = asyncio.ensure_future(fc.get(clip))
        await asyncio.sleep(0)
        owner.cancel()
        frames = await asyncio.wait_for(waiter, 30)
        fc.close()
        return len(frames.data_urls)

    async def both_cancelled() -> tuple[bool, bool]:
        fc = FrameCache(SamplingConfig())
        owner = asyncio.ensure_future(fc.get(clip))
        await asyncio.sleep(0)
        waiter = asyncio.ensure_future(fc.get(clip))
        await asyncio.sleep(0)
        owner.cancel()  # both cancelled in the same turn (a run stopping), the decoding task first
        waiter.cancel()
        res = await asyncio.gather(owner, waiter, return_exceptions=True)
        fc.close()
        return tuple(isinstance(r, asyncio.CancelledError) for r in res)

    assert asyncio.run(owner_cancelled()) == 8
    assert asyncio.run(both_cancelled()) == (True, True)


def test_a_config_with_odd_fields_beside_a_submission_is_not_a_traceback(judged_run, clip_set):
    cfg = json.loads((judged_run / "config.json").read_text())
    cfg["selection"], cfg["benchmark"] = "all", ["x"]
    (judged_run / "config.json").write_text(json.dumps(cfg))
    r = cli("score", judged_run / "submission.json", "--key", clip_set / "bench.json")
    assert r.returncode == 0, r.stderr
