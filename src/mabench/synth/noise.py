"""Keypoint noise for validating the descriptors on synthetic skeletons.

* ``white``: independent Gaussian noise of LEVEL x the body height on every coordinate of every frame
  (the first validation's model).
* ``mediapipe``: what a temporally smoothed pose model (MediaPipe) does on still parts of real MA-52
  clips: a slow wander, not white noise. Measured on three 1080x1296 clips: still legs of a seated
  person wander 0.02-0.06 torso lengths (largest excursion over a 2-4 s clip); the head yaw / pitch
  proxies (nose against the ears' midpoint, in ear widths) wander 0.04-0.05 on a still, masked head.
  Each coordinate gets Gaussian-smoothed white noise (correlation `WANDER_S`) scaled per body region,
  the face points a shared head wander plus their own, and a small per-frame jitter on top.
"""

from __future__ import annotations

import numpy as np

from mabench.motion.skeleton import JOINTS, J, Skeleton
from mabench.synth.figure import HEAD_FROM

NOISE_KINDS = ("white", "mediapipe")
WANDER_S = 0.25                   # correlation time of the wander (s): a drift of ~1 s, not frame jitter
# standard deviation of the wander, in torso lengths, per region (legs are the least certain: often
# at the frame's edge or under a table; the upper body is well seen)
LEG_SD, BODY_SD, HEAD_SD = 0.021, 0.006, 0.005
FACE_SD = 0.0048                  # each face point's own wander: proxies wander ~0.045 ear widths
JITTER_SD = 0.0015                # per-frame jitter left after the model's smoothing
LEG_JOINTS = tuple(j for j in JOINTS if any(k in j for k in ("knee", "ankle", "toe")))


def body_height(sk: Skeleton) -> float:
    """Head to toes at the first frame, plus the head's top (px): the white noise's unit."""
    p = sk.points[0]
    return float(max(p[J["left_toe"], 1], p[J["right_toe"], 1]) - p[J["head"], 1]) * 1.15


def torso_length(sk: Skeleton) -> float:
    hip = sk.points[:, [J["left_hip"], J["right_hip"]]].mean(axis=1)
    return float(np.nanmedian(np.linalg.norm(sk.points[:, J["neck"]] - hip, axis=1)))


def wander(n: int, times: np.ndarray, rng: np.random.Generator, shape: tuple[int, ...] = ()) -> np.ndarray:
    """(n, *shape) slow noise of unit standard deviation: white noise smoothed over `WANDER_S`."""
    step = max(float(times[-1] - times[0]) / max(n - 1, 1), 1e-6)
    sigma = WANDER_S / step
    r = int(3 * sigma) + 1
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= np.sqrt((k ** 2).sum())  # unit variance after the convolution
    w = rng.normal(size=(n + 2 * r, int(np.prod(shape)) if shape else 1))
    out = np.stack([np.convolve(w[:, c], k, mode="valid") for c in range(w.shape[1])], axis=1)
    return out.reshape((n, *shape)) if shape else out[:, 0]


def add_noise(sk: Skeleton, kind: str, level: float, rng: np.random.Generator) -> Skeleton:
    """A copy of `sk` with keypoint noise: `white` (LEVEL x body height) or `mediapipe` (LEVEL scales the
    measured sizes; 1 = as measured)."""
    n = len(sk.times)
    face = {k: v.copy() for k, v in sk.face.items()}
    if kind == "white":
        sd = level * body_height(sk)
        pts = sk.points + rng.normal(0, sd, sk.points.shape)
        for v in face.values():
            v[:, :2] += rng.normal(0, sd, (n, 2))
    elif kind == "mediapipe":
        unit = level * torso_length(sk)
        sds = np.full(len(JOINTS), BODY_SD)
        sds[[J[j] for j in LEG_JOINTS]] = LEG_SD
        sds[J["head"]] = HEAD_SD
        pts = sk.points + unit * (wander(n, sk.times, rng, (len(JOINTS), 2)) * sds[None, :, None]
                                  + rng.normal(0, JITTER_SD, sk.points.shape))
        if face:
            shared = HEAD_SD * wander(n, sk.times, rng, (2,))
            for v in face.values():
                v[:, :2] += unit * (shared + FACE_SD * wander(n, sk.times, rng, (2,))
                                    + rng.normal(0, JITTER_SD, (n, 2)))
            # the head joint is the mean of the face points, as the pose importers make it
            names = [k for k in HEAD_FROM if k in face]
            pts[:, J["head"]] = np.mean([face[k][:, :2] for k in names], axis=0)
    else:
        raise ValueError(f"unknown noise {kind!r}; one of {NOISE_KINDS}")
    return Skeleton(points=pts, conf=sk.conf, times=sk.times, width=sk.width, height=sk.height, hands=sk.hands,
                    source=sk.source, face=face)
