"""`mabench eval --protocol kit` sends what the official MAC 2026 runner sends, request for request (issue #30).

The organisers' runner (`../shared/reference/kit/run.py`, read from there, run from a temporary copy beside
the test's own prompts.py) and `mabench eval --protocol kit` ask the same questions on the same real mp4
clips (0.5-5 s; 24, 25, 30 and 60 fps, and one whose frame count OpenCV misreports) of a recording server
on 127.0.0.1; every request must match:
the same messages (system text, the images in order with identical bytes, the question), the same
`max_tokens`, no temperature. Skips where the reference runner is absent.
"""

from __future__ import annotations

import base64
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mabench.synth.questions import placeholder_records
from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

KIT = Path(__file__).resolve().parents[2] / "shared" / "reference" / "kit"
CLIPS = [(0.5, 24), (1.0, 30), (2.13, 30), (2.0, 25), (5.0, 60), (1.5, 24)]
MODEL = "kit-model"

# A participant's prompts.py as the kit ships it (keys AS, VCC-LS, LRC-LS), with some text filled in.
PROMPTS_PY = '''
CMAR = """You see frames of a seated person.
Answer with one letter."""

SAD = "Answer Yes or No." + " Nothing else."

AS = """Which came first?"""

VCC_LS = """Describe it."""

SYSTEM_PROMPTS = {
    "CMAR": CMAR,
    "FMAR": """Pick the fine label.""",
    "AS": AS,
    "SAD": SAD,
    "VCC-LS": VCC_LS,
}
'''


N_CLIPS = len(CLIPS) + 1  # and one whose frame count OpenCV misreports


def _write_misreported(path: Path) -> None:
    """A 2-s, 30 fps mp4 with its index in front (faststart), cut after about half its frames: OpenCV
    reports 60 frames (the index), 29 decode. The runner's stride comes from the 60 (7), and its reads
    stop at the first that fails."""
    from fractions import Fraction

    import av
    import numpy as np

    full = path.with_suffix(".full.mp4")
    with av.open(str(full), "w", options={"movflags": "faststart"}) as out:
        st = out.add_stream("libx264", rate=Fraction(30))
        st.width, st.height, st.pix_fmt = 176, 144, "yuv420p"
        st.options = {"preset": "ultrafast", "tune": "zerolatency"}
        for i in range(60):
            img = np.full((144, 176, 3), (i * 4) % 255, np.uint8)
            img[20:40, i:i + 20] = 255
            for pkt in st.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    data = full.read_bytes()
    full.unlink()
    path.write_bytes(data[: int(len(data) * 0.55)])


@pytest.fixture(scope="module")
def kit_set(tmp_path_factory):
    if not (KIT / "run.py").exists():
        pytest.skip("../shared/reference/kit/run.py not present (only in the dev workspace)")
    pytest.importorskip("tqdm")  # the runner's progress bar
    from mabench.synth import write_box_clip

    root = tmp_path_factory.mktemp("kit")
    recs = []
    pool = placeholder_records(N_CLIPS)
    for i, (seconds, fps) in enumerate(CLIPS):
        write_box_clip(root / "clips" / f"clip_{i:03d}.mp4", seconds=seconds, fps=fps, width=176, height=144, seed=i)
    _write_misreported(root / "clips" / f"clip_{len(CLIPS):03d}.mp4")
    for i in range(N_CLIPS):
        name = f"clip_{i:03d}"
        for r in pool:  # one question of each task on this clip
            if r["video_name"] == name:
                recs.append({"video": name, "task": r["task"], "qid": r["qid"],
                             "question": f"[{name}] {r['question']}"})
    (root / "bench.json").write_text(json.dumps(recs, indent=1))
    runner = root / "runner"
    runner.mkdir()
    shutil.copy(KIT / "run.py", runner / "run.py")  # a temporary copy, beside the test's prompts.py
    (runner / "prompts.py").write_text(PROMPTS_PY)
    return root


