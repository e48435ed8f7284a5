"""Head turns and tilts, trunk leans: asked as rotations from the orientation signals (`sad.rotation_facts`)."""

import numpy as np
import pytest

from mabench.builder.askable import QA_MARGIN
from mabench.builder.paraphrase import check_paraphrase
from mabench.builder.questions.sad import rotation_facts
from mabench.motion.signals import MOVES_AT, SIGNALS, STILL_UNDER, describe_signals
from mabench.motion.skeleton import JOINTS, J, Skeleton
from mabench.taxonomy import BODY_PARTS

T = np.arange(0, 2.0, 1 / 25)
RAMP = np.clip((T - 0.5) / 0.8, 0, 1)  # still, then a movement, then held


def _skeleton(nose_dx=0.0, right_ear_dy=0.0, shoulders_dx=0.0) -> Skeleton:
    """A figure facing the camera, image y down: hips at (100, 200), neck at (100, 100), ears 20 px apart
    around (100, 60), the nose between them; each argument a displacement in px reached over RAMP."""
    pts = np.zeros((len(T), len(JOINTS), 2))
    for name, (x, y) in {"left_hip": (110, 200), "right_hip": (90, 200), "neck": (100, 100),
                         "left_shoulder": (120, 100), "right_shoulder": (80, 100), "head": (100, 60)}.items():
        pts[:, J[name]] = (x, y)
    for name in ("neck", "left_shoulder", "right_shoulder"):
        pts[:, J[name], 0] += shoulders_dx * RAMP
    ones = np.ones(len(T))
    # the subject's left ear is on the image's right (it faces the camera)
    face = {"nose": np.stack([100 + nose_dx * RAMP, 62 * ones, ones], 1),
            "left_ear": np.stack([110 * ones, 60 + right_ear_dy * RAMP, ones], 1),
            "right_ear": np.stack([90 * ones, 60 * ones, ones], 1)}
    return Skeleton(points=pts, conf=np.ones(pts.shape[:2]), times=T, width=200, height=240, face=face)


@pytest.mark.parametrize(("kwargs", "name", "word"), [
    ({"nose_dx": 4.0}, "head_yaw", "turns rightward"),      # the nose goes to the image's right of the ears
    ({"nose_dx": -4.0}, "head_yaw", "turns leftward"),
    ({"right_ear_dy": 6.0}, "head_roll", "tilts rightward"),  # the ear on the image's right drops: the top
    ({"right_ear_dy": -6.0}, "head_roll", "tilts leftward"),  # of the head goes right
    ({"shoulders_dx": 12.0}, "trunk_lean", "sways rightward"),  # shoulders to the image's right of the hips
])
def test_signs_are_image_directions_as_seen(kwargs, name, word):
    sig = describe_signals(_skeleton(**kwargs))["signals"][name]
    assert sig["state"] == "moves" and sig["peak"] == word
    assert SIGNALS[name].pos == word or SIGNALS[name].neg == word


def _desc(**signals) -> dict:
    still = {"state": "still", "travel": [0.0, 0.0], "level": [0.0, 0.0], "floor": 1.0}
    base = {n: {"part": SIGNALS[n].part, **still} for n in ("head_yaw", "head_roll", "trunk_lean")}
    return {"parts": {p: {"visible": True} for p in BODY_PARTS}, "signals": {**base, **signals}}


def _yaw(travel, level, state="moves", rhythm="single", floor=0.06) -> dict:
    return {"part": "head", "state": state, "rhythm": rhythm, "floor": floor, "travel": travel, "level": level}


def _answers(desc: dict, verb: str = "turn") -> dict:
    return {f.fields["dir"]: f.answer for f in rotation_facts(desc) if f.fields["verb"] == verb}


def test_a_turn_held_one_way_is_yes_that_way_and_no_the_other():
    assert _answers(_desc(head_yaw=_yaw([0.3, 0.0], [0.0, 0.3]))) == {"rightward": "Yes", "leftward": "No"}


def test_a_turn_out_and_back_is_not_asked_about_the_way_back():
    """Turned right and back to the front: it went left on the way back but never faced left."""
    assert _answers(_desc(head_yaw=_yaw([0.3, 0.3], [0.0, 0.3]))) == {"rightward": "Yes"}


