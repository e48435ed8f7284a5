"""Ground truth of a synthetic clip, from the generator's exact, noise-free kinematics.

The descriptors have to recover these facts from sampled (and, in validation, noisy) keypoints with
smoothing and estimated body scale. The truth uses the exact scale and wider bands: a fact near the
decision boundary is `None` here and left out of the validation, as the QA builder leaves it out.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from mabench.motion.descriptors import CONTACT, PAIRS, pair_name
from mabench.motion.phases import ONSET, onset_time, phase_change, phase_edges, rhythm_of
from mabench.motion.signals import REPEAT_REVERSALS, SIGNALS, raw_signals, reversals, travel
from mabench.motion.skeleton import FACE_POINTS, MOTION_JOINTS, PART_JOINTS, J, Skeleton
from mabench.synth.figure import full_params, head_angles
from mabench.taxonomy import BODY_PARTS, PHASES

GT_MOVE, GT_STILL = 0.14, 0.02          # net displacement in a phase (torso lengths)
GT_EDGE_S = 0.1                          # phase edges this uncertain
GT_RETURN = 0.03                         # a phase that went further and came back this much is not simple
GT_MOVING_PART, GT_STILL_PART = 0.2, 0.06
GT_DOMINANT_RATIO = 1.35
GT_TREND, GT_STEADY = 0.14, 0.02
GT_LEAD_S, GT_SIMULTANEOUS_S = 0.35, 0.04
# A signal is under way when it has covered a quarter of its largest excursion and at least its floor (as
# `summarise` reads it, the exact series having no noise); it must cross 0.8x and 1.2x that level within GT_EDGE_S
# of each other, else its onset is None.
GT_SIG_ONSET, GT_SIG_ONSET_BAND = 0.25, (0.8, 1.2)
GT_ONSET_MARGIN = 0.3
# Orientation / posture signals, in each signal's own measured floor (`SignalSpec.floor`: what a still
# person's pose gives): moving from 3 floors, still under 1; a phase turns when its net change is 2
# floors, is still under 0.3; a phase that overshoots by 0.4 floors is not simple.
GT_SIG_MOVING, GT_SIG_STILL, GT_SIG_MOVE, GT_SIG_NONE, GT_SIG_RETURN = 3.0, 1.0, 2.0, 0.3, 0.4
# The head moves when any face point travels 0.008 torso lengths (the smallest real nod moves the face
# 0.01), is still under 0.002. Rhythm: reversals of the face's travel at 20% and 40% of its range agree.
GT_FACE_MOVE, GT_FACE_STILL = 0.008, 0.002
GT_RHYTHM_H = (0.2, 0.4)
GT_HEAD_TURNS = {"head_yaw": 0.02, "head_pitch": 0.02, "head_roll": 1.0}  # least range that is a turn


def _band(net: float, ret: float, pos: str, neg: str, move: float, still: float,
          ret_limit: float = GT_RETURN) -> str | None:
    """The true label of a change in one phase, or None inside the margins."""
    if ret >= move and abs(net) <= 0.4 * (abs(net) + ret):
        return "back-and-forth"
    if ret > ret_limit:
        return None
    if net >= move:
        return pos
    if net <= -move:
        return neg
    return "none" if abs(net) <= still else None


def _robust(values: np.ndarray, times: np.ndarray, t0: float, t1: float, pos: str, neg: str,
            move: float, still: float, ret_limit: float = GT_RETURN) -> str | None:
    """The label of a phase if it stays the same when the phase edges move by GT_EDGE_S, else None.

    A part moving fast across a phase boundary has a net change that depends on the exact instant;
    that is not a fact anyone could read off a video.
    """
    labels = {_band(*phase_change(values, times, max(t0 + a, times[0]), min(t1 + b, times[-1])),
                    pos, neg, move, still, ret_limit)
              for a in (-GT_EDGE_S, 0.0, GT_EDGE_S) for b in (-GT_EDGE_S, 0.0, GT_EDGE_S)}
    return labels.pop() if len(labels) == 1 else None


def _repeated(track: np.ndarray) -> str | None:
    """"repeated" / "single" from the reversals of a (T,) or (T, C) track along its main axis, or None
    when the count crosses REPEAT_REVERSALS between the two hysteresis levels."""
    track = track.reshape(len(track), -1)
    centred = track - track.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    proj = centred @ vt[0]
    span = float(np.ptp(proj))
    calls = {reversals(proj, f * span) >= REPEAT_REVERSALS for f in GT_RHYTHM_H} if span > 0 else {False}
    return None if len(calls) > 1 else "repeated" if calls.pop() else "single"


def signal_truth(points: np.ndarray, times: np.ndarray, face: dict[str, np.ndarray] | None,
                 width: int = 0, height: int = 0) -> dict:
    """Per orientation / posture signal of `mabench.motion.signals`, read off the exact keypoints: moving
    (None in the margin), the direction per phase in the signal's own words, rhythm when moving, and the
    exact series itself ("series", not for JSON)."""
    sk = Skeleton(points=points, conf=np.ones(points.shape[:2]), times=times, width=width, height=height,
                  face=face or {})
    series, _ = raw_signals(sk)
    edges = phase_edges(times)
    out = {}
    for name, v in series.items():
        spec = SIGNALS[name]
        f = spec.floor
        n0 = max(1, int(np.searchsorted(times, times[0] + 0.1)))
        amp = float(np.abs(v - v[:n0].mean()).max())
        moving = True if amp >= GT_SIG_MOVING * f else False if amp <= GT_SIG_STILL * f else None
        rec: dict = {"amplitude": round(amp, 4), "moving": moving, "series": v,
                     "travel": [round(t, 4) for t in travel(v)], "level": [round(float(v.min()), 4),
                                                                          round(float(v.max()), 4)]}
        if moving:
            dev = np.abs(v - v[:n0].mean())
            level = max(GT_SIG_ONSET * amp, f)
            lo, on, hi = (float(times[int(np.flatnonzero(dev >= q * level)[0])]) for q in
                          (GT_SIG_ONSET_BAND[0], 1.0, min(GT_SIG_ONSET_BAND[1], amp / level)))
            rec["onset"] = round(on, 3) if hi - lo <= GT_EDGE_S else None
            rec["directions"] = {ph: _robust(v, times, edges[k], edges[k + 1], spec.pos, spec.neg, GT_SIG_MOVE * f,
                                             GT_SIG_NONE * f, GT_SIG_RETURN * f) for k, ph in enumerate(PHASES)}
            rec["rhythm"] = _repeated(v)
        out[name] = rec
    return out


def order_relation(oa: float | None, ob: float | None) -> str | None:
    """The truth's order of two onsets: "simultaneous", "before" (a first), "after", or None in between."""
    if oa is None or ob is None:
        return None
    gap = ob - oa
    return ("simultaneous" if abs(gap) <= GT_SIMULTANEOUS_S else
            ("before" if gap > 0 else "after") if abs(gap) >= GT_LEAD_S else None)


