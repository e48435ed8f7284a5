"""The `mabench` command."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from mabench import __version__
from mabench.data import BenchmarkError, duplicate_labels, load_benchmark, write_json
from mabench.data.predictions import read_answers_file
from mabench.evaluate.metrics import normalize_prediction, score
from mabench.report.tables import coverage_table, scores_table
from mabench.taxonomy import TASK_ORDER, TASKS

app = typer.Typer(
    help="Evaluate, build and report micro-action understanding benchmarks (MA-Bench) for MLLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr, then exit."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        console.print(f"mabench {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    pass


@app.command()
def info(bench: Path = typer.Argument(..., help="Benchmark file (official JSON list or JSONL).")) -> None:
    """Summarise a benchmark: clips, questions per task, answer and option-position balance."""
    try:
        b = load_benchmark(bench)
    except BenchmarkError as e:
        fail(str(e))
    counts = b.task_counts()
    per_clip = Counter(Counter(q.video_id for q in b).values())
    console.print(f"[bold]{bench}[/]  sha256 {b.sha256[:16]}…")
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


def _read_judgments(path: Path) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise BenchmarkError(f"{path}: invalid JSON at line {i} column {err.colno}: {err.msg}") from None
        if isinstance(row, dict) and isinstance(row.get("scores"), dict) and not row.get("judge_error"):
            out[str(row["qid"])] = row["scores"]
    return out


@app.command("score")
def score_cmd(
    predictions: Path = typer.Argument(..., help="Submission JSON or predictions JSONL."),
    key: Path = typer.Option(..., "--key", help="Benchmark file with answers."),
    judgments: Path | None = typer.Option(None, "--judgments", help="judgments.jsonl for MADU/MARE."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the scores as JSON here."),
) -> None:
    """Score predictions against a key; missing answers count as wrong."""
    try:
        bench = load_benchmark(key)
        if not bench.has_answers:
            fail(f"{key}: has no answers; pass a benchmark file with an 'answer' per question as --key")
        preds, _ = read_answers_file(predictions)
        judged = _read_judgments(judgments) if judgments else None
    except BenchmarkError as e:
        fail(str(e))
    by_qid = bench.by_qid
    unknown = [qid for qid in preds if qid not in by_qid]
    preds = {qid: normalize_prediction(p, by_qid[qid]) for qid, p in preds.items() if qid in by_qid}
    s = score(bench, preds, judged, missing_is_wrong=True)
    console.print(scores_table({predictions.name: s}))
    console.print(coverage_table(s))
    missing = sum(ts.missing for ts in s.tasks.values())
    if missing:
        console.print(f"[yellow]{missing} of {len(bench)} questions missing from {predictions}: "
                      "scored as wrong.[/]")
    if unknown:
        console.print(f"[yellow]{len(unknown)} answer(s) name qids not in the key (ignored), "
                      f"e.g. {unknown[0]}.[/]")
    for note in s.notes:
        console.print(f"note: {note}")
    if json_out:
        write_json(json_out, s.to_dict())
        console.print(f"scores written to {json_out}")


if __name__ == "__main__":  # pragma: no cover
    app()
