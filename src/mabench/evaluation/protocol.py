"""Which conditions a run asks its questions under: mabench's own, or the official runner's.

- `mabench` (the default): frames from `--sampling` (uniform 8, downscaled to 640 px, JPEG 85), mabench's
  system prompts, temperature 0 and `--max-tokens`, mabench's `<think>` stripping.
- `kit`: what the MAC 2026 Track 3 runner (the organisers' `run.py`) sends, so a participant tuning
  prompts sees the numbers the organisers will see: its frames (`video.kit`: OpenCV, its stride rule,
  at most 8, full resolution, OpenCV JPEG quality 95), a system message always (empty for a task its
  prompt file has no entry for), one `image_url` part per frame before the question text,
  `max_tokens` 2048 and no temperature, and its `<think>` stripping (only a closed block is removed).

The protocol is part of a run's identity (config, frame cache key through the sampling settings,
submission, report).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from mabench.models.base import GenerationConfig
from mabench.video.kit import KIT_JPEG_QUALITY, KIT_MAX_FRAMES, KIT_TARGET_FPS
from mabench.video.sampling import SamplingConfig

PROTOCOLS = ("mabench", "kit")
DEFAULT_PROTOCOL = "mabench"
KIT_MAX_TOKENS = 2048  # the runner's MAX_TOKENS
KIT_SAMPLING = SamplingConfig(strategy="kit", num_frames=KIT_MAX_FRAMES, fps=KIT_TARGET_FPS, max_side=None,
                              max_pixels=None, jpeg_quality=KIT_JPEG_QUALITY)
_KIT_THINK = re.compile(r"<think>(.*?)</think>\s*(.*)", re.DOTALL)


def kit_answer(text: str | None) -> str:
    """The answer the official runner keeps from a reply: what follows a closed `<think>...</think>`
    block, else the whole reply (stripped). An unclosed `<think>` is kept, as the runner keeps it."""
    text = (text or "").strip()
    m = _KIT_THINK.search(text)
    return m.group(2).strip() if m else text


@dataclass(frozen=True)
class Protocol:
    name: str = DEFAULT_PROTOCOL

    def __post_init__(self) -> None:
        if self.name not in PROTOCOLS:
            raise ValueError(f"unknown protocol {self.name!r}; expected one of {', '.join(PROTOCOLS)}")

    @property
    def is_kit(self) -> bool:
        return self.name == "kit"

    def sampling(self, given: SamplingConfig) -> SamplingConfig:
        """The frame settings a run uses: the runner's under `kit` (whatever was given), else `given`."""
        return KIT_SAMPLING if self.is_kit else given

    def generation(self, given: GenerationConfig) -> GenerationConfig:
        """`kit`: max_tokens 2048, no temperature, no seed, nothing added to the body (the runner sends
        model, messages and max_tokens only)."""
        if not self.is_kit:
            return given
        return replace(given, temperature=None, max_tokens=KIT_MAX_TOKENS, seed=None, top_p=None, extra_body={})

    @property
    def system_always(self) -> bool:
        """Send the system message even when it is empty (the runner always sends one)."""
        return self.is_kit

    def answer_text(self, reply: str) -> str:
        """The text answers are read from: the runner's stripping under `kit`, the whole reply otherwise
        (mabench's extraction removes reasoning blocks itself)."""
        return kit_answer(reply) if self.is_kit else reply
