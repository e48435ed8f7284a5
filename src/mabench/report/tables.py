"""Score tables in the paper's column order, for the terminal and for Markdown."""

from __future__ import annotations

from rich.table import Table

from mabench.evaluation.metrics import Scores


def fmt(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


def scores_table(runs: dict[str, Scores], title: str = "MA-Bench scores") -> Table:
    """Metrics down (CMAR..PPR, closed AVG, MADU L1-L3, MARE L1-L3, open AVG, final), one column per
    run: fits a terminal however many metrics there are. Accuracies in %, open dimensions 0-5."""
    table = Table(title=title)
    table.add_column("metric")
    for name in runs:
        table.add_column(name, justify="right")
    columns = [s.columns() for s in runs.values()]
    for metric in columns[0]:
        table.add_row(metric, *(fmt(c[metric]) for c in columns))
    if any(s.mare_labels for s in runs.values()):  # deterministic, beside the judge's L1/L2
        table.add_section()
        table.add_row("MARE coarse label acc (parsed)",
                      *(fmt(s.mare_labels.coarse if s.mare_labels else None) for s in runs.values()))
        table.add_row("MARE fine label acc (parsed)",
                      *(fmt(s.mare_labels.fine if s.mare_labels else None) for s in runs.values()))
    return table


def coverage_table(scores: Scores) -> Table:
    table = Table(title="Coverage")
    for name in ("task", "questions", "answered", "correct", "invalid", "errors", "missing", "judged"):
        table.add_column(name, justify="right")
    for t, ts in scores.tasks.items():
        correct = str(ts.correct) if ts.accuracy is not None else "–"
        table.add_row(t, str(ts.total), str(ts.answered), correct, str(ts.invalid), str(ts.errors),
                      str(ts.missing), str(ts.judged) if ts.accuracy is None else "–")
    return table
