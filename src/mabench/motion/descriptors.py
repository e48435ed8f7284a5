"""Per-part motion descriptors of one clip, from a skeleton (and optionally optical flow).

Everything is measured body-centrically: positions relative to the clip's median hip centre, in
units of the median torso length (neck to hip centre), so a nod means the same in a close-up and a
wide shot. Directions are as seen in the image (leftward = towards the image's left); part names
are the subject's own side (see `mabench.motion.skeleton`).

A fact is only stated with a margin: a direction, trend or order inside the margin is `none` /
`unclear`, never a guess, and the QA builder does not ask about it.

Real micro-actions are small, so the margins follow each clip's own noise: a part moves when it clears
both `MOVING_PART` and `FLOOR_TIMES` times the clip's floor (how far its stillest parts wander). A
torso moves with the neck, not the hip centre (a seated person's hips stay put). The head, whose
rotation barely moves its centre, also moves when optical flow in its box (sub-pixel, see
`mabench.motion.flow`) clears the flow floor; the orientation and trunk signals of
`mabench.motion.signals` are stated beside the parts.
"""

from __future__ import annotations

from itertools import combinations
from typing import Any

import numpy as np

from mabench.motion.events import find_events
from mabench.motion.flow import COURSES, FLOW_FLOOR_MIN, FLOW_SMOOTH_S
from mabench.motion.phases import (
    crossing_time,
    direction_name,
    interp_row,
    noise_level,
    onset_level,
    onset_time,
    phase_edges,
    phase_labels,
    rhythm_of,
    smooth_series,
    smoothing_gain,
)
from mabench.motion.signals import SMOOTH_S, raw_signals, summarise, summarise_signals
from mabench.motion.skeleton import MOTION_JOINTS, PART_JOINTS, J, Skeleton, fill_gaps
from mabench.taxonomy import BODY_PARTS, PHASES

DESCRIPTOR_VERSION = "ma-desc-v4"

# Thresholds in torso lengths (and seconds). The gap between "moves" and "still" is the margin.
MOVE = 0.09          # net displacement in a phase that counts as moving in a direction
STILL = 0.06        # at most this and the part is still along that axis
MOVING_PART = 0.12   # a part whose largest displacement from its start is below this does not move
DOMINANT_RATIO = 1.2  # the dominant part must move this much more than the next one
TREND = 0.1          # change of a pair's distance within a phase that counts as approach / apart
STEADY = 0.06
CONTACT = 0.45       # parts closer than this (centre to centre) are in contact
# The clip's floor: the amplitude its stillest quarter of parts reaches (pose jitter, breathing), capped
# so a whole-body movement (rising up moves every part) does not raise the bar above itself.
FLOOR_QUANTILE, FLOOR_TIMES, FLOOR_MIN, FLOOR_CAP = 0.25, 3.0, 0.01, 0.05
# Head flow: moves when its displacement clears this many flow floors (the stillest quarter of part
# boxes) and FLOW_MIN torso lengths (~1.5 px at a 1080x1296 frame's body size).
FLOW_TIMES, FLOW_MIN = 3.0, 0.006
TOGETHER_CORR = 0.9   # correlation of two parts' distance-from-start profiles that means "together"
LEAD_S = 0.2         # onsets this far apart (and beyond their uncertainty) are ordered
# Gaussian smoothing (seconds): light keeps 2-3 Hz nods for amplitude and rhythm; heavy damps
# keypoint jitter where a fact rests on two instants (phase directions, distance trends, onsets).
SMOOTH_ONSET_S, SMOOTH_HEAVY_S = 0.1, 0.14  # (light: `SMOOTH_S`)

# The part pairs PPR asks about: (a, b), each a part name.
PAIRS: tuple[tuple[str, str], ...] = (
    ("left hand", "head"), ("right hand", "head"), ("left hand", "torso"), ("right hand", "torso"),
    ("left hand", "right hand"), ("left hand", "left upper leg"), ("right hand", "right upper leg"),
    ("left foot", "right foot"),
)
# Pairs a trunk or head action is seen in (the head leaving the lap as the trunk straightens, the upper
# arms rising toward the head in a shrug). Measured like PAIRS; the QA builder asks about them only when
# a clip has too few PAIRS facts (its hands hidden or still).
TRUNK_PAIRS: tuple[tuple[str, str], ...] = (
    ("head", "left upper leg"), ("head", "right upper leg"), ("left upper arm", "head"), ("right upper arm", "head"),
)


