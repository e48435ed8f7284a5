"""Choosing each clip's questions so that the build keeps MA-Bench's mix and gives no answer away.

`Balancer` scores every candidate question of a task against what the build has asked so far; `pick`
takes the best-scored ones of a clip. The per-task weights are `TaskSpec` fields; the shared ones are
here. What each was measured to do: bench/RESULTS.md, "The builder's tuning values".
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from mabench.builder.questions.common import Fact, limbs
from mabench.builder.questions.events import EVENT_FAMILIES
from mabench.builder.questions.registry import SPECS
from mabench.builder.questions.render import render
from mabench.taxonomy import TASKS

_WORD = re.compile(r"[a-z]+")
W_MIX, W_WORDING, NOISE = 3.0, 1.0, 2.0   # the mix, Yes/No per wording, and a random term
W_PART = 0.5                              # Yes/No per body part named
# MA-Bench asks about the hands, head and torso far more than about the segments between them (a lower arm
# moves with its hand): questions naming these are taken only when nothing else serves.
SECONDARY_PARTS = frozenset({"left lower arm", "right lower arm", "left upper leg", "right upper leg"})
SECONDARY_PENALTY = 1.5
# A clip's questions are about its movement events (`events.anchor`): a fact with no event of its parts is taken
# only when nothing about an event serves, one about the clip's dominant event first; a fact whose only subjects
# are parts at rest at most REST_PER_CLIP times per clip (when nothing else serves, more).
UNANCHORED_PENALTY = 4.0
DOMINANT_BONUS = 1.5
REST_PER_CLIP = 1
# ... and Yes and No about even within the clip (each Yes beyond half of the clip's questions so far counts this
# much against the next Yes): a clip of 8 questions asks 3-5 Yes, so no clip is mostly "No, it stays still"
W_CLIP_YES = 1.5


def _part_keys(parts: Iterable[str]) -> set[str]:
    """The balancer's keys of the body parts a question names, and of the movements it names (`_named`; a colon:
    no word or word pair is one)."""
    return {p if p.startswith("movement:") else f"part:{p}" for p in parts}


# the fields of the event families that name a movement ("moving back and forth", "lean to the left")
_MOVEMENT_FIELDS = ("act", "doing", "doing_a", "doing_b", "act1", "then")


def _named(f: Fact) -> list[str]:
    """What a question names that the balancer evens out in full (`W_PART`): its body parts and the movements its
    event wording names. Among a question's ~25 words and pairs, a movement's few words were averaged away (on 200
    clips "back and forth" was Yes in 11 of 11 MAS questions, "straightening" in 0 of 8)."""
    return list(f.meta.get("parts", [])) + [f"movement:{f.fields[k]}" for k in _MOVEMENT_FIELDS if k in f.fields]


def _grams(text: str) -> set[str]:
    w = _WORD.findall(text.lower())
    return set(w) | {f"{a} {b}" for a, b in zip(w, w[1:], strict=False)}


class Balancer:
    """Keeps the built questions from giving their answers away and their mix like MA-Bench's.

    Per Yes/No task, every next question is the candidate that best (1) fills the wording (or `TaskSpec.shared_mix`
    group) the task is furthest behind on against `TaskSpec.mix`, (2) evens out Yes/No within its wording and template,
    and (3) evens out Yes/No over the words and word pairs it contains (parts, directions, phases, verbs) and
    over the body parts it names (`W_PART`): a text-only model then finds no word that predicts the answer.
    "Even" is the spec's `yes_centre` (50%, or 47% for MAD and MAS: fewer of their clips hold a true Yes).
    The correct letter of CMAR / FMAR cycles through the positions in shuffled blocks.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.yes_no: dict[str, Counter] = {t: Counter() for t in SPECS}
        self.wording: dict[str, Counter] = {t: Counter() for t in SPECS}
        # per (task, key) for wordings, templates and words: questions asked and how many were Yes
        self.asked: Counter = Counter()
        self.yes: Counter = Counter()
        self._slots: dict[str, list[int]] = {}

    def _excess(self, task: str, key: str) -> float:
        """Twice the Yes beyond the task's `yes_centre` among the questions with `key` (Yes minus No at 50%)."""
        return 2 * (self.yes[(task, key)] - SPECS[task].yes_centre * self.asked[(task, key)])

    def score(self, task: str, wording: str, template: str, answer: str, text: str,
              parts: Iterable[str] = ()) -> float:
        s = 1 if answer == "Yes" else -1
        n = sum(self.wording[task].values())
        spec = SPECS[task]
        group = spec.mix_group(wording)
        deficit = sum(spec.mix.get(w, 0.0) for w in group) * (n + 1) - sum(self.wording[task][w] for w in group)
        grams = _grams(text)
        gram = sum(self._excess(task, g) for g in grams) / max(len(grams), 1)
        task_bal = 2 * (self.yes_no[task]["Yes"] - spec.yes_centre * self.yes_no[task].total())
        if spec.pull_cap is not None:  # an imbalance the data cannot undo must not outgrow the per-wording terms
            task_bal = max(-spec.pull_cap, min(spec.pull_cap, task_bal))
        named = _part_keys(parts)
        part = sum(self._excess(task, k) for k in named) / max(len(named), 1)
        return -W_MIX * deficit + spec.w_task * s * task_bal + W_WORDING * s * self._excess(task, wording) \
            + spec.w_template * s * self._excess(task, template) + spec.w_grams * s * gram \
            + W_PART * s * part

    def take(self, task: str, wording: str, template: str, answer: str, text: str, parts: Iterable[str] = ()) -> None:
        self.yes_no[task][answer] += 1
        self.wording[task][wording] += 1
        for key in (wording, template, *_grams(text), *_part_keys(parts)):
            self.asked[(task, key)] += 1
            self.yes[(task, key)] += answer == "Yes"

    def letter_slot(self, task: str) -> int:
        """The correct option's position: a shuffled cycle over all positions (uniform)."""
        n = len(TASKS[task].letters)
        if not self._slots.get(task):
            self._slots[task] = self.rng.sample(range(n), n)
        return self._slots[task].pop()


