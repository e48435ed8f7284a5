"""Assembling a clip's 12 questions (CMAR, FMAR, two per Yes/No task from its `TaskSpec`, MADU, MARE) and a
whole build's, with official-style qids and each question's facts in `meta`.

Every closed answer comes from a fact the descriptors stated (never one marked `unclear`), and the fact
travels with the question in `meta` (parts, phase, direction, the measured value and the margin it
cleared). Negatives are real contrasts: the opposite direction, the swapped order, the other distance
trend, a phase in which the part did not move that way. Everything is seeded.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING

from mabench.builder.questions.balance import REST_PER_CLIP, Asked, Balancer, Rewording, fact_id, pick
from mabench.builder.questions.common import Fact
from mabench.builder.questions.events import anchor
from mabench.builder.questions.recognition import fmar_distractors, options
from mabench.builder.questions.registry import SPECS
from mabench.builder.questions.render import FIELD
from mabench.builder.questions.stems import Stems, _stem
from mabench.builder.reversal import reversed_answer
from mabench.taxonomy import COARSE_CLASSES, TASK_ORDER, TASKS

if TYPE_CHECKING:
    from mabench.builder.captions import Caption

QA_VERSION = "ma-qa-v2"


def named_directions(a: Asked) -> dict:
    """An order question's parts with the directions it names them by ({"named_directions": {part: code}}, as said:
    one axis where the question names one of a two-axis movement's): the order's answer holds only if each is the
    right one, so `bench/build_validate.py` checks them too. A reworded question names the same
    (`check_paraphrase`)."""
    if a.fact.meta.get("kind") != "order":
        return {}
    slots, f = set(FIELD.findall(a.template)), a.fact.fields
    named = {f[p]: a.said[d] for p, d in (("a", "dir_a"), ("b", "dir_b")) if d in slots and d in a.said}
    return {"named_directions": named} if named else {}


def report_meta(f: Fact) -> dict:
    """`meta` as stored: one `phase` and one `direction` (what reports break down by), and the full
    lists where a fact spans two (`phases`, `directions`: "up in the early phase, then down later")."""
    m = {k: v for k, v in f.meta.items() if k != "need"} | {"family": f.family}
    if isinstance(m.get("direction"), str) and "/" in m["direction"]:
        m["directions"] = m["direction"].split("/")
        m["direction"] = m["directions"][0]
    if isinstance(m.get("phase"), str) and "/" in m["phase"]:
        m["phases"] = m["phase"].split("/")
        m["phase"] = None
    return m


def clip_questions(desc: dict, cap: Caption, bal: Balancer, rng: random.Random,
                   label_weights: dict[str, float] | None = None, stems: Stems | None = None,
                   rewording: Rewording | None = None) -> list[dict]:
    """The 12 (or fewer, when a clip has no usable fact for a task) questions of one clip, without qids.
    With `stems` (see `reference_stems`), CMAR / FMAR / MADU / MARE ask with those instead of TEMPLATES;
    with `rewording`, the questions of its tasks in its phrasings where it has one (`meta.paraphrase` says)."""
    video = cap.clip.rsplit(".", 1)[0] if cap.clip.lower().endswith((".mp4", ".avi", ".mov", ".mkv", ".webm")) \
        else cap.clip
    out = []

    def add(task: str, question: str, answer: str, meta: dict) -> None:
        out.append({"video_name": video, "task": task, "question": question, "answer": answer,
                    "meta": {"version": QA_VERSION, **meta}})

    slot = bal.letter_slot("CMAR")
    opts, letter = options("CMAR", cap.coarse, [c for c in COARSE_CLASSES if c != cap.coarse], slot, rng)
    add("CMAR", f"{_stem('CMAR', rng, stems)}\n{opts}", letter, {"kind": "label", "label": cap.coarse,
                                                                      "parts": [], "phase": None})
    slot = bal.letter_slot("FMAR")
    opts, letter = options("FMAR", cap.fine, fmar_distractors(cap.fine, rng, label_weights), slot, rng)
    add("FMAR", f"{_stem('FMAR', rng, stems)}\n{opts}", letter, {"kind": "label", "label": cap.fine,
                                                                      "parts": [], "phase": None})
    asked: set = set()
    rest_left, clip_yes = REST_PER_CLIP, [0, 0]
    for task, spec in SPECS.items():
        facts = anchor(desc, spec.facts(desc))
        if len({fact_id(f) for f in facts}) < TASKS[task].per_clip:
            # too few facts of the task's own kinds (one part moves, nothing to compare or order): true contrasts
            # against the still parts keep the clip at 12 questions, used only then
            facts += [f for f in anchor(desc, spec.fallback(desc)) if f not in facts]
        for a in pick(task, desc, facts, bal, rng, TASKS[task].per_clip, asked, rewording, rest_left, clip_yes,
                      dominant_first=spec.dominant_first):
            asked.add(fact_id(a.fact))
            rest_left -= bool(a.fact.meta.get("at_rest"))
            meta = {**report_meta(a.fact), "wording": a.wording, **named_directions(a)}
            if rewording is not None and task in rewording.tasks:
                meta["paraphrase"] = {"status": "accepted", "source": "reference", "template": a.reworded_from} \
                    if a.reworded_from else {"status": "rejected", "source": "reference",
                                             "reason": "no reference wording of its type passes the fact check"}
            add(task, a.text, a.fact.answer, meta)
    add("MADU", _stem("MADU", rng, stems), cap.madu, {"kind": "description", "parts": cap.ranking,
                                                            "phase": None})
    add("MARE", _stem("MARE", rng, stems), cap.mare, {"kind": "reasoning", "label": cap.fine,
                                                            "coarse": cap.coarse, "parts": cap.ranking, "phase": None})
    return out


def build_questions(items: Iterable[tuple[dict, Caption]], seed: int = 0, stems: Stems | None = None,
                    rewording: Rewording | None = None) -> list[dict]:
    """Questions for every (descriptor, caption) pair, with official-style qids, in task order per clip.
    `stems`: the fixed-stem tasks' stems from a reference benchmark (`reference_stems`), else TEMPLATES;
    `rewording`: the Yes/No questions in a reference benchmark's phrasings (`mabench.builder.phrasings`)."""
    bal = Balancer(random.Random(seed))
    items = list(items)
    answers = Counter(cap.fine for _, cap in items)
    label_weights = {k: v / max(len(items), 1) for k, v in answers.items()}
    records = []
    counters: Counter[str] = Counter()
    for desc, cap in items:
        for rec in sorted(clip_questions(desc, cap, bal, random.Random(f"{seed}:{cap.clip}"), label_weights,
                                         stems, rewording),
                          key=lambda r: TASK_ORDER.index(r["task"])):
            qid = f"{rec['task']}_{counters[rec['task']]:04d}"
            meta = rec["meta"]
            if (rev := reversed_answer(rec["task"], rec["answer"], meta, desc)) is not None:
                meta = {**meta, "reversed_answer": rev}  # were the clip run backwards (builder.reversal)
            rec = {"video_name": rec["video_name"], "task": rec["task"], "qid": qid, "question": rec["question"],
                   "answer": rec["answer"], "meta": meta}
            counters[rec["task"]] += 1
            records.append(rec)
    return records

