"""A test model whose reliance on the frames is known: clips whose every frame carries a machine-readable
stamp (the clip's number and the frame's index), and the answers of a model that reads them.

    write_stamped_clip(path, clip_no, n_frames, fps)   # a row of black / white blocks on each frame
    read_stamp(rgb)                                    # -> (clip_no, frame_no) or None
    StampModel(bench, numbers, mode).answer(question_text, frames)

The stamp: STAMP_BITS bits of the clip number then STAMP_BITS of the frame index, one block each, across the
top of the frame, sized by the frame's width (so a downscaled frame reads the same). Blocks are black or
white on mid grey: JPEG at any usual quality keeps them.

`StampModel` in mode "reads" answers as a model that reads the motion would: the key's answer when the stamps
arrive in order, the reversed truth (`meta["reversed_answer"]`) when they arrive last first, a coin toss
(seeded by the request) when they arrive in any other order or all show one frame, and a fixed prior
(`PRIOR`: Yes, the first option, a fixed sentence) when no frame arrives. In mode "ignores" it answers from
the question text alone (a coin toss seeded by it), whatever the frames.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

STAMP_BITS = 10          # up to 1,024 clips and 1,024 frames a clip
BLOCKS_ACROSS = 2 * STAMP_BITS + 4  # block width = frame width / this (a margin of two blocks each side)
GREY = 128
PRIOR = {"yes/no": "Yes", "choice": "A", "open": "The person makes a small movement."}
MODES = ("reads", "ignores")
_OPTION = re.compile(r"^([A-G])\.\s", re.MULTILINE)


def _bits(value: int) -> list[int]:
    return [(value >> (STAMP_BITS - 1 - i)) & 1 for i in range(STAMP_BITS)]


def stamp_frame(clip_no: int, frame_no: int, width: int, height: int) -> np.ndarray:
    """A mid-grey RGB frame with the stamp drawn across its top."""
    img = np.full((height, width, 3), GREY, np.uint8)
    block = width / BLOCKS_ACROSS  # the geometry `read_stamp` reads, at any width
    for i, bit in enumerate(_bits(clip_no) + _bits(frame_no)):
        img[round(block): round(2 * block), round((2 + i) * block): round((3 + i) * block)] = 255 if bit else 0
    return img


def read_stamp(rgb: np.ndarray) -> tuple[int, int] | None:
    """(clip number, frame index) read from a frame, None when a block is neither black nor white."""
    height, width = rgb.shape[:2]
    block = width / BLOCKS_ACROSS
    gray = rgb.mean(axis=2) if rgb.ndim == 3 else rgb
    bits = []
    for i in range(2 * STAMP_BITS):
        y, x = int(1.5 * block), int((2 + i + 0.5) * block)
        r = max(1, int(block / 4))
        v = float(gray[y - r: y + r + 1, x - r: x + r + 1].mean())
        if 40 <= v <= 215:
            return None
        bits.append(int(v > GREY))
    clip = int("".join(map(str, bits[:STAMP_BITS])), 2)
    frame = int("".join(map(str, bits[STAMP_BITS:])), 2)
    return clip, frame


def write_stamped_clip(path: str | Path, clip_no: int, n_frames: int, fps: float, width: int = 256,
                       height: int = 192) -> Path:
    """An h264 clip of `n_frames` stamped frames at `fps`."""
    from fractions import Fraction

    import av

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=Fraction(fps).limit_denominator(1001), options={"crf": "18"})
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        for k in range(n_frames):
            frame = av.VideoFrame.from_ndarray(stamp_frame(clip_no, k, width, height), format="rgb24")
            for pkt in s.encode(frame):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


@dataclass
class StampModel:
    """Answers for a built benchmark whose clips carry stamps; `numbers`: clip name -> its stamp number."""

    questions: list[dict]   # the benchmark's records (video_name, task, question, answer, meta)
    numbers: dict[str, int]
    mode: str = "reads"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"stamp model mode {self.mode!r}: expected one of {', '.join(MODES)}")
        by_no = {n: name for name, n in self.numbers.items()}
        self._key: dict[tuple[str, str], dict] = {}
        for q in self.questions:
            self._key[(Path(q["video_name"]).stem, q["question"])] = q
        self._by_no = by_no
        self._tasks = {q["question"]: q["task"] for q in self.questions}

    def _kind(self, text: str) -> str:
        """yes/no, choice or open: by the task of a key question with this text (any clip's), else by its options."""
        task = self._tasks.get(text) or next((t for q, t in self._tasks.items() if q.strip() and
                                              text.rstrip().endswith(q.rstrip())), None)
        if task is not None:
            return "choice" if task in ("CMAR", "FMAR") else "open" if task in ("MADU", "MARE") else "yes/no"
        return "choice" if _OPTION.search(text) else "yes/no"

    def _toss(self, text: str, salt: str) -> str:
        n = int(hashlib.sha256(f"{salt}|{text}".encode()).hexdigest()[:8], 16)
        letters = _OPTION.findall(text)
        if letters:
            return letters[n % len(letters)]
        return ("Yes", "No")[n % 2] if self._kind(text) == "yes/no" else PRIOR["open"]

    def answer(self, text: str, frames: list[np.ndarray]) -> str:
        if self.mode == "ignores":
            return self._toss(text, "text only")
        if not frames:
            return PRIOR[self._kind(text)]
        stamps = [read_stamp(f) for f in frames]
        if any(s is None for s in stamps) or len({s[0] for s in stamps if s}) != 1:
            return self._toss(text, f"unreadable {len(frames)}")
        clip_no = stamps[0][0]  # type: ignore[index]
        order = [s[1] for s in stamps if s]
        q = self._find(self._by_no.get(clip_no), text)
        salt = f"{clip_no}|{order}"
        if q is None:
            return self._toss(text, salt)
        if len(order) > 1 and all(a < b for a, b in zip(order, order[1:], strict=False)):
            return str(q["answer"])
        if len(order) > 1 and all(a > b for a, b in zip(order, order[1:], strict=False)):
            rev = (q.get("meta") or {}).get("reversed_answer")
            return str(rev) if rev is not None else self._toss(text, salt)
        return self._toss(text, salt)

    def _find(self, clip: str | None, text: str) -> dict[str, Any] | None:
        if clip is None:
            return None
        hit = self._key.get((clip, text))
        if hit is not None:
            return hit
        tail = text.rstrip()
        for (c, question), q in self._key.items():
            if c == clip and question.strip() and tail.endswith(question.rstrip()):
                return q
        return None
