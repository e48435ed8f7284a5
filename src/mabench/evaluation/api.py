"""Evaluate, judge and score, as functions: what `mabench eval`, `mabench judge` and `mabench score`
run, and what `mabench.evaluate` / `mabench.judge` / `mabench.score` are (see `mabench.api`).

Here rather than in `mabench.api` so that the build pipeline's blind check can call `evaluate`
without `build` and `api` importing each other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mabench import defaults
from mabench.data.io import Benchmark, BenchmarkError, load_benchmark
from mabench.data.records import strip_video_suffix
from mabench.evaluation.controls import Control
from mabench.evaluation.judge import (
    DEFAULT_PARSE_RETRIES,
    JudgeCache,
    JudgePolicy,
    JudgeResult,
    JudgeSettings,
    run_judge,
)
from mabench.evaluation.metrics import Scores, normalize_prediction
from mabench.evaluation.prompts import apply_prompts, load_prompts
from mabench.evaluation.protocol import Protocol
from mabench.evaluation.results import RunScore, score_predictions, score_run
from mabench.evaluation.run_setup import EvalSettings, RunResult
from mabench.evaluation.rundir import RunDir
from mabench.evaluation.runner import run_eval
from mabench.evaluation.strategies import Strategy, parse_strategy
from mabench.models import Backend, GenerationConfig, make_backend
from mabench.taxonomy import parse_task_codes
from mabench.video.sampling import SamplingConfig

PathLike = str | Path


def _prompts(prompts: PathLike | Mapping[str, str] | None) -> dict[str, str]:
    if prompts is None or isinstance(prompts, (str, Path)):
        return load_prompts(prompts)
    return apply_prompts(dict(prompts) if isinstance(prompts, Mapping) else prompts, "prompts")


def _check_eval_args(model: Any, tasks: Any, limit: Any, concurrency: Any) -> list[str] | None:
    """The API's arguments checked as the CLI checks its options, with its messages; the task codes."""
    if not isinstance(model, str) and not all(hasattr(model, a) for a in ("generate", "probe", "describe")):
        raise ValueError(f"model: expected a spec ('openai:NAME', 'blind:NAME', 'hf:PATH', 'random', 'prior') "
                         f"or a Backend, got {model!r}")
    codes = parse_task_codes(tasks, "tasks")
    for name, value in (("limit", limit), ("concurrency", concurrency)):
        if value is None and name == "limit":
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name}: expected a whole number of at least 1, got {value!r}")
    return codes


async def evaluate_async(bench: Benchmark, backend: Backend, out: PathLike, settings: EvalSettings,
                         prompts: dict[str, str], *, probe: bool = True, force: bool = False,
                         retry_errors: bool = False, selection: dict[str, Any] | None = None,
                         judges: Mapping[str, Backend] | None = None, judge_cache: PathLike | None = None,
                         on_progress: Callable[[int, int, int], None] | None = None,
                         on_start: Callable[[int, int], None] | None = None,
                         close: bool = True) -> tuple[RunResult, JudgeResult | None]:
    """`evaluate` for callers with their own event loop and backends (the CLI): probe the model and
    the judges, run, judge, rescore. Closes the backends afterwards unless `close=False`."""
    judges = dict(judges or {})
    try:
        if judges and judge_cache:
            JudgeCache(judge_cache).close()  # an unusable cache is one line now, not after every answer
        if probe:
            await backend.probe()
            for jb in judges.values():  # fail before spending time on the model, not after
                await jb.probe()
        result = await run_eval(bench, backend, settings, Path(out), prompts, force=force, retry_errors=retry_errors,
                                selection=selection, on_progress=on_progress, on_start=on_start)
        jres = None
        if judges:
            jres = await judge_async(bench, Path(out), judges, settings, judge_cache, retry_errors=retry_errors,
                                     probe=False)
            result.scores = score_run(Path(out), bench)[0]
        return result, jres
    finally:
        if close:
            for b in [backend, *judges.values()]:
                await b.aclose()


