"""Offline paraphrase: the built Yes/No questions reworded in a reference benchmark's own phrasings.

`mabench build --paraphrase reference --reference FILE` (or `--stems-from FILE`). For a built MAS or PPR
question (`REWORD_TASKS`), each reference question of the same task and question type is a candidate wording: its
parts, directions, phases and time spans are replaced, in order, by the built question's own. The candidate
is taken only when

- every word outside those slots is fact-neutral (a function word, "move / movement / motion / phase /
  segment / stage / ...", a relation word that the check below counts) or one the template itself uses: a
  reference verb such as "tilt" or "lift", a label or a number would state what was not measured, and
- `check_paraphrase` finds it asks what the template asks: the same parts in the same order, each direction
  on the same part, the same phases and time spans, the same relation words, each in its place.

A passing candidate is drawn at random, so the wordings come in the reference's proportions; a question
with none keeps its template. `questions.balance.pick` rewords every candidate question before its balancer
scores it, so that the words it evens out across Yes and No are the words asked. No model and no network:
the wording is the reference's, the facts are the build's. Nothing of the reference is stored in mabench;
the user supplies it at build time.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from mabench.audit.slots import slot, slot_spans
from mabench.audit.style import question_type
from mabench.builder.paraphrase import (
    ANCHOR_WORDS,
    EXACT_WORDS,
    PARAPHRASE_TASKS,
    WORD_CLASSES,
    _canon_dir,
    check_paraphrase,
    task_and_question,
)
from mabench.builder.questions.render import with_articles
from mabench.taxonomy import INITIAL_FINAL, PHASE_OF_WORD

# The tasks reworded. SAD and MAD are not: 94% of MA-Bench's SAD and MAD questions say something no fact
# here measures (a verb such as "tilt", the action's label), so even its fact-neutral ones alone would be
# told from the whole at AUC 0.89 / 0.92, and on 600 synthetic clips their rewording moved the style AUC by
# under 0.01 while the wider vocabulary raised MAD's text-only leak to +5.4 points (bench/RESULTS.md).
REWORD_TASKS = ("MAS", "PPR")
# Words that state nothing about the movement (on the slotted, lower-cased text).
# ("or", "by", "on", "at" are not: "up, or down", "by the late stage", "from the early phase on" change scope.)
NEUTRAL_WORDS = frozenset("""a an the of in to from with as for and its it their this that these those
's ' is are was were be been being do does did has have had there
video clip action motion motions movement movements move moves moving moved direction directions
phase phases stage stages segment segments part portion shift shifts shifted shifting""".split())
_CHECKED_WORDS = frozenset(w for ws in WORD_CLASSES.values() for w in ws) | EXACT_WORDS | ANCHOR_WORDS
FILLED = ("part", "dir", "phase", "time")
_PLURAL = re.compile(r"(hands|feet|arms|forearms|legs|knees|shoulders|elbows|wrists)$", re.IGNORECASE)


def loose_words(slotted: str) -> frozenset[str] | None:
    """The words of a reference question (slotted) that state something the check does not weigh: usable
    only where the template says them too. None when it names a label, a coarse class or a number, which
    the build's facts would not fill."""
    words = set()
    for w in slotted.split():
        if w.startswith("{"):
            if w[1:-1] not in FILLED:
                return None
        elif w not in NEUTRAL_WORDS and w not in _CHECKED_WORDS:
            words.add(w)
    return frozenset(words)


def _signature(spans: list[tuple[int, int, str]]) -> tuple[int, ...]:
    return tuple(sum(k == kind for _, _, k in spans) for kind in FILLED)


def _direction_as(ours: str, theirs: str) -> str:
    """Our direction in the reference's manner: "to the left" where it writes "to the right", "-wards"."""
    d, t = _canon_dir(ours.lower()), theirs.lower()
    if t.startswith("to the ") and d in ("leftward", "rightward"):
        return "to the " + d[:-4]
    if t.endswith("wards") and d.endswith("ward"):
        return d + "s"
    return d


def _phase_as(ours: str, theirs: str) -> str | None:
    """Our phase in the reference's word for it ("initial" / "final" where it writes those); None for
    "beginning" / "mid" ("at the beginning" reads as an instant, not the early phase)."""
    o, t = PHASE_OF_WORD.get(ours.lower(), ours.lower()), theirs.lower()
    if t in ("beginning", "mid"):
        return None
    if PHASE_OF_WORD.get(t, t) == o:
        return theirs
    if t in ("early", "middle", "late"):
        return o
    if t in ("initial", "final"):
        return INITIAL_FINAL[o]
    return None


