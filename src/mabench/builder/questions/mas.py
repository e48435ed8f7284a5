"""MAS, multi-part action sequence: which part starts first (named by the direction it set off in), the
order of two parts' movements by the phases they fall in, and the order of one part's own movements."""

from __future__ import annotations

from mabench.builder.askable import QA_MARGIN, clear
from mabench.builder.questions.common import (
    OPPOSITE,
    Fact,
    first_direction,
    one_per_question,
    onset_direction,
    same_limb,
    still_parts,
)
from mabench.builder.questions.events import mas_event_facts, mas_hold_facts
from mabench.builder.questions.spec import TaskSpec
from mabench.motion.descriptors import LEAD_S, MOVE, MOVING_PART, visible_order
from mabench.taxonomy import BODY_PARTS, PHASES

TEMPLATES: dict[str, tuple[str, ...]] = {
    "MAS": (
        "Did the {a} start moving before the {b} began moving?",
        "Did the {a} begin moving before the {b}?",
        "Did the {a} begin its movement before the {b} started moving?",
        "Did the {a}'s movement begin before the {b}'s movement?",
        "Did the {a} move before the {b} did?",
        "Did the {a} start its motion before the {b} started its motion?",
    ),
    "MAS_DIR": (  # the plain "begin / start moving X before ... began / started moving Y" is MA-Bench's commonest
        "Did the {a} begin moving {dir_a} before the {b} started moving {dir_b}?",
        "Did the {a} begin moving {dir_a} before the {b} began moving {dir_b}?",
        "Did the {a} start moving {dir_a} before the {b} began moving {dir_b}?",
        "Did the {a} start moving {dir_a} before the {b} started moving {dir_b}?",
        "Did the {a}'s {dir_a} movement begin before the {b}'s {dir_b} movement?",
        "Did the {a} start its {dir_a} motion before the {b} began its {dir_b} motion?",
        "Did the {a} start moving {dir_a} before the {b} started its {dir_b} shift?",
        "Did the {a} begin its {dir_a} movement before the {b} began moving {dir_b}?",
        "Did the {a}'s {dir_a} shift occur before the {b}'s {dir_b} movement?",
        "Did the {a}'s {dir_a} motion happen before the {b} began moving {dir_b}?",
    ),
    "MAS_DIR1": (  # one of the two movements named
        "Did the {a} begin moving before the {b} started moving {dir_b}?",
        "Did the {a} start its movement before the {b}'s {dir_b} movement began?",
        "Did the {a} move before the {b} began its {dir_b} motion?",
        "Did the {a} begin moving {dir_a} before the {b} started moving?",
        "Did the {a} start moving {dir_a} before the {b} began to move?",
        "Did the {a}'s {dir_a} movement begin before the {b} started its motion?",
        "Did the {a} move {dir_a} before the {b} began its movement?",
    ),
    # the order of the clip's movement events (`events.mas_event_facts`)
    "MAS_EVENT": (
        "Did the {a} start {doing_a} before the {b} started {doing_b}?",
        "Did the {a} begin {doing_a} before the {b} began {doing_b}?",
        "Was the {a} already {doing_a} before the {b} started {doing_b}?",
        "Did the {a} start {doing_a} before the {b} began {doing_b}?",
        "Did the {a} begin {doing_a} before the {b} started {doing_b}?",
    ),
    "MAS_RETURN": (
        "Did the {part} {act1} before {then}?",
        "Did the {part} first {act1} and only then start {then}?",
        "Does the {part} {act1} before it starts {then}?",
        "Did the {part} {act1} first, before {then}?",
        "Did the {part} {act1} and then start {then}?",
    ),
    "MAS_HOLD": (
        "Did the {part} {act} and then hold still afterwards?",
        "After the {part} began to {act}, did it stay in that position?",
        "Did the {part} first {act} and then remain there afterwards?",
        "Did the {part} {act} and stay there afterwards?",
        "Once the {part} had begun to {act}, did it keep still in that position afterwards?",
    ),
    "MAS_SEQ": (
        "Did the {part} move {d1} before it moved {d2}?",
        "Did the {part}'s {d1} movement begin before its {d2} movement?",
        "Did the {part} start moving {d1} before it started moving {d2}?",
        "Did the {part}'s {d1} shift occur before its {d2} shift?",
        "Did the {part} begin its {d1} movement before its {d2} movement?",
    ),
}


STILL_DIRECTIONS = ("upward", "downward", "leftward", "rightward")


