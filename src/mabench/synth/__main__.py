"""`python -m mabench.synth --clips 5 --out demo`: placeholder clips and a benchmark for a dry run."""

import argparse
from pathlib import Path

from mabench.synth.simple import write_placeholder_set

ap = argparse.ArgumentParser(description="Write placeholder clips and a benchmark for a dry run.")
ap.add_argument("--clips", type=int, default=5)
ap.add_argument("--out", type=Path, required=True)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
print(f"wrote {write_placeholder_set(a.out, a.clips, a.seed)} and {a.clips} clips in {a.out / 'clips'}")
