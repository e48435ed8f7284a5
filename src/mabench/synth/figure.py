"""A seated 2D articulated figure: forward kinematics to the canonical joints, and rendering.

The figure faces the camera, so the subject's left side is on the image's right (+x). Angles of
limb segments are measured from straight down, positive = outward (away from the midline), so one
pose parameter means the same movement for either side.

Lengths are in body units `u` (image height / 6). The body scale descriptors normalise by is the
torso length (neck to hip centre), `TORSO * u`.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mabench.motion.skeleton import JOINTS, J

SIDES = {"left": 1.0, "right": -1.0}  # image-x sign of "outward" for the subject's side

TORSO, SHOULDER, HIP = 1.3, 0.55, 0.35
NECK_HEAD = 0.5
UPPER_ARM, LOWER_ARM, HAND = 0.85, 0.8, 0.3
UPPER_LEG, LOWER_LEG, FOOT = 0.6, 1.0, 0.35

# The resting pose every motion program starts from (angles in radians, lengths in u).
REST: dict[str, float] = {
    "root_x": 0.0, "root_y": 0.0, "lean": 0.0, "head_x": 0.0, "head_y": 0.0, "head_tilt": 0.0,
}
for _s in SIDES:
    REST.update({f"{_s}_shrug": 0.0, f"{_s}_ua": 0.15, f"{_s}_la": -0.9, f"{_s}_hand": 0.0,
                 f"{_s}_fist": 0.0, f"{_s}_ul": 0.35, f"{_s}_ll": 0.0, f"{_s}_foot": 1.2,
                 f"{_s}_knee_lift": 0.0})
PARAMS: tuple[str, ...] = tuple(REST)


@dataclass(frozen=True)
class Body:
    """One synthetic subject: proportions and colours vary by subject id."""

    scale: float = 1.0            # multiplies every length
    skin: tuple[int, int, int] = (224, 180, 150)
    shirt: tuple[int, int, int] = (40, 90, 170)
    trousers: tuple[int, int, int] = (50, 50, 60)

    @classmethod
    def for_subject(cls, subject: int) -> Body:
        rng = np.random.default_rng(1000 + subject)
        return cls(scale=float(rng.uniform(0.9, 1.05)),
                   skin=tuple(int(v) for v in rng.integers([150, 110, 80], [240, 200, 170])),
                   shirt=tuple(int(v) for v in rng.integers(20, 220, 3)),
                   trousers=tuple(int(v) for v in rng.integers(20, 90, 3)))


def _seg(start: np.ndarray, angle: np.ndarray, length: float | np.ndarray, s: float) -> np.ndarray:
    """End point of a segment of `length` from `start` at `angle` (from down, + = outward)."""
    return start + np.asarray(length)[..., None] * np.stack([s * np.sin(angle), np.cos(angle)], axis=-1)


def joints(params: dict[str, np.ndarray], width: int, height: int, body: Body = Body()) -> np.ndarray:
    """(T, J, 2) pixel positions of the canonical joints for per-frame pose parameters."""
    u = height / 6.0 * body.scale
    p = {k: np.asarray(params.get(k, REST[k]), dtype=np.float64) for k in PARAMS}
    t = max(v.size for v in p.values())
    p = {k: np.broadcast_to(v, (t,)) for k, v in p.items()}
    out = np.zeros((t, len(JOINTS), 2))
    hip_c = np.stack([width / 2 + p["root_x"] * u, height * 0.6 + p["root_y"] * u], axis=-1)
    lean = p["lean"]
    neck = hip_c + TORSO * u * np.stack([np.sin(lean), -np.cos(lean)], axis=-1)
    perp = np.stack([np.cos(lean), np.sin(lean)], axis=-1)
    out[:, J["neck"]] = neck
    tilt = p["head_tilt"]
    out[:, J["head"]] = (neck + NECK_HEAD * u * np.stack([np.sin(tilt), -np.cos(tilt)], axis=-1)
                         + u * np.stack([p["head_x"], p["head_y"]], axis=-1))
    for side, s in SIDES.items():
        sh = neck + s * SHOULDER * u * perp + np.stack([np.zeros(t), 0.12 * u - p[f"{side}_shrug"] * u], axis=-1)
        el = _seg(sh, p[f"{side}_ua"], UPPER_ARM * u, s)
        wr = _seg(el, p[f"{side}_la"], LOWER_ARM * u, s)
        hand = _seg(wr, p[f"{side}_la"] + p[f"{side}_hand"], HAND * u * (1 - 0.4 * p[f"{side}_fist"]), s)
        hip = hip_c + np.array([s * HIP * u, 0.0])
        knee = _seg(hip, p[f"{side}_ul"], UPPER_LEG * u, s) - np.stack([np.zeros(t), p[f"{side}_knee_lift"] * u], -1)
        ankle = _seg(knee, p[f"{side}_ll"], LOWER_LEG * u, s)
        toe = _seg(ankle, p[f"{side}_foot"], FOOT * u, s)
        for name, arr in (("shoulder", sh), ("elbow", el), ("wrist", wr), ("hand", hand), ("hip", hip),
                          ("knee", knee), ("ankle", ankle), ("toe", toe)):
            out[:, J[f"{side}_{name}"]] = arr
    return out


def reach(side: str, target: np.ndarray, width: int, height: int, body: Body = Body()) -> tuple[float, float]:
    """Upper- and lower-arm angles that put `side`'s wrist at `target` (pixels), elbow outward.

    Solved on the resting shoulder; used when a program is designed, not per frame.
    """
    s = SIDES[side]
    u = height / 6.0 * body.scale
    rest = joints({}, width, height, body)[0]
    shoulder = rest[J[f"{side}_shoulder"]]
    d = np.asarray(target, dtype=np.float64) - shoulder
    l1, l2 = UPPER_ARM * u, LOWER_ARM * u
    dist = float(np.clip(np.hypot(*d), abs(l1 - l2) + 1e-3, l1 + l2 - 1e-3))
    base = np.arctan2(s * d[0], d[1])  # direction to the target in the outward-from-down convention
    bend = np.arccos((l1 ** 2 + dist ** 2 - l2 ** 2) / (2 * l1 * dist))
    ua = base + bend                    # elbow to the outside
    elbow = shoulder + l1 * np.array([s * np.sin(ua), np.cos(ua)])
    w = np.asarray(target) - elbow
    la = np.arctan2(s * w[0], w[1])
    return float(ua), float(la)


# ----------------------------------------------------------------------------------------------
# Rendering
# ----------------------------------------------------------------------------------------------

def background(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A smooth wall-like texture (a coarse random grid, upsampled) with a seat."""
    coarse = rng.integers(60, 150, size=(height // 40 + 2, width // 40 + 2, 3)).astype(np.uint8)
    img = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    seat_top = int(height * 0.62)
    img[seat_top:seat_top + height // 12, width // 4: 3 * width // 4] = (90, 60, 40)
    return img


def draw(img: np.ndarray, pts: np.ndarray, body: Body, params_t: dict[str, float], u: float) -> None:
    """Draw one frame of the figure in place (RGB uint8)."""
    def P(name: str) -> tuple[int, int]:
        x, y = pts[J[name]]
        return int(round(x)), int(round(y))

    th = max(2, int(u * 0.28))
    for side in SIDES:
        cv2.line(img, P(f"{side}_hip"), P(f"{side}_knee"), body.trousers, th + 2, cv2.LINE_AA)
        cv2.line(img, P(f"{side}_knee"), P(f"{side}_ankle"), body.trousers, th, cv2.LINE_AA)
        cv2.line(img, P(f"{side}_ankle"), P(f"{side}_toe"), (30, 30, 30), th, cv2.LINE_AA)
    torso = np.array([P("left_shoulder"), P("right_shoulder"), P("right_hip"), P("left_hip")], np.int32)
    cv2.fillConvexPoly(img, torso, body.shirt, cv2.LINE_AA)
    cv2.line(img, P("neck"), P("head"), body.skin, max(2, int(u * 0.2)), cv2.LINE_AA)
    hx, hy = P("head")
    r = max(3, int(u * 0.32))
    cv2.circle(img, (hx, hy), r, body.skin, -1, cv2.LINE_AA)
    # facial marks give the head texture, so optical flow sees nods and turns
    tilt = params_t.get("head_tilt", 0.0)
    c, s_ = np.cos(tilt), np.sin(tilt)
    for ex in (-0.35, 0.35):
        cv2.circle(img, (int(hx + r * (ex * c)), int(hy + r * (ex * s_ - 0.15))), max(1, r // 6), (40, 30, 30), -1)
    cv2.line(img, (hx, hy), (int(hx - 0.1 * r * s_), int(hy + 0.3 * r)), (150, 100, 80), 1, cv2.LINE_AA)
    cv2.line(img, (int(hx - 0.3 * r), int(hy + 0.55 * r)), (int(hx + 0.3 * r), int(hy + 0.55 * r)),
             (120, 50, 50), 1, cv2.LINE_AA)
    for side, s in SIDES.items():
        cv2.line(img, P(f"{side}_shoulder"), P(f"{side}_elbow"), body.shirt, th + 1, cv2.LINE_AA)
        cv2.line(img, P(f"{side}_elbow"), P(f"{side}_wrist"), body.skin, th, cv2.LINE_AA)
        wx, wy = pts[J[f"{side}_wrist"]]
        hx2, hy2 = pts[J[f"{side}_hand"]]
        cv2.circle(img, (int(hx2), int(hy2)), max(2, int(u * 0.13)), body.skin, -1, cv2.LINE_AA)
        # four fingers fanned around the hand's axis; a fist shortens them
        axis = np.array([hx2 - wx, hy2 - wy])
        axis /= max(np.hypot(*axis), 1e-6)
        fist = params_t.get(f"{side}_fist", 0.0)
        for k, spread in enumerate((-0.45, -0.15, 0.15, 0.45)):
            ang = np.arctan2(axis[1], axis[0]) + spread * s
            length = u * (0.28 - 0.04 * abs(k - 1.5)) * (1 - 0.75 * fist)
            tip = (int(hx2 + length * np.cos(ang)), int(hy2 + length * np.sin(ang)))
            cv2.line(img, (int(hx2), int(hy2)), tip, tuple(max(0, v - 30) for v in body.skin), max(1, th // 3),
                     cv2.LINE_AA)
