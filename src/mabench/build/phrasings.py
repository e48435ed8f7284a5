"""Offline paraphrase: the built Yes/No questions reworded in a reference benchmark's own phrasings.

`mabench build --paraphrase reference --reference FILE` (or `--stems-from FILE`). For a built SAD / MAD /
MAS / PPR question, each reference question of the same task and question type is a candidate wording: its
parts, directions, phases and time spans are replaced, in order, by the built question's own. The candidate
is taken only when

- every word outside those slots is fact-neutral: a function word, "move / movement / motion / phase /
  segment / stage / ...", a relation word that the check below counts, or a word the template itself uses
  (a reference verb such as "tilt" or "lift", a label or a number would state what was not measured), and
- `check_paraphrase` finds it asks what the template asks: the same parts in the same order, each direction
  on the same part, the same phases and time spans, the same relation words, each in the same place among
  the parts.

A passing candidate is drawn at random, so the wordings come in the reference's proportions; a question
with none keeps its template. No model and no network: the wording is the reference's, the facts are the
build's. Nothing of the reference is stored in mabench; the user supplies it at build time.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict
from collections.abc import Iterable

from mabench.audit.slots import slot, slot_spans
from mabench.audit.style import question_type
from mabench.build.paraphrase import (
    _PHASE,
    ANCHOR_WORDS,
    EXACT_WORDS,
    PARAPHRASE_TASKS,
    WORD_CLASSES,
    ParaphraseResult,
    _canon_dir,
    check_paraphrase,
)

# Words that state nothing about the movement (on the slotted, lower-cased text).
NEUTRAL_WORDS = frozenset("""a an the of in on at to from by with as for and or its it their this that these those
's ' is are was were be been being do does did has have had there
video clip action motion motions movement movements move moves moving moved direction directions
phase phases stage stages segment segments part portion shift shifts shifted shifting
occur occurs occurred happen happens happened""".split())
_CHECKED_WORDS = frozenset(w for ws in WORD_CLASSES.values() for w in ws) | EXACT_WORDS | ANCHOR_WORDS
FILLED = ("part", "dir", "phase", "time")
_ARTICLE = re.compile(r"\b([Aa]n?) (\w)")
_PLURAL = re.compile(r"(hands|feet|arms|forearms|legs|knees|shoulders|elbows|wrists)$", re.IGNORECASE)


def _fact_neutral(slotted: str, template_words: set[str]) -> bool:
    for w in slotted.split():
        if w.startswith("{"):
            if w[1:-1] not in FILLED:  # a label, a coarse class or a number the build did not measure
                return False
        elif w not in NEUTRAL_WORDS and w not in _CHECKED_WORDS and w not in template_words:
            return False
    return True


def _direction_as(ours: str, theirs: str) -> str:
    """Our direction in the reference's manner: "to the left" where it writes "to the right", "-wards"."""
    d, t = _canon_dir(ours.lower()), theirs.lower()
    if t.startswith("to the ") and d in ("leftward", "rightward"):
        return "to the " + d[:-4]
    if t.endswith("wards") and d.endswith("ward"):
        return d + "s"
    return d


_INITIAL_FINAL = {"early": "initial", "middle": "middle", "late": "final"}


def _phase_as(ours: str, theirs: str) -> str | None:
    """Our phase in the reference's word for it ("initial" / "final" where it writes those); None for
    "beginning" / "mid" ("at the beginning" reads as an instant, not the early phase)."""
    o, t = _PHASE.get(ours.lower(), ours.lower()), theirs.lower()
    if t in ("beginning", "mid"):
        return None
    if _PHASE.get(t, t) == o:
        return theirs
    if t in ("early", "middle", "late"):
        return o
    if t in ("initial", "final"):
        return _INITIAL_FINAL[o]
    return None


_QUOTE = re.compile(r"[\"“”‘]|['’](?!s\b)")


