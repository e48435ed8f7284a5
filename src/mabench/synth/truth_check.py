"""The answer a built question should have, from the synthetic figure's exact truth.

`expected(question, truth)` reads a built question's facts (`meta`) against the clip's truth record
(`mabench.synth.truth`) and gives the answer the truth implies, or None where the truth cannot decide
(a movement inside its margins). `bench/build_validate.py` tallies it over whole builds; tests check
single questions with it. Here, in the package, so both import it as they import the rest of mabench.
"""

from __future__ import annotations

import re

import numpy as np

from mabench.builder.questions.common import OPPOSITE, under_way
from mabench.builder.questions.events import EVENT_SIGNAL
from mabench.motion.descriptors import SIGNAL_AXES, SIGNAL_WORDS, pair_name, phase_edges
from mabench.motion.signals import SIGNALS
from mabench.synth.truth import GT_SIG_MOVE, GT_SIG_MOVING, GT_SIG_STILL, order_relation
from mabench.taxonomy import BODY_PARTS, PHASES, match_coarse, match_fine


def order_rel(facts: dict, a: str, b: str) -> str | None:
    """GT relation of a to b ("before", "after", "simultaneous") or None."""
    if a in BODY_PARTS and b in BODY_PARTS and BODY_PARTS.index(a) > BODY_PARTS.index(b):
        r = facts["order"].get(f"{b}|{a}")
        return {"before": "after", "after": "before"}.get(r, r)
    return facts["order"].get(f"{a}|{b}")


def with_signals(facts: dict) -> dict:
    """The truth read the way the descriptors read a head or torso (`_from_signals`): a part whose position
    stays under the floor but whose orientation or posture moves (a turn of the head, a lean of the trunk)
    is moving, with its directions per phase from the exact signals (`signal_truth`)."""
    sig = facts.get("signals", {})
    for part, axes in SIGNAL_AXES.items():
        if facts["moving"][part] is True:
            continue
        states = [sig[n]["moving"] for n in axes if n in sig]
        if True not in states:
            if None in states:  # a signal inside its margins: neither moving nor its directions are known
                facts["moving"][part] = None
                for ax in {axes[n] for n in axes if n in sig and sig[n]["moving"] is None} - {None}:
                    for ph in PHASES:
                        facts["directions"][part][ph][ax] = None
            continue
        facts["moving"][part] = True
        moved = [n for n in axes if n in sig and sig[n]["moving"]]
        # under way when its first signal is (as `_from_signals`); unknown if any of them has no sharp onset
        starts = [sig[n].get("onset") for n in moved]
        facts["onset"][part] = None if None in starts else min(starts)
        for other in BODY_PARTS:
            if other != part and facts["moving"][other] is True:
                a, b = sorted((part, other), key=BODY_PARTS.index)
                facts["order"][pair_name(a, b)] = order_relation(facts["onset"][a], facts["onset"][b])
        undecided = {axes[n] for n in axes if n in sig and sig[n]["moving"] is None}
        for ph in PHASES:
            for ax in ("horizontal", "vertical"):
                words = [sig[n]["directions"][ph] for n in moved if axes[n] == ax]
                if not words:
                    if ax in undecided:  # a signal on this axis inside its margins: the truth cannot say
                        facts["directions"][part][ph][ax] = None
                    continue
                if None in words:  # undecided on the exact signal
                    facts["directions"][part][ph][ax] = None
                    continue
                got = {SIGNAL_WORDS.get(w, "unclear") for w in words} - {"none"}
                facts["directions"][part][ph][ax] = got.pop() if len(got) == 1 else "none" if not got else None
    return facts


