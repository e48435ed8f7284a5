"""Is the reversed truth right? Each built question's `meta["reversed_answer"]` (derived from the clip's descriptor
under a mirror of its phases and a flip of its directions, `mabench.builder.reversal`) against the same question's
answer read off the descriptor of the clip actually played backwards.

N synthetic clips (exact skeletons from the generator); each clip's skeleton reversed in time (the poses in the
opposite order, the timestamps as they were) and annotated like any clip; for every question with a reversed
truth whose kind the forward rule reads directly (directions in a phase, two parts' directions, pair trends),
the rule applied to the reversed clip's own descriptor must give the reversed truth; an onset order must be the
reversed clip's own measured onset order. A reversed clip whose descriptor does not decide the question (an
unclear label, a direction under the builder's margin, no measured order) is counted apart. Kinds taken
as unchanged by reversal (amplitude, stillness, a movement and its return, the net direction's flip) are counted
apart: they rest on the reversal's definition, not on a second measurement.

    python bench/reversed_truth.py [--clips 200]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from mabench.builder.reversal import _answer
from mabench.motion.annotate import AnnotateSettings, annotate, read_descriptors
from mabench.synth.generate import write_set
from mabench.testing.stamps import write_stamped_clip

TIME_AXIS_KEYS = ("points", "conf")


def reverse_skeleton(d: dict) -> dict:
    out = dict(d)
    for k in TIME_AXIS_KEYS:
        out[k] = d[k][::-1]
    out["face"] = {name: pts[::-1] for name, pts in (d.get("face") or {}).items()}
    return out


def order_backwards(meta: dict, rev_desc: dict) -> str | None:
    """"Did A begin moving before B?" read off the reversed clip's own onset order (None: not measured there)."""
    a, b = meta["parts"]
    if meta.get("relation") == "never moves":
        return "No" if not rev_desc["parts"][a].get("moving") else None
    for o in rev_desc.get("order", []):
        if {o["a"], o["b"]} != {a, b} or o["relation"] not in ("before", "after", "simultaneous"):
            continue
        if o["relation"] == "simultaneous":
            return "No"
        first = o["a"] if o["relation"] == "before" else o["b"]
        return "Yes" if first == a else "No"
    return None


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    t0 = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="reversed_truth_"))
    labels = write_set(root / "synth", args.clips, seed=7, video=False, workers=args.workers)
    (root / "rev").mkdir()
    for sk in sorted((root / "synth" / "skeletons").glob("*.json")):
        d = json.loads(sk.read_text())
        times = d["times"]
        write_stamped_clip(root / "clips" / f"{sk.stem}.mp4", 0, len(times), (len(times) - 1) / times[-1],
                           d["width"], d["height"])
        (root / "rev" / sk.name).write_text(json.dumps(reverse_skeleton(d)))
    subprocess.run([sys.executable, "-m", "mabench.cli", "build", str(root / "clips"), "--labels", str(labels),
                    "--skeletons", str(root / "synth" / "skeletons"), "--no-flow", "--test-fraction", "1",
                    "--corpus-frames", "0", "--workers", str(args.workers), "--out", str(root / "built")],
                   check=True, stdout=subprocess.DEVNULL)
    annotate(sorted((root / "clips").glob("*.mp4")), root / "rev_desc",
             AnnotateSettings(skeletons=str(root / "rev"), flow=False), workers=args.workers)
    rev = read_descriptors(root / "rev_desc")
    bench = json.loads((root / "built" / "benchmark.json").read_text())
    checked, agree, invariant, unset, total, unread = Counter(), Counter(), Counter(), Counter(), Counter(), Counter()
    wrong = []
    for q in bench:
        if q["task"] not in ("SAD", "MAD", "MAS", "PPR"):
            continue
        kind = q["meta"].get("kind")
        if kind == "order":
            kind = f"order ({q['meta'].get('relation')})"
        total[kind] += 1
        truth = q["meta"].get("reversed_answer")
        if truth is None:
            unset[kind] += 1
            continue
        rev_desc = rev[f"{q['video_name']}.mp4"]
        if kind.startswith("order"):
            got = order_backwards(q["meta"], rev_desc)
        else:
            got = _answer(q["task"], q["meta"], rev_desc, backwards=False)
        if got in ("keep", "main"):
            invariant[kind] += 1
            continue
        if got is None:
            unread[kind] += 1
            continue
        checked[kind] += 1
        agree[kind] += got == truth
        if got != truth and len(wrong) < 8:
            wrong.append(f"{q['video_name']} {q['task']} {kind}: {q['question']!r} reversed truth {truth}, "
                         f"the reversed clip's descriptor says {got}")
    print(f"{args.clips} synthetic clips, {len(bench)} questions, {time.perf_counter() - t0:.0f} s")
    print("| kind | Yes/No questions | reversed truth set | checked on the reversed clip | agree | "
          "unchanged by definition | not decided in the reversed clip |")
    print("|---|---|---|---|---|---|---|")
    for kind in sorted(total):
        share = f"{agree[kind]} ({100 * agree[kind] / checked[kind]:.1f}%)" if checked[kind] else "–"
        print(f"| {kind} | {total[kind]} | {total[kind] - unset[kind]} | {checked[kind]} | {share} | "
              f"{invariant[kind]} | {unread[kind]} |")
    n, a = sum(checked.values()), sum(agree.values())
    print(f"all checked: {a} of {n} agree ({100 * a / max(n, 1):.1f}%)")
    for w in wrong:
        print("disagrees:", w)


if __name__ == "__main__":
    main()
