"""Quality control of a built benchmark: counts, balance, labels, duplicates, leakage, blind check.

`qc_report(records)` returns a JSON-ready dict; `qc_markdown` renders it. Targets checked:
Yes/No share within 5 points of each task's `yes_centre` (50%; MAD, MAS 47%), letter positions near uniform (each within
+- 5 points of 1/n when there are enough questions), 12 questions per clip, no duplicate question
in a clip, no SAD/MAD question naming the action label. The optional blind check takes the
predictions of text-only runs and flags questions answered correctly without frames by most runs.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable

from mabench.builder.questions import SPECS
from mabench.taxonomy import COARSE_CLASSES, FINE_LABELS, TASK_ORDER, TASKS, normalize_label

YES_NO_TOLERANCE = 0.05
POSITION_TOLERANCE = 0.05
MIN_FOR_POSITION_CHECK = 100  # fewer questions than this: positions are reported, not judged
BLIND_MAJORITY = 0.5
# Gates of `mabench build --qc` (`qc_gate`, a function of the QC report alone): the build fails when a closed
# task's blind leak (all built questions when the train split exists) exceeds LEAK_GATE points (with its 95% CI
# above 0), when clips fall short of 12, or, against a reference (`--reference FILE` or the --stems-from file),
# when a Yes/No task's question-type mix (`mabench.audit.style.question_type`) strays from the reference's by
# more than TYPE_MIX_GATE points plus two standard errors (`type_mix_delta`).
# The style AUC against the reference is reported, never gated: templates cannot read like an LLM-written file
# (0.98-0.996 for the Yes/No tasks against MA-Bench's; it grows with the build's size), bench/RESULTS.md.
LEAK_GATE = 5.0
TYPE_MIX_GATE = 5.0


def _norm(text: str) -> str:
    return re.sub(r"[^a-z ]+", " ", text.lower()).split("\n")[0].strip()


def qc_report(records: list[dict], blind: dict[str, list[bool]] | None = None) -> dict:
    """Checks over benchmark records (official format with `answer`, optionally `meta`)."""
    by_task: dict[str, list[dict]] = defaultdict(list)
    by_clip: dict[str, list[dict]] = defaultdict(list)
    for r in records:
        by_task[r["task"]].append(r)
        by_clip[r["video_name"]].append(r)
    per_task = {t: len(by_task.get(t, [])) for t in TASK_ORDER}
    expected = {t: TASKS[t].per_clip for t in TASK_ORDER}
    short_clips = {c: 12 - len(qs) for c, qs in by_clip.items() if len(qs) < 12}
    # a clip whose MADU names no moving part has no measured motion: it may be short (nothing to ask)
    motionless = sorted(c for c in short_clips if any(q["task"] == "MADU" and isinstance(q.get("meta"), dict)
                                                      and q["meta"].get("parts") == [] for q in by_clip[c]))
    missing_by_task: Counter[str] = Counter()
    for qs in by_clip.values():
        have = Counter(q["task"] for q in qs)
        for t in TASK_ORDER:
            missing_by_task[t] += max(0, expected[t] - have[t])

    balance = {}
    for t in TASK_ORDER:
        spec, qs = TASKS[t], by_task.get(t, [])
        if not spec.closed or not qs:
            continue
        if spec.answer_type.value == "yes_no":
            yes = sum(q["answer"] == "Yes" for q in qs) / len(qs)
            centre = SPECS[t].yes_centre if t in SPECS else 0.5  # MAD is balanced around its own centre
            balance[t] = {"yes_share": round(yes, 4), "target": centre, "ok": abs(yes - centre) <= YES_NO_TOLERANCE}
        else:
            counts = Counter(q["answer"] for q in qs)
            shares = {letter: round(counts[letter] / len(qs), 4) for letter in spec.letters}
            judged = len(qs) >= MIN_FOR_POSITION_CHECK
            worst = max(abs(s - 1 / len(spec.letters)) for s in shares.values())
            balance[t] = {"positions": shares, "max_deviation": round(worst, 4),
                          "ok": (worst <= POSITION_TOLERANCE) if judged else None}

    labels = Counter(q["meta"]["label"] for q in by_task.get("FMAR", []) if isinstance(q.get("meta"), dict))
    coarse = Counter(q["meta"]["label"] for q in by_task.get("CMAR", []) if isinstance(q.get("meta"), dict))

    duplicates, near = [], []
    for clip, qs in by_clip.items():
        texts = Counter(q["question"] for q in qs)
        duplicates += [{"clip": clip, "question": t, "count": n} for t, n in texts.items() if n > 1]
        facts = defaultdict(list)
        for q in qs:
            m = q.get("meta") or {}
            if TASKS[q["task"]].closed and m.get("parts"):
                facts[(q["task"], tuple(sorted(m["parts"])), m.get("phase"), m.get("kind"), m.get("axis"))].append(
                    q["qid"])
        near += [{"clip": clip, "qids": ids, "fact": list(map(str, k))} for k, ids in facts.items() if len(ids) > 1]

    label_terms = [normalize_label(lab) for lab in (*FINE_LABELS, *COARSE_CLASSES)]
    leakage = []
    for t in ("SAD", "MAD"):
        for q in by_task.get(t, []):
            text = f" {normalize_label(q['question'])} "
            hits = [lab for lab in label_terms if f" {lab} " in text and lab not in ("head", "body")]
            if hits:
                leakage.append({"qid": q["qid"], "labels": hits})

    report = {
        "questions": len(records), "clips": len(by_clip), "per_task": per_task,
        "missing_per_task": {t: missing_by_task[t] for t in TASK_ORDER if missing_by_task[t]},
        "clips_with_fewer_than_12": len(short_clips), "short_clips_without_motion": motionless,
        "balance": balance,
        "fine_labels": dict(labels.most_common()), "coarse_labels": dict(coarse.most_common()),
        "duplicates": duplicates, "near_duplicates": near, "leakage": leakage,
    }
    para = Counter(q["meta"]["paraphrase"]["status"] for q in records
                   if isinstance(q.get("meta"), dict) and isinstance(q["meta"].get("paraphrase"), dict))
    if para:  # `mabench build --paraphrase`: how many questions carry an LLM's wording, how many the template's
        report["paraphrase"] = dict(para)
    if blind is not None:
        flagged = sorted(q for q, hits in blind.items() if hits and sum(hits) / len(hits) > BLIND_MAJORITY)
        report["blind"] = {"runs": max((len(v) for v in blind.values()), default=0), "checked": len(blind),
                           "flagged": flagged, "flagged_share": round(len(flagged) / max(len(blind), 1), 4)}
    report["passed"] = {
        "yes_no_balance": all(b["ok"] for b in balance.values() if "yes_share" in b),
        "letter_positions": all(b["ok"] is not False for b in balance.values() if "positions" in b),
        "twelve_per_clip": not short_clips,
        "no_duplicates": not duplicates,
        "no_leakage": not leakage,
    }
    return report


def blind_hits(records: list[dict], runs: Iterable[dict[str, str]]) -> dict[str, list[bool]]:
    """qid -> whether each blind run's normalised answer matched the reference (closed questions)."""
    closed = {r["qid"]: r["answer"] for r in records if TASKS[r["task"]].closed}
    out: dict[str, list[bool]] = {q: [] for q in closed}
    for answers in runs:
        for qid, ref in closed.items():
            out[qid].append(answers.get(qid) == ref)
    return out


