"""PPR, part-to-part relations: whether two parts approach, move apart or keep their distance in a phase."""

from __future__ import annotations

from mabench.builder.askable import askable_trend
from mabench.builder.questions.common import Fact, pair_trend_truth, title
from mabench.builder.questions.spec import TaskSpec
from mabench.motion.descriptors import PAIRS, TREND, TRUNK_PAIRS, pair_name
from mabench.taxonomy import PHASES

TEMPLATES: dict[str, tuple[str, ...]] = {
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
}


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
            if not askable_trend(p, margin):
                continue
            base = {"kind": "pair trend", "parts": [a, b], "phase": ph, "trend": trend, "value": p["delta"],
                    "margin": margin}
            f = {"A": title(a), "B": title(b), "phase": ph}
            out.append(Fact("PPR", f, "Yes" if trend == "approach" else "No", {**base, "direction": "approach"}))
            out.append(Fact("PPR_APART", f, "Yes" if trend == "apart" else "No", {**base, "direction": "apart"}))
            out.append(Fact("PPR_STEADY", f, "Yes" if trend == "steady" else "No", {**base, "direction": "steady"}))
    return out


SPEC = TaskSpec(
    task="PPR", facts=ppr_facts, fallback=lambda d: ppr_facts(d, TRUNK_PAIRS), templates=TEMPLATES,
    wording={"PPR": ("PPR",), "PPR_APART": ("PPR_APART",), "PPR_STEADY": ("PPR_STEADY",)},
    mix={"PPR": 0.78, "PPR_APART": 0.18, "PPR_STEADY": 0.04},
    phase_nouns=(("phase", 13), ("stage", 6), ("segment", 1)), time_span_share=0.03,
    w_task=0.3, w_template=0.3, w_grams=0.1, truth={"pair trend": pair_trend_truth},
)
