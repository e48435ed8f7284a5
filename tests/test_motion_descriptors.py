"""Descriptor rules on hand-made trajectories with known answers."""

import numpy as np
import pytest

from mabench.motion.descriptors import MOVE, STILL, describe
from mabench.motion.skeleton import JOINTS, J, Skeleton, SkeletonError
from mabench.synth.figure import TORSO, joints

W, H, FPS = 320, 240, 25
U = H / 6.0
TORSO_PX = TORSO * U


def rest(seconds: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    t = np.arange(int(seconds * FPS)) / FPS
    pts = np.repeat(joints({}, W, H), len(t), axis=0)
    return t, pts


def ramp(t: np.ndarray, t0: float, t1: float) -> np.ndarray:
    x = np.clip((t - t0) / (t1 - t0), 0, 1)
    return x * x * (3 - 2 * x)


def sk(t: np.ndarray, pts: np.ndarray) -> Skeleton:
    return Skeleton(points=pts, conf=np.ones(pts.shape[:2]), times=t, width=W, height=H)


def move(pts: np.ndarray, joint_names: list[str], offset_torso: tuple[float, float], profile: np.ndarray) -> None:
    """Move joints by `offset_torso` torso lengths (image x right, y down) along `profile` (0..1)."""
    for name in joint_names:
        pts[:, J[name]] += np.outer(profile, np.array(offset_torso) * TORSO_PX)


def test_head_moving_down_in_the_middle_phase_only():
    t, pts = rest(3.0)
    move(pts, ["head"], (0.0, 0.4), ramp(t, 1.1, 1.9))  # the middle third is 1.0-2.0 s
    d = describe(sk(t, pts))
    head = d["parts"]["head"]
    assert head["phases"]["middle"]["vertical"] == "downward"
    assert head["phases"]["early"]["vertical"] == "none" and head["phases"]["late"]["vertical"] == "none"
    assert head["phases"]["middle"]["horizontal"] == "none"
    assert d["dominant"] == "head" and d["ranking"] == ["head"]
    assert head["rhythm"] == "single"
    assert 1.1 < head["onset"] < 1.6
    # image directions: the subject's left hand moving to the image's right is "rightward"
    t, pts = rest(3.0)
    move(pts, ["left_hand"], (0.5, 0.0), ramp(t, 0.1, 0.8))
    assert describe(sk(t, pts))["parts"]["left hand"]["phases"]["early"]["horizontal"] == "rightward"


def test_a_displacement_inside_the_margin_is_unclear_not_a_guess():
    between = (STILL + MOVE) / 2
    t, pts = rest(3.0)
    move(pts, ["head"], (between, 0.0), ramp(t, 0.2, 0.8))
    early = describe(sk(t, pts))["parts"]["head"]["phases"]["early"]
    assert early["horizontal"] == "unclear"
    assert early["vertical"] == "none"


def test_go_and_return_within_a_phase_is_back_and_forth():
    t, pts = rest(3.0)
    move(pts, ["head"], (0.3, 0.0), np.sin(np.pi * np.clip((t - 1.1) / 0.8, 0, 1)) ** 2)
    middle = describe(sk(t, pts))["parts"]["head"]["phases"]["middle"]
    assert middle["horizontal"] == "back-and-forth"


def test_repetition_and_lead_follow_order():
    t, pts = rest(3.0)
    move(pts, ["head"], (0.0, 0.25), np.sin(2 * np.pi * 2.0 * np.clip(t - 0.3, 0, 1.5)) * (t < 1.8))
    move(pts, ["right_hand"], (-0.6, -0.3), ramp(t, 1.9, 2.6))
    d = describe(sk(t, pts))
    assert d["parts"]["head"]["rhythm"] == "repetitive"
    rel = {(o["a"], o["b"]): o["relation"] for o in d["order"]}
    key = ("right hand", "head") if ("right hand", "head") in rel else ("head", "right hand")
    assert rel[key] == ("after" if key[0] == "right hand" else "before")


def test_limb_parts_moving_together_are_simultaneous():
    t, pts = rest(3.0)
    for name in ("left_elbow", "left_wrist", "left_hand"):
        k = {"left_elbow": 0.3, "left_wrist": 0.6, "left_hand": 0.8}[name]
        move(pts, [name], (k, -k), ramp(t, 1.0, 1.8))
    d = describe(sk(t, pts))
    rels = {o["relation"] for o in d["order"] if {o["a"], o["b"]} <= {"left hand", "left lower arm"}}
    assert rels == {"simultaneous"}


def test_pair_approach_and_contact():
    t, pts = rest(3.0)
    head = pts[0, J["head"]]
    start = pts[0, J["right_hand"]]
    profile = ramp(t, 0.1, 0.9)
    pts[:, J["right_hand"]] = start + np.outer(profile, head + np.array([0, 12.0]) - start)
    d = describe(sk(t, pts))
    pair = d["pairs"]["right hand|head"]
    assert pair["phases"]["early"]["trend"] == "approach"
    assert pair["phases"]["middle"]["trend"] == "steady"
    assert pair["contact"] is True
    assert d["pairs"]["left foot|right foot"]["phases"]["early"]["trend"] == "steady"
    assert d["parts"]["right hand"]["position"]["height"] == "head level"


def test_still_figure_has_no_moving_part_and_jitter_is_not_motion():
    t, pts = rest(2.0)
    rng = np.random.default_rng(0)
    pts = pts + rng.normal(0, 0.01 * H, pts.shape)  # 1% of the image height of jitter
    d = describe(sk(t, pts))
    assert d["dominant"] is None
    stated = [ph[a] for p in d["parts"].values() for ph in p["phases"].values() for a in ("horizontal", "vertical")]
    assert not {"upward", "downward", "leftward", "rightward"} & set(stated)


def test_missing_torso_is_a_clear_error():
    t, pts = rest(1.0)
    pts[:, J["neck"]] = np.nan
    pts[:, J["left_hip"]] = np.nan
    conf = np.ones(pts.shape[:2])
    conf[:, [J["neck"], J["left_hip"]]] = 0
    with pytest.raises(ValueError, match="torso"):
        describe(Skeleton(points=pts, conf=conf, times=t, width=W, height=H))


def test_skeleton_shape_is_checked():
    with pytest.raises(SkeletonError, match="do not match"):
        Skeleton(points=np.zeros((3, len(JOINTS) - 1, 2)), conf=np.ones((3, len(JOINTS))), times=np.arange(3.0),
                 width=W, height=H)
