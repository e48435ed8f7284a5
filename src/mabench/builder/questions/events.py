"""Questions anchored on the clip's movement events (`mabench.motion.events`).

A clip's events say which parts move and how: a head that turns, nods or tilts, a trunk that leans or
straightens, a hand that travels. The task specs ask about them in words that fit each kind (a rotation
turns, tilts or nods; it never "moves downward"), and every other fact is tagged with the event of its parts
(`anchor`), so that `balance.pick` can prefer facts about what moves and ask at most one about parts at
rest. An event is askable when it is the part's own (not carried by the trunk), of medium or high
confidence, with a known side.
"""

from __future__ import annotations

import numpy as np

from mabench.builder.questions.common import OPPOSITE, Fact, same_limb, still_before, still_parts
from mabench.motion.events import ClipEvents, MovementEvent
from mabench.motion.signals import MOVES_AT
from mabench.taxonomy import BODY_PARTS

# the skeleton or face-point signal an event kind is read on (its truth in the synthetic figure, too)
EVENT_SIGNAL = {"head_yaw": "head_yaw", "head_pitch": "head_pitch", "head_roll": "head_roll",
                "trunk_lean": "trunk_lean", "trunk_length": "trunk_length", "rise": "hip_height"}
SIDE = {"leftward": "to the left", "rightward": "to the right"}
# (kind, direction) -> what the part does, as a verb phrase and as "-ing" ("the head turns to the left")
_ACTS = {
    "head_yaw": ("turn {side}", "turning {side}"),
    "head_pitch": ("tip {dir}", "tipping {dir}"),
    "head_roll": ("tilt {side}", "tilting {side}"),
    "trunk_lean": ("lean {side}", "leaning {side}"),
    "translation": ("move {side}", "moving {side}"),
}
_FIXED = {("trunk_length", "upward"): ("straighten up", "straightening up"),
          ("trunk_length", "downward"): ("slump down", "slumping down"),
          ("rise", "upward"): ("rise from the seat", "rising from the seat"),
          ("rise", "downward"): ("sink into the seat", "sinking into the seat")}
# a repeated movement, said without a side
_REPEATS = {"head_yaw": ("turn from side to side", "turning from side to side"),
            "head_pitch": ("tip up and down", "tipping up and down"),  # not "nod": a label's name (QC's leakage)
            "head_roll": ("tilt from side to side", "tilting from side to side"),
            "trunk_lean": ("sway from side to side", "swaying from side to side"),
            "translation": ("move back and forth", "moving back and forth")}
# the families made from events (the rest are tagged with an event by `anchor`)
EVENT_FAMILIES = frozenset({"SAD_EVENT", "SAD_REPEAT", "MAD_DURING", "MAS_EVENT", "MAS_RETURN", "MAS_HOLD"})
ORDER_GAP_S = 0.4    # two events' starts this far apart are in order: each start is known to ~0.1 s, twice over
REPEATED_STROKES = 4  # "more than once": three changes of direction at least (the truth's own count, not two)
SINGLE_STROKES = 2    # ... and "only once": there and back at most
HOLD_S = 0.3          # a movement that ends this long before the clip does is seen to hold, or come back


def clip_events(desc: dict) -> ClipEvents | None:
    """The clip's events, or None for descriptors written before events (or of another events version)."""
    raw = desc.get("events")
    if not raw:
        return None
    try:
        return ClipEvents.from_json(raw)
    except (ValueError, TypeError, KeyError):
        return None


def askable(ev: ClipEvents | None) -> list[MovementEvent]:
    """The clip's own events of medium or high confidence with a known side, dominant first."""
    if ev is None:
        return []
    return [e for e in ev.events if e.carried_by is None and e.confidence != "low" and e.direction != "unclear"
            and (e.kind in _ACTS or (e.kind, e.direction) in _FIXED)]


# a carried rotation that is the carrier's own rotation in the image (a leaning trunk tilts the head with it); any
# other rotation "carried" by the trunk (a head "nodding upward" as the trunk straightens) is the head riding along,
# and is not stated as a rotation
CARRIED_ROTATIONS = frozenset({("head_roll", "trunk_lean")})


def rides(e: MovementEvent, ev: ClipEvents) -> bool:
    """Whether `e` is a carried rotation that is no rotation of its own: the part only rides its carrier."""
    if e.carried_by is None or not e.is_rotation:
        return False
    carriers = {c.kind for c in ev.events if c.part == e.carried_by and c.carried_by is None}
    return not any((e.kind, k) in CARRIED_ROTATIONS for k in carriers)


