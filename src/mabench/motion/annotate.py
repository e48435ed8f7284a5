"""The motion stage over a folder of clips: skeleton (file or pose backend) + flow -> descriptors.

One JSON line per clip in ``OUT/descriptors.jsonl``, appended and flushed as each clip finishes,
so a crash or Ctrl-C loses only the clips in flight and a rerun skips what is done. A clip that
fails (corrupt video, missing or unreadable skeleton) gets an ``{"clip", "error"}`` line and costs
only itself; ``retry_errors`` tries those again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, as_completed
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress
from dataclasses import asdict, dataclass
from pathlib import Path

import av

from mabench.data.io import iter_jsonl, repair_torn_tail, write_json
from mabench.data.predictions import append_jsonl
from mabench.data.records import VIDEO_SUFFIXES
from mabench.defaults import CLIP_TIMEOUT_S
from mabench.motion.descriptors import DESCRIPTOR_VERSION, describe
from mabench.motion.formats import load_skeleton
from mabench.motion.skeleton import SkeletonError
from mabench.pool import deadline_pool
from mabench.video.decode import decode_all

DESCRIPTORS_FILE = "descriptors.jsonl"


# A skeleton is the clip's when its frame count (or time span) is within one frame or this share.
MATCH_TOLERANCE = 0.02
# Pose runs on frames downscaled to this longest side (MediaPipe's models work at 224-256 px anyway),
# and on every POSE_STRIDE-th frame: keypoints at 15 fps state the same facts on the real clips
# (bench/real_clips.py) for half the cost. Optical flow, which sees the smallest movements, uses every
# frame at this size.
POSE_SIDE, POSE_STRIDE = 480, 2
# A worker starts by importing the caller's main script: one that calls mabench outside
# `if __name__ == "__main__":` starts the run again inside every worker, and the workers die at once.
WORKER_START_HINT = (" (a worker died; if mabench is called from a script, put the call under "
                     "`if __name__ == \"__main__\":`, as worker processes import the script)")
WORKER_EXIT_S = 30.0  # how long the workers get to exit once the clips are done or the run is stopped


@dataclass(frozen=True)
class AnnotateSettings:
    skeletons: str | None = None   # folder of skeleton files, named after the clip
    fmt: str | None = None         # skeleton format; None = detect
    pose: str | None = None        # pose backend when there are no skeleton files
    flow: bool = True
    flow_preset: str = "ultrafast"
    overlay: str | None = None     # folder for per-clip contact sheets (PNG)
    pose_stride: int = POSE_STRIDE  # pose on every n-th frame
    # a clip still running after this (s) is stopped and an error record; None: the clips run in this process,
    # one after another, with no deadline (for a debugger, or to patch a stage in a test)
    clip_timeout_s: float | None = CLIP_TIMEOUT_S


def list_clips(clips: str | Path) -> list[Path]:
    clips = Path(clips)
    if clips.is_file():
        return [clips]
    if not clips.is_dir():
        raise FileNotFoundError(f"{clips}: no such clip file or folder")
    return sorted(p for p in clips.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)


def find_skeleton(folder: Path, stem: str) -> Path | None:
    """`stem.json`, `stem_keypoints.json`, `stem.<anything>.json`, or an OpenPose folder `stem/`."""
    for cand in (folder / f"{stem}.json", folder / f"{stem}_keypoints.json", folder / stem):
        if cand.exists():
            return cand
    matches = sorted(folder.glob(f"{stem}.*.json"))
    return matches[0] if matches else None


@dataclass(frozen=True)
class ClipInfo:
    fps: float
    width: int
    height: int
    frames: int       # video frames in the stream (counted from packets when the header has none)


def probe(path: Path) -> ClipInfo:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate or s.guessed_rate or 0) or 25.0
        n = int(s.frames or 0) or sum(1 for p in c.demux(s) if p.size > 0)
        return ClipInfo(fps, s.codec_context.width, s.codec_context.height, n)


def check_match(sk, info: ClipInfo, src: Path) -> None:
    """Refuse a skeleton that is not this clip's: facts from it would be silently wrong."""
    tol = max(1, int(MATCH_TOLERANCE * info.frames))
    n = len(sk.times)
    if info.frames and abs(n - info.frames) > tol:
        raise SkeletonError(f"{src.name} has {n} frames but the clip has {info.frames}: not this clip's skeleton "
                            "(or a different frame rate)")
    span, clip_span = sk.duration, (info.frames - 1) / info.fps if info.frames else 0.0
    if clip_span and abs(span - clip_span) > max(1.0 / info.fps, MATCH_TOLERANCE * clip_span):
        raise SkeletonError(f"{src.name} spans {span:.2f} s but the clip {clip_span:.2f} s: not this clip's skeleton")


