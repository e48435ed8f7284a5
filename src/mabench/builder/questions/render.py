"""A fact's question in words: its phase ("the early segment (0.0-0.6 seconds)"), its directions ("upward
and to the left"), each template of its wording filled in, articles fixed."""

from __future__ import annotations

import random
import re
from typing import NamedTuple

from mabench.builder.questions.common import Fact
from mabench.builder.questions.registry import SPECS
from mabench.taxonomy import PHASES

# the words of `taxonomy.PHASE_SYNONYMS` for each phase and how often each is said, after the official file
PHASE_WORD_WEIGHTS = {"early": {"early": 8, "initial": 1, "beginning": 1}, "middle": {"middle": 1},
                      "late": {"late": 9, "final": 1}}
# the side phrase of a horizontal direction, and back ("to the left" -> "leftward")
TO_THE_SIDE = {"leftward": "to the left", "rightward": "to the right"}
_WARD_WORD = {v: k for k, v in TO_THE_SIDE.items()}


def phase_phrase(ph: str, edges: list[float] | None, task: str, rng: random.Random) -> str:
    spec = SPECS[task]
    noun = rng.choices([n for n, _ in spec.phase_nouns], [w for _, w in spec.phase_nouns])[0]
    text = f"the {rng.choice([w for w, n in PHASE_WORD_WEIGHTS[ph].items() for _ in range(n)])} {noun}"
    if edges and rng.random() < spec.time_span_share:
        k, t0 = PHASES.index(ph), edges[0]
        text += f" ({edges[k] - t0:.1f}–{edges[k + 1] - t0:.1f} seconds)"
    return text


def dir_phrase(code: str, rng: random.Random, task: str = "SAD") -> str:
    """"upward", "to the left", or a compound "upward and leftward" / "leftward and upward" from "upward+leftward"
    (in MAS, sometimes one of the two: `TaskSpec.one_of_two_share`)."""
    codes = code.split("+")
    if len(codes) == 2 and rng.random() < SPECS[task].one_of_two_share:
        codes = [rng.choice(codes)]
    words = [TO_THE_SIDE[d] if d in TO_THE_SIDE and rng.random() < SPECS[task].to_the_side_share else d for d in codes]
    if len(words) == 2 and rng.random() < 0.35:
        words.reverse()
    return " and ".join(words)


FIELD = re.compile(r"{(\w+)}")


class Rendered(NamedTuple):
    text: str
    template: str
    said: dict[str, str]  # each direction field as its phrase says it ("upward" where the fact's is "upward+leftward")


def said_direction(phrase: str) -> str:
    """The direction code a `dir_phrase` says: "to the left and upward" -> "leftward+upward"."""
    return "+".join(_WARD_WORD.get(w, w) for w in phrase.split(" and "))


def render(f: Fact, wording: str, task: str, desc: dict, rng: random.Random) -> list[Rendered]:
    """The question in each of the wording's templates that the fact's fields fill."""
    edges = desc.get("phase_edges")
    vals: dict[str, str] = {}
    for k, v in f.fields.items():
        if k == "phase":
            vals["when"] = phase_phrase(v, edges, task, rng)
        elif k in ("dir", "dir_a", "dir_b", "d1", "d2"):
            vals[k] = dir_phrase(v, rng, task)
        elif k == "rel":  # "toward" / "inward toward", "away from" / "outward, away from"
            vals[k] = v if rng.random() < 0.7 else {"toward": "inward toward", "away from": "outward, away from"}[v]
        else:
            vals[k] = v
    if "axis" in f.fields:
        vals["axis"] = f.fields["axis"]
    need = set(f.meta.get("need", ()))
    said = {k: said_direction(v) for k, v in vals.items() if k in ("dir", "dir_a", "dir_b", "d1", "d2")}
    return [Rendered(with_articles(t.format(**_as_adjectives(t, vals))), t, said)
            for t in SPECS[task].templates[wording]
            if need <= set(FIELD.findall(t)) <= set(vals)]


_ARTICLE = re.compile(r"\b([Aa]n?) (\w)")


def with_articles(text: str) -> str:
    """"a upward movement" -> "an upward movement" (and "an leftward" -> "a leftward") once slots are filled."""
    def article(m: re.Match) -> str:
        word = "an" if m.group(2).lower() in "aeiou" else "a"
        return f"{word.capitalize() if m.group(1)[0] == 'A' else word} {m.group(2)}"
    return _ARTICLE.sub(article, text)


# a direction slot used as an adjective ("its {dir_a} motion", "the {b}'s {dir_b} movement") takes "leftward", never
# "to the left" ("its to the left motion")
_ADJECTIVE_SLOT = re.compile(r"{(dir|dir_a|dir_b|d1|d2)} (?:motion|movement|shift|turn|sway|lean|tilt)s?\b")


def _as_adjectives(template: str, vals: dict[str, str]) -> dict[str, str]:
    slots = set(_ADJECTIVE_SLOT.findall(template))
    return {k: " and ".join(_WARD_WORD.get(w, w) for w in v.split(" and ")) if k in slots else v
            for k, v in vals.items()}


