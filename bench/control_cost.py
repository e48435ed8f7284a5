"""What a full set of video controls costs next to one plain run: `mabench eval` plain, then `--control reverse,
shuffle, single, blank`, each its own process against the test server (its own process, 50 ms latency), all with
one `--frame-cache` folder (the plain run fills it; the controls read it); frames mode, then `reverse` in video
mode (the clip re-encoded losslessly) against a plain video run.

    python bench/control_cost.py [--clips 20] [--size 1080x1296]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mabench.synth import write_box_clip
from mabench.synth.questions import placeholder_records

LATENCY_S = 0.05


def run(cmd: list[str]) -> tuple[float, float]:
    """(wall s, CPU s of the child)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - t0, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=20)
    ap.add_argument("--size", default="1080x1296")
    args = ap.parse_args()
    w, h = (int(x) for x in args.size.split("x"))
    root = Path(tempfile.mkdtemp(prefix="control_cost_"))
    server = None
    try:
        # 4 distinct clips, hard-linked under the benchmark's names (each name is decoded anew)
        distinct = [write_box_clip(root / "src" / f"{i}.mp4", seconds=2.1, fps=30, width=w, height=h, seed=i)
                    for i in range(4)]
        (root / "clips").mkdir()
        for i in range(args.clips):
            os.link(distinct[i % 4], root / "clips" / f"clip_{i:03d}.mp4")
        bench = root / "bench.json"
        bench.write_text(json.dumps(placeholder_records(args.clips)))
        n = len(json.loads(bench.read_text()))
        server = subprocess.Popen([sys.executable, "-m", "mabench.testing.openai_server", "--port", "0", "--latency",
                                   str(LATENCY_S)], stdout=subprocess.PIPE, text=True, start_new_session=True)
        url = (server.stdout.readline() if server.stdout else "").split()[-1]
        base = [sys.executable, "-m", "mabench.cli", "eval", str(bench), "--videos", str(root / "clips"), "--model",
                "openai:test-model", "--base-url", url, "--no-progress", "--frame-cache", str(root / "cache")]
        print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; {args.clips} clips {w}x{h}, 2.1 s, 30 fps; "
              f"{n} questions a run; server latency {LATENCY_S * 1000:.0f} ms; one frame cache folder")
        print("| run | requests | wall s | CPU s |")
        print("|---|---|---|---|")
        total_wall = total_cpu = 0.0
        rows = []
        for control in ("none", "reverse", "shuffle", "single", "blank"):
            wall, cpu = run([*base, "--out", str(root / control), "--control", control])
            rows.append((control, wall, cpu))
            if control != "none":
                total_wall, total_cpu = total_wall + wall, total_cpu + cpu
        for control, wall, cpu in rows:
            label = "plain (fills the cache)" if control == "none" else f"--control {control}"
            print(f"| {label} | {n} | {wall:.1f} | {cpu:.1f} |")
        plain_wall, plain_cpu = rows[0][1], rows[0][2]
        print(f"| the 4 controls together | {4 * n} | {total_wall:.1f} ({total_wall / plain_wall:.1f}x the plain run) "
              f"| {total_cpu:.1f} ({total_cpu / plain_cpu:.1f}x) |")
        vw, vc = run([*base, "--out", str(root / "video"), "--video-mode", "video"])
        rw, rc = run([*base, "--out", str(root / "video_rev"), "--video-mode", "video", "--control", "reverse"])
        size = sum(p.stat().st_size for p in (root / "video_rev" / "controlled_clips").glob("*.mp4"))
        print(f"| video mode, plain | {n} | {vw:.1f} | {vc:.1f} |")
        print(f"| video mode, --control reverse (clips re-encoded losslessly: {size / args.clips / 2**20:.1f} MiB "
              f"each) | {n} | {rw:.1f} | {rc:.1f} |")
    finally:
        if server is not None:
            server.kill()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
