"""Optical flow around each body part (OpenCV DIS): motion the keypoints miss, like a nod.

Frames are grey and downscaled (longest side `FLOW_SIDE`). For every consecutive pair, DIS flow is
summarised in a box around each part (half-size `BOX` torso lengths), after subtracting the frame's
median flow so that camera shake is not read as body motion. Energy is the mean flow speed in torso
lengths per second; direction is the mean flow vector, as seen in the image (y up).

The box medians, added up over the clip, give each part's displacement with sub-pixel precision:
a real nod moves the face 1-3 px in a 1080x1296 frame, below a pose model's jitter but plain in the
flow. `displacement` holds these tracks (T, 2) in torso lengths (y up) for the descriptors; it is not
written to the descriptor file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from mabench.motion.skeleton import J, Skeleton
from mabench.taxonomy import BODY_PARTS, PHASES
from mabench.video.decode import decode_all

# The per-frame courses `part_flow` returns beside its summaries: read by the descriptors, not written.
COURSES = ("displacement", "times", "head_own", "head_covered", "shoulder_carry")
FLOW_SIDE = 640  # a nod is 1-3 px at full size; at 320 px it drowns in the flow's own error
BOX = 0.35
# Flow is far less noisy than keypoints: light smoothing (s) keeps a nod's ~0.3 s strokes for the rhythm.
FLOW_SMOOTH_S = 0.03
FLOW_FLOOR_MIN = 0.0015  # torso lengths: a box's drift under this is the flow's own error, not motion
PRESETS = {"ultrafast": cv2.DISOPTICAL_FLOW_PRESET_ULTRAFAST, "fast": cv2.DISOPTICAL_FLOW_PRESET_FAST,
           "medium": cv2.DISOPTICAL_FLOW_PRESET_MEDIUM}


def decode_gray(path: str | Path, max_side: int = FLOW_SIDE) -> tuple[list[np.ndarray], np.ndarray, tuple[int, int]]:
    """All frames of a clip, grey and downscaled; their times (s); the original (width, height)."""
    return decode_all(path, "gray", max_side)


def part_flow(frames: list[np.ndarray], times: np.ndarray, sk: Skeleton, preset: str = "ultrafast") -> dict:
    """Per part: flow energy and mean direction per phase, and over the clip."""
    if len(frames) < 2:
        raise ValueError("optical flow needs at least 2 frames")
    frames = [np.ascontiguousarray(f) for f in frames]  # DIS asserts contiguous input (PyAV pads rows)
    h, w = frames[0].shape[:2]
    sx, sy = w / sk.width, h / sk.height
    dis = cv2.DISOpticalFlow_create(PRESETS[preset])  # type: ignore[attr-defined]  # not in the stubs
    # part centres at each frame time, in flow-image pixels
    tracks = sk.part_tracks()
    centres = np.stack([np.stack([np.interp(times, sk.times, tracks[p][:, k]) for k in range(2)], -1)
                        for p in BODY_PARTS], axis=1) * np.array([sx, sy])  # (T, P, 2)
    hip = sk.points[:, [J["left_hip"], J["right_hip"]]].mean(axis=1)
    torso_px = float(np.nanmedian(np.linalg.norm(sk.points[:, J["neck"]] - hip, axis=1))) * sy
    halves = np.full(len(BODY_PARTS), max(2, int(round(BOX * torso_px))))
    face = _face_box(sk, times)
    # the head's box is the head (two ear widths square), not 0.7 torso lengths of wall around it: there a real
    # nod's 1-3 px were 10-15% of the median (synthetic v2 head); a masked face has texture only at its outline
    # and hairline, so the box keeps those (0.6 ear widths lost the real nod's strokes, 1.2 the synthetic one's)
    if face is not None:
        head = BODY_PARTS.index("head")
        centres[:, head] = face[0] * np.array([sx, sy])
        halves[head] = max(2, int(round(face[1] * sx)))
    n_pairs = len(frames) - 1
    shoulders = [np.stack([np.interp(times, sk.times, sk.points[:, J[j], k]) for k in range(2)], -1)
                 * np.array([sx, sy]) for j in ("left_shoulder", "right_shoulder")]
    carrier_half = max(2, int(round(CARRIER_BOX * torso_px)))
    # each forearm, elbow to hand, at each frame time (flow pixels): its pixels in the head's box are the arm's
    arms = [np.stack([np.stack([np.interp(times, sk.times, sk.points[:, J[f"{side}_{j}"], k]) for k in range(2)], -1)
                      for j in ("elbow", "hand")], 1) * np.array([sx, sy]) for side in ("left", "right")]
    # a pixel's flow is the mean of the patches over it, and DIS's patches live on its finest pyramid level: a
    # patch of 8 at level 2 (the ultrafast preset) spans 32 px of the frame, and a moving arm drags the flow that
    # far (measured: above 0.1 px out to 23-31 px from a square moving 3-6 px). A resting arm drags nothing: only
    # its own pixels are left out then, or at a small figure its band would cover the shoulders the head is read
    # against
    arm_own = HAND_HALF * torso_px + dis.getPatchSize()
    arm_drag = HAND_HALF * torso_px + dis.getPatchSize() * 2 ** dis.getFinestScale()
    head_i = BODY_PARTS.index("head")
    covered = np.zeros(n_pairs)  # share of the head's box an arm covers, per pair
    own = np.zeros((n_pairs, 4))  # the head's own flow per pair: dx, dy (px, y down), curl (rad), divergence
    carry = np.zeros((n_pairs, 3, 2))  # what the shoulders carry per pair: both (subtracted in `own`), left, right
    vec = np.zeros((n_pairs, len(BODY_PARTS), 2))
    med = np.zeros((n_pairs, len(BODY_PARTS), 2))  # robust to the edges of a box catching another part
    prev = frames[0]
    for i in range(n_pairs):
        nxt = frames[i + 1]
        flow = dis.calc(prev, nxt, None)
        flow -= np.median(flow.reshape(-1, 2)[:: 7], axis=0)  # camera motion (subsampled median)
        around = [(centres[i, head_i], int(halves[head_i]))] + [(sh[i], carrier_half) for sh in shoulders]
        tex = _textured(prev, dis.getPatchSize(), around)
        head_keep = None
        bands = [(a[i], arm_drag if _arm_moves(flow, a[i], dis.getPatchSize()) else arm_own) for a in arms]
        for p in range(len(BODY_PARTS)):
            x, y = centres[i, p]
            if not np.isfinite(x + y):
                continue
            half = int(halves[p])
            x0, x1 = max(0, int(x) - half), min(w, int(x) + half)
            y0, y1 = max(0, int(y) - half), min(h, int(y) + half)
            if x1 > x0 and y1 > y0:
                box = flow[y0:y1, x0:x1]
                if p == head_i:  # the head's box without the arms in it, where the flow is a measurement
                    head_keep = ~_arm_pixels((y0, y1, x0, x1), bands)
                    covered[i] = 1.0 - float(head_keep.mean())
                    box = box[_measured(head_keep, tex[y0:y1, x0:x1])] if head_keep.mean() >= HEAD_KEEP_MIN \
                        else box[:0]
                box = box.reshape(-1, 2)
                if len(box):
                    vec[i, p] = box.mean(axis=0)
                    med[i, p] = np.median(box, axis=0)
        own[i], carry[i] = _head_own(flow, centres[i, head_i], int(halves[head_i]), [s[i] for s in shoulders],
                                     carrier_half, head_keep, bands, tex)
        prev = nxt
    dt = np.maximum(np.diff(times), 1e-6)[:, None, None]
    v = vec / dt / max(torso_px, 1e-6)   # torso lengths per second
    v[..., 1] *= -1                      # y up, as the descriptors
    speed = np.linalg.norm(v, axis=-1)   # (pairs, P)
    mid = (times[:-1] + times[1:]) / 2
    edges = np.linspace(times[0], times[-1], len(PHASES) + 1)
    out: dict = {"preset": preset, "size": [w, h], "torso_px": round(torso_px, 2), "parts": {}}
    for p, part in enumerate(BODY_PARTS):
        per_phase = {}
        for k, ph in enumerate(PHASES):
            m = (mid >= edges[k]) & (mid <= edges[k + 1])
            if m.any():
                mean_v = v[m, p].mean(axis=0)
                per_phase[ph] = {"energy": round(float(speed[m, p].mean()), 4),
                                 "dx": round(float(mean_v[0]), 4), "dy": round(float(mean_v[1]), 4)}
        out["parts"][part] = {"energy": round(float(speed[:, p].mean()), 4), "phases": per_phase}
    ranked = sorted(BODY_PARTS, key=lambda q: -out["parts"][q]["energy"])
    out["ranking"] = ranked
    disp = np.concatenate([np.zeros((1, len(BODY_PARTS), 2)), np.cumsum(med, axis=0)]) / max(torso_px, 1e-6)
    disp[..., 1] *= -1
    out["displacement"] = {part: disp[:, p] for p, part in enumerate(BODY_PARTS)}
    out["times"] = times
    # cumulative: the head's own displacement against the shoulders (torso lengths, y up), its roll in the
    # image plane (degrees, positive = the top of the head tips toward the image's right) and its scale change
    cum = np.concatenate([np.zeros((1, 4)), np.cumsum(own, axis=0)])
    out["head_own"] = {"x": cum[:, 0] / max(torso_px, 1e-6), "y": -cum[:, 1] / max(torso_px, 1e-6),
                       "roll": np.degrees(cum[:, 2]), "scale": cum[:, 3]}
    out["head_covered"] = covered  # per pair: the share of the head's box an arm covered (events.ARM_COVER_MAX)
    # cumulative carry of each shoulder and of both (torso lengths, y up): `head_own` less both, plus both, less
    # one is the head against that shoulder alone
    cc = np.concatenate([np.zeros((1, 3, 2)), np.cumsum(carry, axis=0)]) / max(torso_px, 1e-6) * np.array([1, -1])
    out["shoulder_carry"] = {"both": cc[:, 0], "left": cc[:, 1], "right": cc[:, 2]}
    return out


HAND_HALF = 0.1  # torso lengths: a forearm's and hand's half-width with a margin (a hand ~19 cm, a torso ~50 cm)
HEAD_KEEP_MIN = 0.3  # share of the head's box an arm must leave uncovered for the rest to speak for the head


# Flow pixels per frame at a forearm's hand or elbow from which it is moving (its wide band applies). Slower arms
# still drag: a textured square moving 1 px / frame (read as 0.3 px) dragged 0.04-0.10 px at 8-24 px (a review's
# probe); the threshold trades that against blanking the shoulders (bench/RESULTS.md, the flow builds).
ARM_MOVING_PX = 0.5


def _arm_moves(flow: np.ndarray, seg: np.ndarray, patch: int) -> bool:
    """Whether a forearm (elbow to hand, (2, 2) flow pixels) moves in this pair: the flow's median over a patch at
    its hand or its elbow reaches `ARM_MOVING_PX`."""
    h, w = flow.shape[:2]
    for x, y in seg:
        if not np.isfinite(x + y):
            continue
        x0, x1, y0, y1 = max(0, int(x) - patch), min(w, int(x) + patch), max(0, int(y) - patch), min(h, int(y) + patch)
        if x1 > x0 and y1 > y0 and float(np.linalg.norm(np.median(flow[y0:y1, x0:x1].reshape(-1, 2), axis=0))) \
                >= ARM_MOVING_PX:
            return True
    return False


def _arm_pixels(box: tuple[int, int, int, int], bands: Sequence[tuple[np.ndarray, float]]) -> np.ndarray:
    """Pixels of the box (y0, y1, x0, x1) within each band's radius of its forearm (elbow to hand, (2, 2) points)."""
    y0, y1, x0, x1 = box
    yy, xx = np.mgrid[y0:y1, x0:x1]
    hit = np.zeros(yy.shape, dtype=bool)
    for seg, r in bands:
        if not np.isfinite(seg).all():
            continue
        a, b = seg
        ab = b - a
        t = np.clip(((xx - a[0]) * ab[0] + (yy - a[1]) * ab[1]) / max(float(ab @ ab), 1e-9), 0.0, 1.0)
        hit |= (xx - a[0] - t * ab[0]) ** 2 + (yy - a[1] - t * ab[1]) ** 2 <= r * r
    return hit


