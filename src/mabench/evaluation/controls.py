"""Video controls: what a model is shown in place of the clip's frames in order, to tell whether its score
rests on the motion, on one frame, or on the question alone (the reversed, shuffled and blank videos of
TempCompass, REVEAL and the blind tests of video benchmarks).

    none     the frames as sampled
    reverse  the same frames, last first
    shuffle  the same frames in a seeded permutation (per clip; never the identity)
    single   the middle frame, repeated to the same count
    blank    no frames: the same system prompt and question, the images left out

Under every control the frames keep their timestamps in ascending order: a model (or the hf backend, which
writes ``<t seconds>`` before each frame pair) learns nothing of the reordering from the times it is told.
`single` repeats the middle frame rather than sending it alone, so that the request keeps its shape (the
number of images and of visual tokens, the prompt's length): what changes is the motion, not the format.

The frame cache always holds the clip's frames as sampled; a control is a view of them taken per request
(`Control.frames`), so the plain run and its controls share one decode per clip and a cached entry never
holds controlled frames. In video mode the clip is re-encoded under the control (`Control.video`):
every frame of the clip, reordered (or the middle one repeated), losslessly (libx264rgb at qp 0, so the
pixels a server decodes are the clip's own), at the clip's frame rate. There `shuffle` permutes all of the
clip's frames, and the server samples its own frames from that clip: not the frames-mode control's eight
frames in another order. The control applies to the evaluated clip; few-shot examples keep their frames.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, replace
from pathlib import Path

CONTROLS = ("none", "reverse", "shuffle", "single", "blank")
# a lossless encoding of the controlled clip: the server decodes the clip's own pixels, reordered
VIDEO_CODEC = "libx264rgb"
VIDEO_OPTIONS = {"qp": "0", "preset": "ultrafast"}


@dataclass(frozen=True)
class Control:
    name: str = "none"
    seed: int = 0  # shuffle's permutations: seed + the clip's name

    def __post_init__(self) -> None:
        if self.name not in CONTROLS:
            raise ValueError(f"unknown control {self.name!r}; expected one of {', '.join(CONTROLS)}")

    @property
    def is_none(self) -> bool:
        return self.name == "none"

    @property
    def shows_frames(self) -> bool:
        return self.name != "blank"

    def describe(self) -> dict:
        return {"name": self.name, **({"seed": self.seed} if self.name == "shuffle" else {})}

    def order(self, n: int, clip: str) -> list[int]:
        """Which of the clip's `n` frames is shown at each position."""
        if self.name == "reverse":
            return list(range(n))[::-1]
        if self.name == "single":
            return [(n - 1) // 2] * n
        if self.name == "shuffle":
            if n < 2:
                return list(range(n))
            digest = hashlib.sha256(f"{self.seed}|{clip}".encode()).digest()
            rng = random.Random(int.from_bytes(digest[:8], "big"))
            order = list(range(n))
            while order == sorted(order):  # a permutation that leaves the order as it was controls nothing
                rng.shuffle(order)
            return order
        return list(range(n))

    def frames(self, f, clip: str):
        """`f` (SampledFrames) as this control shows it: None for `blank`, `f` itself for `none`."""
        if self.name == "blank":
            return None
        if self.name == "none":
            return f
        order = self.order(len(f.timestamps), clip)
        return replace(f, jpegs=[f.jpegs[i] for i in order] if f.jpegs else [],
                       data_urls=[f.data_urls[i] for i in order] if f.data_urls else [],
                       indices=[f.indices[i] for i in order], timestamps=list(f.timestamps))

    def video(self, path: Path, folder: Path) -> Path | None:
        """The clip re-encoded under this control (written once into `folder`, reused), None for `blank`,
        `path` itself for `none`."""
        if self.name == "blank":
            return None
        if self.name == "none":
            return path
        st = path.stat()
        tag = hashlib.sha256(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}|{self.describe()}".encode()
                             ).hexdigest()[:16]
        target = folder / f"{path.stem}.{self.name}.{tag}.mp4"
        if target.is_file():
            return target
        from mabench.video.decode import VideoError, decode_all

        try:
            frames, times, _ = decode_all(path)
        except Exception as e:  # noqa: BLE001 - any decoder failure is this clip's
            raise VideoError(f"{path}: cannot decode for the {self.name} control ({e})") from None
        if not frames:
            raise VideoError(f"{path}: the clip has no decodable frames")
        fps = (len(frames) - 1) / float(times[-1]) if len(frames) > 1 and times[-1] > 0 else 25.0
        order = self.order(len(frames), path.stem)
        tmp = target.with_name(f".{target.name}.tmp.mp4")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _encode_lossless([frames[i] for i in order], fps, tmp)
            tmp.replace(target)
        except Exception as e:  # noqa: BLE001 - a full disk, an encoder error: this clip's questions fail, not the run
            tmp.unlink(missing_ok=True)
            raise VideoError(f"{path}: cannot write the {self.name} control's clip in {folder} ({e})") from None
        return target


def _encode_lossless(frames: list, fps: float, out: Path) -> None:
    from fractions import Fraction

    import av

    h, w = frames[0].shape[:2]
    with av.open(str(out), "w") as c:
        s = c.add_stream(VIDEO_CODEC, rate=Fraction(fps).limit_denominator(1001), options=VIDEO_OPTIONS)
        s.width, s.height, s.pix_fmt = w, h, "rgb24"
        for img in frames:
            for pkt in s.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
