"""CPU cost per real clip of the motion stage, stage by stage, old path against new, in one run.

Old path (as before this change): every frame decoded at full size for pose, pose on full-size frames,
the clip decoded again (grey, 320 px) for flow. New path: one decode at `POSE_SIDE`, pose on every
`POSE_STRIDE`-th of those frames (and, for comparison, on all), flow on all of them.
CPU seconds (process time, all threads) per stage, mean over the clips.

    python bench/real_clips.py [CLIPS_DIR] [--repeat 3] [--sides 640,480]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from mabench.motion.annotate import POSE_SIDE, POSE_STRIDE
from mabench.motion.descriptors import describe
from mabench.motion.flow import FLOW_SIDE, clip_flow, decode_gray, part_flow
from mabench.motion.pose import make_pose_backend
from mabench.video.decode import decode_all

DEFAULT_CLIPS = Path(__file__).resolve().parents[2] / "shared/data/ma52/clips"


def timed(fn, *a, **kw):
    t0 = time.process_time()
    out = fn(*a, **kw)
    return out, time.process_time() - t0


def old_path(clip: Path, pose) -> dict:
    (frames, times, _), t_dec = timed(decode_all, clip, "rgb24")
    sk, t_pose = timed(pose.estimate, frames, times)
    (g, gt, _), t_dec2 = timed(decode_gray, clip, 320)
    fl, t_flow = timed(part_flow, g, gt, sk)
    _, t_desc = timed(describe, sk, clip.name, fl)
    return {"decode": t_dec + t_dec2, "pose": t_pose, "flow": t_flow, "descriptors": t_desc}


def new_path(clip: Path, pose, side: int, stride: int) -> dict:
    (frames, times, _), t_dec = timed(decode_all, clip, "rgb24", side)
    sk, t_pose = timed(pose.estimate, frames[::stride], times[::stride])
    fl, t_flow = timed(clip_flow, clip, sk, "ultrafast", frames, times)
    _, t_desc = timed(describe, sk, clip.name, fl)
    return {"decode": t_dec, "pose": t_pose, "flow": t_flow, "descriptors": t_desc}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("clips", nargs="?", default=str(DEFAULT_CLIPS))
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--sides", default=str(POSE_SIDE), help="decode sizes to try for the new path")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    clips = sorted(Path(a.clips).glob("*.mp4"))
    pose = make_pose_backend("mediapipe")
    pose.estimate(decode_all(clips[0], "rgb24", 320)[0][:2], np.array([0.0, 0.04]))  # load the models once
    paths = {"old (full-size pose, 320 px flow)": lambda c: old_path(c, pose)}
    for side in (int(s) for s in a.sides.split(",")):
        for stride in sorted({1, POSE_STRIDE}):
            paths[f"new ({side} px, pose every {stride})"] = lambda c, s=side, k=stride: new_path(c, pose, s, k)
    rows = {}
    for name, run in paths.items():
        per = [run(c) for _ in range(a.repeat) for c in clips]
        rows[name] = {k: round(float(np.mean([p[k] for p in per])), 3) for k in per[0]}
        rows[name]["total"] = round(sum(rows[name].values()), 3)
        rows[name]["pose+descriptors (with decode)"] = round(rows[name]["decode"] + rows[name]["pose"]
                                                             + rows[name]["descriptors"], 3)
    frames = np.mean([len(decode_gray(c, 64)[0]) for c in clips])
    print(f"{len(clips)} clips x {a.repeat}, mean {frames:.0f} frames; CPU seconds per clip (flow side {FLOW_SIDE})")
    for name, r in rows.items():
        print(f"  {name:38s} " + "  ".join(f"{k} {v:.3f}" for k, v in r.items()))
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
