import subprocess
import sys

from mabench.data import load_benchmark
from mabench.video import SamplingConfig, sample_frames


def test_placeholder_set_for_dry_runs(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mabench.synth", "--placeholder", "--clips", "3", "--out",
                        str(tmp_path / "d")], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    bench = load_benchmark(tmp_path / "d" / "bench.json")
    assert len(bench) == 36 and bench.has_answers and len(bench.videos) == 3
    for vid in bench.videos:
        frames = sample_frames(tmp_path / "d" / "clips" / f"{vid}.mp4", SamplingConfig())
        assert len(frames.jpegs) == 8 and 1.0 <= frames.duration + 0.04 <= 3.0 + 1e-6


def test_figure_set_covers_the_taxonomy_and_is_reproducible(tmp_path):
    import csv
    import json

    import numpy as np

    from mabench.motion.skeleton import load_skeleton_file
    from mabench.synth.generate import ACTIONS, write_set
    from mabench.taxonomy import COARSE_CLASSES, FINE_LABELS, FINE_TO_COARSE

    assert len(ACTIONS) >= 24 and set(ACTIONS) <= set(FINE_LABELS)
    assert {FINE_TO_COARSE[a] for a in ACTIONS} == set(COARSE_CLASSES)

    labels = write_set(tmp_path / "a", 4, seed=7, min_s=1.0, max_s=1.5)
    rows = list(csv.DictReader(labels.open()))
    assert [r.keys() for r in rows][0] == {"clip", "label", "subject"} and len(rows) == 4
    for r in rows:
        stem = r["clip"][:-4]
        truth = json.loads((tmp_path / "a" / "truth" / f"{stem}.json").read_text())
        assert truth["label"] == r["label"] and truth["coarse"] == FINE_TO_COARSE[r["label"]]
        assert {"dominant", "directions", "order", "pairs", "onset"} <= set(truth["facts"])
        sk = load_skeleton_file(tmp_path / "a" / "skeletons" / f"{stem}.json")
        frames = sample_frames(tmp_path / "a" / "clips" / r["clip"], SamplingConfig(num_frames=4))
        assert len(frames.jpegs) == 4
        assert abs(frames.duration - sk.duration) < 0.1  # the video and the keypoints share one clock
    write_set(tmp_path / "b", 4, seed=7, video=False, min_s=1.0, max_s=1.5)
    for f in (tmp_path / "b" / "skeletons").iterdir():
        a = load_skeleton_file(tmp_path / "a" / "skeletons" / f.name)
        assert np.array_equal(a.points, load_skeleton_file(f).points)


def test_synth_cli_rejects_bad_durations(tmp_path):
    from typer.testing import CliRunner

    from mabench.cli import app

    r = CliRunner().invoke(app, ["synth", "--out", str(tmp_path), "--n", "2", "--max-seconds", "9"])
    assert r.exit_code == 2 and "1 <= min <= max <= 5" in r.output


def _nod_clip(root, video=True):
    from mabench.synth.generate import ClipSpec, write_clip

    # a nod of real size (pitch 0.11 rad: the face moves 2.5% of the torso length), nothing else moving;
    # 640x480 so the face is about as large as in a 1080x1296 clip decoded at 640 px for flow
    spec = ClipSpec("nod", "nodding", 0, seed=304, duration=3.0, width=640, height=480, secondary=0)
    return write_clip(root, spec, video=video)


def test_a_rendered_nod_turns_the_face_against_the_ears(tmp_path):
    import numpy as np

    from mabench.motion.signals import reversals
    from mabench.motion.skeleton import FACE_POINTS, J, load_skeleton_file

    truth = _nod_clip(tmp_path, video=False)
    sk = load_skeleton_file(tmp_path / "skeletons" / "nod.json")
    assert set(sk.face) == set(FACE_POINTS)
    nose, ears = sk.face["nose"][:, :2], (sk.face["left_ear"][:, :2] + sk.face["right_ear"][:, :2]) / 2
    rel = nose[:, 1] - ears[:, 1]                      # the nose goes down and up against the ears
    torso = truth["torso_px"]
    assert 0.01 <= np.ptp(nose[:, 1]) / torso <= 0.07  # a real nod's size, not a translation of the head
    assert np.ptp(rel) >= 0.5 * np.ptp(nose[:, 1])
    assert np.ptp(nose[:, 0]) < 0.1 * np.ptp(nose[:, 1])  # vertical strokes only
    assert reversals(rel, 0.3 * np.ptp(rel)) >= 3     # repeated
    head = sk.points[:, J["head"]]
    assert np.ptp(head[:, 1]) / torso < 0.03           # the head's centre barely moves
    assert truth["facts"]["head"] == {**truth["facts"]["head"], "moving": True, "rhythm": "repeated"}


