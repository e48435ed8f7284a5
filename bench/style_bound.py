"""How close can reference phrasings bring a build's wording to a reference benchmark's?

    python bench/style_bound.py ../shared/data/mabench_questions_official.json

`mabench build --paraphrase reference` takes a reference question's wording only where every word outside
its slots is fact-neutral (`mabench.builder.phrasings`). Even a build that asked exactly the reference's
fact-neutral questions, in their proportions, would still be told from the whole reference by the ones it
cannot ask. This script measures that bound: half of the reference's clips give their fact-neutral
questions, the other half all of theirs, and the style audit's two-sample test (`audit.style`) tells them
apart. Prints one Markdown row per Yes/No task: the fact-neutral share and the AUC.
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

from mabench.audit.slots import slot
from mabench.audit.style import two_sample_auc
from mabench.builder.paraphrase import PARAPHRASE_TASKS
from mabench.builder.phrasings import loose_words
from mabench.data import load_benchmark


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("reference", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if not args.reference.exists():
        sys.exit(f"{args.reference}: no such file (the official question file lives in ../shared/data)")
    ref = load_benchmark(args.reference)
    clips = sorted({q.video_id for q in ref})
    random.Random(args.seed).shuffle(clips)
    half = set(clips[: len(clips) // 2])
    print("| task | fact-neutral share | AUC: fact-neutral half vs all of the other half |")
    print("|---|---|---|")
    for task in PARAPHRASE_TASKS:
        qs = [q for q in ref if q.task == task]
        neutral = [q for q in qs if loose_words(slot(q.question).text) == frozenset()]
        a = [q for q in neutral if q.video_id in half]
        b = [q for q in qs if q.video_id not in half]
        auc, status = two_sample_auc(a, b, folds=5, seed=args.seed)
        shown = f"{auc:.3f}" if auc is not None else status
        print(f"| {task} | {len(neutral) / max(len(qs), 1):.1%} ({len(neutral)} of {len(qs)}) | {shown} |")


if __name__ == "__main__":
    main()
