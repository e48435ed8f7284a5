"""Leaderboards across runs: scores with clip-bootstrap CIs, paired comparisons, breakdowns."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from mabench.data.io import Benchmark, BenchmarkError, load_benchmark
from mabench.data.predictions import Prediction
from mabench.evaluation.metrics import Scores, is_correct
from mabench.evaluation.results import score_run_dir
from mabench.evaluation.rundir import RunDir
from mabench.report.stats import (
    DEFAULT_BOOTSTRAP,
    METRICS,
    ClipTable,
    bootstrap_metrics,
    clip_table,
    mcnemar_exact,
    paired_bootstrap,
    percentile_ci,
    replicate_weights,
)
from mabench.taxonomy import BODY_PARTS, CLOSED_TASKS, FINE_TO_COARSE, PHASES

DIRECTIONS = ("upward", "downward", "leftward", "rightward", "forward", "backward", "toward", "away")


@dataclass
class Run:
    name: str
    path: Path
    preds: dict[str, Prediction]
    judged: dict[str, dict[str, float]] | None
    scores: Scores | None = None  # exactly what scores.json holds: the leaderboard's point values
    table: ClipTable | None = None
    values: dict[str, float] = field(default_factory=dict)
    cis: dict[str, tuple[float, float]] = field(default_factory=dict)


def load_run(path: Path, bench: Benchmark) -> Run:
    run = RunDir(path)
    if not run.predictions_path.exists():
        raise FileNotFoundError(f"{path}: no predictions.jsonl; is this a `mabench eval` run directory?")
    scored = score_run_dir(run, bench)
    if not scored.preds:  # a leaderboard row of zeros would look like a measured result
        raise ValueError(f"{path / 'predictions.jsonl'} holds no answers; run (or resume) `mabench eval ... "
                         f"--out {path}` first")
    return Run(path.name, path, scored.preds, scored.judged, scored.scores)


def run_benchmark(path: Path) -> Path:
    return RunDir(path).benchmark_path()


def _questions(bench: Benchmark) -> dict[str, tuple[str, str, str]]:
    return {q.qid: (q.video_id, q.task, q.question) for q in bench}


def check_same_benchmark(run_paths: list[Path], key: Path | None, bench: Benchmark) -> None:
    """Refuse runs made on different benchmarks: one key would score them wrongly (qids collide
    across benchmarks) and paired tests between them would mean nothing.

    Runs whose config.json records the same benchmark sha256 pass. Different files pass only with
    --key and only when each run's own benchmark asks the key's questions (a questions-only file
    and the same questions with answers)."""
    shas = {p: RunDir(p).benchmark_sha256() for p in run_paths}
    if len({s for s in shas.values() if s}) <= 1:
        return
    listing = ", ".join(f"{p.name}: {(s or 'unknown')[:12]}" for p, s in shas.items())
    if key is None:
        raise ValueError(f"the runs were made on different benchmark files ({listing}); report each benchmark's "
                         "runs separately, or pass --key KEY if they ask the same questions")
    ref = _questions(bench)
    for p in run_paths:
        try:
            own = _questions(RunDir(p).benchmark())
        except BenchmarkError:
            raise ValueError(f"the runs were made on different benchmark files ({listing}) and {p.name}'s "
                             "is not readable to compare with --key; report the runs separately") from None
        if any(ref.get(qid) != v for qid, v in own.items()):
            raise ValueError(f"the runs were made on different benchmarks ({listing}): {p.name} asks questions "
                             f"that are not {key}'s; report each benchmark's runs separately")


# What the official question file asks (`Benchmark.questions_sha256`: qids, tasks, clips, texts; not
# answers, so the answered variant of the same questions matches too). The paper's rows are MA-Bench's
# numbers: they are shown beside runs on this benchmark only.
OFFICIAL_QUESTIONS_SHA256 = "52be80dc45ef43ddc1c170a486b99b2d6357393e32189aa0d8ba38a918be9284"


def is_official(bench: Benchmark) -> bool:
    return bench.questions_sha256() == OFFICIAL_QUESTIONS_SHA256


def paper_rows() -> list[dict[str, Any]]:
    text = resources.files("mabench.report").joinpath("data/paper_results.json").read_text()
    return json.loads(text)["rows"]


# --- breakdowns -----------------------------------------------------------------------------------

_PART_RE = re.compile(r"\b(" + "|".join(sorted(BODY_PARTS, key=len, reverse=True)) + r")\b", re.IGNORECASE)


def question_tags(q, clip_labels: dict[str, tuple[str | None, str | None]]) -> dict[str, list[str]]:
    """Breakdown keys of a question: coarse class / fine label of its clip, body parts, phase, direction.

    From the question's `meta` when present (built benchmarks), else parsed from the text.
    """
    meta = q.extra.get("meta") if isinstance(q.extra.get("meta"), dict) else {}
    coarse, fine = clip_labels.get(q.video_id, (None, None))
    text = q.question.lower()
    parts = meta.get("parts") or sorted({m.group(1).lower() for m in _PART_RE.finditer(text)})
    phase = meta.get("phase") or next((p for p in PHASES if re.search(rf"\b{p}\b", text)), None)
    direction = meta.get("direction") or next((d for d in DIRECTIONS if d in text), None)
    return {"coarse class": [coarse] if coarse else [], "fine label": [fine] if fine else [],
            "body part": list(parts) if q.task not in ("CMAR", "FMAR") else [],
            "phase": [phase] if phase else [], "direction": [direction] if direction else []}


def clip_labels(bench: Benchmark) -> dict[str, tuple[str | None, str | None]]:
    """Each clip's coarse / fine label from its FMAR (or CMAR) answer."""
    out: dict[str, tuple[str | None, str | None]] = {}
    for q in bench:
        if q.answer is None or q.task not in ("CMAR", "FMAR"):
            continue
        opt = q.option(q.answer)
        if opt is None or opt.label is None:
            continue
        coarse, fine = out.get(q.video_id, (None, None))
        if q.task == "FMAR":
            fine = opt.label
            coarse = coarse or FINE_TO_COARSE.get(opt.label)
        else:
            coarse = opt.label
        out[q.video_id] = (coarse, fine)
    return out


