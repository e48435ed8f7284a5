"""Style against a reference benchmark: does a built benchmark ask like the official one?

Per task: phrasing-family coverage both ways, question-type mix (keyword rules below), vocabulary of
the slots (parts, directions, phases) and of the words around them, and a classifier two-sample test:
a text classifier on slotted text, cross-validated with folds grouped by clip, tries to tell the two
apart; its AUC is 0.5 when the styles are the same and 1.0 when every question gives itself away.
Open answers (MADU / MARE) are compared by length and structure when both files have them.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import numpy as np

from mabench.audit.slots import slot
from mabench.data.io import Benchmark
from mabench.data.records import Question
from mabench.taxonomy import OPEN_TASKS, TASK_ORDER, TASKS

MAX_PER_SIDE = 3000  # questions per side and task in the two-sample test (a seeded sample beyond)
MIN_PER_SIDE = 20
TOP_WORDS = 10
# Question type by keyword, first match wins (on the slotted, lower-cased text).
TYPE_RULES: tuple[tuple[str, str], ...] = (
    ("amplitude", r"\b(amplitude|larger|bigger|greater|more than|farther than|smaller|less than)\b"),
    ("opposite", r"\bopposite|against each other\b"),
    ("distance", r"\b(approach|apart|closer|farther|distance|gap|towards? the \{part\}|away from)\b"),
    ("order", r"\b(before|after|earlier|later|first|precede|follow)"),
    ("simultaneity", r"\b(simultaneous|same time|same moment|together|while|both)\b"),
    ("oscillation", r"\b(back and forth|to and fro|repeated|swing|oscillat|side to side)"),
    ("position", r"\b(midline|center|centre|remain|stay|still|position)"),
    ("direction", r"\{dir\}"),
)


@dataclass
class Share:
    key: str
    bench: float
    reference: float


@dataclass
class TaskStyle:
    task: str
    bench_questions: int
    reference_questions: int
    coverage_of_reference: float  # share of the reference's questions whose family the benchmark has
    coverage_of_bench: float  # and the reverse
    types: list[Share]
    slot_values: dict[str, list[Share]]  # part / dir / phase -> shares of questions using each value
    words_more_in_bench: list[str]
    words_more_in_reference: list[str]
    auc: float | None = None
    auc_status: str = "ok"
    # shares of questions holding no, one, or two or more direction words ("0", "1", "2+"; "upward and leftward"
    # is two): MA-Bench names a direction in most of its relational questions
    directions_named: list[Share] = field(default_factory=list)


@dataclass
class OpenStyle:
    task: str
    bench_words: float
    reference_words: float
    bench_sentences: float
    reference_sentences: float
    bench_label_line: float  # share ending with the "[Body part (coarse-grained)] ..." line
    reference_label_line: float


@dataclass
class Style:
    reference: str
    tasks: dict[str, TaskStyle]
    open_answers: list[OpenStyle] = field(default_factory=list)


def question_type(slotted: str) -> str:
    for name, pattern in TYPE_RULES:
        if re.search(pattern, slotted):
            return name
    return "other"


def _shares(items: list[list[str]]) -> Counter:
    """Share of questions in which each value appears at least once."""
    c = Counter(v for vals in items for v in set(vals))
    return Counter({k: v / max(len(items), 1) for k, v in c.items()})


def _compare(a: Counter, b: Counter, top: int | None = None) -> list[Share]:
    keys = sorted((k for k in set(a) | set(b) if max(a.get(k, 0), b.get(k, 0)) >= 0.005),
                  key=lambda k: -abs(a.get(k, 0) - b.get(k, 0)))
    return [Share(k, round(a.get(k, 0.0), 4), round(b.get(k, 0.0), 4)) for k in keys[:top]]


def _log_odds(a: Counter, b: Counter) -> tuple[list[str], list[str]]:
    na, nb = sum(a.values()), sum(b.values())
    vocab = set(a) | set(b)
    score = {w: math.log((a[w] + 1) / (na + len(vocab))) - math.log((b[w] + 1) / (nb + len(vocab))) for w in vocab}
    ranked = sorted(vocab, key=lambda w: -score[w])
    return ranked[:TOP_WORDS], ranked[::-1][:TOP_WORDS]


def two_sample_auc(a: list[Question], b: list[Question], folds: int, seed: int) -> tuple[float | None, str]:
    """Cross-validated AUC of telling `a` (benchmark) from `b` (reference) by their slotted text."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(seed)
    sides = []
    for qs in (a, b):
        if len(qs) > MAX_PER_SIDE:
            qs = [qs[i] for i in sorted(rng.choice(len(qs), MAX_PER_SIDE, replace=False))]
        sides.append(qs)
    if min(len(s) for s in sides) < MIN_PER_SIDE:
        return None, f"too few questions for the two-sample test ({len(sides[0])} vs {len(sides[1])})"
    texts = [slot(q.question).text for s in sides for q in s]
    y = np.array([1] * len(sides[0]) + [0] * len(sides[1]))
    groups = [f"b:{q.video_id}" for q in sides[0]] + [f"r:{q.video_id}" for q in sides[1]]
    scores = np.zeros(len(texts))
    for train, test in GroupKFold(n_splits=folds).split(texts, y, groups):
        if len(set(y[train])) < 2:
            return None, "a training fold holds one side only"
        model = make_pipeline(TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                              LogisticRegression(max_iter=2000, random_state=seed))
        model.fit([texts[i] for i in train], y[train])
        scores[test] = model.decision_function([texts[i] for i in test])
    return float(roc_auc_score(y, scores)), "ok"