# A lean, tilt or turn read on a signal that also says where the part stands (the skeleton, face points that
# follow the head) may end short of its side: a trunk leaning right that comes back upright moves leftward but
# never leans left. Such an event is said as what it is, a return toward upright from the other side.
_RECOVERS = {"trunk_lean": ("come back upright from a lean {side}", "coming back upright from a lean {side}"),
             "head_roll": ("tilt back upright from a tilt {side}", "tilting back upright from a tilt {side}"),
             "head_yaw": ("turn back to the front from a turn {side}", "turning back to the front from a turn {side}")}


def recovers(desc: dict, e: MovementEvent) -> bool:
    """Whether the event moves toward its side without reaching it (`_RECOVERS`), by the signal's levels."""
    signal = EVENT_SIGNAL.get(e.kind)
    sig = desc.get("signals", {}).get(signal or "", {})
    if e.kind not in _RECOVERS or "level" not in sig or e.direction not in ("leftward", "rightward") or \
            not any(v.source in ("skeleton", "face_points") and v.state == "moves" for v in e.evidence):
        return False
    low, high = sig["level"]
    side = high if e.direction == "rightward" else -low
    return side < MOVES_AT * sig["floor"]


def phrase(desc: dict, e: MovementEvent, ing: bool = False) -> str | None:
    """What the event's part does, as a question says it: repeated, a return toward upright, or one way."""
    if e.rhythm == "repeated":
        return repeat_act(e, ing)
    if recovers(desc, e):
        return _RECOVERS[e.kind][ing].format(side=SIDE[OPPOSITE[e.direction]])
    return act(e, ing=ing)


def act(e: MovementEvent, direction: str | None = None, ing: bool = False) -> str | None:
    """What the event's part does in words ("turn to the left", "straighten up"), in `direction` (default: the
    event's own), or None where it has no words (a two-axis path, a twist)."""
    d = direction or e.direction
    if (e.kind, d) in _FIXED:
        return _FIXED[(e.kind, d)][ing]
    if e.kind not in _ACTS or d not in OPPOSITE:
        return None
    return _ACTS[e.kind][ing].format(side=SIDE.get(d, d), dir=d)


def repeat_act(e: MovementEvent, ing: bool = False) -> str | None:
    return _REPEATS[e.kind][ing] if e.kind in _REPEATS else None


def event_meta(e: MovementEvent, ev: ClipEvents) -> dict:
    """What a question's `meta.event` says of the event it is about."""
    dom = ev.dominant_event
    return {"part": e.part, "kind": e.kind, "direction": e.direction, "first": e.first, "rhythm": e.rhythm,
            "strokes": e.strokes, "span_s": [e.start_s, e.end_s], "rank": e.rank, "confidence": e.confidence,
            "dominant": dom is not None and e == dom, "carried_by": e.carried_by}


def _meta(kind: str, e: MovementEvent, ev: ClipEvents, parts: list[str], **extra) -> dict:
    signal = EVENT_SIGNAL.get(e.kind)
    return {"kind": kind, "parts": parts, "phase": None, "event": event_meta(e, ev),
            **({"signal": signal} if signal else {}), **extra}


def sad_event_facts(desc: dict) -> list[Fact]:
    """"Does the head turn to the left" (the event's side: Yes; the other side, where a single movement never
    went that way: No) and "does the head tip up and down more than once" (repeated: Yes; one stroke or there
    and back: No)."""
    ev = clip_events(desc)
    out = []
    for e in askable(ev):
        assert ev is not None
        mine = phrase(desc, e) if e.rhythm == "single" else act(e)
        if mine is not None:
            out.append(Fact("SAD_EVENT", {"part": e.part, "act": mine}, "Yes",
                            _meta("event direction", e, ev, [e.part], direction=e.direction)))
            other = OPPOSITE.get(e.direction)
            theirs = act(e, other) if other else None
            if theirs is not None and e.rhythm == "single" and not e.returns and e.strokes <= SINGLE_STROKES \
                    and e.first == e.direction and not recovers(desc, e):  # (a wind-up to the other side: not asked)
                out.append(Fact("SAD_EVENT", {"part": e.part, "act": theirs}, "No",
                                _meta("event direction", e, ev, [e.part], direction=other,
                                      contrast="the other side")))
        # asked where both answers can be told: a limb's "only once" cannot (`_once`), so neither is its "more than
        # once" (a wording that is only ever Yes gives its answer away)
        rep = repeat_act(e) if e.kind != "translation" else None
        if rep is not None and (e.strokes >= REPEATED_STROKES or (e.strokes <= SINGLE_STROKES and _once(desc, e))):
            yes = e.strokes >= REPEATED_STROKES
            out.append(Fact("SAD_REPEAT", {"part": e.part, "act": rep}, "Yes" if yes else "No",
                            _meta("rhythm", e, ev, [e.part], direction="repeated",
                                  **({} if yes else {"contrast": f"{e.strokes} stroke(s)"}))))
    return out


