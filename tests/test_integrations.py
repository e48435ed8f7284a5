"""MA-Bench inside harnesses: inspect_ai runs against the project's test server (a real process on
127.0.0.1) and must score exactly as `mabench eval` / `mabench judge` do on the same questions and frames.
lmms-eval is checked in CI's own stage (`tests/lmms_eval_stage.py`)."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import mabench
from mabench.integrations import common

SRC = str(Path(__file__).resolve().parents[1] / "src")


@pytest.fixture
def server(tmp_path):
    """`python -m mabench.testing.openai_server` in its own process; yields (base_url, request log)."""
    log = tmp_path / "requests.jsonl"
    proc = subprocess.Popen([sys.executable, "-m", "mabench.testing.openai_server", "--port", "0", "--log", str(log)],
                            stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")})
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("listening on "), line
        yield line.split()[-1], log
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_frames_are_evals_frames(clip_set):
    """The integrations' frames are `mabench eval`'s frames, byte for byte (same sampling, same JPEGs)."""
    import asyncio

    from mabench.video.cache import FrameCache
    from mabench.video.sampling import SamplingConfig

    async def via_cache():
        cache = FrameCache(SamplingConfig())
        try:
            return (await cache.get(clip_set / "clips" / "clip_002.mp4")).data_urls
        finally:
            cache.close()

    assert common.frame_urls(clip_set / "clips", "clip_002") == asyncio.run(via_cache())
    assert len(common.frame_images(clip_set / "clips", "clip_002.mp4")) == 8


def test_inspect_ai_scores_equal_mabench_eval(clip_set, server, tmp_path, monkeypatch):
    inspect_ai = pytest.importorskip("inspect_ai", reason="inspect-ai not installed (pip install -e '.[inspect]')")
    from mabench.integrations.inspect_ai import all_tasks

    base_url, log = server
    bench, clips = clip_set / "bench.json", clip_set / "clips"
    run = mabench.evaluate(bench, "openai:test-model", tmp_path / "run", videos=clips, base_url=base_url,
                           concurrency=4)
    judged = mabench.judge(tmp_path / "run", ["openai:test-model"], base_url=base_url,
                           cache=tmp_path / "judge.sqlite")
    ref = judged.scores.columns()
    assert run.errors == 0 and ref["final"] is not None
    # the deterministic server must give a spread of right and wrong, or equality would prove nothing
    assert 0 < ref["closed AVG"] < 100 and len({ref[t] for t in ("CMAR", "FMAR", "SAD", "MAD", "MAS", "PPR")}) > 1

    monkeypatch.setenv("LOCAL_BASE_URL", base_url)
    monkeypatch.setenv("LOCAL_API_KEY", "none")
    [log_] = inspect_ai.eval(all_tasks(benchmark=str(bench), videos=str(clips)), model="openai-api/local/test-model",
                             log_dir=str(tmp_path / "logs"), display="none", max_connections=4)
    assert log_.status == "success", log_.error
    got = {name: m.value for s in log_.results.scores for name, m in s.metrics.items()}
    for col, want in ref.items():
        if col == "final":
            continue
        assert col in got, (col, sorted(got))
        assert math.isclose(got[col], want, abs_tol=1e-9), (col, got[col], want)
    tiers = judged.scores.tiers
    for tier, want in tiers.items():
        assert want is not None and math.isclose(got[tier], want, abs_tol=1e-9), (tier, got.get(tier), want)
    assert len(log_.samples) == 60


def test_inspect_cli_closed(clip_set, server, tmp_path):
    """`inspect eval mabench/closed -T benchmark=... -T videos=... --model openai-api/local/NAME`, as the
    README says, where the entry point is installed (an editable install of this tree)."""
    pytest.importorskip("inspect_ai", reason="inspect-ai not installed (pip install -e '.[inspect]')")
    from importlib.metadata import entry_points

    if not any(ep.value == "mabench.integrations.inspect_ai" for ep in entry_points(group="inspect_ai")):
        pytest.skip("the inspect_ai entry point of this tree is not installed (pip install -e '.[inspect]')")
    base_url, _ = server
    env = {**os.environ, "LOCAL_BASE_URL": base_url, "LOCAL_API_KEY": "none"}
    r = subprocess.run([sys.executable, "-m", "inspect_ai", "eval", "mabench/closed",
                        "-T", f"benchmark={clip_set / 'bench.json'}", "-T", f"videos={clip_set / 'clips'}",
                        "--model", "openai-api/local/test-model", "--log-dir", str(tmp_path / "logs"),
                        "--display", "plain"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "closed AVG" in r.stdout + r.stderr
