"""`mabench annotate` end to end on real rendered clips, and the flow and pose stages."""

import json
import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from mabench.cli import app
from mabench.motion.annotate import read_descriptors
from mabench.synth.generate import ClipSpec, write_clip


@pytest.fixture(scope="module")
def figure_clips(tmp_path_factory):
    root = tmp_path_factory.mktemp("fig")
    specs = [ClipSpec(f"c{i}", label, subject=i, seed=10 + i, duration=2.0)
             for i, label in enumerate(("waving", "nodding", "crossing legs"))]
    truths = {s.name: write_clip(root, s) for s in specs}
    return root, truths


def test_annotate_cli_resumes_and_isolates_bad_clips(tmp_path, figure_clips):
    root, truths = figure_clips
    clips = tmp_path / "clips"
    shutil.copytree(root / "clips", clips)
    (clips / "broken.mp4").write_bytes(b"not a video at all")           # corrupt clip
    shutil.copy(clips / "c0.mp4", clips / "orphan.mp4")                  # no skeleton for it
    out = tmp_path / "ann"
    args = ["annotate", str(clips), "--skeletons", str(root / "skeletons"), "--out", str(out), "--workers", "2"]
    r = CliRunner().invoke(app, args)
    assert r.exit_code == 0, r.output
    assert "3 clips annotated, 2 errors" in r.output
    recs = read_descriptors(out)
    assert "error" in recs["broken.mp4"] and "no skeleton file for orphan" in recs["orphan.mp4"]["error"]
    for name, truth in truths.items():
        rec = recs[f"{name}.mp4"]
        if truth["facts"]["dominant"]:
            assert rec["dominant"] == truth["facts"]["dominant"]
        assert rec["flow"]["parts"]["head"]["energy"] >= 0
    assert recs["c0.mp4"]["dominant"] == truths["c0"]["facts"]["dominant"]  # the waving hand
    # a rerun does only what is missing; --retry-errors tries the failures again
    r = CliRunner().invoke(app, args)
    assert "0 clips annotated, 0 errors, 5 already done" in r.output
    r = CliRunner().invoke(app, [*args, "--retry-errors", "--workers", "1"])
    assert "0 clips annotated, 2 errors, 3 already done" in r.output
    assert len((out / "descriptors.jsonl").read_text().splitlines()) == 7


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="a named pipe needs a POSIX system")
@pytest.mark.parametrize("executor,workers", [("local", "1"), ("local", "2"), ("ray", "2")])
def test_a_clip_that_never_finishes_costs_its_own_record_not_the_run(tmp_path, figure_clips, executor, workers):
    # a named pipe called .mp4 with no writer: opening it blocks for good inside the decoder (before this
    # deadline, `mabench annotate` waited forever, with one worker or several, and on Ray)
    if executor == "ray":
        pytest.importorskip("ray", reason="the ray extra is not installed")
    root, _ = figure_clips
    clips = tmp_path / "clips"
    shutil.copytree(root / "clips", clips)
    os.mkfifo(clips / "stuck.mp4")
    out = tmp_path / "ann"
    limit = "8" if executor == "local" else "30"  # a Ray worker's start counts against its first clip's deadline
    cmd = [sys.executable, "-m", "mabench", "annotate", str(clips), "--skeletons", str(root / "skeletons"),
           "--out", str(out), "--workers", workers, "--clip-timeout", limit, "--executor", executor]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300,
                       env={k: v for k, v in os.environ.items() if k != "RAY_ADDRESS"})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "3 clips annotated, 1 errors" in r.stdout, r.stdout
    recs = read_descriptors(out)
    assert recs["stuck.mp4"]["error"].startswith(f"TimeoutError: no result after {limit} s"), recs["stuck.mp4"]
    assert all("error" not in recs[f"c{i}.mp4"] for i in range(3))
    assert time.monotonic() - t0 < 200


def test_a_record_of_an_older_descriptor_version_is_computed_again(tmp_path, figure_clips):
    """The question builder reads fields an older descriptor version lacks: a resumed build must not take
    such a record as done (errors stay as they are unless retried)."""
    from mabench.motion.annotate import AnnotateSettings, annotate
    from mabench.motion.descriptors import DESCRIPTOR_VERSION

    root, _ = figure_clips
    out = tmp_path / "ann"
    settings = AnnotateSettings(skeletons=str(root / "skeletons"), flow=False)
    clips = sorted((root / "clips").glob("*.mp4"))
    assert annotate(clips, out, settings)["done"] == 3
    path = out / "descriptors.jsonl"
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    lines[0]["version"] = "ma-desc-v2"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    counts = annotate(clips, out, settings)
    assert counts["stale"] == 1 and counts["done"] == 1 and counts["skipped"] == 2
    assert {r["version"] for r in read_descriptors(out).values()} == {DESCRIPTOR_VERSION}


def test_annotate_needs_a_skeleton_source(tmp_path, figure_clips):
    root, _ = figure_clips
    r = CliRunner().invoke(app, ["annotate", str(root / "clips"), "--out", str(tmp_path)])
    assert r.exit_code == 2 and "--skeletons DIR" in r.output


def test_flow_energy_follows_the_moving_part(figure_clips):
    from mabench.motion.flow import clip_flow
    from mabench.motion.skeleton import load_skeleton_file

    root, _ = figure_clips
    fl = clip_flow(root / "clips" / "c0.mp4", load_skeleton_file(root / "skeletons" / "c0.json"))
    side = json.loads((root / "truth" / "c0.json").read_text())["program"]["side"]
    energy = {p: v["energy"] for p, v in fl["parts"].items()}
    arm = max(energy[f"{side} hand"], energy[f"{side} lower arm"])
    assert arm > 5 * max(energy["left foot"], energy["right foot"])
    assert arm > 3 * energy["head"]


def test_mediapipe_pose_on_a_real_photo():
    pytest.importorskip("mediapipe", reason="pose extra not installed (see README: Pose backends)")
    data = pytest.importorskip("skimage.data", reason="scikit-image provides the test photo")
    from mabench.motion.pose import MediaPipePose
    from mabench.motion.skeleton import J

    img = data.astronaut()  # a real person facing the camera
    sk = MediaPipePose().estimate([img], np.array([0.0]))
    p = sk.points[0]
    # her left shoulder is on the image's right; the head is above the shoulders
    assert p[J["left_shoulder"], 0] > p[J["right_shoulder"], 0] + 100
    assert p[J["head"], 1] < p[J["neck"], 1] - 50
