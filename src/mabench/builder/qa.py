"""QA generation: 12 questions per clip in the 8 MA-Bench tasks, from measured facts.

Every closed answer comes from a fact the descriptors stated (never one marked `unclear`), and
the fact travels with the question in `meta` (parts, phase, direction, the measured value and the
margin it cleared). Negatives are real contrasts: the opposite direction, the swapped order, the
other distance trend, a phase in which the part did not move that way.

The relational tasks ask MA-Bench's question types in its proportions (`MIX`, measured on the official
file: bench/RESULTS.md) in mabench's own wording (`TEMPLATES`, chosen per fact family by `WORDING`).
Balance: each question is picked by `Balancer` so that the task keeps that mix and neither the
question's type, its template nor its words predict the answer; the correct letter of CMAR / FMAR
cycles through the positions in shuffled blocks. Everything is seeded.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from mabench.builder.askable import QA_MARGIN
from mabench.builder.askable import askable_trend as _askable_trend
from mabench.builder.askable import clear as _clear
from mabench.builder.captions import Caption
from mabench.builder.cues import CONFUSABLE
from mabench.builder.reversal import reversed_answer
from mabench.motion.descriptors import (
    LEAD_S,
    MOVE,
    MOVING_PART,
    PAIRS,
    TREND,
    TRUNK_PAIRS,
    pair_name,
    visible_order,
)
from mabench.motion.signals import CARRIED_BY_TRUNK, MOVES_AT, SIGNALS, STILL_UNDER, settled
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

QA_VERSION = "ma-qa-v2"
AMPLITUDE_RATIO = 1.5   # "moves more than": the larger amplitude must be this many times the smaller
OPPOSITE = {"upward": "downward", "downward": "upward", "leftward": "rightward", "rightward": "leftward"}

# The project's own wording for the question types MA-Bench asks (see bench/RESULTS.md for the official
# type mix they are drawn to). {when} is a phase phrase ("the early segment", "the late stage (1.2-1.9
# seconds)"), {dir} a direction phrase that may be compound ("upward and to the left").
SAD_TEMPLATES = (  # one direction (or both axes at once) in one phase
    "In this action, does the {part} move {dir} during {when}?",
    "During {when}, does the {part} move {dir}?",
    "Does the {part} move {dir} in {when} of the action?",
    "In {when} of this action, does the {part} shift {dir}?",
    "Does the {part} travel {dir} during {when} of the micro-action?",
    "In this action, is the {part} moving {dir} in {when}?",
    "In this action, does the {part} move {dir} during {when} of the motion?",
    "In {when} of the action, is the {part}'s motion directed {dir}?",
)
# "does the head turn / tilt, the torso lean to the left" (SAD_TURN / SAD_TILT / SAD_LEAN, over the whole action)
ROTATION_TEMPLATES = (
    "During the action, does the {part} {verb} {dir}?",
    "In this action, does the {part} {verb} {dir}?",
    "Does the {part} {verb} {dir} at any point in this micro-action?",
    "In this micro-action, does the {part} {verb} {dir} at some point?",
    "Over the course of the action, does the {part} {verb} {dir}?",
)
TEMPLATES: dict[str, tuple[str, ...]] = {
    "CMAR": (
        "Which coarse-grained label fits the micro action performed in this clip?",
        "Please choose the coarse-grained micro-action category that this video clip belongs to.",
        "Identify the coarse-grained category of the micro action seen in this video.",
        "To which coarse-grained behavior category should the action in this video be assigned?",
        "Please pick the most suitable coarse-grained category for the action in this video clip.",
        "What coarse-grained label best describes the micro action in this clip?",
        "Determine which coarse-grained category the micro action in this video clip falls under.",
    ),
    "FMAR": (
        "Which fine-grained label fits the micro action performed in this clip?",
        "Please choose the fine-grained action category that best matches this video.",
        "Identify the precise fine-grained label of the action shown in this clip.",
        "What fine-grained micro-action category does the behavior in this video belong to?",
        "Please pick the correct fine-grained action class for the micro action in this video clip.",
        "Determine which fine-grained action label the behavior in this clip corresponds to.",
        "Select the exact fine-grained micro-action label for this video.",
    ),
    "SAD": SAD_TEMPLATES,
    "SAD_2D": SAD_TEMPLATES,  # the same questions with both axes at once ("upward and leftward")
    "SAD_MAIN": (
        "Does the {part} move predominantly {dir} during the action?",
        "In this action, does the {part} move mainly {dir}?",
        "Does the {part} move {dir} overall throughout the action?",
        "Is the {part}'s movement in this action directed mainly {dir}?",
        "Throughout the micro-action, does the {part} move predominantly {dir}?",
        "Is the overall direction of the {part}'s motion {dir} during the entire action?",
        "Over the entire motion, does the {part} move predominantly {dir}?",
    ),
    "SAD_STILL": (
        "Does the {part} change its position during the action?",
        "In this action, does the {part} leave its starting position?",
        "Does the {part} shift from its initial position at any point in the action?",
        "Throughout the action, does the {part} move out of its resting position?",
        "Is the {part} displaced from its starting position during this micro-action?",
    ),
    # a head's turn and tilt and a trunk's lean: one wording each, so the balancer evens Yes and No per verb
    "SAD_TURN": ROTATION_TEMPLATES,
    "SAD_TILT": ROTATION_TEMPLATES,
    "SAD_LEAN": ROTATION_TEMPLATES,
    "SAD_MIDLINE": (
        "In this action, does the {part} move {rel} the body midline during {when}?",
        "During {when}, does the {part} move {rel} the midline of the body?",
        "Does the {part} shift {rel} the body's midline in {when}?",
        "In {when} of this action, is the {part} moving {rel} the midline?",
        "During {when}, does the {part} travel {rel} the body midline?",
    ),
    "SAD_MOVES": (
        "Is the {part} involved in the movement of this action?",
        "Does the {part} take an active part in this micro-action?",
        "In this action, does the {part} make a noticeable movement?",
        "Does the {part} visibly move during the action?",
        "Does this micro-action include a movement of the {part}?",
    ),
    "SAD_TOWARD": (
        "In this action, does the {part} move toward the {b} during {when}?",
        "Does the {part} draw closer to the {b} in {when} of the action?",
        "During {when}, does the {part} approach the {b}?",
        "In {when} of this action, does the {part} come closer to the {b}?",
        "Does the {part} move toward the {b} in {when}?",
    ),
    "SAD_AWAY": (
        "During {when}, does the {part} move away from the {b}?",
        "In {when} of this action, does the {part} pull away from the {b}?",
        "In this action, does the {part} move away from the {b} during {when}?",
        "Does the {part} withdraw away from the {b} in {when} of the action?",
        "During {when}, does the {part} move farther away from the {b}?",
    ),
    "SAD_SEQ": (
        "In this action, does the {part} move {d1} before moving {d2}?",
        "Does the {part} first move {d1} and later {d2}?",
        "In this action, does the {part} move {d1} first and then {d2}?",
        "Does the {part}'s {d1} movement come before its {d2} movement?",
        "Does the {part} move {d1} before it reverses {d2}?",
    ),
    "SAD_WITH": (
        "In this action, does the {b} move {dir_b} while the {a} moves {dir_a} during {when}?",
        "During {when}, while the {a} moves {dir_a}, does the {b} move {dir_b}?",
        "Does the {b} move {dir_b} at the same time as the {a} moves {dir_a} in {when}?",
        "In {when}, does the {b} move {dir_b} together with the {a} moving {dir_a}?",
        "While the {a} shifts {dir_a} in {when}, does the {b} shift {dir_b}?",
    ),
    # a phase that goes one way and comes back (once or more): "oscillate" / "repeated" would ask for more than once
    "SAD_OSC": (
        "Does the {part} move back and forth {osc} during {when}?",
        "In {when} of this action, does the {part} swing {osc}?",
        "During {when}, does the {part} go back and forth {osc}?",
        "In this action, does the {part} move to and fro {osc} in {when}?",
        "Does the {part} make a back-and-forth movement {osc} in {when}?",
    ),
    "MAD_WHILE": (
        "While the {a} was moving {dir_a} in {when}, did the {b} simultaneously move {dir_b}?",
        "During {when}, while the {a} moved {dir_a}, did the {b} move {dir_b} at the same time?",
        "In {when}, while the {a} was moving {dir_a}, was the {b} moving {dir_b} as well?",
        "While the {a} was shifting {dir_a} during {when}, did the {b} simultaneously shift {dir_b}?",
        "During {when} when the {a} was moving {dir_a}, did the {b} perform a {dir_b} movement at the same time?",
        "While the {a} performed its {dir_a} movement in {when}, did the {b} simultaneously move {dir_b}?",
    ),
    "MAD_SAME": (
        "During {when}, did the {a} and the {b} move {dir} in the same direction?",
        "In {when}, did the {a} move {dir} in the same direction as the {b}?",
        "During {when}, were the {a} and the {b} moving {dir} in the same way?",
        "In {when}, did the {a} share the {b}'s {dir} direction of movement?",
        "During {when}, did the {a} and the {b} take the same {dir} direction?",
    ),
    "MAD_OPP": (
        "During {when}, did the {a} move in the opposite {axis} direction to the {b}?",
        "In {when}, were the {a} and the {b} moving in opposite {axis} directions?",
        "During {when}, did the {a} move opposite to the {b} along the {axis} axis?",
        "In {when}, was the {a}'s {axis} movement opposite in direction to that of the {b}?",
        "During {when}, did the {a} and the {b} move in opposite {axis} directions?",
    ),
    "MAD_AMP": (
        "Compared to the {b}, did the {a} exhibit a greater movement amplitude during the action?",
        "Did the {a} move with a larger amplitude than the {b} during the action?",
        "Compared with the {b}'s motion, did the {a} show a greater amplitude of movement?",
        "Was the {a}'s movement amplitude greater than that of the {b} over the action?",
        "Compared to the {b}, did the {a} make a larger movement during the micro-action?",
    ),
    "MAD_ORDER": (  # MA-Bench names both movements in most of MAD's order questions
        "Before the {b} began moving {dir_b}, did the {a} first move {dir_a} as a preparatory action?",
        "Before the {b} started its {dir_b} movement, did the {a} first begin moving {dir_a}?",
        "Before the {b} initiated its {dir_b} motion, did the {a} first start its {dir_a} motion?",
        "Before the {b} moved {dir_b}, did the {a} first start moving {dir_a}?",
        "Did the {a} start moving {dir_a} before the {b} began its {dir_b} movement?",
    ),
    "MAD_ORDER0": (
        "Before the {b} started moving, did the {a} first move as a preparatory action?",
        "Before the {b} began to move, did the {a} already start moving?",
        "Before the {b} initiated its movement, did the {a} first start its motion?",
        "Did the {a} begin moving before the {b} started to move?",
        "Did the {a} start its motion before the {b} began moving?",
    ),
    "MAD_TOWARD": (
        "During {when}, did the {a} move toward the {b}?",
        "In {when}, did the {a} draw closer to the {b}?",
        "During {when}, did the {a} and the {b} approach each other?",
        "In {when}, did the {a} come closer to the {b}?",
        "During {when}, did the {a} noticeably approach the {b}?",
    ),
    "MAD_AWAY": (
        "In {when}, did the {a} move away from the {b}?",
        "During {when}, did the {a} and the {b} move apart?",
        "In {when}, did the {a} pull away from the {b}?",
        "During {when}, did the {a} move farther away from the {b}?",
        "In {when}, did the {a} and the {b} separate from each other?",
    ),
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
    "MAS_SEQ": (
        "Did the {part} move {d1} before it moved {d2}?",
        "Did the {part}'s {d1} movement begin before its {d2} movement?",
        "Did the {part} start moving {d1} before it started moving {d2}?",
        "Did the {part}'s {d1} shift occur before its {d2} shift?",
        "Did the {part} begin its {d1} movement before its {d2} movement?",
    ),
    "PPR": (
        "In {when} of the video, does the {A} noticeably approach the {B}?",
        "In {when} of the video, does the {A} approach the {B}?",
        "During {when} of the video, do the {A} and the {B} approach each other?",
        "In {when} of the video, does the {A} begin to approach the {B}?",
        "In {when} of the video, does the {A} move noticeably closer to the {B}?",
        "During {when}, does the {A} noticeably approach the {B}?",
        "In {when} of the video, does the {A} move closer to the {B}?",
    ),
    "PPR_APART": (
        "In {when} of the video, does the {A} noticeably move away from the {B}?",
        "In {when} of the video, does the {A} drift away from the {B}?",
        "During {when} of the video, do the {A} and the {B} move apart from each other?",
        "In {when} of the video, does the {A} move away from the {B}?",
        "In {when} of the video, does the {A} noticeably separate from the {B}?",
    ),
    "PPR_STEADY": (
        "In {when} of the video, does the {A} keep a steady distance from the {B}?",
        "During {when} of the video, does the distance between the {A} and the {B} stay unchanged?",
        "In {when} of the video, do the {A} and the {B} keep the same distance from each other?",
        "In {when} of the video, does the {A} neither approach nor move away from the {B}?",
        "During {when}, does the {A} stay at a constant distance from the {B}?",
        "Throughout {when} of the video, does the {A} remain at a steady distance from the {B}?",
    ),
    "MADU": (
        "Describe how each part of the person's body moves in this video.",
        "Please describe in detail how the person moves in the video, body part by body part.",
        "Explain the movements the person makes in the video and how they change.",
        "Describe the movement of each of the person's body parts in this clip.",
        "Please give a detailed description of the person's body movements in the video.",
        "Describe the movement characteristics of the person in the video clip.",
    ),
    "MARE": (
        "Based on the movements in the video, build a detailed reasoning chain and infer the micro-action "
        "labels at both the coarse-grained and fine-grained levels.",
        "Using the person's observed behavior in the video, reason step by step to the appropriate coarse-grained "
        "and fine-grained micro-action classification.",
        "From the motion details in the video, provide a clear reasoning process that determines the correct "
        "coarse- and fine-grained micro-action labels.",
        "Given the movement evidence in the video, develop a step-by-step reasoning chain to identify the "
        "hierarchical micro-action labels (coarse-grained and fine-grained).",
        "Based on the visible body movements in the video, construct a logical reasoning chain and conclude with "
        "the coarse-grained and fine-grained micro-action categories.",
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
                    out.append(Fact("SAD", {"part": part, "phase": ph, "dir": lab}, "Yes",
                                    {**base, "direction": lab}))
                    out.append(Fact("SAD", {"part": part, "phase": ph, "dir": OPPOSITE[lab]}, "No",
                                    {**base, "direction": OPPOSITE[lab], "contrast": "flipped direction"}))
                elif lab == "none":
                    # still along this axis now, but moving that way in another phase: a timing contrast
                    elsewhere = {moves_in[ax][q] for q in PHASES if q != ph} & set(OPPOSITE)
                    for d in sorted(elsewhere):
                        out.append(Fact("SAD", {"part": part, "phase": ph, "dir": d}, "No",
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


def mad_facts(desc: dict) -> list[Fact]:
    out = []
    parts = desc["parts"]
    moving = desc.get("ranking", [])[:5]
    for a in moving:  # both orders: "while A moves, does B ..." and "while B moves, does A ..."
        for b in moving:
            if a == b or _same_limb(a, b):
                continue  # "the hand and the lower arm move together" is trivially true
            for ph in PHASES:
                for ax in ("horizontal", "vertical"):
                    la, lb = parts[a]["phases"][ph][ax], parts[b]["phases"][ph][ax]
                    if (la in OPPOSITE and not _clear(parts[a]["phases"][ph], ax)) or \
                            (lb in OPPOSITE and not _clear(parts[b]["phases"][ph], ax)):
                        continue
                    base: dict[str, Any] = {"kind": "", "parts": [a, b], "phase": ph, "axis": ax, "margin": MOVE,
                            "value": [parts[a]["phases"][ph]["dx" if ax == "horizontal" else "dy"],
                                      parts[b]["phases"][ph]["dx" if ax == "horizontal" else "dy"]]}
                    if la in OPPOSITE and lb in OPPOSITE:
                        same = la == lb
                        out.append(Fact("MAD_SAME", {"a": a, "b": b, "phase": ph, "dir": la},
                                        "Yes" if same else "No", {**base, "kind": "same direction", "direction": la}))
                        out.append(Fact("MAD_OPP", {"a": a, "b": b, "phase": ph, "axis": ax},
                                        "No" if same else "Yes", {**base, "kind": "opposite directions",
                                                                  "direction": f"{la}/{lb}"}))
                    if la in OPPOSITE and (lb in OPPOSITE or lb == "none"):
                        for d in ([lb] if lb in OPPOSITE else []) + ([OPPOSITE[lb]] if lb in OPPOSITE else []):
                            out.append(Fact("MAD_WHILE", {"a": a, "b": b, "phase": ph, "dir_a": la,
                                                          "dir_b": d}, "Yes" if d == lb else "No",
                                            {**base, "kind": "while", "direction": f"{la}/{d}"}))
                        if lb == "none":
                            for d in _directions_elsewhere(parts[b], ph, ax):
                                out.append(Fact("MAD_WHILE", {"a": a, "b": b, "phase": ph, "dir_a": la,
                                                              "dir_b": d}, "No",
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
    signals = desc.get("signals", {})
    return [p for p in candidates if not desc["parts"][p]["moving"] and desc["parts"][p].get("visible", True)
            and desc["parts"][p]["amplitude"] <= 0.5 * moving_at and settled(signals, p)]


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


STILL_DIRECTIONS = ("upward", "downward", "leftward", "rightward")


def _still_first(desc: dict, candidates) -> list[Fact]:
    """A part that never moves did not start before a moving one: a true No."""
    out = []
    # still as `_still_parts` says: under half the clip's moving threshold (which follows the clip's floor)
    margin = 0.5 * desc.get("floor", {}).get("moving_at", MOVING_PART)
    for p_still in _still_parts(desc, candidates):
        for p_move in desc.get("ranking", [])[:2]:
            if _same_limb(p_still, p_move):
                continue
            db = _first_direction(desc["parts"][p_move])
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


def _directions_elsewhere(rec: dict, ph: str, ax: str) -> list[str]:
    return sorted({rec["phases"][q][ax] for q in PHASES if q != ph} & set(OPPOSITE))


def _limb(part: str) -> str:
    """The limb a segment belongs to ("left hand" -> "left arm"), or the part itself (head, torso)."""
    side, _, rest = part.partition(" ")
    return f"{side} arm" if rest in ("upper arm", "lower arm", "hand") else \
        f"{side} leg" if rest in ("upper leg", "lower leg", "foot") else part


def _same_limb(a: str, b: str) -> bool:
    """Two segments of one limb (left hand / left lower arm) move as one; comparing them says little. (The head
    and torso are no limb.)"""
    limb = _limb(a)
    return limb == _limb(b) and limb != a


def _limbs(f: Fact) -> tuple[str, ...]:
    """What a fact is about, limb by limb: the task's second question about the same limbs (the left hand, then
    the left lower arm, against the head) says little new."""
    return tuple(sorted(_limb(p) for p in f.meta.get("parts", [])))


def _first_move(rec: dict) -> tuple[int, str | None] | None:
    """The first phase that states a direction for the part (its index), and that direction where it clears
    QA_MARGIN: both axes ("upward+leftward") when both do, else the one that does; None for the direction when
    neither does (a movement that barely clears its threshold is not named)."""
    for k, ph in enumerate(PHASES):
        p = rec["phases"][ph]
        stated = [ax for ax in ("vertical", "horizontal") if p[ax] in OPPOSITE]
        if stated:
            clear = [p[ax] for ax in stated if _clear(p, ax)]
            return k, "+".join(clear) if clear else None
    return None


def _first_direction(rec: dict) -> str | None:
    """The part's first stated direction, where it clears QA_MARGIN (see `_first_move`)."""
    first = _first_move(rec)
    return first[1] if first else None


