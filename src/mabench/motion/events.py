"""Movement events: what a clip's body does, as typed records, in seconds.

The descriptors (`mabench.motion.descriptors`) measure every part and signal; this module says which of
those measurements are *movements* and what kind: a head that turns, nods or tilts (a rotation, never a
path), a trunk that leans, twists, lengthens or rises, shoulders that rise, a limb that travels. Each
event carries its span in seconds (with an uncertainty), its amplitude in floors of its own signal (what
a still person produces on it), its rank, rhythm and strokes, a confidence, and the evidence it rests on.

Head rotations have two witnesses. The face points (nose against ears) are precise on a clear face, but a
pixelated face leaves a pose model placing them from the head's outline: they jitter and do not follow a
turn. The optical flow inside the head box, less what the shoulders carry (`mabench.motion.flow`), sees
the hair and the mosaic move with the head, whatever covers the face. An event needs the flow's consent
where flow was computed: both moving is `high` confidence, the flow alone `medium` (the record then says
the face points do not follow the head), the face points alone with the flow undecided `low`, and face
points moving against a still flow no event at all. Without flow, face points alone give `low`. A turn
whose course is a tilt's (a head tilting about the neck swings its face sideways) is the tilt, and a
rotation seen by one witness only, inside one more than twice its size, is that one's drag on another axis.
The flow's own floor comes from the parts the keypoints call still (a whole-body movement would raise the
descriptors' floor above a nod); a turn or nod seen by the flow alone that runs the trunk's course is the
trunk carrying the head's box, and no rotation, except a nod that runs a bending trunk's course (a slumped
trunk straightening tips the head back with it): a carried nod.

A part carried by another's movement (a head riding a leaning or straightening trunk, a hand resting on a
rising thigh) is an event with `carried_by` set; it never is the clip's dominant event. A head that tilts with
a leaning trunk and clearly beyond it (head roll less the lean clears its floor on every witness) tilts on its
own: no `carried_by`, and its amplitude is the part beyond the lean. The dominant event
is the clip's own (not carried) event of `medium` or `high` confidence with the largest amplitude in
floors: measured, never taken from a label.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np

from mabench.motion.courses import ACTIVE_SHARE, REPEATED_CHANGES, Course, corr, course, resample, shape, span_words
from mabench.motion.flow import FLOW_FLOOR_MIN, FLOW_SMOOTH_S, HEAD_KEEP_MIN
from mabench.motion.signals import MOVES_AT, SIGNALS, SMOOTH_S, SWING_SHARE, _fill, reversals, smooth
from mabench.taxonomy import BODY_PARTS

EVENTS_VERSION = "ma-events-v1"

# Kinds of movement, and (verb, word for a rising value, word for a falling one) of each. Words are image
# directions as seen (a subject's own side is in the part name, see `mabench.motion.skeleton`).
KINDS: dict[str, tuple[str, str, str]] = {
    "head_yaw": ("turns", "rightward", "leftward"),
    "head_pitch": ("nods", "upward", "downward"),
    "head_roll": ("tilts", "rightward", "leftward"),
    "trunk_lean": ("leans", "rightward", "leftward"),
    "trunk_twist": ("twists", "widening", "narrowing"),
    "trunk_length": ("straightens", "upward", "downward"),
    "shoulder_elevation": ("shrugs", "upward", "downward"),
    "rise": ("rises", "upward", "downward"),
    "translation": ("moves", "", ""),
}
ROTATIONS = ("head_yaw", "head_pitch", "head_roll")
# The skeleton signal (`mabench.motion.signals`) each trunk kind is read on.
TRUNK_SIGNALS = {"trunk_lean": "trunk_lean", "trunk_twist": "shoulder_width", "trunk_length": "trunk_length",
                 "shoulder_elevation": "shoulder_raise", "rise": "hip_height"}
CONFIDENCES = ("low", "medium", "high")

CARRIED_CORR = 0.8          # |correlation| of two courses over the clip that makes one ride the other
TIME_UNCERTAINTY_S = 0.1    # a signal's crossing is not sharper than its smoothing (~0.06 s) and a frame
CROSS_TALK = 0.5            # a flow-only head rotation under this share of a larger one beside it is its drag
LIMB_PARTS = tuple(p for p in BODY_PARTS if p not in ("head", "torso"))


@dataclass(frozen=True)
class Evidence:
    """One measurement an event rests on: a signal, where it comes from, how far it went against its floor."""
    signal: str
    source: str        # face_points | flow | skeleton | keypoints
    amplitude: float
    floor: float
    unit: str
    state: str         # moves | still | unclear

    @property
    def margin(self) -> float:
        return self.amplitude / max(self.floor, 1e-12)


def _evidence(c: Course) -> Evidence:
    s = c.summary
    return Evidence(c.name, c.source, s["amplitude"], s["floor"], c.unit, s["state"])


@dataclass(frozen=True)
class MovementEvent:
    part: str
    kind: str
    direction: str             # side of the largest excursion, in the questions' words ("leftward", "upward")
    first: str                 # direction of the first stroke
    start_s: float
    end_s: float
    time_uncertainty_s: float
    amplitude: float           # in floors of its main signal
    rhythm: str                # single | repeated
    strokes: int               # strokes one way or the other (a turn and back is 2)
    returns: bool              # ends near where it started
    confidence: str            # low | medium | high
    evidence: tuple[Evidence, ...]
    carried_by: str | None = None
    rank: int = 0              # 1 = the clip's largest own event; carried and low-confidence events rank after
    when: str = ""             # the span in words
    phases: tuple[str, ...] = ()  # the thirds of the clip the span covers

    @property
    def is_rotation(self) -> bool:
        return self.kind in ROTATIONS

    def describe(self) -> str:
        """One line for a person: 'head turns leftward and back, repeated (3 strokes), 0.15-1.10 s'."""
        verb = KINDS[self.kind][0]
        side = "(side unclear)" if self.direction == "unclear" else self.direction
        how = f"{verb} {side}" + (" and back" if self.returns and self.rhythm == "single" else "")
        if self.rhythm == "repeated":
            how = f"{verb} back and forth ({self.strokes} strokes)"
        carried = f", carried by the {self.carried_by}" if self.carried_by else ""
        return (f"{self.part} {how}, {self.start_s:.2f}-{self.end_s:.2f} s, {self.amplitude:.1f} floors, "
                f"{self.confidence}{carried}")


@dataclass
class ClipEvents:
    events: list[MovementEvent]
    dominant: int | None        # index into events
    face_points: str            # follow | do not follow the head | no flow to check | none
    duration: float
    version: str = EVENTS_VERSION
    notes: list[str] = field(default_factory=list)

    @property
    def dominant_event(self) -> MovementEvent | None:
        return None if self.dominant is None else self.events[self.dominant]

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, d: dict) -> ClipEvents:
        if d.get("version") != EVENTS_VERSION:
            raise ValueError(f"movement events of version {d.get('version')!r}, this mabench reads {EVENTS_VERSION}: "
                             "annotate the clips again")
        events = [MovementEvent(**{**e, "evidence": tuple(Evidence(**v) for v in e["evidence"]),
                                   "phases": tuple(e["phases"])}) for e in d["events"]]
        return cls(events, d["dominant"], d["face_points"], d["duration"], d["version"], list(d.get("notes", [])))


def find_events(times: np.ndarray, series: dict[str, np.ndarray], summaries: dict[str, dict], parts: dict,
                part_tracks: dict[str, np.ndarray], moving_at: float, flow: dict | None, flow_floor: float | None,
                duration: float) -> ClipEvents:
    """The movement events of one clip.

    `series`: raw per-frame signals (`mabench.motion.signals.raw_signals`) on `times`, `summaries` their
    decisions (`summarise_signals`); `parts`: the descriptors' part records; `part_tracks`: each part's
    body-centric track (T, 2) on `times`; `moving_at`: the amplitude (torso lengths) at which a part moves;
    `flow`: the part flow with its `head_own` courses and `times` (None without flow), `flow_floor` its floor.
    """
    notes: list[str] = []
    signal = {name: Course(name, "face_points" if SIGNALS[name].part == "head" else "skeleton", SIGNALS[name].unit,
                            smooth(_fill(np.asarray(v, dtype=np.float64)), times), summaries[name])
              for name, v in series.items()}
    trunk_moving = {kind: signal[sig] for kind, sig in TRUNK_SIGNALS.items()
                    if sig in signal and signal[sig].summary["state"] == "moves"}
    nods = "head_pitch" in signal and signal["head_pitch"].summary["state"] == "moves"
    if "shoulder_elevation" in trunk_moving and ("trunk_length" in trunk_moving or nods):
        # shoulders are read against the ears: a lengthening trunk or a nodding head moves that distance too
        del trunk_moving["shoulder_elevation"]
        notes.append("shoulder elevation not stated: the trunk's length or the head's pitch moves the ears too")
    events: list[MovementEvent] = []
    for kind, c in trunk_moving.items():
        _, pos, neg = KINDS[kind]
        events.append(_event("torso", kind, c, [_evidence(c)], "high", None, times, pos, neg, duration))

    # head rotations: face points and the head's own flow, each a course on its own times
    own = None if flow is None or flow_floor is None else flow.get("head_own")
    if own is not None and flow is not None:
        own = _against_still_shoulder(own, flow, parts, notes)
    ft = np.asarray(flow["times"], dtype=np.float64) if flow is not None and own is not None else times
    flow_course = {}
    blocked = 0.0  # share of the clip an arm covers the head's box (its flow there is not read)
    if flow is not None and own is not None and flow_floor is not None:
        flow_floor = _still_flow_floor(flow, parts, flow_floor)
        covered = np.asarray(flow.get("head_covered", ()), dtype=np.float64)
        if covered.size and covered.max() > 0:
            blocked = float(np.mean(covered > 1 - HEAD_KEEP_MIN))
            notes.append(f"an arm is in the head's box in {float(np.mean(covered > 0)):.0%} of the clip: the head's "
                         "flow is read from the rest of the box")
        for kind, (axis, unit) in HEAD_FLOW_AXES.items():
            floor_min = SIGNALS["head_roll"].floor if axis == "roll" else flow_floor
            flow_course[kind] = course(f"head own flow {axis}", "flow", unit, own[axis], ft, floor_min, FLOW_SMOOTH_S)
    tilts = [(c, t_) for c, t_ in ((signal.get("head_roll"), times), (flow_course.get("head_roll"), ft))
             if c is not None and c.summary["state"] == "moves"]
    for kind in HEAD_FLOW_AXES:
        fp, fl = signal.get(kind), flow_course.get(kind)
        if fl is not None and flow is not None and own is not None and flow_floor is not None:
            doubt = _flow_doubt(kind, fl, ft, flow, own, flow_floor, part_tracks, times, tilts, blocked)
            if doubt:
                fl = Course(fl.name, fl.source, fl.unit, fl.values, {**fl.summary, "state": "unclear"})
                notes.append(f"head {kind}: the flow is not the head's own ({doubt})")
        main, conf = _fuse(fp, fl)
        if main is None:
            continue
        _, pos, neg = KINDS[kind]
        main_t = times if main is fp else ft
        if kind == "head_yaw" and _runs_a_tilt(main, main_t, times, tilts):
            notes.append("head turn not stated: its course is the head's tilt (a tilt swings the face sideways)")
            continue
        carrier = _carrier(main, main_t, trunk_moving, times, kind)
        if carrier and main is fl and kind != "head_roll":
            # the flow alone, running the trunk's course: the trunk carries the head's box. A trunk that
            # straightens or slumps tips the head with it (a carried nod); any other trunk course moves the box
            # and turns nothing
            if not _rides_a_bend(kind, main, main_t, trunk_moving, times):
                notes.append(f"head {kind} not stated: the head's flow runs the trunk's course (the trunk carries it)")
                continue
            notes.append(f"head {kind}: the head's flow runs the trunk's bend (carried by the trunk)")
        evid = [_evidence(c) for c in (fp, fl) if c is not None]
        beyond = None
        if carrier and kind == "head_roll" and "trunk_lean" in series:
            raws = ((fp, series.get("head_roll")), (fl, None if own is None else own["roll"]))
            beyond = _beyond_lean([(c, raw) for c, raw in raws if c is not None and c.summary["state"] == "moves"],
                                  series["trunk_lean"], times, ft)
            if beyond is not None:  # the trunk sets the tilt going and the head goes on: a tilt of its own
                carrier = None
                evid.append(_evidence(beyond))
                notes.append(f"the head tilts with the trunk's lean and {beyond.summary['amplitude']:.0f} degrees "
                             "beyond it: a tilt of its own, its amplitude the part beyond the lean")
        ev = _event("head", kind, main, evid, conf, carrier, main_t, pos, neg, duration)
        if beyond is not None:
            ev = replace(ev, amplitude=round(beyond.margin, 2))
        if conf == "high" and fp is not None and fl is not None:
            if corr(fp.values, resample(fl.values, ft, times)) < 0:  # the witnesses disagree on the side
                ev = replace(ev, direction="unclear", confidence="low")
        events.append(ev)
    events = _drop_cross_talk(events, notes)
    face_state = _face_state(events, "head_yaw" in series, own is not None)
    if face_state == "do not follow the head":
        notes.append("the face points do not follow the head's own motion (a masked or hidden face): "
                     "head rotations rest on the flow")

    # limbs (and a head or torso whose centre travels with no rotation or posture change to explain it)
    explained = {e.part for e in events}
    events += [_translation(part, parts[part], part_tracks[part], times, trunk_moving, part_tracks, moving_at, duration)
               for part in BODY_PARTS if parts[part].get("moving") and parts[part].get("source") == "keypoints"
               and part not in explained]
    return _rank(events, face_state, duration, notes)


def _against_still_shoulder(own: dict, flow: dict, parts: dict, notes: list[str]) -> dict:
    """The head's own flow against the one shoulder whose arm the keypoints call still, where the other arm
    moves: the moving arm's shoulder carries the arm's flow, not the trunk's (`mabench.motion.flow`)."""
    carry = flow.get("shoulder_carry")
    still = [side for side in ("left", "right") if not parts.get(f"{side} upper arm", {}).get("moving")]
    if carry is None or len(still) != 1:
        return own
    c, both = np.asarray(carry[still[0]]), np.asarray(carry["both"])
    other = "right" if still[0] == "left" else "left"
    notes.append(f"the head's flow is read against the {still[0]} shoulder alone: the {other} upper arm moves")
    return {**own, "x": np.asarray(own["x"]) + both[:, 0] - c[:, 0], "y": np.asarray(own["y"]) + both[:, 1] - c[:, 1]}