def _once(desc: dict, e: MovementEvent) -> bool:
    """"Only once" needs a second reading: the signal's own course read as a single movement too. Not asked of
    a limb's path: a hand's small strokes on top of a large one (scratching after a reach) fall under both the
    event's stroke threshold and the path's reversals (synthetic builds: hands called single that scratch)."""
    signal = EVENT_SIGNAL.get(e.kind)
    return signal is not None and desc.get("signals", {}).get(signal, {}).get("rhythm") == "single"


def _overlap(a: MovementEvent, b: MovementEvent) -> float:
    """Share of `b`'s span inside `a`'s."""
    inside = min(a.end_s, b.end_s) - max(a.start_s, b.start_s)
    return max(0.0, inside) / max(b.end_s - b.start_s, 1e-6)


TOGETHER = 0.8  # share of each span inside the other's that makes two independent movements simultaneous


def together(a: MovementEvent, b: MovementEvent) -> bool:
    """Whether `b` happens while `a` does: carried by it (it starts and stops with its carrier), or, for two
    independent movements, each mostly inside the other's span. Spans of real clips are off by up to ~0.3 s
    (a head turn that starts at 0.0 s read from 0.3 s), so a partial overlap says nothing either way."""
    if b.carried_by == a.part:
        return True
    return _overlap(a, b) >= TOGETHER and _overlap(b, a) >= TOGETHER


def mad_event_facts(desc: dict) -> list[Fact]:
    """"While the head was turning to the left, did the right hand move to the right": a partner event inside the
    movement's span (Yes), its other side where it never went there (No), and a partner that stays still
    ("did the left foot move as well": No)."""
    ev = clip_events(desc)
    own = askable(ev)
    out: list[Fact] = []
    if ev is None:
        return out
    still = still_parts(desc, BODY_PARTS)
    for a in own:
        doing = phrase(desc, a, ing=True)
        if doing is None:
            continue
        for b in ev.events:
            if b.part == a.part or b.confidence == "low" or not together(a, b) or b.direction == "unclear" \
                    or rides(b, ev):
                continue
            theirs = phrase(desc, b)
            if theirs is None:
                continue
            base = _meta("during", a, ev, [a.part, b.part], partner=event_meta(b, ev))
            out.append(Fact("MAD_DURING", {"a": a.part, "doing": doing, "b": b.part, "act": theirs}, "Yes",
                            {**base, "direction": b.direction}))
            other = OPPOSITE.get(b.direction)
            flipped = act(b, other) if other and b.rhythm == "single" and not b.returns and b.first == b.direction \
                and not recovers(desc, b) else None
            if flipped is not None:
                out.append(Fact("MAD_DURING", {"a": a.part, "doing": doing, "b": b.part, "act": flipped}, "No",
                                {**base, "direction": other, "contrast": "the partner's other side"}))
        for part in still:  # asked in a direction, as a moving partner is, so the wording tells nothing
            if part != a.part:
                out += [Fact("MAD_DURING", {"a": a.part, "doing": doing, "b": part, "act": f"move {SIDE.get(d, d)}"},
                             "No", _meta("during", a, ev, [a.part, part], direction=d, contrast="b stays still"))
                        for d in OPPOSITE]
    return out


