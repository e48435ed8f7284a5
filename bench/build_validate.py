"""Validate `mabench build`'s closed answers against the synthetic generator's ground truth.

    python bench/build_validate.py --clips 200

Renders N synthetic clips, builds a benchmark from them through the normal pipeline (descriptors
from the clips' keypoint files, no optical flow; `--noise` adds keypoint jitter first), then checks
every closed question against the truth computed from the exact kinematics: CMAR/FMAR against the
label, SAD/MAD/MAS/PPR through the fact stored in the question's `meta` (an order question's named
directions too: `meta.named_directions`). A question whose fact the truth leaves undecided (inside its
margins) is counted as unverifiable, not as agreement; one that names a direction the truth says the part
did not take is a disagreement ("wrong direction"), whatever its order.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

from mabench.builder.pipeline import BuildSettings, build
from mabench.builder.qc import qc_report
from mabench.builder.questions.truth_check import expected, with_signals
from mabench.data import load_benchmark
from mabench.motion.skeleton import Skeleton, load_skeleton_file
from mabench.synth.generate import write_set


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noise", type=float, default=0.0, help="keypoint jitter, share of body height")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--show", action="store_true", help="print each disagreement")
    ap.add_argument("--keep", type=Path, help="write the clips, truth and build here (a new folder) to look into")
    ap.add_argument("--by-kind", action="store_true", help="also tally per fact kind (meta.kind)")
    ap.add_argument("--flow", action="store_true", help="optical flow from the rendered clips too, as a real build")
    ap.add_argument("--size", default="320x240", help="clip size WxH (480x360: a 72 px torso, as the real clips' "
                    "62-87 px in the flow's frames)")
    a = ap.parse_args()
    if a.keep:
        a.keep.mkdir(parents=True)  # not exist_ok: a stale set would be mixed with the new one
    with (contextlib.nullcontext(str(a.keep)) if a.keep else tempfile.TemporaryDirectory()) as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        width, height = (int(v) for v in a.size.split("x"))
        labels = write_set(tmp, a.clips, seed=a.seed, workers=a.workers, width=width, height=height)
        t_synth = time.perf_counter() - t0
        if a.noise:
            rng = np.random.default_rng(a.seed)
            for f in (tmp / "skeletons").glob("*.json"):
                sk = load_skeleton_file(f)
                height = float(np.nanmax(sk.points[..., 1]) - np.nanmin(sk.points[..., 1])) * 1.15
                # the face points get the same jitter, so head signals are measured under it too
                face = {n: np.concatenate([v[:, :2] + rng.normal(0, a.noise * height, v[:, :2].shape), v[:, 2:]], 1)
                        for n, v in sk.face.items()}
                noisy = Skeleton(points=sk.points + rng.normal(0, a.noise * height, sk.points.shape), conf=sk.conf,
                                 times=sk.times, width=sk.width, height=sk.height, source="noisy", face=face)
                f.write_text(json.dumps(noisy.to_json()))
        t0 = time.perf_counter()
        summary = build(tmp / "clips", labels, tmp / "out", BuildSettings(
            skeletons=str(tmp / "skeletons"), flow=a.flow, seed=a.seed, test_fraction=1.0, workers=a.workers),
            log=lambda m: None)
        t_build = time.perf_counter() - t0
        bench = load_benchmark(tmp / "out" / "benchmark.json")  # the foundation's reader must take it
        records = json.loads((tmp / "out" / "benchmark.json").read_text())
        truths = {p.stem: json.loads(p.read_text()) for p in (tmp / "truth").glob("*.json")}
        for t in truths.values():
            with_signals(t["facts"])
    tally: dict[str, Counter] = {}
    by_kind: dict[str, Counter] = {}
    for q in records:
        if q["task"] in ("MADU", "MARE"):
            continue
        want = expected(q, truths[q["video_name"]])
        for c in [tally.setdefault(q["task"], Counter())] + \
                 ([by_kind.setdefault(q["meta"].get("kind", "?"), Counter())] if a.by_kind else []):
            c["n"] += 1
            if want is None:
                c["unverifiable"] += 1
            else:
                c["checked"] += 1
                c["agree"] += want == q["answer"]
        if want is not None and want != q["answer"] and a.show:
            print("DISAGREE", q["qid"], q["meta"].get("family"), q["question"], q["answer"], "truth:", want,
                  {k: v for k, v in q["meta"].items() if k in ("parts", "relation", "value", "direction")})
    qc = qc_report(records)
    total = Counter()
    for c in tally.values():
        total.update(c)
    print(f"{a.clips} synthetic clips (seed {a.seed}, keypoint noise {a.noise:.0%}); synth {t_synth:.1f} s, "
          f"build {t_build:.1f} s; {len(bench)} questions loaded by load_benchmark")
    print(f"{'task':6s} {'questions':>9s} {'checked':>8s} {'agree':>8s} {'unverifiable':>12s}  balance")
    for t, c in [*tally.items(), ("all", total)]:
        b = qc["balance"].get(t, {})
        bal = f"Yes {b['yes_share']:.1%}" if "yes_share" in b else (
            f"max position deviation {b['max_deviation']:.1%}" if b else "")
        print(f"{t:6s} {c['n']:9d} {c['checked']:8d} {100 * c['agree'] / max(c['checked'], 1):7.2f}% "
              f"{c['unverifiable']:12d}  {bal}")
    for k, c in sorted(by_kind.items()):
        print(f"  kind {k:20s} {c['n']:5d} asked, {c['checked']:5d} checked, "
              f"{100 * c['agree'] / max(c['checked'], 1):6.2f}% agree, {c['unverifiable']} unverifiable")
    print("QC passed:", qc["passed"], "| missing per task:", qc["missing_per_task"])
    if a.json:
        a.json.write_text(json.dumps({"tally": tally, "qc": qc, "summary": summary}, indent=1, default=str))


if __name__ == "__main__":
    main()
