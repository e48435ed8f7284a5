"""`mabench demo`: the whole toolkit, offline, in about a minute on two CPU cores.

synthetic clips (`mabench synth`) -> a benchmark built from them (`mabench build`) -> the built-in
baselines evaluated on it (`mabench eval`; plus a tiny local transformers model when the `hf`
extra is installed) -> scores -> the report with plots and the HTML question browser.

Nothing is downloaded and no server is needed. The open tasks (MADU, MARE) need a judge model, so
the demo's scores are closed-task scores; the report says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

DEMO_CLIPS = 24


def run_demo(out: str | Path, clips: int = DEMO_CLIPS, seed: int = 0, workers: int = 2,
             log: Callable[[str], None] = print) -> dict:
    """Run every stage into `out`; returns {stage: seconds} and the report's index path."""
    from mabench.api import build, evaluate
    from mabench.builder.pipeline import BuildSettings
    from mabench.data import load_benchmark
    from mabench.evaluation.prompts import load_prompts
    from mabench.evaluation.run_setup import EvalSettings
    from mabench.models import make_backend
    from mabench.synth.generate import write_set

    out = Path(out)
    times: dict[str, float] = {}
    t = time.perf_counter()
    labels = write_set(out / "synth", clips, seed=seed, workers=workers, min_s=1.5, max_s=3.0)
    times["synth"] = time.perf_counter() - t
    log(f"1/4 synthetic clips: {clips} clips with exact keypoints in {out / 'synth'} ({times['synth']:.1f} s)")

    t = time.perf_counter()
    summary = build(out / "synth" / "clips", labels, out / "built",
                    BuildSettings(skeletons=str(out / "synth" / "skeletons"), seed=seed, test_fraction=1.0,
                                  workers=workers))
    times["build"] = time.perf_counter() - t
    log(f"2/4 benchmark: {summary['benchmark_questions']} questions from the clips' measured motion in "
        f"{out / 'built' / 'benchmark.json'} ({times['build']:.1f} s)")

    t = time.perf_counter()
    bench_path = out / "built" / "benchmark.json"
    bench = load_benchmark(bench_path)
    prompts = load_prompts(None)
    settings = EvalSettings(videos=out / "synth" / "clips")
    runs = []
    specs: list[tuple[str, dict[str, Any]]] = [("random", {}), ("prior", {"key": str(bench_path)})]
    for spec, kw in specs:
        run_dir = out / "runs" / spec
        backend = make_backend(spec, seed=seed, **kw)

        res = evaluate(bench, backend, run_dir, settings=settings, prompts=prompts, probe=False)
        runs.append(run_dir)
        log(f"    {spec}: closed AVG {res.scores.closed_avg:.2f}" if res.scores and res.scores.closed_avg is not None
            else f"    {spec}: done")
    hf = _hf_run(bench, settings, out / "runs", prompts, log)
    if hf is not None:
        runs.append(hf)
    times["eval"] = time.perf_counter() - t
    log(f"3/4 evaluated {len(runs)} models ({times['eval']:.1f} s)")

    t = time.perf_counter()
    index = write_report(runs, out / "report", out / "synth" / "clips", seed)
    times["report"] = time.perf_counter() - t
    log(f"4/4 report with plots and the question browser ({times['report']:.1f} s)")
    return {"seconds": times, "index": index, "benchmark": bench_path, "runs": runs}


def write_report(runs: list[Path], out: Path, videos: Path, seed: int = 0) -> Path:
    from mabench.api import report

    # paper=False: the paper's rows are MA-Bench numbers; this is a synthetic benchmark
    index = report(runs, out, n_boot=500, seed=seed, videos=videos, paper=False).index
    assert index is not None
    return index


def _hf_run(bench, settings, runs_dir: Path, prompts, log) -> Path | None:
    """A tiny randomly initialised Qwen3-VL through the `hf:` backend, when the hf extra is there."""
    import importlib.util

    if any(importlib.util.find_spec(m) is None for m in ("torch", "transformers", "tokenizers")):
        return None  # the hf extra is not installed: baselines only
    import dataclasses

    from mabench.api import evaluate
    from mabench.models import GenerationConfig, make_backend
    from mabench.testing import tiny_qwen3vl

    model_dir = runs_dir.parent / "tiny-qwen3-vl"
    if not model_dir.exists():
        tiny_qwen3vl.build(model_dir)
    backend = make_backend(f"hf:{model_dir}")
    run_dir = runs_dir / "tiny-qwen3-vl"
    # random weights never stop on their own: a short answer budget keeps the demo quick
    settings = dataclasses.replace(settings, gen=GenerationConfig(max_tokens=12))

    evaluate(bench, backend, run_dir, settings=settings, prompts=prompts, probe=False)
    log("    hf:tiny-qwen3-vl (random weights, to show the local-model path): done")
    return run_dir
