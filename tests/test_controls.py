"""Video controls (`mabench eval --control`): what each control's requests carry, against a recording server,
in frames and video mode; the control as part of the run's identity; a frame cache shared with plain runs.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

from mabench.evaluation.controls import CONTROLS, Control
from mabench.testing.openai_server import Behaviour, FakeOpenAIServer
from mabench.video.decode import decode_all

CONTROLLED = [c for c in CONTROLS if c != "none"]


def _eval(bench: Path, videos: Path, out: Path, url: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mabench.cli", "eval", str(bench), "--videos", str(videos),
                           "--model", "openai:test-model", "--base-url", url, "--out", str(out), "--no-progress",
                           "--concurrency", "1", *extra], capture_output=True, text=True, timeout=300)


def _requests(clip_set: Path, out: Path, *extra: str) -> list[dict]:
    """The bodies of one run's requests on the first 3 clips, in the order sent (one at a time: clip-major, the
    same every run)."""
    with FakeOpenAIServer(Behaviour(record_bodies=True)) as srv:
        r = _eval(clip_set / "bench.json", clip_set / "clips", out, srv.base_url, "--limit", "36", *extra)
        assert r.returncode == 0, r.stderr[-2000:]
        return [q["body"] for q in srv.requests]


def _parts(body: dict, kind: str) -> list[str]:
    return [p[kind]["url"] for p in body["messages"][-1]["content"] if p.get("type") == kind]


def _text(body: dict) -> tuple[str, str]:
    system = next((m["content"] for m in body["messages"] if m["role"] == "system"), "")
    return system, next(p["text"] for p in body["messages"][-1]["content"] if p.get("type") == "text")


def test_orders_are_what_each_control_says():
    assert Control("reverse").order(8, "c") == [7, 6, 5, 4, 3, 2, 1, 0]
    assert Control("single").order(8, "c") == [3] * 8 and Control("single").order(7, "c") == [3] * 7
    shuffled = {clip: Control("shuffle", 0).order(8, clip) for clip in ("a", "b", "c", "d")}
    assert all(sorted(o) == list(range(8)) and o != list(range(8)) for o in shuffled.values())
    assert len({tuple(o) for o in shuffled.values()}) > 1  # per clip, not one permutation for all
    assert Control("shuffle", 0).order(8, "a") == shuffled["a"] != Control("shuffle", 1).order(8, "a")
    assert Control("shuffle").order(2, "x") == [1, 0]  # the only permutation that changes anything
    with pytest.raises(ValueError, match="unknown control"):
        Control("backwards")


def test_each_control_sends_the_transformed_frames(clip_set, tmp_path):
    plain = _requests(clip_set, tmp_path / "plain")
    assert len(plain) == 36
    for name in CONTROLLED:
        got = _requests(clip_set, tmp_path / name, "--control", name, "--control-seed", "4")
        assert len(got) == len(plain)
        control = Control(name, 4)
        for i, (p, g) in enumerate(zip(plain, got, strict=True)):
            assert _text(p) == _text(g)  # the same system prompt and question
            clip = f"clip_{i // 12:03d}"
            want = [] if name == "blank" else [_parts(p, "image_url")[k] for k in control.order(8, clip)]
            assert _parts(g, "image_url") == want, (name, i)  # count, order and bytes (so pixels) of each frame
    # the run says under which control its answers were given
    config = json.loads((tmp_path / "shuffle" / "config.json").read_text())
    assert config["control"] == {"name": "shuffle", "seed": 4}
    sub = json.loads((tmp_path / "reverse" / "submission.json").read_text())
    assert sub["prompts"] and all(e.get("control") == {"name": "reverse"} for e in sub["prompts"]), sub["prompts"]
    assert "control" not in json.loads((tmp_path / "plain" / "config.json").read_text())


def test_video_mode_sends_the_clip_reencoded_under_the_control(clip_set, tmp_path):
    originals = {p.stem: decode_all(p)[0] for p in sorted((clip_set / "clips").glob("*.mp4"))}
    plain = _requests(clip_set, tmp_path / "plain", "--video-mode", "video")
    for name in CONTROLLED:
        got = _requests(clip_set, tmp_path / name, "--video-mode", "video", "--control", name)
        assert [_text(b) for b in got] == [_text(b) for b in plain]
        for i, body in enumerate(got):
            urls = _parts(body, "video_url")
            if name == "blank":
                assert urls == []
                continue
            clip = f"clip_{i // 12:03d}"
            sent = Path(unquote(urlparse(urls[0]).path))
            frames = decode_all(sent)[0]
            want = [originals[clip][k] for k in Control(name).order(len(originals[clip]), clip)]
            assert len(frames) == len(want) and all(np.array_equal(a, b) for a, b in zip(frames, want, strict=True))
    plain_urls = {_parts(b, "video_url")[0] for b in plain}
    assert all(Path(unquote(urlparse(u).path)).parent == clip_set / "clips" for u in plain_urls)


def test_a_control_is_another_run_and_shares_the_frame_cache(clip_set, tmp_path):
    cache = tmp_path / "frames"
    with FakeOpenAIServer(Behaviour(record_bodies=True)) as srv:
        bench, clips, out = clip_set / "bench.json", clip_set / "clips", tmp_path / "run"
        assert _eval(bench, clips, out, srv.base_url, "--control", "reverse", "--frame-cache", str(cache),
                     "--limit", "12").returncode == 0
        again = _eval(bench, clips, out, srv.base_url, "--frame-cache", str(cache), "--limit", "12")
        assert again.returncode != 0 and "control" in again.stderr  # the same --out without the control: refused
        srv.requests.clear()
        assert _eval(bench, clips, tmp_path / "plain", srv.base_url, "--frame-cache", str(cache),
                     "--limit", "12").returncode == 0
        plain = [_parts(q["body"], "image_url") for q in srv.requests]
    # the cache the reverse run filled gives the plain run the frames in their own order
    from mabench.video import SamplingConfig, sample_frames

    own = [("data:image/jpeg;base64," + base64.b64encode(j).decode()) for j in
           sample_frames(clips / "clip_000.mp4", SamplingConfig()).jpegs]
    assert plain and all(urls == own for urls in plain)


def test_the_report_compares_only_what_both_runs_answered_under_the_same_settings(clip_set, tmp_path):
    bench, clips = clip_set / "bench.json", clip_set / "clips"
    with FakeOpenAIServer(Behaviour()) as srv:
        for out, extra in (("plain", ()), ("rev_sad", ("--control", "reverse", "--tasks", "SAD")),
                           ("rev_4", ("--control", "reverse", "--frames", "4"))):
            assert _eval(bench, clips, tmp_path / out, srv.base_url, *extra).returncode == 0
    report = [sys.executable, "-m", "mabench.cli", "report", str(tmp_path / "plain"), "--no-paper"]
    r = subprocess.run([*report, "--out", str(tmp_path / "rep"), "--controls", str(tmp_path / "rev_sad")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Reliance on the video" in (tmp_path / "rep" / "index.html").read_text()
    rel = json.loads((tmp_path / "rep" / "report.json").read_text())["reliance"]
    groups = rel["controls"][0]["groups"]
    assert groups["SAD"]["coverage"] == 1.0 and groups["SAD"]["n"] == groups["SAD"]["asked"]
    assert groups["CMAR"]["n"] == 0  # never asked under the control: no Δ, no verdict of reliance
    assert "too few questions answered in both runs" in rel["verdicts"]["CMAR"]
    assert "rely" not in rel["verdicts"]["CMAR"]
    # a "control" run with other frames is another experiment, refused by name
    r = subprocess.run([*report, "--out", str(tmp_path / "rep4"), "--controls", str(tmp_path / "rev_4")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode != 0 and "other settings" in r.stderr and "sampling" in r.stderr
