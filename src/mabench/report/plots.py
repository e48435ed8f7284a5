"""Headless PNG plots of a report (matplotlib, Agg backend): one function per figure."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display, ever
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from mabench.taxonomy import CLOSED_TASKS, OPEN_TO_PERCENT, TIERS  # noqa: E402

DPI = 110


def _save(fig, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def task_bars(report: dict[str, Any], path: Path) -> Path:
    """Per-task accuracy with 95% CIs, one bar per run."""
    metrics = [*CLOSED_TASKS, "closed AVG"]
    runs = report["runs"]
    width = 0.8 / max(1, len(runs))
    fig, ax = plt.subplots(figsize=(9, 4))
    x = np.arange(len(metrics))
    for i, r in enumerate(runs):
        vals = np.array([r["metrics"][m] if r["metrics"][m] is not None else np.nan for m in metrics])
        cis = [r["ci95"][m] or (np.nan, np.nan) for m in metrics]
        err = np.array([[v - lo for v, (lo, _) in zip(vals, cis, strict=True)],
                        [hi - v for v, (_, hi) in zip(vals, cis, strict=True)]])
        ax.bar(x + i * width - 0.4 + width / 2, vals, width, yerr=err, capsize=2, label=r["name"])
    ax.set_xticks(x, metrics)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Closed tasks, 95% clip-bootstrap CIs")
    ax.legend(fontsize=8)
    return _save(fig, path)


def tier_radar(report: dict[str, Any], path: Path) -> Path:
    """Three tiers per run on a 0-100 scale (interpretive = open AVG x 20; 0 when not judged)."""
    fig = plt.figure(figsize=(4, 4))
    ax = fig.add_subplot(projection="polar")
    angles = np.linspace(0, 2 * np.pi, len(TIERS), endpoint=False).tolist()
    for r in report["runs"]:
        m = r["metrics"]
        perceptual = np.nanmean([m["CMAR"], m["FMAR"]])
        relational = np.nanmean([m[t] for t in ("SAD", "MAD", "MAS", "PPR")])
        interp = (m["open AVG"] or 0) * OPEN_TO_PERCENT if m["open AVG"] == m["open AVG"] else 0
        vals = [perceptual, relational, interp]
        ax.plot(angles + angles[:1], vals + vals[:1], label=r["name"])
        ax.fill(angles + angles[:1], vals + vals[:1], alpha=0.15)
    ax.set_xticks(angles, [t.replace(" ", "\n") for t in TIERS], fontsize=9)
    ax.set_ylim(0, 100)
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Tiers (0-100)")
    return _save(fig, path)


def confusion_heatmap(conf: dict[str, dict[str, int]], title: str, path: Path) -> Path:
    """Rows: reference label; columns: predicted label (row-normalised)."""
    rows = sorted(conf)
    cols = sorted({c for v in conf.values() for c in v} | set(rows), key=lambda c: (c == "invalid", c))
    mat = np.array([[conf[r].get(c, 0) for c in cols] for r in rows], dtype=float)
    norm = mat / np.maximum(mat.sum(axis=1, keepdims=True), 1)
    cell = 0.42  # inches per cell: room for a count at 9 pt
    fig, ax = plt.subplots(figsize=(max(5.0, cell * len(cols) + 3.5), max(4.0, cell * len(rows) + 3.0)))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    for i in range(len(rows)):  # the count in each non-empty cell, dark on light and light on dark
        for j in range(len(cols)):
            if mat[i, j]:
                ax.text(j, i, f"{int(mat[i, j])}", ha="center", va="center", fontsize=9,
                        color="white" if norm[i, j] > 0.55 else "#222")
    ax.set_xticks(range(len(cols)), cols, rotation=60, ha="right", fontsize=9)
    ax.set_yticks(range(len(rows)), rows, fontsize=9)
    ax.set_xlabel("predicted", fontsize=10)
    ax.set_ylabel("reference", fontsize=10)
    ax.set_title(f"{title}: counts, colour = row share", fontsize=10)
    fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02).ax.tick_params(labelsize=9)
    return _save(fig, path)


def body_part_bars(report: dict[str, Any], path: Path) -> Path:
    """Closed-task accuracy by the body part a question names, one bar per run."""
    parts = sorted({p for r in report["runs"] for p in r["breakdowns"].get("body part", {})})
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(parts) + 2), 4))
    width = 0.8 / max(1, len(report["runs"]))
    x = np.arange(len(parts))
    for i, r in enumerate(report["runs"]):
        bd = r["breakdowns"].get("body part", {})
        ax.bar(x + i * width - 0.4 + width / 2, [bd.get(p, {}).get("accuracy", np.nan) for p in parts], width,
               label=r["name"])
    ax.set_xticks(x, parts, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel("accuracy (%)")
    ax.set_ylim(0, 100)
    ax.set_title("Closed-task accuracy by body part")
    ax.legend(fontsize=8)
    return _save(fig, path)


def all_plots(report: dict[str, Any], out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [task_bars(report, out / "tasks.png"), tier_radar(report, out / "tiers.png"),
             body_part_bars(report, out / "body_parts.png")]
    for i, r in enumerate(report["runs"]):
        for task in ("CMAR", "FMAR"):
            if r["confusion"].get(task):
                paths.append(confusion_heatmap(r["confusion"][task], f"{r['name']} {task}",
                                               out / f"confusion_{task}_{i}.png"))
    return paths
