"""A signal's course over a clip, and its shape as a movement: span in seconds, strokes, rhythm, sides.

`mabench.motion.events` reads every movement off such courses (a face-point signal, the head's own flow, a
trunk signal), each decided against its own floor (`mabench.motion.signals.summarise`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mabench.motion.signals import PHASE_MOVE, SMOOTH_S, _fill, smooth, summarise, turning_points
from mabench.taxonomy import PHASES

ACTIVE_SHARE = 0.25      # share of a course's fastest rate of change that counts as under way
REPEATED_CHANGES = 2     # direction changes (there, back, there again) that make a movement repeated


def span_words(start: float, end: float, duration: float) -> tuple[str, tuple[str, ...]]:
    """The span in words and the thirds it covers: one third by name, more by its seconds."""
    third = duration / len(PHASES)
    covered = tuple(ph for k, ph in enumerate(PHASES)
                    if min(end, (k + 1) * third) - max(start, k * third) >= 0.25 * min(third, max(end - start, 1e-9)))
    if len(covered) == 1:
        return f"in the {covered[0]} part of the clip (about {start:.1f}-{end:.1f} s)", covered
    return f"from about {start:.1f} to {end:.1f} s", covered


@dataclass(frozen=True)
class Course:
    """A signal over the clip, smoothed, with its decision against its floor."""
    name: str
    source: str
    unit: str
    values: np.ndarray
    summary: dict

    @property
    def margin(self) -> float:
        """How far it went, in floors of its own signal."""
        return float(self.summary["amplitude"]) / max(float(self.summary["floor"]), 1e-12)


def course(name: str, source: str, unit: str, v: np.ndarray, times: np.ndarray, floor_min: float,
            smooth_s: float = SMOOTH_S) -> Course:
    s = summarise(v, times, floor_min, smooth_s=smooth_s)
    return Course(name, source, unit, smooth(_fill(np.asarray(v, dtype=np.float64)), times, smooth_s), s)


def shape(c: Course, times: np.ndarray, pos: str, neg: str) -> dict:
    """Span, strokes and directions of a moving course.

    The span is where the course changes at a quarter of its fastest rate or more (and faster than its
    floor per second), widened to hold every stroke: a stroke runs from one extreme to the next, the first
    from where the course leaves the extreme before its first turn, the last to where it nears the extreme
    after its last turn. A slow drift after the last stroke is not in it.
    """
    s, floor, amp = c.values, c.summary["floor"], c.summary["amplitude"]
    n0 = max(1, int(np.searchsorted(times, times[0] + 0.1)))
    dev = s - s[:n0].mean()
    speed = np.abs(np.gradient(s, times))
    active = np.flatnonzero(speed >= max(ACTIVE_SHARE * float(speed.max()), floor / 1.0))
    start_i = int(active[0]) if len(active) else 0
    end_i = int(active[-1]) if len(active) else len(s) - 1
    turns = turning_points(s, PHASE_MOVE * floor)
    leaving = np.flatnonzero(np.abs(dev) >= max(0.25 * amp, floor))
    first_i = int(leaving[0]) if len(leaving) else int(np.argmax(np.abs(dev)))
    first = pos if dev[first_i] > 0 else neg
    if turns:
        a, b = turns[0], turns[-1]
        if a > 0:
            pre = _stroke_end(s[:a + 1][::-1], s[a])
            start_i = min(start_i, a - pre)
            if a - pre < first_i:  # the first stroke comes before the course leaves its start by a quarter
                first = neg if s[a] < s[a - pre] else pos
        if b < len(s) - 1:
            end_i = max(end_i, b + _stroke_end(s[b:], s[b]))
    peak = dev[int(np.argmax(np.abs(dev)))]
    start, end = float(times[start_i]), float(times[end_i])
    return {"start_s": round(start, 3), "end_s": round(max(end, start), 3), "strokes": len(turns) + 1,
            "rhythm": "repeated" if len(turns) >= REPEATED_CHANGES else "single",
            "direction": pos if peak > 0 else neg, "first": first, "returns": bool(abs(dev[-1]) < 0.5 * amp)}


STROKE_NEAR = 0.1  # a stroke ends where the course comes within this share of its way to the extreme it reaches


def _stroke_end(v: np.ndarray, turn: float) -> int:
    """Steps from a turning point (`v[0]` = `turn`) to where the stroke away from it nears its extreme."""
    far = int(np.argmax(np.abs(v - turn)))
    near = np.flatnonzero(np.abs(v[:far + 1] - v[far]) <= STROKE_NEAR * abs(v[far] - turn))
    return int(near[0]) if len(near) else far


def corr(a: np.ndarray, b: np.ndarray) -> float:
    a, b = a - a.mean(), b - b.mean()
    return float(a @ b / max(np.linalg.norm(a) * np.linalg.norm(b), 1e-12))


def resample(v: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    return v if len(src) == len(dst) and np.allclose(src, dst) else np.interp(dst, src, v)
