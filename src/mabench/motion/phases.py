"""Time-series tools of the descriptors: smoothing set in seconds, when a movement is under way, the early /
middle / late thirds of a clip and what a series does in each.

Each works on a series sampled at a clip's (possibly uneven) frame times; amplitudes are in the caller's units
(torso lengths for the descriptors).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

from mabench.motion.signals import SMOOTH_S, frame_step, reversals
from mabench.taxonomy import PHASES

# A part's movement is under way when it has covered a quarter of its largest displacement (at least
# ONSET): parts of one limb then start together, and jitter moves the crossing little.
ONSET, ONSET_FRACTION, DECISIVE = 0.08, 0.25, 1.5


def phase_edges(times: np.ndarray) -> np.ndarray:
    """The 4 boundaries of the early / middle / late thirds of the clip, in seconds."""
    return np.linspace(times[0], times[-1], len(PHASES) + 1)


@lru_cache(maxsize=64)
def _smoothing_matrix(n: int, sigma: float) -> np.ndarray:
    """(n, n) Gaussian smoothing operator, each row renormalised so edges are not pulled to zero."""
    idx = np.arange(n)
    k = np.exp(-0.5 * ((idx[:, None] - idx[None, :]) / sigma) ** 2)
    k[np.abs(idx[:, None] - idx[None, :]) > 3 * sigma] = 0.0
    return k / k.sum(axis=1, keepdims=True)


def smooth_series(x: np.ndarray, times: np.ndarray, sigma_s: float = SMOOTH_S) -> np.ndarray:
    """Gaussian smoothing along time (axis 0)."""
    sigma = sigma_s / frame_step(times)
    if sigma < 0.5:
        return x
    m = _smoothing_matrix(len(x), round(sigma, 3))
    return (m @ x.reshape(len(x), -1)).reshape(x.shape)


def onset_level(amplitude: float) -> float:
    return max(ONSET_FRACTION * amplitude, ONSET)


def onset_time(dist: np.ndarray, times: np.ndarray, margin: float = 0.0) -> float | None:
    """When a movement is under way: `dist` (distance from the start) reaches `onset_level` decisively.

    Decisively: after the crossing the curve goes on to DECISIVE x the level before falling back
    under 0.6x. A blip of jitter or a small early movement that just touches the level is skipped and
    the next crossing taken. With a `margin` (the ground truth uses one), an excursion that peaks
    within DECISIVE +- margin times the level is too close to call and the onset is None.
    """
    level = onset_level(float(dist.max()))
    start = 0
    while True:
        above = np.flatnonzero(dist[start:] >= level)
        if len(above) == 0:
            return None
        i = start + int(above[0])
        after = dist[i:]
        down = np.flatnonzero(after < 0.6 * level)
        peak = float(after[: down[0]].max() if len(down) else after.max()) / level
        if margin and abs(peak - DECISIVE) <= margin:
            return None
        if peak >= DECISIVE:
            return crossing_time(dist[max(i - 1, 0):], times[max(i - 1, 0):], level)
        if not len(down):
            return None
        start = i + int(down[0])


def crossing_time(dist: np.ndarray, times: np.ndarray, level: float) -> float:
    """First time `dist` reaches `level`, linearly interpolated between frames (the last time if never)."""
    above = np.flatnonzero(dist >= level)
    if len(above) == 0:
        return float(times[-1])
    i = int(above[0])
    if i == 0:
        return float(times[0])
    f = (level - dist[i - 1]) / max(dist[i] - dist[i - 1], 1e-9)
    return float(times[i - 1] + f * (times[i] - times[i - 1]))


def noise_level(tracks: np.ndarray) -> np.ndarray:
    """Per-axis white-noise level of raw tracks (T, P, 2) -> (P,), from second differences (blind to
    smooth motion)."""
    if len(tracks) < 3:
        return np.zeros(tracks.shape[1])
    d2 = tracks[2:] - 2 * tracks[1:-1] + tracks[:-2]
    return 1.4826 * np.median(np.abs(d2), axis=0).mean(axis=-1) / np.sqrt(6)


def smoothing_gain(times: np.ndarray, sigma_s: float) -> float:
    """How much Gaussian smoothing of `sigma_s` shrinks white noise (its standard deviation)."""
    sigma = sigma_s / frame_step(times)
    return 1.0 if sigma < 0.5 else min(1.0, 1.0 / np.sqrt(2 * np.sqrt(np.pi) * sigma))


def phase_change(values: np.ndarray, times: np.ndarray, t0: float, t1: float) -> tuple[Any, Any]:
    """(net change, returned distance) of a series (T,) or (T, C) between t0 and t1.

    The returned distance is how far the series went beyond where it ended up (extent - |net|): a
    go-and-return inside a phase has net ~0 but a large return, and is not "still".
    """
    inside = (times > t0) & (times < t1)
    v = np.concatenate([interp_row(values, times, t0)[None], values[inside], interp_row(values, times, t1)[None]])
    net = v[-1] - v[0]
    ret = v.max(axis=0) - v.min(axis=0) - np.abs(net)
    if np.ndim(net) == 0:
        return float(net), float(ret)
    return net, ret


def interp_row(values: np.ndarray, times: np.ndarray, t: float) -> np.ndarray:
    """values at time t, linearly interpolated, for every column at once."""
    i = min(max(int(np.searchsorted(times, t)), 1), len(times) - 1)
    f = min(max(float((t - times[i - 1]) / max(times[i] - times[i - 1], 1e-12)), 0.0), 1.0)
    return values[i - 1] * (1 - f) + values[i] * f


def direction_name(code: int, pos: str, neg: str) -> str:
    name = _CODES[int(code)]
    return pos if name == "pos" else neg if name == "neg" else name


_CODES = ("none", "pos", "neg", "back-and-forth", "unclear")


def _phase_codes(net: np.ndarray, ret: np.ndarray, move: float, still: float, noise: np.ndarray) -> np.ndarray:
    """A phase's label (moved one way or the other, back and forth, still, unclear) for every column at once, as
    indices into `_CODES` (`phase_labels`)."""
    n_net = np.sqrt(2) * noise
    move_t = np.maximum(move, 3 * n_net)
    still_t = np.minimum(np.maximum(still, 2.5 * n_net), 0.8 * move_t)
    baf = (ret >= np.maximum(move, 4 * noise)) & (np.abs(net) <= 0.5 * (np.abs(net) + ret))
    shaky = ret > np.maximum(still, 3.5 * noise)
    return np.select([baf, shaky, net >= move_t, net <= -move_t, np.abs(net) <= still_t], [3, 4, 1, 2, 0], 4)


def phase_labels(series: np.ndarray, times: np.ndarray, move: float, still: float,
                 noise: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Per phase: (net change, label code) of every column of `series` (T, C)."""
    edges = phase_edges(times)
    nets, codes = [], []
    for k in range(len(PHASES)):
        net, ret = phase_change(series, times, edges[k], edges[k + 1])
        nets.append(net)
        codes.append(_phase_codes(net, ret, move, still, noise))
    return nets, codes


def rhythm_of(disp: np.ndarray, times: np.ndarray, amp: float) -> str:
    """single / continuous / repetitive, from the reversals along the main axis of motion."""
    centred = disp - disp.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    h = max(0.12 * amp, 0.07)  # a swing smaller than this is noise, not a reversal
    turns = max(reversals(centred @ axis, h) for axis in vt)
    if turns >= 3:
        return "repetitive"
    speed = np.linalg.norm(np.diff(disp, axis=0), axis=1) / np.maximum(np.diff(times), 1e-6)
    moving_frac = float(np.mean(speed > 0.25 * max(speed.max(), 1e-9)))
    return "continuous" if moving_frac >= 0.7 else "single"
