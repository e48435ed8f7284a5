"""Skeleton importers: per-frame keypoints from common pose estimators -> the canonical `Skeleton`.

Supported (`fmt`): ``coco17``, ``wholebody133`` (COCO-WholeBody), ``halpe136``, ``mediapipe33``
(+ 21-point hands), ``openpose25`` (BODY_25, + hands), and ``mabench`` (our own file).

File layouts read:

* COCO-style keypoints (coco17 / wholebody133 / halpe136, also mediapipe33 / openpose25 by count):
  - AlphaPose results: a JSON list of ``{"image_id": 12 | "12.jpg", "keypoints": [x, y, score, ...],
    "score": s}``, several per frame when several people;
  - MMPose predictions: ``{"instance_info": [{"frame_id": i, "instances": [{"keypoints": [[x, y]...],
    "keypoint_scores": [...]}]}]}`` or a bare list of such frame entries.
* OpenPose: a folder of per-frame ``*_keypoints.json`` (``{"people": [{"pose_keypoints_2d": [...],
  "hand_left_keypoints_2d": [...], "hand_right_keypoints_2d": [...]}]}``), sorted by name.
* MediaPipe: ``{"frames": [{"pose": [[x, y, z, visibility] x 33] | null, "left_hand": [[x, y, z] x 21]
  | null, "right_hand": ...}]}`` in MediaPipe's normalised image coordinates (0..1).

Several people in a frame: the one nearest the subject followed so far (the most confident one in
the first frame). Joints below `MIN_CONF` or absent are missing; `fill_gaps` interpolates short gaps
and flags long ones.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np

from mabench.motion.skeleton import (
    FACE_POINTS,
    JOINTS,
    MIN_CONF,
    Skeleton,
    SkeletonError,
    fill_gaps,
    load_skeleton_file,
)

HAND_POINTS = 21
HAND_CENTRE = 9  # middle-finger knuckle in the 21-point hand layout (0 = wrist)

# Keypoint counts per format (body + hands as this module lays them out).
FORMAT_POINTS = {"coco17": 17, "wholebody133": 133, "halpe136": 136, "mediapipe33": 33 + 2 * HAND_POINTS,
                 "openpose25": 25 + 2 * HAND_POINTS}
_BY_COUNT = {17: "coco17", 133: "wholebody133", 136: "halpe136", 33: "mediapipe33", 25: "openpose25"}


def _coco_like(head: tuple[int, ...], neck: tuple[int, ...], lhand: int | None, rhand: int | None,
               ltoe: int | None, rtoe: int | None) -> dict[str, list[tuple[int, ...]]]:
    """Joint -> alternatives (each a group of indices to average); the first confident one is used."""
    m: dict[str, list[tuple[int, ...]]] = {"head": [head, (0,)], "neck": [neck, (5, 6)]}
    body = {"shoulder": (5, 6), "elbow": (7, 8), "wrist": (9, 10), "hip": (11, 12), "knee": (13, 14),
            "ankle": (15, 16)}
    def one(i: int | None, fallback: int | None = None) -> list[tuple[int, ...]]:
        return [(j,) for j in (i, fallback) if j is not None]

    for name, (li, ri) in body.items():
        m[f"left_{name}"], m[f"right_{name}"] = one(li), one(ri)
    m["left_hand"], m["right_hand"] = one(lhand, 9), one(rhand, 10)
    m["left_toe"], m["right_toe"] = one(ltoe, 15), one(rtoe, 16)
    return m


_MP_HANDS = 33  # mediapipe33: left hand at 33..53, right hand at 54..74
_OP_HANDS = 25  # openpose25: same layout after the 25 body points

MAPS: dict[str, dict[str, list[tuple[int, ...]]]] = {
    "coco17": _coco_like((0, 1, 2, 3, 4), (5, 6), None, None, None, None),
    "wholebody133": _coco_like((0, 1, 2, 3, 4), (5, 6), 91 + HAND_CENTRE, 112 + HAND_CENTRE, 17, 20),
    "halpe136": _coco_like((0, 1, 2, 3, 4), (18,), 94 + HAND_CENTRE, 115 + HAND_CENTRE, 20, 21),
    "mediapipe33": {
        "head": [(0, 2, 5, 7, 8), (0,)], "neck": [(11, 12)],
        **{f"{s}_{n}": [(i,)] for n, (li, ri) in {"shoulder": (11, 12), "elbow": (13, 14), "wrist": (15, 16),
                                                   "hip": (23, 24), "knee": (25, 26), "ankle": (27, 28)}.items()
           for s, i in (("left", li), ("right", ri))},
        "left_hand": [(_MP_HANDS + HAND_CENTRE,), (17, 19), (15,)],
        "right_hand": [(_MP_HANDS + HAND_POINTS + HAND_CENTRE,), (18, 20), (16,)],
        "left_toe": [(31,), (27,)], "right_toe": [(32,), (28,)],
    },
    "openpose25": {
        "head": [(0, 15, 16, 17, 18), (0,)], "neck": [(1,), (2, 5)],
        **{f"{s}_{n}": [(i,)] for n, (li, ri) in {"shoulder": (5, 2), "elbow": (6, 3), "wrist": (7, 4),
                                                   "hip": (12, 9), "knee": (13, 10), "ankle": (14, 11)}.items()
           for s, i in (("left", li), ("right", ri))},
        "left_hand": [(_OP_HANDS + HAND_CENTRE,), (7,)],
        "right_hand": [(_OP_HANDS + HAND_POINTS + HAND_CENTRE,), (4,)],
        "left_toe": [(19,), (14,)], "right_toe": [(22,), (11,)],
    },
}
HAND_SLICES = {"wholebody133": (91, 112), "halpe136": (94, 115), "mediapipe33": (_MP_HANDS, _MP_HANDS + HAND_POINTS),
               "openpose25": (_OP_HANDS, _OP_HANDS + HAND_POINTS)}
assert all(set(m) == set(JOINTS) for m in MAPS.values())

# Face points per format (index of each FACE_POINTS name it has). COCO-WholeBody and Halpe put the 68
# face landmarks after the feet; 48 and 54 of those are the mouth corners (subject's right, left).
_COCO_FACE = {"nose": 0, "left_eye": 1, "right_eye": 2, "left_ear": 3, "right_ear": 4}
FACE_MAPS: dict[str, dict[str, int]] = {
    "coco17": _COCO_FACE,
    "wholebody133": {**_COCO_FACE, "mouth_left": 23 + 54, "mouth_right": 23 + 48},
    "halpe136": {**_COCO_FACE, "mouth_left": 26 + 54, "mouth_right": 26 + 48},
    "mediapipe33": {"nose": 0, "left_eye": 2, "right_eye": 5, "left_ear": 7, "right_ear": 8,
                    "mouth_left": 9, "mouth_right": 10},
    "openpose25": {"nose": 0, "right_eye": 15, "left_eye": 16, "right_ear": 17, "left_ear": 18},
}
assert all(set(m) <= set(FACE_POINTS) for m in FACE_MAPS.values())


def to_canonical(frames: np.ndarray, fmt: str, times: np.ndarray, width: int, height: int,
                 min_conf: float = MIN_CONF) -> Skeleton:
    """(T, K, 3) keypoints (x, y, confidence in pixels) of one subject in `fmt` -> Skeleton."""
    if fmt not in MAPS:
        raise SkeletonError(f"unknown skeleton format {fmt!r}; known: {', '.join(sorted(MAPS))}, mabench")
    frames = np.asarray(frames, dtype=np.float64)
    need = FORMAT_POINTS[fmt]
    if frames.ndim != 3 or frames.shape[1] < need - (2 * HAND_POINTS if fmt in ("mediapipe33", "openpose25") else 0):
        raise SkeletonError(f"{fmt} needs {need} keypoints per frame, got array of shape {frames.shape}")
    if frames.shape[1] < need:  # body only, no hands: pad the hand slots as missing
        frames = np.concatenate([frames, np.zeros((len(frames), need - frames.shape[1], 3))], axis=1)
    t = len(frames)
    points = np.full((t, len(JOINTS), 2), np.nan)
    conf = np.zeros((t, len(JOINTS)))
    ok = (frames[..., 2] >= min_conf) & np.isfinite(frames[..., :2]).all(axis=-1)
    for j, joint in enumerate(JOINTS):
        filled = np.zeros(t, dtype=bool)
        for group in MAPS[fmt][joint]:
            g = list(group)
            usable = ok[:, g].all(axis=1) & ~filled
            points[usable, j] = frames[usable][:, g, :2].mean(axis=1)
            conf[usable, j] = frames[usable][:, g, 2].min(axis=1)
            filled |= usable
    hands = {}
    if fmt in HAND_SLICES:
        for side, start in zip(("left", "right"), HAND_SLICES[fmt], strict=True):
            h = frames[:, start:start + HAND_POINTS].copy()
            if (h[..., 2] > 0).any():
                h[h[..., 2] < min_conf] = np.nan
                hands[side] = h
    face = {}
    for name, k in FACE_MAPS[fmt].items():
        f = frames[:, k].copy()
        f[~ok[:, k], :2] = np.nan
        if ok[:, k].any():
            face[name] = f
    return fill_gaps(Skeleton(points=points, conf=conf, times=np.asarray(times, dtype=np.float64), width=width,
                              height=height, hands=hands, source=fmt, face=face))


# ----------------------------------------------------------------------------------------------
# Files
# ----------------------------------------------------------------------------------------------

def _frame_index(value: object, fallback: int) -> int:
    if isinstance(value, int | float):
        return int(value)
    m = re.search(r"(\d+)(?!.*\d)", str(value))
    return int(m.group(1)) if m else fallback


def _pick(people: list[np.ndarray], prev: np.ndarray | None) -> np.ndarray | None:
    """The subject in one frame: nearest to the previous pick, else the most confident person."""
    if not people:
        return None
    if prev is not None:
        def dist(p: np.ndarray) -> float:
            both = (p[:, 2] > 0) & (prev[:, 2] > 0)
            return float(np.linalg.norm(p[both, :2] - prev[both, :2], axis=1).mean()) if both.any() else np.inf
        best = min(people, key=dist)
        if np.isfinite(dist(best)):
            return best
    return max(people, key=lambda p: float(p[:, 2].mean()))


def _track(per_frame: dict[int, list[np.ndarray]], k: int) -> np.ndarray:
    """Frames (sorted by index, gaps filled with missing) of the followed subject -> (T, K, 3)."""
    if not per_frame:
        raise SkeletonError("no keypoints found")
    first, last = min(per_frame), max(per_frame)
    out = np.zeros((last - first + 1, k, 3))
    prev = None
    for i in range(first, last + 1):
        p = _pick(per_frame.get(i, []), prev)
        if p is not None:
            out[i - first] = p
            prev = p
    return out


def _triplets(flat: list, where: str) -> np.ndarray:
    a = np.asarray(flat, dtype=np.float64)
    if a.size % 3:
        raise SkeletonError(f"{where}: keypoint list length {a.size} is not a multiple of 3 (x, y, score)")
    return a.reshape(-1, 3)


def read_keypoints_json(path: Path) -> tuple[np.ndarray, int]:
    """AlphaPose / MMPose style files -> ((T, K, 3), K)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise SkeletonError(f"{path}: cannot read JSON ({e})") from e
    per_frame: dict[int, list[np.ndarray]] = {}
    entries = data.get("instance_info", data) if isinstance(data, dict) else data
    if not isinstance(entries, list):
        raise SkeletonError(f"{path}: expected a list of detections or MMPose 'instance_info'")
    for n, item in enumerate(entries):
        if not isinstance(item, dict):
            raise SkeletonError(f"{path}: entry {n} is not an object")
        if "instances" in item:  # MMPose
            frame = _frame_index(item.get("frame_id", n), n)
            for inst in item["instances"]:
                xy = np.asarray(inst["keypoints"], dtype=np.float64).reshape(-1, 2)
                sc = np.asarray(inst.get("keypoint_scores", np.ones(len(xy))), dtype=np.float64).reshape(-1, 1)
                per_frame.setdefault(frame, []).append(np.concatenate([xy, sc], axis=1))
        elif "keypoints" in item:  # AlphaPose / COCO results
            frame = _frame_index(item.get("image_id", item.get("frame", n)), n)
            per_frame.setdefault(frame, []).append(_triplets(item["keypoints"], f"{path} entry {n}"))
        else:
            raise SkeletonError(f"{path}: entry {n} has neither 'keypoints' nor 'instances'")
    counts = {p.shape[0] for ps in per_frame.values() for p in ps}
    if len(counts) != 1:
        raise SkeletonError(f"{path}: people with different keypoint counts {sorted(counts)}")
    k = counts.pop()
    return _track(per_frame, k), k