def _still_flow_floor(flow: dict, parts: dict, fallback: float) -> float:
    """The flow's floor from the parts the keypoints call still (their boxes' drift over the clip): the
    descriptors' floor takes the stillest quarter of all parts, which a whole-body movement raises above a
    nod. Without a still part, `fallback`."""
    amps = [float(np.linalg.norm(d - d[0], axis=1).max()) for p, d in flow["displacement"].items()
            if p in parts and not parts[p].get("moving") and parts[p].get("visible", True) and p != "head"]
    if not amps:
        return fallback
    return max(FLOW_FLOOR_MIN, float(np.quantile(amps, 0.25)))  # the stillest quarter, as the descriptors'


# The head's own flow course each rotation is read on (`mabench.motion.flow`: head_own), and its unit.
HEAD_FLOW_AXES = {"head_yaw": ("x", "torso lengths"), "head_pitch": ("y", "torso lengths"),
                  "head_roll": ("roll", "degrees")}


def _fuse(fp: Course | None, fl: Course | None) -> tuple[Course | None, str]:
    """(the course an event is read on, its confidence).

    A mosaic can hide a head's rotation from the face points but cannot make the hair move: the flow is
    the veto. Face points that move while the flow is undecided are an event of `medium` confidence (the
    flow does not contradict them); against a still flow there is no event."""
    fp_m = fp is not None and fp.summary["state"] == "moves"
    if fl is None:
        return (fp, "low") if fp_m else (None, "")
    fl_state = fl.summary["state"]
    if fl_state == "moves":
        return (fp if fp_m else fl), ("high" if fp_m else "medium")
    if fp_m and fl_state == "unclear":
        return fp, "medium"
    return None, ""


