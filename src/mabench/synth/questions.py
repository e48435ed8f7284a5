"""Placeholder benchmarks in the official format: 12 questions per clip with random answers.

The questions are well-formed (options parse, answers valid) but not grounded in the clips; they
exist to exercise the runner, the scorer and the benchmarks. Grounded questions come from
`mabench build`.
"""

from __future__ import annotations

import random

from mabench.taxonomy import COARSE_CLASSES, FINE_LABELS, FINE_TO_COARSE, TASK_ORDER, display_label

YN_TEXT = {
    "SAD": "Does the {part} move primarily upward during the middle phase?",
    "MAD": "While the {part} rises, does the torso move leftward at the same time?",
    "MAS": "Did the {part}'s movement happen before the head's movement?",
    "PPR": "In the early stage of the video, do the Left Hand and the {part} approach each other?",
}


def placeholder_records(n_clips: int, seed: int = 0, with_answers: bool = True,
                        video_format: str = "clip_{:03d}", unique_per_clip: bool = False) -> list[dict]:
    """12 questions per clip, in the official field order (`video_name`, `task`, `qid`, `question`).

    `unique_per_clip` names the clip in every question, so that no two clips share a question text: an
    oracle keyed by question text (the test server's `--key`) is then right for every clip."""
    rng = random.Random(seed)
    recs: list[dict] = []
    counters = dict.fromkeys(TASK_ORDER, 0)

    def add(video: str, task: str, question: str, answer: str) -> None:
        if unique_per_clip:  # in the stem (first line), before any option lines
            stem, sep, options = question.partition("\n")
            question = f"[{video}] {stem}{sep}{options}"
        qid = f"{task}_{counters[task]:04d}"
        counters[task] += 1
        rec = {"video_name": video, "task": task, "qid": qid, "question": question}
        if with_answers:
            rec["answer"] = answer
        recs.append(rec)

    for c in range(n_clips):
        video = video_format.format(c)
        fine = FINE_LABELS[rng.randrange(len(FINE_LABELS))]
        coarse = FINE_TO_COARSE[fine]
        classes = list(COARSE_CLASSES)
        rng.shuffle(classes)
        q = "What is the coarse-grained category of the micro action in this video clip?\n"
        q += "\n".join(f"{'ABCDEFG'[i]}. {cl}" for i, cl in enumerate(classes))
        add(video, "CMAR", q, "ABCDEFG"[classes.index(coarse)])
        opts = [fine] + rng.sample([f for f in FINE_LABELS if f != fine], 4)
        rng.shuffle(opts)
        q = "What is the fine-grained label of the micro action in this video?\n"
        q += "\n".join(f"{'ABCDE'[i]}. {display_label(o)}" for i, o in enumerate(opts))
        add(video, "FMAR", q, "ABCDE"[opts.index(fine)])
        for task, text in YN_TEXT.items():
            for part in ("right hand", "left foot"):
                add(video, task, text.format(part=part), rng.choice(["Yes", "No"]))
        add(video, "MADU", "Describe the movements of each body part of the person in the video.",
            "The head moves down then up twice.")
        add(video, "MARE", "Provide a reasoning chain and the coarse and fine labels.",
            f"The head dips.\n[Body part (coarse-grained)] {coarse} | "
            f"[Micro-action (fine-grained)] {display_label(fine)}")
    return recs