def fact_id(f: Fact) -> tuple:
    """What a question is about: asking it twice (once Yes, once flipped to No) is a near-duplicate."""
    m = f.meta
    return (m.get("kind"), tuple(sorted(m.get("parts", []))), m.get("phase"), m.get("axis"))


@dataclass
class Asked:
    fact: Fact
    wording: str
    text: str
    template: str
    reworded_from: str | None = None  # the template's text, when `text` is a reference's phrasing of it
    said: dict[str, str] = field(default_factory=dict)  # its direction fields as said (`Rendered.said`)


class Rewording(Protocol):
    """Rewords a question of one of its `tasks` in another benchmark's phrasing, or None
    (`mabench.builder.phrasings`)."""

    tasks: tuple[str, ...]

    def reword(self, task: str, template: str, rng: random.Random) -> str | None: ...


# A fact another task of the clip already asks (MAD and PPR both ask pair trends, MAD and MAS orders) is
# asked again only when nothing else serves: the same fact twice in a clip is one question, not two.
ASKED_PENALTY = 5.0


def _anchoring(f: Fact) -> float:
    """The score a fact's anchoring adds: least for one made from the dominant event, more for another about an
    event, most for one about no event (`events.anchor`; a clip without events has none, so all score alike)."""
    event = f.meta.get("event")
    if event is None:
        return UNANCHORED_PENALTY
    return -DOMINANT_BONUS if event.get("dominant") and f.family in EVENT_FAMILIES else 0.0


def pick(task: str, desc: dict, facts: list[Fact], bal: Balancer, rng: random.Random, n: int = 2,
         asked: set | None = None, rewording: Rewording | None = None, rest_left: int = REST_PER_CLIP,
         clip_yes: list[int] | None = None, dominant_first: bool = False) -> list[Asked]:
    """The task's `n` questions for one clip, each the best-scored candidate (see `Balancer`); `asked`: the
    fact ids the clip's other tasks ask (`ASKED_PENALTY`); `rest_left`: how many facts about parts at rest the
    clip may still ask; `clip_yes`: [Yes, asked] of the clip's Yes/No questions so far (updated);
    `dominant_first`: the first question is one made from the clip's dominant event where there is one. With
    `rewording`, each candidate is reworded before it is scored, so that the balancer evens out the words
    that will be asked."""
    asked = asked or set()
    clip_yes = clip_yes if clip_yes is not None else [0, 0]
    chosen: list[Asked] = []
    cands = []
    for f in facts:
        for w in SPECS[task].wording.get(f.family, ()):
            # every template the fact fills: the balancer evens out Yes/No per template as well
            for text, t, said in render(f, w, task, desc, rng):
                reworded = rewording.reword(task, text, rng) if rewording is not None and task in rewording.tasks \
                    else None
                cands.append(Asked(f, w, reworded or text, t, text if reworded else None, said))
    for _ in range(n):
        taken = {fact_id(c.fact) for c in chosen}
        used_parts = {limbs(c.fact) for c in chosen}
        pool = [c for c in cands if fact_id(c.fact) not in taken]
        if rest_left <= 0:
            pool = [c for c in pool if not c.fact.meta.get("at_rest")] or pool
        if dominant_first and not chosen:
            pool = [c for c in pool if c.fact.family in EVENT_FAMILIES
                    and (c.fact.meta.get("event") or {}).get("dominant")] or pool
        if not pool:
            break
        best = min(pool, key=lambda c: bal.score(task, c.wording, c.template, c.fact.answer, c.text, _named(c.fact))
                   + (0.5 if limbs(c.fact) in used_parts else 0.0)
                   + SECONDARY_PENALTY * bool(SECONDARY_PARTS & set(c.fact.meta.get("parts", [])))
                   + ASKED_PENALTY * (fact_id(c.fact) in asked)
                   + _anchoring(c.fact)
                   + W_CLIP_YES * (1 if c.fact.answer == "Yes" else -1) * (2 * clip_yes[0] - clip_yes[1])
                   + NOISE * rng.random())
        clip_yes[0] += best.fact.answer == "Yes"
        clip_yes[1] += 1
        rest_left -= bool(best.fact.meta.get("at_rest"))
        chosen.append(best)
        bal.take(task, best.wording, best.template, best.fact.answer, best.text, _named(best.fact))
    return chosen

