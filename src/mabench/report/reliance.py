"""Does the model look at the motion? A run against the same model's runs under video controls
(`mabench eval --control`), per task and tier.

For each control: accuracy on the original frames and under the control, their difference (control minus
original) with a clip-clustered paired bootstrap CI and two-sided p (the same clip resamples for both runs),
the share of answers that change, and under `reverse` the accuracy against the reversed truth (the answer
each question would have were the clip run backwards, `meta["reversed_answer"]` of a built benchmark) on the
questions that have one. A verdict per task says in words what the numbers show.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mabench.data.io import Benchmark
from mabench.evaluation.metrics import is_correct
from mabench.report.split import SUBSETS
from mabench.report.stats import bootstrap_p, percentile_ci
from mabench.taxonomy import CLOSED_TASKS, TASKS, TIERS

# what each control takes away, for the verdicts
TAKES = {"reverse": "frame order", "shuffle": "frame order", "single": "the motion (one frame)",
         "blank": "the frames"}
# a control whose run and the original both answered fewer of a group's questions than this share gets no verdict
# there: the rest were not asked (--tasks, --limit) or failed, and a comparison would rest on what happened to be
# answered
MIN_COVERAGE = 0.9


def reversed_truth(q) -> str | None:
    meta = q.extra.get("meta") if isinstance(q.extra.get("meta"), dict) else {}
    rev = meta.get("reversed_answer")
    return rev if isinstance(rev, str) else None


def _groups() -> dict[str, tuple[str, ...]]:
    """Closed tasks one by one, then each tier's closed tasks, then all closed tasks (the groups pool their
    questions: a tier's accuracy is over its questions, not the mean of its tasks' as the leaderboard's AVG)."""
    groups: dict[str, tuple[str, ...]] = {t: (t,) for t in CLOSED_TASKS}
    for tier in TIERS:
        tasks = tuple(t for t in CLOSED_TASKS if TASKS[t].tier == tier)
        if len(tasks) > 1:
            groups[f"{tier} (pooled)"] = tasks
    groups["all closed (pooled)"] = CLOSED_TASKS
    return groups


def _answered(run, q) -> bool:
    p = run.preds.get(q.qid)
    return p is not None and p.error is None


def _per_clip(bench: Benchmark, questions: list, hit) -> tuple[np.ndarray, np.ndarray]:
    """(correct, total) per clip of `bench` for `questions`, `hit(q)` saying whether q counts as right."""
    idx = {c: i for i, c in enumerate(bench.videos)}
    correct, total = np.zeros(len(idx)), np.zeros(len(idx))
    for q in questions:
        total[idx[q.video_id]] += 1
        correct[idx[q.video_id]] += bool(hit(q))
    return correct, total


def _acc(weights: np.ndarray, correct: np.ndarray, total: np.ndarray) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return 100.0 * (weights @ correct) / (weights @ total)


def _delta(weights, base: tuple, ctl: tuple) -> dict[str, Any]:
    one = np.ones((1, len(base[0])))
    d = _acc(weights, *ctl) - _acc(weights, *base)
    d = d[~np.isnan(d)]
    point = float((_acc(one, *ctl) - _acc(one, *base))[0])
    if d.size == 0:
        return {"delta": point, "ci95": None, "p": None}
    p = bootstrap_p(d)
    lo, hi = percentile_ci(d)
    return {"delta": round(point, 2), "ci95": [round(lo, 2), round(hi, 2)], "p": round(p, 4)}


def _ci_of(weights, correct, total) -> list[float] | None:
    a = _acc(weights, correct, total)
    a = a[~np.isnan(a)]
    return [round(x, 2) for x in percentile_ci(a)] if a.size else None


