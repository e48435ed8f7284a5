"""Facts near their thresholds are not asked: found by checking builds against the generator's truth
(`bench/build_validate.py`), each one a wrong answer before."""


import numpy as np

from mabench.builder.askable import QA_MARGIN
from mabench.builder.questions.ppr import ppr_facts
from mabench.builder.questions.sad import stillness_facts
from mabench.motion.signals import summarise
from mabench.taxonomy import BODY_PARTS, PHASES


def test_a_shake_states_no_direction_in_any_phase():
    """Three swings of the head eased in from a standstill (the synthetic "shaking head"): the early phase
    holds the first half swing, whose net change is a piece of the shake, not a turn."""
    times = np.arange(0, 2.32, 1 / 25)
    x = np.clip((times - 0.36) / 1.42, 0, 1)
    s = summarise(0.17 * np.sin(np.pi * x) ** 0.5 * np.sin(2 * np.pi * 3 * x), times, 0.06,
                  "turns rightward", "turns leftward")
    assert s["state"] == "moves" and s["rhythm"] == "repeated"
    assert not {"turns rightward", "turns leftward"} & set(s["phases"].values()), s["phases"]


def _desc() -> dict:
    parts = {p: {"moving": False, "amplitude": 0.01, "visible": True, "source": "keypoints",
                 "phases": {ph: {"horizontal": "none", "vertical": "none"} for ph in PHASES}} for p in BODY_PARTS}
    parts["right hand"].update(moving=True, amplitude=0.5)
    return {"parts": parts, "ranking": ["right hand"], "floor": {"moving_at": 0.12, "trend": 0.1}, "pairs": {},
            "signals": {}}


def test_a_head_whose_turn_is_unclear_is_not_called_still():
    desc = _desc()
    assert any(f.fields.get("part") == "head" and f.answer == "No" for f in stillness_facts(desc))
    desc["signals"]["head_yaw"] = {"part": "head", "state": "unclear", "amplitude": 0.11, "floor": 0.06}
    assert not any(f.fields.get("part") == "head" for f in stillness_facts(desc))


def test_an_approach_just_over_its_threshold_is_not_asked():
    desc = _desc()
    phases = {"early": {"delta": -0.1003, "trend": "approach"},            # over 0.1, not by QA_MARGIN
              "middle": {"delta": -QA_MARGIN * 0.1 - 0.01, "trend": "approach"},
              "late": {"delta": 0.0, "trend": "steady"}}
    desc["pairs"]["right hand|head"] = {"phases": phases}
    asked = {f.fields["phase"] for f in ppr_facts(desc)}
    assert asked == {"middle", "late"}


def test_the_truth_does_not_know_directions_a_signal_inside_its_margins_may_have_made():
    from mabench.builder.questions.truth_check import with_signals

    facts = {"moving": {p: False for p in BODY_PARTS},
             "directions": {p: {ph: {"horizontal": "none", "vertical": "none"} for ph in PHASES} for p in BODY_PARTS},
             "signals": {"head_pitch": {"moving": None}, "head_yaw": {"moving": False}}}
    with_signals(facts)
    assert facts["moving"]["head"] is None
    assert all(facts["directions"]["head"][ph]["vertical"] is None for ph in PHASES)
    assert all(facts["directions"]["head"][ph]["horizontal"] == "none" for ph in PHASES)


def test_a_caption_does_not_call_a_head_still_whose_turn_is_unclear():
    """A synthetic head shake (seed 0) whose turn signal stays just under "moves": the head's centre barely
    moves, but the caption must not say it stays still."""
    from mabench.builder.captions import caption_record
    from mabench.motion.descriptors import describe
    from mabench.motion.skeleton import Skeleton
    from mabench.synth.figure import face_points
    from mabench.synth.generate import ClipSpec, simulate

    spec = ClipSpec(name="c0", label="shaking head", subject=0, seed=0, secondary=0)
    times, pts, _, body, params = simulate(spec)
    sk = Skeleton(points=pts, conf=np.ones(pts.shape[:2]), times=times, width=spec.width, height=spec.height,
                  source="synthetic", face=face_points(params, spec.width, spec.height, body))
    desc = describe(sk)
    assert not desc["parts"]["head"]["moving"] and desc["signals"]["head_yaw"]["state"] == "unclear"
    assert "head" not in caption_record(desc, "shaking head").still


