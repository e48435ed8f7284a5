"""What every task's facts share: the `Fact` record, opposite directions, and the tests a fact's parts
pass (which limb a segment is, which parts stay still, in which direction a part set off)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from mabench.builder.askable import askable_trend, clear
from mabench.motion.descriptors import LEAD_S, MOVING_PART, TREND
from mabench.motion.flow import FLOW_FLOOR_MIN
from mabench.motion.signals import settled
from mabench.taxonomy import PHASES

OPPOSITE = {"upward": "downward", "downward": "upward", "leftward": "rightward", "rightward": "leftward"}


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


def title(part: str) -> str:
    return " ".join(w.capitalize() for w in part.split())


# A part the keypoints call still may still move by less than their noise (on real clips ~15 px: feet that rise
# 20 px as the trunk straightens). Where the clip has optical flow, a part is at rest only if its box's net drift
# in every phase stays within twice the flow's own error as well: `REST_FLOW` in torso lengths
# (`mabench.motion.flow.FLOW_FLOOR_MIN`), and at least `REST_FLOW_PX` flow pixels, as the flow's error is in pixels
# (a small figure's parts are not held to a fraction of its error; bench/RESULTS.md, the flow builds).
REST_FLOW = 2 * FLOW_FLOOR_MIN
REST_FLOW_PX = 0.2


def _flow_still(desc: dict, part: str, until: float | None = None) -> bool:
    """Whether the part's box drifts no more than the rest threshold in every phase (every phase that ends by
    `until`, s)."""
    record = desc.get("flow") or {}
    flow = record.get("parts", {}).get(part)
    edges = desc.get("phase_edges")
    if not flow or not edges:
        return True  # no flow (a synthetic build, `--no-flow`): the keypoints alone decide
    spans = dict(zip(PHASES, np.diff(edges), strict=False))
    ends = dict(zip(PHASES, edges[1:], strict=False))
    torso_px = record.get("torso_px")  # (absent from records written before it was)
    rest = max(REST_FLOW, REST_FLOW_PX / torso_px) if torso_px else REST_FLOW
    return all(float(np.hypot(v["dx"], v["dy"])) * spans.get(ph, 0.0) <= rest
               for ph, v in flow.get("phases", {}).items() if until is None or ends.get(ph, 0.0) <= until)


def still_before(desc: dict, part: str, start_s: float, uncertainty_s: float) -> bool:
    """Whether the part rests in the flow before its event starts (the phases that end by its start, give or take
    its uncertainty): a stroke under the keypoints' floor there (a hand's 16 px wind-up on 0035, judged) would be
    its first stroke."""
    return _flow_still(desc, part, start_s + uncertainty_s)


def still_parts(desc: dict, candidates) -> list[str]:
    """Parts that stay still: not moving, under half the clip's moving threshold (so not a movement just short
    of it), and still in the optical flow where the clip has it (`REST_FLOW`)."""
    moving_at = desc.get("floor", {}).get("moving_at", MOVING_PART)
    signals = desc.get("signals", {})
    return [p for p in candidates if not desc["parts"][p]["moving"] and desc["parts"][p].get("visible", True)
            and desc["parts"][p]["amplitude"] <= 0.5 * moving_at and settled(signals, p) and _flow_still(desc, p)]


def directions_elsewhere(rec: dict, ph: str, ax: str) -> list[str]:
    return sorted({rec["phases"][q][ax] for q in PHASES if q != ph} & set(OPPOSITE))


def limb(part: str) -> str:
    """The limb a segment belongs to ("left hand" -> "left arm"), or the part itself (head, torso)."""
    side, _, rest = part.partition(" ")
    return f"{side} arm" if rest in ("upper arm", "lower arm", "hand") else \
        f"{side} leg" if rest in ("upper leg", "lower leg", "foot") else part


def same_limb(a: str, b: str) -> bool:
    """Two segments of one limb (left hand / left lower arm) move as one; comparing them says little. (The head
    and torso are no limb.)"""
    whole = limb(a)
    return whole == limb(b) and whole != a


def limbs(f: Fact) -> tuple[str, ...]:
    """What a fact is about, limb by limb: the task's second question about the same limbs (the left hand, then
    the left lower arm, against the head) says little new."""
    return tuple(sorted(limb(p) for p in f.meta.get("parts", [])))


def first_move(rec: dict) -> tuple[int, str | None] | None:
    """The first phase that states a direction for the part (its index), and that direction where it clears
    QA_MARGIN: both axes ("upward+leftward") when both do, else the one that does; None for the direction when
    neither does (a movement that barely clears its threshold is not named)."""
    for k, ph in enumerate(PHASES):
        p = rec["phases"][ph]
        stated = [ax for ax in ("vertical", "horizontal") if p[ax] in OPPOSITE]
        if stated:
            named = [p[ax] for ax in stated if clear(p, ax)]
            return k, "+".join(named) if named else None
    return None


def first_direction(rec: dict) -> str | None:
    """The part's first stated direction, where it clears QA_MARGIN (see `first_move`)."""
    first = first_move(rec)
    return first[1] if first else None


