"""QA generation: 12 questions per clip in the 8 MA-Bench tasks, from measured facts.

Every closed answer comes from a fact the descriptors stated (never one marked `unclear`), and
the fact travels with the question in `meta` (parts, phase, direction, the measured value and the
margin it cleared). Negatives are real contrasts: the opposite direction, the swapped order, the
other distance trend, a phase in which the part did not move that way.

Balance: Yes/No is balanced per task across the benchmark (each clip asks one of each where it
has both; otherwise the scarcer answer first), and the correct letter of CMAR / FMAR cycles through
the positions in shuffled blocks, so positions are uniform. Everything is seeded.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from mabench.build.captions import DIR_WORDS, Caption
from mabench.build.cues import CONFUSABLE
from mabench.motion.descriptors import MOVE, MOVING_PART, PAIRS, TREND, TRUNK_PAIRS, pair_name, visible_order
from mabench.taxonomy import (
    BODY_PARTS,
    COARSE_CLASSES,
    COARSE_FINE,
    FINE_TO_COARSE,
    PHASES,
    TASK_ORDER,
    TASKS,
    display_label,
)

QA_VERSION = "ma-qa-v1"
AMPLITUDE_RATIO = 1.5   # "moves more than": the larger amplitude must be this many times the smaller
QA_MARGIN = 1.3         # a direction is asked about only when it clears the descriptors' margin by this factor
OPPOSITE = {"upward": "downward", "downward": "upward", "leftward": "rightward", "rightward": "leftward"}

TEMPLATES: dict[str, tuple[str, ...]] = {
    "CMAR": (
        "What is the coarse-grained category of the micro action in this video clip?",
        "Please select the most appropriate coarse-grained label for the micro action in this video clip.",
        "Which body-level category does the micro-action in this video belong to?",
        "Choose the coarse-grained class that best describes the micro-action shown in the video.",
        "Which coarse-grained micro-action category fits this clip?",
    ),
    "FMAR": (
        "What is the fine-grained label of the micro action in this video?",
        "Please identify the exact fine-grained action category shown in this video.",
        "Which fine-grained micro-action does the person perform in this clip?",
        "Select the fine-grained label that best matches the micro-action in the video.",
        "Which of these fine-grained actions is shown in the video?",
    ),
    "SAD": (
        "Does the {part} move {dir} during the {phase} phase?",
        "In the {phase} phase of the video, does the {part} move {dir}?",
        "Is the {part}'s movement in the {phase} phase directed {dir}?",
        "During the {phase} segment of this micro-action, does the {part} travel {dir}?",
        "Looking at the {phase} phase, is the {part} moving {dir}?",
    ),
    "SAD_OSC": (
        "Does the {part} move back and forth {osc} during the {phase} phase?",
        "In the {phase} phase, does the {part} go {osc} and come back?",
        "During the {phase} phase, is the {part}'s movement a back-and-forth {osc}?",
        "Does the {part} swing {osc} in the {phase} phase of the video?",
        "In the {phase} segment, does the {part} move to and fro {osc}?",
    ),
    "MAD_SAME": (
        "During the {phase} phase, do the {a} and the {b} both move {dir}?",
        "In the {phase} phase, do the {a} and the {b} move {dir} at the same time?",
        "While the {a} moves {dir} in the {phase} phase, does the {b} also move {dir}?",
        "Do the {a} and the {b} simultaneously move {dir} during the {phase} segment?",
        "In the {phase} phase, are the {a} and the {b} both moving {dir}?",
    ),
    "MAD_WHILE": (
        "While the {a} moves {dir_a} in the {phase} phase, does the {b} simultaneously move {dir_b}?",
        "During the {phase} phase, as the {a} moves {dir_a}, does the {b} move {dir_b}?",
        "In the {phase} segment, does the {b} move {dir_b} while the {a} moves {dir_a}?",
        "At the time the {a} moves {dir_a} (the {phase} phase), is the {b} moving {dir_b}?",
        "Does the {b} move {dir_b} during the {phase} phase, while the {a} moves {dir_a}?",
    ),
    "MAD_OPP": (
        "In the {phase} phase, do the {a} and the {b} move in opposite {axis} directions?",
        "During the {phase} phase, does the {a} move {axis}ly opposite to the {b}?",
        "In the {phase} segment, are the {a} and the {b} moving in opposite {axis} directions?",
        "Do the {a} and the {b} move against each other {axis}ly in the {phase} phase?",
        "During the {phase} phase, is the {a}'s {axis} movement opposite in direction to the {b}'s?",
    ),
    "MAD_AMP": (
        "Does the {a} move more than the {b} in this clip?",
        "Is the {a}'s movement larger in amplitude than the {b}'s?",
        "Over the whole clip, does the {a} travel farther than the {b}?",
        "Is the {a} moving with a greater amplitude than the {b}?",
        "Compared with the {b}, does the {a} make the bigger movement?",
    ),
    "MAS": (
        "Does the {a} start moving before the {b}?",
        "Did the {a}'s movement begin earlier than the {b}'s?",
        "Is the {b} set in motion only after the {a} has started moving?",
        "Does the {a} move first, with the {b} following?",
        "Did the {a}'s movement happen before the {b}'s movement?",
    ),
    "MAS_DIR": (
        "Did the {a} move {dir_a} before the {b} started moving {dir_b}?",
        "Does the {a}'s {dir_a} movement start before the {b} begins to move {dir_b}?",
        "Did the {a} begin moving {dir_a} earlier than the {b} began moving {dir_b}?",
        "Is the {a}'s {dir_a} movement under way before the {b}'s {dir_b} movement starts?",
        "Does the {b} start moving {dir_b} only after the {a} has begun moving {dir_a}?",
    ),
    "MAS_SEQ": (
        "Does the {part} move {d1} before it moves {d2}?",
        "Is the {part}'s {d1} movement followed later by a movement {d2}?",
        "Does the {part} first move {d1} and only later {d2}?",
        "Does the {part}'s {d1} movement come before its {d2} movement?",
        "Does the {part} move {d2} only after having moved {d1}?",
    ),
    "MAS_SIM": (
        "Do the {a} and the {b} start moving at the same time?",
        "Do the {a} and the {b} begin their movements simultaneously?",
        "Is the onset of the {a}'s movement simultaneous with that of the {b}?",
        "Do the {a} and the {b} set off together?",
        "Does the {a} start moving at the same moment as the {b}?",
    ),
    "PPR": (
        "In the {phase} phase of the video, do the {A} and the {B} approach each other?",
        "During the {phase} phase, does the {A} noticeably approach the {B}?",
        "In the {phase} stage of the video, does the distance between the {A} and the {B} decrease?",
        "During the {phase} phase, do the {A} and the {B} get closer to each other?",
        "In the {phase} phase, does the {A} move towards the {B}?",
    ),
    "PPR_APART": (
        "In the {phase} phase of the video, do the {A} and the {B} move apart?",
        "During the {phase} phase, does the {A} move away from the {B}?",
        "In the {phase} stage, does the distance between the {A} and the {B} increase?",
        "During the {phase} phase, do the {A} and the {B} get farther from each other?",
        "In the {phase} phase, does the gap between the {A} and the {B} widen?",
    ),
    "PPR_STEADY": (
        "In the {phase} phase, does the distance between the {A} and the {B} stay about the same?",
        "During the {phase} phase, do the {A} and the {B} keep a constant distance from each other?",
        "In the {phase} stage of the video, is the gap between the {A} and the {B} unchanged?",
        "During the {phase} phase, do the {A} and the {B} neither approach nor move apart?",
        "In the {phase} phase, does the {A} stay at the same distance from the {B}?",
    ),
    "MAS_STILL": (
        "Does the {still} start moving before the {moving}?",
        "Did the {still}'s movement begin earlier than the {moving}'s?",
        "Does the {still} move first, with the {moving} following?",
        "Is the {moving} set in motion only after the {still} has started moving?",
        "Did the {still}'s movement happen before the {moving}'s movement?",
    ),
    "MADU": (
        "Describe the movements of each body part of the person in the video.",
        "Please describe in detail the movements of each part of the person's body in the video.",
        "Describe the person's movements in the video.",
        "Describe, part by part, how the person's body moves in this clip, including directions and timing.",
        "Give a detailed account of which body parts move in the video, in which direction and in what order.",
    ),
    "MARE": (
        "Based on the person's actions in the video, provide a detailed reasoning chain to infer the appropriate "
        "micro-action classification at both the coarse-grained and fine-grained levels.",
        "From the subject's behavior and movements in the video, present a clear step-by-step reasoning chain and "
        "identify the corresponding coarse- and fine-grained micro-action categories.",
        "Using the observed movements in the video, construct a detailed reasoning process and determine the "
        "correct micro-action labels for both coarse and fine granularity.",
        "Reason step by step from the visible movements to the micro-action's coarse-grained category and its "
        "fine-grained label.",
        "Explain which movements you observe, rule out similar actions, and conclude with the coarse-grained and "
        "fine-grained micro-action labels.",
    ),
}


@dataclass
class Fact:
    """One askable fact: a template family, its fields, the answer, and the evidence."""

    family: str
    fields: dict[str, str]
    answer: str                        # "Yes" / "No"
    meta: dict = field(default_factory=dict)

    @property
    def key(self) -> tuple:
        return (self.family, tuple(sorted(self.fields.items())))


def _title(part: str) -> str:
    return " ".join(w.capitalize() for w in part.split())


def sad_facts(desc: dict) -> list[Fact]:
    out = []
    parts = desc["parts"]
    for part in desc.get("ranking", [])[:6]:
        rec = parts[part]
        moves_in = {ax: {ph: rec["phases"][ph][ax] for ph in PHASES} for ax in ("horizontal", "vertical")}
        for ph in PHASES:
            p = rec["phases"][ph]
            for ax, value_key in (("horizontal", "dx"), ("vertical", "dy")):
                lab, val = p[ax], p[value_key]
                base = {"kind": "direction", "parts": [part], "phase": ph, "axis": ax, "value": val,
                        "margin": QA_MARGIN * MOVE}
                if lab in OPPOSITE and not _clear(p, ax):
                    continue  # stated, but too close to the margin to ask about
                if lab in OPPOSITE:
                    out.append(Fact("SAD", {"part": part, "phase": ph, "dir": DIR_WORDS[lab]}, "Yes",
                                    {**base, "direction": lab}))
                    out.append(Fact("SAD", {"part": part, "phase": ph, "dir": DIR_WORDS[OPPOSITE[lab]]}, "No",
                                    {**base, "direction": OPPOSITE[lab], "contrast": "flipped direction"}))
                elif lab == "none":
                    # still along this axis now, but moving that way in another phase: a timing contrast
                    elsewhere = {moves_in[ax][q] for q in PHASES if q != ph} & set(OPPOSITE)
                    for d in sorted(elsewhere):
                        out.append(Fact("SAD", {"part": part, "phase": ph, "dir": DIR_WORDS[d]}, "No",
                                        {**base, "direction": d, "contrast": "moves that way in another phase"}))
                elif lab == "back-and-forth":
                    osc = "from side to side" if ax == "horizontal" else "up and down"
                    out.append(Fact("SAD_OSC", {"part": part, "phase": ph, "osc": osc}, "Yes",
                                    {**base, "direction": "back-and-forth"}))
                if lab in OPPOSITE or lab == "none":
                    osc = "from side to side" if ax == "horizontal" else "up and down"
                    if any(moves_in[ax][q] == "back-and-forth" for q in PHASES if q != ph) or lab in OPPOSITE:
                        out.append(Fact("SAD_OSC", {"part": part, "phase": ph, "osc": osc}, "No",
                                        {**base, "direction": "back-and-forth", "contrast": f"{lab} instead"}))
        # a stroke repeated along one axis (a nod) is not one along the other (a shake): a true contrast
        rep = rec.get("repeated_axis")
        if rep:
            other = "horizontal" if rep == "vertical" else "vertical"
            osc = "from side to side" if other == "horizontal" else "up and down"
            for ph in PHASES:
                if rec["phases"][ph][rep] == "back-and-forth":
                    out.append(Fact("SAD_OSC", {"part": part, "phase": ph, "osc": osc}, "No",
                                    {"kind": "direction", "parts": [part], "phase": ph, "axis": other,
                                     "direction": "back-and-forth", "contrast": f"repeated along the {rep} axis"}))
    return out


def _clear(phase: dict, axis: str) -> bool:
    """The phase's net change along `axis` clears QA_MARGIN x the margin it was decided with (the move
    threshold, or the clip's flow floor for a head seen by flow). Directions read off orientation or
    posture signals (margin None) were decided against their own floors with a margin already."""
    margin = phase.get("margin", MOVE)
    if margin is None:
        return True
    return abs(phase["dx" if axis == "horizontal" else "dy"]) >= QA_MARGIN * margin


def mad_facts(desc: dict) -> list[Fact]:
    out = []
    parts = desc["parts"]
    moving = desc.get("ranking", [])[:5]
    for i, a in enumerate(moving):
        for b in moving[i + 1:]:
            if _same_limb(a, b):
                continue  # "the hand and the lower arm move together" is trivially true
            for ph in PHASES:
                for ax in ("horizontal", "vertical"):
                    la, lb = parts[a]["phases"][ph][ax], parts[b]["phases"][ph][ax]
                    if (la in OPPOSITE and not _clear(parts[a]["phases"][ph], ax)) or \
                            (lb in OPPOSITE and not _clear(parts[b]["phases"][ph], ax)):
                        continue
                    base = {"kind": "", "parts": [a, b], "phase": ph, "axis": ax, "margin": MOVE,
                            "value": [parts[a]["phases"][ph]["dx" if ax == "horizontal" else "dy"],
                                      parts[b]["phases"][ph]["dx" if ax == "horizontal" else "dy"]]}
                    if la in OPPOSITE and lb in OPPOSITE:
                        same = la == lb
                        out.append(Fact("MAD_SAME", {"a": a, "b": b, "phase": ph, "dir": DIR_WORDS[la]},
                                        "Yes" if same else "No", {**base, "kind": "same direction", "direction": la}))
                        out.append(Fact("MAD_OPP", {"a": a, "b": b, "phase": ph, "axis": ax},
                                        "No" if same else "Yes", {**base, "kind": "opposite directions",
                                                                  "direction": f"{la}/{lb}"}))
                    if la in OPPOSITE and (lb in OPPOSITE or lb == "none"):
                        for d in ([lb] if lb in OPPOSITE else []) + ([OPPOSITE[lb]] if lb in OPPOSITE else []):
                            out.append(Fact("MAD_WHILE", {"a": a, "b": b, "phase": ph, "dir_a": DIR_WORDS[la],
                                                          "dir_b": DIR_WORDS[d]}, "Yes" if d == lb else "No",
                                            {**base, "kind": "while", "direction": f"{la}/{d}"}))
                        if lb == "none":
                            for d in _directions_elsewhere(parts[b], ph, ax):
                                out.append(Fact("MAD_WHILE", {"a": a, "b": b, "phase": ph, "dir_a": DIR_WORDS[la],
                                                              "dir_b": DIR_WORDS[d]}, "No",
                                                {**base, "kind": "while", "direction": f"{la}/{d}",
                                                 "contrast": "b moves that way in another phase"}))
    amps = {p: parts[p]["amplitude"] for p in parts}
    out += _against_still(desc, ("torso", "head", "left hand", "right hand"))
    for i, a in enumerate(moving):
        for b in list(moving[i + 1:]) + [p for p in ("head", "torso") if p not in moving]:
            if _same_limb(a, b):
                continue
            hi, lo = max(amps[a], amps[b]), min(amps[a], amps[b])
            if parts[a].get("source", "keypoints") != parts[b].get("source", "keypoints"):
                continue  # amplitudes from flow, signals and keypoints are not on one scale
            if hi >= AMPLITUDE_RATIO * max(lo, 1e-6):
                base = {"kind": "amplitude", "parts": [a, b], "phase": None, "value": [amps[a], amps[b]],
                        "margin": AMPLITUDE_RATIO}
                out.append(Fact("MAD_AMP", {"a": a, "b": b}, "Yes" if amps[a] > amps[b] else "No", base))
                out.append(Fact("MAD_AMP", {"a": b, "b": a}, "Yes" if amps[b] > amps[a] else "No",
                                {**base, "parts": [b, a], "value": [amps[b], amps[a]]}))
    return out


def _still_parts(desc: dict, candidates) -> list[str]:
    """Parts that stay still: not moving, and under half the clip's moving threshold (so not a movement
    just short of it)."""
    moving_at = desc.get("floor", {}).get("moving_at", MOVING_PART)
    return [p for p in candidates if not desc["parts"][p]["moving"] and desc["parts"][p].get("visible", True)
            and desc["parts"][p]["amplitude"] <= 0.5 * moving_at]


def _against_still(desc: dict, candidates) -> list[Fact]:
    """A moving part against a part that stays still: "does the still one move more?" is a true No,
    whatever units the moving one was measured in (keypoints, flow or signals)."""
    out = []
    parts = desc["parts"]
    moving_at = desc.get("floor", {}).get("moving_at", MOVING_PART)
    for a in desc.get("ranking", [])[:2]:
        for b in _still_parts(desc, candidates):
            if _same_limb(a, b):
                continue
            amps = [parts[a]["amplitude"], parts[b]["amplitude"]]
            base = {"kind": "amplitude", "parts": [a, b], "phase": None, "value": amps,
                    "margin": 0.5 * moving_at, "contrast": "b stays still"}
            out.append(Fact("MAD_AMP", {"a": a, "b": b}, "Yes", base))
            out.append(Fact("MAD_AMP", {"a": b, "b": a}, "No", {**base, "parts": [b, a], "value": amps[::-1]}))
    return out


def _still_first(desc: dict, candidates) -> list[Fact]:
    """A part that never moves did not start before a moving one: a true No."""
    out = []
    for p_still in [p for p in candidates if not desc["parts"][p]["moving"] and desc["parts"][p].get("visible", True)
                    and desc["parts"][p]["amplitude"] < 0.5 * MOVE]:
        for p_move in desc.get("ranking", [])[:2]:
            if _same_limb(p_still, p_move):
                continue
            out.append(Fact("MAS_STILL", {"still": p_still, "moving": p_move}, "No",
                            {"kind": "order", "parts": [p_still, p_move], "phase": None, "relation": "never moves",
                             "value": desc["parts"][p_still]["amplitude"], "margin": 0.5 * MOVE}))
    return out


def _directions_elsewhere(rec: dict, ph: str, ax: str) -> list[str]:
    return sorted({rec["phases"][q][ax] for q in PHASES if q != ph} & set(OPPOSITE))


def _same_limb(a: str, b: str) -> bool:
    """Two segments of one limb (left hand / left lower arm) move as one; comparing them says little."""
    sa, sb = a.split(" ", 1), b.split(" ", 1)
    if len(sa) < 2 or len(sb) < 2 or sa[0] != sb[0]:
        return False
    arm = {"upper arm", "lower arm", "hand"}
    leg = {"upper leg", "lower leg", "foot"}
    return {sa[1], sb[1]} <= arm or {sa[1], sb[1]} <= leg


def _first_direction(rec: dict) -> str | None:
    for ph in PHASES:
        for ax in ("vertical", "horizontal"):
            if rec["phases"][ph][ax] in OPPOSITE:
                return rec["phases"][ph][ax]
    return None


def mas_facts(desc: dict) -> list[Fact]:
    out = []
    parts = desc["parts"]
    for o in desc.get("order", []):
        a, b, rel = o["a"], o["b"], o["relation"]
        if rel == "unclear" or _same_limb(a, b):
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
            da, db = _first_direction(parts[first]), _first_direction(parts[second])
            if da and db:
                f = {"a": first, "b": second, "dir_a": DIR_WORDS[da], "dir_b": DIR_WORDS[db]}
                out.append(Fact("MAS_DIR", f, "Yes", {**base, "parts": [first, second], "direction": f"{da}/{db}"}))
                g = {"a": second, "b": first, "dir_a": DIR_WORDS[db], "dir_b": DIR_WORDS[da]}
                out.append(Fact("MAS_DIR", g, "No", {**base, "parts": [second, first], "direction": f"{db}/{da}",
                                                     "contrast": "swapped order"}))
            if o["gap_s"] is not None and abs(o["gap_s"]) >= 0.4:
                out.append(Fact("MAS_SIM", {"a": a, "b": b}, "No", {**base, "contrast": "one starts first"}))
        elif rel == "simultaneous":
            out.append(Fact("MAS_SIM", {"a": a, "b": b}, "Yes", base))
            out.append(Fact("MAS", {"a": a, "b": b}, "No", {**base, "contrast": "they start together"}))
    # a part that never moves did not start before anything (the descriptors call it still)
    out += _still_first(desc, ("head", "torso", "left hand", "right hand"))
    # the order of one part's own movements across phases (up in the early phase, down in the late one)
    for part in desc.get("ranking", [])[:4]:
        seq = [(k, parts[part]["phases"][ph][ax]) for k, ph in enumerate(PHASES) for ax in ("vertical", "horizontal")
               if parts[part]["phases"][ph][ax] in OPPOSITE and _clear(parts[part]["phases"][ph], ax)]
        # a movement and its return (up, later down): across axes a diagonal path makes order fragile
        for (k1, d1), (k2, d2) in ((x, y) for x in seq for y in seq if x[0] < y[0] and y[1] == OPPOSITE[x[1]]):
            base = {"kind": "sequence", "parts": [part], "phase": f"{PHASES[k1]}/{PHASES[k2]}",
                    "direction": f"{d1}/{d2}", "margin": MOVE}
            out.append(Fact("MAS_SEQ", {"part": part, "d1": DIR_WORDS[d1], "d2": DIR_WORDS[d2]}, "Yes", base))
            out.append(Fact("MAS_SEQ", {"part": part, "d1": DIR_WORDS[d2], "d2": DIR_WORDS[d1]}, "No",
                            {**base, "direction": f"{d2}/{d1}", "contrast": "swapped order"}))
    return out


def ppr_facts(desc: dict, pairs: tuple[tuple[str, str], ...] = PAIRS) -> list[Fact]:
    out = []
    moving = set(desc.get("ranking", []))
    wanted = {pair_name(a, b) for a, b in pairs}
    for name, pair in desc.get("pairs", {}).items():
        if name not in wanted:
            continue
        a, b = name.split("|")
        if a not in moving and b not in moving:
            continue  # two still parts: trivially "No" everywhere
        if not (desc["parts"][a].get("visible", True) and desc["parts"][b].get("visible", True)):
            continue  # a part the pose model could not see: its distance to anything is a guess
        for ph in PHASES:
            p = pair["phases"][ph]
            trend = p["trend"]
            if trend not in ("approach", "apart", "steady"):
                continue
            base = {"kind": "pair trend", "parts": [a, b], "phase": ph, "trend": trend, "value": p["delta"],
                    "margin": desc.get("floor", {}).get("trend", TREND)}
            f = {"A": _title(a), "B": _title(b), "phase": ph}
            out.append(Fact("PPR", f, "Yes" if trend == "approach" else "No", {**base, "direction": "approach"}))
            out.append(Fact("PPR_APART", f, "Yes" if trend == "apart" else "No", {**base, "direction": "apart"}))
            out.append(Fact("PPR_STEADY", f, "Yes" if trend == "steady" else "No", {**base, "direction": "steady"}))
    return out


FACTS = {"SAD": sad_facts, "MAD": mad_facts, "MAS": mas_facts, "PPR": ppr_facts}
# When a clip has too few facts of a task's own kinds (one part moves, nothing to compare or order), these
# true contrasts against every still part keep it at 12 questions; used only then, so they do not crowd
# out the task's usual question types.
FALLBACKS = {"MAD": lambda d: _against_still(d, BODY_PARTS), "MAS": lambda d: _still_first(d, BODY_PARTS),
             "PPR": lambda d: ppr_facts(d, TRUNK_PAIRS)}


# ----------------------------------------------------------------------------------------------
# Assembly
# ----------------------------------------------------------------------------------------------

class Balancer:
    """Keeps Yes/No per task and the correct letter per closed task balanced across the benchmark."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.yes_no: dict[str, Counter] = {t: Counter() for t in FACTS}
        self._slots: dict[str, list[int]] = {}

    def polarity_order(self, task: str) -> list[str]:
        c = self.yes_no[task]
        if c["Yes"] == c["No"]:
            return self.rng.sample(["Yes", "No"], 2)
        return ["Yes", "No"] if c["Yes"] < c["No"] else ["No", "Yes"]

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


