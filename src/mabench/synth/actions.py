"""Motion programs: one per MA-52 action the synthetic figure can perform, with random variation.

A program adds *strokes* to the resting pose: a parameter moves by `delta` between `t0` and `t1`
with a smooth profile - `hold` (go and stay), `back` (go and return) or `osc` (repeat `cycles`
times). Each clip also gets 0-2 small secondary strokes of other parts at other times, so that
lead-follow order and "only one part moves" are not givens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from mabench.motion.skeleton import J
from mabench.synth.figure import REST, SIDES, Body, joints, reach

Shape = str  # "hold" | "back" | "osc"


@dataclass
class Stroke:
    param: str
    delta: float
    t0: float
    t1: float
    shape: Shape = "hold"
    cycles: float = 1.0

    def profile(self, t: np.ndarray) -> np.ndarray:
        x = np.clip((t - self.t0) / max(self.t1 - self.t0, 1e-6), 0.0, 1.0)
        if self.shape == "hold":
            return x * x * (3 - 2 * x)
        if self.shape == "back":
            return np.sin(np.pi * x) ** 2
        # osc: full cycles of a sine, eased in and out so the part starts and ends at rest
        env = np.sin(np.pi * x) ** 0.5
        return env * np.sin(2 * np.pi * self.cycles * x)


@dataclass
class Program:
    label: str
    side: str | None
    strokes: list[Stroke] = field(default_factory=list)
    rhythm: str = "single"          # of the main movement: single | continuous | repetitive
    initial: dict[str, float] = field(default_factory=dict)  # pose at t=0 where it differs from REST

    def params(self, t: np.ndarray) -> dict[str, np.ndarray]:
        out = {k: np.full(t.shape, self.initial.get(k, v)) for k, v in REST.items()}
        for st in self.strokes:
            out[st.param] = out[st.param] + st.delta * st.profile(t)
        return out


@dataclass
class Ctx:
    rng: np.random.Generator
    duration: float
    width: int
    height: int
    body: Body
    figure: str = "v2"

    def window(self, min_len: float = 0.5, max_frac: float = 0.6) -> tuple[float, float]:
        """A random movement window inside the clip, at least `min_len` seconds long."""
        length = float(self.rng.uniform(min_len, max(min_len, max_frac * self.duration)))
        length = min(length, self.duration * 0.85)
        t0 = float(self.rng.uniform(0.05 * self.duration, max(0.05 * self.duration, self.duration * 0.95 - length)))
        return t0, t0 + length

    def side(self) -> str:
        return str(self.rng.choice(list(SIDES)))

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def rest_joint(self, name: str) -> np.ndarray:
        return joints({}, self.width, self.height, self.body, self.figure)[0, J[name]]

    def unit(self) -> float:
        return self.height / 6.0 * self.body.scale


def _reach_strokes(c: Ctx, side: str, target: np.ndarray, t0: float, t1: float, shape: str = "hold") -> list[Stroke]:
    ua, la = reach(side, target, c.width, c.height, c.body, c.figure)
    return [Stroke(f"{side}_ua", _turn(ua - REST[f"{side}_ua"]), t0, t1, shape),
            Stroke(f"{side}_la", _turn(la - REST[f"{side}_la"]), t0, t1, shape)]


def _turn(delta: float) -> float:
    """The short way round: a joint turns by at most half a circle."""
    return float((delta + np.pi) % (2 * np.pi) - np.pi)


def _touch(where: Callable[[Ctx, str], np.ndarray], rub: str | None = None) -> Callable[[Ctx], Program]:
    """Bring one hand to a point on the body; `rub` adds a small repeated movement there."""
    def make(c: Ctx) -> Program:
        side = c.side()
        t0, t1 = c.window(1.0, 0.8)
        arrive = t0 + (t1 - t0) * c.u(0.35, 0.5)
        strokes = _reach_strokes(c, side, where(c, side), t0, arrive)
        rhythm = "single"
        if rub:
            cycles = float(c.rng.integers(2, 4))
            sign = 1 if rub == "la" else -1
            strokes.append(Stroke(f"{side}_la", c.u(0.25, 0.35) * sign, arrive, t1, "osc", cycles))
            rhythm = "repetitive"
        return Program("", side, strokes, rhythm)
    return make


def _head_offset(dx: float, dy: float) -> Callable[[Ctx, str], np.ndarray]:
    def where(c: Ctx, side: str) -> np.ndarray:
        s = SIDES[side]
        return c.rest_joint("head") + c.unit() * np.array([s * dx, dy + 0.3])  # wrist sits below the hand
    return where


def _joint_offset(joint: str, dx: float, dy: float, own_side: bool = True) -> Callable[[Ctx, str], np.ndarray]:
    def where(c: Ctx, side: str) -> np.ndarray:
        s = SIDES[side]
        name = joint.format(side=side if own_side else ("right" if side == "left" else "left"))
        return c.rest_joint(name) + c.unit() * np.array([s * dx, dy])
    return where


def _osc(param: str, lo: float, hi: float, hz: tuple[float, float] = (1.5, 2.5), rhythm: str = "repetitive",
         sided: bool = False) -> Callable[[Ctx], Program]:
    def make(c: Ctx) -> Program:
        side = c.side() if sided else None
        t0, t1 = c.window(1.2, 0.7)
        amp = c.u(lo, hi) * float(c.rng.choice([-1, 1]))
        name = param.format(side=side)
        cycles = max(2.0, round(c.u(*hz) * (t1 - t0)))
        return Program("", side, [Stroke(name, amp, t0, t1, "osc", cycles)], rhythm)
    return make


def _hold(param: str, lo: float, hi: float, signed: bool = False, sided: bool = False,
          shape: str = "hold") -> Callable[[Ctx], Program]:
    def make(c: Ctx) -> Program:
        side = c.side() if sided else None
        t0, t1 = c.window(0.5, 0.5)
        amp = c.u(lo, hi) * (float(c.rng.choice([-1, 1])) if signed else 1.0)
        return Program("", side, [Stroke(param.format(side=side), amp, t0, t1, shape)])
    return make


def _both(*parts: tuple[str, float, float], shape: str = "hold", initial: dict[str, float] | None = None,
          one_side: bool = False) -> Callable[[Ctx], Program]:
    """The same stroke on both sides (or one random side): (param template, lo, hi)."""
    def make(c: Ctx) -> Program:
        t0, t1 = c.window(0.6, 0.5)
        sides = [c.side()] if one_side else list(SIDES)
        strokes = []
        init = {}
        for side in sides:
            lag = c.u(0.0, 0.08)
            for tmpl, lo, hi in parts:
                strokes.append(Stroke(tmpl.format(side=side), c.u(lo, hi), t0 + lag, t1 + lag, shape))
            for k, v in (initial or {}).items():
                init[k.format(side=side)] = v
        return Program("", sides[0] if one_side else None, strokes, "single", init)
    return make


def _waving(c: Ctx) -> Program:
    side = c.side()
    t0, t1 = c.window(1.5, 0.8)
    up = t0 + 0.35 * (t1 - t0)
    return Program("", side, [
        Stroke(f"{side}_ua", 1.6 - REST[f"{side}_ua"], t0, up),
        Stroke(f"{side}_la", 2.9 - REST[f"{side}_la"], t0, up),
        Stroke(f"{side}_la", c.u(0.3, 0.45), up, t1, "osc", float(c.rng.integers(2, 4))),
    ], "repetitive")


def _crossing_legs(c: Ctx) -> Program:
    side = c.side()
    t0, t1 = c.window(0.6, 0.5)
    return Program("", side, [Stroke(f"{side}_ul", -c.u(0.7, 0.9), t0, t1),
                              Stroke(f"{side}_knee_lift", c.u(0.3, 0.45), t0, t1),
                              Stroke(f"{side}_ll", -c.u(0.3, 0.5), t0, t1)])


def _crossing_arms(c: Ctx) -> Program:
    t0, t1 = c.window(0.8, 0.5)
    strokes = []
    for side in SIDES:
        other = "right" if side == "left" else "left"
        target = c.rest_joint(f"{other}_elbow") + c.unit() * np.array([0.0, -0.35])
        lag = 0.0 if side == "left" else c.u(0.0, 0.1)
        strokes += _reach_strokes(c, side, target, t0 + lag, t1 + lag)
    return Program("", None, strokes)


def _arms_akimbo(c: Ctx) -> Program:
    t0, t1 = c.window(0.8, 0.5)
    strokes = []
    for side, s in SIDES.items():
        target = c.rest_joint(f"{side}_hip") + c.unit() * np.array([s * 0.15, -0.25])
        strokes += _reach_strokes(c, side, target, t0, t1)
    return Program("", None, strokes)


def _patting(c: Ctx) -> Program:
    side = c.side()
    t0, t1 = c.window(1.0, 0.7)
    target = c.rest_joint(f"{side}_knee") + c.unit() * np.array([-SIDES[side] * 0.2, -0.35])
    strokes = _reach_strokes(c, side, target, t0, t0 + 0.3 * (t1 - t0))
    strokes.append(Stroke(f"{side}_ua", -c.u(0.3, 0.4), t0 + 0.3 * (t1 - t0), t1, "osc", float(c.rng.integers(2, 4))))
    return Program("", side, strokes, "repetitive")


def _sit_straight(c: Ctx) -> Program:
    t0, t1 = c.window(0.6, 0.5)
    lean0 = c.u(0.14, 0.2) * float(c.rng.choice([-1, 1]))
    return Program("", None, [Stroke("lean", -lean0, t0, t1), Stroke("root_y", -c.u(0.1, 0.15), t0, t1)],
                   initial={"lean": lean0})


def _tiptoe(c: Ctx) -> Program:
    t0, t1 = c.window(0.5, 0.5)
    amp = c.u(0.15, 0.25)
    return Program("", None, [Stroke(f"{s}_knee_lift", amp, t0, t1, "back") for s in SIDES])


PROGRAMS: dict[str, Callable[[Ctx], Program]] = {
    # Head
    "nodding": _osc("head_y", 0.25, 0.35),
    "shaking head": _osc("head_x", 0.25, 0.35),
    "tilting head": _hold("head_tilt", 0.6, 0.8, signed=True),
    "turning head": _hold("head_x", 0.3, 0.4, signed=True, shape="back"),
    "bowing head": _hold("head_y", 0.35, 0.5),
    "head up": _hold("head_y", -0.35, -0.28),
    # Body
    "shaking body": _osc("lean", 0.2, 0.26),
    "rising up": _hold("root_y", -0.5, -0.3),
    "shrugging": _both(("{side}_shrug", 0.22, 0.32), ("{side}_ua", 0.1, 0.2), shape="back"),
    "sitting straightly": _sit_straight,
    # Upper limb
    "waving": _waving,
    "stretching arms": _both(("{side}_ua", 1.0, 1.3), ("{side}_la", 2.0, 2.3)),
    "retracting arms": _both(("{side}_ua", -1.3, -1.0), ("{side}_la", -2.3, -2.0),
                             initial={"{side}_ua": 1.3, "{side}_la": 1.3}),
    "clenching fist": _both(("{side}_fist", 1.0, 1.0), ("{side}_la", 0.5, 0.7), one_side=True),
    "spreading hands": _both(("{side}_la", 1.0, 1.3)),
    "putting hands together": _both(("{side}_la", -0.7, -0.5), ("{side}_ua", 0.3, 0.45)),
    # Lower limb
    "shaking legs": _osc("{side}_knee_lift", 0.4, 0.5, hz=(2.5, 3.5), sided=True),
    "crossing legs": _crossing_legs,
    "spread legs": _both(("{side}_ul", 0.4, 0.55), ("{side}_ll", 0.25, 0.4)),
    "closing legs": _both(("{side}_ul", -0.5, -0.4), ("{side}_ll", -0.35, -0.25),
                          initial={"{side}_ul": 0.8, "{side}_ll": 0.3}),
    "tiptoe": _tiptoe,
    "stretching feet": _both(("{side}_ll", 0.5, 0.7), ("{side}_foot", 0.3, 0.4), one_side=True),
    # Body-hand
    "scratching or touching neck": _touch(_joint_offset("neck", 0.1, 0.25), rub="la"),
    "scratching or touching chest": _touch(_joint_offset("neck", -0.35, 0.75)),
    "arms akimbo": _arms_akimbo,
    "crossing arms": _crossing_arms,
    # Head-hand
    "touching nose": _touch(_head_offset(0.0, 0.05)),
    "covering mouth": _touch(_head_offset(0.0, 0.2)),
    "rubbing eyes": _touch(_head_offset(0.12, -0.1), rub="la"),
    "scratching or touching face": _touch(_head_offset(0.25, 0.05), rub="ua"),
    # Leg-hand
    "patting legs": _patting,
    "touching legs": _touch(_joint_offset("{side}_knee", -0.25, -0.3)),
    "scratching legs": _touch(_joint_offset("{side}_knee", -0.15, -0.25), rub="la"),
}

# Small movements of other parts, added at random onsets (amplitudes kept below the main action).
SECONDARY: tuple[tuple[str, float, float], ...] = (
    ("head_x", 0.25, 0.35), ("head_y", 0.25, 0.35), ("lean", 0.1, 0.14),
    ("{side}_ua", 0.3, 0.4), ("{side}_ul", 0.3, 0.4),
)


# ---- figure v2: head rotations and trunk postures at real micro-action amplitudes ----
# A head pitch or yaw of 0.1 rad moves the v2 nose by 0.02 torso lengths (its head joint, the mean of the
# face points, by 0.01) and shifts it against the ears by 0.08 ear widths. Real nods move the face 1-3%
# of the torso length at ~3 Hz (measured on MA-52 clips), a head shake ~5%.

def _nod(c: Ctx) -> Program:
    t0, t1 = c.window(1.0, 0.7)
    cycles = max(2.0, round(c.u(2.0, 3.5) * (t1 - t0)))
    # down first, as people nod; 0.05-0.15 rad = a face displacement of 1-3% of the torso length
    return Program("", None, [Stroke("head_pitch", -c.u(0.05, 0.15), t0, t1, "osc", cycles)], "repetitive")


def _sit_straight_v2(c: Ctx) -> Program:
    t0, t1 = c.window(0.6, 0.5)
    slump = c.u(0.45, 0.6)   # slumped forward: the trunk's projection is 10-18% shorter, the face tips down
    lean0 = c.u(0.0, 0.06) * float(c.rng.choice([-1, 1]))
    return Program("", None, [Stroke("slump", -slump, t0, t1), Stroke("lean", -lean0, t0, t1)],
                   initial={"slump": slump, "lean": lean0})


def _turn_around(c: Ctx) -> Program:
    t0, t1 = c.window(1.0, 0.7)
    sign = float(c.rng.choice([-1, 1]))
    # the trunk turns (the shoulder line narrows) and the head turns further the same way, then back
    return Program("", None, [Stroke("twist", sign * c.u(0.5, 0.8), t0, t1, "back"),
                              Stroke("head_yaw", sign * c.u(0.2, 0.4), t0, t1, "back")])


PROGRAMS_V2: dict[str, Callable[[Ctx], Program]] = {
    **PROGRAMS,
    "nodding": _nod,
    "shaking head": _osc("head_yaw", 0.19, 0.29, hz=(1.5, 3.0)),  # the face moves 4-6% of the torso length
    "tilting head": _hold("head_roll", 0.2, 0.35, signed=True),
    "turning head": _hold("head_yaw", 0.5, 0.8, signed=True, shape="back"),
    "bowing head": _hold("head_pitch", -0.5, -0.35),
    "head up": _hold("head_pitch", 0.3, 0.45),
    "shaking body": _osc("lean", 0.08, 0.15),
    "rising up": _hold("root_y", -0.5, -0.3),
    "shrugging": _both(("{side}_shrug", 0.1, 0.18), ("{side}_ua", 0.03, 0.08), shape="back"),
    "sitting straightly": _sit_straight_v2,
    "turning around": _turn_around,
}
SECONDARY_V2: tuple[tuple[str, float, float], ...] = (
    ("head_yaw", 0.25, 0.4), ("head_pitch", 0.2, 0.3), ("lean", 0.06, 0.1),
    ("{side}_ua", 0.3, 0.4), ("{side}_ul", 0.3, 0.4),
)


def make_program(label: str, c: Ctx, n_secondary: int | None = None) -> Program:
    programs, secondary = (PROGRAMS_V2, SECONDARY_V2) if c.figure == "v2" else (PROGRAMS, SECONDARY)
    prog = programs[label](c)
    prog.label = label
    n = int(c.rng.integers(0, 3)) if n_secondary is None else n_secondary
    used = {st.param for st in prog.strokes}
    for _ in range(n):
        tmpl, lo, hi = secondary[int(c.rng.integers(len(secondary)))]
        param = tmpl.format(side=c.side())
        if param in used:
            continue
        used.add(param)
        t0, t1 = c.window(0.4, 0.3)
        prog.strokes.append(Stroke(param, c.u(lo, hi) * float(c.rng.choice([-1, 1])), t0, t1, "back"))
    return prog