def _onset_direction(rec: dict, edges: list[float] | None) -> str | None:
    """The direction of the movement that starts at the part's onset: its first stated direction, provided the
    phase stating it is under way by then (it begins no later than LEAD_S after the onset, and does not end before
    it). A head that nods first and turns right in a later phase started its rightward turn long after its onset:
    "did the head begin moving rightward before B?" would not be what the onsets measured."""
    first, onset = _first_move(rec), rec.get("onset")
    if first is None or first[1] is None or onset is None or not edges:
        return None
    k, code = first
    return code if under_way(edges, k, onset) else None


def under_way(edges, k: int, onset: float) -> bool:
    """Whether phase `k` (between `edges[k]` and `edges[k + 1]`) is under way by a part's onset: it begins no later
    than LEAD_S after it and does not end before it."""
    return bool(edges[k] <= onset + LEAD_S and onset < edges[k + 1])


def _order_with_directions(desc: dict, a: str, b: str, answer: str, base: dict, together: bool = False) -> list[Fact]:
    """"Did the {a} begin moving {dir_a} before the {b} began moving {dir_b}?" with the directions the parts have
    (asked only in wordings that name those it has); none without either. The {a}, which starts first or with the
    {b} (`together`), is named only by the direction it set off in (`_onset_direction`); the later {b} of an order
    may be named by its first direction whenever that began, as its directed movement cannot precede its onset;
    two that start together are both named by their onset directions."""
    parts, edges = desc["parts"], desc.get("phase_edges")
    da = _onset_direction(parts[a], edges)
    db = _onset_direction(parts[b], edges) if together else _first_direction(parts[b])
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
               if parts[part]["phases"][ph][ax] in OPPOSITE and _clear(parts[part]["phases"][ph], ax)]
        # a movement and its return (up, later down): across axes a diagonal path makes order fragile
        for (k1, d1), (k2, d2) in ((x, y) for x in seq for y in seq if x[0] < y[0] and y[1] == OPPOSITE[x[1]]):
            base = {"kind": "sequence", "parts": [part], "phase": f"{PHASES[k1]}/{PHASES[k2]}",
                    "direction": f"{d1}/{d2}", "margin": MOVE}
            out.append(Fact("MAS_SEQ", {"part": part, "d1": d1, "d2": d2}, "Yes", base))
            out.append(Fact("MAS_SEQ", {"part": part, "d1": d2, "d2": d1}, "No",
                            {**base, "direction": f"{d2}/{d1}", "contrast": "swapped order"}))
    return _one_per_question(out + phase_order_facts(desc))


