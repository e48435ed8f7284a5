"""A 500 that repeats word for word is the server failing on the request every time (what vLLM answers
to an image request when the chat template has no image tokens): asked twice, not five times.
Against the project's test server, through the `mabench eval` command."""

import json
import os
import subprocess
import sys
from pathlib import Path

from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

VLLM_TEMPLATE_ERROR = "Failed to apply prompt replacement for mm_items['image'][0]"  # vLLM 0.32, verbatim


def run_eval(clip_set: Path, out: Path, base_url: str, *extra: str):
    args = [sys.executable, "-m", "mabench.cli", "eval", str(clip_set / "bench.json"), "--videos",
            str(clip_set / "clips"), "--model", "openai:test-model", "--base-url", base_url, "--out", str(out),
            "--no-progress", "--limit", "3", "--backoff", "0.01", *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=120, env=dict(os.environ))


def rows(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "predictions.jsonl").read_text().splitlines() if line.strip()]


def test_the_same_500_twice_is_not_retried_again(clip_set, tmp_path):
    with FakeOpenAIServer(Behaviour(always_status=500, status_message=VLLM_TEMPLATE_ERROR)) as srv:
        r = run_eval(clip_set, tmp_path / "run", srv.base_url)  # --max-retries 4 (the default)
    assert r.returncode == 2 and "3 of 3 requests failed" in r.stderr, r.stderr  # every request failed (#34)
    preds = rows(tmp_path / "run")
    assert len(preds) == 3 and len(srv.requests) == 6 and all(p["attempts"] == 2 for p in preds)
    assert all(VLLM_TEMPLATE_ERROR in p["error"] and "not retried" in p["error"] for p in preds)
    assert all(p["error_kind"] == "status" for p in preds)


def test_a_500_that_changes_is_retried_as_before(clip_set, tmp_path):
    with FakeOpenAIServer(Behaviour(always_status=500, status_message="worker {attempt} lost")) as srv:
        r = run_eval(clip_set, tmp_path / "run", srv.base_url, "--max-retries", "3")
    assert r.returncode == 2 and "3 of 3 requests failed" in r.stderr, r.stderr  # every request failed (#34)
    preds = rows(tmp_path / "run")
    assert len(srv.requests) == 12 and all(p["attempts"] == 4 for p in preds)
    assert all(p["error"].endswith("worker 4 lost") and "not retried" not in p["error"] for p in preds)


def test_other_5xx_that_repeat_are_retried_as_before(clip_set, tmp_path):
    with FakeOpenAIServer(Behaviour(always_status=503)) as srv:
        r = run_eval(clip_set, tmp_path / "run", srv.base_url, "--max-retries", "2")
    assert r.returncode == 2 and "3 of 3 requests failed" in r.stderr, r.stderr  # every request failed (#34)
    assert len(srv.requests) == 9
    assert all(p["attempts"] == 3 and p["error"].startswith("HTTP 503") for p in rows(tmp_path / "run"))


def test_a_500_then_an_answer_then_a_500_starts_over(clip_set, tmp_path):
    """The memory is per request and cleared by an answer: --retry-errors after a fix asks again."""
    out = tmp_path / "run"
    with FakeOpenAIServer(Behaviour(always_status=500)) as srv:
        run_eval(clip_set, out, srv.base_url)
        assert len(srv.requests) == 6
    with FakeOpenAIServer(Behaviour()) as srv:
        r = run_eval(clip_set, out, srv.base_url, "--retry-errors")
        assert r.returncode == 0, r.stderr
        assert len(srv.requests) == 3
    final = {p["qid"]: p for p in rows(out)}
    assert len(final) == 3 and not any(p["error"] for p in final.values())