def _cell(bench: Benchmark, base, run, asked: list, weights: np.ndarray, name: str) -> dict[str, Any]:
    """One control's numbers on `asked` (the questions both runs answered among them)."""
    one = np.ones((1, len(bench.videos)))
    # only questions both runs answered: one not asked (or failed) in either is no evidence either way
    qs = [q for q in asked if _answered(base, q) and _answered(run, q)]
    if not qs:
        return {"asked": len(asked), "n": 0, "coverage": 0.0}
    b = _per_clip(bench, qs, lambda q: is_correct(base.preds.get(q.qid), q.answer))
    c = _per_clip(bench, qs, lambda q: is_correct(run.preds.get(q.qid), q.answer))
    changed = sum(base.preds[q.qid].pred_answer != run.preds[q.qid].pred_answer for q in qs)
    cell: dict[str, Any] = {
        "asked": len(asked), "n": len(qs), "coverage": round(len(qs) / len(asked), 4),
        "original": round(float(_acc(one, *b)[0]), 2), "original_ci95": _ci_of(weights, *b),
        "control": round(float(_acc(one, *c)[0]), 2), "control_ci95": _ci_of(weights, *c),
        **_delta(weights, b, c), "changed": round(100.0 * changed / len(qs), 2)}
    if name == "reverse":
        rq = [q for q in qs if reversed_truth(q) is not None]
        if rq:
            rc = _per_clip(bench, rq, lambda q: is_correct(run.preds.get(q.qid), reversed_truth(q)))
            ro = _per_clip(bench, rq, lambda q: is_correct(base.preds.get(q.qid), q.answer))
            cell["reversed_truth"] = {"n": len(rq), "accuracy": round(float(_acc(one, *rc)[0]), 2),
                                      "ci95": _ci_of(weights, *rc),
                                      "original_on_these": round(float(_acc(one, *ro)[0]), 2)}
    return cell


def reliance(bench: Benchmark, base, controls: list[tuple[str, Any]], weights: np.ndarray,
             blind_correct: dict[str, bool] | None = None) -> dict[str, Any]:
    """`base`, each control run: `leaderboard.Run`s on `bench`; `controls`: (control name, run); `blind_correct`
    (qid -> a text-only model answers it right, from `mabench audit`): each closed task split into text-solvable
    questions and those that need the video."""
    out: dict[str, Any] = {"base": base.name, "controls": [], "verdicts": {}}
    groups = _groups()
    for name, run in controls:
        entry: dict[str, Any] = {"control": name, "run": run.name, "groups": {}}
        for g, tasks in groups.items():
            asked = [q for q in bench if q.task in tasks]
            if asked:
                entry["groups"][g] = _cell(bench, base, run, asked, weights, name)
        if blind_correct is not None:
            entry["audit_split"] = {}
            for t in CLOSED_TASKS:
                known = [q for q in bench if q.task == t and q.qid in blind_correct]
                split = {SUBSETS[0]: [q for q in known if blind_correct[q.qid]],
                         SUBSETS[1]: [q for q in known if not blind_correct[q.qid]]}
                by_subset = {s: _cell(bench, base, run, qs, weights, name) for s, qs in split.items() if qs}
                if by_subset:
                    entry["audit_split"][t] = by_subset
        out["controls"].append(entry)
    for g in groups:
        cells = [(e["control"], e["groups"][g]) for e in out["controls"] if g in e["groups"]]
        thin = [n for n, c in cells if c["coverage"] < MIN_COVERAGE]
        cells = [(n, c) for n, c in cells if c["coverage"] >= MIN_COVERAGE]
        if cells or thin:
            out["verdicts"][g] = verdict(g, cells) + (
                f" ({', '.join(thin)}: too few questions answered in both runs to say)" if thin else "")
    return out


def _said(name: str, cell: dict) -> str:
    ci = cell["ci95"]
    return f"{name} Δ {cell['delta']:+.1f}" + (f" (CI {ci[0]:+.1f} to {ci[1]:+.1f})" if ci else "")


def _moves(cell: dict) -> bool:
    """The control moved the accuracy beyond the bootstrap's noise (its CI excludes 0)."""
    ci = cell["ci95"]
    return ci is not None and (ci[0] > 0 or ci[1] < 0)


