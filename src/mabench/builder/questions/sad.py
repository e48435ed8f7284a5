"""SAD, single-part action details: where a part moves, in which phase, which way it turns, tilts or leans,
whether it moves at all, toward or away from what, and in which order its own movements come."""

from __future__ import annotations

from mabench.builder.askable import QA_MARGIN, clear
from mabench.builder.questions.common import OPPOSITE, Fact, pair_move_facts, pair_trend_truth, still_parts, yes_no
from mabench.builder.questions.events import sad_event_facts
from mabench.builder.questions.mad import mad_facts, with_context
from mabench.builder.questions.mas import mas_facts
from mabench.builder.questions.spec import TaskSpec
from mabench.motion.descriptors import MOVE, MOVING_PART
from mabench.motion.signals import CARRIED_BY_TRUNK, MOVES_AT, SIGNALS, STILL_UNDER
from mabench.taxonomy import BODY_PARTS, PHASES

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
    # the clip's movement events (`events.sad_event_facts`): {act} is what the part does, in words fit for its kind
    "SAD_EVENT": (
        "During the action, does the {part} {act}?",
        "In this action, does the {part} {act}?",
        "Does the {part} {act} at some point in this micro-action?",
        "Over the course of the action, does the {part} {act}?",
        "In this micro-action, does the {part} {act} at some point?",
    ),
    "SAD_REPEAT": (
        "Does the {part} {act} repeatedly during the action?",
        "In this action, does the {part} {act} repeatedly?",
        "Does the {part} repeatedly {act} in this micro-action?",
        "During the action, does the {part} {act} repeatedly, more than one time?",
        "Is the {part} seen to {act} repeatedly in this action?",
    ),
    # a phase that goes one way and comes back (once or more): "oscillate" / "repeated" would ask for more than once
    "SAD_OSC": (
        "Does the {part} move back and forth {osc} during {when}?",
        "In {when} of this action, does the {part} swing {osc}?",
        "During {when}, does the {part} go back and forth {osc}?",
        "In this action, does the {part} move to and fro {osc} in {when}?",
        "Does the {part} make a back-and-forth movement {osc} in {when}?",
    ),
}


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
                if lab in OPPOSITE and not clear(p, ax):
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
            if v in OPPOSITE and h in OPPOSITE and clear(p, "vertical") and clear(p, "horizontal"):
                base = {"kind": "direction2", "parts": [part], "phase": ph, "axis": "both",
                        "value": [p["dy"], p["dx"]], "margin": QA_MARGIN * MOVE}
                for dv, dh in ((v, h), (OPPOSITE[v], h), (v, OPPOSITE[h]), (OPPOSITE[v], OPPOSITE[h])):
                    ans = "Yes" if (dv, dh) == (v, h) else "No"
                    out.append(Fact("SAD2", {"part": part, "phase": ph, "dir": f"{dv}+{dh}"}, ans,
                                    {**base, "direction": f"{dv}/{dh}"}))
        # the main direction along an axis: stated clearly in some phase, its opposite (or a swing) in none
        for ax in ("vertical", "horizontal"):
            labs = [rec["phases"][ph][ax] for ph in PHASES]
            clear_dirs = {lab for ph, lab in zip(PHASES, labs, strict=True)
                          if lab in OPPOSITE and clear(rec["phases"][ph], ax)}
            if len(clear_dirs) != 1 or any(lab in ("back-and-forth", "unclear") for lab in labs):
                continue
            d = clear_dirs.pop()
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
            if h not in OPPOSITE or x0 is None or abs(x0) < MIDLINE_SIDE or not clear(p, "horizontal"):
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
    still = set(still_parts(desc, BODY_PARTS))
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



def sad_all(desc: dict) -> list[Fact]:
    return sad_event_facts(desc) + sad_facts(desc) + sad_extra_facts(desc) + \
        [f for f in mas_facts(desc) if f.family == "MAS_SEQ"] + \
        [f for f in with_context(desc, mad_facts(desc)) if f.family == "MAD_WHILE"]


# --- each fact kind's answer from the synthetic figure's exact truth (`truth_check`) ---

def _direction_truth(m: dict, answer: str, truth: dict) -> str | None:
    """One direction in one phase."""
    g = truth["facts"]["directions"][m["parts"][0]][m["phase"]][m["axis"]]
    return None if g is None else yes_no(g == m["direction"])


def _midline_truth(m: dict, answer: str, truth: dict) -> str | None:
    """Toward / away from the midline: the horizontal direction that means from where the phase starts."""
    g = truth["facts"]["directions"][m["parts"][0]][m["phase"]]["horizontal"]
    return None if g is None else yes_no(g == m["direction"])