ARM_COVER_MAX = 0.5  # share of the clip an arm may cover the head's box before its flow says nothing of the head


def _flow_doubt(kind: str, fl: Course, ft: np.ndarray, flow: dict, own: dict, flow_floor: float,
                part_tracks: dict[str, np.ndarray], times: np.ndarray, tilts: list[tuple[Course, np.ndarray]],
                blocked: float) -> str:
    """Why the head's own flow on this axis is not the head's rotation ('' when nothing speaks against it).

    * an arm covered the head's box most of the clip (`ARM_COVER_MAX`; elsewhere the flow leaves the arm's
      pixels out, `mabench.motion.flow`): the box measured the arm;
    * the head's box itself stayed put: the shoulders moved under it (a shrug), not the head;
    * (yaw) the head's outline (its keypoint, placed from the outline on a masked face) travels sideways as
      far as the box's texture, within the floor: a turn moves the texture inside the outline, a sweep of the
      whole head (a tilt about the neck, a lean) moves both alike. (A nod, about the neck, moves the outline
      too: pitch is not tested so.)
    * (yaw) the horizontal flow runs the course of a tilt: a head tilting about the neck swings sideways.
    """
    if fl.summary["state"] == "still":
        return ""
    head = part_tracks["head"]
    if blocked > ARM_COVER_MAX:
        return "an arm covers the head's box most of the clip"
    if kind == "head_roll":
        return ""  # a tilt is the flow field's curl, which the shoulders' translation does not change
    k = 0 if kind == "head_yaw" else 1
    box = np.asarray(flow["displacement"]["head"][:, k], dtype=np.float64)
    raw = course("head box", "flow", fl.unit, box, ft, flow_floor, FLOW_SMOOTH_S)
    shoulders = box - np.asarray(own["x" if k == 0 else "y"], dtype=np.float64)
    if raw.summary["state"] == "still" or float(np.abs(shoulders).max()) >= raw.summary["amplitude"]:
        return "the shoulders moved under the head more than the head's box moved"
    if kind != "head_yaw":
        return ""
    centre = resample(head[:, k], times, ft)
    if abs(corr(centre, box)) >= CARRIED_CORR and \
            float(np.ptp(box)) - float(np.ptp(centre)) < MOVES_AT * fl.summary["floor"]:
        return "the head's outline travels as far as its texture: a sweep of the whole head, nothing turns inside it"
    if _runs_a_tilt(fl, ft, times, tilts):
        return "it runs the course of a tilt"
    return ""


