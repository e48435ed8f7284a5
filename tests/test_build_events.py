"""Questions and open answers anchored on the clip's movement events (`mabench.builder.questions.events`,
`mabench.builder.narration`), on hand-made descriptor records whose events say exactly what moves."""

import random
from dataclasses import replace

import pytest

from mabench.builder.captions import caption
from mabench.builder.cues import CONFUSABLE
from mabench.builder.narration import DECIDING, mare_text
from mabench.builder.questions import SPECS, Fact, build_questions
from mabench.builder.questions.events import (
    EVENT_FAMILIES,
    agrees,
    anchor,
    mad_event_facts,
    mas_event_facts,
    mas_hold_facts,
    sad_event_facts,
)
from mabench.motion.events import ClipEvents, Evidence, MovementEvent
from mabench.taxonomy import BODY_PARTS, PHASES

FLOW = Evidence("head own flow", "flow", 4.0, 1.0, "px", "moves")
SKELETON = Evidence("trunk_lean", "skeleton", 10.0, 2.0, "degrees", "moves")


def _event(part, kind, direction, start, end, rhythm="single", strokes=1, returns=False, carried_by=None,
           evidence=(FLOW,), first=None):
    phases = tuple(ph for k, ph in enumerate(PHASES) if start < (k + 1) * 0.6 and end > k * 0.6)
    return MovementEvent(part, kind, direction, first or direction, start, end, 0.1, 4.0, rhythm, strokes, returns,
                         "medium", tuple(evidence), carried_by, 0, f"from about {start:.1f} to {end:.1f} s", phases)


def _desc(events, moving=(), signals=None, clip="c.mp4"):
    ranked = [replace(e, rank=i + 1) for i, e in enumerate(events)]
    still = {"horizontal": "none", "vertical": "none", "dx": 0.0, "dy": 0.0}
    parts = {p: {"moving": p in moving, "visible": True, "amplitude": 0.5 if p in moving else 0.0,
                 "phases": {ph: dict(still) for ph in PHASES}, "rhythm": "single"} for p in BODY_PARTS}
    ev = ClipEvents(ranked, 0 if ranked and ranked[0].carried_by is None else None, "do not follow the head", 1.8)
    return {"clip": clip, "parts": parts, "ranking": list(moving), "signals": signals or {}, "order": [],
            "pairs": {}, "phase_edges": [0.0, 0.6, 1.2, 1.8], "floor": {"moving_at": 0.1}, "events": ev.to_json()}


NOD = _event("head", "head_pitch", "upward", 0.1, 0.9, "repeated", 5, True)
SHAKE = _event("head", "head_yaw", "leftward", 0.3, 0.9, "repeated", 4, True)


def test_sad_asks_the_nod_as_a_repeated_pitch_and_never_as_a_path():
    facts = sad_event_facts(_desc([NOD], moving=("head",)))
    repeat = [f for f in facts if f.family == "SAD_REPEAT"]
    assert [(f.fields["act"], f.answer) for f in repeat] == [("tip up and down", "Yes")]
    direction = [f for f in facts if f.family == "SAD_EVENT"]
    # a repeated movement went both ways: the other side is no true No
    assert [(f.fields["act"], f.answer) for f in direction] == [("tip upward", "Yes")]
    assert all(f.meta["event"]["dominant"] and f.meta["event"]["kind"] == "head_pitch" for f in facts)


def test_a_single_lean_that_holds_is_asked_with_its_other_side_and_its_rhythm_as_no():
    lean = _event("torso", "trunk_lean", "leftward", 0.5, 1.2, evidence=(SKELETON,))
    signals = {"trunk_lean": {"state": "moves", "rhythm": "single", "level": [-9.0, 0.5], "floor": 2.0,
                              "part": "torso"}}
    facts = sad_event_facts(_desc([lean], moving=("torso",), signals=signals))
    got = {(f.family, f.fields["act"], f.answer) for f in facts}
    assert ("SAD_EVENT", "lean to the left", "Yes") in got and ("SAD_EVENT", "lean to the right", "No") in got
    assert ("SAD_REPEAT", "sway from side to side", "No") in got


def test_a_lean_that_comes_back_upright_is_said_as_that():
    """Shoulders right of the hips at +10 degrees, back to 0: the trunk moves leftward but never leans left."""
    back = _event("torso", "trunk_lean", "leftward", 0.5, 1.2, evidence=(SKELETON,))
    signals = {"trunk_lean": {"state": "moves", "rhythm": "single", "level": [-0.3, 10.4], "floor": 2.0,
                              "part": "torso"}}
    desc = _desc([back], moving=("torso",), signals=signals)
    facts = sad_event_facts(desc)
    acts = {(f.fields["act"], f.answer) for f in facts if f.family == "SAD_EVENT"}
    assert acts == {("come back upright from a lean to the right", "Yes")}
    assert not mas_hold_facts(desc)  # "did it lean to the left and stay there" would not be true
    c = caption(desc, "shaking body")
    assert "comes back upright from a lean to the right" in c.madu and "leans to the left" not in c.madu
    assert "comes back upright from a lean to the right" in c.mare  # MADU and MARE tell the same event