def onset_direction(rec: dict, edges: list[float] | None) -> str | None:
    """The direction of the movement that starts at the part's onset: its first stated direction, provided the
    phase stating it is under way by then (it begins no later than LEAD_S after the onset, and does not end before
    it). A head that nods first and turns right in a later phase started its rightward turn long after its onset:
    "did the head begin moving rightward before B?" would not be what the onsets measured."""
    first, onset = first_move(rec), rec.get("onset")
    if first is None or first[1] is None or onset is None or not edges:
        return None
    k, code = first
    return code if under_way(edges, k, onset) else None


def under_way(edges, k: int, onset: float) -> bool:
    """Whether phase `k` (between `edges[k]` and `edges[k + 1]`) is under way by a part's onset: it begins no later
    than LEAD_S after it and does not end before it."""
    return bool(edges[k] <= onset + LEAD_S and onset < edges[k + 1])


def fields_key(f: Fact) -> tuple:
    """What a fact fills its templates with: two facts with the same fields render the same questions."""
    return tuple(sorted(f.fields.items()))


def one_per_question(facts: list[Fact]) -> list[Fact]:
    """One fact per question its fields render. Two that render it with different answers (an onset order and an
    order by phases can disagree when a part moves one way, then the other): the data is ambiguous there, ask
    neither. Two with the same answer (an onset order the phases tell as well): the first; under different ids they
    would be asked as two questions of one clip, and one is all they are."""
    answers: dict[tuple, set[str]] = {}
    for f in facts:
        answers.setdefault(fields_key(f), set()).add(f.answer)
    seen: set[tuple] = set()
    out = []
    for f in facts:
        key = fields_key(f)
        if len(answers[key]) == 1 and key not in seen:
            seen.add(key)
            out.append(f)
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
            if not askable_trend(p, margin):
                continue
            base = {"kind": "pair trend", "parts": [a, b], "phase": ph, "trend": p["trend"], "value": p["delta"],
                    "margin": margin}
            f = {"part": a, "a": a, "b": b, "phase": ph}
            out.append(Fact(f"{task}_TOWARD", f, "Yes" if p["trend"] == "approach" else "No",
                            {**base, "direction": "approach"}))
            out.append(Fact(f"{task}_AWAY", f, "Yes" if p["trend"] == "apart" else "No",
                            {**base, "direction": "apart"}))
    return out



def yes_no(b: bool) -> str:
    return "Yes" if b else "No"


def pair_trend_truth(m: dict, answer: str, truth: dict) -> str | None:
    """"Do the hand and the head approach each other in the early phase": the truth's trend of the pair then."""
    g = truth["facts"]["pairs"].get(f"{m['parts'][0]}|{m['parts'][1]}", {}).get(m["phase"])  # (PAIRS only)
    return None if g is None else yes_no(g == m["direction"])
