"""The eval runner: bounded-concurrency asyncio over a benchmark, resumable, one clip decoded once.

Questions are queued clip by clip, so the questions of one clip go out together (server-side
prefix / encoder caches hit) and the frame cache needs to hold only the clips in flight.

Run directory:
  config.json        resolved settings, package version, benchmark hash (never secrets)
  predictions.jsonl  one line per answer, appended and flushed (the last line per qid wins)
  scores.json        on completion, when the benchmark has answers
  submission.json    on completion, the official submission format
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from mabench.data.io import Benchmark
from mabench.data.predictions import (
    SCORING_FIELDS,
    Prediction,
    append_jsonl,
    latest_by_qid,
    read_predictions,
    write_submission,
)
from mabench.data.records import Question
from mabench.evaluation.protocol import Protocol
from mabench.evaluation.results import failed_clips, failed_share_note, request_tally, score_run
from mabench.evaluation.run_setup import (
    NOT_ASKED,
    EvalSettings,
    RunFailed,
    RunResult,
    RunStopped,
    build_config,
    check_clips,
    commonest_error,
    error_fix,
    prepare_run_dir,
    resolve_clip,
)
from mabench.evaluation.rundir import RunDir
from mabench.evaluation.strategies import StrategyError, choose_examples, fewshot_template, majority
from mabench.evaluation.tasks import task
from mabench.models.base import Backend, Example, GenerationConfig, Request
from mabench.models.retry import ask_until_done
from mabench.video.cache import FrameCache, FrameCacheError, check_disk_cache
from mabench.video.decode import VideoError

# Clips decoded ahead of the workers, so a clip's decode overlaps the previous clips' requests
# instead of stalling the workers that reach it first.
PREFETCH_CLIPS = 3
# A question not sent because questions of the same request shape got an error that repeats
# (`NOT_ASKED`) on this many different clips (one clip's 400 may be about that clip: too long for the context).
SHAPE_STRIKE_CLIPS = 2
CONTROLLED_CLIPS_KEPT = 64  # clips whose controlled frames are kept (the clips in flight are what is needed)
CONTROLLED_DIR = "controlled_clips"  # video mode: the clips re-encoded under the run's control


# --- the run ------------------------------------------------------------------------------------


def make_request(q: Question, prompts: dict[str, str], frames: Any = None, clip_path: Path | None = None,
                 gen: GenerationConfig | None = None, examples: tuple[Example, ...] = (),
                 protocol: Protocol | None = None) -> Request:
    """The request eval sends for `q`: its system prompt and user text come from the task registry,
    the same turn the training corpus is made of (`mabench.evaluation.tasks.Task.turn`); `prompts`
    are the prompts as sent (a strategy's additions already applied, `Strategy.prompts`)."""
    system, user = task(q.task).turn(q.question, prompts)
    return Request(q.qid, q.task, system, user, q.spec.choices, frames, clip_path,
                   gen if gen is not None else GenerationConfig(), examples,
                   system_always=protocol is not None and protocol.system_always)


def cap_text(text: str | None, max_bytes: int) -> tuple[str | None, int | None]:
    """(text cut to at most `max_bytes` of UTF-8 on a character boundary, its full size in bytes if cut)."""
    if text is None or max_bytes <= 0 or len(text) * 4 <= max_bytes:
        return text, None
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text, None
    return data[:max_bytes].decode("utf-8", errors="ignore"), len(data)


async def run_eval(bench: Benchmark, backend: Backend, settings: EvalSettings, out: Path,
                   prompts: dict[str, str], *, force: bool = False, retry_errors: bool = False,
                   selection: dict[str, Any] | None = None,
                   on_progress: Callable[[int, int, int], None] | None = None,
                   on_start: Callable[[int, int], None] | None = None) -> RunResult:
    """Answer every question of `bench` not yet answered in `out`, then score and export.

    Holds the run directory's lock throughout: a second `mabench eval` on the same `out` is refused
    (`RunLocked`) instead of asking every question again beside this one."""
    t_start = time.perf_counter()
    # the protocol decides frames and generation (under `kit`, the official runner's whatever was given)
    settings = replace(settings, sampling=settings.protocol.sampling(settings.sampling),
                       gen=settings.protocol.generation(settings.gen))
    strategy = settings.strategy
    prompts = strategy.prompts(prompts)  # from here on: the prompts as sent
    if strategy.fewshot:
        if settings.support is None:
            raise StrategyError(f"{strategy.name}: few-shot needs a support benchmark with answers (--support)")
        # refused before the run dir is touched
        choose_examples(settings.support, bench, strategy.fewshot)
    if (backend.needs_frames or backend.video_mode == "video") and settings.videos is not None \
            and not settings.allow_missing:
        check_clips(bench, settings.videos)  # before the run dir is touched: nothing looks like a run
    if backend.needs_frames and settings.disk_cache is not None:
        try:
            check_disk_cache(settings.disk_cache)
        except FrameCacheError as err:
            raise RunStopped(str(err)) from None
    with RunDir(out).lock("mabench eval"):
        return await _run_eval_locked(bench, backend, settings, out, prompts, t_start, force=force,
                                      retry_errors=retry_errors, selection=selection, on_progress=on_progress,
                                      on_start=on_start)


async def _run_eval_locked(bench: Benchmark, backend: Backend, settings: EvalSettings, out: Path,
                           prompts: dict[str, str], t_start: float, *, force: bool, retry_errors: bool,
                           selection: dict[str, Any] | None,
                           on_progress: Callable[[int, int, int], None] | None,
                           on_start: Callable[[int, int], None] | None) -> RunResult:
    config = build_config(bench, backend, settings, prompts, selection or {})
    strategy = settings.strategy
    chosen = choose_examples(settings.support, bench, strategy.fewshot) \
        if strategy.fewshot and settings.support is not None else {}
    if chosen:
        config["strategy"]["fewshot_examples"] = {code: [e.qid for e in exs] for code, exs in chosen.items()}
    prepare_run_dir(out, config, force)
    preds_path = RunDir(out).predictions_path
    done = latest_by_qid(read_predictions(preds_path, ("qid", "error")))
    todo = [q for q in bench if q.qid not in done or (retry_errors and done[q.qid].error is not None)]
    skipped = len(bench) - len(todo)
    earlier_errors = sum(1 for q in bench if q.qid in done and done[q.qid].error is not None) \
        if not retry_errors else 0
    if on_start:
        on_start(len(bench), skipped)

    cache = FrameCache(settings.sampling, settings.cache_mb, settings.disk_cache)
    # the support clips' frames: sampled like the evaluated clips', decoded once per task's examples
    support_cache = FrameCache(settings.sampling, settings.cache_mb, settings.disk_cache) if chosen else None
    example_turns: dict[str, tuple[Example, ...]] = {}
    example_lock = asyncio.Lock()

    async def examples_of(code: str) -> tuple[Example, ...]:
        if code not in chosen:
            return ()
        async with example_lock:
            if code not in example_turns:
                turns = []
                for e in chosen[code]:
                    frames = path = None
                    if backend.needs_frames or backend.video_mode == "video":
                        if settings.support_videos is None:
                            raise VideoError("few-shot examples need --support-videos")
                        path = resolve_clip(settings.support_videos, e.video)
                        if backend.needs_frames and support_cache is not None:
                            frames = await support_cache.get(path)
                    turns.append(Example(e.question, strategy.example_answer(str(e.answer)), frames, path))
                example_turns[code] = tuple(turns)
            return example_turns[code]
    # Clip-major order (the official file is shuffled): a clip's questions go out together.
    ordered = Benchmark(todo).clip_major()
    queue: asyncio.Queue[Question] = asyncio.Queue()
    for q in ordered:
        queue.put_nowait(q)
    counters: dict[str, Any] = {"done": 0, "errors": 0, "unreachable": 0}  # unreachable: no answer, in a row
    shape_locks: dict[tuple, asyncio.Lock] = {}  # request shape -> one question at a time until answered
    open_shapes: set[tuple] = set()  # request shapes the server has answered
    strikes: dict[tuple, set[str]] = {}  # (shape, repeating error) -> clips whose question got it
    bad_shapes: dict[tuple, str] = {}  # request shape -> the error that every request of it gets
    stop = asyncio.Event()
    clip_paths: dict[str, Path] = {}  # resolving costs a few stat calls; once per clip is enough
    remaining = Counter(q.video_id for q in todo)  # questions left per clip, for the prefetch window
    window = asyncio.Semaphore(settings.concurrency // 12 + 1 + PREFETCH_CLIPS)
    in_window: set[str] = set()  # clips the prefetcher holds a window slot for

    control = settings.control
    shown: OrderedDict[str, Any] = OrderedDict()  # clip -> its frames under the control (one object per clip:
    # the backend encodes a clip's frames once for its 12 questions)
    videos_made: dict[Path, asyncio.Future] = {}
    video_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mabench-control")

    def controlled_frames(clip: str, frames: Any) -> Any:
        if control.is_none:
            return frames
        hit = shown.get(clip)
        if hit is None or hit[0] is not frames:
            shown[clip] = hit = (frames, control.frames(frames, clip))
            while len(shown) > CONTROLLED_CLIPS_KEPT:
                shown.popitem(last=False)
        return hit[1]

    async def controlled_video(path: Path) -> Path:
        if path not in videos_made:  # one clip at a time: a clip's frames are held whole while it is re-encoded
            videos_made[path] = asyncio.ensure_future(asyncio.get_running_loop().run_in_executor(
                video_pool, control.video, path, out / CONTROLLED_DIR))
        made = await asyncio.shield(videos_made[path])
        assert made is not None  # blank never gets here
        return made

    def clip_path_of(q: Question) -> Path:
        if settings.videos is None:
            raise VideoError("no --videos folder given")
        if q.video not in clip_paths:
            clip_paths[q.video] = resolve_clip(settings.videos, q.video)
        return clip_paths[q.video]

    async def prefetch() -> None:
        """Decode clips in queue order, at most `window` clips ahead of the finished ones."""
        seen = set()
        for q in ordered:
            if q.video_id in seen:
                continue
            seen.add(q.video_id)
            await window.acquire()
            if remaining[q.video_id] == 0:  # the workers got there first
                window.release()
                continue
            in_window.add(q.video_id)
            try:
                await cache.get(clip_path_of(q))
            except VideoError:
                pass  # the clip's questions report it

    with open(preds_path, "a", encoding="utf-8") as sink:

        async def answer(q: Question) -> Prediction:
            frames = None
            clip_path = None
            try:
                if (backend.needs_frames or backend.video_mode == "video") and control.shows_frames:
                    clip_path = clip_path_of(q)
                    if backend.needs_frames:
                        frames = controlled_frames(q.video_id, await cache.get(clip_path))
                    elif not clip_path.exists():
                        raise VideoError(f"{clip_path}: clip not found")
                    elif not control.is_none:  # video mode: the clip re-encoded under the control
                        clip_path = await controlled_video(clip_path)
            except VideoError as err:
                return Prediction(q.qid, q.task, q.video, error=f"clip: {err}")
            try:
                examples = await examples_of(q.task)
            except VideoError as err:
                return Prediction(q.qid, q.task, q.video, error=f"few-shot example clip: {err}")
            pred = Prediction(q.qid, q.task, q.video, frames=frames.summary() if frames else None)
            if examples:
                pred.extra["examples"] = [e.qid for e in chosen[q.task]]
            # Until a request shape (task, frame count, video or frames, few-shot turns) has been
            # answered once, its questions go one at a time; when the same error that repeats (a 404
            # from a --base-url without /v1, a 400 for images) comes back on questions of
            # SHAPE_STRIKE_CLIPS different clips, the rest of that shape are not sent: a few requests
            # learn it, not 12,000. A 400 about one question (its clip too long for the context)
            # stops nothing: the next clip's question goes and is answered.
            shape = (q.task, len(frames.data_urls) if frames is not None else 0, clip_path is not None and
                     frames is None, len(examples))
            lock = None if shape in open_shapes else shape_locks.setdefault(shape, asyncio.Lock())
            if lock is not None:
                await lock.acquire()
            try:
                if shape in bad_shapes:
                    pred.error = f"{bad_shapes[shape]}{NOT_ASKED}questions of this task and request shape on " \
                                 f"{SHAPE_STRIKE_CLIPS} clips got this error; fix it and re-run with --retry-errors)"
                    pred.extra["error_kind"] = "status"
                    return pred
                n = strategy.samples(q.task)
                if n > 1:
                    return await vote(q, pred, frames, clip_path, examples, n)
                gen = strategy.generation(settings.gen, q.task)
                req = make_request(q, prompts, frames, clip_path, gen, examples, settings.protocol)
                resp, error, attempts = await ask_until_done(backend, req, settings)
                if resp is not None:
                    open_shapes.add(shape)
                elif lock is not None and error is not None and error.repeats:
                    clips_hit = strikes.setdefault((shape, str(error)), set())
                    clips_hit.add(q.video_id)
                    if len(clips_hit) >= SHAPE_STRIKE_CLIPS:
                        bad_shapes[shape] = str(error)
            finally:
                if lock is not None:
                    lock.release()
            if attempts > 1:
                pred.extra["attempts"] = attempts
            if resp is None:
                pred.error = str(error)
                pred.extra["error_kind"] = error.kind if error is not None else None
                return pred
            # Extracted from the whole reply (a long reasoning trace ends with its answer), or under
            # `cot` from its final line; stored capped.
            ex = strategy.extract(settings.protocol.answer_text(resp.text), q.task, q.options)
            raw, raw_bytes = cap_text(resp.text, settings.max_output_bytes)
            answer_text, answer_bytes = cap_text(ex.answer, settings.max_output_bytes)
            pred.raw_output, pred.pred_answer, pred.method, pred.reason = raw, answer_text, ex.method, ex.reason
            if raw_bytes or answer_bytes:
                pred.extra["truncated"] = {"raw_output_bytes": raw_bytes or len(resp.text.encode("utf-8")),
                                           "kept_bytes": settings.max_output_bytes}
            pred.latency_s, pred.usage = round(resp.latency_s, 4), resp.usage
            return pred

        async def vote(q: Question, pred: Prediction, frames: Any, clip_path: Path | None,
                       examples: tuple[Example, ...], n: int) -> Prediction:
            """`vote:N`: N samples (seeds seed, seed+1, ... when a seed is set), majority of their answers."""
            samples: list[dict[str, Any]] = []
            answers: list[str | None] = []
            usage: dict[str, int] = {}
            latency = 0.0
            base = strategy.generation(settings.gen, q.task)
            for i in range(n):
                gen = replace(base, seed=base.seed + i if base.seed is not None else None)
                resp, error, _ = await ask_until_done(backend, make_request(q, prompts, frames, clip_path, gen,
                                                                            examples, settings.protocol), settings)
                if resp is None:
                    samples.append({"error": str(error)})
                    answers.append(None)
                    if error is not None and error.unanswered:
                        pred.error, pred.extra["error_kind"] = str(error), error.kind
                        return pred
                    continue
                ex = strategy.extract(settings.protocol.answer_text(resp.text), q.task, q.options)
                raw, _ = cap_text(resp.text, settings.max_output_bytes // n)
                samples.append({"raw_output": raw, "pred_answer": ex.answer, "method": ex.method})
                answers.append(ex.answer)
                latency += resp.latency_s
                for k, v in (resp.usage or {}).items():
                    if isinstance(v, int):
                        usage[k] = usage.get(k, 0) + v
            if all("error" in s for s in samples):
                pred.error = f"all {n} samples failed: {samples[-1]['error']}"
                pred.extra["samples"] = samples
                return pred
            winner, counts = majority(answers)
            pred.pred_answer = winner
            pred.method = "vote" if winner is not None else "vote_tie" if counts else "vote_none"
            pred.reason = None if winner is not None else f"no majority among {n} samples: {counts}"
            pred.raw_output = next((s["raw_output"] for s, a in zip(samples, answers, strict=True)
                                    if a == winner and winner is not None), None)
            pred.extra["samples"], pred.extra["vote"] = samples, {"n": n, "counts": counts, "winner": winner}
            pred.latency_s, pred.usage = round(latency, 4), usage or None
            return pred

        async def worker() -> None:
            while not stop.is_set():
                try:
                    q = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                pred = await answer(q)
                remaining[q.video_id] -= 1
                if remaining[q.video_id] == 0 and q.video_id in in_window:
                    in_window.discard(q.video_id)
                    window.release()
                append_jsonl(sink, pred.to_dict())
                counters["done"] += 1
                counters["errors"] += pred.error is not None
                if pred.extra.get("error_kind") in ("connection", "timeout"):
                    counters["unreachable"] += 1
                    counters["last_error"] = pred.error
                    if 0 < settings.max_connection_failures <= counters["unreachable"]:
                        stop.set()
                        # the server is gone: drop the requests in flight (never answered, so
                        # not recorded; a re-run asks them)
                        for w in workers:
                            if w is not asyncio.current_task():
                                w.cancel()
                        return
                elif pred.error is None or pred.request_failed:
                    counters["unreachable"] = 0  # the server answered (a clip error says nothing)
                if on_progress:
                    on_progress(counters["done"], len(todo), counters["errors"])

        prefetcher = asyncio.create_task(prefetch()) if backend.needs_frames and control.shows_frames else None
        workers: list[asyncio.Task] = []
        workers += [asyncio.create_task(worker()) for _ in range(max(1, settings.concurrency))]
        try:
            results = await asyncio.gather(*workers, return_exceptions=True)
            for r in results:  # a disk error in a worker must reach the user, not vanish
                if isinstance(r, Exception):
                    raise r
        finally:
            for w in workers:
                w.cancel()
            if prefetcher is not None:
                prefetcher.cancel()
                await asyncio.gather(prefetcher, return_exceptions=True)
            cache.close()
            video_pool.shutdown(wait=False, cancel_futures=True)
            if support_cache is not None:
                support_cache.close()

    if stop.is_set():
        where = getattr(backend, "base_url", None) or backend.name
        raise RunStopped(
            f"{counters['unreachable']} questions in a row got no answer from {where} "
            f"({counters.get('last_error')}); stopped after {counters['done']} answers this run, "
            f"finished answers kept in {preds_path}: {error_fix(str(counters.get('last_error')))}, then re-run "
            "the same command with --retry-errors (no scores or submission written)")

    preds = latest_by_qid(read_predictions(preds_path, SCORING_FIELDS))
    asked = {q.qid: preds[q.qid] for q in bench if q.qid in preds}
    if failed_share_note(asked, settings.max_error_share) is not None:
        if bench.has_answers:
            score_run(out, bench)  # partial: scoring reads the same share from config.json
        sent, failed = request_tally(asked)
        text, n = commonest_error(failed)
        raise RunFailed(
            f"{len(failed)} of {sent} requests failed (commonest, {n}x: {text}): {error_fix(text)}; "
            f"answers kept in {preds_path}, scores marked partial, no submission written; fix it and re-run the "
            "same command with --retry-errors")
    details = {code: {"strategy": strategy.name, "fewshot": {
        "template": fewshot_template(strategy, code, exs), "example_qids": [e.qid for e in exs]}}
        for code, exs in chosen.items()} if chosen else \
        ({code: {"strategy": strategy.name} for code in prompts} if not strategy.is_zero_shot else None)
    if settings.protocol.is_kit:  # each prompt entry says it was sent under the official runner's conditions
        details = {code: {**(details or {}).get(code, {}), "protocol": "kit"} for code in prompts}
    if not control.is_none:  # ... and under which video control
        details = {code: {**(details or {}).get(code, {}), "control": control.describe()} for code in prompts}
    write_submission(RunDir(out).submission_path, {q.qid: preds[q.qid] for q in bench if q.qid in preds}, prompts,
                     details)
    scores = score_run(out, bench)[0] if bench.has_answers else None
    errors = sum(1 for q in bench if q.qid in preds and preds[q.qid].error is not None)
    warnings = [f"the frame cache stopped writing to disk ({cache.disk_error}); frames were decoded in memory "
                "instead"] if cache.disk_error else []
    return RunResult(out, len(bench), len(todo), skipped, errors, failed_clips(preds), scores,
                     time.perf_counter() - t_start, cache.stats.decodes, earlier_errors, warnings)