def test_while_the_dominant_event_partners_are_asked_in_a_direction_whether_they_move_or_not():
    hand = _event("right hand", "translation", "rightward", 0.35, 0.85, evidence=(Evidence("p", "keypoints", 3, 1,
                                                                                            "tl", "moves"),))
    late = replace(hand, part="left hand", start_s=0.6, end_s=1.4)  # overlaps the turn, but mostly after it
    facts = mad_event_facts(_desc([SHAKE, hand, late], moving=("head", "right hand", "left hand")))
    assert not [f for f in facts if f.fields["a"] == "head" and f.fields["b"] == "left hand"]
    moving = [f for f in facts if f.fields["a"] == "head" and f.fields["b"] == "right hand"]
    assert {(f.fields["act"], f.answer) for f in moving} == {("move to the right", "Yes"), ("move to the left", "No")}
    still = [f for f in facts if f.fields["a"] == "head" and f.fields["b"] == "left foot"]
    # a still partner: four directions, each a No, worded as the moving partner's are (no "did it move?" cue)
    assert sorted(f.fields["act"] for f in still) == ["move downward", "move to the left", "move to the right",
                                                      "move upward"]
    assert {f.answer for f in still} == {"No"} and all(f.fields["doing"] == "turning from side to side" for f in still)


def test_an_event_order_needs_starts_apart_and_a_carried_part_starts_with_its_carrier():
    lean = _event("torso", "trunk_lean", "leftward", 0.2, 1.0, evidence=(SKELETON,))
    arm = _event("right lower arm", "translation", "leftward", 0.8, 1.4, carried_by="torso")
    hand = _event("left hand", "translation", "upward", 0.9, 1.5)
    facts = [f for f in mas_event_facts(_desc([lean, arm, hand], moving=("torso", "left hand")))
             if f.meta.get("relation") in ("before", "after")]
    pairs = {(f.fields["a"], f.fields["b"], f.answer) for f in facts}
    assert ("torso", "left hand", "Yes") in pairs and ("left hand", "torso", "No") in pairs
    assert not any("right lower arm" in (a, b) and "torso" in (a, b) for a, b, _ in pairs)
    # the carried arm (0.8 s) and the hand (0.9 s) start 0.1 s apart: no order between them
    assert not any({a, b} == {"right lower arm", "left hand"} for a, b, _ in pairs)


def test_facts_that_contradict_the_events_are_not_asked():
    """A shaking head is never asked as "moving downward" (its pitch signal drifted with the turn), nor as "not
    moving leftward in the middle phase" while its turn went left then."""
    by_part = {"head": [SHAKE]}
    down = Fact("MAS_DIR", {"a": "head", "b": "left hand", "dir_a": "downward"}, "No",
                {"kind": "order", "parts": ["head", "left hand"], "relation": "never moves"})
    left_no = Fact("SAD", {"part": "head", "phase": "middle", "dir": "leftward"}, "No",
                   {"kind": "direction", "parts": ["head"], "phase": "middle"})
    left_late = Fact("SAD", {"part": "head", "phase": "late", "dir": "leftward"}, "No",
                     {"kind": "direction", "parts": ["head"], "phase": "late"})
    assert not agrees(down, by_part) and not agrees(left_no, by_part) and agrees(left_late, by_part)
    together = Fact("MAS", {"a": "head", "b": "torso"}, "No",
                    {"kind": "order", "parts": ["head", "torso"], "relation": "simultaneous"})
    lean = _event("torso", "trunk_lean", "leftward", 0.8, 1.4)
    assert not agrees(together, {"head": [SHAKE], "torso": [lean]})  # 0.5 s apart: not "together"


def test_a_no_may_name_a_way_no_event_went_where_the_way_is_what_is_asked():
    """"Does the hand move upward and to the left?" No, for a hand whose one movement went down and to the left:
    the contrast that balances the Yes. Before, every such No was dropped with the Yes facts that name a way the
    events never took, and the diagonal direction was asked Yes in 25 of 31 (a synthetic build of 200 clips)."""
    hand = _event("right hand", "translation", "downward and leftward", 0.2, 0.7)
    by_part = {"right hand": [hand]}
    def diag(dirs, answer):
        return Fact("SAD2", {"part": "right hand", "phase": "early", "dir": dirs}, answer,
                    {"kind": "direction2", "parts": ["right hand"], "phase": "early"})
    assert agrees(diag("downward+leftward", "Yes"), by_part)
    assert agrees(diag("upward+leftward", "No"), by_part) and agrees(diag("upward+rightward", "No"), by_part)
    assert not agrees(diag("upward+leftward", "Yes"), by_part)  # a Yes names only ways the events went
    # a way taken as given is a premise, not the question: a false one is not asked, whatever the answer
    premise = Fact("MAS_DIR", {"a": "right hand", "b": "head", "dir_a": "upward"}, "No",
                   {"kind": "order", "parts": ["right hand", "head"], "relation": "before"})
    assert not agrees(premise, by_part)


