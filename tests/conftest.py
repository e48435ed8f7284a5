"""Shared fixtures: small benchmarks in the official format, written by the tests themselves."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from mabench.taxonomy import COARSE_CLASSES, FINE_LABELS, FINE_TO_COARSE, display_label

OFFICIAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "mabench_questions_official.json"

YN_TEXT = {
    "SAD": "Does the {part} move primarily upward during the middle phase?",
    "MAD": "While the {part} rises, does the torso move leftward at the same time?",
    "MAS": "Did the {part}'s movement happen before the head's movement?",
    "PPR": "In the early stage of the video, do the Left Hand and the {part} approach each other?",
}


def make_records(n_clips: int, seed: int = 0, with_answers: bool = True) -> list[dict]:
    """12 questions per clip, in the official field order, with answers."""
    rng = random.Random(seed)
    recs = []
    counters = dict.fromkeys(["CMAR", "FMAR", "SAD", "MAD", "MAS", "PPR", "MADU", "MARE"], 0)

    def add(video, task, question, answer):
        qid = f"{task}_{counters[task]:04d}"
        counters[task] += 1
        rec = {"video_name": video, "task": task, "qid": qid, "question": question}
        if with_answers:
            rec["answer"] = answer
        recs.append(rec)

    for c in range(n_clips):
        video = f"clip_{c:03d}"
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


@pytest.fixture
def records() -> list[dict]:
    return make_records(5)


@pytest.fixture
def bench_file(tmp_path, records) -> Path:
    p = tmp_path / "bench.json"
    p.write_text(json.dumps(records, indent=2), encoding="utf-8")
    return p


@pytest.fixture
def official_file() -> Path:
    if not OFFICIAL.exists():
        pytest.skip("shared/data/mabench_questions_official.json not present (only in the dev workspace)")
    return OFFICIAL


@pytest.fixture(scope="session")
def clip_set(tmp_path_factory):
    """5 real h264 clips (clip_000..clip_004) and a matching 60-question benchmark with answers."""
    from mabench.synth import write_box_clip

    root = tmp_path_factory.mktemp("clipset")
    for i in range(5):
        write_box_clip(root / "clips" / f"clip_{i:03d}.mp4", seconds=1.0 + 0.25 * i, fps=20, seed=i)
    bench = root / "bench.json"
    bench.write_text(json.dumps(make_records(5), indent=1))
    return root