def _phase_moves(rec: dict) -> list[tuple[int, str, str]]:
    """(phase index, axis, direction) of every movement of a part that clears QA_MARGIN."""
    return [(k, ax, rec["phases"][ph][ax]) for k, ph in enumerate(PHASES) for ax in ("vertical", "horizontal")
            if rec["phases"][ph][ax] in OPPOSITE and _clear(rec["phases"][ph], ax)]


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
            if a == b or _same_limb(a, b) or (a, b) in led:
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


def _fields(f: Fact) -> tuple:
    """What a fact fills its templates with: two facts with the same fields render the same questions."""
    return tuple(sorted(f.fields.items()))


def _one_per_question(facts: list[Fact]) -> list[Fact]:
    """One fact per question its fields render. Two that render it with different answers (an onset order and an
    order by phases can disagree when a part moves one way, then the other): the data is ambiguous there, ask
    neither. Two with the same answer (an onset order the phases tell as well): the first; under different ids they
    would be asked as two questions of one clip, and one is all they are."""
    answers: dict[tuple, set[str]] = {}
    for f in facts:
        answers.setdefault(_fields(f), set()).add(f.answer)
    seen: set[tuple] = set()
    out = []
    for f in facts:
        key = _fields(f)
        if len(answers[key]) == 1 and key not in seen:
            seen.add(key)
            out.append(f)
    return out


