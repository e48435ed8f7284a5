"""Cues a text-only reader could exploit, each with counts and a few examples.

With answers: Yes rate per task, per phrasing family and per word; correct-letter positions; how often
a marked option (code suffix, duplicated label, outlier length, the longest) is the answer;
contradictory answers within a clip. Without answers: what can be seen (families and their mix,
option cues, label mentions, duplicates, questions per clip).
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from mabench.audit.slots import has_code_suffix, slot
from mabench.data.io import Benchmark
from mabench.data.records import Question
from mabench.taxonomy import FINE_LABELS, QUESTIONS_PER_CLIP, TASK_ORDER, TASKS, AnswerType, normalize_label

EXAMPLES = 3  # examples kept per cue
MIN_FAMILY = 5  # families smaller than this get no Yes rate of their own
MIN_WORD = 8  # words seen fewer times than this are not word cues
TOP = 10  # rows per ranked list
OUTLIER_Z = 2.0  # an option this many standard deviations longer or shorter than the others
NEAR_DUPLICATE = 0.8  # word-set Jaccard at or above this (and not identical) within a clip
RELATIONAL = ("SAD", "MAD", "MAS", "PPR")
_WORD = re.compile(r"[a-z']+")


@dataclass
class Example:
    qid: str
    video: str
    text: str
    answer: str | None = None


@dataclass
class RateCue:
    """A group of questions and its Yes (or marked-option-correct) rate."""

    key: str
    n: int
    rate: float | None  # None without answers
    examples: list[Example] = field(default_factory=list)
    z: float | None = None  # (rate - base) / binomial s.e., for ranking


@dataclass
class OptionCue:
    kind: str  # code_suffix, duplicate_label, outlier_length, longest
    questions: int  # questions that have such an option
    correct: int | None  # of those, how many have it as the answer (None without answers)
    expected: float | None  # the number expected if the marked option were the answer by chance
    examples: list[Example] = field(default_factory=list)


@dataclass
class TaskCues:
    task: str
    questions: int
    families: int
    family_mix: list[RateCue]  # largest families first
    yes_rate: float | None = None
    family_rates: list[RateCue] = field(default_factory=list)  # most deviating first
    word_rates: list[RateCue] = field(default_factory=list)
    letter_positions: dict[str, float] | None = None
    option_cues: list[OptionCue] = field(default_factory=list)
    label_mentions: RateCue | None = None  # relational questions naming a fine label


@dataclass
class Cues:
    tasks: dict[str, TaskCues]
    questions_per_clip: dict[int, int]  # questions in a clip -> clips
    clips_not_12: int
    duplicates: list[list[Example]]  # identical questions within a clip
    near_duplicates: list[list[Example]]
    contradictions: list[list[Example]]  # the same question, different answers, in a clip


def _ex(q: Question) -> Example:
    return Example(q.qid, q.video_id, q.question if len(q.question) <= 300 else q.question[:297] + "...", q.answer)


def _z(k: int, n: int, p: float) -> float:
    return (k / n - p) / math.sqrt(max(p * (1 - p), 1e-9) / n)


def _yes_groups(groups: dict[str, list[Question]], base: float | None, min_n: int) -> list[RateCue]:
    out = []
    for key, qs in groups.items():
        if len(qs) < min_n:
            continue
        if base is None:
            out.append(RateCue(key, len(qs), None, [_ex(q) for q in qs[:EXAMPLES]]))
            continue
        yes = sum(q.answer == "Yes" for q in qs)
        out.append(RateCue(key, len(qs), yes / len(qs), [_ex(q) for q in qs[:EXAMPLES]], _z(yes, len(qs), base)))
    return out


def _label_terms() -> list[str]:
    return sorted({normalize_label(x) for x in FINE_LABELS}, key=len, reverse=True)


def _option_cues(qs: list[Question], answered: bool) -> list[OptionCue]:
    marks: dict[str, list[tuple[Question, set[str]]]] = defaultdict(list)
    for q in qs:
        lengths = np.array([len(o.text) for o in q.options], float)
        keys = [o.key for o in q.options]
        found = {
            "code_suffix": {o.letter for o in q.options if has_code_suffix(o.text)},
            "duplicate_label": {o.letter for o, k in zip(q.options, keys, strict=True) if keys.count(k) > 1},
            "longest": {q.options[int(np.argmax(lengths))].letter} if (lengths == lengths.max()).sum() == 1 else set(),
        }
        outl = set()
        for i, o in enumerate(q.options):
            rest = np.delete(lengths, i)
            if abs(lengths[i] - rest.mean()) > OUTLIER_Z * max(rest.std(), 1.0):
                outl.add(o.letter)
        found["outlier_length"] = outl
        for kind, letters in found.items():
            if letters:
                marks[kind].append((q, letters))
    out = []
    for kind in ("code_suffix", "duplicate_label", "outlier_length", "longest"):
        rows = marks.get(kind, [])
        correct = sum(q.answer in ls for q, ls in rows) if answered else None
        expected = sum(len(ls) / len(q.options) for q, ls in rows) if answered else None
        exs = [_ex(q) for q, _ in rows[:EXAMPLES]]
        out.append(OptionCue(kind, len(rows), correct, expected, exs))
    return out


def find_cues(bench: Benchmark) -> Cues:
    by_task: dict[str, list[Question]] = defaultdict(list)
    for q in bench:
        by_task[q.task].append(q)
    labels = _label_terms()
    tasks: dict[str, TaskCues] = {}
    for t in TASK_ORDER:
        qs = by_task.get(t)
        if not qs:
            continue
        spec = TASKS[t]
        answered = all(q.answer is not None for q in qs)
        fams: dict[str, list[Question]] = defaultdict(list)
        for q in qs:
            fams[slot(q.question).text].append(q)
        mix = sorted(_yes_groups(fams, None, 1), key=lambda c: -c.n)[:TOP]
        tc = TaskCues(t, len(qs), len(fams), mix)
        if spec.answer_type is AnswerType.YES_NO:
            base = sum(q.answer == "Yes" for q in qs) / len(qs) if answered else None
            tc.yes_rate = base
            if answered:
                tc.family_rates = sorted(_yes_groups(fams, base, MIN_FAMILY), key=lambda c: -abs(c.z or 0.0))[:TOP]
                words: dict[str, list[Question]] = defaultdict(list)
                for q in qs:
                    for w in set(_WORD.findall(slot(q.question).text)):
                        words[w].append(q)
                tc.word_rates = sorted(_yes_groups(words, base, MIN_WORD), key=lambda c: -abs(c.z or 0.0))[:TOP]
            named = [q for q in qs if any(f" {lab} " in f" {normalize_label(q.question)} " for lab in labels)]
            if t in RELATIONAL:
                rate = sum(q.answer == "Yes" for q in named) / len(named) if answered and named else None
                tc.label_mentions = RateCue("names a fine label", len(named), rate, [_ex(q) for q in named[:EXAMPLES]])
        elif spec.letters:
            if answered:
                pos = Counter(q.answer for q in qs)
                tc.letter_positions = {x: pos[x] / len(qs) for x in spec.letters}
            tc.option_cues = _option_cues(qs, answered)
        tasks[t] = tc

    by_clip: dict[str, list[Question]] = defaultdict(list)
    for q in bench:
        by_clip[q.video_id].append(q)
    per_clip = Counter(len(v) for v in by_clip.values())
    dups, near, contra = [], [], []
    for qs in by_clip.values():
        same: dict[str, list[Question]] = defaultdict(list)
        for q in qs:
            same[normalize_label(q.question)].append(q)
        for group in same.values():
            if len(group) > 1:
                dups.append([_ex(q) for q in group])
                if len({q.answer for q in group if q.answer is not None}) > 1:
                    contra.append([_ex(q) for q in group])
        sets = [(q, set(normalize_label(q.stem).split())) for q in qs if TASKS[q.task].answer_type is AnswerType.YES_NO]
        for i, (a, wa) in enumerate(sets):
            for b, wb in sets[i + 1:]:
                if a.task == b.task and wa != wb and len(wa & wb) / max(len(wa | wb), 1) >= NEAR_DUPLICATE:
                    near.append([_ex(a), _ex(b)])
    return Cues(tasks, dict(sorted(per_clip.items())), sum(n for k, n in per_clip.items() if k != QUESTIONS_PER_CLIP),
                dups, near, contra)
