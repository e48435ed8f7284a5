"""The fixed-stem tasks' questions (CMAR, FMAR, MADU, MARE): mabench's own stems, and the stems of a
reference benchmark (`mabench build --stems-from FILE`) with how often each is asked."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

TEMPLATES: dict[str, tuple[str, ...]] = {
    "CMAR": (
        "Which coarse-grained label fits the micro action performed in this clip?",
        "Please choose the coarse-grained micro-action category that this video clip belongs to.",
        "Identify the coarse-grained category of the micro action seen in this video.",
        "To which coarse-grained behavior category should the action in this video be assigned?",
        "Please pick the most suitable coarse-grained category for the action in this video clip.",
        "What coarse-grained label best describes the micro action in this clip?",
        "Determine which coarse-grained category the micro action in this video clip falls under.",
    ),
    "FMAR": (
        "Which fine-grained label fits the micro action performed in this clip?",
        "Please choose the fine-grained action category that best matches this video.",
        "Identify the precise fine-grained label of the action shown in this clip.",
        "What fine-grained micro-action category does the behavior in this video belong to?",
        "Please pick the correct fine-grained action class for the micro action in this video clip.",
        "Determine which fine-grained action label the behavior in this clip corresponds to.",
        "Select the exact fine-grained micro-action label for this video.",
    ),
    "MADU": (
        "Describe how each part of the person's body moves in this video.",
        "Please describe in detail how the person moves in the video, body part by body part.",
        "Explain the movements the person makes in the video and how they change.",
        "Describe the movement of each of the person's body parts in this clip.",
        "Please give a detailed description of the person's body movements in the video.",
        "Describe the movement characteristics of the person in the video clip.",
    ),
    "MARE": (
        "Based on the movements in the video, build a detailed reasoning chain and infer the micro-action "
        "labels at both the coarse-grained and fine-grained levels.",
        "Using the person's observed behavior in the video, reason step by step to the appropriate coarse-grained "
        "and fine-grained micro-action classification.",
        "From the motion details in the video, provide a clear reasoning process that determines the correct "
        "coarse- and fine-grained micro-action labels.",
        "Given the movement evidence in the video, develop a step-by-step reasoning chain to identify the "
        "hierarchical micro-action labels (coarse-grained and fine-grained).",
        "Based on the visible body movements in the video, construct a logical reasoning chain and conclude with "
        "the coarse-grained and fine-grained micro-action categories.",
    ),
}


# Stems taken from a reference benchmark (`mabench build --stems-from FILE`): task -> ((stem, count), ...).
# The project ships its own wording (TEMPLATES); a user who wants the training prompts to match what the
# evaluation will send supplies the evaluation's file at build time, and the four fixed-stem tasks then ask
# with its stems, in its proportions. Nothing of that file is stored in the project.
Stems = dict[str, tuple[tuple[str, int], ...]]
STEM_TASKS = ("CMAR", "FMAR", "MADU", "MARE")
_OPTION_LINE = re.compile(r"^\s*[A-G][.)]")


def question_stem(task: str, question: str) -> str:
    """The fixed part of a CMAR / FMAR question (the text before its first option line) or the whole
    MADU / MARE question, stripped."""
    if task in ("CMAR", "FMAR"):
        lines = question.splitlines()
        cut = next((i for i, line in enumerate(lines) if _OPTION_LINE.match(line)), len(lines))
        return "\n".join(lines[:cut]).strip()
    return question.strip()


def reference_stems(benchmark: Iterable[Any]) -> Stems:
    """The distinct stems of CMAR, FMAR, MADU and MARE in a benchmark (a `Benchmark`, or records with
    `task` and `question`) with how often each is asked, most frequent first; tasks it lacks are absent."""
    counts: dict[str, Counter[str]] = {t: Counter() for t in STEM_TASKS}
    for q in benchmark:
        task, text = (q["task"], q["question"]) if isinstance(q, dict) else (q.task, q.question)
        if task in counts:
            stem = question_stem(task, text)
            if stem:
                counts[task][stem] += 1
    return {t: tuple(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for t, c in counts.items() if c}


def _stem(task: str, rng: random.Random, stems: Stems | None) -> str:
    if stems and stems.get(task):
        texts, weights = zip(*stems[task], strict=True)
        return rng.choices(texts, weights)[0]
    return rng.choice(TEMPLATES[task])