def _open_stats(qs: list[Question]) -> tuple[float, float, float]:
    ans = [q.answer for q in qs if q.answer]
    words = np.mean([len(a.split()) for a in ans])
    sentences = np.mean([len([s for s in re.split(r"[.!?]+\s", a) if s.strip()]) for a in ans])
    label_line = np.mean(["[body part (coarse-grained)]" in a.lower() for a in ans])
    return float(words), float(sentences), float(label_line)


def _named(slotted: str) -> str:
    n = slotted.count("{dir}")
    return "2+" if n >= 2 else str(n)


def compare_style(bench: Benchmark, ref: Benchmark, folds: int = 5, seed: int = 0) -> Style:
    by_task: dict[str, tuple[list[Question], list[Question]]] = defaultdict(lambda: ([], []))
    for q in bench:
        by_task[q.task][0].append(q)
    for q in ref:
        by_task[q.task][1].append(q)
    tasks: dict[str, TaskStyle] = {}
    opens: list[OpenStyle] = []
    for t in TASK_ORDER:
        if t not in by_task:
            continue
        mine, theirs = by_task[t]
        if not mine or not theirs:
            continue
        sm = [slot(q.question) for q in mine]
        st = [slot(q.question) for q in theirs]
        fm, ft = {s.text for s in sm}, {s.text for s in st}
        cov_ref = sum(s.text in fm for s in st) / len(st)
        cov_bench = sum(s.text in ft for s in sm) / len(sm)
        # the keyword types describe Yes/No questions; recognition and open prompts have one kind each
        types = _compare(_shares([[question_type(s.text)] for s in sm]),
                         _shares([[question_type(s.text)] for s in st])) if TASKS[t].choices == ("Yes", "No") else []
        slots = {k: _compare(_shares([s.values.get(k, []) for s in sm]), _shares([s.values.get(k, []) for s in st]),
                             TOP_WORDS) for k in ("part", "dir", "phase")}
        words_m = Counter(w for s in sm for w in s.text.split() if not w.startswith("{"))
        words_t = Counter(w for s in st for w in s.text.split() if not w.startswith("{"))
        more_m, more_t = _log_odds(words_m, words_t)
        named = _compare(_shares([[_named(s.text)] for s in sm]), _shares([[_named(s.text)] for s in st]))
        auc, status = two_sample_auc(mine, theirs, folds, seed)
        tasks[t] = TaskStyle(t, len(mine), len(theirs), round(cov_ref, 4), round(cov_bench, 4), types, slots,
                             more_m, more_t, None if auc is None else round(auc, 4), status,
                             sorted(named, key=lambda x: x.key))
        if t in OPEN_TASKS and any(q.answer for q in mine) and any(q.answer for q in theirs):
            a, b = _open_stats(mine), _open_stats(theirs)
            opens.append(OpenStyle(t, a[0], b[0], a[1], b[1], a[2], b[2]))
    return Style(str(ref.path) if ref.path else "reference", tasks, opens)