def _runs_a_tilt(c: Course, c_times: np.ndarray, times: np.ndarray, tilts: list[tuple[Course, np.ndarray]]) -> bool:
    """Whether a turn's course runs that of a moving tilt (`tilts`: the moving roll courses and their times).

    In the flow a tilt about the neck sweeps the whole head box sideways, as far as the tilt goes or further;
    the face points' turn (the nose against the ears) moves with a tilt by a part of it only. A turn the face
    points see clearing its floor further than every tilt clears its own is therefore the movement."""
    v = resample(c.values, c_times, times)
    return any((c.source == "flow" or t.margin >= c.margin) and abs(corr(v, resample(t.values, t_, times)))
               >= CARRIED_CORR for t, t_ in tilts)


def _face_state(events: list[MovementEvent], face_points: bool, flow: bool) -> str:
    """Whether the face points follow the head's own motion, as far as the clip's head rotations tell."""
    if not face_points:
        return "none"
    if not flow:
        return "no flow to check"
    seen = [{v.source: v.state for v in e.evidence} for e in events if e.part == "head" and e.kind != "head_roll"]
    if any(s.get("flow") == "moves" and s.get("face_points") != "moves" for s in seen):
        return "do not follow the head"
    return "follow" if any(s.get("flow") == "moves" for s in seen) else "no head rotation to check"


