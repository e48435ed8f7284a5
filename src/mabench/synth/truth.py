"""Ground truth of a synthetic clip, from the generator's exact, noise-free kinematics.

The descriptors have to recover these facts from sampled (and, in validation, noisy) keypoints with
smoothing and estimated body scale. The truth uses the exact scale and wider bands: a fact near the
decision boundary is `None` here and left out of the validation, as the QA builder leaves it out.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from mabench.motion.descriptors import (
    CONTACT,
    ONSET,
    PAIRS,
    onset_time,
    pair_name,
    phase_change,
    phase_edges,
    rhythm_of,
)
from mabench.motion.skeleton import MOTION_JOINTS, PART_JOINTS, J
from mabench.taxonomy import BODY_PARTS, PHASES

GT_MOVE, GT_STILL = 0.14, 0.02          # net displacement in a phase (torso lengths)
GT_EDGE_S = 0.1                          # phase edges this uncertain
GT_RETURN = 0.03                         # a phase that went further and came back this much is not simple
GT_MOVING_PART, GT_STILL_PART = 0.2, 0.06
GT_DOMINANT_RATIO = 1.35
GT_TREND, GT_STEADY = 0.14, 0.02
GT_LEAD_S, GT_SIMULTANEOUS_S = 0.35, 0.04
GT_ONSET_MARGIN = 0.3


def _band(net: float, ret: float, pos: str, neg: str, move: float, still: float) -> str | None:
    """The true label of a change in one phase, or None inside the margins."""
    if ret >= move and abs(net) <= 0.4 * (abs(net) + ret):
        return "back-and-forth"
    if ret > GT_RETURN:
        return None
    if net >= move:
        return pos
    if net <= -move:
        return neg
    return "none" if abs(net) <= still else None


def _robust(values: np.ndarray, times: np.ndarray, t0: float, t1: float, pos: str, neg: str,
            move: float, still: float) -> str | None:
    """The label of a phase if it stays the same when the phase edges move by GT_EDGE_S, else None.

    A part moving fast across a phase boundary has a net change that depends on the exact instant;
    that is not a fact anyone could read off a video.
    """
    labels = {_band(*phase_change(values, times, max(t0 + a, times[0]), min(t1 + b, times[-1])),
                    pos, neg, move, still)
              for a in (-GT_EDGE_S, 0.0, GT_EDGE_S) for b in (-GT_EDGE_S, 0.0, GT_EDGE_S)}
    return labels.pop() if len(labels) == 1 else None


def ground_truth(points: np.ndarray, times: np.ndarray, torso_px: float) -> dict:
    """Facts of the exact joint trajectories `points` (T, J, 2) in pixels."""
    norm = points / torso_px
    norm[..., 1] *= -1
    # movement is read where the descriptors read it (the torso at the neck); distances between part centres
    tracks = {p: norm[:, [J[j] for j in js]].mean(axis=1) for p, js in MOTION_JOINTS.items()}
    centres = {p: norm[:, [J[j] for j in js]].mean(axis=1) for p, js in PART_JOINTS.items()}
    edges = phase_edges(times)
    amp, onset, directions = {}, {}, {}
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
    order = {}
    for a, b in combinations([p for p in BODY_PARTS if moving[p]], 2):
        if onset[a] is None or onset[b] is None:
            order[pair_name(a, b)] = None
            continue
        gap = onset[b] - onset[a]
        rel = ("simultaneous" if abs(gap) <= GT_SIMULTANEOUS_S else
               ("before" if gap > 0 else "after") if abs(gap) >= GT_LEAD_S else None)
        order[pair_name(a, b)] = rel
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
    return {"amplitude": {p: round(a, 4) for p, a in amp.items()}, "moving": moving, "dominant": dominant,
            "onset": onset, "order": order, "directions": directions, "pairs": pairs, "contact": contact,
            "rhythm": rhythm,
            "part_tracks": {p: np.round(tr, 4).tolist() for p, tr in tracks.items()}}  # torso lengths, y up
