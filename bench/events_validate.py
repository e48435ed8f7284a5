"""Head rotation events on the synthetic figure, with a clear and with a masked face, against the exact truth.

    python bench/events_validate.py --clips 96 --size 640x480 [--seed 0] [--json out.json]

The v2 figure's head turns, nods and tilts in 3D; with `--masked` clips (written for every clip here, beside
the clear ones, from the same motion programs) its face is pixelated in the video and its face points are
placed from the head's outline, as a pose model places them on a mosaic: they follow the head's centre,
not its rotations. Keypoints then get the `mediapipe` noise (`mabench.synth.noise`). For head yaw and pitch:

* found: clips whose head performs the rotation (`mabench.synth.truth.rotation_truth`: a range of 3 degrees
  or more; still under 0.5) with an event of that kind (any confidence; carried counts: a twist turns the head too);
* direction: of those found, the event's side equals the side of the truth's largest excursion; where the truth
  goes both ways (`BOTH_WAYS`: a shake, a nod, whose two excursions are near equal), the event is right when it
  says so (repeated; the builder then asks it without a side). "direction (largest excursion)" is the side alone,
  as measured before, for comparison;
* false: clips whose truth has the rotation still, with an event of that kind of medium or high
  confidence (low-confidence events are counted on their own line).

Two readers side by side: `old` = the face-point signal alone (`signals[...]["state"] == "moves"`, what the
descriptors stated before the events), `new` = the movement events (face points and the head's own flow).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import numpy as np

from mabench.motion.descriptors import describe
from mabench.motion.flow import decode_gray, part_flow
from mabench.motion.skeleton import load_skeleton_file
from mabench.synth.generate import ACTIONS_BY_FIGURE, write_set
from mabench.synth.noise import add_noise

KINDS = ("head_yaw", "head_pitch")
WORDS = {"head_yaw": ("rightward", "leftward"), "head_pitch": ("upward", "downward")}


# A rotation whose smaller excursion is at least this share of its larger goes both ways (a shake, a nod): its
# "side" is which of two near-equal excursions happens to be larger, a coin the truth itself tosses.
BOTH_WAYS = 0.5


def truth_side(series: np.ndarray, times: np.ndarray, kind: str) -> str:
    n0 = max(1, int(np.searchsorted(times, times[0] + 0.1)))
    dev = series - series[:n0].mean()
    pos, neg = WORDS[kind]
    return pos if dev[int(np.argmax(np.abs(dev)))] > 0 else neg


def both_ways(series: np.ndarray, times: np.ndarray) -> bool:
    n0 = max(1, int(np.searchsorted(times, times[0] + 0.1)))
    dev = series - series[:n0].mean()
    return min(dev.max(), -dev.min()) >= BOTH_WAYS * max(dev.max(), -dev.min(), 1e-12)


def run(n: int, seed: int, size: tuple[int, int], masked: bool) -> dict:
    from mabench.synth.figure import face_points
    from mabench.synth.generate import ClipSpec, simulate
    from mabench.synth.truth import rotation_truth, signal_truth

    tally = {f"{r} {k}": [0, 0] for r in ("old", "new")
             for k in ("found", "direction", "direction (largest excursion)", "false", "false (low)")}
    per_kind: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        write_set(tmp, n, seed=seed, video=True, figure="v2", width=size[0], height=size[1], masked_face=masked)
        rng = np.random.default_rng(seed)
        for truth_file in sorted(Path(tmp, "truth").glob("*.json")):
            truth = json.loads(truth_file.read_text())
            exact = load_skeleton_file(Path(tmp, "skeletons", truth_file.name))
            sk = add_noise(exact, "mediapipe", 1.0, rng)
            frames, times, _ = decode_gray(Path(tmp, "clips", truth["clip"]))
            desc = describe(sk, truth["clip"], part_flow(frames, times, sk))
            # the truth: the rotation the figure performs (moving or not), and its side as the real face shows it
            spec = ClipSpec(**truth["spec"])
            t_, pts, _, body, params = simulate(spec)
            facts = signal_truth(pts, t_, face_points(params, spec.width, spec.height, body))
            rot = rotation_truth(params)
            events = desc["events"]["events"]
            for kind in KINDS:
                want = {**rot[kind], "series": facts[kind]["series"]} if kind in facts else None
                if want is None or want["moving"] is None:
                    continue
                k = per_kind.setdefault(kind, {"moving": 0, "still": 0})
                old = desc["signals"].get(kind, {})
                old_moves = old.get("state") == "moves"
                old_side = {"turns rightward": "rightward", "turns leftward": "leftward", "tips upward": "upward",
                            "tips downward": "downward"}.get(old.get("peak", ""), old.get("peak"))
                mine = [e for e in events if e["part"] == "head" and e["kind"] == kind]
                if want["moving"]:
                    k["moving"] += 1
                    side = truth_side(want["series"], exact.times, kind)
                    two = both_ways(want["series"], exact.times)
                    readers = (("old", old_moves, old_side, old.get("rhythm") == "repeated"),
                               ("new", bool(mine), mine[0]["direction"] if mine else None,
                                bool(mine) and mine[0]["rhythm"] == "repeated"))
                    for reader, found, got, back_and_forth in readers:
                        tally[f"{reader} found"][1] += 1
                        tally[f"{reader} found"][0] += int(found)
                        if found:
                            tally[f"{reader} direction (largest excursion)"][1] += 1
                            tally[f"{reader} direction (largest excursion)"][0] += int(got == side)
                            tally[f"{reader} direction"][1] += 1
                            tally[f"{reader} direction"][0] += int(back_and_forth if two else got == side)
                else:
                    k["still"] += 1
                    strong = [e for e in mine if e["confidence"] != "low"]
                    readers = (("old", old_moves, False), ("new", bool(strong), bool(mine) and not strong))
                    for reader, false, weak in readers:
                        tally[f"{reader} false"][1] += 1
                        tally[f"{reader} false"][0] += int(false)
                        tally[f"{reader} false (low)"][1] += 1
                        tally[f"{reader} false (low)"][0] += int(weak)
    return {"tally": {k: {"n": v[1], "pct": round(100 * v[0] / max(v[1], 1), 1)} for k, v in tally.items()},
            "clips": per_kind}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=96)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--size", default="640x480")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    size = tuple(int(v) for v in a.size.split("x"))
    res = {name: run(a.clips, a.seed, size, masked) for name, masked in (("clear face", False), ("masked face", True))}
    print(f"{a.clips} synthetic v2 clips ({len(ACTIONS_BY_FIGURE['v2'])} actions), {a.size}, mediapipe keypoint "
          f"noise, seed {a.seed}; head yaw + pitch together\n")
    print("| measure | " + " | ".join(f"{f}: old | {f}: new" for f in res) + " |")
    print("|---|" + "---|---|" * len(res))
    for key in ("found", "direction", "direction (largest excursion)", "false", "false (low)"):
        cells = []
        for r in res.values():
            for reader in ("old", "new"):
                c = r["tally"][f"{reader} {key}"]
                cells.append(f"{c['pct']}% (n={c['n']})")
        print(f"| {key} | " + " | ".join(cells) + " |")
    if a.json:
        a.json.write_text(json.dumps(res, indent=1))


if __name__ == "__main__":
    main()
