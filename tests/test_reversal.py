"""The reversed truth's rules (`mabench.builder.reversal`) on a descriptor written by hand: a head that rises early
and drops late, a torso that stops early, a hand that approaches the head early and moves away late."""

from __future__ import annotations

from mabench.builder.reversal import reversed_answer


def _phase(vertical: str, dy: float, trend_margin: float = 0.09) -> dict:
    return {"vertical": vertical, "horizontal": "none", "dx": 0.0, "dy": dy, "margin": trend_margin}


DESC = {
    "parts": {
        "head": {"phases": {"early": _phase("upward", 0.5), "middle": _phase("none", 0.0),
                            "late": _phase("downward", -0.5)}, "onset": 0.1, "offset": 1.9},
        "torso": {"phases": {"early": _phase("upward", 0.3), "middle": _phase("unclear", 0.05),
                             "late": _phase("upward", 0.1)}, "onset": 0.1, "offset": 0.9},
        "left hand": {"phases": {"early": _phase("none", 0.0), "middle": _phase("none", 0.0),
                                 "late": _phase("none", 0.0)}, "onset": None, "offset": None},
    },
    "pairs": {"left hand|head": {"phases": {"early": {"trend": "approach", "delta": -0.5},
                                            "middle": {"trend": "steady", "delta": 0.0},
                                            "late": {"trend": "apart", "delta": 0.5}}}},
    "floor": {},
}


def _sad(part: str, phase: str, direction: str) -> dict:
    return {"kind": "direction", "parts": [part], "phase": phase, "axis": "vertical", "direction": direction}


def test_directions_flip_and_phases_mirror():
    # early, backwards, is the late phase reversed: the head's drop becomes a rise
    assert reversed_answer("SAD", "Yes", _sad("head", "early", "upward"), DESC) == "Yes"
    assert reversed_answer("SAD", "No", _sad("head", "early", "downward"), DESC) == "No"
    assert reversed_answer("SAD", "Yes", _sad("head", "late", "downward"), DESC) == "Yes"
    # the torso rises early and (a little) late: backwards, its early phase falls (the late rise reversed)
    assert reversed_answer("SAD", "Yes", _sad("torso", "early", "upward"), DESC) is None  # late 0.1: below the margin
    strong = {**DESC, "parts": {**DESC["parts"], "torso": {**DESC["parts"]["torso"], "phases": {
        **DESC["parts"]["torso"]["phases"], "late": _phase("upward", 0.4)}}}}
    assert reversed_answer("SAD", "Yes", _sad("torso", "early", "upward"), strong) == "No"
    # a phase the descriptor calls unclear settles nothing
    assert reversed_answer("SAD", "No", _sad("torso", "middle", "downward"), DESC) is None
    # a rule that does not give the question's own answer forwards is not this question's
    assert reversed_answer("SAD", "No", _sad("head", "early", "upward"), DESC) is None


def test_pair_trends_orders_and_what_reversal_keeps():
    ppr = {"kind": "pair trend", "parts": ["left hand", "head"], "phase": "early", "trend": "approach",
           "direction": "approach"}
    assert reversed_answer("PPR", "Yes", ppr, DESC) == "Yes"  # the late moving-apart, reversed, approaches
    assert reversed_answer("PPR", "No", {**ppr, "direction": "apart"}, DESC) == "No"
    assert reversed_answer("PPR", "No", {**ppr, "phase": "middle", "direction": "approach"}, DESC) == "No"
    # onsets: torso and head start together; backwards the head (which stops last) starts first
    order = {"kind": "order", "parts": ["head", "torso"], "relation": "before"}
    assert reversed_answer("MAS", "Yes", order, DESC) == "Yes"
    assert reversed_answer("MAS", "No", {**order, "parts": ["torso", "head"], "contrast": "swapped order"},
                           DESC) == "No"
    assert reversed_answer("MAS", "Yes", {**order, "named_directions": {"head": "upward"}}, DESC) is None
    assert reversed_answer("MAS", "No", {"kind": "order", "parts": ["left hand", "head"], "relation": "never moves"},
                           DESC) == "No"
    # the net direction over the whole clip flips; how far a part moves, and whether it moves, do not
    main = {"kind": "main direction", "parts": ["head"], "direction": "upward"}
    assert reversed_answer("SAD", "Yes", main, DESC) == "No"
    assert reversed_answer("SAD", "No", {**main, "contrast": "flipped direction"}, DESC) == "Yes"
    assert reversed_answer("MAD", "Yes", {"kind": "amplitude", "parts": ["head", "torso"]}, DESC) == "Yes"
    assert reversed_answer("SAD", "No", {"kind": "stillness", "parts": ["left hand"]}, DESC) == "No"
    assert reversed_answer("CMAR", "A", {"kind": "label", "parts": ["head"]}, DESC) is None