def _pick_yes_no(task: str, facts: list[Fact], bal: Balancer, rng: random.Random, n: int = 2) -> list[Fact]:
    chosen: list[Fact] = []
    used_parts: set[tuple] = set()
    for want in bal.polarity_order(task) * n:
        if len(chosen) == n:
            break
        taken = {fact_id(c) for c in chosen}
        pool = [f for f in facts if f.answer == want and f not in chosen and fact_id(f) not in taken]
        fresh = [f for f in pool if tuple(f.meta.get("parts", [])) not in used_parts]
        pick_from = fresh or pool
        if not pick_from:
            continue
        f = rng.choice(pick_from)
        chosen.append(f)
        used_parts.add(tuple(f.meta.get("parts", [])))
    for f in chosen:
        bal.yes_no[task][f.answer] += 1
    return chosen


def _options(task: str, correct: str, others: list[str], slot: int, rng: random.Random) -> tuple[str, str]:
    others = rng.sample(others, len(others))
    order = others[:slot] + [correct] + others[slot:]
    letters = TASKS[task].letters
    return "\n".join(f"{letters[i]}. {display_label(o)}" for i, o in enumerate(order)), letters[slot]


def fmar_distractors(fine: str, rng: random.Random) -> list[str]:
    """4 labels: the confusable neighbour, at least 2 from the same coarse class when it has them."""
    same = [f for f in COARSE_FINE[FINE_TO_COARSE[fine]] if f != fine]
    picks = [CONFUSABLE[fine]] if CONFUSABLE[fine] in same else []
    rest_same = [f for f in same if f not in picks]
    picks += rng.sample(rest_same, min(len(rest_same), max(0, 2 - len(picks))))
    other = [f for f in FINE_TO_COARSE if FINE_TO_COARSE[f] != FINE_TO_COARSE[fine] and f not in picks]
    if CONFUSABLE[fine] not in picks and CONFUSABLE[fine] in other:
        picks.append(CONFUSABLE[fine])
        other.remove(CONFUSABLE[fine])
    picks += rng.sample(other, 4 - len(picks))
    return picks