def annotate_clip(clip: str | Path, settings: AnnotateSettings, overlay: str | None = None) -> dict:
    """The descriptor record of one clip, or an error record naming what went wrong.

    Any failure inside (decode, pose, flow, descriptors, overlay) becomes this clip's error record:
    one bad clip costs only its own questions."""
    clip = Path(clip)
    try:
        info = probe(clip)
        frames = times = None
        if settings.skeletons:
            src = find_skeleton(Path(settings.skeletons), clip.stem)
            if src is None:
                raise SkeletonError(f"no skeleton file for {clip.stem} in {settings.skeletons}")
            sk = load_skeleton(src, settings.fmt, fps=info.fps, width=info.width, height=info.height)
            check_match(sk, info, src)
        elif settings.pose:
            from mabench.motion.pose import make_pose_backend
            frames, times, _ = decode_all(clip, "rgb24", POSE_SIDE)  # decoded once, for pose and flow
            step = max(1, settings.pose_stride)
            sk = make_pose_backend(settings.pose).estimate(frames[::step], times[::step])
        else:
            raise SkeletonError("no skeleton source: pass a skeletons folder or a pose backend")
        flow = None
        if settings.flow:
            from mabench.motion.flow import clip_flow
            flow = clip_flow(clip, sk, settings.flow_preset, frames, times)
        rec = describe(sk, clip.name, flow)
        if overlay:
            from mabench.motion.overlay import contact_sheet
            contact_sheet(clip, sk, rec, Path(overlay) / f"{clip.stem}.png", frames, times, flow)
        return rec
    except Exception as e:  # noqa: BLE001 - a clip's failure of any kind is its own error record
        return {"clip": clip.name, "error": f"{type(e).__name__}: {e}"}


def read_descriptors(path: str | Path) -> dict[str, dict]:
    """clip name -> its latest record (a retried clip's newer line wins)."""
    path = Path(path)
    if path.is_dir():
        path = path / DESCRIPTORS_FILE
    out: dict[str, dict] = {}
    if path.exists():
        for _, rec in iter_jsonl(path):
            if isinstance(rec, dict) and "clip" in rec:
                out[rec["clip"]] = rec
    return out


