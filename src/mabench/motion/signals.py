"""Head orientation and trunk posture: the signals head and trunk micro-actions live in.

A nod moves the head's centre by 1-2% of the torso length (it is a rotation), a head shake by ~5%;
a seated person's sway, straightening or shrug changes the trunk's angle, length and shoulder line
more than its position. So beside part positions the descriptors read, per frame:

* head (from the face points): ``head_yaw`` (nose against the ears' midpoint, sideways, in ear
  widths), ``head_pitch`` (the same, vertically), ``head_roll`` (the ear line's angle, degrees);
* trunk (from shoulders and hips): ``trunk_lean`` (shoulders' midpoint against the hips', degrees
  from vertical), ``trunk_length`` (neck to hip centre against its clip median), ``shoulder_width``
  (shoulder span over torso length: narrows as the trunk rotates), ``shoulder_raise`` (shoulders
  against the ears, torso lengths: a shrug), ``hip_height`` (hip centre, torso lengths: rising).

Every signal is decided against its own floor: what a still person produces on it. The floor is the
larger of a measured minimum (`FLOORS`, from still stretches of real MA-52 clips under MediaPipe)
and three times the clip's own high-frequency noise on it. The minimums for the head's yaw and pitch
are set above what a masked face gave on a still head (0.04-0.05 ear widths), since the face points
of a masked face are placed from the head's outline. A signal moves when its largest excursion
from the start clears `MOVES_AT` floors, is still under `STILL_UNDER` floors, and is `unclear` in
between: never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mabench.motion.skeleton import J, Skeleton
from mabench.taxonomy import PHASES


@dataclass(frozen=True)
class SignalSpec:
    part: str       # the question part it belongs to
    unit: str
    pos: str        # what a rising value means, in words
    neg: str
    floor: float    # measured minimum floor (still stretches of real clips), in `unit`


# Image directions are as seen; a part's side is the subject's own (see `mabench.motion.skeleton`).
SIGNALS: dict[str, SignalSpec] = {
    "head_yaw": SignalSpec("head", "ear widths", "turns rightward", "turns leftward", 0.06),
    "head_pitch": SignalSpec("head", "ear widths", "tips upward", "tips downward", 0.08),
    "head_roll": SignalSpec("head", "degrees", "tilts rightward", "tilts leftward", 3.0),
    "trunk_lean": SignalSpec("torso", "degrees", "sways rightward", "sways leftward", 2.0),
    "trunk_length": SignalSpec("torso", "torso lengths", "lengthens", "shortens", 0.05),
    "shoulder_width": SignalSpec("torso", "torso lengths", "widens", "narrows", 0.05),
    "shoulder_raise": SignalSpec("torso", "torso lengths", "rises", "drops", 0.03),
    "hip_height": SignalSpec("torso", "torso lengths", "rises", "sinks", 0.04),
}
MOVES_AT, STILL_UNDER = 2.0, 1.0   # in floors
PHASE_MOVE = 1.3                   # a phase's net change of this many floors has a direction
PHASE_SHARE = 0.5                  # ... and this share of the signal's amplitude
REPEAT_REVERSALS = 3               # reversals (with hysteresis) that make a movement repeated
SWING_SHARE = 0.3                  # a swing back under this share of the series' range is not a reversal
SMOOTH_S = 0.06


def _pt(sk: Skeleton, name: str) -> np.ndarray:
    return sk.points[:, J[name]]


def _face(sk: Skeleton, name: str) -> np.ndarray | None:
    f = sk.face.get(name)
    return None if f is None else f[:, :2]


def raw_signals(sk: Skeleton) -> tuple[dict[str, np.ndarray], dict]:
    """Per-frame values of every signal the skeleton supports, and how confident the face points are."""
    out: dict[str, np.ndarray] = {}
    hip = (_pt(sk, "left_hip") + _pt(sk, "right_hip")) / 2
    neck = _pt(sk, "neck")
    torso = np.linalg.norm(neck - hip, axis=1)
    scale = float(np.nanmedian(torso))
    if np.isfinite(scale) and scale >= 1.0:
        up = neck - hip
        # degrees from vertical, positive when the shoulders are to the image's right of the hips
        out["trunk_lean"] = np.degrees(np.arctan2(up[:, 0], -up[:, 1]))
        out["trunk_length"] = torso / scale - 1.0
        span = np.linalg.norm(_pt(sk, "left_shoulder") - _pt(sk, "right_shoulder"), axis=1)
        out["shoulder_width"] = span / scale
        out["hip_height"] = -(hip[:, 1] - np.nanmedian(hip[:, 1])) / scale
    info: dict = {"face_points": sorted(sk.face)}
    nose, le, re_ = _face(sk, "nose"), _face(sk, "left_ear"), _face(sk, "right_ear")
    if nose is not None and le is not None and re_ is not None:
        ears = (le + re_) / 2
        width = float(np.nanmedian(np.linalg.norm(le - re_, axis=1)))
        if np.isfinite(width) and width >= 1.0:
            out["head_yaw"] = (nose[:, 0] - ears[:, 0]) / width
            out["head_pitch"] = -(nose[:, 1] - ears[:, 1]) / width  # y up
            # the ear line's angle; positive when the top of the head tips toward the image's right
            d = le - re_
            d = np.where(d[:, :1] < 0, -d, d)  # the same line whichever ear is on the image's left
            out["head_roll"] = np.degrees(np.arctan2(d[:, 1], d[:, 0]))
            if np.isfinite(scale) and scale >= 1.0:
                shoulders = (_pt(sk, "left_shoulder") + _pt(sk, "right_shoulder")) / 2
                out["shoulder_raise"] = -(shoulders[:, 1] - ears[:, 1]) / scale - np.nanmedian(
                    -(shoulders[:, 1] - ears[:, 1]) / scale)
            conf = np.stack([sk.face[n][:, 2] for n in ("nose", "left_ear", "right_ear")])
            info["face_confidence"] = round(float(np.nanmean(conf)), 3)
    return {k: v for k, v in out.items() if np.isfinite(v).mean() >= 0.8}, info


def _fill(v: np.ndarray) -> np.ndarray:
    ok = np.isfinite(v)
    if ok.all():
        return v
    idx = np.arange(len(v))
    return np.interp(idx, idx[ok], v[ok])


def hf_noise(v: np.ndarray, window: int = 8) -> float:
    """White-noise level of a series from its second differences, taken where the series is quietest: a fast
    nod has large second differences of its own, and must not raise its own floor."""
    if len(v) < 3:
        return 0.0
    d2 = np.abs(v[2:] - 2 * v[1:-1] + v[:-2])
    if len(d2) >= 2 * window:
        d2 = np.quantile([np.median(d2[i:i + window]) for i in range(0, len(d2) - window + 1, window // 2)], 0.2)
    return float(1.4826 * np.median(d2) / np.sqrt(6))


def frame_step(times: np.ndarray) -> float:
    """Mean time between frames (smoothing widths are set in seconds, applied in frames)."""
    return max(float(times[-1] - times[0]) / max(len(times) - 1, 1), 1e-6)


def smooth(v: np.ndarray, times: np.ndarray, sigma_s: float = SMOOTH_S) -> np.ndarray:
    sigma = sigma_s / frame_step(times)
    if sigma < 0.5:
        return v
    r = int(3 * sigma)
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    padded = np.pad(v, r, mode="edge")
    return np.convolve(padded, k / k.sum(), mode="valid")


def reversals(v: np.ndarray, h: float) -> int:
    """Turns of a series that swing back by at least `h` (a zig-zag with hysteresis)."""
    return len(turning_points(v, h))


def turning_points(v: np.ndarray, h: float) -> list[int]:
    """Indices of the extremes where a series turns and swings back by at least `h`."""
    out, trend, ref, at = [], 0, float(v[0]), 0
    for i, x in enumerate(v[1:].tolist(), start=1):
        if trend == 0:
            if abs(x - ref) >= h:
                trend, ref, at = (1 if x > ref else -1), x, i
        elif trend * (x - ref) > 0:
            ref, at = x, i
        elif trend * (ref - x) >= h:
            out.append(at)
            trend, ref, at = -trend, x, i
    return out


def travel(v: np.ndarray) -> tuple[float, float]:
    """The longest rise and the longest fall of a series (each from its lowest / highest point before)."""
    return float((v - np.minimum.accumulate(v)).max()), float((np.maximum.accumulate(v) - v).max())


# A trunk that leans carries the head with it: the head's turn and tilt in the image are then not its own.
CARRIED_BY_TRUNK = ("head_yaw", "head_roll")


def settled(signals: dict, part: str) -> bool:
    """Every orientation / posture signal of `part` is still (none moves, none is unclear): a head whose
    centre stays put may still turn or nod."""
    return all(s.get("state") == "still" for s in signals.values() if s.get("part") == part)


def summarise(v: np.ndarray, times: np.ndarray, floor_min: float, pos: str = "pos", neg: str = "neg",
              smooth_s: float = SMOOTH_S) -> dict:
    """Decide a series against its floor: amplitude, state, direction per phase, rhythm."""
    v = _fill(np.asarray(v, dtype=np.float64))
    noise = hf_noise(v)
    floor = max(floor_min, 3 * noise)
    s = smooth(v, times, smooth_s)
    n0 = max(1, int(np.searchsorted(times, times[0] + 0.1)))
    dev = s - s[:n0].mean()
    amp = float(np.abs(dev).max())
    state = "moves" if amp >= MOVES_AT * floor else "still" if amp <= STILL_UNDER * floor else "unclear"
    # travel: the longest stretch it went each way (pos, neg), wherever it started from, so a head that turned
    # right and back also turned left; level: where it was (lowest, highest), the signal itself being a posture
    # (0 = facing the camera, level, upright)
    out = {"amplitude": round(amp, 4), "floor": round(floor, 4), "noise": round(noise, 4), "state": state,
           "range": round(float(np.ptp(s)), 4), "travel": [round(v, 4) for v in travel(s)],
           "level": [round(float(s.min()), 4), round(float(s.max()), 4)]}
    if state != "moves":
        return out
    edges = np.linspace(times[0], times[-1], len(PHASES) + 1)
    # a phase's direction must clear the floor and be a real share of the whole movement, so a drift
    # between two strokes is not stated as a movement of its own
    step = max(PHASE_MOVE * floor, PHASE_SHARE * amp)
    h = max(SWING_SHARE * float(np.ptp(s)), PHASE_MOVE * floor)
    phases = {}
    for k, ph in enumerate(PHASES):
        seg = s[(times >= edges[k]) & (times <= edges[k + 1])]
        if len(seg) < 2:
            phases[ph] = "unclear"
            continue
        net = float(seg[-1] - seg[0])
        back = float(np.ptp(seg)) - abs(net)  # how far it went beyond where it ended
        # a phase that turns back (a stroke of a nod) is back-and-forth, whatever its net change
        turns = reversals(seg, h) >= 1 and float(np.ptp(seg)) >= step
        if turns or (back >= step and abs(net) <= 0.5 * (abs(net) + back)):
            phases[ph] = "back-and-forth"
        elif net >= step:
            phases[ph] = pos
        elif net <= -step:
            phases[ph] = neg
        elif abs(net) + back <= 0.5 * PHASE_MOVE * floor:
            phases[ph] = "none"
        else:
            phases[ph] = "unclear"
    n_rev = reversals(s, h)
    if n_rev >= REPEAT_REVERSALS:  # a shake or a nod: a phase's net change is a piece of a swing, not a direction
        phases = {ph: "unclear" if w in (pos, neg) else w for ph, w in phases.items()}
    # under way when it has covered a quarter of its largest excursion (as parts' onsets), and at least the
    # floor: a quarter of a movement of 2-4 floors is within the noise, which crosses it long before the movement
    onset = float(times[int(np.flatnonzero(np.abs(dev) >= max(0.25 * amp, floor))[0])])
    out.update({"phases": phases, "reversals": n_rev, "onset": round(onset, 3),
                "rhythm": "repeated" if n_rev >= REPEAT_REVERSALS else "single",
                "net": round(float(dev[-1]), 4), "peak": pos if dev[int(np.argmax(np.abs(dev)))] > 0 else neg})
    return out


def summarise_signals(series: dict[str, np.ndarray], times: np.ndarray) -> dict[str, dict]:
    """Every signal decided against its floor (`summarise`), with its part and unit."""
    out = {}
    for name, v in series.items():
        spec = SIGNALS[name]
        out[name] = {"part": spec.part, "unit": spec.unit, **summarise(v, times, spec.floor, spec.pos, spec.neg)}
    return out


def describe_signals(sk: Skeleton) -> dict:
    """``{"signals": {name: summary}, "face": info}`` for every signal this skeleton supports."""
    series, info = raw_signals(sk)
    return {"signals": summarise_signals(series, sk.times), "face": info}


def series_for_plot(sk: Skeleton) -> dict[str, np.ndarray]:
    """The smoothed signals, for overlays."""
    series, _ = raw_signals(sk)
    return {k: smooth(_fill(v), sk.times) for k, v in series.items()}
