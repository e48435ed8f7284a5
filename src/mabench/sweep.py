"""`mabench sweep CONFIG.yaml`: a grid of prompt strategies x prompt files x frame settings on one
answered development set, then which cells really beat a baseline cell.

Each cell is an ordinary run directory (`OUT/cells/NAME`, resumable like `mabench eval`); all cells
share one on-disk frame cache (`OUT/frame_cache`). The ranking is by closed score: closed AVG when the
six closed tasks are asked, else the mean accuracy of the closed tasks asked. Beside each cell: a
95% clip-bootstrap CI, the paired bootstrap difference to the baseline cell with its p-value (the same
clip resamples for both cells, `report.stats`), and the cost per question from the servers' usage.

Config (YAML)::

    benchmark: dev.json            # answered benchmark (e.g. 100 clips)
    videos: clips/
    model: openai:Qwen/Qwen3-VL-8B-Instruct
    base_url: http://127.0.0.1:8000/v1
    tasks: [CMAR, FMAR, SAD]       # optional
    support: support.json          # fewshot:K only: answered, other clips
    support_videos: support_clips/
    strategies: [zero-shot, cot, definitions, "fewshot:2", "vote:5"]
    prompts: {default: null, terse: terse.yaml}   # or a list of files (null: the registry's)
    frames: [8, 16]
    sampling: [uniform]
    controls: [none, reverse, shuffle, single, blank]   # what the clip shows (mabench.evaluation.controls)
    baseline: zero-shot            # a cell name; default the first cell without a control
    concurrency: 8
    seed: 0

Without `strategies` / `prompts` / `frames` / `sampling` / `controls` the sweep is one zero-shot cell.
"""

from __future__ import annotations

import html
import itertools
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from mabench import defaults
from mabench.data.io import Benchmark, load_benchmark, write_json
from mabench.evaluation.controls import Control
from mabench.evaluation.results import score_run
from mabench.evaluation.rundir import RunDir
from mabench.evaluation.strategies import parse_strategy
from mabench.report.stats import (
    DEFAULT_BOOTSTRAP,
    ClipTable,
    bootstrap_metrics,
    bootstrap_p,
    clip_table,
    percentile_ci,
    replicate_weights,
)
from mabench.taxonomy import CLOSED_TASKS
from mabench.video.sampling import DEFAULT_NUM_FRAMES, DEFAULT_STRATEGY

# Fewer clips than this, or a baseline CI wider than this many points either side, and small
# differences between cells are noise: the sweep says so.
MIN_CLIPS = 50
MAX_CI_HALF_WIDTH = 5.0
AXES = ("strategies", "prompts", "frames", "sampling", "controls")
KEYS = {"benchmark", "videos", "model", "base_url", "tasks", "support", "support_videos", "baseline", "out",
        "concurrency", "seed", "n_boot", "api_key_env", "request_timeout", *AXES}


class SweepError(ValueError):
    """A sweep config that cannot run; the message says what to fix."""


@dataclass(frozen=True)
class Cell:
    strategy: str
    prompts: str  # the prompt axis' name ("default": the registry's prompts)
    prompts_file: str | None
    frames: int
    sampling: str
    control: str = "none"  # named only when there is one: a sweep's cells keep their names (and folders)

    @property
    def name(self) -> str:
        return f"{self.strategy}, prompts={self.prompts}, frames={self.frames}, {self.sampling}" + \
            (f", control={self.control}" if self.control != "none" else "")

    @property
    def dirname(self) -> str:
        return "".join(c if c.isalnum() or c in "+-_." else "-" for c in self.name.replace(", ", "__"))


@dataclass
class SweepConfig:
    benchmark: Path
    videos: Path | None
    model: str
    base_url: str | None
    out: Path
    cells: list[Cell]
    baseline: str
    tasks: list[str] | None = None
    support: Path | None = None
    support_videos: Path | None = None
    concurrency: int = defaults.CONCURRENCY
    seed: int = 0
    n_boot: int = DEFAULT_BOOTSTRAP
    api_key_env: str = defaults.API_KEY_ENV
    request_timeout: float = defaults.REQUEST_TIMEOUT_S


