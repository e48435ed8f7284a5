"""`mabench audit` numbers and wall time on a `mabench build` output and on the official question file.

    mabench synth --n 200 --out /tmp/s200 --seed 0
    mabench build /tmp/s200/clips --labels /tmp/s200/labels.csv --skeletons /tmp/s200/skeletons \
        --out /tmp/b200 --no-flow
    python bench/audit_timing.py /tmp/b200 --official ../shared/data/mabench_questions_official.json

Audits (each timed, in process) the built benchmark (the test split), all built questions (test + train:
the generator's leak with five times the questions), the official file (no answers: cues only), and the
style of all built questions against the official file. Prints Markdown for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import replace
from pathlib import Path

from mabench.audit import audit
from mabench.audit.report import blind_table
from mabench.data import Benchmark, load_benchmark


def all_built(out: Path) -> Benchmark:
    test = load_benchmark(out / "benchmark.json")
    train = load_benchmark(out / "train_questions.json")
    both = Benchmark([replace(q, qid=f"test/{q.qid}") for q in test] +
                     [replace(q, qid=f"train/{q.qid}") for q in train])  # the splits number qids alike
    both.path = out / "benchmark.json + train_questions.json"
    return both


def timed(label: str, fn):
    t0 = time.perf_counter()
    res = fn()
    print(f"\n### {label}: {time.perf_counter() - t0:.2f} s\n")
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("build", type=Path, help="a `mabench build` output folder")
    ap.add_argument("--official", type=Path, default=None, help="the official question file (no answers)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()

    bench = load_benchmark(args.build / "benchmark.json")
    res = timed(f"built benchmark ({len(bench)} questions, {len(bench.videos)} clips)",
                lambda: audit(bench, seed=args.seed))
    print("\n".join(blind_table(res)))
    both = all_built(args.build)
    res = timed(f"all built questions ({len(both)} questions, {len(both.videos)} clips)",
                lambda: audit(both, seed=args.seed))
    print("\n".join(blind_table(res)))
    if args.official is None:
        return
    off = load_benchmark(args.official)
    res = timed(f"official file ({len(off)} questions, no answers)", lambda: audit(off, seed=args.seed))
    print("| task | families | largest family share | option cues (questions) | relational questions naming a label |")
    print("|---|---|---|---|---|")
    for t, tc in res.cues.tasks.items():
        big = tc.family_mix[0].n / tc.questions if tc.family_mix else 0
        opts = ", ".join(f"{o.kind} {o.questions}" for o in tc.option_cues if o.questions)
        named = tc.label_mentions.n if tc.label_mentions else ""
        print(f"| {t} | {tc.families} | {100 * big:.1f}% | {opts} | {named} |")
    c = res.cues
    print(f"\nDuplicates within a clip {len(c.duplicates)}, near-duplicates {len(c.near_duplicates)}, "
          f"questions per clip {c.questions_per_clip}.")
    res = timed("style: all built questions against the official file", lambda: audit(both, off, seed=args.seed))
    print("| task | ref covered | bench covered | two-sample AUC |\n|---|---|---|---|")
    for t, st in res.style.tasks.items():
        auc = f"{st.auc:.3f}" if st.auc is not None else st.auc_status
        print(f"| {t} | {100 * st.coverage_of_reference:.1f}% | {100 * st.coverage_of_bench:.1f}% | {auc} |")


if __name__ == "__main__":
    main()