def read_openpose_dir(path: Path) -> np.ndarray:
    """A folder of OpenPose per-frame JSON files -> (T, 25 + 42, 3)."""
    files = sorted(path.glob("*_keypoints.json")) or sorted(path.glob("*.json"))
    if not files:
        raise SkeletonError(f"{path}: no OpenPose *_keypoints.json files")
    per_frame: dict[int, list[np.ndarray]] = {}
    for i, f in enumerate(files):
        try:
            people = json.loads(f.read_text(encoding="utf-8")).get("people", [])
        except (OSError, json.JSONDecodeError, AttributeError) as e:
            raise SkeletonError(f"{f}: not an OpenPose frame ({e})") from e
        for person in people:
            body = _triplets(person.get("pose_keypoints_2d", []), str(f))
            if len(body) != 25:
                raise SkeletonError(f"{f}: pose_keypoints_2d has {len(body)} points; BODY_25 has 25")
            hands = [_triplets(person.get(k) or [0.0] * 63, str(f))
                     for k in ("hand_left_keypoints_2d", "hand_right_keypoints_2d")]
            per_frame.setdefault(i, []).append(np.concatenate([body, *hands]))
    if not per_frame:
        raise SkeletonError(f"{path}: no person in any frame")
    return _track(per_frame, 25 + 2 * HAND_POINTS)


