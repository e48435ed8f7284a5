"""Phrasing families: a question with its content (parts, directions, phases, labels, numbers, time
spans) replaced by slots, so that questions asked from the same template fall together.

`slot_text("In the late phase, does the Left Hand approach the Torso?")` gives
`"in the {phase} phase does the {part} approach the {part}"`; `slot_values` keeps what was replaced
({"part": ["left hand", "torso"], "phase": ["late"]}), which the style comparison counts.

Everything comes from `mabench.taxonomy`; only the direction words are listed here, because the
taxonomy has no direction list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from mabench.taxonomy import BODY_PARTS, COARSE_CLASSES, FINE_LABELS, PHASE_OF_WORD, normalize_label

# Direction words as questions write them (canonical first). "left"/"right" alone are directions
# only once the part names (left hand, ...) have been taken out, which the slot order ensures.
DIRECTIONS: tuple[str, ...] = (
    "to the left", "to the right", "leftward", "rightward", "leftwards", "rightwards", "upward", "downward",
    "upwards", "downwards", "forward", "backward", "forwards", "backwards", "inward", "outward", "sideways",
    "up", "down", "left", "right",
)
# Phase words: the taxonomy's ("start", "first", "end" are left alone: questions use them as verbs and for
# order, not phases)
PHASE_WORDS: tuple[str, ...] = tuple(PHASE_OF_WORD)
PART_SYNONYMS: tuple[str, ...] = ("forearm", "forearms", "shoulder", "shoulders", "body", "trunk", "arm", "arms",
                                  "leg", "legs", "knee", "knees", "hands", "feet", "elbow", "elbows", "wrist", "wrists")

_TIME = re.compile(r"\b\d+(?:\.\d+)?\s*(?:(?:-|–|to|and)\s*\d+(?:\.\d+)?\s*)?(?:s|sec|secs|seconds?|ms|frames?)\b")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?%?")
_OPTION = re.compile(r"^\s*[A-G]\s*[.):]\s*", re.MULTILINE)
_SPACE = re.compile(r"\s+")
_PUNCT = re.compile(r"[^\w{}' ]+")


def _alternation(terms) -> re.Pattern:
    # longest first, so "left upper arm" wins over "left" and "scratching or touching face" over "face"
    ordered = sorted({t.lower() for t in terms}, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(re.escape(t).replace(r"\ ", r"[\s-]+") for t in ordered) + r")\b")


@lru_cache(maxsize=1)
def _patterns() -> tuple[tuple[str, re.Pattern], ...]:
    # labels before parts ("shaking head" is a label, "head" a part), parts before directions
    labels = {normalize_label(x) for x in FINE_LABELS} | {x.lower() for x in FINE_LABELS}
    coarse = {x.lower() for x in COARSE_CLASSES} | {normalize_label(x) for x in COARSE_CLASSES}
    return (
        ("label", _alternation(labels)),
        ("part", _alternation((*BODY_PARTS, *PART_SYNONYMS))),
        ("class", _alternation(c for c in coarse if c not in ("head", "body"))),  # bare "head" is a part
        ("dir", _alternation(DIRECTIONS)),
        ("phase", _alternation(PHASE_WORDS)),
    )


@dataclass(frozen=True)
class Slotted:
    text: str  # the family key
    values: dict[str, list[str]] = field(default_factory=dict)


def slot(question: str, stem_only: bool = True) -> Slotted:
    """The family of a question text and the values its slots took.

    Options (CMAR/FMAR lines "A. Label") are dropped when `stem_only`: the family is the stem's.
    """
    text = question.split("\n", 1)[0] if stem_only else _OPTION.sub("", question)
    text = text.lower().replace("’", "'")
    values: dict[str, list[str]] = {}

    def sub(kind: str, pattern: re.Pattern, s: str) -> str:
        def repl(m: re.Match) -> str:
            values.setdefault(kind, []).append(_SPACE.sub(" ", m.group(0).replace("-", " ")))
            return " {" + kind + "} "
        return pattern.sub(repl, s)

    text = sub("time", _TIME, text)
    for kind, pattern in _patterns():
        text = sub(kind, pattern, text)
    text = sub("num", _NUMBER, text)
    text = _SPACE.sub(" ", _PUNCT.sub(" ", text)).strip()
    return Slotted(text, values)


def slot_spans(question: str) -> list[tuple[int, int, str]]:
    """(start, end, kind) of each slot value in `question` (its first line), in text order: where `slot` finds
    its values, in the same order of kinds, so that a value can be put back in place of another."""
    text = question.split("\n", 1)[0]
    work = text.lower().replace("’", "'")
    found: list[tuple[int, int, str]] = []
    for kind, pattern in (("time", _TIME), *_patterns()):
        for m in pattern.finditer(work):
            found.append((m.start(), m.end(), kind))
        work = pattern.sub(lambda m: "#" * len(m.group(0)), work)  # taken: later kinds must not match inside
    return sorted(found)


_CODE_SUFFIX = re.compile(r"\s*[-–—:(\[]\s*[A-G]\d{1,2}\s*[)\]]?\s*$", re.IGNORECASE)


def has_code_suffix(option_text: str) -> bool:
    """An option written with its MA-52 code ("Illustrative gestures - C1")."""
    return bool(_CODE_SUFFIX.search(option_text))


def family(question: str) -> str:
    return slot(question).text