def _list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, int, float)):
        return [value]
    if isinstance(value, list) and value:
        return value
    raise SweepError(f"{name}: expected a value or a non-empty list")


def load_config(path: str | Path, out: str | Path | None = None) -> SweepConfig:
    """The sweep in `path` (relative paths are relative to the config's folder)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise SweepError(f"{path}: cannot read ({e.strerror})") from None
    except yaml.YAMLError as e:
        raise SweepError(f"{path}: not valid YAML: {str(e).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise SweepError(f"{path}: expected a mapping (benchmark, videos, model, ...)")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        raise SweepError(f"{path}: unknown keys {', '.join(unknown)}; expected some of {', '.join(sorted(KEYS))}")
    for k in ("benchmark", "model"):
        if not data.get(k):
            raise SweepError(f"{path}: '{k}' is required")
    here = path.parent

    def rel(v: Any) -> Path | None:
        return None if v is None else (here / str(v))

    strategies = [parse_strategy(str(s)).name for s in _list(data.get("strategies"), "strategies")] or ["zero-shot"]
    raw_prompts = data.get("prompts")
    if isinstance(raw_prompts, dict):
        prompts = [(str(k), str(rel(v)) if v is not None else None) for k, v in raw_prompts.items()]
    else:
        prompts = [(Path(str(v)).stem if v is not None else "default", str(rel(v)) if v is not None else None)
                   for v in _list(raw_prompts, "prompts")] or [("default", None)]
    frames = [int(f) for f in _list(data.get("frames"), "frames")] or [DEFAULT_NUM_FRAMES]
    sampling = [str(s) for s in _list(data.get("sampling"), "sampling")] or [DEFAULT_STRATEGY]
    controls = [Control(str(c)).name for c in _list(data.get("controls"), "controls")] or ["none"]
    cells = [Cell(s, pn, pf, f, sm, c) for s, (pn, pf), f, sm, c in
             itertools.product(strategies, prompts, frames, sampling, controls)]
    names = [c.name for c in cells]
    if len(set(names)) != len(names):
        raise SweepError(f"{path}: two cells have the same name; give the prompt files distinct names")
    # default: the first cell that shows the clip as it is (a control is never the baseline unless named)
    baseline = str(data.get("baseline") or next((c.name for c in cells if c.control == "none"), names[0]))
    matches = [n for n in names if n == baseline or n.split(", ")[0] == baseline]
    if not matches:
        raise SweepError(f"{path}: baseline {baseline!r} is not a cell; cells: {', '.join(names)}")
    if any(parse_strategy(s).fewshot for s in strategies) and not data.get("support"):
        raise SweepError(f"{path}: a fewshot strategy needs 'support' (an answered benchmark of other clips)")
    tasks = data.get("tasks")
    return SweepConfig(
        benchmark=here / str(data["benchmark"]), videos=rel(data.get("videos")), model=str(data["model"]),
        base_url=data.get("base_url"), out=Path(out) if out else rel(data.get("out")) or here / f"sweep-{path.stem}",
        cells=cells, baseline=matches[0], tasks=[str(t) for t in _list(tasks, "tasks")] or None,
        support=rel(data.get("support")), support_videos=rel(data.get("support_videos")),
        concurrency=int(data.get("concurrency", defaults.CONCURRENCY)), seed=int(data.get("seed", 0)),
        n_boot=int(data.get("n_boot", DEFAULT_BOOTSTRAP)),
        api_key_env=str(data.get("api_key_env", defaults.API_KEY_ENV)),
        request_timeout=float(data.get("request_timeout", defaults.REQUEST_TIMEOUT_S)))


@dataclass
class CellResult:
    cell: Cell
    run: str
    score: float | None  # closed score, percent
    ci: tuple[float, float] | None
    diff: float | None = None  # minus the baseline cell
    diff_ci: tuple[float, float] | None = None
    p: float | None = None
    requests_per_q: float = 0.0
    prompt_tokens_per_q: float | None = None
    completion_tokens_per_q: float | None = None
    wall_s: float | None = None  # the cell's last run (None: answered by an earlier sweep run)
    invalid_pct: float = 0.0
    errors: int = 0
    final: float | None = None  # the run's final score once every open answer is judged (`mabench judge`)


@dataclass
class SweepResult:
    out: Path
    metric: str
    baseline: str
    clips: int
    questions: int
    cells: list[CellResult]  # best first
    warnings: list[str] = field(default_factory=list)
    markdown: str = ""
    n_boot: int = DEFAULT_BOOTSTRAP

    def to_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "baseline": self.baseline, "n_boot": self.n_boot, "clips": self.clips,
                "questions": self.questions,
                "warnings": self.warnings,
                "cells": [{**{k: v for k, v in asdict(c).items() if k != "cell"}, "cell": c.cell.name,
                           **asdict(c.cell)} for c in self.cells]}


def _closed_score(metrics: dict[str, np.ndarray], tasks: list[str]) -> np.ndarray:
    """closed AVG over the closed tasks asked (the same number as closed AVG when all six are)."""
    return np.mean(np.stack([metrics[t] for t in tasks]), axis=0)


def _cost(run: RunDir, bench: Benchmark) -> tuple[float, float | None, float | None, float, int]:
    """(requests, prompt tokens, completion tokens) per question, invalid share (%), errors."""
    preds = run.predictions(None)  # usage and the vote's samples are not scoring fields
    n = max(1, len(bench))
    requests = prompt = completion = 0
    have_usage = False
    invalid = errors = 0
    for q in bench:
        p = preds.get(q.qid)
        if p is None:
            continue
        samples = p.extra.get("samples")
        requests += len(samples) if isinstance(samples, list) else int(p.extra.get("attempts", 1))
        if p.usage:
            have_usage = True
            prompt += int(p.usage.get("prompt_tokens", 0))
            completion += int(p.usage.get("completion_tokens", 0))
        errors += p.error is not None
        invalid += p.error is None and q.spec.closed and p.pred_answer is None
    return (requests / n, prompt / n if have_usage else None, completion / n if have_usage else None,
            100.0 * invalid / n, errors)


def run_sweep(config: SweepConfig, *, force: bool = False, log: Callable[[str], None] = lambda m: None) -> SweepResult:
    """Run every cell not yet finished (each resumes), then rank them against the baseline cell."""
    from mabench.evaluation.api import evaluate

    bench = load_benchmark(config.benchmark).select(config.tasks, None)
    if not bench.has_answers:
        raise SweepError(f"{config.benchmark}: a sweep needs a benchmark with answers")
    closed = [t for t in CLOSED_TASKS if any(q.task == t for q in bench)]
    if not closed:
        raise SweepError("the sweep ranks cells by closed accuracy; ask at least one closed task")
    config.out.mkdir(parents=True, exist_ok=True)
    cache = config.out / "frame_cache"
    state_path = config.out / "cells.json"
    state = json.loads(state_path.read_text()) if state_path.exists() else {}
    from mabench.evaluation.protocol import Protocol
    from mabench.evaluation.run_setup import EvalSettings, RunFailed
    from mabench.models.base import GenerationConfig
    from mabench.video.sampling import SamplingConfig

    support = load_benchmark(config.support) if config.support else None
    for i, cell in enumerate(config.cells, 1):
        out = config.out / "cells" / cell.dirname
        log(f"[{i}/{len(config.cells)}] {cell.name}")
        # `sampling: kit` in a sweep is the official runner's protocol (its frames and requests)
        protocol = Protocol("kit" if cell.sampling == "kit" else "mabench")
        settings = EvalSettings(videos=config.videos, protocol=protocol,
                                sampling=protocol.sampling(SamplingConfig(
                                    strategy="uniform" if protocol.is_kit else cell.sampling, num_frames=cell.frames)),
                                gen=GenerationConfig(seed=config.seed or None), concurrency=config.concurrency,
                                request_timeout_s=config.request_timeout, disk_cache=cache,
                                strategy=parse_strategy(cell.strategy), support=support,
                                support_videos=config.support_videos, control=Control(cell.control, config.seed))
        # a sweep run again re-asks its cells' failed questions; a cell whose requests mostly failed is
        # said in one line and the sweep goes on (the cell ranks with its partial scores)
        try:
            res = evaluate(bench, config.model, out, base_url=config.base_url, api_key_env=config.api_key_env,
                           prompts=cell.prompts_file, settings=settings, force=force, retry_errors=True)
        except RunFailed as err:
            log(f"[{i}/{len(config.cells)}] {cell.name}: {str(err).split('; fix it')[0]}; running the sweep again "
                "re-asks them")
            continue
        if res.asked:  # wall time of a cell is the run that asked its questions, not a no-op resume
            state[cell.name] = {"wall_s": round(res.elapsed_s, 3), "asked": res.asked}
            write_json(state_path, state)
    return rank(config, bench, closed, state)


def rank(config: SweepConfig, bench: Benchmark, closed: list[str], state: dict[str, Any]) -> SweepResult:
    weights = replicate_weights(len(bench.videos), config.n_boot, config.seed)
    tables: dict[str, ClipTable] = {}
    results: dict[str, CellResult] = {}
    boots: dict[str, np.ndarray] = {}
    for cell in config.cells:
        run = RunDir(config.out / "cells" / cell.dirname)
        table = clip_table(bench, run.predictions())
        tables[cell.name] = table
        boot = _closed_score(bootstrap_metrics(table, weights, False), closed)
        point = float(_closed_score(bootstrap_metrics(table, np.ones((1, len(table.clips))), False), closed)[0])
        boots[cell.name] = boot
        req, pt, ct, inv, err = _cost(run, bench)
        final = score_run(run.path, bench, write=False)[0].final  # None until the cell is fully judged
        results[cell.name] = CellResult(cell, str(run.path), round(point, 2), _round(percentile_ci(boot)),
                                        requests_per_q=round(req, 3),
                                        prompt_tokens_per_q=None if pt is None else round(pt, 1),
                                        completion_tokens_per_q=None if ct is None else round(ct, 1),
                                        wall_s=(state.get(cell.name) or {}).get("wall_s"), invalid_pct=round(inv, 2),
                                        errors=err, final=None if final is None else round(final, 2))
    base = results[config.baseline]
    for name, r in results.items():
        if name == config.baseline or r.score is None or base.score is None:
            continue
        d = boots[name] - boots[config.baseline]
        d = d[~np.isnan(d)]
        r.diff = round(r.score - base.score, 2)
        r.diff_ci = _round(percentile_ci(d))
        r.p = round(bootstrap_p(d), 4)
    metric = "closed AVG" if len(closed) == len(CLOSED_TASKS) else f"closed accuracy ({', '.join(closed)})"
    if all(r.final is not None for r in results.values()):  # every cell judged: the benchmark's own score ranks
        ordered = sorted(results.values(), key=lambda r: -(r.final or 0.0))
        metric = f"final score (closed and judged open answers); Δ and p on {metric}"
    else:
        ordered = sorted(results.values(), key=lambda r: -(r.score if r.score is not None else -1))
    warnings = []
    n_clips = len(bench.videos)
    half = (base.ci[1] - base.ci[0]) / 2 if base.ci else float("inf")
    if n_clips < MIN_CLIPS or half > MAX_CI_HALF_WIDTH:
        ci = f"; the baseline's 95% CI is ±{half:.1f} points" if half > 0 else ""
        warnings.append(f"the development set is small ({n_clips} clips, {len(bench)} questions{ci}): differences "
                        f"of a few points between cells are noise at this size; use at least {MIN_CLIPS} clips "
                        "and read the p-values, not the order")
    res = SweepResult(config.out, metric, config.baseline, n_clips, len(bench), ordered, warnings,
                      n_boot=config.n_boot)
    res.markdown = sweep_markdown(res)
    write_json(config.out / "sweep.json", res.to_dict())
    (config.out / "sweep.md").write_text(res.markdown, encoding="utf-8")
    (config.out / "sweep.html").write_text(sweep_html(res), encoding="utf-8")
    return res


def _round(ci: tuple[float, float]) -> tuple[float, float] | None:
    if any(np.isnan(v) for v in ci):
        return None
    return (round(ci[0], 2), round(ci[1], 2))


def _p(p: float | None, n_boot: int) -> str:
    """A bootstrap p-value of 0 only says "below 1 in n_boot"."""
    return "–" if p is None else f"<{1 / n_boot:.4f}" if p == 0 else f"{p:.4f}"


def _fmt(v: float | None, digits: int = 2) -> str:
    return "–" if v is None else f"{v:.{digits}f}"


HEADER = ("rank", "cell", "score", "95% CI", "Δ vs baseline", "Δ 95% CI", "p", "final", "requests/q",
          "prompt tok/q", "completion tok/q", "wall s", "invalid %")


def _rows(res: SweepResult) -> list[list[str]]:
    rows = []
    for i, c in enumerate(res.cells, 1):
        ci = f"[{c.ci[0]:.1f}, {c.ci[1]:.1f}]" if c.ci else "–"
        dci = f"[{c.diff_ci[0]:+.1f}, {c.diff_ci[1]:+.1f}]" if c.diff_ci else "–"
        name = c.cell.name + (" (baseline)" if c.cell.name == res.baseline else "")
        rows.append([str(i), name, _fmt(c.score), ci, "–" if c.diff is None else f"{c.diff:+.2f}", dci,
                     _p(c.p, res.n_boot), _fmt(c.final), _fmt(c.requests_per_q), _fmt(c.prompt_tokens_per_q, 0),
                     _fmt(c.completion_tokens_per_q, 0), _fmt(c.wall_s, 1), _fmt(c.invalid_pct, 1)])
    return rows


def sweep_markdown(res: SweepResult) -> str:
    lines = [f"# Sweep: {len(res.cells)} cells on {res.clips} clips ({res.questions} questions)", "",
             f"Ranked by {res.metric}; Δ and p: paired clip bootstrap against the baseline cell "
             "(the same clip resamples for both).", ""]
    lines += [f"> warning: {w}" for w in res.warnings] + ([""] if res.warnings else [])
    lines += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(r) + " |" for r in _rows(res)]
    return "\n".join(lines) + "\n"


def sweep_html(res: SweepResult) -> str:
    e = html.escape
    warn = "".join(f'<p class="warn">warning: {e(w)}</p>' for w in res.warnings)
    head = "".join(f"<th>{e(h)}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in _rows(res))
    return (f'<!doctype html><html><head><meta charset="utf-8"><title>mabench sweep</title><style>'
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
            "padding:4px 8px;text-align:right}td:nth-child(2){text-align:left}.warn{color:#a40}</style></head><body>"
            f"<h1>Sweep: {len(res.cells)} cells on {res.clips} clips ({res.questions} questions)</h1>"
            f"<p>Ranked by {e(res.metric)}; Δ and p: paired clip bootstrap against the baseline cell.</p>{warn}"
            f"<table><tr>{head}</tr>{body}</table></body></html>\n")