def ppr_facts(desc: dict, pairs: tuple[tuple[str, str], ...] = PAIRS) -> list[Fact]:
    out = []
    moving = set(desc.get("ranking", []))
    wanted = {pair_name(a, b) for a, b in pairs}
    margin = desc.get("floor", {}).get("trend", TREND)
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
            if not _askable_trend(p, margin):
                continue
            base = {"kind": "pair trend", "parts": [a, b], "phase": ph, "trend": trend, "value": p["delta"],
                    "margin": margin}
            f = {"A": _title(a), "B": _title(b), "phase": ph}
            out.append(Fact("PPR", f, "Yes" if trend == "approach" else "No", {**base, "direction": "approach"}))
            out.append(Fact("PPR_APART", f, "Yes" if trend == "apart" else "No", {**base, "direction": "apart"}))
            out.append(Fact("PPR_STEADY", f, "Yes" if trend == "steady" else "No", {**base, "direction": "steady"}))
    return out


def sad_extra_facts(desc: dict) -> list[Fact]:
    """SAD facts beyond one axis in one phase: both axes at once, the main direction over the action,
    whether a part moves at all, a part moving toward / away from a still one."""
    out = []
    parts = desc["parts"]
    for part in desc.get("ranking", [])[:6]:
        rec = parts[part]
        for ph in PHASES:
            p = rec["phases"][ph]
            v, h = p["vertical"], p["horizontal"]
            if v in OPPOSITE and h in OPPOSITE and _clear(p, "vertical") and _clear(p, "horizontal"):
                base = {"kind": "direction2", "parts": [part], "phase": ph, "axis": "both",
                        "value": [p["dy"], p["dx"]], "margin": QA_MARGIN * MOVE}
                for dv, dh in ((v, h), (OPPOSITE[v], h), (v, OPPOSITE[h]), (OPPOSITE[v], OPPOSITE[h])):
                    ans = "Yes" if (dv, dh) == (v, h) else "No"
                    out.append(Fact("SAD2", {"part": part, "phase": ph, "dir": f"{dv}+{dh}"}, ans,
                                    {**base, "direction": f"{dv}/{dh}"}))
        # the main direction along an axis: stated clearly in some phase, its opposite (or a swing) in none
        for ax in ("vertical", "horizontal"):
            labs = [rec["phases"][ph][ax] for ph in PHASES]
            clear = {lab for ph, lab in zip(PHASES, labs, strict=True)
                     if lab in OPPOSITE and _clear(rec["phases"][ph], ax)}
            if len(clear) != 1 or any(lab in ("back-and-forth", "unclear") for lab in labs):
                continue
            d = clear.pop()
            if OPPOSITE[d] in labs:
                continue
            base = {"kind": "main direction", "parts": [part], "phase": None, "axis": ax, "margin": QA_MARGIN * MOVE,
                    "value": [rec["phases"][ph]["dx" if ax == "horizontal" else "dy"] for ph in PHASES]}
            out.append(Fact("SAD_MAIN", {"part": part, "dir": d}, "Yes", {**base, "direction": d}))
            out.append(Fact("SAD_MAIN", {"part": part, "dir": OPPOSITE[d]}, "No",
                            {**base, "direction": OPPOSITE[d], "contrast": "flipped direction"}))
    out += stillness_facts(desc)
    out += rotation_facts(desc)
    out += midline_facts(desc)
    out += pair_move_facts(desc, "SAD")
    return out


# Orientation signals asked as what they are (`mabench.motion.signals`, image directions as seen): a head turns
# or tilts, a trunk leans. A tilt barely moves the head's centre, so no position question can ask it.
ROTATIONS = {"head_yaw": "turn", "head_roll": "tilt", "trunk_lean": "lean"}
ROTATION_FAMILY = {"turn": "SAD_TURN", "tilt": "SAD_TILT", "lean": "SAD_LEAN"}
# A turn seen from above or below tilts the ear line in the image, and a tilt shifts the nose against the ears:
# each is asked only while the other is still.
CROSSTALK = {"head_yaw": "head_roll", "head_roll": "head_yaw"}
# Beyond this angle (degrees) the ear line or the trunk is near edge-on to the camera: not a reading to trust.
EDGE_ON = {"head_roll": 45.0, "trunk_lean": 45.0}


def rotation_facts(desc: dict) -> list[Fact]:
    """"Does the head turn / tilt to the left", "does the torso lean to the right", over the whole action, from
    the orientation signals, each decided against its own floor. A signal is a posture too (0: facing the
    camera, level, upright), so a question is asked only where the movement and the posture agree:

    - Yes: it travelled that way by QA_MARGIN x its moving threshold and ended up clearly on that side at some
      point (a trunk straightening from a left lean travels right but never leans right: not asked);
    - No: it never travelled that way beyond its floor / QA_MARGIN and never stood on that side beyond its
      floor (a head held tilted all along, or one that turned right and back, is not asked about the left).

    Not asked: a repeated signal (a shake goes both ways), a head while the trunk is not still (the trunk
    carries it), a turn while the tilt is not still and the reverse, and an edge-on reading."""
    out = []
    signals = desc.get("signals", {})
    for name, verb in ROTATIONS.items():
        s = signals.get(name)
        part = SIGNALS[name].part
        if not s or "travel" not in s or s["state"] not in ("moves", "still") or \
                not desc["parts"][part].get("visible", True):
            continue
        if s["state"] == "moves" and s.get("rhythm") != "single":
            continue
        if name in CARRIED_BY_TRUNK and signals.get("trunk_lean", {}).get("state") != "still":
            continue
        if name in CROSSTALK and signals.get(CROSSTALK[name], {}).get("state") != "still":
            continue
        low, high = s["level"]
        if max(abs(low), abs(high)) > EDGE_ON.get(name, float("inf")):
            continue
        floor = s["floor"]
        base = {"kind": "rotation", "signal": name, "parts": [part], "phase": None, "unit": s.get("unit")}
        for word, went, side in ((SIGNALS[name].pos, s["travel"][0], high), (SIGNALS[name].neg, s["travel"][1], -low)):
            d = word.split()[-1]  # "turns leftward" -> "leftward"
            f = {"part": part, "verb": verb, "dir": d}
            value = {"travel": went, "side": side}
            if s["state"] == "moves" and went >= QA_MARGIN * MOVES_AT * floor and side >= MOVES_AT * floor:
                out.append(Fact(ROTATION_FAMILY[verb], f, "Yes", {**base, "direction": d, "value": value,
                                                        "margin": QA_MARGIN * MOVES_AT * floor}))
            elif went <= STILL_UNDER * floor / QA_MARGIN and side <= STILL_UNDER * floor:
                out.append(Fact(ROTATION_FAMILY[verb], f, "No", {**base, "direction": d, "value": value,
                                                       "margin": STILL_UNDER * floor / QA_MARGIN,
                                                       "contrast": f"does not {verb} that way"}))
    return out


MIDLINE_SIDE = 0.2  # torso lengths off the body midline at the phase start: clearly on one side (a margin over
# the 0.15 that `descriptors._position` calls "at the midline")