def _truth(onsets: dict, directions: dict) -> dict:
    """A truth record of `bench/build_validate.py`'s shape: 3 s at 25 fps, every part still but those given."""
    dirs = {p: {ph: {"horizontal": "none", "vertical": "none"} for ph in PHASES} for p in BODY_PARTS}
    for p, per_phase in directions.items():
        for ph, d in per_phase.items():
            dirs[p][ph].update(d)
    moving = {p: p in onsets for p in BODY_PARTS}
    return {"spec": {"fps": 25}, "facts": {
        "moving": moving, "onset": {p: onsets.get(p) for p in BODY_PARTS}, "directions": dirs, "order": {},
        "signals": {}, "part_tracks": {p: [[0.0, 0.0]] * 76 for p in BODY_PARTS}}}


def test_the_validator_checks_the_directions_an_order_question_names():
    """The review's case (S10_turning-head_0020): the head nods from 0.6 s and turns right only in the late
    phase; "did the head begin moving rightward before the left foot started?" is not what the onsets say."""
    from mabench.builder.questions.truth_check import expected

    truth = _truth({"head": 0.6, "left foot": 1.3},
                   {"head": {"early": {"vertical": "downward"}, "late": {"horizontal": "rightward"}},
                    "left foot": {"middle": {"horizontal": "leftward"}}})
    truth["facts"]["order"]["head|left foot"] = "before"

    def ask(named, parts=("head", "left foot"), answer="Yes"):
        return expected({"task": "MAS", "qid": "MAS_0000", "question": "", "answer": answer,
                         "meta": {"kind": "order", "family": "MAS_DIR", "parts": list(parts),
                                  "named_directions": named}}, truth)

    assert ask({}) == "Yes"                                   # the onsets alone
    assert ask({"head": "downward", "left foot": "leftward"}) == "Yes"
    assert ask({"head": "downward+leftward"}) == "wrong direction"  # a two-axis start it did not make
    assert ask({"head": "rightward"}) == "wrong direction"    # it set off downward; the turn came 1.4 s later
    assert ask({"left foot": "leftward"}, ("left foot", "head"), "No") == "No"
    assert ask({"head": "rightward"}, ("left foot", "head"), "No") == "wrong direction"  # the head started first
    assert ask({"left foot": "upward"}) == "wrong direction"  # a Yes presumes the later part went up; it never did
    # ... a No does not: the left foot began after the head, whichever way it went
    assert ask({"left foot": "upward", "head": "downward"}, ("left foot", "head"), "No") == "No"
    # an order the truth contradicts is wrong whatever the directions say, known or not
    assert ask({}, ("left foot", "head")) == "No"
    truth["facts"]["directions"]["head"]["early"]["vertical"] = None  # inside the truth's margins
    assert ask({"head": "downward"}) is None
    assert ask({"head": "downward"}, ("left foot", "head")) == "No"


def test_a_head_that_only_turns_gets_its_onset_and_order_from_the_exact_signals():
    from mabench.builder.questions.truth_check import with_signals

    facts = _truth({"right hand": 1.5}, {})["facts"]
    facts["signals"] = {"head_yaw": {"moving": True, "onset": 0.4,
                                     "directions": {ph: "turns rightward" for ph in PHASES}},
                        "head_pitch": {"moving": False}}
    with_signals(facts)
    assert facts["moving"]["head"] is True and facts["onset"]["head"] == 0.4
    assert facts["order"]["head|right hand"] == "before"
    facts["signals"]["head_yaw"]["onset"] = None  # no sharp crossing on the exact series: the order is unknown
    facts["moving"]["head"] = False
    with_signals(facts)
    assert facts["order"]["head|right hand"] is None


