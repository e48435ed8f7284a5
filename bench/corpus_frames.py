"""What `mabench build --corpus-frames 8` costs, and what it saves `mabench train`, side by side in one run.

N stand-in clips of MA-52's size (1080x1296, 30 fps, 2.1 s, h264; 4 distinct ones hard-linked under N names). Measured:
1. writing the corpus frames (`mabench.builder.corpus.corpus_frames`: eval's sampler, 8 frames, the JPEG
   bytes written) with 1 and 2 threads, and the disk they take;
2. what `mabench train`'s collator does per clip to get its frames: read the 8 corpus JPEGs, against
   sampling the mp4 again (its path without corpus frames), both decoded to arrays.

    python bench/corpus_frames.py [--clips 40]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from mabench.builder.corpus import FRAMES_DIR, corpus_frames
from mabench.models.qwen_vl import decode_jpegs
from mabench.synth.simple import write_box_clip
from mabench.video import SamplingConfig, sample_frames


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=40)
    n = ap.parse_args().clips
    work = Path(tempfile.mkdtemp(prefix="corpus_frames_"))
    try:
        print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; {n} clips 1080x1296, "
              "30 fps, 2.1 s")
        # 4 distinct clips, hard-linked under N names: every name is decoded anew
        distinct = [write_box_clip(work / "src" / f"{i}.mp4", seconds=2.1, fps=30, width=1080, height=1296, seed=i)
                    for i in range(4)]
        videos = {}
        for i in range(n):
            videos[f"clip_{i:03d}"] = work / "clips" / f"clip_{i:03d}.mp4"
            videos[f"clip_{i:03d}"].parent.mkdir(parents=True, exist_ok=True)
            os.link(distinct[i % 4], videos[f"clip_{i:03d}"])
        cfg = SamplingConfig(num_frames=8)
        for workers in (1, 2):
            out = work / f"corpus_{workers}"
            t0 = time.perf_counter()
            frames, problems = corpus_frames(videos, out, cfg, workers)
            wall = time.perf_counter() - t0
            assert len(frames) == n and not problems
            size = sum(f.stat().st_size for f in (out / FRAMES_DIR).rglob("*.jpg"))
            print(f"write corpus frames, {workers} thread(s): {wall:.2f} s, {wall / n * 1000:.0f} ms/clip; "
                  f"{size / n / 1024:.0f} KiB/clip on disk")
        t0 = time.perf_counter()
        again, _ = corpus_frames(videos, work / "corpus_1", cfg, 1)
        print(f"rerun (frames already written, reused): {(time.perf_counter() - t0) / n * 1000:.1f} ms/clip")
        t0 = time.perf_counter()
        for clip in videos:
            decode_jpegs([Path(f).read_bytes() for f in again[clip].files])
        read = (time.perf_counter() - t0) / n
        train_cfg = SamplingConfig(num_frames=8, max_side=448)  # `mabench train`'s own sampling of a video
        t0 = time.perf_counter()
        for video in videos.values():
            decode_jpegs(sample_frames(video, train_cfg).jpegs)
        resample = (time.perf_counter() - t0) / n
        print(f"train collator, per clip: corpus frames {read * 1000:.0f} ms, sampling the mp4 "
              f"{resample * 1000:.0f} ms ({resample / read:.1f}x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