def _still_first(desc: dict, candidates) -> list[Fact]:
    """A part that never moves did not start before a moving one: a true No."""
    out = []
    # still as `still_parts` says: under half the clip's moving threshold (which follows the clip's floor)
    margin = 0.5 * desc.get("floor", {}).get("moving_at", MOVING_PART)
    for p_still in still_parts(desc, candidates):
        for p_move in desc.get("ranking", [])[:2]:
            if same_limb(p_still, p_move):
                continue
            db = first_direction(desc["parts"][p_move])
            base = {"kind": "order", "parts": [p_still, p_move], "phase": None, "relation": "never moves",
                    "value": desc["parts"][p_still]["amplitude"], "margin": margin}
            out.append(Fact("MAS_STILL", {"a": p_still, "b": p_move, **({"dir_b": db} if db else {})}, "No", base))
            # a part that never moves began no movement in any direction: MA-Bench's usual order question names
            # both parts' directions ("did A begin moving up before B began moving left?")
            # (`need`: only wordings that say the direction, else each would repeat the direction-less ones)
            out += [Fact("MAS_STILL", {"a": p_still, "b": p_move, "dir_a": da, "dir_b": db}, "No",
                         {**base, "need": ("dir_a", "dir_b")}) for da in STILL_DIRECTIONS if db]
            # ... or the still part's only ("did A begin moving up before B started moving?")
            out += [Fact("MAS_STILL", {"a": p_still, "b": p_move, "dir_a": da}, "No", {**base, "need": ("dir_a",)})
                    for da in STILL_DIRECTIONS]
    return out


def _order_with_directions(desc: dict, a: str, b: str, answer: str, base: dict, together: bool = False) -> list[Fact]:
    """"Did the {a} begin moving {dir_a} before the {b} began moving {dir_b}?" with the directions the parts have
    (asked only in wordings that name those it has); none without either. The {a}, which starts first or with the
    {b} (`together`), is named only by the direction it set off in (`onset_direction`); the later {b} of an order
    may be named by its first direction whenever that began, as its directed movement cannot precede its onset;
    two that start together are both named by their onset directions."""
    parts, edges = desc["parts"], desc.get("phase_edges")
    da = onset_direction(parts[a], edges)
    db = onset_direction(parts[b], edges) if together else first_direction(parts[b])
    dirs = {k: d for k, d in (("dir_a", da), ("dir_b", db)) if d}
    if not dirs:
        return []
    meta = {**base, "parts": [a, b], "direction": _order_direction(dirs)}
    if len(dirs) == 1:
        meta["need"] = tuple(dirs)
    return [Fact("MAS_DIR", {"a": a, "b": b, **dirs}, answer, meta)]


def _order_direction(fields: dict[str, str]) -> str:
    """An order fact's `meta.direction`: its parts' named directions in order, each axis its own ("upward/leftward")."""
    return "/".join(fields[k] for k in ("dir_a", "dir_b") if k in fields).replace("+", "/")


def _swap(facts: list[Fact]) -> list[Fact]:
    """The same order facts with their two parts (and each part's direction) exchanged."""
    other = {"a": "b", "b": "a", "dir_a": "dir_b", "dir_b": "dir_a"}
    out = []
    for f in facts:
        fields = {other[k]: v for k, v in f.fields.items()}
        meta = {**f.meta, "parts": f.meta["parts"][::-1], "direction": _order_direction(fields)}
        if "need" in f.meta:
            meta["need"] = tuple(other[k] for k in f.meta["need"])
        out.append(Fact(f.family, fields, f.answer, meta))
    return out


