"""Validate the motion descriptors against the synthetic generator's exact ground truth.

    python bench/motion_validate.py --clips 240 --noise 0 0.02

For each clip: the exact keypoints (plus Gaussian noise of NOISE x body height per coordinate and
frame) go through `describe`; its dominant part, direction per phase (moving parts), onset order
and pair trends are compared with the truth computed from the noise-free kinematics. Facts the
truth marks ambiguous are left out; a descriptor that says `unclear` where the truth is defined
counts as a disagreement. Also times `describe` on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from mabench.motion.descriptors import describe  # noqa: E402
from mabench.motion.skeleton import J, Skeleton, load_skeleton_file  # noqa: E402
from mabench.synth.generate import write_set  # noqa: E402
from mabench.taxonomy import PHASES  # noqa: E402


def body_height(sk: Skeleton) -> float:
    p = sk.points[0]
    return float(max(p[J["left_toe"], 1], p[J["right_toe"], 1]) - p[J["head"], 1]) * 1.15  # + the head's top


def compare(desc: dict, facts: dict, tally: dict) -> None:
    def add(key: str, got: str | None, want: str) -> None:
        # (facts, agreed, stated): `unclear` / None is an abstention - not asked, but not agreed either
        n, k, s = tally.get(key, (0, 0, 0))
        stated = got not in (None, "unclear")
        tally[key] = (n + 1, k + int(got == want), s + int(stated))

    if facts["dominant"] is not None:
        add("dominant part", desc["dominant"], facts["dominant"])
    for part, moving in facts["moving"].items():
        if not moving:
            continue
        for ph in PHASES:
            for axis in ("horizontal", "vertical"):
                want = facts["directions"][part][ph][axis]
                if want is not None:
                    add("direction per phase", desc["parts"][part]["phases"][ph][axis], want)
    got_order = {f"{o['a']}|{o['b']}": o["relation"] for o in desc["order"]}
    for pair, rel in facts["order"].items():
        if rel is None:
            continue
        a, b = pair.split("|")
        got = got_order.get(pair) or {"before": "after", "after": "before"}.get(got_order.get(f"{b}|{a}"),
                                                                               got_order.get(f"{b}|{a}"))
        add("onset order", got, rel)
        if rel != "simultaneous":
            add("onset order (lead-follow only)", got, rel)
    for pair, per_phase in facts["pairs"].items():
        for ph, want in per_phase.items():
            if want is not None:
                got = desc["pairs"][pair]["phases"][ph]["trend"]
                add("pair trend", got, want)
                if want != "steady":
                    add("pair trend (approach/apart only)", got, want)


def flow_bench(n: int, seed: int) -> dict:
    """Time decode + per-part DIS flow on rendered 320x240 clips (wall clock, one process)."""
    from mabench.motion.flow import decode_gray, part_flow
    from mabench.synth.generate import write_set

    with tempfile.TemporaryDirectory() as tmp:
        write_set(tmp, n, seed=seed + 1, video=True)
        video_s = pairs = busy = 0.0
        agree = total = 0
        for truth_file in sorted(Path(tmp, "truth").glob("*.json")):
            truth = json.loads(truth_file.read_text())
            sk = load_skeleton_file(Path(tmp, "skeletons", truth_file.name))
            t0 = time.perf_counter()
            frames, times, _ = decode_gray(Path(tmp, "clips", truth["clip"]))
            fl = part_flow(frames, times, sk)
            busy += time.perf_counter() - t0
            video_s += len(frames) / truth["spec"]["fps"]
            pairs += len(frames) - 1
            if truth["facts"]["dominant"]:
                total += 1
                agree += fl["ranking"][0] == truth["facts"]["dominant"]
    return {"clips": n, "x_realtime": round(video_s / busy, 1), "pairs_per_s": round(pairs / busy),
            "dominant_agree": round(100 * agree / max(total, 1), 1), "dominant_n": total}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=240)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noise", type=float, nargs="+", default=[0.0, 0.02])
    ap.add_argument("--flow-clips", type=int, default=40, help="rendered clips for the optical-flow timing")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        write_set(tmp, a.clips, seed=a.seed, video=False)
        items = []
        for truth_file in sorted(Path(tmp, "truth").glob("*.json")):
            truth = json.loads(truth_file.read_text())
            items.append((truth, load_skeleton_file(Path(tmp, "skeletons", truth_file.name))))
    results = {}
    rng = np.random.default_rng(a.seed)
    for noise in a.noise:
        tally: dict = {}
        skeletons = []
        for truth, sk in items:
            pts = sk.points + rng.normal(0, noise * body_height(sk), sk.points.shape) if noise else sk.points
            skeletons.append((truth, Skeleton(points=pts, conf=sk.conf, times=sk.times, width=sk.width,
                                              height=sk.height, source=sk.source)))
        t0 = time.process_time()
        descs = [describe(sk, truth["clip"]) for truth, sk in skeletons]
        cpu = time.process_time() - t0
        for (truth, _), d in zip(skeletons, descs, strict=True):
            compare(d, truth["facts"], tally)
        results[noise] = {"clips/s (one core, CPU time)": round(len(descs) / cpu, 1),
                          **{k: {"n": n, "agree": round(100 * ok / n, 2), "stated": round(100 * st / n, 2),
                                "agree_when_stated": round(100 * ok / max(st, 1), 2)}
                             for k, (n, ok, st) in sorted(tally.items())}}
    results["flow"] = flow_bench(a.flow_clips, a.seed)
    print(f"{len(items)} synthetic clips, seed {a.seed}")
    for noise, res in results.items():
        if noise == "flow":
            continue
        print(f"\nkeypoint noise {noise:.0%} of body height")
        for k, v in res.items():
            shown = (f"{v['agree']:6.2f}%  stated {v['stated']:6.2f}%  agree when stated {v['agree_when_stated']:6.2f}%"
                     f"  (n={v['n']})" if isinstance(v, dict) else v)
            print(f"  {k:34s} {shown}")
    f = results["flow"]
    print(f"\noptical flow (DIS ultrafast, 320x240, {f['clips']} rendered clips, one process):")
    print(f"  decode + part flow: {f['x_realtime']}x real time ({f['pairs_per_s']} frame pairs/s); "
          f"flow's most active part = true dominant part in {f['dominant_agree']}% (n={f['dominant_n']})")
    if a.json:
        a.json.write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
