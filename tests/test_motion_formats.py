"""Skeleton importers on small fixtures written here, in each format's own layout."""

import json

import numpy as np
import pytest

from mabench.motion.formats import load_skeleton
from mabench.motion.skeleton import MAX_GAP_S, J, SkeletonError, load_skeleton_file
from mabench.synth.generate import ClipSpec, simulate

FPS, W, H = 25, 320, 240
FACE = {1: (3, -2), 2: (-3, -2), 3: (6, 2), 4: (-6, 2)}  # offsets around the nose; they sum to zero
LIMBS = {5: "left_shoulder", 6: "right_shoulder", 7: "left_elbow", 8: "right_elbow", 9: "left_wrist",
         10: "right_wrist", 11: "left_hip", 12: "right_hip", 13: "left_knee", 14: "right_knee",
         15: "left_ankle", 16: "right_ankle"}


@pytest.fixture(scope="module")
def truth():
    """Canonical joints (T, J, 2) of a waving figure: the arms move, so mapping mistakes show."""
    _, pts, _, _, _ = simulate(ClipSpec("w", "waving", 0, seed=5, duration=2.0))
    return pts


def hand21(centre: np.ndarray, wrist: np.ndarray) -> np.ndarray:
    """21 hand points whose knuckle #9 is `centre` (the canonical hand joint)."""
    pts = np.array([wrist + (centre - wrist) * k / 10 + np.array([(k % 4) - 1.5, 0.0]) for k in range(21)])
    pts[9] = centre
    return pts


def coco_body(p: np.ndarray, k: int) -> np.ndarray:
    """(K, 3) keypoints of one frame in a COCO-like layout (body part 0-16 filled)."""
    out = np.zeros((k, 3))
    out[0, :2] = p[J["head"]]
    for i, off in FACE.items():
        out[i, :2] = p[J["head"]] + off
    for i, name in LIMBS.items():
        out[i, :2] = p[J[name]]
    out[:17, 2] = 0.9
    return out


def check(sk, truth, hand_is_wrist=False, toe_is_ankle=False, neck="shoulders", times=True):
    got = sk.points
    for name in ("head", "left_shoulder", "right_elbow", "left_wrist", "right_hip", "left_knee", "right_ankle"):
        np.testing.assert_allclose(got[:, J[name]], truth[:, J[name]], atol=0.02, err_msg=name)
    want_neck = truth[:, [J["left_shoulder"], J["right_shoulder"]]].mean(axis=1) if neck == "shoulders" \
        else truth[:, J["neck"]]
    np.testing.assert_allclose(got[:, J["neck"]], want_neck, atol=0.02)
    for side in ("left", "right"):
        hand = truth[:, J[f"{side}_wrist" if hand_is_wrist else f"{side}_hand"]]
        toe = truth[:, J[f"{side}_ankle" if toe_is_ankle else f"{side}_toe"]]
        np.testing.assert_allclose(got[:, J[f"{side}_hand"]], hand, atol=0.02, err_msg=f"{side} hand")
        np.testing.assert_allclose(got[:, J[f"{side}_toe"]], toe, atol=0.02, err_msg=f"{side} toe")
    if times:
        assert np.allclose(np.diff(sk.times), 1 / FPS)


def test_coco17_alphapose_with_gaps_and_a_second_person(tmp_path, truth):
    rows = []
    for i, p in enumerate(truth):
        kp = coco_body(p, 17)
        if i in (10, 11):                      # a short dropout: interpolated
            kp[9, 2] = 0.05
        if 20 <= i < 20 + int(1.5 * MAX_GAP_S * FPS) + 2:  # a long one: flagged
            kp[14, 2] = 0.0
        rows.append({"image_id": f"{i}.jpg", "category_id": 1, "keypoints": kp.ravel().tolist(), "score": 2.5})
        if i >= 5:  # a bystander on the right, more confident, from frame 5 on
            other = coco_body(p + np.array([200.0, 0.0]), 17)
            other[:, 2] = 0.99
            rows.append({"image_id": f"{i}.jpg", "keypoints": other.ravel().tolist(), "score": 3.0})
    f = tmp_path / "clip.json"
    f.write_text(json.dumps(rows))
    sk = load_skeleton(f, fps=FPS, width=W, height=H)
    assert sk.source == "coco17"
    keep = [i for i in range(len(truth)) if not 20 <= i < 40]
    check(type(sk)(points=sk.points[keep], conf=sk.conf[keep], times=sk.times[keep], width=W, height=H),
          truth[keep], hand_is_wrist=True, toe_is_ankle=True, times=False)
    assert "right_knee" in sk.flagged and "left_wrist" not in sk.flagged
    np.testing.assert_allclose(sk.points[10:12, J["left_wrist"]], truth[10:12, J["left_wrist"]], atol=3.0)


def test_wholebody133_mmpose_predictions(tmp_path, truth):
    frames = []
    for i, p in enumerate(truth):
        kp = coco_body(p, 133)
        kp[17, :2], kp[20, :2] = p[J["left_toe"]], p[J["right_toe"]]
        kp[91:112, :2] = hand21(p[J["left_hand"]], p[J["left_wrist"]])
        kp[112:133, :2] = hand21(p[J["right_hand"]], p[J["right_wrist"]])
        kp[17:, 2] = 0.8
        frames.append({"frame_id": i, "instances": [{"keypoints": kp[:, :2].tolist(),
                                                      "keypoint_scores": kp[:, 2].tolist()}]})
    f = tmp_path / "clip.json"
    f.write_text(json.dumps({"meta_info": {}, "instance_info": frames}))
    sk = load_skeleton(f, fps=FPS, width=W, height=H)
    assert sk.source == "wholebody133" and set(sk.hands) == {"left", "right"}
    check(sk, truth)


