"""MADU descriptions and MARE reasoning chains told from the clip's movement events.

Both texts are built from one list of sentences about the same events (`event_sentence`), so they cannot
disagree: MADU leads with the dominant event (part, kind, side, span, rhythm), then the others by rank;
MARE states the dominant event as evidence, places the coarse class by the part that moves, rules out the
nearest confusable label by the measured feature that tells the two apart (`DECIDING`), and ends with the
MA-Bench label line. Every sentence is an event's, or says what the measurement does not show.
"""

from __future__ import annotations

import random

from mabench.builder.cues import CONFUSABLE, CUES
from mabench.builder.questions.events import act, askable, clip_events, phrase, recovers, repeat_act, rides
from mabench.motion.events import KINDS, ClipEvents, MovementEvent
from mabench.taxonomy import FINE_TO_COARSE, MARE_LABEL_LINE, display_label

SIDE_WORDS = {"leftward": "to the left", "rightward": "to the right", "upward": "upward", "downward": "downward"}
# what a kind of movement is, in words, as a feature that tells two labels apart
KIND_WORDS = {"head_yaw": "the head turning to the side", "head_pitch": "the head tipping up or down",
              "head_roll": "the head tilting toward a shoulder", "trunk_lean": "the trunk leaning sideways",
              "trunk_length": "the trunk straightening", "trunk_twist": "the torso rotating",
              "shoulder_elevation": "the shoulders lifting", "rise": "the whole body lifting from the seat",
              "translation": "a part travelling"}
# Confusable pairs (`cues.CONFUSABLE`) and the event field that tells them apart: {label: value} of that field.
# "rhythm": repeated or single; "kind": the kind of movement; "direction": its side; "part": which part moves.
DECIDING: dict[frozenset[str], tuple[str, dict[str, str]]] = {
    frozenset({"nodding", "bowing head"}): ("rhythm", {"nodding": "repeated", "bowing head": "single"}),
    frozenset({"shaking head", "turning head"}): ("rhythm", {"shaking head": "repeated", "turning head": "single"}),
    frozenset({"head up", "bowing head"}): ("direction", {"head up": "upward", "bowing head": "downward"}),
    frozenset({"tilting head", "turning head"}): ("kind", {"tilting head": "head_roll", "turning head": "head_yaw"}),
    frozenset({"shaking body", "shrugging"}): ("kind", {"shaking body": "trunk_lean",
                                                         "shrugging": "shoulder_elevation"}),
    frozenset({"sitting straightly", "rising up"}): ("kind", {"sitting straightly": "trunk_length",
                                                              "rising up": "rise"}),
    frozenset({"turning around", "turning head"}): ("part", {"turning around": "torso", "turning head": "head"}),
    frozenset({"tiptoe", "shaking legs"}): ("rhythm", {"tiptoe": "single", "shaking legs": "repeated"}),
    frozenset({"touching legs", "patting legs"}): ("rhythm", {"touching legs": "single", "patting legs": "repeated"}),
    frozenset({"scratching legs", "touching legs"}): ("rhythm", {"scratching legs": "repeated",
                                                                 "touching legs": "single"}),
}
# the body regions (words of part names) whose movement is each coarse class's
COARSE_PARTS = {"Body": ("torso",), "Head": ("head",), "Upper limb": ("hand", "arm"), "Lower limb": ("leg", "foot"),
                "Body-hand": ("hand", "arm"), "Head-hand": ("hand", "arm"), "Leg-hand": ("hand", "arm")}


def _third(verb_phrase: str) -> str:
    """"turn to the left" -> "turns to the left"."""
    verb, _, rest = verb_phrase.partition(" ")
    return f"{verb}s" + (f" {rest}" if rest else "")