def audit_qc(out, seed: int = 0, reference=None) -> dict:
    """`mabench audit` of a build folder for QC: the benchmark, and all built questions (test + train) when
    the train split exists (five times the questions, so a much tighter leak estimate of the generator).
    Writes OUT/audit/ and OUT/audit_all/ (audit.json, audit.md); returns the leak per task of each, and with a
    `reference` benchmark file the style AUC per task of all built questions (the benchmark's alone without a
    train split) against it (`style_auc`, reported only), the reference (`style_reference`) and each Yes/No
    task's type-mix difference (`style_type_delta`, gated)."""
    from dataclasses import replace
    from pathlib import Path

    from mabench.audit import audit, leak_summary, write_audit
    from mabench.data import Benchmark, load_benchmark

    out = Path(out)
    bench = load_benchmark(out / "benchmark.json")
    ref = load_benchmark(reference) if reference else None
    has_train = (out / "train_questions.json").exists()
    res = audit(bench, reference=None if has_train else ref, seed=seed)
    write_audit(res, out / "audit")
    rep: dict = {"benchmark": {"dir": "audit", "questions": len(bench), "clips": len(bench.videos),
                               "leak": leak_summary(res)}}
    style = res.style
    if has_train:
        train = load_benchmark(out / "train_questions.json")
        # the two splits number their questions alike; prefix so qids stay unique
        both = Benchmark([replace(q, qid=f"test/{q.qid}") for q in bench] +
                         [replace(q, qid=f"train/{q.qid}") for q in train])
        res_all = audit(both, reference=ref, seed=seed)
        write_audit(res_all, out / "audit_all")
        style = res_all.style
        rep["all_built"] = {"dir": "audit_all", "questions": len(both), "clips": len(both.videos),
                            "leak": leak_summary(res_all)}
    if style is not None:
        rep["style_reference"] = str(reference)
        rep["style_auc"] = {t: s.auc for t, s in style.tasks.items()}
        rep["style_status"] = {t: s.auc_status for t, s in style.tasks.items() if s.auc is None}
        rep["style_type_delta"] = {t: type_mix_delta(s.types, s.bench_questions)
                                   for t, s in style.tasks.items() if s.types}
    return rep


