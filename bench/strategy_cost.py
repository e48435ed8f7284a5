"""Cost of each prompt strategy relative to zero-shot, measured side by side with `mabench sweep`.

Builds a synthetic benchmark (`mabench.synth` clips through `mabench build`), splits its clips into a
development set and a few-shot support set, starts the test server (fixed latency per request; usage
counted from the request's size: 4 characters a token, 256 tokens an image; in "cot" shape mode it
reasons only when asked), and runs one sweep cell per strategy. The server is a fake: the scores it
gives say nothing about any model, only the requests, tokens and wall time are measured here.

    python bench/strategy_cost.py [--clips 24] [--latency 0.05] [--out /tmp/strategy_cost]
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
from pathlib import Path

import yaml

from mabench.builder.pipeline import BuildSettings, build
from mabench.sweep import load_config, run_sweep
from mabench.synth.generate import write_set
from mabench.testing.openai_server import Behaviour, FakeOpenAIServer

HERE = Path(__file__).resolve().parent

STRATEGIES = ["zero-shot", "cot", "definitions", "fewshot:2", "vote:5", "cot+fewshot:2+vote:3"]


def make_data(root: Path, n: int) -> tuple[Path, Path, Path]:
    """(development set, support set, clips): the build's test split and its training questions
    (other clips by construction)."""
    built = root / "built"
    if not (built / "benchmark.json").exists() or not json.loads((built / "benchmark.json").read_text()):
        shutil.rmtree(root / "built", ignore_errors=True)
        labels = write_set(root / "synth", n, seed=3, workers=2, subjects=6, min_s=1.5, max_s=2.5)
        build(root / "synth" / "clips", labels, built, BuildSettings(
            skeletons=str(root / "synth" / "skeletons"), flow=False, test_fraction=0.6, workers=2), log=lambda m: None)
    return built / "benchmark.json", built / "train_questions.json", root / "synth" / "clips"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=24)
    ap.add_argument("--latency", type=float, default=0.05)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--out", type=Path, default=Path("/tmp/strategy_cost"))
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    dev, support, clips = make_data(args.out, args.clips)
    key = {}
    for r in json.loads(dev.read_text()):
        key.setdefault(r["question"], r["answer"])
    shutil.rmtree(args.out / "sweep", ignore_errors=True)  # measure every cell fresh
    with FakeOpenAIServer(Behaviour(key=key, shape="cot", count_tokens=True, latency_s=args.latency)) as srv:
        cfg_path = args.out / "sweep.yaml"
        cfg_path.write_text(yaml.safe_dump({
            "benchmark": str(dev), "videos": str(clips), "model": "openai:test-model", "base_url": srv.base_url,
            "support": str(support), "support_videos": str(clips), "strategies": STRATEGIES, "frames": [8],
            "concurrency": args.concurrency, "n_boot": 1000}))
        res = run_sweep(load_config(cfg_path, args.out / "sweep"))
    base = next(c for c in res.cells if c.cell.strategy == "zero-shot")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout
    print(f"{res.clips} clips, {res.questions} questions, concurrency {args.concurrency}, server latency "
          f"{args.latency * 1000:.0f} ms/request; {platform.processor() or platform.machine()}, "
          f"commit {commit.strip()}\n")
    print("| strategy | requests/q | prompt tok/q | completion tok/q | wall s | requests × | prompt tok × | "
          "completion tok × | wall × |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in STRATEGIES:
        c = next(c for c in res.cells if c.cell.strategy == s)
        print(f"| {s} | {c.requests_per_q:.2f} | {c.prompt_tokens_per_q:.0f} | {c.completion_tokens_per_q:.1f} | "
              f"{c.wall_s:.2f} | {c.requests_per_q / base.requests_per_q:.2f} | "
              f"{c.prompt_tokens_per_q / base.prompt_tokens_per_q:.2f} | "
              f"{c.completion_tokens_per_q / base.completion_tokens_per_q:.2f} | {c.wall_s / base.wall_s:.2f} |")
    print("\n" + res.markdown)


if __name__ == "__main__":
    main()