def fill(reference: str, template: str) -> str | None:
    """`reference` with its parts, directions, phases and time spans replaced in order by `template`'s; None
    when the two do not hold the same number of each (or the reference names something else: a label), or
    the reference quotes (a quoted phrase filled with other words reads as nonsense)."""
    ref = reference.strip()
    if _QUOTE.search(ref):
        return None
    theirs = slot_spans(ref)
    ours: dict[str, list[str]] = defaultdict(list)
    for s, e, kind in slot_spans(template):
        ours[kind].append(template[s:e])
    counts: dict[str, int] = defaultdict(int)
    for _, _, kind in theirs:
        counts[kind] += 1
    if set(counts) - set(FILLED) or any(counts[k] != len(ours.get(k, ())) for k in FILLED):
        return None
    used: dict[str, int] = defaultdict(int)
    out, pos = [], 0
    for s, e, kind in theirs:
        mine = ours[kind][used[kind]]
        used[kind] += 1
        surface = ref[s:e]
        value: str | None = mine
        if kind == "dir":
            value = _direction_as(mine, surface)
        elif kind == "phase":
            value = _phase_as(mine, surface)
        elif kind == "part":
            if bool(_PLURAL.search(surface)) != bool(_PLURAL.search(mine)):  # "the hands were" is no "hand"
                return None
            value = mine.title() if surface.istitle() else mine.lower() if surface.islower() else mine
        if value is None:
            return None
        out += [ref[pos:s], value]
        pos = e
    text = "".join([*out, ref[pos:]])
    text = _ARTICLE.sub(_article, text)  # "an upward", "a leftward"
    return text[:1].upper() + text[1:]


def _article(m: re.Match) -> str:
    word = "an" if m.group(2).lower() in "aeiou" else "a"
    return f"{word.capitalize() if m.group(1)[0] == 'A' else word} {m.group(2)}"


class ReferencePhrasings:
    """A reference benchmark's Yes/No questions by (task, question type), ready to reword built questions."""

    def __init__(self, reference: Iterable):
        self.pool: dict[tuple[str, str], list[str]] = defaultdict(list)
        for r in reference:
            task, q = (r["task"], r["question"]) if isinstance(r, dict) else (r.task, r.question)
            if task in PARAPHRASE_TASKS:
                self.pool[task, question_type(slot(q).text)].append(q.strip())
        self._fits: dict[tuple[str, str], list[str]] = {}

    def candidates(self, task: str, template: str) -> list[str]:
        """The reference questions whose wording can carry `template`'s question (per phrasing family:
        checked once on the first template of the family, and again for each question when drawn)."""
        family = slot(template).text
        key = (task, family)
        if key not in self._fits:
            words = set(family.split())
            self._fits[key] = [r for r in self.pool.get((task, question_type(family)), [])
                               if _fact_neutral(slot(r).text, words)
                               and (c := fill(r, template)) is not None and check_paraphrase(template, c) is None]
        return self._fits[key]

    def reword(self, task: str, template: str, rng: random.Random) -> str | None:
        """`template` in a reference question's wording drawn at random among those that pass; None if none."""
        pool = self.candidates(task, template)
        for r in rng.sample(pool, len(pool)):
            c = fill(r, template)
            if c is not None and check_paraphrase(template, c) is None:
                return c
        return None


def reference_phrasings(records: list[dict], reference: Iterable, seed: int = 0) -> ParaphraseResult:
    """Reword the SAD / MAD / MAS / PPR questions of `records` in place in `reference`'s phrasings; each
    record's `meta["paraphrase"]` says whether it was (`accepted`, with the template) or not (`rejected`)."""
    phrasings = ReferencePhrasings(reference)
    res = ParaphraseResult()
    for rec in records:
        if rec["task"] not in PARAPHRASE_TASKS:
            continue
        template = rec["question"]
        rng = random.Random(f"{seed}:{rec.get('video_name', '')}:{rec.get('qid', '')}:{template}")
        text = phrasings.reword(rec["task"], template, rng)
        meta = rec.setdefault("meta", {})
        if text is None:
            meta["paraphrase"] = {"status": "rejected", "source": "reference",
                                  "reason": "no reference wording of this type passes the fact check"}
            res.rejected += 1
        else:
            meta["paraphrase"] = {"status": "accepted", "source": "reference", "template": template}
            rec["question"] = text
            res.accepted += 1
    return res
