"""A static HTML report: a folder that opens from disk (no server).

index.html (leaderboard, plots, question browser), questions.js (the data), browser.js (paging and
filters), plots/*.png, frames/*.jpg (thumbnails, when the clips are at hand). Model and judge output
is untrusted: the template autoescapes, the data is JSON with `<`, `>` and `&` escaped, and the
browser only ever sets it as text.
"""

from __future__ import annotations

import hashlib
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2

from mabench.data.io import Benchmark, atomic_write_text
from mabench.evaluation.metrics import is_correct
from mabench.evaluation.rundir import RunDir
from mabench.report.leaderboard import (
    BREAKDOWNS,
    _cell,
    breakdown_table,
    clip_labels,
    metric_label,
    question_tags,
    shown_metrics,
)
from mabench.taxonomy import OPEN_DIMENSIONS, TASK_ORDER

THUMB_FRAMES = 4
THUMB_SIDE = 160
# Text shown inline per answer in the question browser; the rest stays in the run's predictions.jsonl
# (12,000 questions x several runs of long replies would make questions.js hundreds of MB).
HTML_TEXT_CHARS = 2000


def clip_for_page(text: str | None, where: str, size: int | None = None, limit: int = HTML_TEXT_CHARS) -> str | None:
    """`text` cut to `limit` characters, with a marker saying how big it was (`size`: the model's
    whole reply, when eval already capped it) and where more of it is."""
    if text is None or (len(text) <= limit and size is None):
        return text
    size = size or len(text.encode("utf-8"))
    return text[:limit] + f"\n… [truncated, {size} bytes; more in {where}]"