def midline_facts(desc: dict) -> list[Fact]:
    """"Does the left hand move toward / away from the body midline": a clear horizontal direction in a phase
    that starts with the part clearly on one side of the midline (descriptor `x_from_midline`)."""
    out = []
    parts = desc["parts"]
    for part in desc.get("ranking", [])[:6]:
        if part == "torso":
            continue
        for ph in PHASES:
            p = parts[part]["phases"][ph]
            h, x0 = p["horizontal"], p.get("x_from_midline")
            if h not in OPPOSITE or x0 is None or abs(x0) < MIDLINE_SIDE or not _clear(p, "horizontal"):
                continue
            toward = "leftward" if x0 > 0 else "rightward"  # the image direction back to the midline
            base = {"kind": "midline", "parts": [part], "phase": ph, "axis": "horizontal", "value": [p["dx"], x0],
                    "margin": [QA_MARGIN * MOVE, MIDLINE_SIDE]}
            for rel, img in (("toward", toward), ("away from", OPPOSITE[toward])):
                out.append(Fact("SAD_MIDLINE", {"part": part, "phase": ph, "rel": rel}, "Yes" if h == img else "No",
                                {**base, "direction": img, "relation": rel}))
    return out


def stillness_facts(desc: dict) -> list[Fact]:
    """Does a part move at all: Yes for a part that clearly moves, No for one that stays still (a part that
    does not move is only ever asked about as a true No)."""
    out = []
    parts = desc["parts"]
    moving_at = desc.get("floor", {}).get("moving_at", MOVING_PART)
    still = set(_still_parts(desc, BODY_PARTS))
    for p in BODY_PARTS:
        rec = parts[p]
        base = {"kind": "stillness", "parts": [p], "phase": None, "value": rec["amplitude"],
                "source": rec.get("source", "keypoints")}
        by_points = rec.get("source", "keypoints") == "keypoints"
        if rec["moving"] and (not by_points or rec["amplitude"] >= QA_MARGIN * moving_at):
            # a head seen to move by flow or signals turns or tips rather than changes place
            fam = "POSITION" if by_points else "MOVES"
            out.append(Fact(fam, {"part": p}, "Yes", {**base, "direction": "moves", "margin": QA_MARGIN * moving_at}))
        elif p in still:
            for fam in ("POSITION", "MOVES"):
                out.append(Fact(fam, {"part": p}, "No", {**base, "direction": "moves", "margin": 0.5 * moving_at,
                                                         "contrast": "stays still"}))
    return out


def pair_move_facts(desc: dict, task: str) -> list[Fact]:
    """"Does the hand move toward / away from the torso": a pair trend in a phase where the first part moves
    and the second stays still, so the change of distance is the first part's movement."""
    out = []
    parts = desc["parts"]
    moving = set(desc.get("ranking", []))
    margin = desc.get("floor", {}).get("trend", TREND)
    for name, pair in desc.get("pairs", {}).items():
        a, b = name.split("|")
        if a not in moving or b in moving or not parts[b].get("visible", True) or not parts[a].get("visible", True):
            continue
        for ph in PHASES:
            p = pair["phases"][ph]
            if not _askable_trend(p, margin):
                continue
            base = {"kind": "pair trend", "parts": [a, b], "phase": ph, "trend": p["trend"], "value": p["delta"],
                    "margin": margin}
            f = {"part": a, "a": a, "b": b, "phase": ph}
            out.append(Fact(f"{task}_TOWARD", f, "Yes" if p["trend"] == "approach" else "No",
                            {**base, "direction": "approach"}))
            out.append(Fact(f"{task}_AWAY", f, "Yes" if p["trend"] == "apart" else "No",
                            {**base, "direction": "apart"}))
    return out


def _with_context(desc: dict, facts: list[Fact]) -> list[Fact]:
    """"While the head was moving downward and leftward": the given part's movement in both axes when both
    are stated clearly in that phase (the asked part's direction stays one axis, the one checked)."""
    for f in facts:
        if f.family != "MAD_WHILE":
            continue
        p = desc["parts"][f.fields["a"]]["phases"][f.fields["phase"]]
        other = "horizontal" if f.meta["axis"] == "vertical" else "vertical"
        if p[other] in OPPOSITE and _clear(p, other):
            f.fields = {**f.fields, "dir_a": f"{f.fields['dir_a']}+{p[other]}"}
    return facts


def while_still_facts(desc: dict) -> list[Fact]:
    """"While A was moving upward, did B (which stays still) move upward": a true No. B may be any still part:
    drawn only from the head, torso and hands, B named the answer (a foot as B only ever moving: Yes; +6
    points blind on 600 clips)."""
    out = []
    parts = desc["parts"]
    for a in desc.get("ranking", [])[:3]:
        for ph in PHASES:
            for ax in ("vertical", "horizontal"):
                la = parts[a]["phases"][ph][ax]
                if la not in OPPOSITE or not _clear(parts[a]["phases"][ph], ax):
                    continue
                for b in _still_parts(desc, BODY_PARTS):
                    if _same_limb(a, b):
                        continue
                    for d in (la, OPPOSITE[la]):
                        out.append(Fact("MAD_WHILE", {"a": a, "b": b, "phase": ph, "dir_a": la, "dir_b": d}, "No",
                                        {"kind": "while", "parts": [a, b], "phase": ph, "axis": ax,
                                         "direction": f"{la}/{d}", "margin": MOVE, "contrast": "b stays still",
                                         "value": [parts[a]["phases"][ph]["dx" if ax == "horizontal" else "dy"],
                                                   parts[b]["amplitude"]]}))
    return out


def sad_all(desc: dict) -> list[Fact]:
    return sad_facts(desc) + sad_extra_facts(desc) + [f for f in mas_facts(desc) if f.family == "MAS_SEQ"] + \
        [f for f in _with_context(desc, mad_facts(desc)) if f.family == "MAD_WHILE"]


def mad_all(desc: dict) -> list[Fact]:
    return _with_context(desc, mad_facts(desc) + while_still_facts(desc)) + pair_move_facts(desc, "MAD") + \
        [f for f in mas_facts(desc) if f.family in ("MAS", "MAS_DIR")]


FACTS = {"SAD": sad_all, "MAD": mad_all, "MAS": mas_facts, "PPR": ppr_facts}
# When a clip has too few facts of a task's own kinds (one part moves, nothing to compare or order), these
# true contrasts against every still part keep it at 12 questions; used only then, so they do not crowd
# out the task's usual question types.
FALLBACKS = {"SAD": stillness_facts, "MAD": lambda d: _against_still(d, BODY_PARTS),
             "MAS": lambda d: _still_first(d, BODY_PARTS), "PPR": lambda d: ppr_facts(d, TRUNK_PAIRS)}