def breakdowns(bench: Benchmark, run: Run) -> dict[str, dict[str, dict[str, float]]]:
    """Closed-task accuracy by coarse class, fine label, body part, phase and direction."""
    labels = clip_labels(bench)
    acc: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for q in bench:
        if not q.spec.closed:
            continue
        ok = is_correct(run.preds.get(q.qid), q.answer)
        for dim, keys in question_tags(q, labels).items():
            for k in keys:
                acc[dim][k][0] += ok
                acc[dim][k][1] += 1
    return {dim: {k: {"accuracy": 100.0 * c / n, "n": n} for k, (c, n) in sorted(v.items())}
            for dim, v in acc.items()}


def confusion(bench: Benchmark, run: Run, task: str) -> dict[str, Counter]:
    """reference label -> Counter of predicted labels ("invalid" for no answer)."""
    out: dict[str, Counter] = defaultdict(Counter)
    for q in bench:
        if q.task != task or q.answer is None:
            continue
        ref = q.option(q.answer)
        p = run.preds.get(q.qid)
        got = q.option(p.pred_answer) if p is not None and p.pred_answer else None
        out[ref.label or ref.text if ref else q.answer][(got.label or got.text) if got else "invalid"] += 1
    return out


# --- the report -----------------------------------------------------------------------------------