_QUOTE = re.compile(r"[\"“”‘]|['’](?!s\b)")
# A reference's own slips of this one form are not copied: "did the hand move upward happen before ...",
# "did the hand moving upward occur before ...".
_BROKEN = re.compile(r"\b(move|moving|start|begin)(\s+(and|to|the|moving|\w+wards?|left|right|up|down))*\s+"
                     r"(happen|occur)\b", re.IGNORECASE)


def fill(reference: str, template: str, theirs: list[tuple[int, int, str]] | None = None,
         mine: list[tuple[int, int, str]] | None = None) -> str | None:
    """`reference` with its parts, directions, phases and time spans replaced in order by `template`'s; None
    when the two do not hold the same number of each (or the reference names something else: a label), or
    the reference quotes (a quoted phrase filled with other words reads as nonsense). `theirs` / `mine`:
    the two texts' `slot_spans`, when known."""
    ref = reference.strip()
    if _QUOTE.search(ref):
        return None
    theirs = slot_spans(ref) if theirs is None else theirs
    mine = slot_spans(template) if mine is None else mine
    if any(kind not in FILLED for _, _, kind in theirs) or _signature(theirs) != _signature(mine):
        return None
    ours: dict[str, list[str]] = defaultdict(list)
    for s, e, kind in mine:
        ours[kind].append(template[s:e])
    used: dict[str, int] = defaultdict(int)
    out, pos = [], 0
    for s, e, kind in theirs:
        own = ours[kind][used[kind]]
        used[kind] += 1
        surface = ref[s:e]
        value: str | None = own
        if kind == "dir":
            value = _direction_as(own, surface)
        elif kind == "phase":
            value = _phase_as(own, surface)
        elif kind == "part":
            if bool(_PLURAL.search(surface)) != bool(_PLURAL.search(own)):  # "the hands were" is no "hand"
                return None
            value = own.title() if surface.istitle() else own.lower() if surface.islower() else own
        if value is None:
            return None
        out += [ref[pos:s], value]
        pos = e
    text = "".join([*out, ref[pos:]])
    text = with_articles(text)
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class _Wording:
    text: str
    spans: list[tuple[int, int, str]]
    loose: frozenset[str]  # words usable only where the template says them too (`loose_words`)


class ReferencePhrasings:
    """A reference benchmark's Yes/No questions, ready to reword built questions (`reword`)."""

    def __init__(self, reference: Iterable, tasks: tuple[str, ...] = REWORD_TASKS):
        self.tasks = tuple(t for t in tasks if t in PARAPHRASE_TASKS)
        # by (task, question type, how many parts / directions / phases / time spans): only those can fill
        self.pool: dict[tuple, list[_Wording]] = defaultdict(list)
        for r in reference:
            task, q = task_and_question(r)
            q = q.strip()
            if task not in self.tasks or _QUOTE.search(q) or _BROKEN.search(q):
                continue
            slotted = slot(q).text
            loose = loose_words(slotted)
            if loose is not None:
                spans = slot_spans(q)
                self.pool[task, question_type(slotted), _signature(spans)].append(_Wording(q, spans, loose))
        self._fits: dict[tuple[str, str], list[_Wording]] = {}

    def candidates(self, task: str, template: str) -> list[str]:
        """The reference questions whose wording can carry `template`'s question (per phrasing family:
        checked once on the first template of the family, and again for each question when drawn)."""
        return [w.text for w in self._candidates(task, template, slot_spans(template))]

    def _candidates(self, task: str, template: str, mine: list[tuple[int, int, str]]) -> list[_Wording]:
        family = slot(template).text
        key = (task, family)
        if key not in self._fits:
            words = set(family.split())
            self._fits[key] = [w for w in self.pool.get((task, question_type(family), _signature(mine)), [])
                               if w.loose <= words and (c := fill(w.text, template, w.spans, mine)) is not None
                               and check_paraphrase(template, c) is None]
        return self._fits[key]

    def reword(self, task: str, template: str, rng: random.Random) -> str | None:
        """`template` in a reference question's wording drawn at random among those that pass; None if none."""
        mine = slot_spans(template)
        pool = self._candidates(task, template, mine)
        if not pool:
            return None
        first = rng.randrange(len(pool))  # one draw; the pool is walked on only if it fails this question
        for w in pool[first:] + pool[:first]:
            c = fill(w.text, template, w.spans, mine)
            if c is not None and check_paraphrase(template, c) is None:
                return c
        return None
