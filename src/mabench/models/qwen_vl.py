"""Qwen-VL video inputs without torchvision: frames -> patches, grid, frame timestamps, prompt tokens.

This mirrors what transformers' `Qwen3VLVideoProcessor` + `Qwen3VLProcessor` do (and the frame
budget rules of qwen-vl-utils), in numpy and Pillow, so the local backend and the training
collator work with a CPU-only torch that has no torchvision. The constants live here, in one place:

* frames are resized so height and width are multiples of `patch_size * merge_size` (32 for
  Qwen3-VL, 28 for Qwen2.5-VL) and all frames together stay within [min_pixels, max_pixels];
* pixels are scaled to 0..1 and normalised with mean/std (0.5 for Qwen-VL);
* the frame count is padded to a multiple of `temporal_patch_size` (2) by repeating the last frame;
  each pair of frames becomes one temporal patch, whose time stamp is the mean of the two;
* the prompt gets, per temporal patch, ``<T seconds><|vision_start|><|video_pad|> x n<|vision_end|>``
  with ``n = grid_h * grid_w / merge_size**2`` (Qwen3-VL's textual timestamps).
"""

from __future__ import annotations

import io
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

VIDEO_PAD, VISION_START, VISION_END = "<|video_pad|>", "<|vision_start|>", "<|vision_end|>"


@dataclass(frozen=True)
class VideoSpec:
    """Preprocessing constants of one model family (read from its checkpoint when present)."""

    patch_size: int = 16
    temporal_patch_size: int = 2
    merge_size: int = 2
    min_pixels: int = 128 * 32 * 32          # all frames together (Qwen3-VL's shortest_edge)
    max_pixels: int = 768 * 32 * 32          # all frames together (Qwen3-VL's longest_edge default)
    image_mean: tuple[float, float, float] = (0.5, 0.5, 0.5)
    image_std: tuple[float, float, float] = (0.5, 0.5, 0.5)
    timestamps: bool = True                  # Qwen3-VL writes frame times into the prompt

    @property
    def factor(self) -> int:
        return self.patch_size * self.merge_size

    @classmethod
    def from_pretrained(cls, path: str | Path, model_config=None) -> VideoSpec:
        """From `video_preprocessor_config.json` / `preprocessor_config.json`, else the model config."""
        path = Path(path)
        kw: dict = {}
        vc = getattr(model_config, "vision_config", None)
        if vc is not None:
            kw.update(patch_size=vc.patch_size, temporal_patch_size=vc.temporal_patch_size,
                      merge_size=vc.spatial_merge_size)
        for name in ("video_preprocessor_config.json", "preprocessor_config.json"):
            f = path / name
            if f.exists():
                cfg = json.loads(f.read_text(encoding="utf-8"))
                size = cfg.get("size") or {}
                kw.update({k: cfg[k] for k in ("patch_size", "temporal_patch_size", "merge_size") if k in cfg})
                if "shortest_edge" in size and "longest_edge" in size:
                    kw.update(min_pixels=int(size["shortest_edge"]), max_pixels=int(size["longest_edge"]))
                for k in ("image_mean", "image_std"):
                    if k in cfg:
                        kw[k] = tuple(float(v) for v in cfg[k])
                break
        kw["timestamps"] = getattr(model_config, "model_type", "qwen3_vl").startswith("qwen3")
        return cls(**kw)


def smart_resize(num_frames: int, height: int, width: int, spec: VideoSpec) -> tuple[int, int]:
    """Height and width for the frames: multiples of `spec.factor`, total pixels within the budget."""
    factor, t = spec.factor, spec.temporal_patch_size
    if height < factor or width < factor:
        scale = max(factor / height, factor / width)
        height, width = int(height * scale), int(width * scale)
    if max(height, width) / min(height, width) > 200:
        raise ValueError(f"frame aspect ratio must be under 200, got {max(height, width) / min(height, width):.0f}")
    h_bar, w_bar = round(height / factor) * factor, round(width / factor) * factor
    t_bar = round(num_frames / t) * t
    if t_bar * h_bar * w_bar > spec.max_pixels:
        beta = math.sqrt(num_frames * height * width / spec.max_pixels)
        h_bar = max(factor, math.floor(height / beta / factor) * factor)
        w_bar = max(factor, math.floor(width / beta / factor) * factor)
    elif t_bar * h_bar * w_bar < spec.min_pixels:
        beta = math.sqrt(spec.min_pixels / (num_frames * height * width))
        h_bar = math.ceil(height * beta / factor) * factor
        w_bar = math.ceil(width * beta / factor) * factor
    return h_bar, w_bar


@dataclass
class VideoInputs:
    pixel_values: np.ndarray        # (grid_t * grid_h * grid_w, C * temporal_patch * patch * patch) float32
    grid_thw: tuple[int, int, int]
    times: list[float]              # one per temporal patch
    tokens_per_frame: int           # video pad tokens per temporal patch

    @property
    def num_tokens(self) -> int:
        return self.grid_thw[0] * self.tokens_per_frame


def decode_jpegs(jpegs: list[bytes] | list[str]) -> list[np.ndarray]:
    """JPEG bytes (or data URLs) -> RGB arrays."""
    out = []
    for j in jpegs:
        if isinstance(j, str):
            import base64

            j = base64.b64decode(j.split(",", 1)[1])
        out.append(np.asarray(Image.open(io.BytesIO(j)).convert("RGB")))
    return out


def video_inputs(frames: list[np.ndarray], timestamps: list[float], spec: VideoSpec) -> VideoInputs:
    """RGB frames (H, W, 3) uint8 and their times -> model inputs for one video."""
    if not frames:
        raise ValueError("a video needs at least one frame")
    frames = list(frames)
    times = list(timestamps)
    h, w = frames[0].shape[:2]
    rh, rw = smart_resize(len(frames), h, w, spec)  # on the real frame count, as the stock processor does
    while len(frames) % spec.temporal_patch_size:  # then pad by repeating the last frame
        frames.append(frames[-1])
        times.append(times[-1])
    bicubic = Image.Resampling.BICUBIC
    arr: np.ndarray = np.stack([np.asarray(Image.fromarray(f).resize((rw, rh), bicubic), dtype=np.float32)
                                for f in frames])  # (T, H, W, C)
    arr = (arr / 255.0 - np.array(spec.image_mean, np.float32)) / np.array(spec.image_std, np.float32)
    arr = arr.transpose(0, 3, 1, 2)  # (T, C, H, W)
    p, m, tp = spec.patch_size, spec.merge_size, spec.temporal_patch_size
    gt, gh, gw = len(frames) // tp, rh // p, rw // p
    c = arr.shape[1]
    patches = arr.reshape(gt, tp, c, gh // m, m, p, gw // m, m, p)
    patches = patches.transpose(0, 3, 6, 4, 7, 2, 1, 5, 8)
    flat = np.ascontiguousarray(patches.reshape(gt * gh * gw, c * tp * p * p), dtype=np.float32)
    pair_times = [(times[i] + times[i + tp - 1]) / 2 for i in range(0, len(times), tp)]
    return VideoInputs(flat, (gt, gh, gw), pair_times, gh * gw // (m * m))


def video_placeholder(v: VideoInputs, spec: VideoSpec) -> str:
    """What replaces the single `<|video_pad|>` of a chat-templated prompt for this video."""
    if not spec.timestamps:
        return VIDEO_PAD * v.num_tokens
    return "".join(f"<{t:.1f} seconds>{VISION_START}{VIDEO_PAD * v.tokens_per_frame}{VISION_END}" for t in v.times)
