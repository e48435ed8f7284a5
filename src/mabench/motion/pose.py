"""Pose backends: raw frames -> a canonical `Skeleton`, behind one small interface.

Backends:

* ``mediapipe`` - MediaPipe's legacy ``solutions.pose`` (+ optional ``solutions.hands``) with
  ``model_complexity=1``, the only setting whose model ships inside the wheel, so it runs offline.
  Current mediapipe wheels ship no models at all; use ``mediapipe==0.10.21`` (see the README's
  install notes: it pins numpy<2 but runs with numpy 2 when installed with ``--no-deps``).

Other estimators (RTMPose / RTMW via rtmlib, OpenPose, AlphaPose, MMPose) are used through their
output files and `mabench.motion.formats`: run them, then `mabench annotate --skeletons DIR`.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from mabench.motion.formats import HAND_POINTS, to_canonical
from mabench.motion.skeleton import Skeleton, SkeletonError

POSE_INSTALL = ('pip install "mabench[pose]" && pip install --no-deps mediapipe==0.10.21  '
                "(the last mediapipe release that ships its pose model)")


class PoseBackend(Protocol):
    name: str

    def estimate(self, frames: list[np.ndarray], times: np.ndarray) -> Skeleton:
        """RGB uint8 frames (H, W, 3) of one clip and their times -> the subject's skeleton."""
        ...


class MediaPipePose:
    """MediaPipe pose (33 landmarks) and, optionally, hands (21 each), run in video mode."""

    name = "mediapipe"

    def __init__(self, hands: bool = False, min_confidence: float = 0.5) -> None:
        try:
            import mediapipe as mp  # noqa: F401
            from mediapipe.python.solutions import pose as mp_pose
        except ImportError as e:
            raise SkeletonError(f"the mediapipe pose backend is not installed ({e}); {POSE_INSTALL}") from e
        self._pose_mod = mp_pose
        self.hands = hands
        self.min_confidence = min_confidence

    def estimate(self, frames: list[np.ndarray], times: np.ndarray) -> Skeleton:
        if not frames:
            raise SkeletonError("no frames to estimate a pose from")
        h, w = frames[0].shape[:2]
        out = np.zeros((len(frames), 33 + 2 * HAND_POINTS, 3))
        hands_ctx = None
        if self.hands:
            from mediapipe.python.solutions import hands as mp_hands
            hands_ctx = mp_hands.Hands(static_image_mode=False, max_num_hands=2, model_complexity=1,
                                       min_detection_confidence=self.min_confidence)
        with self._pose_mod.Pose(static_image_mode=len(frames) == 1, model_complexity=1,
                                 min_detection_confidence=self.min_confidence) as pose:
            for i, img in enumerate(frames):
                img = np.ascontiguousarray(img[..., :3], dtype=np.uint8)
                res = pose.process(img)
                if res.pose_landmarks is not None:
                    out[i, :33] = [(lm.x * w, lm.y * h, lm.visibility) for lm in res.pose_landmarks.landmark]
                if hands_ctx is not None:
                    hr = hands_ctx.process(img)
                    for lms, handed in zip(hr.multi_hand_landmarks or [], hr.multi_handedness or [], strict=False):
                        # MediaPipe labels handedness as if the image were mirrored (selfie view):
                        # its "Left" is the subject's right hand in an unmirrored video
                        side = "right" if handed.classification[0].label == "Left" else "left"
                        start = 33 if side == "left" else 33 + HAND_POINTS
                        out[i, start:start + HAND_POINTS] = [(lm.x * w, lm.y * h, 1.0) for lm in lms.landmark]
        if hands_ctx is not None:
            hands_ctx.close()
        if not (out[..., 2] > 0).any():
            raise SkeletonError("no person detected in any frame")
        times = np.asarray(times, dtype=np.float64)
        if len(frames) == 1:  # a still image: two identical samples, so the skeleton is well-formed
            out, times = np.concatenate([out, out]), np.array([0.0, 1e-3])
        return to_canonical(out, "mediapipe33", times, w, h)


BACKENDS = {"mediapipe": MediaPipePose}


def make_pose_backend(name: str, **kw) -> PoseBackend:
    if name not in BACKENDS:
        raise SkeletonError(f"unknown pose backend {name!r}; available: {', '.join(BACKENDS)}")
    return BACKENDS[name](**kw)