def mas_event_facts(desc: dict) -> list[Fact]:
    """"Did the torso start leaning to the left before the right hand started moving to the left": two events
    whose starts are ORDER_GAP_S apart (Yes, and swapped No); and "did the left hand move upward before it moved
    back downward" for a single movement there and back (Yes, and swapped No)."""
    ev = clip_events(desc)
    out: list[Fact] = []
    if ev is None:
        return out
    events = [e for e in ev.events if e.confidence != "low" and e.direction != "unclear" and not rides(e, ev)]
    for a in events:
        for b in events:
            if a.part == b.part or same_limb(a.part, b.part) or b.start_s - a.start_s < ORDER_GAP_S \
                    or (a.carried_by and b.carried_by) \
                    or a.part in (b.carried_by, b.part) or b.part == a.carried_by:
                continue  # a part carried by another starts when its carrier does, whatever the spans say
            da, db = (phrase(desc, x, ing=True) for x in (a, b))
            if da is None or db is None:
                continue
            gap = round(b.start_s - a.start_s, 3)
            base = _meta("event order", a, ev, [a.part, b.part], partner=event_meta(b, ev), value=gap,
                         margin=ORDER_GAP_S)
            out.append(Fact("MAS_EVENT", {"a": a.part, "doing_a": da, "b": b.part, "doing_b": db}, "Yes",
                            {**base, "relation": "before"}))
            out.append(Fact("MAS_EVENT", {"a": b.part, "doing_a": db, "b": a.part, "doing_b": da}, "No",
                            {**base, "parts": [b.part, a.part], "relation": "after", "contrast": "swapped order"}))
    still = still_parts(desc, BODY_PARTS)
    for e in askable(ev):  # a part that never moves started nothing before the event (asked as the others are)
        doing = phrase(desc, e, ing=True)
        if doing is None or e.rhythm == "repeated":  # (a repeated one is seldom second in a true order: its
            continue                                 # words would read as No)
        out += [Fact("MAS_EVENT", {"a": part, "doing_a": f"moving {SIDE.get(d, d)}", "b": e.part, "doing_b": doing},
                     "No", _meta("event order", e, ev, [part, e.part], direction=d, contrast="a stays still"))
                for part in still if part != e.part for d in OPPOSITE]
    for e in askable(ev):
        back = OPPOSITE.get(e.first)
        there, then = act(e, e.first), act(e, back, ing=True) if back else None
        # a limb's path there and back once: not a repeated movement (which of its strokes came first rests on
        # where a small one counts: 3 of 15 wrong on a synthetic build), nor a first stroke to the other side of the
        # largest (a wind-up), nor a lean, tilt or turn (there and back, it comes back upright or to the front; it
        # does not lean or turn the other way), nor one whose part moved in the flow before it started
        if not (e.returns and e.rhythm == "single") or e.kind != "translation" or e.first != e.direction \
                or there is None or then is None or not still_before(desc, e.part, e.start_s, e.time_uncertainty_s):
            continue
        base = _meta("stroke order", e, ev, [e.part], margin=None)
        out.append(Fact("MAS_RETURN", {"part": e.part, "act1": there, "then": then}, "Yes",
                        {**base, "direction": f"{e.first}/{back}"}))
        out.append(Fact("MAS_RETURN", {"part": e.part, "act1": act(e, back) or "", "then": act(e, e.first, True) or ""},
                        "No", {**base, "direction": f"{back}/{e.first}", "contrast": "swapped order"}))
    return out


# a fact's fields that name a part and the direction it names it by
_NAMED = (("part", "dir"), ("part", "d1"), ("part", "d2"), ("a", "dir_a"), ("b", "dir_b"))
# ... and the pair whose direction is what the question asks ("does the left hand move upward?"): a No may name a
# way the part's events never went (the contrast). Elsewhere the direction is taken as given ("did the head start
# moving downward before ...?"), and a way no event went is a false premise, whatever the answer.
_ASKED = ("part", "dir")


def _ways(events: list[MovementEvent]) -> set[str]:
    """Every direction a part's events went: their sides and first strokes, and back where they return or
    repeat."""
    out: set[str] = set()
    for e in events:
        words = {w for d in (e.direction, e.first) for w in d.split(" and ") if w in OPPOSITE}
        out |= words | ({OPPOSITE[w] for w in words} if e.returns or e.rhythm == "repeated" else set())
    return out