# Which wording (a TEMPLATES key) each fact family is asked in, per task.
WORDING: dict[str, dict[str, tuple[str, ...]]] = {
    "SAD": {"SAD": ("SAD",), "SAD2": ("SAD_2D",), "SAD_MAIN": ("SAD_MAIN",), "POSITION": ("SAD_STILL",),
            "MOVES": ("SAD_MOVES",), "SAD_MIDLINE": ("SAD_MIDLINE",), "SAD_TOWARD": ("SAD_TOWARD",),
            "SAD_AWAY": ("SAD_AWAY",), "SAD_TURN": ("SAD_TURN",), "SAD_TILT": ("SAD_TILT",),
            "SAD_LEAN": ("SAD_LEAN",), "MAS_SEQ": ("SAD_SEQ",), "MAD_WHILE": ("SAD_WITH",),
            "SAD_OSC": ("SAD_OSC",)},
    "MAD": {"MAD_WHILE": ("MAD_WHILE",), "MAD_SAME": ("MAD_SAME",), "MAD_OPP": ("MAD_OPP",), "MAD_AMP": ("MAD_AMP",),
            "MAS": ("MAD_ORDER0",), "MAS_DIR": ("MAD_ORDER",), "MAD_TOWARD": ("MAD_TOWARD",),
            "MAD_AWAY": ("MAD_AWAY",)},
    "MAS": {"MAS": ("MAS",), "MAS_DIR": ("MAS_DIR", "MAS_DIR1"), "MAS_PHASE": ("MAS_DIR",),
            "MAS_STILL": ("MAS", "MAS_DIR", "MAS_DIR1"),
            "MAS_SEQ": ("MAS_SEQ",)},
    "PPR": {"PPR": ("PPR",), "PPR_APART": ("PPR_APART",), "PPR_STEADY": ("PPR_STEADY",)},
}
# Target share of each wording in its task: the official question-type mix (bench/RESULTS.md, measured with
# `mabench.audit.style.question_type`) spread over the wordings of each type, and how many direction words the
# official questions hold (`audit.style`'s "directions named"; "upward and leftward" is two): MAS two or more in
# 70%, one in 19%, none in 11% (it never asks about one part's own sequence, MAS_SEQ: kept small, a Yes the
# clips can give); SAD says "upward and leftward" in 27%. Where the clips lack the facts a wording needs (MAD_ORDER
# needs both parts' directions), the others fill in.
MIX: dict[str, dict[str, float]] = {
    "SAD": {"SAD_MAIN": 0.25, "SAD": 0.12, "SAD_2D": 0.12, "SAD_TURN": 0.03, "SAD_TILT": 0.02, "SAD_LEAN": 0.01,
            "SAD_STILL": 0.11, "SAD_MIDLINE": 0.07, "SAD_SEQ": 0.075,
            "SAD_TOWARD": 0.02, "SAD_AWAY": 0.015, "SAD_MOVES": 0.07, "SAD_WITH": 0.065, "SAD_OSC": 0.025},
    "MAD": {"MAD_WHILE": 0.58, "MAD_AMP": 0.11, "MAD_SAME": 0.12, "MAD_ORDER": 0.085, "MAD_ORDER0": 0.015,
            "MAD_OPP": 0.05,
            "MAD_TOWARD": 0.02, "MAD_AWAY": 0.02},
    "MAS": {"MAS_DIR": 0.66, "MAS_DIR1": 0.21, "MAS": 0.11, "MAS_SEQ": 0.02},
    "PPR": {"PPR": 0.78, "PPR_APART": 0.18, "PPR_STEADY": 0.04},
}
# Wordings that fill one question type between them ("does A approach B" / "does A move away from B" are one
# distance fact seen from either side): the balancer counts their deficit together. Counted apart, each one
# over its share soaked up as much of what the clips lack elsewhere (MAD's "same" and "opposite" facts) as any
# single wording, so MAD's distance type came to 8.2-8.7% against MA-Bench's 3.6% (200 and 600 clips).
# Only their sum is held to MIX; how it splits between them is left to the Yes/No balance. So too a head's turn
# and tilt and a trunk's lean (one rotation question, the verb the measured signal's): held apart, a tilt or lean
# was asked as No wherever that signal stayed still, to keep its own small share (600 clips: tilt 38-39% Yes,
# lean 17-23%; together, tilt 45-47%, turn 49-51%; lean, 8-10 questions, still 20-25%).
SHARED_MIX: dict[str, tuple[tuple[str, ...], ...]] = {"SAD": (("SAD_TOWARD", "SAD_AWAY"),
                                                              ("SAD_TURN", "SAD_TILT", "SAD_LEAN")),
                                                      "MAD": (("MAD_TOWARD", "MAD_AWAY"),)}
_MIX_GROUP = {(task, w): group for task, groups in SHARED_MIX.items() for group in groups for w in group}
# How phases are named per task (word, weight), the share of phase phrases carrying the time span in
# seconds, and the phase synonyms, after the official file's usage.
PHASE_NOUNS = {"SAD": (("phase", 5), ("segment", 5)), "MAD": (("segment", 7), ("phase", 3)),
               "PPR": (("phase", 13), ("stage", 6), ("segment", 1)), "MAS": (("phase", 1),)}
TIME_SPAN_SHARE = {"SAD": 0.2, "MAD": 0.3, "PPR": 0.03, "MAS": 0.0}
PHASE_WORD_WEIGHTS = {"early": {"early": 8, "initial": 1, "beginning": 1}, "middle": {"middle": 1},
                      "late": {"late": 9, "final": 1}}  # words of `taxonomy.PHASE_SYNONYMS`
# "to the left" / "to the right" as often as SAD's official questions use them; MAD / MAS use "-ward" words.
TO_THE_SIDE_SHARE = {"SAD": 0.3, "MAD": 0.0, "MAS": 0.05, "PPR": 0.0}
# the side phrase of a horizontal direction, and back ("to the left" -> "leftward")
TO_THE_SIDE = {"leftward": "to the left", "rightward": "to the right"}
_WARD_WORD = {v: k for k, v in TO_THE_SIDE.items()}
# MAS's answers are about order, not direction, so a movement up and to the left may be named by either half
# (each is true of it): this often, which brings "X and Y" to MA-Bench's 14% of MAS questions (27% when always
# both). Not SAD / MAD, whose answers can hinge on the second axis.
ONE_OF_TWO_SHARE = {"MAS": 0.5}
# MA-Bench asks about the hands, head and torso far more than about the segments between them (a lower arm
# moves with its hand): questions naming these are taken only when nothing else serves (a score penalty).
SECONDARY_PARTS = frozenset({"left lower arm", "right lower arm", "left upper leg", "right upper leg"})
SECONDARY_PENALTY = 1.5


def phase_phrase(ph: str, edges: list[float] | None, task: str, rng: random.Random) -> str:
    noun = rng.choices([n for n, _ in PHASE_NOUNS[task]], [w for _, w in PHASE_NOUNS[task]])[0]
    text = f"the {rng.choice([w for w, n in PHASE_WORD_WEIGHTS[ph].items() for _ in range(n)])} {noun}"
    if edges and rng.random() < TIME_SPAN_SHARE[task]:
        k, t0 = PHASES.index(ph), edges[0]
        text += f" ({edges[k] - t0:.1f}–{edges[k + 1] - t0:.1f} seconds)"
    return text


def dir_phrase(code: str, rng: random.Random, task: str = "SAD") -> str:
    """"upward", "to the left", or a compound "upward and leftward" / "leftward and upward" from "upward+leftward"
    (in MAS, sometimes one of the two: `ONE_OF_TWO_SHARE`)."""
    codes = code.split("+")
    if len(codes) == 2 and rng.random() < ONE_OF_TWO_SHARE.get(task, 0.0):
        codes = [rng.choice(codes)]
    words = [TO_THE_SIDE[d] if d in TO_THE_SIDE and rng.random() < TO_THE_SIDE_SHARE[task] else d for d in codes]
    if len(words) == 2 and rng.random() < 0.35:
        words.reverse()
    return " and ".join(words)


_FIELD = re.compile(r"{(\w+)}")


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
    return [Rendered(with_articles(t.format(**_as_adjectives(t, vals))), t, said) for t in TEMPLATES[wording]
            if need <= set(_FIELD.findall(t)) <= set(vals)]


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