def _reference_requests(root: Path, prompts_dir: Path) -> list[dict]:
    runner = root / "runner"
    if prompts_dir != runner:
        shutil.copy(prompts_dir / "prompts.py", runner / "prompts.py")
    with FakeOpenAIServer(Behaviour(model=MODEL, record_bodies=True)) as srv:
        env = {**os.environ, "MODEL_NAME": MODEL, "INPUT_JSON": str(root / "bench.json"),
               "VIDEO_DIR": str(root / "clips"), "OUTPUT_JSON": str(root / f"ref_{prompts_dir.name}.json"),
               "OPENAI_BASE_URL": srv.base_url, "OPENAI_API_KEY": "EMPTY", "LLM_BACKEND": "vllm"}
        r = subprocess.run([sys.executable, str(runner / "run.py")], cwd=runner, env=env, capture_output=True,
                           text=True, timeout=180)
        assert r.returncode == 0, r.stderr[-2000:]
        return [q["body"] for q in srv.requests]


def _mabench_requests(root: Path, prompts: Path, out: Path) -> tuple[list[dict], str]:
    with FakeOpenAIServer(Behaviour(model=MODEL, record_bodies=True)) as srv:
        r = subprocess.run([sys.executable, "-m", "mabench.cli", "eval", str(root / "bench.json"), "--videos",
                            str(root / "clips"), "--model", f"openai:{MODEL}", "--base-url", srv.base_url, "--out",
                            str(out), "--no-progress", "--protocol", "kit", "--prompts", str(prompts)],
                           capture_output=True, text=True, timeout=180)
        assert r.returncode == 0, r.stderr
        return [q["body"] for q in srv.requests], r.stderr


def _by_question(bodies: list[dict]) -> dict[str, dict]:
    out = {}
    for b in bodies:
        text = b["messages"][-1]["content"][-1]["text"]
        assert text not in out, "a question asked twice"
        out[text] = b
    return out


def _pixels(url: str) -> bytes:
    from PIL import Image

    return Image.open(io.BytesIO(base64.b64decode(url.split(",", 1)[1]))).convert("RGB").tobytes()


def _compare(ref: list[dict], ours: list[dict]) -> int:
    a, b = _by_question(ref), _by_question(ours)
    assert a.keys() == b.keys() and len(a) == 12 * N_CLIPS
    for q in a:
        r, m = a[q], b[q]
        assert set(r) == set(m) == {"model", "messages", "max_tokens"}, (set(r), set(m))  # no temperature
        assert r["max_tokens"] == m["max_tokens"] == 2048
        assert [x["role"] for x in r["messages"]] == [x["role"] for x in m["messages"]] == ["system", "user"]
        assert r["messages"][0] == m["messages"][0]  # the same system text, empty where the runner's is
        ri, mi = r["messages"][1]["content"], m["messages"][1]["content"]
        assert [p["type"] for p in ri] == [p["type"] for p in mi] and ri[-1] == mi[-1]
        urls_r = [p["image_url"]["url"] for p in ri[:-1]]
        urls_m = [p["image_url"]["url"] for p in mi[:-1]]
        assert len(urls_r) == len(urls_m) >= 1
        assert [_pixels(u) for u in urls_r] == [_pixels(u) for u in urls_m]  # identical decoded pixels
        assert urls_r == urls_m  # identical bytes: both encode with this OpenCV
    return len(a)


def test_kit_protocol_sends_the_runners_requests(kit_set, tmp_path):
    ref = _reference_requests(kit_set, kit_set / "runner")
    ours, stderr = _mabench_requests(kit_set, kit_set / "runner" / "prompts.py", tmp_path / "run")
    assert _compare(ref, ours) == 84
    # a 1-s clip at 30 fps: 8 frames (the runner's stride 3), a 0.5-s clip at 24 fps: 8 frames 1 apart
    counts = {json.loads(line)["video"]: json.loads(line)["frames"]["count"]
              for line in (tmp_path / "run" / "predictions.jsonl").read_text().splitlines()}
    assert counts["clip_001"] == 8 and counts["clip_000"] == 8
    assert counts["clip_006"] < 8  # the misreported clip: reads stop where its frames end, as the runner's
    # the prompts as sent are in the submission: empty for the tasks the file has no entry for
    sub = json.loads((tmp_path / "run" / "submission.json").read_text())
    sent = {p["task"]: p["system_prompt"] for p in sub["prompts"]}
    assert sent["MAS"] == sent["MADU"] == sent["MARE"] == "" and sent["SAD"] == "Answer Yes or No. Nothing else."
    assert all(p["protocol"] == "kit" for p in sub["prompts"])
    cfg = json.loads((tmp_path / "run" / "config.json").read_text())
    assert cfg["protocol"] == "kit" and cfg["sampling"]["strategy"] == "kit" and cfg["sampling"]["max_side"] is None
    # one line per task the file has no entry for, naming the kit's own key where it has one
    lines = [ln for ln in stderr.splitlines() if ln.startswith("warning:")]
    assert lines == [
        "warning: MAD: no entry in prompts.py: an empty system prompt, as the official runner sends",
        "warning: MAS: no entry in prompts.py (it has AS): an empty system prompt, as the official runner sends",
        "warning: PPR: no entry in prompts.py: an empty system prompt, as the official runner sends",
        "warning: MADU: no entry in prompts.py (it has VCC-LS): an empty system prompt, as the official runner sends",
        "warning: MARE: no entry in prompts.py: an empty system prompt, as the official runner sends",
    ]