def evaluate(benchmark: PathLike | Benchmark, model: str | Backend, out: PathLike, *,
             videos: PathLike | None = None, base_url: str | None = None,
             api_key_env: str = defaults.API_KEY_ENV, prompts: PathLike | Mapping[str, str] | None = None,
             sampling: SamplingConfig | None = None, gen: GenerationConfig | None = None,
             tasks: Sequence[str] | None = None, limit: int | None = None,
             concurrency: int = defaults.CONCURRENCY, request_timeout_s: float = defaults.REQUEST_TIMEOUT_S,
             settings: EvalSettings | None = None, seed: int = 0, prior_key: PathLike | None = None,
             force: bool = False, retry_errors: bool = False, probe: bool = True,
             strategy: str | Sequence[str] | Strategy | None = None, support: PathLike | Benchmark | None = None,
             support_videos: PathLike | None = None, protocol: str = "mabench", control: str = "none",
             control_seed: int = 0, on_progress: Callable[[int, int, int], None] | None = None) -> RunResult:
    """Run `model` on every question of `benchmark` not yet answered in `out` (resumable), then write
    scores.json (when the benchmark has answers) and submission.json. Returns the run's `RunResult`.

    `model` is a spec (`openai:NAME`, `blind:NAME`, `hf:PATH`, `random`, `prior`) or a `Backend`;
    `settings` overrides everything the keyword arguments would set (videos, sampling, retries...).
    `strategy` is a prompt strategy (`"cot+fewshot:2"`, see `mabench.evaluation.strategies`); few-shot
    takes its examples from `support` (an answered benchmark) and its clips from `support_videos`.
    `protocol="kit"` asks as the official MAC 2026 runner does (`mabench.evaluation.protocol`).
    `control` ("reverse", "shuffle", "single", "blank") changes what the clip shows (`mabench.evaluation.controls`).

    >>> res = evaluate("bench.json", "openai:Qwen/Qwen3-VL-8B-Instruct", "runs/qwen",
    ...                videos="clips/", base_url="http://127.0.0.1:8000/v1")  # doctest: +SKIP
    >>> res.scores.closed_avg  # doctest: +SKIP
    """
    codes = _check_eval_args(model, tasks, limit, concurrency)
    bench = benchmark if isinstance(benchmark, Benchmark) else load_benchmark(benchmark)
    bench = bench.select(codes, limit)
    if not len(bench):
        raise BenchmarkError(f"tasks {','.join(codes or [])}: no question of {bench.path or 'the benchmark'} is "
                             "one of them")
    prompt_map = _prompts(prompts)
    if settings is None:
        settings = EvalSettings(videos=Path(videos) if videos is not None else None,
                                sampling=sampling or SamplingConfig(), gen=gen or GenerationConfig(seed=seed or None),
                                concurrency=concurrency, request_timeout_s=request_timeout_s)
    if protocol != "mabench" or settings.protocol.name != "mabench":
        settings = replace(settings, protocol=Protocol(protocol if protocol != "mabench" else settings.protocol.name))
    if control != "none":
        settings = replace(settings, control=Control(control, control_seed))
    if strategy is not None or support is not None:
        sup = support if isinstance(support, Benchmark) or support is None else load_benchmark(support)
        sv = Path(support_videos) if support_videos is not None else settings.support_videos
        settings = replace(settings, strategy=parse_strategy(strategy), support=sup, support_videos=sv)
    backend = model if not isinstance(model, str) else make_backend(
        model, base_url, api_key_env, key=str(prior_key) if prior_key else None, seed=seed,
        timeout_s=settings.request_timeout_s)
    result, _ = asyncio.run(evaluate_async(
        bench, backend, out, settings, prompt_map, probe=probe, force=force, retry_errors=retry_errors,
        selection={"tasks": codes, "limit": limit}, on_progress=on_progress))
    return result


async def judge_async(bench: Benchmark, run: PathLike, judges: Mapping[str, Backend], settings: JudgeSettings,
                      cache: PathLike | None = None, *, parse_retries: int = DEFAULT_PARSE_RETRIES,
                      retry_errors: bool = False, probe: bool = True) -> JudgeResult:
    """Judge the run's MADU/MARE answers with every judge (holding the run's lock); the caller
    closes the judges."""
    if probe:
        for backend in judges.values():
            await backend.probe()
    rd = RunDir(run)
    with rd.lock("mabench judge"):
        jc = JudgeCache(cache) if cache else None
        try:
            return await run_judge(bench, rd.predictions(None), dict(judges), rd.judgments_path, settings, jc,
                                   parse_retries=parse_retries, retry_errors=retry_errors)
        finally:
            if jc:
                jc.close()


@dataclass
class JudgeOutcome:
    result: JudgeResult  # calls made, cached, empty, errors, skipped
    scores: Scores  # the run's scores afterwards (also in scores.json)
    extra: dict[str, Any]  # judges, agreement, failed clips (as scores.json has them)


