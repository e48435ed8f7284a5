"""Scores that separate shortcut from seeing: each run's closed accuracy on the questions a text-only
blind model answers right out-of-fold ("text-solvable", from `mabench audit`) and on the rest
("needs the video"), with clip-bootstrap CIs from `mabench.report.stats`.

A fine-tuned model whose gain sits in the text-solvable half may have learnt the wording, not the video.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from mabench.data.io import Benchmark
from mabench.report.stats import bootstrap_metrics, clip_table, percentile_ci, point_metrics, replicate_weights
from mabench.taxonomy import CLOSED_TASKS

SUBSETS = ("text-solvable", "needs the video")


def read_blind_correct(audit: Path) -> tuple[dict[str, bool], dict[str, Any]]:
    """qid -> blind right out-of-fold, and the audited benchmark's info, from an audit folder or audit.json."""
    path = audit / "audit.json" if audit.is_dir() else audit
    if not path.exists():
        raise FileNotFoundError(f"{path}: no audit.json; run `mabench audit BENCH --out DIR` first")
    data = json.loads(path.read_text(encoding="utf-8"))
    correct = data.get("blind_correct") or {}
    if not correct:
        raise ValueError(f"{path}: the audit has no blind predictions (was the benchmark audited without answers, "
                         "or with too few questions per task?)")
    return correct, data.get("benchmark", {})


def audit_split(bench: Benchmark, runs: list, audit: Path, n_boot: int, seed: int) -> dict[str, Any]:
    """Per run and closed task: accuracy (%) with 95% CI on the text-solvable questions and on the rest."""
    correct, info = read_blind_correct(audit)
    known = [q for q in bench if q.spec.closed and q.qid in correct]
    if not known:
        raise ValueError(f"{audit}: none of its questions are in {bench.path}; audit the same benchmark")
    subsets = {SUBSETS[0]: Benchmark([q for q in known if correct[q.qid]]),
               SUBSETS[1]: Benchmark([q for q in known if not correct[q.qid]])}
    counts = {t: {s: sum(q.task == t for q in sub) for s, sub in subsets.items()} for t in CLOSED_TASKS}
    out: dict[str, Any] = {
        "audit": str(audit), "audit_sha256": info.get("sha256"), "same_benchmark": info.get("sha256") == bench.sha256,
        "audited_questions": len(known), "counts": counts, "runs": []}
    weights = {s: replicate_weights(len(sub.videos), n_boot, seed) for s, sub in subsets.items() if len(sub)}
    for r in runs:
        row: dict[str, Any] = {"name": r.name, "tasks": {}}
        per_subset = {}
        for s, sub in subsets.items():
            if not len(sub):
                continue
            table = clip_table(sub, r.preds)
            per_subset[s] = (point_metrics(table, False), bootstrap_metrics(table, weights[s], False))
        for t in CLOSED_TASKS:
            cells = {}
            for s, (point, boots) in per_subset.items():
                if counts[t][s] == 0:
                    continue
                vals = boots[t][~np.isnan(boots[t])]
                cells[s] = {"accuracy": point[t], "ci95": percentile_ci(vals) if vals.size else None,
                            "n": counts[t][s]}
            if cells:
                row["tasks"][t] = cells
        out["runs"].append(row)
    return out


def split_markdown(split: dict[str, Any]) -> str:
    lines = ["", "## Text-solvable vs needs the video", "",
             f"Closed questions split by the blind (text-only) model of `{split['audit']}`: right out-of-fold = "
             "text-solvable. Accuracy in % with 95% clip-bootstrap CIs; n = questions."
             + ("" if split["same_benchmark"] else " **The audit was made on a different benchmark file; only the "
                f"{split['audited_questions']} questions it shares with this one are split.**"), "",
             "| model | task | text-solvable | needs the video |", "|---|---|---|---|"]
    for r in split["runs"]:
        for t, cells in r["tasks"].items():
            out = []
            for s in SUBSETS:
                c = cells.get(s)
                if c is None:
                    out.append("–")
                    continue
                ci = c["ci95"]
                out.append(f"{c['accuracy']:.1f}" + (f" [{ci[0]:.1f}, {ci[1]:.1f}]" if ci else "") + f" (n={c['n']})")
            lines.append(f"| {r['name']} | {t} | {out[0]} | {out[1]} |")
    return "\n".join(lines) + "\n"