def named_direction_holds(truth: dict, part: str, code: str, at_onset: bool) -> bool | None:
    """Whether the part moved each way `code` names ("upward+leftward"): `at_onset`, in a phase under way by its
    truth onset (`under_way`, as the builder names the part that starts first); else in any phase. None where
    the truth cannot say (a phase inside its margins, a swing, no onset)."""
    f = truth["facts"]
    dirs = f["directions"][part]
    phases = list(PHASES)
    if at_onset:
        onset = f["onset"].get(part)
        if onset is None:
            return None
        n = len(f["part_tracks"][part])
        edges = phase_edges(np.arange(n) / truth["spec"]["fps"])
        phases = [ph for k, ph in enumerate(PHASES) if under_way(edges, k, onset)]
    verdict: bool | None = True
    for d in code.split("+"):
        ax = "vertical" if d in ("upward", "downward") else "horizontal"
        said = [dirs[ph][ax] for ph in phases]
        if d in said:
            continue
        # it went the other way, or not at all along that axis, where the question puts its movement
        if None in said or "back-and-forth" in said:
            verdict = None
        else:
            return False
    return verdict


def order_answer(m: dict, answer: str, truth: dict) -> str | None:
    """The truth's answer to an order question, "wrong direction" where it names a direction the part did not take
    where the question puts it, or None. The onset order decides first: a question whose onset order the truth
    contradicts is wrong whatever it names. Otherwise each part that starts first (both, together) must have set off
    the way it is named, else its answer is unknown (None) or the question wrong; the later part's direction matters
    only to a Yes ("did A begin moving up before B began moving left?" presumes B moved left; a No stands, as B
    began after A whatever its direction)."""
    f = truth["facts"]
    rel = order_rel(f, *m["parts"])
    if rel is None:
        return None
    by_onsets = "Yes" if rel == "before" else "No"
    if by_onsets != answer:
        return by_onsets
    first = {"before": m["parts"][0], "after": m["parts"][1]}.get(rel)
    verdict: str | None = by_onsets
    for part, code in m.get("named_directions", {}).items():
        starts_first = first in (None, part)
        if not starts_first and by_onsets == "No":
            continue
        ok = named_direction_holds(truth, part, code, at_onset=starts_first)
        if ok is False:
            return "wrong direction"
        if ok is None:
            verdict = None
    return verdict


