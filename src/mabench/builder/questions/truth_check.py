"""The answer a built question should have, from the synthetic figure's exact truth.

`expected(question, truth)` reads a built question's facts (`meta`) against the clip's truth record
(`mabench.synth.truth`) and gives the answer the truth implies, or None where the truth cannot decide
(a movement inside its margins). Each fact kind's check lives beside the facts it checks, in the builder's task
modules (`TaskSpec.truth`, `mabench.builder.questions.registry.TRUTH_CHECKS`); here are the readings of the truth
they share. `bench/build_validate.py` tallies it over whole builds; tests check single questions with it.
It sits in the builder, beside the checks, and reads `mabench.synth` (which imports nothing of the builder).
"""

from __future__ import annotations

import re

import numpy as np

from mabench.builder.questions.common import OPPOSITE, under_way
from mabench.builder.questions.registry import TRUTH_CHECKS
from mabench.motion.descriptors import SIGNAL_AXES, SIGNAL_WORDS, pair_name
from mabench.motion.phases import phase_edges
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
    """The answer the ground truth implies for a closed question, or None when it cannot say: CMAR / FMAR from the
    label, the Yes/No tasks by their fact kind's check (`mabench.builder.questions.registry.TRUTH_CHECKS`, each
    beside the facts it checks)."""
    m = q.get("meta", {})
    if q["task"] in ("CMAR", "FMAR"):
        opts = dict(re.findall(r"^([A-G])\. (.+)$", q["question"], re.M))
        want = truth["coarse"] if q["task"] == "CMAR" else truth["label"]
        match = match_coarse if q["task"] == "CMAR" else match_fine
        return next((k for k, v in opts.items() if match(v) == want), None)
    check = TRUTH_CHECKS.get(m.get("kind", ""))
    if check is None:
        raise ValueError(f"{q['qid']}: unknown fact kind {m.get('kind')!r}")
    return check(m, q["answer"], truth)


AXIS = {"upward": "vertical", "downward": "vertical", "leftward": "horizontal", "rightward": "horizontal"}


def went(f: dict, part: str, signal: str | None, direction: str) -> str | None:
    """Whether the part went `direction` in the clip: from the exact signal (travel that way and a side reached
    clearly, or neither beyond its floor), else from its path's direction per phase (that way in some phase and
    the other way in none: Yes; the other way only: No)."""
    if signal is not None:
        sig = f.get("signals", {}).get(signal)
        if sig is None or sig["moving"] is None:
            return None
        spec = SIGNALS[signal]
        k = 0 if direction in ("rightward", "upward") else 1  # a rising value: rightward, upward, lengthening
        gone, side = sig["travel"][k], (sig["level"][1] if k == 0 else -sig["level"][0])
        if gone >= GT_SIG_MOVING * spec.floor and side >= GT_SIG_MOVE * spec.floor:
            return "Yes"
        return "No" if gone <= GT_SIG_STILL * spec.floor and side <= GT_SIG_STILL * spec.floor else None
    if f["moving"].get(part) is False:
        return "No"
    got = {f["directions"][part][ph][AXIS[direction]] for ph in PHASES}
    if None in got or "back-and-forth" in got:
        return None
    return "Yes" if direction in got else "No" if OPPOSITE[direction] in got else None


def repeats(f: dict, part: str, signal: str | None) -> str | None:
    """Whether the part's movement repeats: from the exact signal's rhythm, else from its path's."""
    if signal is not None:
        sig = f.get("signals", {}).get(signal) or {}
        r = sig.get("rhythm") if sig.get("moving") else "single" if sig.get("moving") is False else None
        return {"repeated": "Yes", "single": "No"}.get(r or "")
    if f["moving"].get(part) is False:
        return "No"
    return {"repetitive": "Yes", "single": "No"}.get(f["rhythm"].get(part, ""))
