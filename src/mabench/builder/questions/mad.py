"""MAD, multi-part action details: how two parts move against each other in a phase (while, same or
opposite direction), which moves more, which starts first, and toward or away from each other."""

from __future__ import annotations

from typing import Any

from mabench.builder.askable import clear
from mabench.builder.questions.common import (
    OPPOSITE,
    Fact,
    directions_elsewhere,
    pair_move_facts,
    same_limb,
    still_parts,
    yes_no,
)
from mabench.builder.questions.events import mad_event_facts
from mabench.builder.questions.mas import mas_facts
from mabench.builder.questions.spec import TaskSpec
from mabench.motion.descriptors import MOVE, MOVING_PART
from mabench.taxonomy import BODY_PARTS, PHASES

AMPLITUDE_RATIO = 1.5   # "moves more than": the larger amplitude must be this many times the smaller

TEMPLATES: dict[str, tuple[str, ...]] = {
    "MAD_WHILE": (
        "While the {a} was moving {dir_a} in {when}, did the {b} simultaneously move {dir_b}?",
        "During {when}, while the {a} moved {dir_a}, did the {b} move {dir_b} at the same time?",
        "In {when}, while the {a} was moving {dir_a}, was the {b} moving {dir_b} as well?",
        "While the {a} was shifting {dir_a} during {when}, did the {b} simultaneously shift {dir_b}?",
        "During {when} when the {a} was moving {dir_a}, did the {b} perform a {dir_b} movement at the same time?",
        "While the {a} performed its {dir_a} movement in {when}, did the {b} simultaneously move {dir_b}?",
    ),
    # a partner against one of the clip's movement events (`events.mad_event_facts`)
    "MAD_DURING": (
        "While the {a} was {doing}, did the {b} {act}?",
        "While the {a} was {doing}, did the {b} simultaneously {act}?",
        "While the {a} was {doing}, did the {b} {act} at the same time?",
        "At the same time as the {a} was {doing}, did the {b} {act}?",
        "While the {a} was {doing}, did the {b} also {act}?",
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
}


def mad_facts(desc: dict) -> list[Fact]:
    out = []
    parts = desc["parts"]
    moving = desc.get("ranking", [])[:5]
    for a in moving:  # both orders: "while A moves, does B ..." and "while B moves, does A ..."
        for b in moving:
            if a == b or same_limb(a, b):
                continue  # "the hand and the lower arm move together" is trivially true
            for ph in PHASES:
                for ax in ("horizontal", "vertical"):
                    la, lb = parts[a]["phases"][ph][ax], parts[b]["phases"][ph][ax]
                    if (la in OPPOSITE and not clear(parts[a]["phases"][ph], ax)) or \
                            (lb in OPPOSITE and not clear(parts[b]["phases"][ph], ax)):
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
                            for d in directions_elsewhere(parts[b], ph, ax):
                                out.append(Fact("MAD_WHILE", {"a": a, "b": b, "phase": ph, "dir_a": la,
                                                              "dir_b": d}, "No",
                                                {**base, "kind": "while", "direction": f"{la}/{d}",
                                                 "contrast": "b moves that way in another phase"}))
    amps = {p: parts[p]["amplitude"] for p in parts}
    out += _against_still(desc, ("torso", "head", "left hand", "right hand"))
    for i, a in enumerate(moving):
        for b in list(moving[i + 1:]) + [p for p in ("head", "torso") if p not in moving]:
            if same_limb(a, b):
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


def _against_still(desc: dict, candidates) -> list[Fact]:
    """A moving part against a part that stays still: "does the still one move more?" is a true No,
    whatever units the moving one was measured in (keypoints, flow or signals)."""
    out = []
    parts = desc["parts"]
    moving_at = desc.get("floor", {}).get("moving_at", MOVING_PART)
    for a in desc.get("ranking", [])[:2]:
        for b in still_parts(desc, candidates):
            if same_limb(a, b):
                continue
            amps = [parts[a]["amplitude"], parts[b]["amplitude"]]
            base = {"kind": "amplitude", "parts": [a, b], "phase": None, "value": amps,
                    "margin": 0.5 * moving_at, "contrast": "b stays still"}
            out.append(Fact("MAD_AMP", {"a": a, "b": b}, "Yes", base))
            out.append(Fact("MAD_AMP", {"a": b, "b": a}, "No", {**base, "parts": [b, a], "value": amps[::-1]}))
    return out


def with_context(desc: dict, facts: list[Fact]) -> list[Fact]:
    """"While the head was moving downward and leftward": the given part's movement in both axes when both
    are stated clearly in that phase (the asked part's direction stays one axis, the one checked)."""
    for f in facts:
        if f.family != "MAD_WHILE":
            continue
        p = desc["parts"][f.fields["a"]]["phases"][f.fields["phase"]]
        other = "horizontal" if f.meta["axis"] == "vertical" else "vertical"
        if p[other] in OPPOSITE and clear(p, other):
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
                if la not in OPPOSITE or not clear(parts[a]["phases"][ph], ax):
                    continue
                for b in still_parts(desc, BODY_PARTS):
                    if same_limb(a, b):
                        continue
                    for d in (la, OPPOSITE[la]):
                        out.append(Fact("MAD_WHILE", {"a": a, "b": b, "phase": ph, "dir_a": la, "dir_b": d}, "No",
                                        {"kind": "while", "parts": [a, b], "phase": ph, "axis": ax,
                                         "direction": f"{la}/{d}", "margin": MOVE, "contrast": "b stays still",
                                         "value": [parts[a]["phases"][ph]["dx" if ax == "horizontal" else "dy"],
                                                   parts[b]["amplitude"]]}))
    return out




def mad_all(desc: dict) -> list[Fact]:
    return mad_event_facts(desc) + with_context(desc, mad_facts(desc) + while_still_facts(desc)) + \
        pair_move_facts(desc, "MAD") + \
        [f for f in mas_facts(desc) if f.family in ("MAS", "MAS_DIR")]


# --- each fact kind's answer from the synthetic figure's exact truth (`truth_check`) ---

def _pair_truth(m: dict, answer: str, truth: dict) -> str | None:
    """Same direction, opposite directions, or each its own ("while") in one phase, on one axis."""
    dirs = truth["facts"]["directions"]
    ga, gb = (dirs[p][m["phase"]][m["axis"]] for p in m["parts"])
    if ga is None or gb is None:
        return None
    if m["kind"] == "same direction":
        return yes_no(ga == m["direction"] and gb == m["direction"])
    if m["kind"] == "opposite directions":
        return yes_no(ga in OPPOSITE and OPPOSITE[ga] == gb)
    da, db = m.get("directions") or (m["direction"], m["direction"])
    return yes_no(ga == da and gb == db)


AMPLITUDE_MARGIN = 1.2  # the truth's larger amplitude over the smaller that decides "moved more"


def _amplitude_truth(m: dict, answer: str, truth: dict) -> str | None:
    aa, ab = (truth["facts"]["amplitude"][p] for p in m["parts"])
    return None if max(aa, ab) < AMPLITUDE_MARGIN * min(aa, ab) else yes_no(aa > ab)


TRUTH = {"same direction": _pair_truth, "opposite directions": _pair_truth, "while": _pair_truth,
         "amplitude": _amplitude_truth}


SPEC = TaskSpec(
    task="MAD", facts=mad_all, fallback=lambda d: _against_still(d, BODY_PARTS), templates=TEMPLATES,
    wording={"MAD_WHILE": ("MAD_WHILE",), "MAD_SAME": ("MAD_SAME",), "MAD_OPP": ("MAD_OPP",),
             "MAD_AMP": ("MAD_AMP",), "MAS": ("MAD_ORDER0",), "MAS_DIR": ("MAD_ORDER",),
             "MAD_TOWARD": ("MAD_TOWARD",), "MAD_AWAY": ("MAD_AWAY",), "MAD_DURING": ("MAD_DURING",)},
    mix={"MAD_WHILE": 0.38, "MAD_DURING": 0.20, "MAD_AMP": 0.11, "MAD_SAME": 0.12, "MAD_ORDER": 0.085,
         "MAD_ORDER0": 0.015, "MAD_OPP": 0.05, "MAD_TOWARD": 0.02, "MAD_AWAY": 0.02},
    shared_mix=(("MAD_TOWARD", "MAD_AWAY"), ("MAD_WHILE", "MAD_DURING")),
    phase_nouns=(("segment", 7), ("phase", 3)), time_span_share=0.3,
    w_task=0.3, w_template=0.5, w_grams=1.0, yes_centre=0.47, truth=TRUTH,
)
