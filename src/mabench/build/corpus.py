"""Training corpus export and the train / test split.

From the training clips' captions and QA, three formats of the same samples (one per question:
the description, the reasoning chain, and the closed questions with their answers):

* ``chat.jsonl`` - plain chat messages, one sample per line, the input of `mabench train`:
  ``{"id", "clip", "task", "video", "messages": [{"role": "system", "content": S}, {"role": "user",
  "content": [{"type": "video", "video": PATH}, {"type": "text", "text": Q}]}, {"role": "assistant",
  "content": [{"type": "text", "text": A}]}]}``;
* ``llamafactory.json`` + ``dataset_info.json`` - LLaMA-Factory's sharegpt video format
  (``messages`` with a ``<video>`` tag, ``system``, ``videos``);
* ``qwen.json`` - the Qwen-VL fine-tuning repo's format (``video``, ``conversations`` with
  ``from: human / gpt``; that format has no system turn).

The system prompt S and the user text Q are the task registry's turn (`mabench.evaluation.tasks.Task.turn`),
the very request `mabench eval` sends for the same question with default prompts: a model is
fine-tuned on the prompts it is evaluated with.

Video paths are absolute, so the files work from any working directory.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mabench.data.io import atomic_write_text
from mabench.evaluation.tasks import task

# v2: each sample carries the eval system prompt and the question verbatim (v1 had no system prompt
# and appended its own answer-format line)
CORPUS_VERSION = "ma-corpus-v2"
DATASET_NAME = "mabench_train"


def split_clips(rows: list, test_fraction: float, seed: int = 0) -> tuple[set[str], set[str], dict]:
    """(train clips, test clips, info). Subject-disjoint when every row has a subject, else by clip."""
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test fraction must be within 0..1, got {test_fraction}")
    clips = [r.clip for r in rows]
    rng = random.Random(seed)
    if rows and all(r.subject for r in rows):
        subjects = sorted({r.subject for r in rows})
        rng.shuffle(subjects)
        by_subject: dict[str, list[str]] = {}
        for r in rows:
            by_subject.setdefault(r.subject, []).append(r.clip)
        test: set[str] = set()
        test_subjects: list[str] = []
        target = test_fraction * len(clips)
        for s in subjects:
            if len(test) >= target or (test_fraction < 1.0 and len(test_subjects) == len(subjects) - 1):
                break
            test.update(by_subject[s])
            test_subjects.append(s)
        if test_fraction >= 1.0:
            test = set(clips)
            test_subjects = subjects
        info: dict[str, Any] = {"by": "subject", "test_subjects": sorted(test_subjects),
                "train_subjects": sorted(set(subjects) - set(test_subjects))}
    else:
        shuffled = clips[:]
        rng.shuffle(shuffled)
        test = set(shuffled[:round(test_fraction * len(clips))])
        info = {"by": "clip"}
    train = set(clips) - test
    assert not train & test
    info.update(train_clips=len(train), test_clips=len(test), test_fraction=test_fraction, seed=seed)
    return train, test, info


def samples(questions: Iterable[dict], video_paths: dict[str, Path]) -> list[dict]:
    """One chat sample per question (its clip's video path resolved)."""
    out = []
    for q in questions:
        video = str(video_paths[q["video_name"]].resolve())
        system, user = task(q["task"]).turn(q["question"])
        out.append({"id": q["qid"], "clip": q["video_name"], "task": q["task"], "video": video,
                    "messages": [
                        {"role": "system", "content": system},
                        {"role": "user", "content": [{"type": "video", "video": video},
                                                     {"type": "text", "text": user}]},
                        {"role": "assistant", "content": [{"type": "text", "text": q["answer"]}]}]})
    return out


def export_corpus(chat: list[dict], out: str | Path) -> dict:
    """Write the three formats of `chat` samples under `out`; returns {format: path} and the hash."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(s, ensure_ascii=False) for s in chat]
    chat_text = "\n".join(lines) + ("\n" if lines else "")
    atomic_write_text(out / "chat.jsonl", chat_text)

    def text_of(msg: dict) -> str:
        if isinstance(msg["content"], str):
            return msg["content"]
        return "".join(p["text"] for p in msg["content"] if p["type"] == "text")

    def turn(s: dict, role: str) -> dict:
        return next(m for m in s["messages"] if m["role"] == role)

    lf = [{"messages": [{"role": "user", "content": "<video>" + text_of(turn(s, "user"))},
                        {"role": "assistant", "content": text_of(turn(s, "assistant"))}],
           "system": text_of(turn(s, "system")), "videos": [s["video"]]} for s in chat]
    atomic_write_text(out / "llamafactory.json", json.dumps(lf, ensure_ascii=False, indent=1))
    info = {DATASET_NAME: {"file_name": "llamafactory.json", "formatting": "sharegpt",
                           "columns": {"messages": "messages", "system": "system", "videos": "videos"},
                           "tags": {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                                    "assistant_tag": "assistant"}}}
    atomic_write_text(out / "dataset_info.json", json.dumps(info, indent=1))
    qwen = [{"video": s["video"], "conversations": [
        {"from": "human", "value": "<video>\n" + text_of(turn(s, "user"))},
        {"from": "gpt", "value": text_of(turn(s, "assistant"))}]} for s in chat]
    atomic_write_text(out / "qwen.json", json.dumps(qwen, ensure_ascii=False, indent=1))
    digest = hashlib.sha256(chat_text.encode("utf-8")).hexdigest()  # chat.jsonl bytes, as `mabench train` hashes
    manifest = {"version": CORPUS_VERSION, "samples": len(chat), "clips": len({s["clip"] for s in chat}),
                "sha256": digest, "files": ["chat.jsonl", "llamafactory.json", "dataset_info.json", "qwen.json"]}
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=1))
    return manifest