def _safe_json(obj: Any) -> str:
    """JSON that cannot end a <script> element or open a tag, whatever strings it holds."""
    return (json.dumps(obj, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("&", "\\u0026").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _thumb_name(video_id: str, i: int) -> str:
    stem = re.sub(r"[^A-Za-z0-9_-]", "_", video_id)[:40]
    return f"{stem}_{hashlib.sha1(video_id.encode()).hexdigest()[:8]}_{i}.jpg"


def write_thumbnails(bench: Benchmark, videos: Path, out: Path) -> dict[str, list[str]]:
    """A few small frames per clip; a clip that cannot be read simply has none."""
    from mabench.evaluation.run_setup import resolve_clip
    from mabench.video.decode import VideoError, sample_frames
    from mabench.video.sampling import SamplingConfig

    cfg = SamplingConfig(num_frames=THUMB_FRAMES, max_side=THUMB_SIDE, max_pixels=None, jpeg_quality=70)
    out.mkdir(parents=True, exist_ok=True)
    thumbs: dict[str, list[str]] = {}
    for q in bench:
        if q.video_id in thumbs:
            continue
        try:
            frames = sample_frames(resolve_clip(videos, q.video), cfg)
        except VideoError:
            thumbs[q.video_id] = []
            continue
        names = []
        for i, jpg in enumerate(frames.jpegs):
            name = _thumb_name(q.video_id, i)
            (out / name).write_bytes(jpg)
            names.append(f"frames/{name}")
        thumbs[q.video_id] = names
    return thumbs


OVERLAY_WIDTH = 1400  # contact sheets are re-encoded as JPEG at this width: a page of them stays light


def copy_overlays(bench: Benchmark, overlays: Path, out: Path) -> dict[str, str]:
    """The contact sheets `mabench build --overlay` wrote for the benchmark's clips, as JPEGs in `out`;
    video id -> path relative to the report. Clips without one are left out."""
    import cv2

    found: dict[str, str] = {}
    for vid in dict.fromkeys(q.video_id for q in bench):
        src = overlays / f"{vid}.png"
        img = cv2.imread(str(src)) if src.is_file() else None
        if img is None:
            continue
        scale = min(1.0, OVERLAY_WIDTH / img.shape[1])
        img = cv2.resize(img, (int(img.shape[1] * scale), int(img.shape[0] * scale)), interpolation=cv2.INTER_AREA)
        out.mkdir(parents=True, exist_ok=True)
        name = f"{_thumb_name(vid, 0).rsplit('_', 1)[0]}.jpg"
        cv2.imwrite(str(out / name), img, [cv2.IMWRITE_JPEG_QUALITY, 85])
        found[vid] = f"{out.name}/{name}"
    return found


def question_rows(bench: Benchmark, run_paths: list[Path], thumbs: dict[str, list[str]],
                  overlays: dict[str, str] | None = None) -> list[dict]:
    labels = clip_labels(bench)
    per_run = []
    for p in run_paths:
        run = RunDir(p)
        preds = run.predictions(None)
        judg: dict[str, dict] = {}
        for (qid, _), row in run.judgments().items():
            judg.setdefault(qid, row)  # first judge's record; several judges are averaged in scores
        per_run.append((preds, judg, p.name))
    rows = []
    for q in bench:
        runs = []
        for preds, judg, name in per_run:
            pr = preds.get(q.qid)
            j = judg.get(q.qid)
            reason = (j.get("reason") or j.get("judge_error")) if j else None
            cut = (pr.extra.get("truncated") or {}) if pr else {}
            runs.append({
                "pred": clip_for_page(pr.pred_answer, f"{name}/predictions.jsonl") if pr else None,
                "raw": clip_for_page(pr.raw_output, f"{name}/predictions.jsonl", cut.get("raw_output_bytes"))
                if pr else None,
                "method": pr.method if pr else "missing", "error": pr.error if pr else None,
                "correct": bool(q.spec.closed and is_correct(pr, q.answer)),
                "judge": {"scores": j.get("scores"),
                          "reason": clip_for_page(reason, f"{name}/judgments.jsonl")}
                if j else None,
            })
        rows.append({"qid": q.qid, "task": q.task, "closed": q.spec.closed, "video": q.video_id,
                     "question": q.question, "answer": q.answer,
                     "parts": question_tags(q, labels)["body part"], "frames": thumbs.get(q.video_id, []),
                     "overlay": (overlays or {}).get(q.video_id), "runs": runs})
    return rows


def write_html(report: dict[str, Any], bench: Benchmark, run_paths: list[Path], out: Path,
               plots: list[Path], videos: Path | None = None) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    thumbs = write_thumbnails(bench, videos, out / "frames") if videos else {}
    # a benchmark made by `mabench build --overlay` has its contact sheets beside it
    sheets = Path(report["benchmark"]["path"]).parent / "overlays"
    overlays = copy_overlays(bench, sheets, out / "overlays") if sheets.is_dir() else {}
    rows = question_rows(bench, run_paths, thumbs, overlays)
    atomic_write_text(out / "questions.js", "window.MABENCH_QUESTIONS = " + _safe_json(rows) + ";\n"
                      "window.MABENCH_DIMENSIONS = " + _safe_json(OPEN_DIMENSIONS) + ";\n")
    templates = resources.files("mabench.report").joinpath("templates")
    atomic_write_text(out / "browser.js", templates.joinpath("browser.js").read_text())
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    tpl = env.from_string(templates.joinpath("index.html.j2").read_text())
    parts = sorted({p for r in rows for p in r["parts"]})
    tables = [(dim, breakdown_table(report, dim)) for dim in BREAKDOWNS]
    html = tpl.render(title=", ".join(r["name"] for r in report["runs"]), benchmark=report["benchmark"],
                      bootstrap=report["bootstrap"], runs=report["runs"], paper=report["paper"],
                      metrics=shown_metrics(report), label=metric_label, cell=_cell,
                      plots=[str(p.relative_to(out)) for p in plots], tasks=TASK_ORDER, parts=parts,
                      split=report.get("audit_split"), paired=report["paired"], reliance=report.get("reliance"),
                      breakdowns=[(dim, t) for dim, t in tables if t[1]])
    atomic_write_text(out / "index.html", html)
    return out / "index.html"


def write_html_report(rep: dict, runs: list[Path], out: Path, videos: Path | None = None) -> Path:
    """Plots and index.html for a built report (needs the report extra); returns index.html."""
    from mabench.data import load_benchmark
    from mabench.report.plots import all_plots

    bench = load_benchmark(rep["benchmark"]["path"])
    return write_html(rep, bench, runs, out, all_plots(rep, out / "plots"), videos)