def test_halpe136_named_format_and_its_neck(tmp_path, truth):
    rows = []
    for i, p in enumerate(truth):
        kp = coco_body(p, 136)
        kp[18, :2] = p[J["neck"]]
        kp[20, :2], kp[21, :2] = p[J["left_toe"]], p[J["right_toe"]]
        kp[94:115, :2] = hand21(p[J["left_hand"]], p[J["left_wrist"]])
        kp[115:136, :2] = hand21(p[J["right_hand"]], p[J["right_wrist"]])
        kp[17:, 2] = 0.8
        rows.append({"image_id": i, "keypoints": kp.ravel().tolist()})
    f = tmp_path / "clip.json"
    f.write_text(json.dumps(rows))
    check(load_skeleton(f, fmt="halpe136", fps=FPS, width=W, height=H), truth, neck="neck")
    with pytest.raises(SkeletonError, match="136 keypoints per person, but coco17"):
        load_skeleton(f, fmt="coco17", fps=FPS, width=W, height=H)


def test_openpose_body25_folder_with_hands(tmp_path, truth):
    body_idx = {1: "neck", 2: "right_shoulder", 3: "right_elbow", 4: "right_wrist", 5: "left_shoulder",
                6: "left_elbow", 7: "left_wrist", 9: "right_hip", 10: "right_knee", 11: "right_ankle",
                12: "left_hip", 13: "left_knee", 14: "left_ankle", 19: "left_toe", 22: "right_toe"}
    d = tmp_path / "clip"
    d.mkdir()
    for i, p in enumerate(truth):
        kp = np.zeros((25, 3))
        kp[0, :2] = p[J["head"]]
        for k, off in zip((15, 16, 17, 18), ((3, -2), (-3, -2), (6, 2), (-6, 2)), strict=True):
            kp[k, :2] = p[J["head"]] + off
        for k, name in body_idx.items():
            kp[k, :2] = p[J[name]]
        kp[:, 2] = np.where(kp[:, 0] > 0, 0.7, 0.0)
        hands = {s: np.concatenate([hand21(p[J[f"{s}_hand"]], p[J[f"{s}_wrist"]]), np.full((21, 1), 0.6)], 1)
                 for s in ("left", "right")}
        person = {"pose_keypoints_2d": kp.ravel().tolist(),
                  "hand_left_keypoints_2d": hands["left"].ravel().tolist(),
                  "hand_right_keypoints_2d": hands["right"].ravel().tolist()}
        (d / f"clip_{i:012d}_keypoints.json").write_text(json.dumps({"version": 1.3, "people": [person]}))
    sk = load_skeleton(d, fps=FPS, width=W, height=H)
    assert sk.source == "openpose25"
    check(sk, truth, neck="neck")


def test_mediapipe33_normalised_landmarks_with_hands(tmp_path, truth):
    idx = {11: "left_shoulder", 12: "right_shoulder", 13: "left_elbow", 14: "right_elbow", 15: "left_wrist",
           16: "right_wrist", 23: "left_hip", 24: "right_hip", 25: "left_knee", 26: "right_knee",
           27: "left_ankle", 28: "right_ankle", 31: "left_toe", 32: "right_toe"}
    frames = []
    for p in truth:
        pose = np.zeros((33, 4))
        pose[0, :2] = p[J["head"]]
        for k, off in zip((2, 5, 7, 8), ((3, -2), (-3, -2), (6, 2), (-6, 2)), strict=True):
            pose[k, :2] = p[J["head"]] + off
        for k, name in idx.items():
            pose[k, :2] = p[J[name]]
        pose[:, :2] /= (W, H)
        pose[:, 3] = 0.9
        hands = {s: (hand21(p[J[f"{s}_hand"]], p[J[f"{s}_wrist"]]) / (W, H)).tolist() for s in ("left", "right")}
        frames.append({"pose": pose.tolist(), "left_hand": [[x, y, 0.0] for x, y in hands["left"]],
                       "right_hand": [[x, y, 0.0] for x, y in hands["right"]]})
    f = tmp_path / "clip.json"
    f.write_text(json.dumps({"frames": frames}))
    sk = load_skeleton(f, fps=FPS, width=W, height=H)
    assert sk.source == "mediapipe33"
    check(sk, truth)


def test_mabench_format_round_trip_and_errors(tmp_path, truth):
    from mabench.motion.skeleton import Skeleton

    sk = Skeleton(points=truth, conf=np.ones(truth.shape[:2]), times=np.arange(len(truth)) / FPS, width=W, height=H)
    f = tmp_path / "s.json"
    f.write_text(json.dumps(sk.to_json()))
    back = load_skeleton(f)  # carries its own times and size
    np.testing.assert_allclose(back.points, truth, atol=0.01)
    assert load_skeleton_file(f).width == W
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"image_id": 0, "keypoints": [1, 2, 3] * 5}]))
    with pytest.raises(SkeletonError, match="5 keypoints per person matches no known format"):
        load_skeleton(bad, fps=FPS, width=W, height=H)
    with pytest.raises(SkeletonError, match="frame rate and size are needed"):
        load_skeleton(bad)
    with pytest.raises(SkeletonError, match="no such skeleton"):
        load_skeleton(tmp_path / "absent.json")
