"""Eval throughput: mabench at concurrency 1 and 16 vs the sequential reference, side by side.

Generates N clips (default 100, --size 640x480, 25 fps, 1-4 s) and 12 questions per clip, starts the
test server with a fixed 50 ms latency in its own process, then runs each variant as its own
process and reads its CPU time and peak RSS from wait4(). Also runs mabench on 10x the questions
(hard links to the same clips under other names, so each is decoded anew) to check that memory
stays flat.

    python bench/eval_throughput.py [--clips 100] [--scale 10] [--size 640x480] [--skip-reference]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

from mabench.synth import write_box_clip
from mabench.synth.questions import placeholder_records

HERE = Path(__file__).resolve().parent

LATENCY_S = 0.05
MODEL = "bench-model"


def make_data(root: Path, n_clips: int, scale: int, width: int, height: int) -> tuple[Path, Path, Path]:
    clips = root / "clips"
    marker = root / f"clips-{n_clips}-{width}x{height}.done"
    if not marker.exists():
        shutil.rmtree(clips, ignore_errors=True)
        rng = random.Random(0)
        for i in range(n_clips):
            write_box_clip(clips / f"clip_{i:03d}.mp4", seconds=rng.uniform(1.0, 4.0), fps=25, width=width,
                           height=height, seed=i)
        marker.touch()
    small = root / "bench.json"
    small.write_text(json.dumps(placeholder_records(n_clips)))
    # scale x: the same clips under other names (hard links: other paths, decoded anew)
    big_clips = root / "clips_big"
    shutil.rmtree(big_clips, ignore_errors=True)
    big_clips.mkdir()
    for k in range(scale):
        for i in range(n_clips):
            os.link(clips / f"clip_{i:03d}.mp4", big_clips / f"c{k:02d}_{i:03d}.mp4")
    big = root / "bench_big.json"
    recs = []
    for k in range(scale):
        for r in placeholder_records(n_clips, seed=k, video_format=f"c{k:02d}_{{:03d}}"):
            recs.append(dict(r, qid=f"{k:02d}_{r['qid']}"))
    big.write_text(json.dumps(recs))
    return small, big, big_clips


def measure(cmd: list[str], questions: int) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    _, status, ru = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{proc.stderr.read()}")
    cpu = ru.ru_utime + ru.ru_stime
    return {"questions": questions, "wall_s": wall, "q_per_s": questions / wall,
            "cpu_ms_per_q": 1000 * cpu / questions, "peak_rss_mb": ru.ru_maxrss / 1024}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=100)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--skip-reference", action="store_true")
    ap.add_argument("--size", default="640x480", help="clip size WxH")
    ap.add_argument("--work", type=Path, default=HERE / "out")
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    root = args.work / args.size
    root.mkdir(parents=True, exist_ok=True)
    small, big, big_clips = make_data(root, args.clips, args.scale, width, height)
    n = args.clips * 12

    server = subprocess.Popen([sys.executable, "-m", "mabench.testing.openai_server", "--port", "0", "--model", MODEL,
                               "--latency", str(LATENCY_S)], stdout=subprocess.PIPE, text=True)
    base_url = server.stdout.readline().split()[-1]
    results: dict[str, dict] = {}
    try:
        common = ["--model", f"openai:{MODEL}", "--base-url", base_url, "--no-progress", "--sampling", "fps3"]
        if not args.skip_reference:
            results["reference (sequential, re-decode per question)"] = measure(
                [sys.executable, str(HERE / "reference_runner.py"), str(small), str(root / "clips"), base_url, MODEL,
                 str(root / "ref.jsonl")], n)
        for c in (1, 16):
            out = root / f"run_c{c}"
            shutil.rmtree(out, ignore_errors=True)
            results[f"mabench eval --concurrency {c}"] = measure(
                [sys.executable, "-m", "mabench.cli", "eval", str(small), "--videos", str(root / "clips"),
                 "--out", str(out), "--concurrency", str(c), *common], n)
        if max(width, height) > 640:  # also with the reference's payload: full-size frames
            out = root / "run_fullsize"
            shutil.rmtree(out, ignore_errors=True)
            results["mabench eval --concurrency 16, full-size frames"] = measure(
                [sys.executable, "-m", "mabench.cli", "eval", str(small), "--videos", str(root / "clips"),
                 "--out", str(out), "--concurrency", "16", "--max-side", "100000", "--max-pixels", "1000000000",
                 *common], n)
        out = root / "run_big"
        shutil.rmtree(out, ignore_errors=True)
        results[f"mabench eval --concurrency 16, {args.scale}x questions"] = measure(
            [sys.executable, "-m", "mabench.cli", "eval", str(big), "--videos", str(big_clips), "--out", str(out),
             "--concurrency", "16", *common], n * args.scale)
    finally:
        server.terminate()
        server.wait()

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; server latency {LATENCY_S * 1000:.0f} ms; {args.clips} clips "
          f"of {args.size}, 1-4 s at 25 fps; frames: kit sampling (both), JPEG q85, max side 640 (mabench)")
    print("| variant | questions | wall s | q/s | client CPU ms/q | peak RSS MB |\n|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['questions']} | {r['wall_s']:.1f} | {r['q_per_s']:.1f} | {r['cpu_ms_per_q']:.2f} "
              f"| {r['peak_rss_mb']:.0f} |")
    ref = results.get("reference (sequential, re-decode per question)")
    if ref:
        speedup = results["mabench eval --concurrency 16"]["q_per_s"] / ref["q_per_s"]
        print(f"speed-up at concurrency 16 vs reference: {speedup:.1f}x")
    (root / "results.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