def _drop_cross_talk(events: list[MovementEvent], notes: list[str]) -> list[MovementEvent]:
    """A head rotation seen by one witness only (face points or flow), overlapping one more than 1 / CROSS_TALK
    times its size, is that rotation's drag on another axis (a turning head's hair shifts vertically too)."""
    head = [e for e in events if e.part == "head" and e.is_rotation]
    out = []
    for e in events:
        one_witness = e in head and sum(v.state == "moves" for v in e.evidence) < 2
        bigger = [o for o in head if o is not e and _image_amplitude(o) * CROSS_TALK > e.amplitude
                  and min(o.end_s, e.end_s) > max(o.start_s, e.start_s)]
        if one_witness and bigger:
            notes.append(f"head {e.kind} ({e.amplitude:.1f} floors, one witness) taken as the drag of {bigger[0].kind}")
            continue
        out.append(e)
    return out


BEYOND_LEAN = "head roll beyond the trunk's lean"


def _beyond_lean(witnesses: list[tuple[Course, np.ndarray | None]], lean: np.ndarray, times: np.ndarray,
                 ft: np.ndarray) -> Course | None:
    """The head's tilt against the trunk's lean (head roll less the lean, in degrees), where every moving witness
    of the tilt sees it clear its own floor: the smallest of them (a mosaic inflates the face points' roll), or
    None when the head only rides the lean."""
    out = []
    for c, raw in witnesses:
        if raw is None or c.unit != "degrees":
            return None
        c_times = ft if c.source == "flow" else times
        lean_c = resample(_fill(np.asarray(lean, dtype=np.float64)), times, c_times)
        sign = 1.0 if corr(c.values, smooth(lean_c, c_times)) >= 0 else -1.0
        rel = course(BEYOND_LEAN, c.source, "degrees",
                      np.asarray(raw, dtype=np.float64) - sign * lean_c, c_times, SIGNALS["head_roll"].floor,
                      FLOW_SMOOTH_S if c.source == "flow" else SMOOTH_S)
        if rel.summary["state"] != "moves":
            return None
        out.append(rel)
    return min(out, key=lambda r: r.margin) if out else None


