"""The simplest synthetic clip: a textured background and a box moving on a known path.

Used by tests and benchmarks that need real, decodable video files of known length.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np


def write_box_clip(path: str | Path, seconds: float = 2.0, fps: int = 25, width: int = 320,
                   height: int = 240, codec: str = "libx264", seed: int = 0) -> Path:
    """Write an mp4 (h264 by default; "mpeg4" also works) of `seconds` x `fps` frames."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    # a smooth texture (a coarse random grid, upsampled) like a real wall, plus mild sensor noise
    coarse = rng.integers(50, 140, size=(height // 40 + 2, width // 40 + 2, 3)).astype(np.float32)
    ys = np.linspace(0, coarse.shape[0] - 1.001, height)
    xs = np.linspace(0, coarse.shape[1] - 1.001, width)
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None, None], (xs - x0)[None, :, None]
    background = (coarse[y0][:, x0] * (1 - fy) * (1 - fx) + coarse[y0 + 1][:, x0] * fy * (1 - fx)
                  + coarse[y0][:, x0 + 1] * (1 - fy) * fx + coarse[y0 + 1][:, x0 + 1] * fy * fx)
    n = max(1, int(round(seconds * fps)))
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        for i in range(n):
            noise = rng.normal(0, 2.0, size=(height, width, 1)).astype(np.float32)
            img = np.clip(background + noise, 0, 255).astype(np.uint8)
            x = int((width - 40) * (0.5 + 0.4 * np.sin(2 * np.pi * i / max(n, 2))))
            y = int((height - 40) * i / max(n - 1, 1))
            img[y:y + 40, x:x + 40] = (230, 40 + (i * 7) % 200, 40)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path


def write_placeholder_set(out: str | Path, n_clips: int = 5, seed: int = 0) -> Path:
    """`n_clips` box clips in OUT/clips and a 12-question-per-clip benchmark OUT/bench.json (with answers).

    For a dry run of the tools, not for measuring anything: the questions are not grounded in the clips.
    """
    import json
    import random

    from mabench.synth.questions import placeholder_records

    out = Path(out)
    rng = random.Random(seed)
    for i in range(n_clips):
        write_box_clip(out / "clips" / f"clip_{i:03d}.mp4", seconds=rng.uniform(1.0, 3.0), seed=seed + i)
    bench = out / "bench.json"
    bench.write_text(json.dumps(placeholder_records(n_clips, seed), indent=1), encoding="utf-8")
    return bench

