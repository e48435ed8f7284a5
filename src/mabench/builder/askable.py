"""When a descriptor's reading is clear enough to ask about: the builder asks only these, and the reversed truth
(`builder.reversal`) reads only these."""

from __future__ import annotations

from mabench.motion.descriptors import MOVE

QA_MARGIN = 1.3  # a direction is asked about only when it clears the descriptors' margin by this factor


def clear(phase: dict, axis: str) -> bool:
    """The phase's net change along `axis` clears QA_MARGIN x the margin it was decided with (the move
    threshold, or the clip's flow floor for a head seen by flow). Directions read off orientation or
    posture signals (margin None) were decided against their own floors with a margin already."""
    margin = phase.get("margin", MOVE)
    if margin is None:
        return True
    return abs(phase["dx" if axis == "horizontal" else "dy"]) >= QA_MARGIN * margin


def askable_trend(phase: dict, margin: float) -> bool:
    """A pair's trend in a phase is stated (approach / apart / steady), and an approach / apart clears its
    threshold by QA_MARGIN, as a direction does (a steady pair was decided under its own, lower threshold)."""
    return phase["trend"] == "steady" or (phase["trend"] in ("approach", "apart")
                                          and abs(phase["delta"]) >= QA_MARGIN * margin)
