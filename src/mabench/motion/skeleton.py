"""The canonical skeleton every importer and pose backend produces, and the 14 parts read off it.

Side convention (written once, here and in the taxonomy): a joint or part name ("left hand") is the
subject's own side, as pose estimators label it; a direction ("leftward") is as seen in the image.
For a subject facing the camera, the subject's left hand is on the image's right.

File format `mabench-skeleton/1` (JSON): ``{"format", "joints", "fps", "width", "height", "times",
"points": [T][J][2] pixels, "conf": [T][J] in 0..1, "hands": {"left"|"right": [T][21][3]} optional,
"face": {name: [T][3]} optional}``. The face points (nose, eyes, ears, mouth corners) carry the head's
orientation: a nod or a head shake barely moves the head's centre but turns the face against the ears.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from mabench.taxonomy import BODY_PARTS

SKELETON_FORMAT = "mabench-skeleton/1"

# Canonical joints. `hand` is the hand's centre (middle-finger knuckle, or the wrist when a format
# has no hand points); `toe` is the big toe (or the ankle when absent).
JOINTS: tuple[str, ...] = (
    "head", "neck",
    "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist", "left_hand", "right_hand",
    "left_hip", "right_hip", "left_knee", "right_knee",
    "left_ankle", "right_ankle", "left_toe", "right_toe",
)
J = {name: i for i, name in enumerate(JOINTS)}

# Each of the 14 question parts is the mean of these joints (a segment's midpoint, or a point).
PART_JOINTS: dict[str, tuple[str, ...]] = {"head": ("head",), "torso": ("neck", "left_hip", "right_hip")}
for _side in ("left", "right"):
    PART_JOINTS.update({
        f"{_side} upper arm": (f"{_side}_shoulder", f"{_side}_elbow"),
        f"{_side} lower arm": (f"{_side}_elbow", f"{_side}_wrist"),
        f"{_side} hand": (f"{_side}_hand",),
        f"{_side} upper leg": (f"{_side}_hip", f"{_side}_knee"),
        f"{_side} lower leg": (f"{_side}_knee", f"{_side}_ankle"),
        f"{_side} foot": (f"{_side}_ankle", f"{_side}_toe"),
    })
PART_JOINTS = {part: PART_JOINTS[part] for part in BODY_PARTS}  # the taxonomy's order

# Where each part's *movement* is read. The same as PART_JOINTS except the torso: a seated person's hips
# do not move, so averaging them in dilutes a sway, a straightening or a rise; the neck (the shoulders'
# midpoint) carries the trunk's movement. PART_JOINTS stays the torso's centre for distances and contact.
MOTION_JOINTS: dict[str, tuple[str, ...]] = {**PART_JOINTS, "torso": ("neck",)}

# Face points the pose models give (COCO, MediaPipe, OpenPose all have the first five). Masked faces
# keep them: the models place them on the head from its outline.
FACE_POINTS: tuple[str, ...] = ("nose", "left_eye", "right_eye", "left_ear", "right_ear", "mouth_left", "mouth_right")

# Missing joints are filled over gaps up to this long; longer gaps are flagged, not invented.
MAX_GAP_S = 0.3
MIN_CONF = 0.3


class SkeletonError(ValueError):
    """A skeleton file or array that cannot be used; the message names the file and the problem."""


@dataclass
class Skeleton:
    """Per-frame 2D keypoints of one subject in pixels, with their times in seconds."""

    points: np.ndarray            # (T, J, 2) float, NaN where missing
    conf: np.ndarray              # (T, J) float in 0..1
    times: np.ndarray             # (T,) seconds
    width: int
    height: int
    hands: dict[str, np.ndarray] = field(default_factory=dict)  # side -> (T, 21, 3) x, y, conf
    source: str = ""              # format it came from
    face: dict[str, np.ndarray] = field(default_factory=dict)  # FACE_POINTS name -> (T, 3) x, y, conf
    flagged: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # joint -> long gaps

    def __post_init__(self) -> None:
        self.points = np.asarray(self.points, dtype=np.float64)
        self.conf = np.asarray(self.conf, dtype=np.float64)
        self.times = np.asarray(self.times, dtype=np.float64)
        t = len(self.times)
        if self.points.shape != (t, len(JOINTS), 2) or self.conf.shape != (t, len(JOINTS)):
            raise SkeletonError(f"skeleton arrays do not match: points {self.points.shape}, "
                                f"conf {self.conf.shape}, {t} times, {len(JOINTS)} joints expected")
        if t < 2:
            raise SkeletonError(f"a skeleton needs at least 2 frames, got {t}")

    @property
    def duration(self) -> float:
        return float(self.times[-1] - self.times[0])

    def part_tracks(self, joints_of: dict[str, tuple[str, ...]] = PART_JOINTS) -> dict[str, np.ndarray]:
        """Part name -> (T, 2) trajectory: the mean of the part's joints."""
        return {part: self.points[:, [J[j] for j in joints]].mean(axis=1)
                for part, joints in joints_of.items()}

    # ---- files ----
    def to_json(self) -> dict:
        def r(a: np.ndarray) -> list:
            return np.round(np.where(np.isnan(a), -1.0, a), 2).tolist()
        out = {"format": SKELETON_FORMAT, "joints": list(JOINTS), "width": self.width, "height": self.height,
               "times": np.round(self.times, 4).tolist(), "points": r(self.points),
               "conf": np.round(self.conf, 3).tolist(), "source": self.source}
        if self.hands:
            out["hands"] = {side: r(arr) for side, arr in self.hands.items()}
        if self.face:
            out["face"] = {name: r(arr) for name, arr in self.face.items()}
        return out

    @classmethod
    def from_json(cls, data: dict, where: str = "skeleton") -> Skeleton:
        if data.get("format") != SKELETON_FORMAT:
            raise SkeletonError(f"{where}: not a {SKELETON_FORMAT} file (format={data.get('format')!r})")
        if list(data.get("joints", [])) != list(JOINTS):
            raise SkeletonError(f"{where}: joint list differs from mabench's {len(JOINTS)} joints")
        try:
            conf = np.asarray(data["conf"], dtype=np.float64)
            points = np.asarray(data["points"], dtype=np.float64)
            points[conf <= 0] = np.nan
            hands = {s: np.asarray(a, dtype=np.float64) for s, a in (data.get("hands") or {}).items()}
            face = {n: np.asarray(a, dtype=np.float64) for n, a in (data.get("face") or {}).items() if n in FACE_POINTS}
            for a in face.values():
                a[a[:, 2] <= 0, :2] = np.nan
            return cls(points=points, conf=conf, times=np.asarray(data["times"], dtype=np.float64),
                       width=int(data["width"]), height=int(data["height"]), hands=hands,
                       source=str(data.get("source", "")), face=face)
        except (KeyError, TypeError, ValueError) as e:
            raise SkeletonError(f"{where}: {e}") from e