def what(e: MovementEvent, desc: dict | None = None) -> str:
    """What the part does, said of it: "tips up and down", "turns to the left and back", "moves upward and to
    the left", "comes back upright from a lean to the right" (`events.recovers`)."""
    if e.rhythm == "repeated" and (rep := repeat_act(e)) is not None:
        return _third(rep)
    if desc is not None and recovers(desc, e) and (back := phrase(desc, e)) is not None:
        return _third(back)
    if e.kind in ("trunk_length", "rise") and (fixed := act(e)) is not None:
        # the questions' own words ("straightens up", "sinks into the seat"), then back to where it was
        return _third(fixed) + (" and comes back" if e.returns else "")
    if e.kind in ("shoulder_elevation", "trunk_twist"):  # no side in words: the kind alone
        return {"shoulder_elevation": "shrugs", "trunk_twist": "twists"}[e.kind] + (" and comes back" if e.returns
                                                                                   else "")
    side = " and ".join(SIDE_WORDS.get(w, w) for w in e.direction.split(" and "))
    return f"{KINDS[e.kind][0]} {side}" + (" and back" if e.returns else "")


def when(e: MovementEvent) -> str:
    """The event's span by the thirds of the clip it covers ("in the early part of the clip", "over the early and
    middle parts of the clip"). The seconds are in the event record; said in a text, they claim more than real
    clips' spans hold (a head turn read from 0.3 s that starts at 0.0 s)."""
    phases = list(e.phases)
    if not phases:
        return ""
    if len(phases) == 3:
        return " through the whole clip"
    return f" in the {phases[0]} part of the clip" if len(phases) == 1 else \
        f" over the {phases[0]} and {phases[1]} parts of the clip"


def event_sentence(e: MovementEvent, desc: dict | None = None) -> str:
    """One event in a sentence: part, what it does, rhythm, the thirds of the clip it covers, what carries it."""
    # (no count of strokes, nor a claim that it is the largest: both rest on a threshold a viewer does not share,
    # and two fresh judges counted 6 strokes where the event said 5, and found a carried part moving further)
    strokes = " repeatedly" if e.rhythm == "repeated" else ""
    carried = f", along with the {e.carried_by}'s movement" if e.carried_by else ""
    return f"The {e.part} {what(e, desc)}{strokes}{when(e)}{carried}."


def _stated(ev: ClipEvents) -> list[MovementEvent]:
    """The events a text states one by one: the dominant one first, then the others of medium or high confidence
    by rank; a part that only rides another's movement (`_riders`) is said with its carrier instead."""
    dom = ev.dominant_event
    rest = [e for e in ev.events if e is not dom and e.confidence != "low" and e.direction != "unclear"
            and not _rider(e, ev)]
    return ([dom] if dom is not None else []) + sorted(rest, key=lambda e: e.rank)


def _rider(e: MovementEvent, ev: ClipEvents) -> bool:
    """A limb carried by the trunk, or a head whose "rotation" is only its ride on the trunk (`events.rides`)."""
    return e.carried_by is not None and (not e.is_rotation or rides(e, ev))


def _riders(ev: ClipEvents) -> str:
    """"The head, the left upper arm and the right lower arm move along with the torso." (no spans: a carried
    part starts and stops with its carrier, and its own timing adds nothing the carrier's does not say)"""
    by_carrier: dict[str, list[str]] = {}
    for e in sorted(ev.events, key=lambda e: e.rank):
        if e.confidence != "low" and _rider(e, ev) and e.carried_by is not None:
            names = by_carrier.setdefault(e.carried_by, [])
            if e.part not in names:
                names.append(e.part)
    out = []
    for carrier, parts in by_carrier.items():
        named = [f"the {p}" for p in parts]
        listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " and " + named[-1]
        verb = "moves" if len(named) == 1 else "move"
        out.append(f"{listed[0].upper()}{listed[1:]} {verb} along with the {carrier}.")
    return " ".join(out)