def _direction2_truth(m: dict, answer: str, truth: dict) -> str | None:
    """Both axes in one phase: "upward and leftward"."""
    dirs = truth["facts"]["directions"][m["parts"][0]][m["phase"]]
    gv, gh = dirs["vertical"], dirs["horizontal"]
    return None if gv is None or gh is None else yes_no([gv, gh] == m["directions"])


def _main_direction_truth(m: dict, answer: str, truth: dict) -> str | None:
    """Stated in some phase, its opposite in none (a phase inside the margins is neither; a swing makes it moot)."""
    got = {truth["facts"]["directions"][m["parts"][0]][p][m["axis"]] for p in PHASES}
    d, o = m["direction"], OPPOSITE[m["direction"]]
    if "back-and-forth" in got:
        return None
    return "Yes" if d in got and o not in got else "No" if o in got and d not in got else None


def _stillness_truth(m: dict, answer: str, truth: dict) -> str | None:
    moving = truth["facts"]["moving"][m["parts"][0]]
    return None if moving is None else yes_no(moving)


def _rotation_truth(m: dict, answer: str, truth: dict) -> str | None:
    """A head turn / tilt, a trunk lean, from the exact orientation signal: over the clip, went that way and stood on
    that side at some point, clearly (Yes), or neither beyond its floor (No); in a phase, its direction then."""
    from mabench.synth.truth import GT_SIG_MOVE, GT_SIG_MOVING, GT_SIG_STILL
    sig = truth["facts"].get("signals", {}).get(m["signal"])
    if sig is None or sig["moving"] is None:
        return None
    spec = SIGNALS[m["signal"]]
    word = spec.pos if m["direction"] == spec.pos.split()[-1] else spec.neg
    if m.get("phase") is None:
        went = sig["travel"][0 if word == spec.pos else 1]
        side = sig["level"][1] if word == spec.pos else -sig["level"][0]
        floor = spec.floor
        if went >= GT_SIG_MOVING * floor and side >= GT_SIG_MOVE * floor:
            return "Yes"
        return "No" if went <= GT_SIG_STILL * floor and side <= GT_SIG_STILL * floor else None
    if sig["moving"] is False:
        return "No"
    g = sig["directions"][m["phase"]]
    return None if g is None or g == "back-and-forth" else yes_no(g == word)


TRUTH = {"direction": _direction_truth, "midline": _midline_truth, "direction2": _direction2_truth,
         "main direction": _main_direction_truth, "stillness": _stillness_truth, "rotation": _rotation_truth,
         "pair trend": pair_trend_truth}


SPEC = TaskSpec(
    task="SAD", facts=sad_all, fallback=stillness_facts, templates=TEMPLATES,
    wording={"SAD": ("SAD",), "SAD2": ("SAD_2D",), "SAD_MAIN": ("SAD_MAIN",), "POSITION": ("SAD_STILL",),
             "MOVES": ("SAD_MOVES",), "SAD_MIDLINE": ("SAD_MIDLINE",), "SAD_TOWARD": ("SAD_TOWARD",),
             "SAD_AWAY": ("SAD_AWAY",), "SAD_TURN": ("SAD_TURN",), "SAD_TILT": ("SAD_TILT",),
             "SAD_LEAN": ("SAD_LEAN",), "MAS_SEQ": ("SAD_SEQ",), "MAD_WHILE": ("SAD_WITH",),
             "SAD_OSC": ("SAD_OSC",), "SAD_EVENT": ("SAD_EVENT",), "SAD_REPEAT": ("SAD_REPEAT",)},
    mix={"SAD_MAIN": 0.17, "SAD": 0.10, "SAD_2D": 0.12, "SAD_TURN": 0.03, "SAD_TILT": 0.02, "SAD_LEAN": 0.01,
         "SAD_EVENT": 0.10, "SAD_STILL": 0.11, "SAD_MIDLINE": 0.07, "SAD_SEQ": 0.075, "SAD_TOWARD": 0.02,
         "SAD_AWAY": 0.015, "SAD_MOVES": 0.07, "SAD_WITH": 0.065, "SAD_OSC": 0.01, "SAD_REPEAT": 0.015},
    shared_mix=(("SAD_TOWARD", "SAD_AWAY"), ("SAD_TURN", "SAD_TILT", "SAD_LEAN")),
    phase_nouns=(("phase", 5), ("segment", 5)), time_span_share=0.2, to_the_side_share=0.3,
    w_task=0.3, w_template=0.2, w_grams=0.3, dominant_first=True, truth=TRUTH,
)
