"""How the real clips' movement events stand up to a change in the pose input that a person cannot see.

The default path decodes each clip to 480 px with swscale (PyAV's default, bilinear) and runs pose on every 2nd
frame. Here the same frames are also shrunk another way (OpenCV: 2x2 box halving, then bilinear; the mean absolute
pixel difference is printed) and, separately, pose runs on every 3rd frame. The flow is the default path's in every
row, so a change is the keypoints' doing. Per clip: the keypoints' shift against the default (px at 480 px)
and the clip's first three events.

    python bench/pose_perturbation.py [CLIPS_DIR]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from mabench.motion.annotate import POSE_SIDE, POSE_STRIDE
from mabench.motion.descriptors import describe
from mabench.motion.flow import clip_flow
from mabench.motion.pose import make_pose_backend
from mabench.video.decode import decode_all

DEFAULT_CLIPS = Path(__file__).resolve().parents[2] / "shared/data/ma52/clips"


def box_then_bilinear(img: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    while img.shape[1] >= 2 * size[0] and img.shape[0] >= 2 * size[1]:
        img = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2), interpolation=cv2.INTER_AREA)
    return cv2.resize(img, size, interpolation=cv2.INTER_LINEAR)


def events_line(rec: dict) -> str:
    return "; ".join(f"{e['part']} {e['kind']} {e['direction']} {e['rhythm']} ({e['strokes']}), "
                     f"{e['amplitude']:.1f} fl{', carried' if e['carried_by'] else ''}"
                     for e in rec["events"]["events"][:3])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("clips", nargs="?", default=str(DEFAULT_CLIPS))
    a = ap.parse_args()
    pose = make_pose_backend("mediapipe")
    for clip in sorted(Path(a.clips).glob("*.mp4")):
        frames, times, _ = decode_all(clip, "rgb24", POSE_SIDE)
        size = (frames[0].shape[1], frames[0].shape[0])
        other = [box_then_bilinear(f, size) for f in decode_all(clip, "rgb24")[0]]
        diff = float(np.mean([np.abs(a.astype(np.int16) - b).mean() for a, b in zip(frames, other, strict=True)]))
        ref = pose.estimate(frames[::POSE_STRIDE], times[::POSE_STRIDE])
        flow = clip_flow(clip, ref, "ultrafast", frames, times)
        rows = {"default (swscale, every 2nd frame)": ref,
                "OpenCV shrink, every 2nd frame": pose.estimate(other[::POSE_STRIDE], times[::POSE_STRIDE]),
                "swscale, every 3rd frame": pose.estimate(frames[::3], times[::3])}
        print(f"{clip.name} (the two shrinks differ by {diff:.2f} / 255 per pixel on average)")
        for name, sk in rows.items():
            shift = ""
            if sk.points.shape == ref.points.shape:
                d = np.abs(sk.points - ref.points)
                shift = f" [keypoints moved: median {np.median(d):.2f} px, 90th pct {np.percentile(d, 90):.2f} px]"
            print(f"  {name}{shift}\n    {events_line(describe(sk, clip.name, flow))}")


if __name__ == "__main__":
    main()