def build_report(run_paths: list[Path], key: Path | None = None, n_boot: int = DEFAULT_BOOTSTRAP,
                 seed: int = 0, audit: Path | None = None, controls: list[Path] | None = None) -> dict[str, Any]:
    """The report dict; with `audit` (a `mabench audit` folder) also the text-solvable / needs-the-video split;
    with `controls` (runs of the first run's model under `mabench eval --control`) the reliance section."""
    given_key = key
    bench = load_benchmark(key or run_benchmark(run_paths[0]))
    if not bench.has_answers:
        raise ValueError(f"{key or bench.path}: has no answers; pass a key with answers (--key)")
    check_same_benchmark(run_paths, key, bench)
    if key is not None:
        for p in run_paths:  # the key must ask each run's questions, not just carry its qids
            RunDir(p).benchmark(key)
    key = key or bench.path
    runs = [load_run(p, bench) for p in run_paths]
    names = Counter(r.name for r in runs)
    for r in runs:  # two runs called "run" in different folders stay apart
        if names[r.name] > 1:
            r.name = str(r.path)
    weights = replicate_weights(len(bench.videos), n_boot, seed)
    for r in runs:
        r.table = clip_table(bench, r.preds, r.judged)
        have_open = r.judged is not None
        # point values: the run's Scores (scores.json); CIs only where a point value exists, so a
        # half-judged or unfinished run shows no final score here either
        assert r.scores is not None
        r.values = {m: v for m, v in r.scores.columns().items() if v is not None}
        boots = bootstrap_metrics(r.table, weights, have_open)
        r.cis = {m: percentile_ci(v) for m, v in boots.items() if m in r.values}
    report: dict[str, Any] = {
        "benchmark": {"path": str(key), "sha256": bench.sha256, "questions": len(bench), "clips": len(bench.videos)},
        "bootstrap": {"replicates": n_boot, "seed": seed, "level": 0.95, "unit": "clip"},
        "runs": [{"name": r.name, "path": str(r.path), "metrics": {m: r.values.get(m) for m in METRICS},
                  "ci95": {m: r.cis.get(m) for m in METRICS}, "coverage": _coverage(bench, r),
                  "breakdowns": breakdowns(bench, r),
                  "confusion": {t: {k: dict(v) for k, v in confusion(bench, r, t).items()} for t in ("CMAR", "FMAR")}}
                 for r in runs],
        "paper": paper_rows() if is_official(bench) else [],  # MA-Bench's numbers: beside MA-Bench runs only
        "paired": [],
    }
    conditions = {r.name: run_conditions(r.path) for r in runs}
    for entry in report["runs"]:
        entry["conditions"] = conditions[entry["name"]]
    report["conditions_differ"] = conditions_note(conditions)
    for i in range(len(runs)):
        for j in range(i + 1, len(runs)):
            a, b = runs[i], runs[j]
            have_open = a.judged is not None and b.judged is not None
            both = set(a.values) & set(b.values)
            assert a.table is not None and b.table is not None
            comp: dict[str, Any] = {"a": a.name, "b": b.name,
                    "bootstrap": [vars(p) for p in paired_bootstrap(a.table, b.table, weights, have_open)
                                  if p.metric in both],
                    "mcnemar": {}}
            for t in CLOSED_TASKS:
                qs = [q for q in bench if q.task == t]
                ca = [is_correct(a.preds.get(q.qid), q.answer) for q in qs]
                cb = [is_correct(b.preds.get(q.qid), q.answer) for q in qs]
                n01 = sum(x and not y for x, y in zip(ca, cb, strict=True))
                n10 = sum(y and not x for x, y in zip(ca, cb, strict=True))
                comp["mcnemar"][t] = {"a_only": n01, "b_only": n10, "p": mcnemar_exact(n01, n10)}
            report["paired"].append(comp)
    if audit is not None:
        from mabench.report.split import audit_split

        report["audit_split"] = audit_split(bench, runs, audit, n_boot, seed)
    if controls:
        from mabench.report.reliance import reliance

        check_same_benchmark([run_paths[0], *controls], given_key, bench)
        from mabench.evaluation.run_setup import config_differences

        base_cfg = RunDir(run_paths[0]).config()
        found = []
        for path in controls:
            name = control_of(path)
            diffs = config_differences(base_cfg, RunDir(path).config(), ignore=("control", "benchmark"))
            if diffs:
                raise ValueError(f"--controls {path}: made with other settings than {run_paths[0]} "
                                 f"({'; '.join(diffs)}); a control run changes the video only (the same model, frames, "
                                 "prompts, generation)")
            if name == "none":
                raise ValueError(f"--controls {path}: its run records no video control (run it with "
                                 "`mabench eval --control reverse|shuffle|single|blank`)")
            found.append((name, load_run(path, bench)))
        if control_of(run_paths[0]) != "none":
            raise ValueError(f"{run_paths[0]}: the run the controls are compared with was itself made under a control")
        blind = None
        if audit is not None:
            from mabench.report.split import read_blind_correct

            blind = read_blind_correct(audit)[0]
        report["reliance"] = reliance(bench, runs[0], found, weights, blind)
    return report