def test_the_shipped_prompts_file_gives_the_runners_requests(kit_set, tmp_path):
    """The kit's own prompts.py as shipped: three tasks get an empty system prompt, in both."""
    ref = _reference_requests(kit_set, KIT)
    ours, stderr = _mabench_requests(kit_set, KIT / "prompts.py", tmp_path / "run")
    assert _compare(ref, ours) == 84
    assert sum("no entry in prompts.py" in ln for ln in stderr.splitlines()) == 3


def test_a_prompts_file_is_read_never_run(tmp_path):
    from mabench.evaluation.prompts import PromptError, load_prompts

    marker = tmp_path / "ran"
    f = tmp_path / "prompts.py"
    f.write_text(f"open({str(marker)!r}, 'w').write('x')\nSYSTEM_PROMPTS = {{'SAD': 'Yes or No.'}}\n")
    assert load_prompts(f)["SAD"] == "Yes or No." and load_prompts(f)["CMAR"] == ""
    assert not marker.exists()
    f.write_text("import os\nSYSTEM_PROMPTS = {'SAD': os.environ['X']}\n")
    with pytest.raises(PromptError, match="string literals"):
        load_prompts(f)


def test_sampling_kit_alone_points_to_the_protocol(clip_set, tmp_path):
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "eval", str(clip_set / "bench.json"), "--model", "random",
                        "--out", str(tmp_path / "run"), "--sampling", "kit"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 2 and "use --protocol kit" in r.stderr and "--sampling fps3" in r.stderr


def test_report_says_when_runs_were_asked_under_different_protocols(kit_set, tmp_path):
    """A kit run beside a mabench run of the same questions: the report says so in one line."""
    common = ["eval", str(kit_set / "bench.json"), "--videos", str(kit_set / "clips"), "--model", f"openai:{MODEL}",
              "--no-progress"]
    recs = json.loads((kit_set / "bench.json").read_text())
    answered = tmp_path / "key.json"  # the same questions with answers (the placeholder answers of their qids)
    pool = {r["qid"]: r for r in placeholder_records(N_CLIPS)}
    answered.write_text(json.dumps([{**r, "answer": pool[r["qid"]]["answer"]} for r in recs]))
    with FakeOpenAIServer(Behaviour(model=MODEL)) as srv:
        for name, extra in (("kit", ["--protocol", "kit"]), ("ours", [])):
            r = subprocess.run([sys.executable, "-m", "mabench.cli", *common, "--base-url", srv.base_url, "--out",
                                str(tmp_path / name), "--limit", "24", *extra], capture_output=True, text=True,
                               timeout=120)
            assert r.returncode == 0, r.stderr
    r = subprocess.run([sys.executable, "-m", "mabench.cli", "report", str(tmp_path / "kit"), str(tmp_path / "ours"),
                        "--out", str(tmp_path / "rep"), "--key", str(answered), "--no-html", "--bootstrap", "100"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "note: the runs were asked under different protocols (kit: kit, ours: mabench)" in r.stderr
    rep = json.loads((tmp_path / "rep" / "report.json").read_text())
    assert [x["conditions"]["protocol"] for x in rep["runs"]] == ["kit", "mabench"]
    assert "different protocols" in (tmp_path / "rep" / "leaderboard.md").read_text()
