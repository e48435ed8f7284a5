"""Head turns and tilts, trunk leans: asked as rotations from the orientation signals (`qa.rotation_facts`)."""

import numpy as np
import pytest

from mabench.build.paraphrase import check_paraphrase
from mabench.build.qa import OPPOSITE, QA_MARGIN, rotation_facts
from mabench.motion.descriptors import describe
from mabench.motion.signals import MOVES_AT, STILL_UNDER
from mabench.motion.skeleton import Skeleton
from mabench.synth.figure import face_points
from mabench.synth.generate import ClipSpec, simulate
from mabench.synth.truth import signal_truth
from mabench.taxonomy import BODY_PARTS


def _desc(signals: dict) -> dict:
    return {"parts": {p: {"visible": True} for p in BODY_PARTS}, "signals": signals}


def _sig(state: str, reach: list[float], floor: float = 0.06, rhythm: str = "single") -> dict:
    return {"part": "head", "unit": "ear widths", "state": state, "floor": floor, "amplitude": max(reach),
            "reach": reach, "rhythm": rhythm}


def _answers(desc: dict) -> dict:
    return {(f.fields["verb"], f.fields["dir"]): f.answer for f in rotation_facts(desc)}


def test_a_turn_one_way_is_yes_that_way_and_no_the_other():
    # yaw's positive side is "turns rightward"; it went 0.3 ear widths right and never left
    assert _answers(_desc({"head_yaw": _sig("moves", [0.3, 0.0])})) == {("turn", "rightward"): "Yes",
                                                                         ("turn", "leftward"): "No"}


def test_near_a_threshold_nothing_is_asked():
    floor = 0.06
    just_moving = MOVES_AT * floor * 1.05  # moves, but not by QA_MARGIN over the threshold
    just_over_floor = STILL_UNDER * floor / QA_MARGIN * 1.1
    assert _answers(_desc({"head_yaw": _sig("moves", [just_moving, just_over_floor], floor)})) == {}


def test_a_shake_and_an_unclear_signal_are_not_asked():
    assert _answers(_desc({"head_yaw": _sig("moves", [0.3, 0.3], rhythm="repeated")})) == {}
    assert _answers(_desc({"head_yaw": _sig("unclear", [0.1, 0.0])})) == {}


def test_a_still_head_neither_turns_nor_tilts():
    desc = _desc({"head_yaw": _sig("still", [0.01, 0.0]),
                  "head_roll": {**_sig("still", [0.5, 1.0], floor=3.0), "unit": "degrees"}})
    assert set(_answers(desc).values()) == {"No"} and len(_answers(desc)) == 4


def test_a_hidden_head_is_not_asked():
    desc = _desc({"head_yaw": _sig("moves", [0.3, 0.0])})
    desc["parts"]["head"]["visible"] = False
    assert rotation_facts(desc) == []


@pytest.mark.parametrize(("label", "signal", "verb"), [("tilting head", "head_roll", "tilt"),
                                                      ("turning head", "head_yaw", "turn")])
def test_synthetic_head_rotations_agree_with_the_exact_signal(label, signal, verb):
    """The v2 figure turns and tilts its head: the facts, read after smoothing against the clip's floors, name
    the way the exact face points went (`synth.truth.signal_truth`) and deny the way they never went."""
    checked = 0
    for seed in range(6):
        spec = ClipSpec(name=f"c{seed}", label=label, subject=seed, seed=seed, secondary=0)
        times, pts, _, body, params = simulate(spec)
        face = face_points(params, spec.width, spec.height, body)
        sk = Skeleton(points=pts, conf=np.ones(pts.shape[:2]), times=times, width=spec.width, height=spec.height,
                      source="synthetic", face=face)
        exact = signal_truth(pts, times, face)[signal]["reach"]  # (its positive side, its negative side)
        went = "rightward" if exact[0] > exact[1] else "leftward"
        got = {f.fields["dir"]: f.answer for f in rotation_facts(describe(sk)) if f.fields["verb"] == verb}
        assert got.get(went) in (None, "Yes") and got.get(OPPOSITE[went]) in (None, "No"), (seed, got, exact)
        checked += got.get(went) == "Yes"
    assert checked >= 4


@pytest.mark.parametrize(("template", "reply"), [
    ("During the action, does the head turn to the left?", "During the action, does the head tilt to the left?"),
    ("During the action, does the head tilt to the left?", "During the action, does the head move to the left?"),
    ("In this action, does the torso lean rightward?", "In this action, does the torso turn rightward?"),
    ("Does the head move leftward in the early phase?", "Does the head turn leftward in the early phase?"),
])
def test_a_reply_that_trades_one_rotation_for_another_is_rejected(template, reply):
    assert check_paraphrase(template, reply) is not None


def test_a_reply_that_keeps_the_rotation_passes():
    assert check_paraphrase("During the action, does the head turn to the left?",
                            "Does the head turn leftward at some point during the action?") is None