def control_of(path: Path) -> str:
    """The video control a run was made under ("none" for a plain run)."""
    try:
        cfg = RunDir(path).config()
    except BenchmarkError:
        return "none"
    c = cfg.get("control")
    return str(c.get("name", "none")) if isinstance(c, dict) else "none"


def run_conditions(path: Path) -> dict[str, Any]:
    """What a run's frames and requests were made under: its protocol (mabench or the official
    runner's kit) and frame settings, from its config.json."""
    try:
        cfg = RunDir(path).config()
    except BenchmarkError:
        return {"protocol": None, "sampling": None}
    return {"protocol": cfg.get("protocol", "mabench"), "sampling": cfg.get("sampling"),
            "control": cfg.get("control", {}).get("name", "none") if isinstance(cfg.get("control"), dict) else "none"}


def conditions_note(conditions: dict[str, dict[str, Any]]) -> str | None:
    """One line when the runs compared were asked under different protocols, video controls or frame settings."""
    controls = {name: c.get("control", "none") for name, c in conditions.items()}
    if len(set(controls.values())) > 1:
        listing = ", ".join(f"{n}: {c}" for n, c in controls.items())
        return (f"the runs were asked under different video controls ({listing}): compare a run with its controls "
                "through --controls")
    protocols = {name: c["protocol"] for name, c in conditions.items()}
    if len(set(protocols.values())) > 1:
        listing = ", ".join(f"{n}: {p}" for n, p in protocols.items())
        return f"the runs were asked under different protocols ({listing}): their differences include that"
    samplings = {json.dumps(c["sampling"], sort_keys=True) for c in conditions.values()}
    if len(samplings) > 1:
        listing = ", ".join(f"{n}: {(c['sampling'] or {}).get('strategy')} {(c['sampling'] or {}).get('num_frames')}"
                            f" frames, max side {(c['sampling'] or {}).get('max_side')}"
                            for n, c in conditions.items())
        return f"the runs were asked with different frame settings ({listing}): their differences include that"
    return None


def _coverage(bench: Benchmark, run: Run) -> dict[str, Any]:
    total = len(bench)
    answered = sum(1 for q in bench if q.qid in run.preds and run.preds[q.qid].error is None)
    invalid = sum(1 for q in bench if q.qid in run.preds and run.preds[q.qid].error is None
                  and run.preds[q.qid].pred_answer is None)
    errors = sum(1 for q in bench if q.qid in run.preds and run.preds[q.qid].error is not None)
    return {"questions": total, "answered": answered, "invalid": invalid, "errors": errors,
            "missing": total - answered - errors, "invalid_rate": invalid / total, "error_rate": errors / total}


def _cell(v: float | None, ci: tuple[float, float] | None, digits: int = 2) -> str:
    if v is None or v != v:  # None or NaN
        return "–"
    if ci is None or ci[0] != ci[0]:
        return f"{v:.{digits}f}"
    return f"{v:.{digits}f} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]"


def shown_metrics(report: dict[str, Any], with_paper: bool = True) -> list[str]:
    """The leaderboard's columns that hold a value for some row (a closed-only benchmark shows no open ones)."""
    rows = [r["metrics"] for r in report["runs"]] + (list(report["paper"]) if with_paper else [])
    return [m for m in METRICS if any(row.get(m) is not None for row in rows)]


def metric_label(m: str) -> str:
    """A column's name with its scale where it is not a percentage."""
    return "open AVG (0–5)" if m == "open AVG" else m


def leaderboard_markdown(report: dict[str, Any], with_paper: bool = True) -> str:
    cols = shown_metrics(report, with_paper)
    lines = ["| model | " + " | ".join(map(metric_label, cols)) + " |", "|---|" + "---|" * len(cols)]
    for r in report["runs"]:
        cells = [_cell(r["metrics"][m], r["ci95"][m]) for m in cols]
        lines.append(f"| {r['name']} | " + " | ".join(cells) + " |")
    if with_paper:
        for p in report["paper"]:
            cells = [_cell(p.get(m), None) if m in ("closed AVG", "open AVG") else "" for m in cols]
            lines.append(f"| *{p['name']}* | " + " | ".join(cells) + " |")
    note = (f"\n95% CIs: bootstrap over clips ({report['bootstrap']['replicates']} replicates). "
            "Accuracies and final in %, open dimensions and open AVG 0–5." +
            (" Rows in italics are the paper's published numbers, not measured here."
             if with_paper and report["paper"] else ""))
    return "\n".join(lines) + "\n" + note + "\n" + paired_markdown(report) + breakdowns_markdown(report)