def _image_amplitude(e: MovementEvent) -> float:
    """A rotation's size as seen in the image (floors): its main witness, the lean included where the event's
    amplitude is its part beyond the trunk's lean (`_beyond_lean`)."""
    return next((v.margin for v in e.evidence if v.state == "moves" and v.signal != BEYOND_LEAN), e.amplitude)


def _rides_a_bend(kind: str, c: Course, c_times: np.ndarray, trunk_moving: dict[str, Course],
                  times: np.ndarray) -> bool:
    """Whether a head pitch course runs the course of the trunk's length (a trunk bending forward or back,
    seen from the front as shortening or lengthening): the head on top of it pitches with it."""
    bend = trunk_moving.get("trunk_length")
    return kind == "head_pitch" and bend is not None and \
        abs(corr(resample(c.values, c_times, times), bend.values)) >= CARRIED_CORR


def _carrier(c: Course, c_times: np.ndarray, trunk_moving: dict[str, Course], times: np.ndarray,
             kind: str) -> str | None:
    """'torso' when a moving trunk signal runs the same course as this one (the head riding the trunk)."""
    v = resample(c.values, c_times, times)
    for t in trunk_moving.values():
        if kind == "head_yaw" and t.name == "shoulder_width":
            continue  # a trunk twist turns the head with it, but a head shake does not narrow the shoulders
        if abs(corr(v, t.values)) < CARRIED_CORR:
            continue
        return "torso"
    return None