def _part_weights(joints_of: dict[str, tuple[str, ...]]) -> np.ndarray:
    w = np.zeros((len(BODY_PARTS), len(J)))
    for p, part in enumerate(BODY_PARTS):
        for joint in joints_of[part]:
            w[p, J[joint]] = 1.0 / len(joints_of[part])
    return w


_PART_WEIGHTS = _part_weights(PART_JOINTS)      # (P, J): each part's centre (distances, contact, position)
_MOTION_WEIGHTS = _part_weights(MOTION_JOINTS)  # where each part's movement is read


def pair_name(a: str, b: str) -> str:
    return f"{a}|{b}"


def describe(sk: Skeleton, clip: str = "", flow: dict | None = None) -> dict:
    """The descriptor record of one clip (JSON-ready)."""
    sk = fill_gaps(sk)
    times = sk.times
    hip_c = sk.points[:, [J["left_hip"], J["right_hip"]]].mean(axis=1)
    torso_len = np.linalg.norm(sk.points[:, J["neck"]] - hip_c, axis=1)
    scale = float(np.median(torso_len))
    if not np.isfinite(scale) or scale < 1.0:
        raise ValueError("torso not found: neck and hips missing or on top of each other")
    origin = np.median(hip_c, axis=0)
    # body-centric: image axes kept (directions are as seen), origin and unit from the body
    def body_centric(p: np.ndarray, weights: np.ndarray) -> np.ndarray:  # (T, J, 2) px -> (T, P, 2) body units
        norm = np.einsum("tjc,pj->tpc", p - origin, weights) / scale
        norm[..., 1] *= -1  # y up, so "upward" is positive
        return norm

    raw = body_centric(sk.points, _MOTION_WEIGHTS)
    light, onset_arr, steady = (smooth_series(raw, times, s_) for s_ in (SMOOTH_S, SMOOTH_ONSET_S, SMOOTH_HEAVY_S))
    centres = smooth_series(body_centric(sk.points, _PART_WEIGHTS), times, SMOOTH_HEAVY_S)
    tracks = dict(zip(BODY_PARTS, light.transpose(1, 0, 2), strict=True))
    onset_tracks = dict(zip(BODY_PARTS, onset_arr.transpose(1, 0, 2), strict=True))
    raw_noise = dict(zip(BODY_PARTS, noise_level(raw), strict=True))  # per part, of the raw tracks
    gain = {s_: smoothing_gain(times, s_) for s_ in (SMOOTH_S, SMOOTH_ONSET_S, SMOOTH_HEAVY_S)}
    heavy_gain = gain[SMOOTH_HEAVY_S]
    noise = {part: n * heavy_gain for part, n in raw_noise.items()}  # of the steady tracks
    edges = phase_edges(times)
    part_noise = np.array([noise[p] for p in BODY_PARTS])[:, None].repeat(2, axis=1)  # (P, 2)
    n0 = max(1, int(np.searchsorted(times, times[0] + 0.1)))
    n_base = max(1, int(np.searchsorted(times, times[0] + 0.2)))  # the resting pose an onset departs from

    amps = {part: float(np.linalg.norm(tracks[part] - tracks[part][:n0].mean(axis=0), axis=1).max())
            for part in BODY_PARTS}
    seen = [a for a in amps.values() if np.isfinite(a)]  # a part never seen (feet out of frame) has no amplitude
    floor = min(FLOOR_CAP, max(FLOOR_MIN, float(np.quantile(seen, FLOOR_QUANTILE)) if seen else FLOOR_MIN))
    moving_at = max(MOVING_PART, FLOOR_TIMES * floor)
    # a pose model's slow wander (the floor) must not pass for a direction or a distance trend either
    move_t, still_t = max(MOVE, 2 * floor), max(STILL, 1.5 * floor)
    trend_t, steady_t = max(TREND, FLOOR_TIMES * floor), max(STEADY, 2 * floor)
    nets, codes = phase_labels(steady, times, move_t, still_t, part_noise)
    parts: dict[str, dict] = {}
    profiles: dict[str, np.ndarray] = {}
    mid_x = centres[..., 0] - centres[:, [BODY_PARTS.index("torso")], 0]  # (T, P): offset from the body midline
    for part in BODY_PARTS:
        tr = tracks[part]
        start = tr[:n0].mean(axis=0)
        disp = tr - start
        amp = amps[part]
        visible = _visible(sk, part)
        rec: dict = {"amplitude": round(amp, 4), "moving": visible and amp >= moving_at, "source": "keypoints",
                     "visible": visible}
        phases = {}
        pi = BODY_PARTS.index(part)
        for k, ph in enumerate(PHASES):
            (dx, dy), (cx, cy) = nets[k][pi], codes[k][pi]
            phases[ph] = {"dx": round(float(dx), 4), "dy": round(float(dy), 4), "margin": round(move_t, 4),
                          "horizontal": direction_name(cx, "rightward", "leftward"),
                          "vertical": direction_name(cy, "upward", "downward"),
                          # where the phase starts, across the body: the part's offset from the torso's
                          # centre line (image x, torso lengths), and the time span in seconds
                          "x_from_midline": round(float(interp_row(mid_x[:, pi], times, edges[k])), 4),
                          "span_s": [round(float(edges[k] - times[0]), 3), round(float(edges[k + 1] - times[0]), 3)]}
        rec["phases"] = phases
        if rec["moving"]:
            rec["rhythm"] = rhythm_of(disp, times, amp)
            # timed on a steadier track, where jitter moves the crossing less, unless that smoothing
            # averages the movement away (a 2-3 Hz shake): then on the light one
            tt, smooth_s = onset_tracks[part], SMOOTH_ONSET_S
            dist = np.linalg.norm(tt - tt[:n_base].mean(axis=0), axis=1)
            light_noise = raw_noise[part] * gain[SMOOTH_S]
            if dist.max() < 0.6 * (amp - 3 * light_noise):  # amp itself is inflated by jitter
                tt, smooth_s = tr, SMOOTH_S
                dist = np.linalg.norm(disp, axis=1)
            # how far jitter can move the crossing: the track's noise over the curve's slope there; a
            # level within reach of the noise itself gives no onset at all
            jitter = raw_noise[part] * gain[smooth_s]
            onset = onset_time(dist, times) if onset_level(float(dist.max())) >= 3 * jitter else None
            profiles[part] = dist
            rec["onset"] = None if onset is None else round(onset, 3)
            slope = float(np.interp(onset, times[1:], np.diff(dist) / np.diff(times))) if onset is not None else 0.0
            rec["onset_uncertainty_s"] = round(min(1.2 * jitter / max(slope, 1e-6), 9.0), 3)
            # and it ends when it last covers a quarter of its way to where it ends up
            back = np.linalg.norm(tt - tt[-n0:].mean(axis=0), axis=1)
            rec["offset"] = round(float(times[-1] - crossing_time(back[::-1], times[-1] - times[::-1],
                                                                  onset_level(float(back.max())))), 3)
            peak = int(np.argmax(dist))
            rec["position"] = _position(part, centres[peak, BODY_PARTS.index(part)],
                                        dict(zip(BODY_PARTS, centres[peak], strict=True)))
        parts[part] = rec

    flow_info = None
    if flow is not None and "displacement" in flow:
        flow_info = _head_from_flow(parts, flow)
    series, face_info = raw_signals(sk)
    sig = {"signals": summarise_signals(series, times), "face": face_info}
    _from_signals(parts, sig["signals"])
    events = find_events(times, series, sig["signals"], parts, tracks, moving_at,
                         flow if flow is not None and "head_own" in flow else None,
                         None if flow_info is None else flow_info["floor"], sk.duration)
    if any(e.part == "head" and e.is_rotation for e in events.events):
        # the head turns, nods or tilts: its centre's drift is not a path of its own
        parts["head"]["motion"] = "rotation"

    moving = [p for p in BODY_PARTS if parts[p]["moving"]]
    ranking = sorted(moving, key=lambda p: -parts[p]["amplitude"])
    dominant = None
    if ranking:
        second = parts[ranking[1]]["amplitude"] if len(ranking) > 1 else MOVING_PART
        if parts[ranking[0]]["amplitude"] >= DOMINANT_RATIO * second:
            dominant = ranking[0]

    order: list[dict[str, Any]] = []
    # parts that move together (one limb, one stroke) have the same distance profile: a test that
    # uses every frame, so it holds under jitter that moves single crossings
    # parts moved by flow alone have no onset; parts moved by signals have one but no distance profile
    timed = [p for p in ranking if p in profiles or parts[p].get("onset") is not None]
    profiled = [p for p in timed if p in profiles]
    corr = np.eye(len(profiled))
    if profiled:
        prof = np.stack([profiles[p] - profiles[p].mean() for p in profiled])
        prof /= np.maximum(np.linalg.norm(prof, axis=1, keepdims=True), 1e-12)
        corr = prof @ prof.T
    index = {p: i for i, p in enumerate(profiled)}
    for a, b in combinations(timed, 2):
        together = a in index and b in index and bool(corr[index[a], index[b]] >= TOGETHER_CORR)
        if parts[a]["onset"] is None or parts[b]["onset"] is None:
            rel = "simultaneous" if together else "unclear"
            order.append({"a": a, "b": b, "gap_s": None, "relation": rel})
            continue
        gap = parts[b]["onset"] - parts[a]["onset"]
        unc = float(np.hypot(parts[a]["onset_uncertainty_s"], parts[b]["onset_uncertainty_s"]))
        if abs(gap) >= max(LEAD_S, 2 * unc) and not (together and not _lag_agrees(prof[index[a]], prof[index[b]],
                                                                                   times, gap)):
            rel = "before" if gap > 0 else "after"
        elif together and abs(gap) < LEAD_S:
            rel = "simultaneous"
        else:
            rel = "unclear"
        rec_o = {"a": a, "b": b, "gap_s": round(float(gap), 3), "relation": rel}
        if a in index and b in index:  # how alike the two movements are over time (1 = one movement)
            rec_o["corr"] = round(float(corr[index[a], index[b]]), 3)
        order.append(rec_o)

    pairs = {}
    centre = dict(zip(BODY_PARTS, centres.transpose(1, 0, 2), strict=True))
    all_pairs = PAIRS + TRUNK_PAIRS
    dists = np.stack([np.linalg.norm(centre[a] - centre[b], axis=1) for a, b in all_pairs], axis=1)
    pair_noise = np.array([np.hypot(noise[a], noise[b]) for a, b in all_pairs])
    # approach is a shrinking distance: label the negated distance so "positive" means approach
    pnets, pcodes = phase_labels(-dists, times, trend_t, steady_t, pair_noise)
    for n, (a, b) in enumerate(all_pairs):
        phases = {}
        for k, ph in enumerate(PHASES):
            trend = direction_name(pcodes[k][n], "approach", "apart").replace("none", "steady")
            phases[ph] = {"delta": round(-float(pnets[k][n]), 4), "trend": trend}
        closest = float(dists[:, n].min())
        pairs[pair_name(a, b)] = {"phases": phases, "min_distance": round(closest, 4), "contact": closest <= CONTACT,
                                  "start_distance": round(float(dists[:n0, n].mean()), 4)}

    out: dict[str, Any] = {"clip": clip, "version": DESCRIPTOR_VERSION, "duration": round(sk.duration, 3),
           "n_frames": len(times), "scale_px": round(scale, 2), "source": sk.source,
           "phase_edges": [round(float(e), 3) for e in edges],
           "floor": {"parts": round(floor, 4), "moving_at": round(moving_at, 4), "move": round(move_t, 4),
                     "trend": round(trend_t, 4)},
           "parts": parts, "ranking": ranking, "dominant": dominant, "order": order, "pairs": pairs,
           "flagged": sk.flagged, **sig, "events": events.to_json()}
    if flow is not None:
        out["flow"] = {k: v for k, v in flow.items() if k not in COURSES}
        if flow_info is not None:
            out["flow"]["head"] = flow_info
    return out