def mas_facts(desc: dict) -> list[Fact]:
    out = []
    parts = desc["parts"]
    for o in desc.get("order", []):
        a, b, rel = o["a"], o["b"], o["relation"]
        if rel == "unclear" or same_limb(a, b):
            continue
        base = {"kind": "order", "parts": [a, b], "phase": None, "relation": rel, "value": o["gap_s"]}
        if rel in ("before", "after") and not visible_order(o):
            continue
        if rel in ("before", "after"):
            first, second = (a, b) if rel == "before" else (b, a)
            base = {**base, "margin": 0.2}
            out.append(Fact("MAS", {"a": first, "b": second}, "Yes", {**base, "parts": [first, second]}))
            out.append(Fact("MAS", {"a": second, "b": first}, "No", {**base, "parts": [second, first],
                                                                    "contrast": "swapped order"}))
            out += _order_with_directions(desc, first, second, "Yes", base)
            # the swapped No: "did the {second} begin moving X before the {first} began moving Y?" - the {first}
            # (now the question's b) set off first, so it is the one named by its onset direction
            out += _swap(_order_with_directions(desc, first, second, "No", {**base, "contrast": "swapped order"}))
        elif rel == "simultaneous":
            # "neither started first" with a margin, as an order has one: onsets 0.19 s apart are together by the
            # descriptors (under LEAD_S) but too near an order to answer No to it
            if o["gap_s"] is not None and abs(o["gap_s"]) > LEAD_S / QA_MARGIN:
                continue
            out.append(Fact("MAS", {"a": a, "b": b}, "No", {**base, "contrast": "they start together"}))
            out.append(Fact("MAS", {"a": b, "b": a}, "No", {**base, "parts": [b, a],
                                                            "contrast": "they start together"}))
            # MA-Bench names the movements in nine of ten order questions; two that start together started
            # neither first, in whatever direction each went
            for x, y in ((a, b), (b, a)):
                out += _order_with_directions(desc, x, y, "No", {**base, "contrast": "they start together"}, True)
    # (a part that never moves did not start before anything: the fallback, `_still_first`)
    # the order of one part's own movements across phases (up in the early phase, down in the late one)
    for part in desc.get("ranking", [])[:4]:
        seq = [(k, parts[part]["phases"][ph][ax]) for k, ph in enumerate(PHASES) for ax in ("vertical", "horizontal")
               if parts[part]["phases"][ph][ax] in OPPOSITE and clear(parts[part]["phases"][ph], ax)]
        # a movement and its return (up, later down): across axes a diagonal path makes order fragile
        for (k1, d1), (k2, d2) in ((x, y) for x in seq for y in seq if x[0] < y[0] and y[1] == OPPOSITE[x[1]]):
            base = {"kind": "sequence", "parts": [part], "phase": f"{PHASES[k1]}/{PHASES[k2]}",
                    "direction": f"{d1}/{d2}", "margin": MOVE}
            out.append(Fact("MAS_SEQ", {"part": part, "d1": d1, "d2": d2}, "Yes", base))
            out.append(Fact("MAS_SEQ", {"part": part, "d1": d2, "d2": d1}, "No",
                            {**base, "direction": f"{d2}/{d1}", "contrast": "swapped order"}))
    return one_per_question(out + phase_order_facts(desc))


def _phase_moves(rec: dict) -> list[tuple[int, str, str]]:
    """(phase index, axis, direction) of every movement of a part that clears QA_MARGIN."""
    return [(k, ax, rec["phases"][ph][ax]) for k, ph in enumerate(PHASES) for ax in ("vertical", "horizontal")
            if rec["phases"][ph][ax] in OPPOSITE and clear(rec["phases"][ph], ax)]


# In a phase called still along an axis, a part may still drift toward a direction by up to its threshold;
# an order by phases needs the later part quieter than this share of the threshold until its own phase.
QUIET = 0.5


def _toward(phase: dict, direction: str) -> float | None:
    """The phase's displacement toward `direction` (torso lengths; negative: away), None when its direction
    was read off orientation / posture signals rather than positions."""
    if phase.get("margin", MOVE) is None:
        return None
    d = phase["dx"] if direction in ("leftward", "rightward") else phase["dy"]
    return d if direction in ("rightward", "upward") else -d


def _drifts(phase: dict, direction: str) -> bool:
    """Whether the phase may hold a movement toward `direction`: QUIET x its threshold or more that way, or a
    direction read off signals (no displacement to tell)."""
    v = _toward(phase, direction)
    return v is None or v >= QUIET * (phase.get("margin") or MOVE)