def test_a_signal_is_under_way_only_once_it_clears_its_floor():
    """A drift under the floor early (a face point's jitter carries the head's turn signal) and a real turn of 3
    floors late: a quarter of the turn is within the drift, which had set the onset 1.6 s before the turn (a
    noisy synthetic clip, S00_patting-legs_0091: "did the head start moving before the left lower arm? Yes")."""
    times = np.arange(0, 3.0, 1 / 25)
    drift = 0.09 * np.sin(np.pi * np.clip(times / 1.2, 0, 1))
    turn = 0.3 * np.clip((times - 2.0) / 0.5, 0, 1)
    s = summarise(drift + turn, times, 0.1, "turns rightward", "turns leftward")
    assert s["state"] == "moves" and s["floor"] == 0.1
    assert 2.0 < s["onset"] < 2.3, s["onset"]


def test_a_part_whose_signals_moved_before_its_position_has_no_sharp_onset():
    """A head whose turn began at 0.44 s and whose position moved from 1.07 s (S06_shaking-body_0069, seed 1): it
    is not under way at either instant alone, and "did the torso (0.44 s) move before the head?" is not asked."""
    from mabench.motion.descriptors import _from_signals

    parts = {p: {"moving": False, "visible": True} for p in ("head", "torso")}
    parts["head"].update(moving=True, source="keypoints", onset=1.071, onset_uncertainty_s=0.003)
    signals = {"head_yaw": {"state": "moves", "onset": 0.44}, "trunk_lean": {"state": "still"}}
    _from_signals(parts, signals)
    assert parts["head"]["onset"] == 1.071 and parts["head"]["onset_uncertainty_s"] == 0.631
    parts["head"]["onset_uncertainty_s"] = 0.003
    signals["head_yaw"]["onset"] = 1.2  # its position moved first: its onset stands as it was
    _from_signals(parts, signals)
    assert parts["head"]["onset_uncertainty_s"] == 0.003


def test_two_parts_of_one_movement_are_ordered_only_if_their_whole_courses_are_shifted():
    """S17_rising-up_0060 under 2% keypoint jitter: the whole body rises over 1.8 s, and single onset crossings of
    the torso and an arm came 0.65 s apart (truth: 0.02 s). Their distance profiles, frame by frame, are not
    shifted: no order. A profile truly 0.6 s behind the other is."""
    from mabench.motion.descriptors import _lag_agrees

    times = np.arange(0, 3.0, 1 / 25)

    def rise(t0):
        return np.clip((times - t0) / 1.8, 0, 1)

    def unit(p):
        p = p - p.mean()
        return p / np.linalg.norm(p)

    torso, arm = unit(rise(0.6)), unit(rise(0.62) + 0.03 * np.sin(9 * times))
    assert not _lag_agrees(torso, arm, times, 0.65)
    late = unit(rise(1.2))
    assert _lag_agrees(torso, late, times, 0.65)
    assert not _lag_agrees(torso, late, times, -0.65)  # the onsets put it first: the courses say otherwise
    # a gap longer than half the clip (synth600b S17_sitting-straightly_0113: 1.8 s of 3.28) had shifted the
    # profiles past each other and raised on an empty overlap, losing the clip; shifts stop at half the clip
    short = np.arange(0, 1.6, 1 / 15)  # a real MA-52 clip's length and rate
    a, b = unit(np.clip((short - 0.1) / 0.4, 0, 1)), unit(np.clip((short - 1.0) / 0.4, 0, 1))
    assert _lag_agrees(a, b, short, 0.9)
    assert not _lag_agrees(a, b, short, -1.2)
    # three frames at 15 fps are LEAD_S (0.2 s), not a rounding error under it
    c = unit(np.clip((short - 0.3) / 0.4, 0, 1))
    assert _lag_agrees(a, c, short, 0.2)