def judge(run: PathLike, judges: Sequence[str] | Mapping[str, Backend], *, base_url: str | None = None,
          key: PathLike | None = None, api_key_env: str = defaults.API_KEY_ENV,
          settings: JudgeSettings | None = None, cache: PathLike | None = None, retry_errors: bool = False,
          parse_retries: int = DEFAULT_PARSE_RETRIES) -> JudgeOutcome:
    """Judge a run's open answers on the rubric (`openai:NAME` or `openai:NAME@URL` per judge) and
    rescore it.

    >>> judge("runs/qwen", ["openai:judge"], base_url="http://127.0.0.1:8001/v1").scores.final  # doctest: +SKIP
    """
    policy: JudgeSettings = settings if settings is not None else JudgePolicy()
    if isinstance(judges, Mapping):
        backends = dict(judges)
    else:
        backends = {}
        for spec in judges:
            name, _, url = spec.partition("@")
            if not name.startswith("openai:"):
                raise ValueError(f"judge {spec}: expected openai:NAME or openai:NAME@URL")
            backends[name] = make_backend(name, url or base_url, api_key_env, timeout_s=policy.request_timeout_s)
    bench = RunDir(run).benchmark(key)

    async def go() -> JudgeResult:
        try:
            return await judge_async(bench, run, backends, policy, cache, parse_retries=parse_retries,
                                     retry_errors=retry_errors)
        finally:
            for b in backends.values():
                await b.aclose()

    res = asyncio.run(go())
    s, extra = score_run(Path(run), bench)
    return JudgeOutcome(res, s, extra)


def score(predictions: PathLike, key: PathLike | None = None, judgments: PathLike | None = None) -> Scores:
    """Scores from the one scoring path.

    A run directory: its scores (against its own benchmark, or `key`), written to scores.json. A
    submission JSON or predictions JSONL: scored against `key` as a submission (missing answers are
    wrong), with `judgments` (a judgments.jsonl) for the open tasks.

    >>> score("runs/qwen").final            # doctest: +SKIP
    >>> score("submission.json", key="answers.json").closed_avg  # doctest: +SKIP
    """
    path = Path(predictions)
    if path.is_dir():
        run = RunDir(path)
        run.config()  # refuses a folder that is not a run, with the reason
        return score_run(path, run.benchmark(key))[0]
    if key is None:
        raise BenchmarkError(f"{path}: scoring a predictions file needs the key with answers")
    return score_file(path, key, judgments).scores


def score_file(predictions: PathLike, key: PathLike, judgments: PathLike | None = None) -> SubmissionScore:
    """`score` of a submission JSON / predictions JSONL, with what `mabench score` reports beside it."""
    from mabench.data.predictions import read_answers_file
    from mabench.evaluation.judge import read_judgments

    bench = load_benchmark(key)
    if not bench.has_answers:
        raise BenchmarkError(f"{key}: has no answers; pass a benchmark file with an 'answer' per question as --key")
    home = RunDir(Path(predictions).parent)
    if home.config_path.exists():  # a run's own predictions / submission: the key must ask its questions
        home.benchmark(key)
    preds, _ = read_answers_file(predictions)
    for qid, p in preds.items():  # predictions rows say their task and clip: they must be the key's
        q = bench.by_qid.get(qid)
        if q is not None and ((p.task is not None and p.task != q.task)
                              or (p.video is not None and strip_video_suffix(p.video) != q.video_id)):
            raise BenchmarkError(f"--key {key}: question {qid!r} is a {q.task} question on {q.video_id} there, but "
                                 f"{predictions} answered a {p.task} question on {p.video}; the key is another "
                                 "benchmark's: pass the key of the benchmark the answers were made on")
    rows = read_judgments(judgments) if judgments else []
    by_qid = bench.by_qid
    unknown = [qid for qid in preds if qid not in by_qid]
    preds = {qid: normalize_prediction(p, by_qid[qid]) for qid, p in preds.items() if qid in by_qid}
    return SubmissionScore(score_predictions(bench, preds, rows, missing_is_wrong=True), len(bench), unknown)


@dataclass
class SubmissionScore:
    run: RunScore
    questions: int
    unknown_qids: list[str]  # answers naming qids the key does not have (ignored)

    @property
    def scores(self) -> Scores:
        return self.run.scores