def verdict(group: str, cells: list[tuple[str, dict]]) -> str:
    """One plain sentence per task (or tier) from its controls' numbers, naming only what the controls given take
    away. A CI that covers 0 is no detectable effect at this size, not proof of none; with ~40 cells, a CI
    that excludes 0 by chance is expected now and then (the report does not correct for multiple comparisons)."""
    if not cells:
        return f"{group}: no control to compare"
    given = {n for n, _ in cells}
    moved = [(n, c) for n, c in cells if _moves(c)]
    rev = next((c.get("reversed_truth") for n, c in cells if n == "reverse" and c.get("reversed_truth")), None)
    tail = (f"; under reverse, {rev['accuracy']:.1f}% against the reversed truth (n={rev['n']}, "
            f"{rev['original_on_these']:.1f}% on the original)") if rev else ""
    if not moved:
        what = "the frames" if "blank" in given else " or ".join(sorted({TAKES[n] for n in given}))
        return (f"{group}: answers do not depend on {what}: no control moved the accuracy beyond noise ("
                + "; ".join(_said(n, c) for n, c in cells) + ")" + tail)
    order = [(n, c) for n, c in moved if TAKES.get(n) == "frame order" and c["delta"] < 0]
    if order:
        return f"{group}: answers rely on frame order (" + "; ".join(_said(n, c) for n, c in order) + ")" + tail
    lost = [(n, c) for n, c in moved if c["delta"] < 0]
    if lost:
        ordered = {"reverse", "shuffle"} & given
        return (f"{group}: answers rely on " + " and ".join(sorted({TAKES.get(n, n) for n, _ in lost}))
                + (", not on frame order" if ordered else "") + " (" + "; ".join(_said(n, c) for n, c in lost)
                + ")" + tail)
    return f"{group}: a control raised the accuracy (" + "; ".join(_said(n, c) for n, c in moved) + ")" + tail


def reliance_markdown(rel: dict[str, Any]) -> str:
    lines = ["", f"## Reliance on the video ({rel['base']} against its controls)", "",
             "Accuracy in % over the questions both runs answered (n of those asked); Δ = control − original, "
             "95% clip-bootstrap CI (paired); changed = answers that differ; groups marked pooled are over their "
             "questions.", "",
             "| group | control | n | original | control | Δ [95% CI] | p | changed | reversed truth |",
             "|---|---|---|---|---|---|---|---|---|"]
    for e in rel["controls"]:
        for g, c in e["groups"].items():
            if not c["n"]:
                lines.append(f"| {g} | {e['control']} | 0 of {c['asked']} | – | – | – | – | – | – |")
                continue
            ci = c["ci95"]
            rt = c.get("reversed_truth")
            lines.append(f"| {g} | {e['control']} | {c['n']} of {c['asked']} | {c['original']:.1f} | "
                         f"{c['control']:.1f} | "
                         f"{c['delta']:+.1f}" + (f" [{ci[0]:+.1f}, {ci[1]:+.1f}]" if ci else "") +
                         f" | {c['p'] if c['p'] is not None else '–'} | "
                         f"{c['changed'] if c['changed'] is not None else '–'} | "
                         + (f"{rt['accuracy']:.1f} (n={rt['n']})" if rt else "–") + " |")
    lines += ["", *[f"- {v}" for v in rel["verdicts"].values()]]
    split = [(e["control"], t, s, c) for e in rel["controls"] for t, cells in (e.get("audit_split") or {}).items()
             for s, c in cells.items()]
    if split:
        lines += ["", "Split by the audit's text-only blind model (text-solvable: it answers right out-of-fold):", "",
                  "| task | control | questions | n | original | control | Δ [95% CI] |",
                  "|---|---|---|---|---|---|---|"]
        for control, t, sub, c in split:
            if not c["n"]:
                lines.append(f"| {t} | {control} | {sub} | 0 of {c['asked']} | – | – | – |")
                continue
            ci = c["ci95"]
            lines.append(f"| {t} | {control} | {sub} | {c['n']} of {c['asked']} | {c['original']:.1f} | "
                         f"{c['control']:.1f} | {c['delta']:+.1f}" + (f" [{ci[0]:+.1f}, {ci[1]:+.1f}]" if ci else "")
                         + " |")
    return "\n".join(lines) + "\n"