def read_mediapipe_json(path: Path, width: int, height: int) -> np.ndarray:
    """MediaPipe landmarks (normalised) -> (T, 33 + 42, 3) in pixels."""
    try:
        frames = json.loads(path.read_text(encoding="utf-8"))["frames"]
    except (OSError, json.JSONDecodeError, KeyError, TypeError) as e:
        raise SkeletonError(f"{path}: not a MediaPipe landmarks file with 'frames' ({e})") from e
    out = np.zeros((len(frames), 33 + 2 * HAND_POINTS, 3))
    for i, fr in enumerate(frames):
        for key, start, n in (("pose", 0, 33), ("left_hand", 33, HAND_POINTS), ("right_hand", 33 + HAND_POINTS,
                                                                                  HAND_POINTS)):
            pts = fr.get(key)
            if not pts:
                continue
            a = np.asarray(pts, dtype=np.float64)
            if a.shape[0] != n or a.shape[1] < 2:
                raise SkeletonError(f"{path}: frame {i} '{key}' has shape {a.shape}; expected {n} x (x, y, ...)")
            out[i, start:start + n, 0] = a[:, 0] * width
            out[i, start:start + n, 1] = a[:, 1] * height
            out[i, start:start + n, 2] = a[:, 3] if key == "pose" and a.shape[1] >= 4 else 1.0
    return out