def ground_truth(points: np.ndarray, times: np.ndarray, torso_px: float,
                 face: dict[str, np.ndarray] | None = None) -> dict:
    """Facts of the exact joint trajectories `points` (T, J, 2) in pixels (and face points, name -> (T, 2+))."""
    norm = points / torso_px
    norm[..., 1] *= -1
    # movement is read where the descriptors read it (the torso at the neck); distances between part centres
    tracks = {p: norm[:, [J[j] for j in js]].mean(axis=1) for p, js in MOTION_JOINTS.items()}
    centres = {p: norm[:, [J[j] for j in js]].mean(axis=1) for p, js in PART_JOINTS.items()}
    edges = phase_edges(times)
    amp: dict[str, float] = {}
    onset: dict[str, float | None] = {}
    directions: dict[str, dict] = {}
    for part in BODY_PARTS:
        tr = tracks[part]
        dist = np.linalg.norm(tr - tr[0], axis=1)
        amp[part] = float(dist.max())
        # onset has one definition (`onset_level` of the descriptors); here on
        # the exact track, in the descriptors on the observed one
        onset[part] = onset_time(dist, times, margin=GT_ONSET_MARGIN) if amp[part] >= ONSET else None
        per_phase = {}
        for k, ph in enumerate(PHASES):
            per_phase[ph] = {
                axis: _robust(tr[:, i], times, edges[k], edges[k + 1], pos, neg, GT_MOVE, GT_STILL)
                for i, (axis, pos, neg) in enumerate((("horizontal", "rightward", "leftward"),
                                                      ("vertical", "upward", "downward")))}
        directions[part] = per_phase
    moving = {p: (True if a >= GT_MOVING_PART else False if a <= GT_STILL_PART else None) for p, a in amp.items()}
    ranked = sorted(BODY_PARTS, key=lambda p: -amp[p])
    dominant = ranked[0] if amp[ranked[0]] >= GT_DOMINANT_RATIO * max(amp[ranked[1]], GT_MOVING_PART) else None
    order: dict[str, str | None] = {}
    for a, b in combinations([p for p in BODY_PARTS if moving[p]], 2):
        order[pair_name(a, b)] = order_relation(onset[a], onset[b])
    pairs, contact = {}, {}
    for a, b in PAIRS:
        dist = np.linalg.norm(centres[a] - centres[b], axis=1)
        trends = {}
        for k, ph in enumerate(PHASES):
            v = _robust(-dist, times, edges[k], edges[k + 1], "approach", "apart", GT_TREND, GT_STEADY)
            trends[ph] = v.replace("none", "steady") if v else None
        pairs[pair_name(a, b)] = trends
        contact[pair_name(a, b)] = (True if dist.min() <= 0.8 * CONTACT else False if dist.min() >= 1.25 * CONTACT
                                    else None)
    rhythm = {p: rhythm_of(tracks[p] - tracks[p][0], times, amp[p]) for p in BODY_PARTS if moving[p]}
    # The head as a viewer sees it: moving when its position or its face moves (a nod turns the face and
    # barely moves the head's centre); its rhythm from the face point that travels furthest.
    head_track = norm[:, J["head"]]
    if face:
        fpts = np.stack([np.asarray(face[n])[:, :2] for n in FACE_POINTS if n in face], axis=1) / torso_px
        travel = np.linalg.norm(fpts - fpts[:1], axis=-1).max(axis=0)
        face_amp = float(travel.max())
        head_track = fpts[:, int(np.argmax(travel))]
    else:
        face_amp = amp["head"]
    head_moving = (True if moving["head"] or face_amp >= GT_FACE_MOVE else
                   False if moving["head"] is False and face_amp <= GT_FACE_STILL else None)
    sig = signal_truth(points, times, face)
    # rhythm of the head's own movement: its position, or its orientation where it turns (a nod during a
    # single sway of the trunk is still a repeated movement of the head)
    tracks_h = [head_track] + [np.asarray(sig[n]["series"]) for n, least in GT_HEAD_TURNS.items()
                               if n in sig and np.ptp(sig[n]["series"]) >= least]
    calls = {_repeated(tr) for tr in tracks_h}
    head_rhythm = "repeated" if "repeated" in calls else "single" if calls == {"single"} else None
    for rec in sig.values():
        del rec["series"]
    return {"amplitude": {p: round(a, 4) for p, a in amp.items()}, "moving": moving, "dominant": dominant,
            "onset": onset, "order": order, "directions": directions, "pairs": pairs, "contact": contact,
            "rhythm": rhythm,
            "head": {"moving": head_moving, "face_travel": round(face_amp, 4),
                     "rhythm": head_rhythm if head_moving else None},
            "signals": sig,
            "part_tracks": {p: np.round(tr, 4).tolist() for p, tr in tracks.items()}}  # torso lengths, y up


# The head's rotations as the figure performs them (`mabench.synth.figure.head_angles`), in degrees. A
# rotation over ROTATION_MOVES_DEG is a movement a viewer sees; one under ROTATION_STILL_DEG is none; in
# between the truth does not say.
ROTATION_MOVES_DEG, ROTATION_STILL_DEG = 3.0, 0.5


def rotation_truth(params: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per head rotation (head_yaw / head_pitch / head_roll): its course in degrees, its range and whether it
    moves (None in the margin). Unlike `signal_truth`, whose face-point signal a small nod stays under, this is
    the rotation itself."""
    p, _ = full_params(params)
    courses = dict(zip(("head_yaw", "head_pitch", "head_roll"), head_angles(p), strict=True))
    out = {}
    for kind, v in courses.items():
        deg = np.degrees(v)
        rng = float(np.ptp(deg))
        moving = True if rng >= ROTATION_MOVES_DEG else False if rng <= ROTATION_STILL_DEG else None
        out[kind] = {"degrees": deg, "range": round(rng, 3), "moving": moving}
    return out