@dataclass
class ClipPlan:
    """One clip's chosen questions before rendering: labels, and per Yes/No task the chosen facts
    plus every candidate (so a later pass can rebalance)."""

    desc: dict
    cap: Caption
    rng: random.Random
    chosen: dict[str, list[Fact]]
    candidates: dict[str, list[Fact]]


def plan_clip(desc: dict, cap: Caption, bal: Balancer, rng: random.Random) -> ClipPlan:
    candidates = {task: make(desc) for task, make in FACTS.items()}
    for task, extra in FALLBACKS.items():
        if len({fact_id(f) for f in candidates[task]}) < TASKS[task].per_clip:
            candidates[task] += [f for f in extra(desc) if f not in candidates[task]]
    chosen = {task: _pick_yes_no(task, facts, bal, rng) for task, facts in candidates.items()}
    return ClipPlan(desc, cap, rng, chosen, candidates)


def rebalance(plans: list[ClipPlan], bal: Balancer) -> None:
    """Swap questions of the majority answer for unused facts of the minority answer (in clips that
    have them) until each Yes/No task is as balanced as the facts allow."""
    for task in FACTS:
        c = bal.yes_no[task]
        for plan in plans:
            if abs(c["Yes"] - c["No"]) <= 1:
                break
            major, minor = ("Yes", "No") if c["Yes"] > c["No"] else ("No", "Yes")
            chosen = plan.chosen[task]
            for i, f in enumerate(chosen):
                if f.answer != major:
                    continue
                others = {fact_id(g) for j, g in enumerate(chosen) if j != i}
                alt = [g for g in plan.candidates[task] if g.answer == minor and g not in chosen
                       and fact_id(g) not in others]
                if alt:
                    chosen[i] = plan.rng.choice(alt)
                    c[major] -= 1
                    c[minor] += 1
                    break


