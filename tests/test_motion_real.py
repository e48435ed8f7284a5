"""The motion layer on real people: per-clip isolation, head and trunk signals, skeleton/clip checks,
contact sheets, and (with the pose extra and ../shared present) the three real MA-52 clips end to end."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from mabench.motion import annotate as ann
from mabench.motion import flow as flow_mod
from mabench.motion.annotate import AnnotateSettings, annotate, annotate_clip, read_descriptors
from mabench.motion.descriptors import describe
from mabench.motion.signals import summarise
from mabench.motion.skeleton import FACE_POINTS, JOINTS, J, Skeleton, load_skeleton_file
from mabench.synth.generate import ClipSpec, write_clip

MA52 = Path(__file__).resolve().parents[2] / "shared" / "data" / "ma52"
REAL = {"0019_02_0078.mp4": "nodding", "0030_01_0002.mp4": "shaking body", "0020_01_0008.mp4": "sitting straightly",
        "0035_02_0007.mp4": "shaking head"}


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    root = tmp_path_factory.mktemp("three")
    for i, label in enumerate(("waving", "nodding", "crossing legs")):
        write_clip(root, ClipSpec(f"c{i}", label, subject=i, seed=20 + i, duration=1.5))
    return root


def _seated(t: np.ndarray, face: dict[str, np.ndarray] | None = None) -> Skeleton:
    """A still seated skeleton (pixels, y down) with optional face tracks."""
    base = {"head": (200, 100), "neck": (200, 160), "left_shoulder": (240, 165), "right_shoulder": (160, 165),
            "left_elbow": (250, 230), "right_elbow": (150, 230), "left_wrist": (245, 290), "right_wrist": (155, 290),
            "left_hand": (245, 305), "right_hand": (155, 305), "left_hip": (225, 320), "right_hip": (175, 320),
            "left_knee": (235, 400), "right_knee": (165, 400), "left_ankle": (235, 480), "right_ankle": (165, 480),
            "left_toe": (245, 495), "right_toe": (155, 495)}
    pts = np.repeat(np.array([base[j] for j in JOINTS], float)[None], len(t), axis=0)
    return Skeleton(points=pts, conf=np.ones((len(t), len(JOINTS))), times=t, width=400, height=520,
                    face=face or {})


def _face(t: np.ndarray, nose_dx: np.ndarray, nose_dy: np.ndarray) -> dict[str, np.ndarray]:
    """Ears fixed either side of the head, the nose (and eyes, mouth) moving against them."""
    one = np.ones_like(t)
    pts = {"left_ear": (225, 100), "right_ear": (175, 100), "nose": (200, 108), "left_eye": (210, 98),
           "right_eye": (190, 98), "mouth_left": (207, 118), "mouth_right": (193, 118)}
    out = {}
    for name, (x, y) in pts.items():
        moves = name not in ("left_ear", "right_ear")
        out[name] = np.stack([x + (nose_dx if moves else 0 * t), y + (nose_dy if moves else 0 * t), one], axis=1)
    return out


def test_a_nod_is_a_repeated_pitch_of_the_head_not_a_move_of_its_centre():
    t = np.arange(60) / 30
    nod = 15.0 * np.sin(2 * np.pi * 2.5 * t) * (t > 0.4)  # the nose dips and lifts 2.5 times a second, 0.3 ear widths
    rec = describe(_seated(t, _face(t, 0 * t, nod)), "nod")
    pitch = rec["signals"]["head_pitch"]
    assert pitch["state"] == "moves" and pitch["rhythm"] == "repeated"
    assert "back-and-forth" in pitch["phases"].values()
    assert rec["signals"]["head_yaw"]["state"] == "still"
    head = rec["parts"]["head"]
    assert head["moving"] and head["source"].startswith("signals:") and head["rhythm"] == "repetitive"
    assert rec["parts"]["left hand"]["moving"] is False


def test_a_turn_is_a_yaw_with_a_direction_and_a_still_face_says_still():
    t = np.arange(60) / 30
    turn = np.clip((t - 0.3) / 0.6, 0, 1) * 10.0  # the nose slides 10 px (0.2 ear widths) to the image's right
    sig = describe(_seated(t, _face(t, turn, 0 * t)), "turn")["signals"]
    assert sig["head_yaw"]["state"] == "moves" and sig["head_yaw"]["peak"] == "turns rightward"
    assert "turns rightward" in sig["head_yaw"]["phases"].values()
    still = describe(_seated(t, _face(t, 0 * t, 0 * t)), "still")
    assert all(s["state"] == "still" for s in still["signals"].values())
    assert not any(p["moving"] for p in still["parts"].values())


def test_a_sway_of_the_trunk_moves_the_torso_even_with_hips_planted():
    t = np.arange(75) / 30
    sk = _seated(t)
    lean = np.clip((t - 0.6) / 0.8, 0, 1) * 30.0  # the shoulders slide 30 px left of the hips (~10 degrees)
    for j in ("neck", "left_shoulder", "right_shoulder", "head"):
        sk.points[:, J[j], 0] -= lean
    rec = describe(sk, "sway")
    assert rec["signals"]["trunk_lean"]["state"] == "moves" and rec["signals"]["trunk_lean"]["peak"] == "sways leftward"
    assert rec["parts"]["torso"]["moving"]  # the hips did not move: the torso is read at the neck
    assert "leftward" in {p["horizontal"] for p in rec["parts"]["torso"]["phases"].values()}


def test_summarise_never_guesses_inside_the_floor():
    t = np.arange(50) / 25
    rng = np.random.default_rng(0)
    out = summarise(0.3 * rng.standard_normal(len(t)), t, floor_min=1.0)
    assert out["state"] in ("still", "unclear") and "phases" not in out


def test_one_clip_failing_inside_flow_or_pose_costs_only_that_clip(three, tmp_path, monkeypatch):
    clips = sorted((three / "clips").glob("*.mp4"))
    real_flow = flow_mod.part_flow

    def flaky_flow(frames, times, sk, preset="ultrafast"):
        if len(frames) and sk.source == "boom":
            raise cv2.error("forced failure inside optical flow")
        return real_flow(frames, times, sk, preset)

    def load_and_mark(path, *a, **kw):
        sk = load_skeleton_file(path)
        if Path(path).stem == "c1":
            sk.source = "boom"
        return sk

    monkeypatch.setattr(flow_mod, "part_flow", flaky_flow)
    monkeypatch.setattr(ann, "load_skeleton", load_and_mark)
    # in this process (no deadline), so that the patched stages are the ones that run
    counts = annotate(clips, tmp_path / "a", AnnotateSettings(skeletons=str(three / "skeletons"), clip_timeout_s=None),
                      workers=1)
    recs = read_descriptors(tmp_path / "a")
    assert counts == {"done": 2, "errors": 1, "skipped": 0, "stale": 0}
    assert "forced failure inside optical flow" in recs["c1.mp4"]["error"]

    class FailingPose:
        name = "failing"
        calls = 0

        def estimate(self, frames, times):
            FailingPose.calls += 1
            if FailingPose.calls == 2:
                raise RuntimeError("forced failure inside pose")
            return load_skeleton_file(three / "skeletons" / f"c{FailingPose.calls - 1}.json")

    monkeypatch.setattr(ann, "load_skeleton", load_skeleton_file)
    monkeypatch.setitem(__import__("mabench.motion.pose", fromlist=["BACKENDS"]).BACKENDS, "failing", FailingPose)
    counts = annotate(clips, tmp_path / "b", AnnotateSettings(pose="failing", flow=False, clip_timeout_s=None),
                      workers=1)
    recs = read_descriptors(tmp_path / "b")
    assert counts["done"] == 2 and counts["errors"] == 1
    assert [r["error"] for r in recs.values() if "error" in r] == ["RuntimeError: forced failure inside pose"]


def test_flow_takes_padded_non_contiguous_frames(three):
    sk = load_skeleton_file(three / "skeletons" / "c0.json")
    frames, times, _ = flow_mod.decode_gray(three / "clips" / "c0.mp4")
    padded = [np.pad(f, ((0, 0), (0, 16)))[:, : f.shape[1]] for f in frames]  # rows with a stride, as PyAV gives
    assert not padded[0].flags["C_CONTIGUOUS"]
    out = flow_mod.part_flow(padded, times, sk)
    assert out["parts"]["head"]["energy"] >= 0 and out["displacement"]["head"].shape == (len(frames), 2)


def test_a_skeleton_from_another_clip_is_refused(three, tmp_path):
    data = json.loads((three / "skeletons" / "c0.json").read_text())
    n = len(data["times"])
    keep = n // 2
    for key in ("times", "points", "conf"):
        data[key] = data[key][:keep]
    (tmp_path / "c0.json").write_text(json.dumps(data))
    rec = annotate_clip(three / "clips" / "c0.mp4", AnnotateSettings(skeletons=str(tmp_path), flow=False))
    assert "error" in rec and f"has {keep} frames but the clip has {n}" in rec["error"]


def test_contact_sheet_is_written(three, tmp_path):
    rec = annotate_clip(three / "clips" / "c1.mp4", AnnotateSettings(skeletons=str(three / "skeletons")),
                        overlay=str(tmp_path / "ov"))
    assert "error" not in rec
    img = cv2.imread(str(tmp_path / "ov" / "c1.png"))
    assert img is not None and img.shape[1] > 4 * img.shape[0] // 2  # 8 frames in a row, plots under them
    assert img.std() > 10  # not a blank canvas


def test_face_points_round_trip_through_the_skeleton_file():
    t = np.arange(10) / 10
    sk = _seated(t, _face(t, 0 * t, 0 * t))
    back = Skeleton.from_json(json.loads(json.dumps(sk.to_json())))
    assert set(back.face) == set(FACE_POINTS)
    assert np.allclose(back.face["nose"][:, :2], sk.face["nose"][:, :2])


# ---- the three real MA-52 clips (pose extra + ../shared) -------------------------------------------

@pytest.fixture(scope="module")
def real_build(tmp_path_factory):
    pytest.importorskip("mediapipe", reason="pose extra not installed (see README: Pose backends)")
    if not (MA52 / "clips").is_dir():
        pytest.skip("../shared/data/ma52/clips not present")
    from typer.testing import CliRunner

    from mabench.cli import app

    out = tmp_path_factory.mktemp("real")
    names = (MA52 / "label_name.txt").read_text().splitlines()
    index = {line.split("\t")[1]: line.split("\t")[0] for line in names if "\t" in line}
    (out / "list.txt").write_bytes("".join(f"{c} {index[lab]}\r\n" for c, lab in REAL.items()).encode())
    clips = out / "clips"
    shutil.copytree(MA52 / "clips", clips)
    r = CliRunner().invoke(app, ["build", str(clips), "--labels", str(out / "list.txt"), "--label-names",
                                 str(MA52 / "label_name.txt"), "--pose", "mediapipe", "--out", str(out / "b"),
                                 "--test-fraction", "1", "--workers", "1", "--overlay"])
    assert r.exit_code == 0, r.output
    return out / "b"


def test_mediapipe_real_clips_show_their_defining_movement(real_build):
    recs = read_descriptors(real_build)
    assert all("error" not in r for r in recs.values()) and len(recs) == len(REAL)
    nod = recs["0019_02_0078.mp4"]
    assert nod["parts"]["head"]["moving"] and nod["parts"]["head"]["rhythm"] == "repetitive"
    assert nod["flow"]["head"]["vertical"]["rhythm"] == "repeated"
    assert not nod["parts"]["torso"]["moving"]
    sway = recs["0030_01_0002.mp4"]["signals"]["trunk_lean"]
    assert sway["state"] == "moves" and sway["amplitude"] > 5  # degrees
    straight = recs["0020_01_0008.mp4"]["signals"]["trunk_length"]
    assert straight["state"] == "moves" and straight["phases"]["early"] == "lengthens"
    assert recs["0020_01_0008.mp4"]["parts"]["torso"]["moving"]
    assert all((real_build / "overlays" / f"{Path(c).stem}.png").stat().st_size > 10_000 for c in REAL)


def test_mediapipe_real_clips_get_twelve_questions_from_measured_facts(real_build):
    qs = json.loads((real_build / "benchmark.json").read_text())
    per = {}
    for q in qs:
        per.setdefault(q["video_name"], []).append(q)
    assert sorted(len(v) for v in per.values()) == [12] * len(REAL)
    caps = {json.loads(line)["clip"]: json.loads(line) for line in (real_build / "captions.jsonl").open()}
    nod = caps["0019_02_0078.mp4"]
    # the caption says what was measured: the head's repeated up-and-down, nothing about the hands
    assert "up and down" in nod["madu"] and ("repeat" in nod["madu"] or "repetitive" in nod["madu"])
    assert "hand" not in nod["madu"]
    for q in per["0019_02_0078"]:
        if q["task"] in ("SAD", "MAD", "MAS", "PPR"):
            moving_named = "head" in q["question"].lower()
            assert moving_named or q["answer"] == "No", q["question"]


def test_mediapipe_real_clips_ask_about_their_movement_events(real_build):
    """Issue #29 on the real clips: of each clip's 8 Yes/No questions, at least 6 name the event they are about,
    at most 1 is only about parts at rest, 3-5 are Yes, and SAD asks about the dominant event; the open answers
    tell the dominant event first and never narrate a rotation as a path."""
    from mabench.builder.questions.events import EVENT_FAMILIES

    qs = json.loads((real_build / "benchmark.json").read_text())
    caps = {json.loads(line)["clip"]: json.loads(line) for line in (real_build / "captions.jsonl").open()}
    for clip in REAL:
        yn = [q for q in qs if q["video_name"] == clip[:-4] and q["task"] in ("SAD", "MAD", "MAS", "PPR")]
        assert len(yn) == 8, clip
        assert sum(bool(q["meta"].get("event")) for q in yn) >= 6, clip
        assert sum(bool(q["meta"].get("at_rest")) for q in yn) <= 1, clip
        assert 3 <= sum(q["answer"] == "Yes" for q in yn) <= 5, clip
        assert any(q["meta"]["family"] in EVENT_FAMILIES and q["meta"]["event"]["dominant"]
                   for q in yn if q["task"] == "SAD"), clip
        madu, mare = caps[clip]["madu"], caps[clip]["mare"]
        assert madu.split(". ")[0] in mare and not any(w in madu for w in ("path", "travels")), (clip, madu)
    assert caps["0035_02_0007.mp4"]["madu"].startswith("The head turns from side to side repeatedly")
    assert caps["0020_01_0008.mp4"]["madu"].startswith("The torso straightens up")


def test_report_shows_the_contact_sheets_of_a_built_benchmark(three, tmp_path):
    pytest.importorskip("jinja2")
    from typer.testing import CliRunner

    from mabench.cli import app

    (tmp_path / "labels.csv").write_text("clip,label\nc0.mp4,waving\nc1.mp4,nodding\nc2.mp4,crossing legs\n")
    run = CliRunner()
    r = run.invoke(app, ["build", str(three / "clips"), "--labels", str(tmp_path / "labels.csv"), "--skeletons",
                         str(three / "skeletons"), "--out", str(tmp_path / "b"), "--test-fraction", "1", "--workers",
                         "1", "--overlay", "--no-flow"])
    assert r.exit_code == 0, r.output
    assert sorted(p.name for p in (tmp_path / "b" / "overlays").iterdir()) == ["c0.png", "c1.png", "c2.png"]
    r = run.invoke(app, ["eval", str(tmp_path / "b" / "benchmark.json"), "--model", "random", "--out",
                         str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    r = run.invoke(app, ["report", str(tmp_path / "run"), "--out", str(tmp_path / "rep")])
    assert r.exit_code == 0, r.output
    first_line = (tmp_path / "rep" / "questions.js").read_text().splitlines()[0]
    rows = json.loads(first_line.split("=", 1)[1].rstrip().rstrip(";"))
    sheets = {q["video"]: q["overlay"] for q in rows}
    assert set(sheets) == {"c0", "c1", "c2"} and all(sheets.values())
    img = cv2.imread(str(tmp_path / "rep" / sheets["c1"]))
    assert img is not None and img.shape[1] <= 1400


_ANNOTATE_CLIP = ann.annotate_clip


def _dies_on_c1(clip, settings, overlay=None):
    """annotate_clip, except that the worker handling c1 dies as a segfault in a decoder would kill it."""
    if Path(clip).stem == "c1":
        os._exit(3)
    return _ANNOTATE_CLIP(clip, settings, overlay)


def test_a_worker_that_dies_costs_clips_an_error_record_not_the_run(three, tmp_path, monkeypatch):
    real = ann.annotate_clip
    monkeypatch.setattr(ann, "annotate_clip", _dies_on_c1)  # module-level, so the pool can send it
    clips = sorted((three / "clips").glob("*.mp4"))
    counts = annotate(clips, tmp_path / "a", AnnotateSettings(skeletons=str(three / "skeletons"), flow=False),
                      workers=2)
    recs = read_descriptors(tmp_path / "a")
    assert set(recs) == {"c0.mp4", "c1.mp4", "c2.mp4"} and counts["done"] + counts["errors"] == 3
    assert "error" in recs["c1.mp4"] and "ProcessExpired" in recs["c1.mp4"]["error"], recs["c1.mp4"]
    assert "exit code 3" in recs["c1.mp4"]["error"]
    monkeypatch.setattr(ann, "annotate_clip", real)
    again = annotate(clips, tmp_path / "a", AnnotateSettings(skeletons=str(three / "skeletons"), flow=False),
                     workers=1, retry_errors=True)
    assert again["errors"] == 0 and all("error" not in r for r in read_descriptors(tmp_path / "a").values())
