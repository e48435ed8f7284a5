"""The training corpus: the train / test split, the clips kept out, each clip's frames, the samples.

One sample per train-split question (the description, the reasoning chain, the closed questions with
their answers). The system prompt and the user text are the task registry's turn
(`mabench.evaluation.tasks.Task.turn`), the very request `mabench eval` sends for the same question
with default prompts: a model is fine-tuned on the prompts it is evaluated with.

Frames: with ``corpus_frames`` N (the default: `mabench eval`'s frame count), each clip's frames are
sampled once with `mabench eval`'s sampler and settings (`video.sample_frames`, the same JPEG bytes a
request carries) and written to ``frames/<clip>/``, with their timestamps, the clip's real frame rate
and the rate the frames were taken at; every sample points at them beside the video path. The formats
each tool reads are written by `mabench.builder.exports`.

Paths are absolute, so the files work from any working directory.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import shutil
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from mabench.data.io import BenchmarkError, atomic_write_bytes, load_benchmark, write_json
from mabench.data.records import strip_video_suffix
from mabench.evaluation.tasks import task
from mabench.video import SamplingConfig, sample_frames

# v3: pre-sampled frames (eval's sampler) beside the video path, the clips kept out, ms-swift and TRL exports
# (v2: the eval system prompt and the question verbatim; v1 had no system prompt)
CORPUS_VERSION = "ma-corpus-v3"
FRAMES_DIR = "frames"
FRAME_INFO = "frames.json"  # per clip folder: what was sampled, how, and from which file
FRAMES_FORMAT = 2  # of FRAME_INFO; a folder of another format is sampled again


@dataclass(frozen=True)
class ClipFrames:
    """One clip's frames as `mabench eval` sends them, written once for every sample of the clip."""

    files: list[str]          # absolute JPEG paths, in time order
    timestamps: list[float]   # seconds from the clip's first frame
    source_fps: float         # the clip's real frame rate (from its frame timestamps); not qwen-vl-utils' `fps`,
    #                           which is a rate to sample at
    sample_fps: float         # the rate the frames were taken at: frames over the span they cover
    sampling: str             # `SamplingConfig.key()`: every setting that shapes the frames

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ExcludeList:
    """Clips that must never enter the corpus (a benchmark's clips, say), matched by file stem."""

    source: str
    kind: str                 # "benchmark" or "list"
    clips: frozenset[str]     # stems
    sha256: str               # of the file's bytes

    def record(self, dropped: int, labelled: int) -> dict:
        """`dropped`: train-split clips kept out; `labelled`: listed clips found among the labelled ones."""
        return {"file": self.source, "kind": self.kind, "listed": len(self.clips), "sha256": self.sha256,
                "labelled": labelled, "excluded": dropped}


