"""The reversed truth: the answer a built closed question would have if its clip ran backwards.

Played backwards, a clip's phases mirror (early <-> late, the middle stays the middle), every direction
flips (up <-> down, left <-> right, approach <-> apart), and a part starts moving when it stopped moving
forwards. Each rule below re-reads the question's fact (its `meta`) in the clip's descriptor under that
mirror, and is checked first on the clip as it runs forwards: a rule that does not give the question's own
answer there does not describe that question, and the reversed truth stays unset. Unset too where the
descriptor cannot tell it: a label (a raised hand reversed is a lowered one), a rotation's side, a premise
("while the head moved up ...") that is false backwards, an order whose onsets the reversal turns into
offsets that were not measured apart. `mabench report --controls` scores `reverse` runs against it.
"""

from __future__ import annotations

from typing import Any

from mabench.builder.askable import askable_trend, clear
from mabench.motion.descriptors import LEAD_S, TREND

MIRROR = {"early": "late", "middle": "middle", "late": "early"}
FLIP = {"upward": "downward", "downward": "upward", "leftward": "rightward", "rightward": "leftward",
        "approach": "apart", "apart": "approach", "steady": "steady", "none": "none",
        "back-and-forth": "back-and-forth"}
MOVES = ("upward", "downward", "leftward", "rightward")
# offsets this much further apart than onsets must be to count as an order (LEAD_S) are ordered backwards
OFFSET_ORDER_S = 1.5 * LEAD_S


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _label(desc: dict, part: str, phase: str, axis: str, backwards: bool) -> str | None:
    """A part's direction label along `axis` in `phase` of the clip played forwards or backwards; None where the
    descriptor did not decide it (unclear), or decided a direction too close to its margin for the builder to
    ask about it (`askable.clear`): such a phase settles no answer."""
    try:
        ph = desc["parts"][part]["phases"][MIRROR[phase] if backwards else phase]
        lab = ph[axis]
    except (KeyError, TypeError):
        return None
    if lab not in FLIP or (lab in MOVES and not clear(ph, axis)):
        return None
    return FLIP[lab] if backwards else lab


def _trend(desc: dict, a: str, b: str, phase: str, backwards: bool) -> str | None:
    """A pair's trend in `phase` forwards or backwards; None where it is not stated clearly enough to ask
    (`askable.askable_trend`)."""
    pairs = desc.get("pairs", {})
    pair = pairs.get(f"{a}|{b}") or pairs.get(f"{b}|{a}")
    if pair is None:
        return None
    ph = pair["phases"][MIRROR[phase] if backwards else phase]
    if ph.get("trend") not in ("approach", "apart", "steady") or \
            not askable_trend(ph, desc.get("floor", {}).get("trend", TREND)):
        return None
    return FLIP[ph["trend"]] if backwards else ph["trend"]


def _direction(meta: dict, desc: dict, backwards: bool) -> str | None:
    part, phase, axis, asked = meta["parts"][0], meta.get("phase"), meta.get("axis"), meta.get("direction")
    if not isinstance(phase, str) or phase not in MIRROR or axis not in ("horizontal", "vertical"):
        return None
    lab = _label(desc, part, phase, axis, backwards)
    if lab is None:
        return None
    if asked == "back-and-forth":
        return _yes(lab == "back-and-forth")
    if lab == "back-and-forth":
        return None  # a net direction asked of a phase that goes both ways
    return _yes(lab == asked)


def _pair_directions(meta: dict, desc: dict, backwards: bool) -> str | None:
    a, b = meta["parts"]
    phase, axis = meta.get("phase"), meta.get("axis")
    if not isinstance(phase, str) or phase not in MIRROR or not isinstance(axis, str):
        return None
    la, lb = _label(desc, a, phase, axis, backwards), _label(desc, b, phase, axis, backwards)
    if la is None or lb is None:
        return None
    if meta["kind"] == "same direction":
        return _yes(la == lb == meta.get("direction"))
    if meta["kind"] == "opposite directions":
        return _yes(la in MOVES and lb in MOVES and la != lb)
    # "while": "while the {a} moved {dir_a}, did the {b} move {dir_b}": the premise must hold in this run
    if len(meta.get("directions") or []) != 2:
        return None
    dir_a, dir_b = meta["directions"]
    if la != dir_a:
        return None
    return _yes(lb == dir_b)


def _order(meta: dict, desc: dict, backwards: bool) -> str | None:
    """An onset order without named directions: backwards, a part starts where it stopped forwards."""
    if meta.get("relation") == "never moves":
        return "No"  # a part that never moves starts before nothing, either way
    if meta.get("directions") or meta.get("named_directions"):
        return None  # "began moving upward before ...": the directions flip, the premise with them
    a, b = meta["parts"]
    parts = desc["parts"]
    if backwards:
        ends = parts[a].get("offset"), parts[b].get("offset")
        if None in ends:
            return None
        gap = ends[0] - ends[1]  # backwards, the later end is the earlier start
        if gap >= OFFSET_ORDER_S:
            return "Yes"
        if gap <= -OFFSET_ORDER_S:
            return "No"
        return None  # ends too close to order: not measured apart
    rel = meta.get("relation")
    if rel in ("before", "after", "simultaneous"):
        return None if rel == "simultaneous" else "Yes" if meta.get("contrast") != "swapped order" else "No"
    return None


def _answer(task: str, meta: dict[str, Any], desc: dict, backwards: bool) -> str | None:
    kind = meta.get("kind")
    if kind in ("amplitude", "stillness"):
        return None if backwards else "keep"  # the same forwards and backwards: the answer stands
    if kind == "direction":
        return _direction(meta, desc, backwards)
    if kind in ("same direction", "opposite directions", "while"):
        return _pair_directions(meta, desc, backwards)
    if kind == "pair trend" and meta.get("phase") in MIRROR and len(meta["parts"]) == 2:
        trend = _trend(desc, meta["parts"][0], meta["parts"][1], meta["phase"], backwards)
        return _yes(trend == meta.get("direction")) if trend is not None else None
    if kind == "order":
        return _order(meta, desc, backwards)
    if kind == "sequence" and len(meta.get("parts", [])) == 1 and len(meta.get("directions") or []) == 2:
        d1, d2 = meta["directions"]
        # one part's movement and its return (up, then down): backwards, the return reversed comes first (up),
        # then the movement reversed (down): the same words, the same answer
        return "keep" if FLIP.get(d1) == d2 and d1 != d2 else None
    if kind == "main direction" and meta.get("direction") in FLIP:
        return "main"
    return None


def reversed_answer(task: str, answer: str, meta: dict[str, Any], desc: dict) -> str | None:
    """"Yes" / "No" for a Yes/No question when the clip played backwards settles it, else None."""
    if answer not in ("Yes", "No") or not isinstance(meta, dict) or not meta.get("parts"):
        return None
    try:
        forwards = _answer(task, meta, desc, backwards=False)
        if forwards == "keep":
            return answer
        if forwards == "main":  # the net direction over the whole clip: backwards it is the opposite one
            if answer == "Yes":
                return "No"
            return "Yes" if meta.get("contrast") == "flipped direction" else None
        if forwards != answer:
            return None  # the rule does not reproduce the question's own answer: it is not this question's
        return _answer(task, meta, desc, backwards=True)
    except (KeyError, TypeError, ValueError, IndexError):
        return None