def _head_from_flow(parts: dict, flow: dict) -> dict:
    """The head's image motion from the flow in its box; a head the keypoints call still but whose flow
    clears the flow floor becomes moving, with its directions, amplitude and rhythm from the flow."""
    disp = flow["displacement"]
    ft = np.asarray(flow["times"], dtype=np.float64)
    amps = {p: float(np.linalg.norm(d - d[0], axis=1).max()) for p, d in disp.items()}
    floor = max(FLOW_FLOOR_MIN, float(np.quantile(list(amps.values()), FLOOR_QUANTILE)))
    head = disp["head"]  # on the flow's own (every-frame) times: a nod's strokes need them all
    axes = {ax: summarise(head[:, k], ft, floor, pos, neg, FLOW_SMOOTH_S) for k, (ax, pos, neg) in
            enumerate((("horizontal", "rightward", "leftward"), ("vertical", "upward", "downward")))}
    amp = amps["head"]
    moves = amp >= max(FLOW_TIMES * floor, FLOW_MIN)
    # a repeated stroke on one axis (a nod, a shake) drags the other axis a pixel or two: state only
    # the repeated axis then
    rep = {ax for ax, a in axes.items() if a.get("rhythm") == "repeated"}
    if len(rep) == 1:
        other = ({"horizontal", "vertical"} - rep).pop()
        axes[other] = {**axes[other], "phases": {ph: "unclear" for ph in PHASES}}
    info = {"amplitude": round(amp, 4), "floor": round(floor, 4), "moves": bool(moves),
            **{ax: {k: v for k, v in a.items() if k in ("state", "phases", "reversals", "rhythm")}
               for ax, a in axes.items()}}
    rec = parts["head"]
    if moves and rec.get("visible", True) and not rec["moving"]:
        rec.update({"moving": True, "source": "flow", "amplitude": round(amp, 4), "onset": None,
                    "onset_uncertainty_s": None, "offset": None})
        for ph in PHASES:
            p = rec["phases"][ph]
            for ax in ("horizontal", "vertical"):
                # an axis inside its own margin states nothing, not stillness
                p[ax] = axes[ax].get("phases", {}).get(ph, "none" if axes[ax]["state"] == "still" else "unclear")
            seg = head[_in_phase(ft, ph)]
            p["dx"], p["dy"] = (round(float(seg[-1, k] - seg[0, k]), 4) for k in range(2))
            p["margin"] = round(floor, 4)
        rec["rhythm"] = "repetitive" if rep else "single"
        if len(rep) == 1:
            rec["repeated_axis"] = next(iter(rep))
    return info


