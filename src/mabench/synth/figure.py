"""A seated 2D articulated figure: forward kinematics to the canonical joints, and rendering.

The figure faces the camera, so the subject's left side is on the image's right (+x). Angles of
limb segments are measured from straight down, positive = outward (away from the midline), so one
pose parameter means the same movement for either side.

Lengths are in body units `u` (image height / 6). The body scale descriptors normalise by is the
torso length (neck to hip centre), `TORSO * u`.

Two figures. `v1` (the first one) has a flat head: head movements translate a disc. `v2` is built for
real micro-action amplitudes: the head is a small 3D model (a sphere with nose, eyes, ears and mouth
corners) that turns (yaw), nods (pitch) and tilts (roll) about the top of the neck and is projected
onto the image, so the face points shift against the ears the way a pose model sees a real head; its
`head` joint is the mean of nose, eyes and ears and its `neck` the shoulders' midpoint, as the pose
importers make them. The v2 trunk can also slump forward (its projection shortens), twist (the
shoulder span narrows) and rise off the seat with the feet staying on the floor.
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
    # v2 only: head rotations and trunk posture (radians)
    "head_yaw": 0.0, "head_pitch": 0.0, "head_roll": 0.0, "slump": 0.0, "twist": 0.0,
}
for _s in SIDES:
    REST.update({f"{_s}_shrug": 0.0, f"{_s}_ua": 0.15, f"{_s}_la": -0.9, f"{_s}_hand": 0.0,
                 f"{_s}_fist": 0.0, f"{_s}_ul": 0.35, f"{_s}_ll": 0.0, f"{_s}_foot": 1.2,
                 f"{_s}_knee_lift": 0.0})
PARAMS: tuple[str, ...] = tuple(REST)
FIGURES: tuple[str, ...] = ("v1", "v2")

# v2 head: a sphere of radius HEAD_R whose centre sits HEAD_UP above the pivot (the top of the neck,
# NECK_PIVOT above the trunk's top). Face points in the head's own frame, in head radii: x to the
# image's right, y down, z toward the camera (a subject facing the camera: their left is +x).
# Proportions of an adult head against a ~52 cm neck-to-hip torso: ~20 cm across (radius HEAD_R 0.26 u
# = 0.2 torso lengths), ears ~15 cm apart (0.3 torso lengths), the nose tip ~11 cm in front of the ear line:
# so a yaw or pitch of 0.1 rad shifts the nose against the ears by ~0.08 ear widths.
HEAD_R, HEAD_UP, NECK_PIVOT = 0.26, 0.3, 0.2
FACE_3D: dict[str, tuple[float, float, float]] = {
    "nose": (0.0, 0.2, 1.05),
    "left_eye": (0.33, -0.1, 0.85), "right_eye": (-0.33, -0.1, 0.85),
    "left_ear": (0.75, 0.05, -0.15), "right_ear": (-0.75, 0.05, -0.15),
    "mouth_left": (0.28, 0.5, 0.8), "mouth_right": (-0.28, 0.5, 0.8),
}
HEAD_FROM = ("nose", "left_eye", "right_eye", "left_ear", "right_ear")  # the pose importers' head joint


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
        def rgb(a: np.ndarray) -> tuple[int, int, int]:
            return int(a[0]), int(a[1]), int(a[2])

        return cls(scale=float(rng.uniform(0.9, 1.05)), skin=rgb(rng.integers([150, 110, 80], [240, 200, 170])),
                   shirt=rgb(rng.integers(20, 220, 3)), trousers=rgb(rng.integers(20, 90, 3)))


def _seg(start: np.ndarray, angle: np.ndarray, length: float | np.ndarray, s: float) -> np.ndarray:
    """End point of a segment of `length` from `start` at `angle` (from down, + = outward)."""
    return start + np.asarray(length)[..., None] * np.stack([s * np.sin(angle), np.cos(angle)], axis=-1)


def full_params(params: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], int]:
    p = {k: np.asarray(params.get(k, REST[k]), dtype=np.float64) for k in PARAMS}
    t = max(v.size for v in p.values())
    return {k: np.broadcast_to(v, (t,)) for k, v in p.items()}, t


def _rotation(yaw: np.ndarray, pitch: np.ndarray, roll: np.ndarray) -> np.ndarray:
    """(T, 3, 3) head rotation in image axes (x right, y down, z toward the camera): pitch about x
    (+ = chin up), then yaw about y (+ = nose toward the image's right), then roll about z (+ = the top
    of the head toward the image's right, as a positive lean)."""
    def mat(a: np.ndarray, rows: list[list[str]]) -> np.ndarray:
        vals = {"1": np.ones_like(a), "0": np.zeros_like(a), "c": np.cos(a), "s": np.sin(a), "-s": -np.sin(a)}
        return np.stack([np.stack([vals[v] for v in row], -1) for row in rows], -2)

    rx = mat(pitch, [["1", "0", "0"], ["0", "c", "-s"], ["0", "s", "c"]])  # nose (+z) to -y: up
    ry = mat(yaw, [["c", "0", "s"], ["0", "1", "0"], ["-s", "0", "c"]])    # nose (+z) to +x
    rz = mat(roll, [["c", "-s", "0"], ["s", "c", "0"], ["0", "0", "1"]])   # top (-y) to +x
    return rz @ ry @ rx


def head_angles(p: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The v2 head's (yaw, pitch, roll) in radians: the head rides on the trunk, so a twist turns it, a slump
    tips it down and a lean rolls it."""
    return (p["head_yaw"] + 0.8 * p["twist"], p["head_pitch"] - 0.5 * p["slump"],
            p["head_roll"] + p["head_tilt"] + p["lean"])


def head_model(params: dict[str, np.ndarray], width: int, height: int, body: Body = Body()) -> dict[str, np.ndarray]:
    """v2 head, per frame: "pivot" (T, 2) px, "rot" (T, 3, 3), "centre" (T, 3) and every FACE_3D point
    (T, 3) as image x, y (px) and depth z (px, + toward the camera)."""
    u = height / 6.0 * body.scale
    p, t = full_params(params)
    top = _trunk_top(p, width, height, u)
    up = np.stack([np.sin(p["lean"]), -np.cos(p["lean"])], axis=-1)
    pivot = top + NECK_PIVOT * u * up + u * np.stack([p["head_x"], p["head_y"]], axis=-1)
    rot = _rotation(*head_angles(p))
    r = HEAD_R * u

    def place(v: np.ndarray) -> np.ndarray:  # head-frame offsets from the pivot (3,) -> (T, 3) image
        w = rot @ v
        return np.concatenate([pivot, np.zeros((t, 1))], axis=1) + w

    out = {"pivot": pivot, "rot": rot, "centre": place(np.array([0.0, -HEAD_UP * u, 0.0]))}
    for name, (x, y, z) in FACE_3D.items():
        out[name] = place(np.array([x * r, y * r - HEAD_UP * u, z * r]))
    return out


def _trunk_top(p: dict[str, np.ndarray], width: int, height: int, u: float) -> np.ndarray:
    hip_c = np.stack([width / 2 + p["root_x"] * u, height * 0.6 + p["root_y"] * u], axis=-1)
    # a forward slump is seen from the front as a shorter trunk
    length = TORSO * u * np.cos(p["slump"])
    return hip_c + length[:, None] * np.stack([np.sin(p["lean"]), -np.cos(p["lean"])], axis=-1)


def face_points(params: dict[str, np.ndarray], width: int, height: int, body: Body = Body()) -> dict[str, np.ndarray]:
    """The v2 face points as a skeleton's `face`: name -> (T, 3) x, y (px) and confidence 1."""
    head = head_model(params, width, height, body)
    return {n: np.concatenate([head[n][:, :2], np.ones((len(head[n]), 1))], axis=1) for n in FACE_3D}


def joints(params: dict[str, np.ndarray], width: int, height: int, body: Body = Body(),
           figure: str = "v2") -> np.ndarray:
    """(T, J, 2) pixel positions of the canonical joints for per-frame pose parameters."""
    if figure == "v2":
        return _joints_v2(params, width, height, body)
    if figure != "v1":
        raise ValueError(f"unknown figure {figure!r}; one of {FIGURES}")
    u = height / 6.0 * body.scale
    p, t = full_params(params)
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


def _joints_v2(params: dict[str, np.ndarray], width: int, height: int, body: Body) -> np.ndarray:
    u = height / 6.0 * body.scale
    p, t = full_params(params)
    out = np.zeros((t, len(JOINTS), 2))
    hip_c = np.stack([width / 2 + p["root_x"] * u, height * 0.6 + p["root_y"] * u], axis=-1)
    rest_hip = np.array([width / 2, height * 0.6])
    top = _trunk_top(p, width, height, u)
    lean = p["lean"]
    perp = np.stack([np.cos(lean), np.sin(lean)], axis=-1)
    span = SHOULDER * u * np.cos(p["twist"])  # a twisting trunk shows a narrower shoulder line
    shoulders = {}
    for side, s in SIDES.items():
        shoulders[side] = top + s * span[:, None] * perp - np.stack([np.zeros(t), p[f"{side}_shrug"] * u], axis=-1)
    out[:, J["neck"]] = (shoulders["left"] + shoulders["right"]) / 2  # as the pose importers' neck
    head = head_model(params, width, height, body)
    out[:, J["head"]] = np.mean([head[n][:, :2] for n in HEAD_FROM], axis=0)
    # rising lifts the hips off the seat; the feet stay on the floor and the knees go half way
    lift = hip_c - rest_hip
    for side, s in SIDES.items():
        sh = shoulders[side]
        el = _seg(sh, p[f"{side}_ua"], UPPER_ARM * u, s)
        wr = _seg(el, p[f"{side}_la"], LOWER_ARM * u, s)
        hand = _seg(wr, p[f"{side}_la"] + p[f"{side}_hand"], HAND * u * (1 - 0.4 * p[f"{side}_fist"]), s)
        hip = hip_c + np.array([s * HIP * u, 0.0])
        knee = _seg(hip, p[f"{side}_ul"], UPPER_LEG * u, s) - np.stack([np.zeros(t), p[f"{side}_knee_lift"] * u], -1)
        ankle = _seg(knee, p[f"{side}_ll"], LOWER_LEG * u, s) - lift
        toe = _seg(ankle, p[f"{side}_foot"], FOOT * u, s)
        knee = knee - 0.5 * lift
        for name, arr in (("shoulder", sh), ("elbow", el), ("wrist", wr), ("hand", hand), ("hip", hip),
                          ("knee", knee), ("ankle", ankle), ("toe", toe)):
            out[:, J[f"{side}_{name}"]] = arr
    return out


def reach(side: str, target: np.ndarray, width: int, height: int, body: Body = Body(),
          figure: str = "v2") -> tuple[float, float]:
    """Upper- and lower-arm angles that put `side`'s wrist at `target` (pixels), elbow outward.

    Solved on the resting shoulder; used when a program is designed, not per frame.
    """
    s = SIDES[side]
    u = height / 6.0 * body.scale
    rest = joints({}, width, height, body, figure)[0]
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


def _sphere_spots(n: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.normal(size=(n, 3))
    v[:, 2] = np.abs(v[:, 2]) + 0.2  # the front of the head
    return v / np.linalg.norm(v, axis=1, keepdims=True), rng.uniform(-35, 25, n)


FACE_SPOTS, FACE_SPOT_SHADE = _sphere_spots(70)
SHIFT = 4  # sub-pixel drawing (1/16 px): a nod moves the face by a pixel or less at 320x240


def _fx(p: np.ndarray) -> tuple[int, int]:
    return int(round(float(p[0]) * (1 << SHIFT))), int(round(float(p[1]) * (1 << SHIFT)))


def _draw_head_v2(img: np.ndarray, head: dict[str, np.ndarray], body: Body, u: float) -> None:
    """The v2 head of one frame: a skin disc, a hair cap, ears, eyes, nose and mouth where they face the
    camera. Everything is drawn at sub-pixel positions, so optical flow sees a 1-px nod."""
    r = HEAD_R * u
    c = head["centre"]
    rot = head["rot"]
    dark = tuple(max(0, v - 60) for v in body.skin)
    cv2.circle(img, _fx(c), int(r * (1 << SHIFT)), body.skin, -1, cv2.LINE_AA, SHIFT)
    # skin texture fixed on the sphere (freckles, shading spots): a real face is not a flat disc, and
    # its texture turning with the head is what optical flow sees of a nod
    spots = FACE_SPOTS * r @ rot.T + c
    for q, shade in zip(spots, FACE_SPOT_SHADE, strict=True):
        if q[2] - c[2] > 0.25 * r:
            colour = tuple(int(min(255, max(0, v + shade))) for v in body.skin)
            cv2.circle(img, _fx(q), int(max(1.0, 0.16 * r) * (1 << SHIFT)), colour, -1, cv2.LINE_AA, SHIFT)
    # hair: the cap of the sphere above 55 degrees from the top, a textured edge that turns with the head
    a = np.linspace(0, 2 * np.pi, 24, endpoint=False)
    b = np.radians(55)
    ring = np.stack([np.sin(b) * np.cos(a), -np.cos(b) * np.ones_like(a), np.sin(b) * np.sin(a)], -1) * r
    cap = np.concatenate([ring, [[0.0, -r, 0.0]], ring * [1.0, 0.2, 1.0] - [0.0, 0.8 * r, 0.0]])
    world = cap @ rot.T + c
    hull = cv2.convexHull(np.array([_fx(q) for q in world], np.int32))
    cv2.fillConvexPoly(img, hull, (60, 40, 30), cv2.LINE_AA, SHIFT)
    for ear in ("left_ear", "right_ear"):  # at the side of the head; hidden once turned well away
        if head[ear][2] - c[2] > -0.55 * r:
            cv2.ellipse(img, _fx(head[ear]), (int(0.14 * r * (1 << SHIFT)), int(0.24 * r * (1 << SHIFT))), 0, 0, 360,
                        dark, -1, cv2.LINE_AA, SHIFT)
    facing = (rot @ np.array([0.0, 0.0, 1.0]))[2]
    if facing <= 0.1:
        return
    for brow in (1.0, -1.0):  # eyebrows
        ends = (np.array([[brow * 0.15, -0.35, 0.92], [brow * 0.5, -0.33, 0.78]]) * r) @ rot.T + c
        if ends[:, 2].min() > c[2]:
            cv2.line(img, _fx(ends[0]), _fx(ends[1]), (70, 50, 40), 1, cv2.LINE_AA, SHIFT)
    for eye in ("left_eye", "right_eye"):
        if head[eye][2] > c[2]:
            cv2.circle(img, _fx(head[eye]), int(max(1.0, r / 6) * (1 << SHIFT)), (40, 30, 30), -1, cv2.LINE_AA, SHIFT)
    bridge = (np.array([0.0, -0.1, 0.9]) * r) @ rot.T + c
    cv2.line(img, _fx(bridge), _fx(head["nose"]), (150, 100, 80), 1, cv2.LINE_AA, SHIFT)
    cv2.circle(img, _fx(head["nose"]), int(max(1.0, r / 8) * (1 << SHIFT)), (170, 110, 90), -1, cv2.LINE_AA, SHIFT)
    cv2.line(img, _fx(head["mouth_right"]), _fx(head["mouth_left"]), (120, 50, 50), 1, cv2.LINE_AA, SHIFT)


def draw(img: np.ndarray, pts: np.ndarray, body: Body, params_t: dict[str, float], u: float,
         head: dict[str, np.ndarray] | None = None) -> None:
    """Draw one frame of the figure in place (RGB uint8); `head`: the v2 head model at this frame."""
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
    if head is not None:
        cv2.line(img, P("neck"), tuple(int(round(v)) for v in head["pivot"]), body.skin, max(2, int(u * 0.2)),
                 cv2.LINE_AA)
        _draw_head_v2(img, head, body, u)
    else:
        _draw_head_v1(img, pts, body, params_t, u)
    _draw_arms(img, pts, body, params_t, u, th)


def _draw_head_v1(img: np.ndarray, pts: np.ndarray, body: Body, params_t: dict[str, float], u: float) -> None:
    def P(name: str) -> tuple[int, int]:
        x, y = pts[J[name]]
        return int(round(x)), int(round(y))

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


def _draw_arms(img: np.ndarray, pts: np.ndarray, body: Body, params_t: dict[str, float], u: float, th: int) -> None:
    def P(name: str) -> tuple[int, int]:
        x, y = pts[J[name]]
        return int(round(x)), int(round(y))

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
