"""`mabench info` and `mabench audit`: look at a benchmark file."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import typer
from rich.table import Table

from mabench.cli.common import app, console, fail, os_error_message
from mabench.data import BenchmarkError, duplicate_labels, load_benchmark
from mabench.taxonomy import TASK_ORDER, TASKS


@app.command()
def info(bench: Path = typer.Argument(..., metavar="BENCH",
                                      help="Benchmark file (official JSON list or JSONL).")) -> None:
    """Summarise a benchmark: clips, questions per task, answer and option-position balance."""
    try:
        b = load_benchmark(bench)
    except BenchmarkError as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e))
    counts = b.task_counts()
    per_clip = Counter(Counter(q.video_id for q in b).values())
    console.print(f"[bold]{bench}[/]  sha256 {(b.sha256 or '?')[:16]}…")
    console.print(f"{len(b)} questions, {len(b.videos)} clips, questions per clip: "
                  + ", ".join(f"{n}×{k}" for n, k in sorted(per_clip.items())))
    table = Table(title="Questions per task")
    for name in ("task", "tier", "questions", "answers", "answer balance"):
        table.add_column(name)
    for t in TASK_ORDER:
        if t not in counts:
            continue
        answers = Counter(q.answer for q in b if q.task == t and q.answer is not None)
        balance = "  ".join(f"{a}:{100 * n / sum(answers.values()):.1f}%"
                            for a, n in sorted(answers.items())) if answers and TASKS[t].closed else "–"
        table.add_row(t, TASKS[t].tier, str(counts[t]), str(sum(answers.values())), balance)
    console.print(table)
    dup = [q.qid for q in b if q.options and duplicate_labels(q.options)]
    if dup:
        console.print(f"[yellow]{len(dup)} question(s) list the same label under two letters "
                      f"(e.g. {dup[0]}); answers given as label text are ambiguous there.[/]")
    if not b.has_answers:
        console.print("No answers in this file: it can be evaluated, not used as a scoring key.")


@app.command("audit")
def audit_cmd(
    bench: Path = typer.Argument(..., metavar="BENCH", help="Benchmark file to audit (official JSON list or JSONL)."),
    reference: Path | None = typer.Option(None, "--reference", help="Compare the style with this benchmark "
                                          "(e.g. the official question file)."),
    out: Path = typer.Option(Path("audit"), "--out", help="Folder for audit.json and audit.md."),
    seed: int = typer.Option(0, "--seed", help="Seed of the models and the clip bootstrap."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds (grouped by clip)."),
) -> None:
    """Can the benchmark be answered without the video? Text-only blind baselines, cues, style vs a reference."""
    from mabench.audit import audit, leak_summary, skipped_line, write_audit

    try:
        b = load_benchmark(bench)
        ref = load_benchmark(reference) if reference else None
    except BenchmarkError as e:
        fail(str(e))
    res = audit(b, ref, seed=seed, folds=folds)
    path = write_audit(res, out)
    table = Table(title=f"Blind baselines (text only, {folds}-fold CV grouped by clip), %")
    for name in ("task", "questions", "majority", "blind [95% CI]", "leak [95% CI]"):
        table.add_column(name, justify="right")
    for t, row in leak_summary(res).items():
        if row["status"] != "ok":
            table.add_row(t, str(row["questions"]), "", row["status"], "")
            continue
        table.add_row(t, str(row["questions"]), f"{row['majority']:.1f}",
                      f"{row['blind']:.1f} [{row['blind_ci'][0]:.1f}, {row['blind_ci'][1]:.1f}]",
                      f"{row['leak']:+.1f} [{row['leak_ci'][0]:+.1f}, {row['leak_ci'][1]:+.1f}]")
    if res.blind:
        console.print(table)
    console.print("phrasing families: " + ", ".join(f"{t} {c.families}" for t, c in res.cues.tasks.items()))
    if res.skipped:
        console.print(skipped_line(res))
    if res.style is not None:
        console.print("style vs reference, two-sample AUC (0.5 = same style): " + ", ".join(
            f"{t} {s.auc:.3f}" if s.auc is not None else f"{t} –" for t, s in res.style.tasks.items()))
    console.print(f"{res.seconds:.1f} s; written: {path}, {path.parent / 'audit.md'}")