def test_describe_sees_a_rendered_nod_with_flow(tmp_path):
    from mabench.motion.descriptors import describe
    from mabench.motion.flow import clip_flow
    from mabench.motion.skeleton import load_skeleton_file

    truth = _nod_clip(tmp_path)
    assert 0.02 <= truth["facts"]["head"]["face_travel"] <= 0.03  # a real nod, at the top of the real range
    sk = load_skeleton_file(tmp_path / "skeletons" / "nod.json")
    d = describe(sk, flow=clip_flow(tmp_path / "clips" / "nod.mp4", sk))
    head = d["parts"]["head"]
    assert head["moving"] and head["rhythm"] == "repetitive", (head, d["flow"]["head"])


def test_describe_on_the_v2_head_bowing_and_a_still_head(tmp_path):
    from mabench.motion.descriptors import describe
    from mabench.motion.flow import clip_flow
    from mabench.motion.skeleton import load_skeleton_file
    from mabench.synth.generate import ClipSpec, write_clip

    # bowing the head (20-30 degrees) turns the face down against the ears: head pitch, tips downward
    truth = write_clip(tmp_path, ClipSpec("bow", "bowing head", 2, seed=21, duration=2.5, secondary=0), video=False)
    d = describe(load_skeleton_file(tmp_path / "skeletons" / "bow.json"))
    pitch = d["signals"]["head_pitch"]
    assert pitch["state"] == "moves" and pitch["peak"] == "tips downward" and pitch["rhythm"] == "single"
    assert d["parts"]["head"]["moving"] and truth["facts"]["signals"]["head_pitch"]["moving"]
    assert d["signals"]["head_yaw"]["state"] == "still" and d["signals"]["head_roll"]["state"] == "still"
    # a clip whose head does not move at all (a hand movement only): the head is still, with flow too
    truth = write_clip(tmp_path, ClipSpec("still", "clenching fist", 1, seed=11, duration=2.5, width=640,
                                          height=480, secondary=0))
    assert truth["facts"]["head"]["moving"] is False
    sk = load_skeleton_file(tmp_path / "skeletons" / "still.json")
    d = describe(sk, flow=clip_flow(tmp_path / "clips" / "still.mp4", sk))
    assert not d["parts"]["head"]["moving"], d["parts"]["head"]
    assert all(s["state"] == "still" for n, s in d["signals"].items() if n.startswith("head_"))


def test_mediapipe_noise_is_a_slow_wander_of_the_measured_size():
    import numpy as np

    from mabench.motion.descriptors import describe
    from mabench.motion.signals import hf_noise
    from mabench.motion.skeleton import J, Skeleton
    from mabench.synth.figure import face_points, joints
    from mabench.synth.noise import add_noise, torso_length

    t = np.arange(75) / 25
    pts = np.repeat(joints({}, 320, 240), len(t), axis=0)
    face = {k: np.repeat(v, len(t), axis=0) for k, v in face_points({}, 320, 240).items()}
    still = Skeleton(points=pts, conf=np.ones(pts.shape[:2]), times=t, width=320, height=240, face=face)
    rng = np.random.default_rng(0)
    legs, wander_to_jitter, moving = [], [], 0
    for _ in range(20):
        sk = add_noise(still, "mediapipe", 1.0, rng)
        x = sk.points[:, J["left_ankle"], 0] / torso_length(still)
        legs.append(np.abs(x - x[0]).max())
        wander_to_jitter.append(np.std(x) / hf_noise(x))
        moving += sum(r["moving"] for r in describe(sk)["parts"].values())
    assert 0.02 <= np.median(legs) <= 0.06         # still legs wander 0.02-0.06 torso lengths
    assert np.median(wander_to_jitter) > 5          # slow: far more wander than frame-to-frame jitter
    assert moving == 0                              # and a still figure stays still