def _report_meta(f: Fact) -> dict:
    """`meta` as stored: one `phase` and one `direction` (what reports break down by), and the full
    lists where a fact spans two (`phases`, `directions`: "up in the early phase, then down later")."""
    m = {**f.meta, "family": f.family}
    if isinstance(m.get("direction"), str) and "/" in m["direction"]:
        m["directions"] = m["direction"].split("/")
        m["direction"] = m["directions"][0]
    if isinstance(m.get("phase"), str) and "/" in m["phase"]:
        m["phases"] = m["phase"].split("/")
        m["phase"] = None
    return m


def render_clip(plan: ClipPlan, bal: Balancer) -> list[dict]:
    """The 12 (or fewer, when facts are missing) questions of one clip, without qids."""
    cap, rng = plan.cap, plan.rng
    video = cap.clip.rsplit(".", 1)[0] if cap.clip.lower().endswith((".mp4", ".avi", ".mov", ".mkv", ".webm")) \
        else cap.clip
    out = []

    def add(task: str, question: str, answer: str, meta: dict) -> None:
        out.append({"video_name": video, "task": task, "question": question, "answer": answer,
                    "meta": {"version": QA_VERSION, **meta}})

    slot = bal.letter_slot("CMAR")
    opts, letter = _options("CMAR", cap.coarse, [c for c in COARSE_CLASSES if c != cap.coarse], slot, rng)
    add("CMAR", f"{rng.choice(TEMPLATES['CMAR'])}\n{opts}", letter, {"kind": "label", "label": cap.coarse,
                                                                      "parts": [], "phase": None})
    slot = bal.letter_slot("FMAR")
    opts, letter = _options("FMAR", cap.fine, fmar_distractors(cap.fine, rng), slot, rng)
    add("FMAR", f"{rng.choice(TEMPLATES['FMAR'])}\n{opts}", letter, {"kind": "label", "label": cap.fine,
                                                                      "parts": [], "phase": None})
    for task in FACTS:
        for f in plan.chosen[task]:
            add(task, rng.choice(TEMPLATES[f.family]).format(**f.fields), f.answer, _report_meta(f))
    add("MADU", rng.choice(TEMPLATES["MADU"]), cap.madu, {"kind": "description", "parts": cap.ranking,
                                                            "phase": None})
    add("MARE", rng.choice(TEMPLATES["MARE"]), cap.mare, {"kind": "reasoning", "label": cap.fine,
                                                            "coarse": cap.coarse, "parts": cap.ranking, "phase": None})
    return out


def build_questions(items: Iterable[tuple[dict, Caption]], seed: int = 0) -> list[dict]:
    """Questions for every (descriptor, caption) pair, with official-style qids, in task order per clip."""
    rng = random.Random(seed)
    bal = Balancer(rng)
    plans = [plan_clip(desc, cap, bal, random.Random(f"{seed}:{cap.clip}")) for desc, cap in items]
    rebalance(plans, bal)
    records = []
    counters = Counter()
    for plan in plans:
        for rec in sorted(render_clip(plan, bal), key=lambda r: TASK_ORDER.index(r["task"])):
            qid = f"{rec['task']}_{counters[rec['task']]:04d}"
            rec = {"video_name": rec["video_name"], "task": rec["task"], "qid": qid, "question": rec["question"],
                   "answer": rec["answer"], "meta": rec["meta"]}
            counters[rec["task"]] += 1
            records.append(rec)
    return records