def load_skeleton_file(path: str | Path) -> Skeleton:
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise SkeletonError(f"{path}: cannot read skeleton JSON ({e})") from e
    return Skeleton.from_json(data, where=str(path))


def fill_gaps(sk: Skeleton, min_conf: float = MIN_CONF, max_gap_s: float = MAX_GAP_S) -> Skeleton:
    """Linearly interpolate joints missing or below `min_conf` over gaps up to `max_gap_s`.

    Longer gaps (and gaps at the ends, which have nothing to interpolate between) are filled by the
    nearest good value so arrays stay usable, and listed in `flagged` so descriptors can skip them.
    """
    points = sk.points.copy()
    flagged: dict[str, list[tuple[float, float]]] = {}
    t = sk.times
    for j, name in enumerate(JOINTS):
        good = (sk.conf[:, j] >= min_conf) & np.isfinite(points[:, j]).all(axis=1)
        if good.all():
            continue
        if not good.any():
            flagged[name] = [(float(t[0]), float(t[-1]))]
            continue
        idx = np.flatnonzero(good)
        for axis in range(2):
            points[:, j, axis] = np.interp(t, t[idx], points[idx, j, axis])
        # find runs of bad frames and flag the long ones
        bad = ~good
        edges = np.diff(np.concatenate([[0], bad.astype(int), [0]]))
        for start, stop in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1), strict=True):
            t0 = t[start - 1] if start > 0 else t[start]
            t1 = t[stop] if stop < len(t) else t[stop - 1]
            at_end = start == 0 or stop == len(t)
            if at_end or (t1 - t0) > max_gap_s:
                flagged.setdefault(name, []).append((float(t[start]), float(t[stop - 1])))
    return Skeleton(points=points, conf=sk.conf, times=sk.times, width=sk.width, height=sk.height,
                    hands=sk.hands, source=sk.source, flagged=flagged, face=sk.face)