# ----------------------------------------------------------------------------------------------
# Assembly
# ----------------------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z]+")
# Weights of the balancer's three aims (see `Balancer`). Evening out every word exactly overshoots: a
# text model trained on the other clips then learns the reverse (blind accuracy below the majority).
W_MIX, W_WORDING, NOISE = 3.0, 1.0, 2.0
W_TASK = {"SAD": 0.3, "MAD": 0.3, "MAS": 0.15, "PPR": 0.3}
# per task, tuned with `mabench audit` on synthetic builds of 200 and 600 clips (bench/RESULTS.md): on 600
# clips a text model finds more, and MAD needed its words evened out harder than 200 clips showed (PPR too,
# until its parts were evened out on their own: `W_PART`)
W_TEMPLATE = {"SAD": 0.2, "MAD": 0.5, "MAS": 0.5, "PPR": 0.3}
W_GRAMS = {"SAD": 0.05, "MAD": 1.0, "MAS": 0.6, "PPR": 0.1}
# ... and Yes/No per body part named, in full: among the ~25 words and pairs of a question, a part's two or three
# were averaged away. With "upper leg" penalised as a secondary part (SECONDARY_PENALTY), PPR named it only where it
# was the one Yes on offer (a hand reaching the thigh): 94-100% Yes on 200 clips, 67-73% on 600. With this term
# 65-71% on 200 clips and within 15 points of PPR's rate on 600; PPR's word weight was lowered from 0.3 so that
# the two together do not overshoot (bench/RESULTS.md).
W_PART = 0.5
# Tasks that cannot reach an even Yes/No: half of the clips have no true "A started before B" (one part
# moves, or all start together), only true Noes. Pushing such a task toward 50% made every family that can
# say Yes say only Yes (a cue worth +11 points on 600 clips); instead its wordings and words are evened out
# around the task's own Yes rate, which leaves the text nothing to tell a Yes from a No by.
AT_TASK_RATE = frozenset({"MAS"})
# MAD is short of Yes in one wording only: its commonest ("while A moved X, did B move Y at the same time?",
# 57% of MAD) has a true Yes in too few clips. Evened out around 50% (and the task pulled there), the other
# wordings made up its Noes with Yeses, so "while" read as No (600 clips, default s1 / s2, reference s1 / s2:
# +3.5 / +4.9 / +5.1 / +3.1 points). Around its own running rate, that rate slid with nothing to hold it (over
# 1,199 clips with the pull capped: 46-49% Yes per 300 questions, then 41, 30, 24, 15%) and the pull toward 50%
# still left "while" at 41% among wordings at 52-62% (+0.7 / +3.5 / +1.3 / +1.4). So MAD's task, its wordings and
# its words are all centred on one fixed rate, about what "while" can reach: 0.0 / +0.3 / -0.8 / -0.3 points when
# introduced, "while" 39-41% Yes, MAD 44-47% per 300 questions over 1,199 clips (bench/RESULTS.md, seventh round).
YES_CENTRE = {"MAD": 0.47}
# MAS's pull toward an even Yes/No stops growing at this many questions of imbalance. Uncapped, it grew
# with the build until it outweighed the per-wording terms: on 600 clips MAS_SEQ asked 41 Yes to 8 No (a wording
# that gives its answer away); capped, 22 / 27 and 20 / 23, MAS's leak +1.5 / +1.0 -> -0.3 / -0.2, at the cost
# of MAS's Yes share (33% -> 28%), which the clips limit anyway (bench/RESULTS.md).
TASK_PULL_CAP = {"MAS": 60}


def _part_keys(parts: Iterable[str]) -> set[str]:
    """The balancer's keys of the body parts a question names (a colon: no word or word pair is one)."""
    return {f"part:{p}" for p in parts}


def _grams(text: str) -> set[str]:
    w = _WORD.findall(text.lower())
    return set(w) | {f"{a} {b}" for a, b in zip(w, w[1:], strict=False)}


class Balancer:
    """Keeps the built questions from giving their answers away and their mix like MA-Bench's.

    Per Yes/No task, every next question is the candidate that best (1) fills the wording (or `SHARED_MIX`
    group) the task is furthest behind on against `MIX`, (2) evens out Yes/No within its wording and template,
    and (3) evens out Yes/No over the words and word pairs it contains (parts, directions, phases, verbs) and
    over the body parts it names (`W_PART`): a text-only model then finds no word that predicts the answer.
    "Even" is 50% Yes, except for MAS (its own running rate, `AT_TASK_RATE`) and MAD (`YES_CENTRE`). The
    correct letter of CMAR / FMAR cycles through the positions in shuffled blocks.
    """

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.yes_no: dict[str, Counter] = {t: Counter() for t in FACTS}
        self.wording: dict[str, Counter] = {t: Counter() for t in FACTS}
        # per (task, key) for wordings, templates and words: questions asked and how many were Yes
        self.asked: Counter = Counter()
        self.yes: Counter = Counter()
        self._slots: dict[str, list[int]] = {}

    def _excess(self, task: str, key: str, rate: float) -> float:
        """Yes minus No among the questions with `key` (twice the Yes beyond half of them); for `AT_TASK_RATE`
        tasks, twice the Yes beyond the task's own running rate; for `YES_CENTRE` tasks, beyond that fixed rate."""
        if task in AT_TASK_RATE:
            return 2 * (self.yes[(task, key)] - rate * self.asked[(task, key)])
        return 2 * (self.yes[(task, key)] - YES_CENTRE.get(task, 0.5) * self.asked[(task, key)])

    def score(self, task: str, wording: str, template: str, answer: str, text: str,
              parts: Iterable[str] = ()) -> float:
        s = 1 if answer == "Yes" else -1
        n = sum(self.wording[task].values())
        rate = self.yes_no[task]["Yes"] / n if n else 0.5
        group = _MIX_GROUP.get((task, wording), (wording,))
        deficit = sum(MIX[task].get(w, 0.0) for w in group) * (n + 1) - sum(self.wording[task][w] for w in group)
        grams = _grams(text)
        gram = sum(self._excess(task, g, rate) for g in grams) / max(len(grams), 1)
        task_bal = 2 * (self.yes_no[task]["Yes"] - YES_CENTRE.get(task, 0.5) * self.yes_no[task].total())
        if task in TASK_PULL_CAP:  # an imbalance the data cannot undo must not outgrow the per-wording terms
            task_bal = max(-TASK_PULL_CAP[task], min(TASK_PULL_CAP[task], task_bal))
        named = _part_keys(parts)
        part = sum(self._excess(task, k, rate) for k in named) / max(len(named), 1)
        return -W_MIX * deficit + W_TASK[task] * s * task_bal + W_WORDING * s * self._excess(task, wording, rate) \
            + W_TEMPLATE[task] * s * self._excess(task, template, rate) + W_GRAMS[task] * s * gram \
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


def pick(task: str, desc: dict, facts: list[Fact], bal: Balancer, rng: random.Random, n: int = 2,
         asked: set | None = None, rewording: Rewording | None = None) -> list[Asked]:
    """The task's `n` questions for one clip, each the best-scored candidate (see `Balancer`); `asked`: the
    fact ids the clip's other tasks ask (`ASKED_PENALTY`). With `rewording`, each candidate is reworded
    before it is scored, so that the balancer evens out the words that will be asked."""
    asked = asked or set()
    chosen: list[Asked] = []
    cands = []
    for f in facts:
        for w in WORDING[task].get(f.family, ()):
            # every template the fact fills: the balancer evens out Yes/No per template as well
            for text, t, said in render(f, w, task, desc, rng):
                reworded = rewording.reword(task, text, rng) if rewording is not None and task in rewording.tasks \
                    else None
                cands.append(Asked(f, w, reworded or text, t, text if reworded else None, said))
    for _ in range(n):
        taken = {fact_id(c.fact) for c in chosen}
        used_parts = {_limbs(c.fact) for c in chosen}
        pool = [c for c in cands if fact_id(c.fact) not in taken]
        if not pool:
            break
        best = min(pool, key=lambda c: bal.score(task, c.wording, c.template, c.fact.answer, c.text,
                                                 c.fact.meta.get("parts", []))
                   + (0.5 if _limbs(c.fact) in used_parts else 0.0)
                   + SECONDARY_PENALTY * bool(SECONDARY_PARTS & set(c.fact.meta.get("parts", [])))
                   + ASKED_PENALTY * (fact_id(c.fact) in asked)
                   + NOISE * rng.random())
        chosen.append(best)
        bal.take(task, best.wording, best.template, best.fact.answer, best.text, best.fact.meta.get("parts", []))
    return chosen