def test_a_trunk_straightening_from_a_lean_does_not_lean_the_other_way():
    lean = {"part": "torso", "state": "moves", "rhythm": "single", "floor": 2.0, "travel": [9.0, 0.0],
            "level": [-9.0, 0.0]}  # leaning 9 degrees left at the start, upright at the end
    assert _answers(_desc(trunk_lean=lean), "lean") == {}


def test_a_head_held_tilted_is_not_asked_whether_it_tilts_that_way():
    held = {"part": "head", "state": "still", "floor": 3.0, "travel": [0.5, 0.5], "level": [-17.0, -16.5]}
    assert _answers(_desc(head_roll=held), "tilt") == {"rightward": "No"}


def test_a_leaning_trunk_or_an_unsettled_other_rotation_keeps_the_head_unasked():
    lean = {"part": "torso", "state": "moves", "rhythm": "single", "floor": 2.0, "travel": [9.0, 0.0],
            "level": [0.0, 9.0]}
    turn = _yaw([0.3, 0.0], [0.0, 0.3])
    assert _answers(_desc(head_yaw=turn, trunk_lean=lean)) == {}
    assert _answers(_desc(head_yaw=turn, trunk_lean=lean), "lean") == {"rightward": "Yes", "leftward": "No"}
    unclear_roll = {"part": "head", "state": "unclear", "floor": 3.0, "travel": [4.0, 0.0], "level": [0.0, 4.0]}
    assert _answers(_desc(head_yaw=turn, head_roll=unclear_roll)) == {}


def test_near_a_threshold_a_shake_and_an_unclear_signal_are_not_asked():
    floor = 0.06
    just_moving = MOVES_AT * floor * 1.05  # moves, but not by QA_MARGIN over the threshold
    just_over_floor = STILL_UNDER * floor / QA_MARGIN * 1.1
    assert _answers(_desc(head_yaw=_yaw([just_moving, just_over_floor], [-just_over_floor, just_moving]))) == {}
    assert _answers(_desc(head_yaw=_yaw([0.3, 0.3], [-0.3, 0.3], rhythm="repeated"))) == {}
    assert _answers(_desc(head_yaw=_yaw([0.1, 0.0], [0.0, 0.1], state="unclear"))) == {}


def test_an_edge_on_reading_and_a_hidden_head_are_not_asked():
    edge = {"part": "head", "state": "moves", "rhythm": "single", "floor": 3.0, "travel": [80.0, 0.0],
            "level": [0.0, 80.0]}  # the ear line flips near profile
    assert _answers(_desc(head_roll=edge), "tilt") == {}
    desc = _desc(head_yaw=_yaw([0.3, 0.0], [0.0, 0.3]))
    desc["parts"]["head"]["visible"] = False
    assert _answers(desc) == {}


def test_measured_from_a_figure_the_facts_follow_the_image():
    """End to end through the signal reader: a nose moving 4 px right of the ears is a turn to the right."""
    sig = describe_signals(_skeleton(nose_dx=4.0))["signals"]
    assert _answers({"parts": {p: {"visible": True} for p in BODY_PARTS}, "signals": sig}) == {
        "rightward": "Yes", "leftward": "No"}
    sig = describe_signals(_skeleton(shoulders_dx=12.0))["signals"]
    assert _answers({"parts": {p: {"visible": True} for p in BODY_PARTS}, "signals": sig}, "lean") == {
        "rightward": "Yes", "leftward": "No"}


@pytest.mark.parametrize(("template", "reply"), [
    ("During the action, does the head turn to the left?", "During the action, does the head tilt to the left?"),
    ("During the action, does the head tilt to the left?", "During the action, does the head move to the left?"),
    ("In this action, does the torso lean rightward?", "In this action, does the torso turn rightward?"),
    ("Does the head move leftward in the early phase?", "Does the head turn leftward in the early phase?"),
    ("Does the head move leftward in the early phase?", "Does the head tip leftward in the early phase?"),
])
def test_a_reply_that_trades_one_movement_for_another_is_rejected(template, reply):
    assert check_paraphrase(template, reply) is not None


def test_a_reply_that_keeps_the_rotation_passes():
    assert check_paraphrase("During the action, does the head turn to the left?",
                            "Does the head rotate leftward at some point during the action?") is None