def phase_order_facts(desc: dict) -> list[Fact]:
    """The order of two parts' movements told by the phases they fall in: the {a} moved {dir_a} in an earlier
    phase, and the {b} made no movement toward {dir_b} (under QUIET x its threshold, every phase) until a later
    phase, where it moved {dir_b}. Both starts (onsets) may coincide - the hands start together, one rises
    early, the other drops late - so these are true orders where `mas_facts`' onset orders have none. The
    {a} must not move toward {dir_a} again once the {b}'s movement has begun; an onset order that says the {b}
    started first rules the fact out, and parts whose directions came from signals are not asked. Asked only
    in wordings that name both directions (`need`): with one direction left out, the question would be about
    onsets, which these facts do not measure."""
    out = []
    parts = desc["parts"]
    ranked = [p for p in desc.get("ranking", [])[:4] if parts[p].get("visible", True)]
    led = {(o["b"], o["a"]) if o["relation"] == "before" else (o["a"], o["b"]) for o in desc.get("order", [])
           if o["relation"] in ("before", "after")}  # (later, earlier) onset pairs
    for a in ranked:
        for b in ranked:
            if a == b or same_limb(a, b) or (a, b) in led:
                continue
            ra, rb = parts[a]["phases"], parts[b]["phases"]
            for k1, _, da in _phase_moves(parts[a]):
                for k2, _, db in _phase_moves(parts[b]):
                    if k2 <= k1 or _toward(ra[PHASES[k1]], da) is None or \
                            any(_drifts(rb[PHASES[k]], db) for k in range(k2)) or \
                            any(_drifts(ra[PHASES[k]], da) for k in range(k2, len(PHASES))):
                        continue
                    base = {"kind": "sequence", "phase": f"{PHASES[k1]}/{PHASES[k2]}", "margin": MOVE,
                            "need": ("dir_a", "dir_b")}
                    out.append(Fact("MAS_PHASE", {"a": a, "b": b, "dir_a": da, "dir_b": db}, "Yes",
                                    {**base, "parts": [a, b], "direction": f"{da}/{db}"}))
                    out.append(Fact("MAS_PHASE", {"a": b, "b": a, "dir_a": db, "dir_b": da}, "No",
                                    {**base, "parts": [b, a], "direction": f"{db}/{da}", "contrast": "swapped order"}))
    return out


def mas_all(desc: dict) -> list[Fact]:
    return mas_event_facts(desc) + mas_hold_facts(desc) + mas_facts(desc)


# --- each fact kind's answer from the synthetic figure's exact truth (`truth_check`) ---

def _order_truth(m: dict, answer: str, truth: dict) -> str | None:
    """Which part began first (the onsets; a named direction the starting part did not take makes the question
    wrong), or, against a part that never moves, No."""
    from mabench.builder.questions.truth_check import order_answer
    if m.get("family") == "MAS_STILL":
        moving = truth["facts"]["moving"][m["parts"][0]]
        return None if moving is None else ("No" if moving is False else None)
    return order_answer(m, answer, truth)


def _sequence_truth(m: dict, answer: str, truth: dict) -> str | None:
    """Two parts: the first's d1 movement in phases all before the second's d2 movement (Yes), or all after (No).
    One part: its d1 movement in a phase before one of its d2 movement."""
    dirs, parts = truth["facts"]["directions"], m["parts"]
    d1, d2 = m["directions"]
    def phases_of(part: str, d: str) -> list[int]:
        return [k for k, p in enumerate(PHASES) for ax in ("horizontal", "vertical") if dirs[part][p][ax] == d]
    if len(parts) == 2:
        ka, kb = phases_of(parts[0], d1), phases_of(parts[1], d2)
        if ka and kb and max(ka) < min(kb):
            return "Yes"
        if ka and kb and max(kb) < min(ka):
            return "No"
        return None
    at1, at2 = phases_of(parts[0], d1), phases_of(parts[0], d2)
    if at1 and at2:
        return "Yes" if min(at1) < max(at2) else "No"
    return None


TRUTH = {"order": _order_truth, "sequence": _sequence_truth}


SPEC = TaskSpec(
    task="MAS", facts=mas_all, fallback=lambda d: _still_first(d, BODY_PARTS), templates=TEMPLATES,
    wording={"MAS": ("MAS",), "MAS_DIR": ("MAS_DIR", "MAS_DIR1"), "MAS_PHASE": ("MAS_DIR",),
             "MAS_STILL": ("MAS", "MAS_DIR", "MAS_DIR1"), "MAS_SEQ": ("MAS_SEQ",), "MAS_EVENT": ("MAS_EVENT",),
             "MAS_RETURN": ("MAS_RETURN",), "MAS_HOLD": ("MAS_HOLD",)},
    mix={"MAS_DIR": 0.40, "MAS_EVENT": 0.20, "MAS_DIR1": 0.15, "MAS": 0.09, "MAS_SEQ": 0.02, "MAS_RETURN": 0.06,
         "MAS_HOLD": 0.08},
    shared_mix=(("MAS_DIR", "MAS_EVENT"), ("MAS_SEQ", "MAS_RETURN", "MAS_HOLD")),
    phase_nouns=(("phase", 1),), to_the_side_share=0.05, one_of_two_share=0.5,
    w_task=0.15, w_template=0.5, w_grams=1.0, yes_centre=0.47, pull_cap=20, truth=TRUTH,
)
