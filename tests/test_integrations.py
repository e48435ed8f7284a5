"""MA-Bench inside harnesses: inspect_ai runs against the project's test server (a real process on
127.0.0.1) and must score exactly as `mabench eval` / `mabench judge` do on the same questions and frames.
lmms-eval is checked in CI's own stage (`tests/lmms_eval_stage.py`)."""

from __future__ import annotations

import json
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


@pytest.fixture
def ubench(clip_set, tmp_path) -> Path:
    """The clip set's 5 clips with a benchmark whose questions are unique per clip."""
    import json

    from mabench.synth.questions import placeholder_records

    p = tmp_path / "ubench.json"
    p.write_text(json.dumps(placeholder_records(5, seed=3, unique_per_clip=True)), encoding="utf-8")
    return p


def test_server_finds_the_question_at_the_end_of_a_wrapped_text(ubench):
    """Harnesses wrap the question in their own text; the oracle still finds it (unique per clip)."""
    import json

    import openai

    from mabench.data import load_benchmark
    from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

    qs = load_benchmark(ubench).questions
    assert len({q.question for q in qs}) == len(qs)
    key = {q.question: q.answer for q in qs if q.answer is not None}
    with FakeOpenAIServer(Behaviour(key=key)) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="none")
        for q in [qs[0], qs[14], qs[-1]]:  # CMAR of clip 0, a Yes/No of clip 1, MARE of the last clip
            wrapped = f"Watch the frames carefully.\n{q.question}\n"
            reply = client.chat.completions.create(model="test-model", messages=[
                {"role": "system", "content": [{"type": "text", "text": "You are helpful."}]},
                {"role": "user", "content": [{"type": "text", "text": wrapped}]}])
            assert reply.choices[0].message.content == q.answer, (q.qid, json.dumps(wrapped))


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


def test_inspect_ai_scores_equal_mabench_eval(clip_set, ubench, server, tmp_path, monkeypatch):
    inspect_ai = pytest.importorskip("inspect_ai", reason="inspect-ai not installed (pip install -e '.[inspect]')")
    from mabench.integrations.inspect_ai import all_tasks

    base_url, log = server
    bench, clips = ubench, clip_set / "clips"
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
    # frames went as image parts: 8 per question, as `mabench eval` sends them
    rows = [json.loads(x) for x in log.read_text().splitlines()]
    assert sum(r["images"] == 8 for r in rows) == 2 * 60, "each question twice (eval, inspect) with 8 frames"


def test_inspect_cli_closed(clip_set, server, tmp_path):
    """`inspect eval mabench/closed -T benchmark=... -T videos=... --model openai-api/local/NAME`, as the
    README says, where the entry point is installed (an editable install of this tree)."""
    pytest.importorskip("inspect_ai", reason="inspect-ai not installed (pip install -e '.[inspect]')")
    from inspect_ai._util.registry import registry_info

    from mabench.integrations.inspect_ai import closed

    # inspect names a task `mabench/closed` only when mabench is installed (site-packages or editable)
    if registry_info(closed).name != "mabench/closed":
        pytest.skip("mabench is not installed with its inspect_ai entry point here (pip install -e '.[inspect]')")
    base_url, _ = server
    env = {**os.environ, "LOCAL_BASE_URL": base_url, "LOCAL_API_KEY": "none"}
    r = subprocess.run([sys.executable, "-m", "inspect_ai", "eval", "mabench/closed",
                        "-T", f"benchmark={clip_set / 'bench.json'}", "-T", f"videos={clip_set / 'clips'}",
                        "--model", "openai-api/local/test-model", "--log-dir", str(tmp_path / "logs"),
                        "--display", "plain"], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "closed AVG" in r.stdout + r.stderr


def test_vlmevalkit_dataset_asks_and_scores_as_mabench(clip_set, ubench, tmp_path):
    """The `MABench` dataset the VLMEvalKit launcher registers (VLMEvalKit itself is not installed in
    tests: too heavy): its prompts carry eval's system prompt, frames and question; an oracle server that
    finds the question at the end of the wrapped text answers it; `evaluate` scores via `mabench.score`."""
    pd = pytest.importorskip("pandas", reason="pandas (VLMEvalKit's dependency) not installed")
    import base64

    import openai

    from mabench.data import load_benchmark
    from mabench.integrations.vlmevalkit import MABenchVideo
    from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

    ds = MABenchVideo(bench=str(ubench), videos=str(clip_set / "clips"), frames_dir=str(tmp_path / "frames"))
    key = {q.question: q.answer for q in load_benchmark(ubench) if q.answer is not None}
    preds = []
    with FakeOpenAIServer(Behaviour(key=key)) as srv:
        client = openai.OpenAI(base_url=srv.base_url, api_key="none")
        for i in range(len(ds)):
            msg = ds.build_prompt(i)
            assert [m["type"] for m in msg] == ["text"] + ["image"] * 8 + ["text"]
            content = [{"type": "text", "text": m["value"]} if m["type"] == "text" else
                       {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,"
                                                           + base64.b64encode(Path(m["value"]).read_bytes()).decode()}}
                       for m in msg]
            r = client.chat.completions.create(model="test-model", messages=[{"role": "user", "content": content}])
            preds.append(r.choices[0].message.content)
    urls = common.frame_urls(clip_set / "clips", "clip_000")
    assert srv.requests[0]["images"] == len(urls) == 8
    out = tmp_path / "preds.tsv"
    pd.DataFrame({**{c: ds.data[c] for c in ds.data.columns}, "prediction": preds}).to_csv(out, sep="\t", index=False)
    res = ds.evaluate(str(out))
    assert res["closed AVG"] == 100.0 and all(res[t] == 100.0 for t in ("CMAR", "FMAR", "SAD", "MAD", "MAS", "PPR"))
