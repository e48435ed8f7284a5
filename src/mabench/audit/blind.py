"""Blind baselines: how much of a task a text-only model answers, trained and scored with k-fold
cross-validation grouped by clip (a clip's questions never straddle folds).

Yes/No tasks: TF-IDF word (1-2) and character (2-5, in word boundaries) n-grams + logistic regression.
CMAR / FMAR: a per-option logistic regression (option text, letter, position, length against the other
options, code suffix, duplicate, overlap with the stem, the stem's family by letter); the option with
the highest score is the answer.

Accuracy CIs resample clips (the out-of-fold predictions stay fixed): `mabench.report.stats`.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction import DictVectorizer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.pipeline import make_pipeline, make_union

from mabench.audit.slots import family, has_code_suffix
from mabench.data.io import Benchmark
from mabench.data.records import Question
from mabench.report.stats import DEFAULT_BOOTSTRAP, percentile_ci, replicate_weights
from mabench.taxonomy import CLOSED_TASKS, TASKS, AnswerType, normalize_label

MIN_QUESTIONS = 20  # fewer closed questions in a task than this: no cross-validation, a status instead
MIN_CLIPS_PER_FOLD = 2  # each fold needs this many clips
C_REG = 1.0


@dataclass
class BlindTask:
    """One task's blind baseline. `status` is "ok" or why there is no number."""

    task: str
    status: str
    questions: int
    clips: int
    chance: float
    majority: float | None = None  # share of the most common answer (Yes/No) or correct letter
    majority_answer: str | None = None
    blind: float | None = None
    blind_ci: tuple[float, float] | None = None
    leak: float | None = None  # blind - majority
    leak_ci: tuple[float, float] | None = None
    model: str = ""
    # multiple choice: accuracy of a model that knows only how often each label was the answer in the other
    # folds (it picks the offered label answered most often). Above chance when the clips' labels are uneven:
    # what the label distribution gives away, not the wording.
    label_only: float | None = None


@dataclass
class BlindOutcome:
    tasks: dict[str, BlindTask]
    correct: dict[str, bool]  # qid -> blind model right out-of-fold (tasks with status "ok")


# --- models ---------------------------------------------------------------------------------------


def _yes_no_model(seed: int):
    text = make_union(
        TfidfVectorizer(analyzer="word", ngram_range=(1, 2), min_df=1, sublinear_tf=True),
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, sublinear_tf=True),
    )
    return make_pipeline(text, LogisticRegression(C=C_REG, max_iter=2000, random_state=seed))


def _option_rows(q: Question) -> list[dict]:
    """Hand features of each option of a multiple-choice question (bag of words added separately)."""
    lengths = np.array([len(o.text) for o in q.options], dtype=float)
    keys = _option_text(q)
    stem_words = set(normalize_label(q.stem).split())
    fam = family(q.question)
    order = np.argsort(np.argsort(-lengths))  # 0 = longest
    rows = []
    for i, o in enumerate(q.options):
        words = set(normalize_label(o.text).split())
        rows.append({
            f"letter={o.letter}": 1.0, "position": i / max(len(q.options) - 1, 1),
            "length_z": float((lengths[i] - lengths.mean()) / (lengths.std() or 1.0)),
            "longest": float(order[i] == 0), "shortest": float(order[i] == len(q.options) - 1),
            "code_suffix": float(has_code_suffix(o.text)),
            "duplicate": float(keys.count(keys[i]) > 1),
            "stem_overlap": len(words & stem_words) / max(len(words), 1),
            f"family_letter={fam}|{o.letter}": 1.0,
        })
    return rows


def _option_text(q: Question) -> list[str]:
    return [o.key for o in q.options]


class OptionScorer:
    """Per-option logistic regression; a question's answer is its best-scored option."""

    def __init__(self, seed: int):
        self.seed = seed

    def fit(self, qs: list[Question]) -> OptionScorer:
        self.dv = DictVectorizer()
        self.tf = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), token_pattern=r"(?u)\b\w+\b")
        rows = [r for q in qs for r in _option_rows(q)]
        texts = [t for q in qs for t in _option_text(q)]
        y = [o.letter == q.answer for q in qs for o in q.options]
        x = sp.hstack([self.dv.fit_transform(rows), self.tf.fit_transform(texts)]).tocsr()
        self.lr = LogisticRegression(C=C_REG, max_iter=2000, random_state=self.seed).fit(x, y)
        return self

    def predict(self, qs: list[Question]) -> list[str]:
        out = []
        for q in qs:
            x = sp.hstack([self.dv.transform(_option_rows(q)), self.tf.transform(_option_text(q))]).tocsr()
            out.append(q.options[int(np.argmax(self.lr.decision_function(x)))].letter)
        return out


# --- cross-validation -----------------------------------------------------------------------------


def _splits(qs: list[Question], folds: int, seed: int) -> list:
    # stratified by answer as well as grouped by clip: unequal answer shares across folds would make a model
    # that leans to its training folds' majority fall below the majority rate on answers that carry no cue
    cv = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
    with warnings.catch_warnings():  # a letter rarer than the folds is expected (FMAR with few clips): no noise
        warnings.filterwarnings("ignore", "The least populated class", UserWarning)
        return list(cv.split(qs, [q.answer for q in qs], groups=[q.video_id for q in qs]))