def test_a_clip_asks_about_its_events_at_most_once_about_rest_and_about_half_yes():
    hand = _event("right hand", "translation", "rightward", 0.4, 1.0, evidence=(Evidence("p", "keypoints", 3, 1,
                                                                                          "tl", "moves"),))
    descs = [_desc([SHAKE, hand], moving=("head", "right hand"), clip=f"c{i}.mp4") for i in range(6)]
    from mabench.builder.captions import caption as cap

    qs = build_questions([(d, cap(d, "shaking head")) for d in descs], seed=0)
    for i in range(6):  # (no part pairs in these records: PPR has nothing to ask)
        yn = [q for q in qs if q["video_name"] == f"c{i}" and q["task"] in ("SAD", "MAD", "MAS")]
        assert len(yn) == 6
        assert sum(bool(q["meta"].get("event")) for q in yn) >= 5
        assert sum(bool(q["meta"].get("at_rest")) for q in yn) <= 1
        assert 2 <= sum(q["answer"] == "Yes" for q in yn) <= 4, [(q["question"], q["answer"]) for q in yn]
        assert any(q["meta"]["family"] in EVENT_FAMILIES and q["meta"]["event"]["dominant"]
                   for q in yn if q["task"] == "SAD")


def test_madu_leads_with_the_dominant_event_and_mare_decides_the_neighbour_by_its_feature():
    desc = _desc([NOD], moving=("head",))
    c = caption(desc, "nodding")
    assert c.madu.startswith("The head tips up and down repeatedly over the early")
    assert "It is not bowing head: that would be a single movement" in c.mare
    assert c.madu.split(". ")[0] in c.mare  # the same event in the same words
    assert not any(w in c.madu for w in ("path", "travels", "strokes", "largest", "noise floor"))
    # a measurement that contradicts the label's side of the feature is not claimed to rule the neighbour out
    single = _desc([_event("head", "head_pitch", "downward", 0.2, 0.8)], moving=("head",))
    text = mare_text(ClipEvents.from_json(single["events"]), "nodding", random.Random(0))
    assert "does not rule it out" in text and "It is not bowing head" not in text


def test_every_deciding_pair_is_a_confusable_pair():
    pairs = {frozenset({a, b}) for a, b in CONFUSABLE.items()}
    assert set(DECIDING) <= pairs
    assert all(set(values) == set(pair) for pair, (_, values) in DECIDING.items())


def test_a_clip_without_events_keeps_the_old_facts_untouched():
    desc = _desc([], moving=())
    del desc["events"]
    facts = SPECS["SAD"].facts(desc)
    metas = [dict(f.meta) for f in facts]
    assert anchor(desc, list(facts)) == facts and [f.meta for f in facts] == metas  # nothing dropped or tagged


def test_a_lean_there_and_back_is_not_asked_as_a_lean_to_the_other_side():
    """A trunk that leans left and comes back upright never leans right: "did it lean left before leaning right" is
    not asked (a limb's path there and back is)."""
    back = _event("torso", "trunk_lean", "leftward", 0.3, 1.2, strokes=2, returns=True, evidence=(SKELETON,))
    hand = _event("left hand", "translation", "upward", 0.3, 1.2, strokes=2, returns=True)
    facts = [f for f in mas_event_facts(_desc([back, hand], moving=("torso", "left hand")))
             if f.family == "MAS_RETURN"]
    assert {f.fields["part"] for f in facts} == {"left hand"}
    assert {(f.fields["act1"], f.fields["then"], f.answer) for f in facts} == {
        ("move upward", "moving downward", "Yes"), ("move downward", "moving upward", "No")}


def test_a_path_there_and_back_is_not_asked_in_order_where_the_flow_saw_the_part_move_before_it():
    """0035's right hand went 16 px left (under the keypoints' floor, in the flow) before its measured path right and
    back (judged): "did it move right first" is then not asked; a hand whose box rested before its path is."""
    hand = _event("right hand", "translation", "rightward", 0.7, 1.5, strokes=2, returns=True)

    def stroke_order(early_dx: float) -> list:
        desc = _desc([hand], moving=("right hand",))
        desc["flow"] = {"parts": {p: {"phases": {ph: {"dx": early_dx if (p, ph) == ("right hand", "early") else 0.0,
                                                        "dy": 0.0, "energy": 0.0} for ph in PHASES}}
                                  for p in BODY_PARTS}}
        return [f for f in mas_event_facts(desc) if f.family == "MAS_RETURN"]

    assert len(stroke_order(0.0)) == 2
    assert stroke_order(-0.08) == []  # torso lengths per second, 0035's early phase


