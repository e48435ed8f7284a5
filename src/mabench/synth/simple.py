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
    background = (rng.integers(60, 120, size=(height, width, 3))).astype(np.uint8)
    n = max(1, int(round(seconds * fps)))
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=Fraction(fps).limit_denominator(1000))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if codec == "libx264":
            stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        for i in range(n):
            img = background.copy()
            x = int((width - 40) * (0.5 + 0.4 * np.sin(2 * np.pi * i / max(n, 2))))
            y = int((height - 40) * i / max(n - 1, 1))
            img[y:y + 40, x:x + 40] = (230, 40 + (i * 7) % 200, 40)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