def _order_agrees(f: Fact, by_part: dict[str, list[MovementEvent]]) -> bool:
    """An onset order of two parts with events: "they start together" needs the events' starts within their
    uncertainty of each other, "A before B" needs them not the other way round beyond it."""
    parts = f.meta.get("parts", [])
    if f.meta.get("kind") != "order" or len(parts) != 2 or not all(p in by_part for p in parts):
        return True
    a, b = (min(e.start_s for e in by_part[p]) for p in parts)
    slack = 2 * max(e.time_uncertainty_s for p in parts for e in by_part[p])
    if f.meta.get("relation") == "simultaneous":
        return abs(a - b) < slack
    if f.meta.get("relation") in ("before", "after"):  # a Yes names the first part first, a swapped No second
        return (a - b <= slack) if f.answer == "Yes" else (b - a <= slack)
    return True


def agrees(f: Fact, by_part: dict[str, list[MovementEvent]]) -> bool:
    """Whether a fact names only directions its parts' events took (a part without events is not judged here;
    a No to "does it move that way?" may name a way they never went, `_ASKED`).
    The descriptors read each signal and part on its own; the events weigh them together and set aside a
    drag, a carried course or a witness that does not follow the head: where the two differ, the fact is not
    asked (a head that shakes is never "moving downward" because its pitch signal drifted with the turn)."""
    if not _order_agrees(f, by_part):
        return False
    for part_key, dir_key in _NAMED:
        part, code = f.fields.get(part_key), f.fields.get(dir_key)
        if part is None or code is None or part not in by_part:
            continue
        named = set(code.split("+"))
        if not named <= _ways(by_part[part]) and (f.answer == "Yes" or (part_key, dir_key) != _ASKED):
            return False
        phase = f.meta.get("phase")
        if f.answer == "No" and phase and any(phase in e.phases and named <= _ways([e]) for e in by_part[part]):
            return False  # "did it move that way then?" No, while an event of it went that way then
    return True


def mas_hold_facts(desc: dict) -> list[Fact]:
    """"Did the left hand move upward and then stay there?": one movement that ends HOLD_S or more before the
    clip does, held (Yes) or brought back (No). A rotation of the head is not asked (its side rests on the flow's
    sign alone where the face points do not follow the head)."""
    ev = clip_events(desc)
    edges = desc.get("phase_edges") or []
    out: list[Fact] = []
    if ev is None or not edges:
        return out
    for e in askable(ev):
        done = act(e)
        held_to_the_end = not e.returns and e.end_s > edges[-1] - HOLD_S  # no time left to see it hold
        if e.is_rotation or e.rhythm != "single" or done is None or held_to_the_end or recovers(desc, e):
            continue
        if not e.returns and e.strokes != 1:
            continue  # it came part of the way back: neither held nor returned
        out.append(Fact("MAS_HOLD", {"part": e.part, "act": done}, "No" if e.returns else "Yes",
                        _meta("hold", e, ev, [e.part], direction=e.direction, relation="returns" if e.returns
                              else "holds", **({"contrast": "it comes back"} if e.returns else {}))))
        other = OPPOSITE.get(e.direction)
        flipped = act(e, other) if other and not e.returns and e.strokes <= SINGLE_STROKES and e.first == e.direction \
            else None
        if flipped is not None:  # the other side: it never went there
            out.append(Fact("MAS_HOLD", {"part": e.part, "act": flipped}, "No",
                            _meta("hold", e, ev, [e.part], direction=other, relation="holds",
                                  contrast="the other side")))
    return out


def _masked_head_amplitude(f: Fact, desc: dict, ev: ClipEvents) -> bool:
    """An amplitude comparison with a head whose keypoints are face points that may not follow it (a masked face,
    or one the flow could not check): the face points jitter on a mosaic, and their travel is not the head's."""
    return f.meta.get("kind") == "amplitude" and "head" in f.meta.get("parts", []) and ev.face_points != "follow" \
        and desc["parts"]["head"].get("source", "keypoints") == "keypoints"


def anchor(desc: dict, facts: list[Fact]) -> list[Fact]:
    """The facts whose named directions agree with the clip's events (`agrees`), each tagged with the event it is
    about (the highest-ranked event of its parts whose span meets the fact's phase; a fact made from an event
    has its own) and whether its only subjects are parts at rest."""
    ev = clip_events(desc)
    if ev is None:
        return facts
    by_part: dict[str, list[MovementEvent]] = {}
    for e in ev.events:
        if e.confidence != "low":
            by_part.setdefault(e.part, []).append(e)
    moving = {p for p, r in desc["parts"].items() if r.get("moving")}
    facts = [f for f in facts if agrees(f, by_part) and not _masked_head_amplitude(f, desc, ev)]
    for f in facts:
        parts = f.meta.get("parts", [])
        if "event" not in f.meta:
            ph = f.meta.get("phase")
            found = [e for p in parts for e in by_part.get(p, []) if ph is None or ph in e.phases]
            if found:
                f.meta["event"] = event_meta(min(found, key=lambda e: e.rank), ev)
        f.meta["at_rest"] = bool(parts) and not any(p in by_part or p in moving for p in parts)
    return facts