def expected(q: dict, truth: dict) -> str | None:
    """The answer the ground truth implies for a closed question, or None when it cannot say."""
    m, f = q.get("meta", {}), truth["facts"]
    if q["task"] in ("CMAR", "FMAR"):
        opts = dict(re.findall(r"^([A-G])\. (.+)$", q["question"], re.M))
        want = truth["coarse"] if q["task"] == "CMAR" else truth["label"]
        match = match_coarse if q["task"] == "CMAR" else match_fine
        return next((k for k, v in opts.items() if match(v) == want), None)
    kind, parts, ph = m.get("kind"), m.get("parts", []), m.get("phase")
    yn = {True: "Yes", False: "No"}
    if kind == "direction":
        g = f["directions"][parts[0]][ph][m["axis"]]
        return None if g is None else yn[g == m["direction"]]
    if kind == "direction2":  # both axes in one phase: "upward and leftward"
        gv, gh = (f["directions"][parts[0]][ph][ax] for ax in ("vertical", "horizontal"))
        return None if gv is None or gh is None else yn[[gv, gh] == m["directions"]]
    if kind == "main direction":  # stated in some phase, its opposite in none (a phase inside the margins
        # is neither; a swing makes the main direction moot)
        got = {f["directions"][parts[0]][p][m["axis"]] for p in PHASES}
        d, o = m["direction"], OPPOSITE[m["direction"]]
        if "back-and-forth" in got:
            return None
        return "Yes" if d in got and o not in got else "No" if o in got and d not in got else None
    if kind == "midline":  # toward / away from the midline: the horizontal direction that means, from where the
        # phase starts (measured; the truth checks the direction)
        g = f["directions"][parts[0]][ph]["horizontal"]
        return None if g is None else yn[g == m["direction"]]
    if kind == "stillness":
        moving = f["moving"][parts[0]]
        return None if moving is None else yn[moving]
    if kind in ("same direction", "opposite directions", "while"):
        ga, gb = (f["directions"][p][ph][m["axis"]] for p in parts)
        if ga is None or gb is None:
            return None
        if kind == "same direction":
            return yn[ga == m["direction"] and gb == m["direction"]]
        if kind == "opposite directions":
            return yn[ga in OPPOSITE and OPPOSITE[ga] == gb]
        da, db = m.get("directions") or (m["direction"], m["direction"])
        return yn[ga == da and gb == db]
    if kind == "amplitude":
        aa, ab = (f["amplitude"][p] for p in parts)
        return None if max(aa, ab) < 1.2 * min(aa, ab) else yn[aa > ab]
    if kind == "order":
        fam = m.get("family")
        if fam == "MAS_STILL":
            moving = f["moving"][parts[0]]
            return None if moving is None else ("No" if moving is False else None)
        return order_answer(m, q["answer"], truth)
    if kind == "sequence" and len(parts) == 2:  # the {a}'s d1 movement, then the {b}'s d2 (`phase_order_facts`)
        d1, d2 = m["directions"]
        ka = [k for k, p in enumerate(PHASES) for ax in ("horizontal", "vertical")
              if f["directions"][parts[0]][p][ax] == d1]
        kb = [k for k, p in enumerate(PHASES) for ax in ("horizontal", "vertical")
              if f["directions"][parts[1]][p][ax] == d2]
        if ka and kb and max(ka) < min(kb):
            return "Yes"
        if ka and kb and max(kb) < min(ka):
            return "No"
        return None
    if kind == "sequence":
        d1, d2 = m["directions"]
        dirs = f["directions"][parts[0]]
        at = {d: [k for k, p in enumerate(PHASES) for ax in ("horizontal", "vertical") if dirs[p][ax] == d]
              for d in (d1, d2)}
        if at[d1] and at[d2] and min(at[d1]) < max(at[d2]):
            return "Yes"
        if at[d1] and at[d2]:
            return "No"
        return None
    if kind == "rotation":  # a head turn / tilt, a trunk lean, from the exact orientation signal
        sig = f.get("signals", {}).get(m["signal"])
        if sig is None or sig["moving"] is None:
            return None
        spec = SIGNALS[m["signal"]]
        word = spec.pos if m["direction"] == spec.pos.split()[-1] else spec.neg
        if ph is None:  # went that way and stood on that side at some point, clearly, or neither beyond its floor
            went = sig["travel"][0 if word == spec.pos else 1]
            side = sig["level"][1] if word == spec.pos else -sig["level"][0]
            f = spec.floor
            if went >= GT_SIG_MOVING * f and side >= GT_SIG_MOVE * f:
                return "Yes"
            return "No" if went <= GT_SIG_STILL * f and side <= GT_SIG_STILL * f else None
        if sig["moving"] is False:
            return "No"
        g = sig["directions"][ph]
        return None if g is None or g == "back-and-forth" else yn[g == word]
    if kind in EVENT_KINDS:
        return event_expected(m, f)
    if kind == "pair trend":
        g = f["pairs"].get(f"{parts[0]}|{parts[1]}", {}).get(ph)  # the truth covers PAIRS, not TRUNK_PAIRS
        return None if g is None else yn[g == m["direction"]]
    raise ValueError(f"{q['qid']}: unknown fact kind {kind!r}")


EVENT_KINDS = ("event direction", "rhythm", "during", "event order", "stroke order", "hold")
HELD = 0.7           # share of its furthest distance a held part stays at (a returned one: 1 - HELD)
FIRST_STROKE = 0.3   # share of its largest excursion along the axis that makes a part's first stroke
_AXIS = {"upward": "vertical", "downward": "vertical", "leftward": "horizontal", "rightward": "horizontal"}


