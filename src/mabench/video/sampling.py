"""Which frames to take from a clip. Every number that matters is a named constant here.

All strategies work on the clip's real presentation timestamps (so variable frame rate is fine)
and never ask for more frames than the clip has.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from mabench import defaults

DEFAULT_STRATEGY = "uniform"
DEFAULT_NUM_FRAMES = 8  # the paper's best trade-off
# `fps` strategy: qwen-vl-utils' `smart_nframes` - a rate, clamped to [min, max] and to the clip's
# frames, rounded DOWN to a multiple of FRAME_FACTOR.
DEFAULT_FPS = 2.0
FPS_MIN_FRAMES = 4
FPS_MAX_FRAMES = 32
FRAME_FACTOR = 2
# `fps3` strategy: one frame every 1/3 s of the clip's timestamps from the first, at most 8 (mabench's
# own reading of a 3 fps rule; the official runner's frames are the `kit` strategy, `video.kit`).
FPS3_RATE = 3.0
FPS3_MAX_FRAMES = 8
# Image size and encoding.
DEFAULT_MAX_SIDE = defaults.EVAL_MAX_SIDE
DEFAULT_MAX_PIXELS = defaults.EVAL_MAX_PIXELS
DEFAULT_JPEG_QUALITY = 85

# `kit`: the official runner's frames (OpenCV, its stride rule, full resolution, OpenCV JPEG; `video.kit`):
# `--protocol kit` sets it with the runner's numbers.
STRATEGIES = ("uniform", "fps", "fps3", "kit")


@dataclass(frozen=True)
class SamplingConfig:
    strategy: str = DEFAULT_STRATEGY
    num_frames: int = DEFAULT_NUM_FRAMES  # uniform; max for fps when set lower
    fps: float = DEFAULT_FPS
    min_frames: int = FPS_MIN_FRAMES
    max_frames: int = FPS_MAX_FRAMES
    max_side: int | None = DEFAULT_MAX_SIDE
    max_pixels: int | None = DEFAULT_MAX_PIXELS
    jpeg_quality: int = DEFAULT_JPEG_QUALITY

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise ValueError(f"unknown sampling strategy {self.strategy!r}; expected one of {', '.join(STRATEGIES)}")
        if self.strategy == "kit" and (self.max_side or self.max_pixels):
            raise ValueError("kit sampling sends full-resolution frames, as the official runner does: "
                             "max_side and max_pixels must be None (use --protocol kit)")
        if self.num_frames < 1:
            raise ValueError("the number of frames must be at least 1")
        if not 1 <= self.jpeg_quality <= 100:
            raise ValueError("JPEG quality must be between 1 and 100")

    def key(self) -> str:
        """A stable string of every setting that changes the frames (for cache keys and configs)."""
        return ",".join(f"{k}={v}" for k, v in asdict(self).items())


def ceil_by_factor(number: float, factor: int = FRAME_FACTOR) -> int:
    return math.ceil(number / factor) * factor


def floor_by_factor(number: float, factor: int = FRAME_FACTOR) -> int:
    return math.floor(number / factor) * factor


def smart_nframes(total_frames: int, video_fps: float, fps: float = DEFAULT_FPS, min_frames: int = FPS_MIN_FRAMES,
                  max_frames: int = FPS_MAX_FRAMES) -> int:
    """Frames to sample at `fps`, as qwen-vl-utils' `smart_nframes` counts them (the rule Qwen-VL was
    trained with): clamp to [min, max] and to the clip, then round DOWN to a multiple of FRAME_FACTOR.

    >>> smart_nframes(73, 25.0)  # 2.92 s at 2 fps = 5.84 frames -> 4 (rounding to nearest would give 6)
    4
    """
    min_f = ceil_by_factor(min_frames)
    max_f = floor_by_factor(min(max_frames, total_frames))
    n = total_frames / video_fps * fps
    n = min(min(max(n, min_f), max_f), total_frames)
    return floor_by_factor(n)


def select_indices(timestamps: list[float], cfg: SamplingConfig) -> list[int]:
    """Indices into the clip's frames (sorted by time) that `cfg` asks for."""
    n = len(timestamps)
    if n == 0:
        raise ValueError("the clip has no frames")
    if cfg.strategy == "uniform":
        k = min(cfg.num_frames, n)
        return sorted(set(np.linspace(0, n - 1, k).round().astype(int).tolist()))
    duration = timestamps[-1] - timestamps[0]
    if cfg.strategy == "fps":
        # qwen-vl-utils' rule; its clip length (frames / fps) is the span of our timestamps plus one frame
        if n < FRAME_FACTOR:
            return list(range(n))  # qwen-vl-utils refuses such a clip; one frame is all there is
        step = _frame_step(timestamps)
        # the container's rate, as qwen-vl-utils reads it; rounded so 1 / (1 / 30) is 30, not 30.000000000000004
        video_fps = round(1.0 / step, 6) if step > 0 else cfg.fps
        k = smart_nframes(n, video_fps, cfg.fps, cfg.min_frames, cfg.max_frames)
        return sorted(set(np.linspace(0, n - 1, k).round().astype(int).tolist()))
    if cfg.strategy == "kit":
        raise ValueError("kit frames are read with OpenCV (mabench.video.kit), not selected from timestamps")
    # fps3: one frame every 1/3 s from the first frame, at most 8
    ts = np.asarray(timestamps) - timestamps[0]
    targets = np.arange(0, duration + 1e-9, 1 / FPS3_RATE)[:FPS3_MAX_FRAMES]
    return sorted({int(np.abs(ts - t).argmin()) for t in targets})


def _frame_step(timestamps: list[float]) -> float:
    if len(timestamps) < 2:
        return 0.0
    return float(np.median(np.diff(timestamps)))


def target_size(width: int, height: int, cfg: SamplingConfig) -> tuple[int, int]:
    """Downscale (never upscale) to fit max side and max pixels, keeping the aspect ratio."""
    scale = 1.0
    if cfg.max_side:
        scale = min(scale, cfg.max_side / max(width, height))
    if cfg.max_pixels:
        scale = min(scale, math.sqrt(cfg.max_pixels / (width * height)))
    return max(1, int(width * scale)), max(1, int(height * scale))