# Orientation / posture signals that make a part move when its position alone stays under the floor,
# and the image axis each one's direction reads on (None: no image direction, e.g. shoulder width).
SIGNAL_AXES: dict[str, dict[str, str | None]] = {
    "head": {"head_pitch": "vertical", "head_yaw": "horizontal", "head_roll": None},
    "torso": {"trunk_lean": "horizontal", "trunk_length": "vertical", "shoulder_raise": "vertical",
              "hip_height": "vertical"},
}
SIGNAL_ONSET_UNCERTAINTY_S = 0.1  # ~ the smoothing width: a signal's crossing is not sharper than that
SIGNAL_WORDS = {"tips upward": "upward", "tips downward": "downward", "turns rightward": "rightward",
                "turns leftward": "leftward", "sways rightward": "rightward", "sways leftward": "leftward",
                "lengthens": "upward", "shortens": "downward", "rises": "upward", "drops": "downward",
                "sinks": "downward", "back-and-forth": "back-and-forth", "none": "none", "unclear": "unclear"}


def _from_signals(parts: dict, signals: dict) -> None:
    """A head or torso whose position stays under the floor but whose orientation or posture clearly
    changes is moving: its directions per phase come from those signals, where they have one. One whose
    position moves, but whose signals moved earlier, is under way from a time that is not one instant (its
    onset's uncertainty spans both)."""
    for part, axes in SIGNAL_AXES.items():
        rec = parts[part]
        moved = [n for n in axes if signals.get(n, {}).get("state") == "moves"]
        if rec["moving"] and moved and rec.get("onset") is not None:
            # its orientation or posture changed before its position did (a head that turns, then is carried
            # by the trunk): when it started is not one instant, and no before / after is told against it
            early = rec["onset"] - min(signals[n]["onset"] for n in moved)
            rec["onset_uncertainty_s"] = round(max(rec["onset_uncertainty_s"], early), 3)
        if rec["moving"] or not rec.get("visible", True) or not moved:
            continue
        rec.update({"moving": True, "source": "signals:" + ",".join(moved),
                    "onset": min(signals[n]["onset"] for n in moved),
                    "onset_uncertainty_s": SIGNAL_ONSET_UNCERTAINTY_S, "offset": None,
                    "rhythm": "repetitive" if any(signals[n]["rhythm"] == "repeated" for n in moved) else "single"})
        for ph in PHASES:
            p = rec["phases"][ph]
            for ax in ("horizontal", "vertical"):
                words = {SIGNAL_WORDS.get(signals[n]["phases"][ph], "unclear") for n in moved if axes[n] == ax}
                if not words:
                    continue
                words.discard("none")
                # two signals disagreeing on one axis state nothing; a moving one wins over a still one
                p[ax] = words.pop() if len(words) == 1 else "none" if not words else "unclear"
                p["margin"] = None  # decided on the signals' own floors, not on torso-length distances