def _options(task: str, correct: str, others: list[str], slot: int, rng: random.Random) -> tuple[str, str]:
    others = rng.sample(others, len(others))
    order = others[:slot] + [correct] + others[slot:]
    letters = TASKS[task].letters
    return "\n".join(f"{letters[i]}. {display_label(o)}" for i, o in enumerate(order)), letters[slot]


# Same-class distractors per FMAR question (as many as the class has), and how often the nearest
# confusable label is among them: MA-Bench varies both (0-4 same-class, mostly 1-3; the confusable one in
# about a third).
SAME_CLASS_COUNTS = (0, 1, 1, 1, 2, 2, 2, 3, 3, 4)
CONFUSABLE_SHARE = 1 / 3


def _weighted_sample(pool: list[str], k: int, rng: random.Random, weights: dict[str, float] | None) -> list[str]:
    """`k` distinct labels of `pool`, each drawn in proportion to `weights` (uniformly without); with weights,
    a label of weight 0 (never an answer in this build) is never drawn, so fewer than `k` may come back."""
    pool, out = [x for x in pool if weights is None or weights.get(x, 0.0) > 0], []
    for _ in range(min(k, len(pool))):
        pick = rng.choices(pool, [weights[x] for x in pool] if weights else None)[0]
        out.append(pick)
        pool.remove(pick)
    return out


def fmar_distractors(fine: str, rng: random.Random, weights: dict[str, float] | None = None) -> list[str]:
    """4 distinct labels other than `fine`: a varying number from its coarse class, the nearest confusable
    label in about a third, the rest from other classes. With `weights` (how often each label is the answer
    in this build), distractors are drawn in that proportion (the confusable label too), and a label that is
    never the answer is not drawn unless the build has fewer than five answer labels (a text-only model
    learns to rule such a label out; on 600 synthetic clips of 34 labels they had been a quarter of all
    distractors)."""
    same = [f for f in COARSE_FINE[FINE_TO_COARSE[fine]] if f != fine]
    other = [f for f in FINE_TO_COARSE if FINE_TO_COARSE[f] != FINE_TO_COARSE[fine]]
    def against_answer(x: str) -> float:  # x's weight against the answer's, at most 1 (1 without weights)
        return 1.0 if weights is None else min(1.0, weights.get(x, 0.0) / max(weights.get(fine, 0.0), 1e-9))

    # the confusable label in about a third of the questions; with weights, as often as its own weight against
    # the answer's allows (a label seldom the answer, shown a third of the time, would be one to rule out)
    picks = [CONFUSABLE[fine]] if rng.random() < CONFUSABLE_SHARE * against_answer(CONFUSABLE[fine]) else []
    k = min(rng.choice(SAME_CLASS_COUNTS), len(same))
    rest_same = [f for f in same if f not in picks and f != CONFUSABLE[fine]]
    drawn = _weighted_sample(rest_same, max(0, min(k - sum(p in same for p in picks), 4 - len(picks))), rng, weights)
    # a small class holds few answer labels, and a rare one among them would be drawn whatever its weight: each
    # same-class pick stays as often as its weight against the answer's allows, the others come from other classes
    picks += [f for f in drawn if weights is None or rng.random() < against_answer(f)]
    rest = [f for f in other if f not in picks and f != CONFUSABLE[fine]]
    picks += _weighted_sample(rest, 4 - len(picks), rng, weights)
    # short still: any label that is an answer (weighted), then, in a build of fewer than five answer labels, any
    for w in (weights, None):
        if len(picks) < 4:
            picks += _weighted_sample([f for f in same + other if f not in picks], 4 - len(picks), rng, w)
    return picks


def _named_directions(a: Asked) -> dict:
    """An order question's parts with the directions it names them by ({"named_directions": {part: code}}, as said:
    one axis where the question names one of a two-axis movement's): the order's answer holds only if each is the
    right one, so `bench/build_validate.py` checks them too. A reworded question names the same
    (`check_paraphrase`)."""
    if a.fact.meta.get("kind") != "order":
        return {}
    slots, f = set(_FIELD.findall(a.template)), a.fact.fields
    named = {f[p]: a.said[d] for p, d in (("a", "dir_a"), ("b", "dir_b")) if d in slots and d in a.said}
    return {"named_directions": named} if named else {}


def _report_meta(f: Fact) -> dict:
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


# Stems taken from a reference benchmark (`mabench build --stems-from FILE`): task -> ((stem, count), ...).
# The project ships its own wording (TEMPLATES); a user who wants the training prompts to match what the
# evaluation will send supplies the evaluation's file at build time, and the four fixed-stem tasks then ask
# with its stems, in its proportions. Nothing of that file is stored in the project.
Stems = dict[str, tuple[tuple[str, int], ...]]
STEM_TASKS = ("CMAR", "FMAR", "MADU", "MARE")
_OPTION_LINE = re.compile(r"^\s*[A-G][.)]")


def question_stem(task: str, question: str) -> str:
    """The fixed part of a CMAR / FMAR question (the text before its first option line) or the whole
    MADU / MARE question, stripped."""
    if task in ("CMAR", "FMAR"):
        lines = question.splitlines()
        cut = next((i for i, line in enumerate(lines) if _OPTION_LINE.match(line)), len(lines))
        return "\n".join(lines[:cut]).strip()
    return question.strip()


def reference_stems(benchmark: Iterable[Any]) -> Stems:
    """The distinct stems of CMAR, FMAR, MADU and MARE in a benchmark (a `Benchmark`, or records with
    `task` and `question`) with how often each is asked, most frequent first; tasks it lacks are absent."""
    counts: dict[str, Counter[str]] = {t: Counter() for t in STEM_TASKS}
    for q in benchmark:
        task, text = (q["task"], q["question"]) if isinstance(q, dict) else (q.task, q.question)
        if task in counts:
            stem = question_stem(task, text)
            if stem:
                counts[task][stem] += 1
    return {t: tuple(sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))) for t, c in counts.items() if c}


def _stem(task: str, rng: random.Random, stems: Stems | None) -> str:
    if stems and stems.get(task):
        texts, weights = zip(*stems[task], strict=True)
        return rng.choices(texts, weights)[0]
    return rng.choice(TEMPLATES[task])


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
    opts, letter = _options("CMAR", cap.coarse, [c for c in COARSE_CLASSES if c != cap.coarse], slot, rng)
    add("CMAR", f"{_stem('CMAR', rng, stems)}\n{opts}", letter, {"kind": "label", "label": cap.coarse,
                                                                      "parts": [], "phase": None})
    slot = bal.letter_slot("FMAR")
    opts, letter = _options("FMAR", cap.fine, fmar_distractors(cap.fine, rng, label_weights), slot, rng)
    add("FMAR", f"{_stem('FMAR', rng, stems)}\n{opts}", letter, {"kind": "label", "label": cap.fine,
                                                                      "parts": [], "phase": None})
    asked: set = set()
    for task, make in FACTS.items():
        facts = make(desc)
        if len({fact_id(f) for f in facts}) < TASKS[task].per_clip:
            facts += [f for f in FALLBACKS[task](desc) if f not in facts]
        for a in pick(task, desc, facts, bal, rng, TASKS[task].per_clip, asked, rewording):
            asked.add(fact_id(a.fact))
            meta = {**_report_meta(a.fact), "wording": a.wording, **_named_directions(a)}
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
    `rewording`: the Yes/No questions in a reference benchmark's phrasings (`builder.phrasings`)."""
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
                meta = {**meta, "reversed_answer": rev}  # the answer were the clip run backwards (build.reversal)
            rec = {"video_name": rec["video_name"], "task": rec["task"], "qid": qid, "question": rec["question"],
                   "answer": rec["answer"], "meta": meta}
            counters[rec["task"]] += 1
            records.append(rec)
    return records