def madu_text(ev: ClipEvents, rng: random.Random, desc: dict | None = None, max_events: int = 4) -> str:
    stated = _stated(ev)
    if not stated:
        return "No body part's movement clears its noise floor; the movement is too small to describe by part."
    out = [event_sentence(e, desc) for e in stated[:max_events]]
    if riders := _riders(ev):
        out.append(riders)
    return " ".join(out)


def _decide(fine: str, neighbour: str, dom: MovementEvent, own: list[MovementEvent]) -> str:
    """The sentence that rules `neighbour` out by the feature telling it from `fine`, as measured; or, where the
    measurement does not settle it, says so."""
    rule = DECIDING.get(frozenset({fine, neighbour}))
    if rule is None:
        return (f"A close alternative is {neighbour} ({CUES[neighbour]}); the measured movement alone does not "
                f"tell the two apart.")
    feature, values = rule
    want, other = values[fine], values[neighbour]
    if feature == "kind":
        kinds = {e.kind for e in own}
        if want in kinds and other not in kinds:
            return (f"It is not {neighbour}: that would be {KIND_WORDS[other]}, and no such movement was measured; "
                    f"what was measured is {KIND_WORDS[want]}.")
    elif feature == "part":
        if dom.part == want:
            return f"It is not {neighbour}: that would be the {other}'s movement, and the {want} is what moves."
    elif feature == "rhythm":
        got = "repeated" if dom.rhythm == "repeated" else "single"
        if got == want:
            said = "goes back and forth repeatedly" if got == "repeated" else \
                "makes one movement" + (" and comes back" if dom.returns else "")
            would = "a single movement" if other == "single" else "repeated strokes"
            return f"It is not {neighbour}: that would be {would}, while here the {dom.part} {said}."
    elif feature == "direction":
        if dom.direction == want:
            return (f"It is not {neighbour}: that would go {SIDE_WORDS[other]}, while here the {dom.part} goes "
                    f"{SIDE_WORDS[want]}.")
    return (f"A close alternative is {neighbour}; the measurement does not rule it out by itself "
            f"(what would tell them apart: {feature}).")


def mare_text(ev: ClipEvents, fine: str, rng: random.Random, desc: dict | None = None) -> str:
    coarse = FINE_TO_COARSE[fine]
    line = MARE_LABEL_LINE.format(coarse=coarse, fine=display_label(fine))
    dom = ev.dominant_event
    own = askable(ev)
    if dom is None:
        return (f"No body part's movement clears its noise floor, so the measurement cannot argue for a label; "
                f"the label given for the clip is {fine}. {line}")
    evidence = " ".join([event_sentence(dom, desc=desc)] + [event_sentence(e, desc=desc) for e in _stated(ev)[1:3]])
    if riders := _riders(ev):
        evidence += " " + riders
    words = COARSE_PARTS[coarse]
    if any(w in dom.part for w in words):
        coarse_s = rng.choice((f"The {dom.part}'s movement is its own, not carried by another part, which places the "
                               f"action in the {coarse} category.", f"Since the movement is the {dom.part}'s own, the "
                               f"coarse category is {coarse}."))
    else:
        coarse_s = (f"The largest measured movement is the {dom.part}'s, not a movement of the parts the {coarse} "
                    f"category is about; the coarse category given for the clip is {coarse}.")
    exclusion = _decide(fine, CONFUSABLE[fine], dom, own)
    conclusion = rng.choice((f"Therefore the micro-action is {fine}.", f"Taken together, the action is {fine}."))
    opener = rng.choice(("From the observed motion: ", "In the video: ", "Looking at the clip: "))
    return f"{opener}{evidence} {coarse_s} {exclusion} {conclusion} {line}"


def narrate(desc: dict, fine: str, rng: random.Random) -> tuple[str, str] | None:
    """(MADU, MARE) told from the clip's events, or None for descriptors without events (older annotations)."""
    ev = clip_events(desc)
    if ev is None:
        return None
    return madu_text(ev, rng, desc), mare_text(ev, fine, rng, desc)