# --- each event fact kind's answer from the synthetic figure's exact truth (`truth_check`) ---
# (the truth has no spans: a partner's movement is checked over the clip)
HELD = 0.7           # share of its furthest distance a held part stays at (a returned one: 1 - HELD)
FIRST_STROKE = 0.3   # share of its largest excursion along the axis that makes a part's first stroke
TRACK_MOVES = 0.05   # torso lengths a part's path must reach for its strokes or its hold to be judged


def _direction_truth(m: dict, answer: str, truth: dict) -> str | None:
    from mabench.builder.questions.truth_check import went
    return went(truth["facts"], m["parts"][0], m.get("signal"), m["direction"])


def _rhythm_truth(m: dict, answer: str, truth: dict) -> str | None:
    from mabench.builder.questions.truth_check import repeats
    return repeats(truth["facts"], m["parts"][0], m.get("signal"))


def _during_truth(m: dict, answer: str, truth: dict) -> str | None:
    """The partner's movement, or that it moves at all."""
    from mabench.builder.questions.truth_check import repeats, went
    f, parts, partner = truth["facts"], m["parts"], m.get("partner")
    if partner is None:
        moving = f["moving"].get(parts[1])
        return None if moving is None else {True: "Yes", False: "No"}[moving]
    signal = EVENT_SIGNAL.get(partner["kind"])
    if partner["rhythm"] == "repeated":
        return repeats(f, parts[1], signal)
    return went(f, parts[1], signal, m["direction"])


def _stroke_order_truth(m: dict, answer: str, truth: dict) -> str | None:
    """The first of the part's strokes along the axis went the first-named way."""
    from mabench.builder.questions.truth_check import AXIS
    d1, d2 = m["directions"]
    if m.get("signal") and m["event"]["kind"] != "translation":
        return None
    track = np.asarray(truth["facts"]["part_tracks"][m["parts"][0]], dtype=float)  # torso lengths, y up
    axis = 0 if AXIS[d1] == "horizontal" else 1
    disp = track[:, axis] - track[0, axis]
    peak = float(np.max(np.abs(disp)))
    if peak < TRACK_MOVES:
        return None
    first = disp[np.flatnonzero(np.abs(disp) >= FIRST_STROKE * peak)[0]]
    way = ("rightward" if first > 0 else "leftward") if axis == 0 else ("upward" if first > 0 else "downward")
    return "Yes" if way == d1 else "No" if way == d2 else None


def _hold_truth(m: dict, answer: str, truth: dict) -> str | None:
    """A limb's path ends near its furthest point (held) or near its start (brought back)."""
    from mabench.builder.questions.truth_check import went
    if m["event"]["kind"] != "translation":
        return None
    if m.get("contrast") == "the other side":  # "did it move downward and then hold": it never went down
        return "No" if went(truth["facts"], m["parts"][0], None, m["direction"]) == "No" else None
    track = np.asarray(truth["facts"]["part_tracks"][m["parts"][0]], dtype=float)
    dist = np.linalg.norm(track - track[0], axis=1)
    peak = float(dist.max())
    if peak < TRACK_MOVES:
        return None
    return "Yes" if dist[-1] >= HELD * peak else "No" if dist[-1] <= (1 - HELD) * peak else None


def _event_order_truth(m: dict, answer: str, truth: dict) -> str | None:
    """The first-named part started first (one that never moves started nothing)."""
    from mabench.builder.questions.truth_check import order_rel
    f, parts = truth["facts"], m["parts"]
    if m.get("contrast") == "a stays still":
        return "No" if f["moving"].get(parts[0]) is False else None
    rel = order_rel(f, parts[0], parts[1])
    return None if rel is None else "Yes" if rel == "before" else "No"


TRUTH = {"event direction": _direction_truth, "rhythm": _rhythm_truth, "during": _during_truth,
         "stroke order": _stroke_order_truth, "hold": _hold_truth, "event order": _event_order_truth}