def load_skeleton(path: str | Path, fmt: str | None = None, fps: float | None = None, width: int | None = None,
                  height: int | None = None) -> Skeleton:
    """Read a skeleton in any supported format; `fps`, `width`, `height` come from the clip when the
    file does not carry them (only the mabench format does)."""
    path = Path(path)
    if not path.exists():
        raise SkeletonError(f"{path}: no such skeleton file or folder")
    if fmt in (None, "mabench") and path.is_file():
        try:
            head = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise SkeletonError(f"{path}: cannot read JSON ({e})") from e
        if isinstance(head, dict) and str(head.get("format", "")).startswith("mabench-skeleton"):
            return _require_torso(load_skeleton_file(path), path)
        if fmt == "mabench":
            raise SkeletonError(f"{path}: not a mabench-skeleton file")
        if isinstance(head, dict) and "frames" in head:
            fmt = "mediapipe33"
    if fps is None or width is None or height is None:
        raise SkeletonError(f"{path}: the clip's frame rate and size are needed to read a {fmt or 'keypoint'} file")
    if path.is_dir() or fmt == "openpose25":
        frames, fmt = read_openpose_dir(path), "openpose25"
    elif fmt == "mediapipe33":
        frames = read_mediapipe_json(path, width, height)
    else:
        frames, k = read_keypoints_json(path)
        guessed = _BY_COUNT.get(k)
        if fmt is None:
            if guessed is None:
                raise SkeletonError(f"{path}: {k} keypoints per person matches no known format; pass the format")
            fmt = guessed
        elif FORMAT_POINTS[fmt] not in (k, k + 2 * HAND_POINTS):
            raise SkeletonError(f"{path}: {k} keypoints per person, but {fmt} has {FORMAT_POINTS[fmt]}")
    times = np.arange(len(frames)) / float(fps)
    if len(frames) < 2:
        raise SkeletonError(f"{path}: needs at least 2 frames of keypoints, got {len(frames)}")
    return _require_torso(to_canonical(frames, fmt, times, width, height), path)


def _require_torso(sk: Skeleton, path: Path) -> Skeleton:
    """Refuse, naming the file, a skeleton whose neck or hips are never seen (all NaN / zero
    confidence): every measure is in torso lengths, and NaN reached int() deep in the flow code."""
    seen = np.isfinite(sk.points).all(axis=2).any(axis=0)  # per joint: finite in some frame
    if not seen.any():
        raise SkeletonError(f"{path}: no usable keypoints (every joint is missing or NaN in all {len(sk.times)} "
                            "frames); re-run the pose estimator on this clip, or leave it out")
    lost = [j for j in ("neck", "left_hip", "right_hip") if not seen[JOINTS.index(j)]]
    if lost:
        raise SkeletonError(f"{path}: {', '.join(lost)} never found in {len(sk.times)} frames; the torso is "
                            "needed to measure movement: re-run the pose estimator on this clip, or leave it out")
    return sk