# A pixel's flow is a measurement where its DIS patch has texture both ways (Shi-Tomasi: the structure tensor's
# smaller eigenvalue at this share of the frame's largest, OpenCV's default quality level); on a flat shirt or
# cheek it is the solver's fill-in, spread from the nearest edge (a moving arm's, 0.16 torso lengths away).
TEXTURE_QUALITY = 0.01
TEXTURE_MIN_SHARE = 0.05  # a box with textured pixels under this share is read whole, as before


def _textured(img: np.ndarray, patch: int, around: list[tuple[np.ndarray, int]]) -> np.ndarray:
    """The frame's textured pixels (`TEXTURE_QUALITY`), looked for only in the boxes `around` ((centre, half-size)
    each) and relative to the best of them."""
    h, w = img.shape[:2]
    out = np.zeros((h, w), dtype=bool)
    boxes = [(int(c[0]) - r, int(c[1]) - r, int(c[0]) + r, int(c[1]) + r) for c, r in around if np.isfinite(c).all()]
    if not boxes:
        return out
    x0, y0 = max(0, min(b[0] for b in boxes) - patch), max(0, min(b[1] for b in boxes) - patch)
    x1, y1 = min(w, max(b[2] for b in boxes) + patch), min(h, max(b[3] for b in boxes) + patch)
    if x1 - x0 < 3 or y1 - y0 < 3:
        return out
    ev = cv2.cornerMinEigenVal(np.ascontiguousarray(img[y0:y1, x0:x1]), blockSize=max(3, patch), ksize=3)
    out[y0:y1, x0:x1] = ev >= TEXTURE_QUALITY * float(ev.max())
    return out