def test_a_part_rests_in_the_flow_within_the_flows_error_in_pixels_not_a_share_of_a_small_torso():
    """The flow's error is in pixels (still synthetic feet with nothing moving near them drift at most 0.16 px in a
    phase): a left foot that drifts 0.15 px in a phase rests at a 48 px torso (0.003 torso lengths would ask 0.14 px
    of it), and the same share of a 300 px torso, 0.94 px, is a movement."""
    from mabench.builder.questions.common import still_parts

    def rests(torso_px: float) -> bool:
        desc = _desc([NOD], moving=("head",))
        drift = 0.15 / 48 / 0.6  # torso lengths per second over a 0.6 s phase: 0.15 px at a 48 px torso
        desc["flow"] = {"torso_px": torso_px, "parts": {
            p: {"phases": {ph: {"dx": drift if (p, ph) == ("left foot", "middle") else 0.0, "dy": 0.0, "energy": 0.0}
                           for ph in PHASES}} for p in BODY_PARTS}}
        return "left foot" in still_parts(desc, BODY_PARTS)

    assert rests(48.0)
    assert not rests(300.0)
    assert "right foot" in still_parts({**_desc([NOD], moving=("head",))}, BODY_PARTS)  # no flow: the keypoints decide


def test_a_wind_up_gets_no_other_side_no_and_a_partial_return_is_neither_held_nor_returned():
    windup = _event("right hand", "translation", "rightward", 0.3, 1.0, first="leftward")
    desc = _desc([windup], moving=("right hand",))
    assert {f.answer for f in sad_event_facts(desc) if f.family == "SAD_EVENT"} == {"Yes"}
    assert not [f for f in mas_hold_facts(desc) if f.answer == "No"]
    partial = _event("right hand", "translation", "rightward", 0.3, 1.0, strokes=2, returns=False)
    assert not mas_hold_facts(_desc([partial], moving=("right hand",)))
    held = _event("right hand", "translation", "rightward", 0.3, 1.0)
    assert {(f.fields["act"], f.answer) for f in mas_hold_facts(_desc([held], moving=("right hand",)))} == {
        ("move to the right", "Yes"), ("move to the left", "No")}


def test_a_rise_is_told_with_its_direction_in_the_questions_words():
    from mabench.builder.narration import what

    sink = _event("torso", "rise", "downward", 0.2, 0.8, evidence=(SKELETON,))
    assert what(sink) == "sinks into the seat"
    assert what(replace(sink, direction="upward", first="upward", returns=True)) == "rises from the seat and comes back"
    assert {f.fields["act"] for f in sad_event_facts(_desc([sink], moving=("torso",)))
            if f.answer == "Yes"} == {"sink into the seat"}


def test_every_fact_kind_the_builder_makes_has_its_truth_check_beside_it():
    from mabench.builder.questions.registry import TRUTH_CHECKS
    from mabench.builder.questions.truth_check import expected
    desc = _desc([NOD, _event("left hand", "translation", "upward", 0.9, 1.4, evidence=(SKELETON,))],
                 moving=("head", "left hand"))
    kinds = {f.meta["kind"] for spec in SPECS.values() for f in spec.facts(desc)}
    assert kinds and kinds <= set(TRUTH_CHECKS), kinds - set(TRUTH_CHECKS)
    for spec in SPECS.values():  # a task's own kinds are checked by its own module's functions
        assert all(TRUTH_CHECKS[k] is c for k, c in spec.truth.items())
    # a kind without a check is refused by name, not scored as unverifiable
    with pytest.raises(ValueError, match="new kind"):
        expected({"qid": "SAD_0001", "task": "SAD", "answer": "Yes", "meta": {"kind": "new kind"}}, {"facts": {}})


def test_no_movement_wording_names_a_label():
    """QC flags a SAD / MAD question that names a label ("while the head was nodding ..." names "nodding")."""
    from mabench.builder.qc import normalize_label
    from mabench.builder.questions.events import _ACTS, _FIXED, _REPEATS
    from mabench.taxonomy import FINE_LABELS
    words = [w for table in (_REPEATS, _ACTS, _FIXED) for pair in table.values() for w in pair]
    labels = [normalize_label(lab) for lab in FINE_LABELS]
    named = [(w, lab) for w in words for lab in labels if f" {lab} " in f" {normalize_label(w)} "]
    assert not named, named