def _went(f: dict, part: str, signal: str | None, direction: str) -> str | None:
    """Whether the part went `direction` in the clip: from the exact signal (travel that way and a side reached
    clearly, or neither beyond its floor), else from its path's direction per phase (that way in some phase and
    the other way in none: Yes; the other way only: No)."""
    if signal is not None:
        sig = f.get("signals", {}).get(signal)
        if sig is None or sig["moving"] is None:
            return None
        spec = SIGNALS[signal]
        k = 0 if direction in ("rightward", "upward") else 1  # a rising value: rightward, upward, lengthening
        went, side = sig["travel"][k], (sig["level"][1] if k == 0 else -sig["level"][0])
        if went >= GT_SIG_MOVING * spec.floor and side >= GT_SIG_MOVE * spec.floor:
            return "Yes"
        return "No" if went <= GT_SIG_STILL * spec.floor and side <= GT_SIG_STILL * spec.floor else None
    if f["moving"].get(part) is False:
        return "No"
    got = {f["directions"][part][ph][_AXIS[direction]] for ph in PHASES}
    if None in got or "back-and-forth" in got:
        return None
    return "Yes" if direction in got else "No" if OPPOSITE[direction] in got else None


def _repeats(f: dict, part: str, signal: str | None) -> str | None:
    if signal is not None:
        sig = f.get("signals", {}).get(signal) or {}
        r = sig.get("rhythm") if sig.get("moving") else "single" if sig.get("moving") is False else None
        return {"repeated": "Yes", "single": "No"}.get(r or "")
    if f["moving"].get(part) is False:
        return "No"
    return {"repetitive": "Yes", "single": "No"}.get(f["rhythm"].get(part, ""))


def event_expected(m: dict, f: dict) -> str | None:
    """The truth of a question made from a movement event (`mabench.builder.questions.events`)."""
    kind, parts = m["kind"], m["parts"]
    if kind == "event direction":
        return _went(f, parts[0], m.get("signal"), m["direction"])
    if kind == "rhythm":
        return _repeats(f, parts[0], m.get("signal"))
    if kind == "during":  # the partner's movement (over the clip: the truth has no spans), or that it moves at all
        partner = m.get("partner")
        if partner is None:
            moving = f["moving"].get(parts[1])
            return None if moving is None else {True: "Yes", False: "No"}[moving]
        signal = EVENT_SIGNAL.get(partner["kind"])
        if partner["rhythm"] == "repeated":
            return _repeats(f, parts[1], signal)
        return _went(f, parts[1], signal, m["direction"])
    if kind == "stroke order":  # the first of the part's strokes along the axis went the first-named way
        d1, d2 = m["directions"]
        if m.get("signal") and m["event"]["kind"] != "translation":
            return None
        track = np.asarray(f["part_tracks"][parts[0]], dtype=float)  # torso lengths, y up
        axis = 0 if _AXIS[d1] == "horizontal" else 1
        disp = track[:, axis] - track[0, axis]
        peak = float(np.max(np.abs(disp)))
        if peak < 0.05:
            return None
        first = disp[np.flatnonzero(np.abs(disp) >= FIRST_STROKE * peak)[0]]
        went = ("rightward" if first > 0 else "leftward") if axis == 0 else ("upward" if first > 0 else "downward")
        return "Yes" if went == d1 else "No" if went == d2 else None
    if kind == "hold":  # a limb's path ends near its furthest point (held) or near its start (brought back)
        if m["event"]["kind"] != "translation":
            return None
        if m.get("contrast") == "the other side":  # "did it move downward and then hold": it never went down
            return "No" if _went(f, parts[0], None, m["direction"]) == "No" else None
        track = np.asarray(f["part_tracks"][parts[0]], dtype=float)
        dist = np.linalg.norm(track - track[0], axis=1)
        peak = float(dist.max())
        if peak < 0.05:
            return None
        return "Yes" if dist[-1] >= HELD * peak else "No" if dist[-1] <= (1 - HELD) * peak else None
    if kind == "event order":  # the first-named part started first (one that never moves started nothing)
        if m.get("contrast") == "a stays still":
            return "No" if f["moving"].get(parts[0]) is False else None
        rel = order_rel(f, parts[0], parts[1])
        return None if rel is None else "Yes" if rel == "before" else "No"
    return None