def _event(part: str, kind: str, c: Course, evidence: list[Evidence], confidence: str, carried_by: str | None,
           times: np.ndarray, pos: str, neg: str, duration: float) -> MovementEvent:
    sh = shape(c, times, pos, neg)
    start, end = sh.pop("start_s"), sh.pop("end_s")
    when, phases = span_words(start - float(times[0]), end - float(times[0]), duration)
    return MovementEvent(part, kind, start_s=start, end_s=end, time_uncertainty_s=TIME_UNCERTAINTY_S,
                         amplitude=round(c.margin, 2), confidence=confidence, evidence=tuple(evidence),
                         carried_by=carried_by, when=when, phases=phases, **sh)


def _translation(part: str, rec: dict, track: np.ndarray, times: np.ndarray, trunk_moving: dict[str, Course],
                 tracks: dict[str, np.ndarray], moving_at: float, duration: float) -> MovementEvent:
    """A part whose centre travels: toward the side of its largest displacement, its span from its onset."""
    n0 = max(1, int(np.searchsorted(times, times[0] + 0.1)))
    disp = track - track[:n0].mean(axis=0)
    dist = np.linalg.norm(disp, axis=1)
    k = int(np.argmax(dist))
    dx, dy = disp[k]
    words = [w for w, v in (("rightward" if dx > 0 else "leftward", abs(dx)), ("upward" if dy > 0 else "downward",
                                                                                 abs(dy))) if v >= 0.5 * dist[k]]
    direction = " and ".join(sorted(words, key=lambda w: w not in ("upward", "downward")))
    floor = moving_at
    speed = np.abs(np.gradient(dist, times))
    active = np.flatnonzero(speed >= max(ACTIVE_SHARE * float(speed.max()), floor / 1.0))
    start = float(times[active[0]]) if len(active) else float(times[0])
    end = float(times[active[-1]]) if len(active) else float(times[-1])
    axis = disp[:, 0] if abs(dx) >= abs(dy) else disp[:, 1]
    changes = reversals(axis, max(SWING_SHARE * float(np.ptp(axis)), 0.07))
    carried = None
    if trunk_moving and part != "torso" and abs(corr(dist, np.linalg.norm(
            tracks["torso"] - tracks["torso"][:n0].mean(axis=0), axis=1))) >= CARRIED_CORR:
        carried = "torso"
    when, phases = span_words(start - float(times[0]), end - float(times[0]), duration)
    ev = Evidence("centre displacement", "keypoints", round(float(rec["amplitude"]), 4), round(float(floor), 4),
                  "torso lengths", "moves")
    unc = float(rec.get("onset_uncertainty_s") or TIME_UNCERTAINTY_S)
    return MovementEvent(part, "translation", direction or "unclear", direction or "unclear", round(start, 3),
                         round(max(end, start), 3), round(unc, 3),
                         round(ev.margin, 2), "repeated" if changes >= REPEATED_CHANGES else "single", changes + 1,
                         bool(dist[-1] < 0.5 * dist[k]), "high" if rec.get("visible", True) else "low", (ev,),
                         carried, when=when, phases=phases)


def _rank(events: list[MovementEvent], face_state: str, duration: float, notes: list[str]) -> ClipEvents:
    """Own events of medium or high confidence first, by amplitude; then the rest. Dominant = the first own one."""
    def key(e: MovementEvent) -> tuple:
        own = e.carried_by is None and e.confidence != "low"
        return (not own, -e.amplitude)
    ordered = sorted(events, key=key)
    ranked = [replace(e, rank=i + 1) for i, e in enumerate(ordered)]
    dominant = 0 if ranked and ranked[0].carried_by is None and ranked[0].confidence != "low" else None
    return ClipEvents(ranked, dominant, face_state, round(duration, 3), notes=notes)
