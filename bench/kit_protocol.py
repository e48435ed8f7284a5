"""`mabench eval --protocol kit` vs the official MAC 2026 runner, side by side in one run.

The first N clips' questions of the official question file (default 100 clips: 1,200 questions), on
stand-in clips of MA-52's size (1080x1296, 30 fps, 1.7-2.5 s: a few distinct clips hard-linked under
the benchmark's names, so every name is decoded anew), against the test server in its own process with
a fixed 50 ms latency. The reference runner is `../shared/reference/kit/run.py` (run from a temporary
copy; it reads `video` + ".mp4", so it gets the same questions in that form). Both send the same
requests (tests/test_kit_protocol.py checks that); this measures what it costs each to send them.

    python bench/kit_protocol.py [--clips 100] [--skip-reference]
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

HERE = Path(__file__).resolve().parent
SHARED = HERE.parent.parent / "shared"
OFFICIAL = SHARED / "data" / "mabench_questions_official.json"
KIT = SHARED / "reference" / "kit"
LATENCY_S = 0.05
MODEL = "bench-model"
DISTINCT = [(1.7, 0), (1.9, 1), (2.1, 2), (2.3, 3), (2.5, 4)]  # (seconds, seed): hard-linked to every name


def make_data(root: Path, n_clips: int) -> tuple[Path, Path, list[dict]]:
    from mabench.synth import write_box_clip

    questions = json.loads(OFFICIAL.read_text())
    names: list[str] = []
    for q in questions:
        if q["video_name"] not in names:
            names.append(q["video_name"])
        if len(names) > n_clips:
            break
    names = names[:n_clips]
    chosen = [q for q in questions if q["video_name"] in set(names)]
    base = root / "distinct"
    for seconds, seed in DISTINCT:
        p = base / f"d{seed}.mp4"
        if not p.exists():
            write_box_clip(p, seconds=seconds, fps=30, width=1080, height=1296, seed=seed)
    clips = root / "clips"
    shutil.rmtree(clips, ignore_errors=True)
    clips.mkdir()
    for i, name in enumerate(names):
        os.link(base / f"d{DISTINCT[i % len(DISTINCT)][1]}.mp4", clips / f"{name}.mp4")
    ours = root / "questions.json"
    ours.write_text(json.dumps(chosen))
    theirs = root / "questions_kit.json"  # the form the runner reads: `video`, without the suffix
    theirs.write_text(json.dumps([{"video": q["video_name"], **{k: v for k, v in q.items() if k != "video_name"}}
                                  for q in chosen]))
    return ours, theirs, chosen


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    r = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if r.returncode != 0:
        sys.exit(f"{cmd[:3]} failed:\n{r.stderr[-3000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1)}


def request_bytes(clip: Path) -> dict[str, int]:
    """The image payload of one request (base64 data URLs) under each protocol."""
    from mabench.evaluation.protocol import KIT_SAMPLING
    from mabench.video.cache import data_url
    from mabench.video.decode import sample_frames
    from mabench.video.sampling import SamplingConfig

    out = {}
    for name, cfg in (("kit", KIT_SAMPLING), ("mabench", SamplingConfig())):
        f = sample_frames(clip, cfg)
        out[name] = sum(len(data_url(j)) for j in f.jpegs)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clips", type=int, default=100)
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "mabench-kit-bench")
    ap.add_argument("--skip-reference", action="store_true")
    args = ap.parse_args()
    if not OFFICIAL.exists() or not (KIT / "run.py").exists():
        sys.exit("needs ../shared/data/mabench_questions_official.json and ../shared/reference/kit/run.py")
    root = args.work
    root.mkdir(parents=True, exist_ok=True)
    ours, theirs, chosen = make_data(root, args.clips)
    n = len(chosen)
    server = subprocess.Popen([sys.executable, "-m", "mabench.testing.openai_server", "--port", "0", "--model", MODEL,
                               "--latency", str(LATENCY_S)], stdout=subprocess.PIPE, text=True)
    base_url = server.stdout.readline().split()[-1]
    results: dict[str, dict] = {}
    try:
        if not args.skip_reference:
            runner = root / "runner"
            runner.mkdir(exist_ok=True)
            shutil.copy(KIT / "run.py", runner / "run.py")
            shutil.copy(KIT / "prompts.py", runner / "prompts.py")
            out = root / "ref.json"
            out.unlink(missing_ok=True)
            env = {**os.environ, "MODEL_NAME": MODEL, "INPUT_JSON": str(theirs), "VIDEO_DIR": str(root / "clips"),
                   "OUTPUT_JSON": str(out), "OPENAI_BASE_URL": base_url, "OPENAI_API_KEY": "EMPTY"}
            results["official runner (run.py, sequential)"] = timed([sys.executable, str(runner / "run.py")], env,
                                                                   runner)
        run = root / "run_kit"
        shutil.rmtree(run, ignore_errors=True)
        results["mabench eval --protocol kit (concurrency 16)"] = timed(
            [sys.executable, "-m", "mabench.cli", "eval", str(ours), "--videos", str(root / "clips"), "--model",
             f"openai:{MODEL}", "--base-url", base_url, "--out", str(run), "--no-progress", "--protocol", "kit",
             "--prompts", str(KIT / "prompts.py")])
    finally:
        server.terminate()
        server.wait(10)
    sizes = request_bytes(root / "distinct" / "d2.mp4")
    print(f"{n} questions on {args.clips} clips (1080x1296, 30 fps, 1.7-2.5 s), server latency "
          f"{LATENCY_S * 1000:.0f} ms; {platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print("| client | wall s | questions/s | client CPU s |")
    print("|---|---:|---:|---:|")
    for name, r in results.items():
        print(f"| {name} | {r['wall_s']} | {n / r['wall_s']:.2f} | {r['cpu_s']} |")
    if len(results) == 2:
        ref, ours = results.values()
        print(f"throughput, mabench over the runner: {ref['wall_s'] / ours['wall_s']:.1f}x")
    print(f"images per request, base64: kit {sizes['kit'] / 1e6:.2f} MB (8 full-resolution JPEG 95), mabench "
          f"protocol {sizes['mabench'] / 1e6:.2f} MB (8 at 640 px, JPEG 85): {sizes['kit'] / sizes['mabench']:.1f}x")


if __name__ == "__main__":
    main()