def label_only_right(qs: list[Question], folds: int, seed: int) -> np.ndarray:
    """Per multiple-choice question, out of fold: is the offered label that was the answer most often in the
    training folds the answer (ties: the first offered)?"""
    right = np.zeros(len(qs))
    for train, test in _splits(qs, folds, seed):
        counts = Counter(o.key for i in train if (o := qs[i].option(qs[i].answer or "")))
        for i in test:
            if qs[i].options:
                best = max(qs[i].options, key=lambda o: counts.get(o.key, 0))
                right[i] = best.letter == qs[i].answer
    return right


def oof_predictions(qs: list[Question], folds: int, seed: int) -> list[str]:
    """Out-of-fold answers, folds grouped by clip (and seeded). A training fold with one answer only predicts it."""
    preds: list[str | None] = [None] * len(qs)
    yes_no = TASKS[qs[0].task].answer_type is AnswerType.YES_NO
    for train, test in _splits(qs, folds, seed):
        tr = [qs[i] for i in train]
        te = [qs[i] for i in test]
        answers = {q.answer for q in tr}
        if yes_no and len(answers) == 1:
            got = [answers.pop()] * len(te)
        elif yes_no:
            model = _yes_no_model(seed).fit([q.question for q in tr], [q.answer for q in tr])
            got = list(model.predict([q.question for q in te]))
        else:
            got = OptionScorer(seed).fit(tr).predict(te)
        for i, g in zip(test, got, strict=True):
            preds[i] = g
    return preds  # type: ignore[return-value]


def _clip_sums(qs: list[Question], values: np.ndarray, clips: list[str]) -> np.ndarray:
    idx = {c: i for i, c in enumerate(clips)}
    out = np.zeros(len(clips))
    np.add.at(out, [idx[q.video_id] for q in qs], values)
    return out


def blind_task(qs: list[Question], folds: int, seed: int, n_boot: int = DEFAULT_BOOTSTRAP) -> tuple[BlindTask,
                                                                                                   dict[str, bool]]:
    task = qs[0].task
    spec = TASKS[task]
    clips = list(dict.fromkeys(q.video_id for q in qs))
    model = "tfidf word+char n-grams, logistic regression" if spec.answer_type is AnswerType.YES_NO else \
        "per-option logistic regression (text, letter, length, stem)"
    res = BlindTask(task, "ok", len(qs), len(clips), spec.chance or 0.0, model=model)
    answers = [q.answer for q in qs]
    counts = {a: answers.count(a) for a in spec.choices}
    res.majority_answer = max(counts, key=lambda a: counts[a])
    res.majority = counts[res.majority_answer] / len(qs)
    if len(qs) < MIN_QUESTIONS or len(clips) < folds * MIN_CLIPS_PER_FOLD:
        res.status = (f"too few for {folds}-fold cross-validation: {len(qs)} questions, {len(clips)} clips "
                      f"(needs {MIN_QUESTIONS} questions and {folds * MIN_CLIPS_PER_FOLD} clips)")
        return res, {}
    if sum(v > 0 for v in counts.values()) < 2:
        res.status = f"one answer only ({res.majority_answer}): nothing to learn"
        return res, {}
    if max(counts.values()) < folds:  # stratified folds need one answer at least `folds` times (CMAR, ~30 clips)
        res.status = (f"too few for {folds}-fold cross-validation: no answer is given {folds} times "
                      f"({len(qs)} questions over {len(counts)} answers)")
        return res, {}
    preds = oof_predictions(qs, folds, seed)
    right = np.array([p == a for p, a in zip(preds, answers, strict=True)], dtype=float)
    res.blind = float(right.mean())
    if spec.answer_type is not AnswerType.YES_NO:
        res.label_only = float(label_only_right(qs, folds, seed).mean())
    # clip bootstrap of blind accuracy and of blind - majority; the majority answer stays the full data's
    # (re-taking the max in each replicate would bias the majority rate upwards)
    w = replicate_weights(len(clips), n_boot, seed)
    total = w @ _clip_sums(qs, np.ones(len(qs)), clips)
    blind_b = (w @ _clip_sums(qs, right, clips)) / total
    maj_b = (w @ _clip_sums(qs, np.array([a == res.majority_answer for a in answers], float), clips)) / total
    res.blind_ci = percentile_ci(blind_b)
    res.leak = res.blind - res.majority
    res.leak_ci = percentile_ci(blind_b - maj_b)
    return res, {q.qid: bool(r) for q, r in zip(qs, right, strict=True)}


def blind_baselines(bench: Benchmark, folds: int = 5, seed: int = 0,
                    n_boot: int = DEFAULT_BOOTSTRAP) -> BlindOutcome:
    """Every closed task of a benchmark with answers."""
    tasks: dict[str, BlindTask] = {}
    correct: dict[str, bool] = {}
    for t in CLOSED_TASKS:
        qs = [q for q in bench if q.task == t and q.answer is not None]
        if not qs:
            continue
        tasks[t], right = blind_task(qs, folds, seed, n_boot)
        correct.update(right)
    return BlindOutcome(tasks, correct)