def paired_markdown(report: dict[str, Any]) -> str:
    """Each pair of runs: the paired clip-bootstrap difference per metric and McNemar's exact p (closed)."""
    out = []
    for comp in report["paired"]:
        out += [f"\n### {comp['a']} − {comp['b']} (paired bootstrap over clips; McNemar exact for closed tasks)\n",
                "| metric | difference | 95% CI | p (bootstrap) | p (McNemar) |", "|---|---|---|---|---|"]
        for p in comp["bootstrap"]:
            mc = comp["mcnemar"].get(p["metric"])
            out.append(f"| {metric_label(p['metric'])} | {p['diff']:+.2f} | [{p['ci'][0]:+.2f}, {p['ci'][1]:+.2f}] | "
                       f"{p['p']:.3f} | {mc['p']:.3f} |" if mc else
                       f"| {metric_label(p['metric'])} | {p['diff']:+.2f} | [{p['ci'][0]:+.2f}, {p['ci'][1]:+.2f}] | "
                       f"{p['p']:.3f} | – |")
    return "\n".join(out) + ("\n" if out else "")


def breakdown_table(report: dict[str, Any], dim: str) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of closed-task accuracy by one breakdown (coarse class, fine label, phase, ...)."""
    keys = sorted({k for r in report["runs"] for k in r["breakdowns"].get(dim, {})})
    header = [dim, "n", *(r["name"] for r in report["runs"])]
    rows = []
    for k in keys:
        n = next(r["breakdowns"][dim][k]["n"] for r in report["runs"] if k in r["breakdowns"].get(dim, {}))
        cells = [f"{r['breakdowns'][dim][k]['accuracy']:.1f}" if k in r["breakdowns"].get(dim, {}) else "–"
                 for r in report["runs"]]
        rows.append([k, str(n), *cells])
    return header, rows


BREAKDOWNS = ("coarse class", "fine label", "body part", "phase", "direction")


def breakdowns_markdown(report: dict[str, Any]) -> str:
    out = []
    for dim in BREAKDOWNS:
        header, rows = breakdown_table(report, dim)
        if not rows:
            continue
        out += [f"\n### Closed-task accuracy (%) by {dim}\n", "| " + " | ".join(header) + " |",
                "|---|" + "---|" * (len(header) - 1)]
        out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + ("\n" if out else "")


def csv_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run: text starting with = + - @ (or tab / CR) gets a leading
    apostrophe, the OWASP advice against formula injection (a run named `=HYPERLINK(...)`)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def leaderboard_csv(report: dict[str, Any]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["model", *(x for m in METRICS for x in (m, f"{m} ci_lo", f"{m} ci_hi"))])
    for r in report["runs"]:
        row = [r["name"]]
        for m in METRICS:
            ci = r["ci95"][m] or (None, None)
            row += [r["metrics"][m], ci[0], ci[1]]
        w.writerow([csv_safe("" if v is None or v != v else v) for v in row])
    return buf.getvalue()


def write_tables(rep: dict, out: Path, paper: bool = True) -> str:
    """Write leaderboard.md, leaderboard.csv and report.json into `out`; returns the Markdown."""
    from mabench.data.io import atomic_write_text, write_json

    out.mkdir(parents=True, exist_ok=True)
    md = leaderboard_markdown(rep, paper)
    if rep.get("conditions_differ"):
        md += f"\n> Note: {rep['conditions_differ']}.\n"
    if rep.get("audit_split"):
        from mabench.report.split import split_markdown

        md += split_markdown(rep["audit_split"])
    if rep.get("reliance"):
        from mabench.report.reliance import reliance_markdown

        md += reliance_markdown(rep["reliance"])
    atomic_write_text(out / "leaderboard.md", md)
    atomic_write_text(out / "leaderboard.csv", leaderboard_csv(rep))
    write_json(out / "report.json", rep)
    return md