def annotate(clips: Iterable[Path], out: str | Path, settings: AnnotateSettings, workers: int = 1,
             retry_errors: bool = False, on_done: Callable[[dict], None] | None = None,
             executor: str = "local") -> dict:
    """Annotate `clips` into OUT/descriptors.jsonl; returns counts {done, errors, skipped}.

    `executor`: "local" (a process pool of `workers`) or "ray" (tasks on the Ray cluster named by
    RAY_ADDRESS, or a local Ray instance with `workers` CPUs; the clips must be readable from every
    node at the same path)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / DESCRIPTORS_FILE
    repair_torn_tail(path)
    have = read_descriptors(path)
    clips = list(clips)
    # a record of an older descriptor version lacks what the question builder now reads: computed again
    stale = {c.name for c in clips if c.name in have and "error" not in have[c.name]
             and have[c.name].get("version") != DESCRIPTOR_VERSION}
    todo = [c for c in clips if c.name not in have or c.name in stale or ("error" in have[c.name] and retry_errors)]
    counts = {"done": 0, "errors": 0, "skipped": len(clips) - len(todo), "stale": len(stale)}
    write_json(out / "annotate.json", {**asdict(settings), "version": DESCRIPTOR_VERSION})

    def record(rec: dict) -> None:
        append_jsonl(f, rec)
        counts["errors" if "error" in rec else "done"] += 1
        if on_done:
            on_done(rec)

    with open(path, "a", encoding="utf-8") as f:
        if executor == "ray":
            for rec in _ray_map(todo, settings, workers):
                record(rec)
        elif settings.clip_timeout_s is None:  # in this process, one clip after another, with no deadline
            for c in todo:
                record(annotate_clip(c, settings, settings.overlay))
        elif todo:
            # every clip in a worker process with a deadline, one worker too: a clip that never finishes is an
            # error record after `clip_timeout_s`, and the rest go on
            pool = deadline_pool(max(1, min(workers, len(todo))))
            try:
                futures: dict[Future, Path] = {pool.schedule(annotate_clip, (c, settings, settings.overlay),
                                                             timeout=settings.clip_timeout_s): c for c in todo}
                for fut in as_completed(futures):
                    try:
                        rec = fut.result()
                    except TimeoutError:
                        rec = {"clip": futures[fut].name, "error": f"TimeoutError: no result after "
                               f"{settings.clip_timeout_s:g} s (clip_timeout_s); its worker was stopped"}
                    except Exception as e:  # noqa: BLE001 - a worker that died (a segfault in a decoder)
                        code = getattr(e, "exitcode", None)  # pebble's ProcessExpired
                        rec = {"clip": futures[fut].name, "error": f"{type(e).__name__}: {e}"
                               + (f" (exit code {code})" if code is not None else "")
                               + (WORKER_START_HINT if isinstance(e, BrokenProcessPool) else "")}
                    record(rec)
                pool.close()
            except BaseException:
                pool.stop()
                raise
            finally:
                with suppress(TimeoutError):  # a worker that will not exit is not worth losing the records for
                    pool.join(WORKER_EXIT_S)
    return counts


def _ray_map(clips: list[Path], settings: AnnotateSettings, workers: int):
    """annotate_clip on Ray, yielding records as they finish (so they are written as they finish).

    As many clips run at a time as the cluster has CPUs (a task takes one), so a clip's deadline
    (`clip_timeout_s`, from its start) is not spent waiting in Ray's queue: a clip still running then is
    cancelled (its worker process is killed) and becomes a TimeoutError record, and the rest go on."""
    try:
        import ray
    except ImportError as e:
        raise RuntimeError("--executor ray needs Ray: pip install 'mabench[ray]'") from e
    import os
    import time

    started = not ray.is_initialized()
    if started:
        if os.environ.get("RAY_ADDRESS"):
            ray.init(address=os.environ["RAY_ADDRESS"], log_to_driver=False)
        else:
            ray.init(num_cpus=max(1, workers), include_dashboard=False, log_to_driver=False)
    limit = settings.clip_timeout_s
    try:
        task = ray.remote(annotate_clip)
        slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        queue = list(clips)
        running: dict = {}  # ObjectRef -> (clip, when it was handed to Ray)
        while queue or running:
            while queue and len(running) < slots:
                c = queue.pop(0)
                running[task.remote(str(c.resolve()), settings, settings.overlay)] = (c, time.monotonic())
            wait_s = None if limit is None else \
                max(0.0, min(t0 for _, t0 in running.values()) + limit - time.monotonic())
            done, _ = ray.wait(list(running), num_returns=1, timeout=wait_s)
            for ref in done:
                c, _ = running.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as e:  # noqa: BLE001 - a crashed worker costs only its clip
                    yield {"clip": c.name, "error": f"{type(e).__name__}: {e}"}
            if limit is not None:
                for ref, (c, t0) in list(running.items()):
                    if time.monotonic() - t0 >= limit:
                        ray.cancel(ref, force=True)
                        del running[ref]
                        yield {"clip": c.name, "error": f"TimeoutError: no result after {limit:g} s "
                               "(clip_timeout_s); its Ray task was cancelled"}
    finally:
        if started:
            ray.shutdown()