def _measured(keep: np.ndarray, tex: np.ndarray) -> np.ndarray:
    """`keep` narrowed to its textured pixels, where there are enough of them."""
    both = keep & tex
    return both if both.sum() >= TEXTURE_MIN_SHARE * keep.size else keep


# Half-size of the boxes on each shoulder whose flow carries the head (torso lengths): the shirt at the
# shoulder line moves with the trunk, not with the chin (a box under the neck catches the chin in a nod).
CARRIER_BOX = 0.12


def _head_own(flow: np.ndarray, centre: np.ndarray, half: int, shoulders: list[np.ndarray],
              carrier_half: int, keep: np.ndarray | None = None,
              bands: Sequence[tuple[np.ndarray, float]] = (), tex: np.ndarray | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """The head's own motion in one frame pair: its box's flow less what the shoulders carry, decomposed
    into translation (median, px), rotation in the image plane (curl, rad) and scale (divergence); and the
    carry (3, 2) subtracted: both shoulders' mean, then each shoulder's own (the mean where it has none).

    A head that turns or nods moves its face and hair inside its outline: the box's flow is then a
    translation of its texture against the shoulders, which a mosaic over the face does not remove (the
    mosaic and the hair move with the head). A tilt is a rotation of the box's flow field about its centre.
    """
    h, w = flow.shape[:2]
    carried = []
    sides = np.full((2, 2), np.nan)
    for side, s in enumerate(shoulders):
        if np.isfinite(s).all():
            x, y = int(s[0]), int(s[1])
            r = carrier_half
            y0, y1, x0, x1 = max(0, y - r), min(h, y + r), max(0, x - r), min(w, x + r)
            patch = flow[y0:y1, x0:x1]
            if patch.size:  # a forearm passing over the shoulder is not what the shoulder carries
                free = ~_arm_pixels((y0, y1, x0, x1), bands) if bands else \
                    np.ones(patch.shape[:2], dtype=bool)
                if free.mean() < HEAD_KEEP_MIN:
                    patch = patch[:0]
                else:
                    patch = patch[free if tex is None else _measured(free, tex[y0:y1, x0:x1])]
            if patch.size:
                sides[side] = np.median(patch.reshape(-1, 2), axis=0)
                carried.append(sides[side])
    none = np.zeros(4), np.zeros((3, 2))
    if not carried or not np.isfinite(centre).all():
        return none
    both = np.mean(carried, axis=0)
    carry = np.vstack([both[None], np.where(np.isfinite(sides), sides, both)])
    x, y = int(centre[0]), int(centre[1])
    y0, y1, x0, x1 = max(0, y - half), min(h, y + half), max(0, x - half), min(w, x + half)
    box = flow[y0:y1, x0:x1] - both
    if box.shape[0] < 3 or box.shape[1] < 3:
        return none
    if keep is None or keep.shape != box.shape[:2]:
        keep = np.ones(box.shape[:2], dtype=bool)
    if keep.mean() < HEAD_KEEP_MIN:
        return none  # an arm covers the head: this pair says nothing of it
    if tex is not None:
        keep = _measured(keep, tex[y0:y1, x0:x1])
    yy, xx = np.mgrid[y0:y1, x0:x1]
    xx, yy = xx[keep].astype(np.float64), yy[keep].astype(np.float64)
    xx, yy = xx - xx.mean(), yy - yy.mean()
    box = box[keep]
    u, v = box[:, 0], box[:, 1]
    # least-squares affine field: u = a + b x + c y, v = d + e x + f y (x, y centred, so b..f are gradients)
    sxx, syy, sxy = float(xx @ xx), float(yy @ yy), float(xx @ yy)
    det = max(sxx * syy - sxy ** 2, 1e-9)
    def grad(f: np.ndarray) -> tuple[float, float]:
        fx, fy = float(xx @ f), float(yy @ f)
        return (syy * fx - sxy * fy) / det, (sxx * fy - sxy * fx) / det
    ux, uy = grad(u)
    vx, vy = grad(v)
    med = np.median(box, axis=0)
    return np.array([med[0], med[1], (vx - uy) / 2, (ux + vy) / 2]), carry


FACE_BOX = 1.0  # half-size of the head's flow box, in ear widths: the face and the hair around it


def _face_box(sk: Skeleton, times: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The face's centre at `times` (skeleton pixels) and its box half-size, from the face points; None
    without ears and a nose."""
    need = ("nose", "left_ear", "right_ear")
    if not all(n in sk.face for n in need):
        return None
    width = float(np.nanmedian(np.linalg.norm(sk.face["left_ear"][:, :2] - sk.face["right_ear"][:, :2], axis=1)))
    pts = np.stack([sk.face[n][:, :2] for n in ("nose", "left_eye", "right_eye", "mouth_left", "mouth_right")
                    if n in sk.face])
    centre = np.nanmean(pts, axis=0)
    ok = np.isfinite(centre).all(axis=1)
    if not np.isfinite(width) or width < 2 or ok.sum() < 2:
        return None
    track = np.stack([np.interp(times, sk.times[ok], centre[ok, k]) for k in range(2)], -1)
    return track, FACE_BOX * width


def clip_flow(path: str | Path, sk: Skeleton, preset: str = "ultrafast", frames: list[np.ndarray] | None = None,
              times: np.ndarray | None = None) -> dict:
    """Part flow of a clip; pass already decoded frames (RGB or grey, any size) to skip decoding."""
    if frames is None or times is None:
        frames, times, _ = decode_gray(path)
    else:
        frames = [to_flow_gray(f) for f in frames]
    return part_flow(frames, times, sk, preset)


def to_flow_gray(frame: np.ndarray, max_side: int = FLOW_SIDE) -> np.ndarray:
    """A decoded frame as the grey, downscaled, contiguous image DIS wants."""
    g = cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame
    h, w = g.shape[:2]
    scale = max_side / max(h, w)
    if scale < 1.0:
        g = cv2.resize(g, (max(2, int(round(w * scale))), max(2, int(round(h * scale)))), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(g)