def type_mix_delta(types, n: int) -> dict:
    """The question type furthest from the reference's share, beyond sampling noise: its difference in points
    and what is allowed, TYPE_MIX_GATE plus two standard errors of a share drawn at the reference's rate over
    the build's `n` questions (a 24-clip build has ~48 questions a task, so its shares are only known to ~7
    points). The error is the reference's, not the build's own: a type the build lacks entirely would
    otherwise shrink its own allowance."""
    def allowed(x) -> float:
        return TYPE_MIX_GATE + 200 * math.sqrt(max(x.reference * (1 - x.reference), 0.25 / max(n, 1)) / max(n, 1))

    worst = max(types, key=lambda x: 100 * abs(x.bench - x.reference) - allowed(x))
    return {"type": worst.key, "delta": round(100 * abs(worst.bench - worst.reference), 1),
            "allowed": round(allowed(worst), 1)}


def qc_gate(rep: dict) -> dict:
    """Whether a QC'd build passes its gates, and why not: {"passed": bool, "failures": [str]}."""
    failures = []
    audit = rep.get("audit") or {}
    leak = (audit.get("all_built") or audit.get("benchmark") or {}).get("leak", {})
    for t, row in leak.items():
        # and beyond chance: on a few clips a leak of 5 points is often noise (its CI then reaches 0)
        if row.get("status") == "ok" and row["leak"] > LEAK_GATE and row["leak_ci"][0] > 0:
            failures.append(f"{t} blind leak {row['leak']:+.1f} points > {LEAK_GATE:g}")
    for t, d in (audit.get("style_type_delta") or {}).items():
        if d["delta"] > d["allowed"]:
            failures.append(f"{t} question type '{d['type']}' {d['delta']:.1f} points from the reference's share "
                            f"(allowed {d['allowed']:g})")
    short = rep.get("clips_with_fewer_than_12", 0) - len(rep.get("short_clips_without_motion", []))
    if short > 0:  # a clip without measured motion is allowed fewer (QC lists it)
        failures.append(f"{short} clips with measured motion and fewer than 12 questions "
                        f"(missing: {rep.get('missing_per_task', {})})")
    return {"passed": not failures, "failures": failures}