def read_exclude_list(path: str | Path) -> ExcludeList:
    """A benchmark file (JSON / JSONL with ``video_name``) or a text list, one clip name per line
    (``#`` starts a comment). Raises ValueError naming the file when it is neither."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"--exclude-clips {path}: no such file")
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if path.suffix.lower() in (".json", ".jsonl"):
        try:
            bench = load_benchmark(path)
        except (BenchmarkError, ValueError, OSError) as e:
            raise ValueError(f"--exclude-clips {path}: not a benchmark file ({e})") from None
        return ExcludeList(str(path), "benchmark", frozenset(Path(q.video_id).name for q in bench.questions),
                           digest)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"--exclude-clips {path}: neither a benchmark (.json / .jsonl) nor a text list of clip "
                         "names") from None
    names = [line.split("#", 1)[0].strip() for line in text.splitlines()]
    names = [re.split(r"[\s,]", n)[0] for n in names if n]  # '<clip> <label>' (mmaction2) and CSV rows work too
    if not names:
        raise ValueError(f"--exclude-clips {path}: no clip names in it")
    return ExcludeList(str(path), "list", frozenset(strip_video_suffix(Path(n).name) for n in names), digest)


def split_clips(rows: list, test_fraction: float, seed: int = 0) -> tuple[set[str], set[str], dict]:
    """(train clips, test clips, info). Subject-disjoint when every row has a subject, else by clip."""
    if not 0.0 <= test_fraction <= 1.0:
        raise ValueError(f"test fraction must be within 0..1, got {test_fraction}")
    clips = [r.clip for r in rows]
    rng = random.Random(seed)
    if rows and all(r.subject for r in rows):
        subjects = sorted({r.subject for r in rows})
        rng.shuffle(subjects)
        by_subject: dict[str, list[str]] = {}
        for r in rows:
            by_subject.setdefault(r.subject, []).append(r.clip)
        test: set[str] = set()
        test_subjects: list[str] = []
        target = test_fraction * len(clips)
        for s in subjects:
            if len(test) >= target or (test_fraction < 1.0 and len(test_subjects) == len(subjects) - 1):
                break
            test.update(by_subject[s])
            test_subjects.append(s)
        if test_fraction >= 1.0:
            test = set(clips)
            test_subjects = subjects
        info: dict[str, Any] = {"by": "subject", "test_subjects": sorted(test_subjects),
                "train_subjects": sorted(set(subjects) - set(test_subjects))}
    else:
        shuffled = clips[:]
        rng.shuffle(shuffled)
        test = set(shuffled[:round(test_fraction * len(clips))])
        info = {"by": "clip"}
    train = set(clips) - test
    assert not train & test
    info.update(train_clips=len(train), test_clips=len(test), test_fraction=test_fraction, seed=seed)
    return train, test, info


def clip_frames(video: Path, folder: Path, cfg: SamplingConfig) -> ClipFrames:
    """Sample `video` as `mabench eval` does with `cfg` and write the JPEG bytes under `folder`; a folder
    written before for the same file, settings and format is reused (its files named relative to it, so a
    copied build reuses its own copy). Writing anew clears the folder's older frames first."""
    info_path = folder / FRAME_INFO
    stat = video.stat()
    source = {"video": str(video.resolve()), "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    here = folder.resolve()
    if info_path.is_file():
        try:
            info = json.loads(info_path.read_text(encoding="utf-8"))
            names = info["names"]
            if info.get("format") == FRAMES_FORMAT and info.get("source") == source and \
                    info.get("sampling") == cfg.key() and all((here / n).is_file() for n in names):
                return ClipFrames(files=[str(here / n) for n in names], timestamps=info["timestamps"],
                                  source_fps=info["source_fps"], sample_fps=info["sample_fps"], sampling=cfg.key())
        except (ValueError, KeyError, TypeError):
            pass  # unreadable or of another shape: sample again
    s = sample_frames(video, cfg)
    for old in folder.glob("frame_*.jpg") if folder.is_dir() else ():
        old.unlink()  # a count asked before (16 frames, now 8) leaves nothing behind for a tool that reads the folder
    names = [f"frame_{i:03d}.jpg" for i in range(len(s.jpegs))]
    for name, jpeg in zip(names, s.jpegs, strict=True):
        atomic_write_bytes(here / name, jpeg)
    span = s.timestamps[-1] - s.timestamps[0] if len(s.timestamps) > 1 else 0.0
    frames = ClipFrames(files=[str(here / n) for n in names], timestamps=[round(t, 6) for t in s.timestamps],
                        source_fps=round((s.total_frames - 1) / s.duration, 6) if s.duration > 0 else 0.0,
                        sample_fps=round((len(names) - 1) / span, 6) if span > 0 else 0.0, sampling=cfg.key())
    write_json(info_path, {"format": FRAMES_FORMAT, "source": source, "sampling": cfg.key(), "names": names,
                           "timestamps": frames.timestamps, "source_fps": frames.source_fps,
                           "sample_fps": frames.sample_fps, "indices": s.indices})
    return frames


def corpus_frames(videos: dict[str, Path], out: Path, cfg: SamplingConfig, workers: int = 1
                  ) -> tuple[dict[str, ClipFrames], list[str]]:
    """({clip: frames}, problems): every clip sampled once (threads: PyAV decodes outside the GIL);
    a clip that cannot be read is a problem of its own and loses only its samples."""
    from mabench.video import VideoError

    def one(item: tuple[str, Path]) -> tuple[str, ClipFrames | str]:
        clip, video = item
        try:
            return clip, clip_frames(video, out / FRAMES_DIR / clip, cfg)
        except (VideoError, OSError) as e:
            return clip, f"{video.name}: no corpus frames ({e})"

    done: dict[str, ClipFrames] = {}
    problems: list[str] = []
    root = out / FRAMES_DIR
    if root.is_dir():  # a rerun: the frames of clips no longer in the corpus (kept out since, say) go
        for stale in root.iterdir():
            if stale.is_dir() and stale.name not in videos:
                shutil.rmtree(stale)
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for clip, res in pool.map(one, sorted(videos.items())):
            if isinstance(res, ClipFrames):
                done[clip] = res
            else:
                problems.append(res)
    return done, problems


def samples(questions: Iterable[dict], video_paths: dict[str, Path],
            frames: dict[str, ClipFrames] | None = None) -> list[dict]:
    """One chat sample per question (its clip's video path resolved; its frames where given). With
    `frames`, a question whose clip has none is left out (its clip could not be read)."""
    out = []
    for q in questions:
        clip = q["video_name"]
        video: dict[str, Any] = {"type": "video", "video": str(video_paths[clip].resolve())}
        if frames is not None:
            if clip not in frames:
                continue
            f = frames[clip]
            video.update(frames=f.files, timestamps=f.timestamps, source_fps=f.source_fps, sample_fps=f.sample_fps)
        system, user = task(q["task"]).turn(q["question"])
        out.append({"id": q["qid"], "clip": clip, "task": q["task"], "video": video["video"],
                    "messages": [
                        {"role": "system", "content": system},
                        {"role": "user", "content": [video, {"type": "text", "text": user}]},
                        {"role": "assistant", "content": [{"type": "text", "text": q["answer"]}]}]})
    return out