def _in_phase(times: np.ndarray, ph: str) -> np.ndarray:
    edges = phase_edges(times)
    k = PHASES.index(ph)
    return (times >= edges[k]) & (times <= edges[k + 1])


# Pose models whose confidence is the chance a point is seen (not occluded), and the mean over the clip
# under which a part's points are guesses: MediaPipe's clasped or hidden hands (0.64-0.85 on the real
# clips) jump by tens of pixels while the visible hand beside them stays put. No fact is stated about
# such a part, neither a movement nor stillness. Other formats' scores are not calibrated that way.
VISIBILITY_SOURCES = {"mediapipe33": 0.8}


def _visible(sk: Skeleton, part: str) -> bool:
    need = VISIBILITY_SOURCES.get(sk.source)
    if need is None:
        return True
    return min(float(np.mean(sk.conf[:, J[j]])) for j in MOTION_JOINTS[part]) >= need


def _lag_agrees(pa: np.ndarray, pb: np.ndarray, times: np.ndarray, gap: float) -> bool:
    """Whether two movements of one course (normalised distance profiles, correlated TOGETHER_CORR or more) are
    shifted as their onsets say: the shift that best aligns the whole profiles is on the same side, at least LEAD_S
    and half the gap. Onsets are single crossings, which jitter moves far on a slow movement (a whole body rising
    over 1.8 s under 2% keypoint noise: onsets 0.4-1.2 s for parts that started within 0.06 s, profile shifts
    within 0.1 s of 0 for most); the profiles use every frame."""
    step = float(np.median(np.diff(times)))
    best, lag = -np.inf, 0.0
    # shifts up to twice the gap, while the two overlap by half the clip at least
    reach = min(int(2 * abs(gap) / step) + 1, len(pa) // 2)
    for k in range(-reach, reach + 1):
        x, y = (pa[: len(pa) - k], pb[k:]) if k >= 0 else (pa[-k:], pb[: len(pb) + k])
        c = float(np.dot(x - x.mean(), y - y.mean()) / max(np.linalg.norm(x - x.mean()) * np.linalg.norm(y - y.mean()),
                                                             1e-12))
        if c > best:
            best, lag = c, k * step
    # (a 3-frame shift at 15 fps is LEAD_S, not a rounding error under it)
    return lag * gap > 0 and abs(lag) >= max(LEAD_S, 0.5 * abs(gap)) - 1e-9


# Two parts whose movements have nearly the same course over time are one movement (the trunk carrying
# the head and arms); a lag under ONE_MOVEMENT_LAG_S between them is not an order a viewer can see.
ONE_MOVEMENT_CORR, ONE_MOVEMENT_LAG_S = 0.8, 0.5


def visible_order(o: dict) -> bool:
    """Whether an `order` record's before/after is a sequence of two movements, not one movement's lag."""
    if o["relation"] not in ("before", "after"):
        return False
    # without a correlation (a part moved by flow or signals) it may be one movement: it needs the long lag
    return o.get("corr", 1.0) < ONE_MOVEMENT_CORR or abs(o["gap_s"]) >= ONE_MOVEMENT_LAG_S


def _position(part: str, p: np.ndarray, at_peak: dict[str, np.ndarray]) -> dict:
    """Where the part is at its largest displacement: midline side, height band, near / extended."""
    own = "left" if part.startswith("left") else "right" if part.startswith("right") else None
    # the subject's left is the image's right, so its own side has x > 0
    if own is None or abs(p[0]) < 0.15:
        midline = "at the midline"
    else:
        on_left_half = p[0] > 0  # subject's left half of the body
        midline = "own side" if on_left_half == (own == "left") else "across the midline"
    head_y = at_peak["head"][1]
    shoulder_y = (at_peak["left upper arm"][1] + at_peak["right upper arm"][1]) / 2 + 0.25
    y = p[1]
    if y >= head_y - 0.3:  # the head is about 0.25 torso lengths in radius
        height = "head level"
    elif y >= shoulder_y - 0.2:
        height = "shoulder level"
    elif y >= 0.25:
        height = "chest level"
    elif y >= -0.3:
        height = "waist level"
    else:
        height = "leg level"
    reach = float(np.linalg.norm(p - at_peak["torso"]))
    return {"midline": midline, "height": height, "reach": "extended" if reach >= 1.3 else "near"}