def _leak_lines(audit: dict) -> list[str]:
    lines = ["", "## Blind audit (question text only; leak = blind − majority, %, 95% CI)", "",
             "| questions | task | n | majority | blind | leak |", "|---|---|---|---|---|---|"]
    for key, what in (("benchmark", "benchmark"), ("all_built", "all built (test + train)")):
        a = audit.get(key)
        if not a:
            continue
        for t, row in a["leak"].items():
            if row["status"] != "ok":
                lines.append(f"| {what} | {t} | {row['questions']} | | {row['status']} | |")
                continue
            lines.append(f"| {what} | {t} | {row['questions']} | {row['majority']:.1f} | {row['blind']:.1f} | "
                         f"{row['leak']:+.1f} [{row['leak_ci'][0]:+.1f}, {row['leak_ci'][1]:+.1f}] |")
    return lines + ["", "Details: " + ", ".join(f"{audit[k]['dir']}/audit.md" for k in ("benchmark", "all_built")
                                                if k in audit) + "."]


def _style_lines(audit: dict) -> list[str]:
    if "style_auc" not in audit:
        return []
    deltas = audit.get("style_type_delta") or {}
    status = audit.get("style_status") or {}
    lines = ["", f"## Style against {audit.get('style_reference', 'the reference')}", "",
             "Two-sample AUC of all built questions against the reference (0.5: alike; 1.0: every question gives "
             "itself away; reported, not gated) and, for Yes/No tasks, the largest difference in question-type "
             "share (points).", "",
             "| task | AUC | type mix Δ | gated |", "|---|---|---|---|"]
    for t, auc in audit["style_auc"].items():
        shown = f"{auc:.3f}" if auc is not None else f"n/a ({status.get(t, 'not computed')})"
        d = deltas.get(t)
        dshown = "" if d is None else f"{d['delta']:.1f} ({d['type']})" + (" **over**" if d["delta"] > d["allowed"]
                                                                          else "")
        gate = f"type mix Δ ≤ {d['allowed']:g}" if d is not None else "no"
        lines.append(f"| {t} | {shown} | {dshown} | {gate} |")
    return lines


def qc_markdown(rep: dict) -> str:
    ok = {True: "yes", False: "**NO**", None: "n/a"}
    lines = ["# Quality control", "", f"{rep['questions']} questions, {rep['clips']} clips.", "",
             "| task | questions | balance |", "|---|---|---|"]
    for t in TASK_ORDER:
        b = rep["balance"].get(t)
        bal = "" if b is None else (f"Yes {b['yes_share']:.1%}" if "yes_share" in b else
                                    "positions " + " ".join(f"{k} {v:.0%}" for k, v in b["positions"].items()))
        lines.append(f"| {t} | {rep['per_task'][t]} | {bal} |")
    lines += ["", "| check | passed |", "|---|---|"]
    lines += [f"| {k.replace('_', ' ')} | {ok[v]} |" for k, v in rep["passed"].items()]
    if rep.get("missing_per_task"):
        lines += ["", "Questions missing (clips without a usable fact): " +
                  ", ".join(f"{t} {n}" for t, n in rep["missing_per_task"].items())]
    if rep.get("short_clips_without_motion"):
        lines += ["Clips without measured motion (fewer questions allowed): " +
                  ", ".join(rep["short_clips_without_motion"])]
    lines += ["", f"Duplicates: {len(rep['duplicates'])}; near-duplicates (same fact twice in a clip): "
              f"{len(rep['near_duplicates'])}; leakage (SAD/MAD naming a label): {len(rep['leakage'])}."]
    if "blind" in rep:
        b = rep["blind"]
        lines.append(f"Blind check: {len(b['flagged'])} of {b['checked']} closed questions answered correctly "
                     f"without frames by most of {b['runs']} runs ({b['flagged_share']:.1%}).")
    if "audit" in rep:
        lines += _leak_lines(rep["audit"])
        lines += _style_lines(rep["audit"])
        gate = qc_gate(rep)
        lines += ["", "QC gate: " + ("passed" if gate["passed"] else "**FAILED** — " + "; ".join(gate["failures"]))]
    if rep.get("paraphrase"):
        lines += ["", "Paraphrase (questions offered for rewording): " + ", ".join(
            f"{k} {v}" for k, v in rep["paraphrase"].items()) + " (rejected: no wording passed the fact check; "
            "failed: no reply; both keep the template question)."]
    lines += ["", "Fine labels: " + ", ".join(f"{k} {v}" for k, v in rep["fine_labels"].items())]
    return "\n".join(lines) + "\n"
