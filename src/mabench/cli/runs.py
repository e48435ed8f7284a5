"""`mabench score`, `eval`, `judge`, `report`: thin wrappers of the Python API (`mabench.api`)."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from mabench import defaults
from mabench.cli.common import (
    _csv,
    _malformed_message,
    _repair,
    app,
    console,
    err_console,
    fail,
    on_sigterm,
    os_error_message,
    was_terminated,
)
from mabench.data import BenchmarkError, load_benchmark, write_json
from mabench.data.io import MalformedLineError
from mabench.evaluation.judge import DEFAULT_PARSE_RETRIES
from mabench.evaluation.run_setup import (
    BACKOFF_BASE_S,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_CONNECTION_FAILURES,
    DEFAULT_MAX_OUTPUT_BYTES,
    DEFAULT_MAX_RETRIES,
)
from mabench.evaluation.rundir import RunDir
from mabench.evaluation.strategies import DEFAULT_COT_MAX_TOKENS, DEFAULT_VOTE_TEMPERATURE
from mabench.report.tables import coverage_table, scores_table
from mabench.video.cache import DEFAULT_MEMORY_MB
from mabench.video.sampling import (
    DEFAULT_FPS,
    DEFAULT_JPEG_QUALITY,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SIDE,
    DEFAULT_NUM_FRAMES,
    DEFAULT_STRATEGY,
)


@app.command("sweep")
def sweep_cmd(
    config: Path = typer.Argument(..., metavar="CONFIG", help="Sweep YAML (see mabench.sweep)."),
    out: Path | None = typer.Option(None, "--out", help="Sweep folder (default: the config's 'out')."),
    force: bool = typer.Option(False, "--force", help="Start cells again whose settings changed."),
) -> None:
    """Run a grid of prompt strategies x prompts x frame settings; rank the cells against a baseline."""
    from mabench.evaluation.run_setup import RunConfigError, RunStopped
    from mabench.evaluation.rundir import RunLocked
    from mabench.evaluation.strategies import StrategyError
    from mabench.models import EndpointError
    from mabench.sweep import SweepError, load_config, run_sweep

    try:
        cfg = load_config(config, out)
        res = run_sweep(cfg, force=force, log=lambda m: err_console.print(escape(m)))
    except (SweepError, StrategyError, BenchmarkError, EndpointError, RunConfigError, RunStopped, RunLocked,
            ValueError) as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e))
    console.print(res.markdown, markup=False, highlight=False)
    console.print(f"wrote {res.out / 'sweep.md'}, sweep.html and sweep.json", markup=False)


@app.command("score")
def score_cmd(
    predictions: Path = typer.Argument(..., metavar="PREDICTIONS", help="Submission JSON or predictions JSONL."),
    key: Path = typer.Option(..., "--key", help="Benchmark file with answers."),
    judgments: Path | None = typer.Option(None, "--judgments", help="judgments.jsonl for MADU/MARE."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the scores as JSON here."),
    repair: bool = typer.Option(False, "--repair",
                                help="Set unreadable lines of a predictions / judgments JSONL aside (.bad) and go on."),
) -> None:
    """Score predictions against a key; missing answers count as wrong."""
    from mabench.evaluation.api import score_file

    if repair:
        for p in (predictions, judgments):
            if p is not None and p.suffix.lower() == ".jsonl" and p.exists():
                _repair(p)
    try:
        res = score_file(predictions, key, judgments)
    except MalformedLineError as e:
        fail(_malformed_message(e, "`mabench score`"))
    except BenchmarkError as e:
        fail(str(e))
    s, unknown = res.scores, res.unknown_qids
    console.print(scores_table({predictions.name: s}))
    console.print(coverage_table(s))
    missing = sum(ts.missing for ts in s.tasks.values())
    if missing:
        console.print(f"[yellow]{missing} of {res.questions} questions missing from {predictions}: "
                      "scored as wrong.[/]")
    if unknown:
        console.print(f"[yellow]{len(unknown)} answer(s) name qids not in the key (ignored), "
                      f"e.g. {unknown[0]}.[/]")
    for note in s.notes:
        console.print(f"note: {note}")
    if json_out:
        write_json(json_out, s.to_dict())
        console.print(f"scores written to {json_out}")


@app.command("eval")
def eval_cmd(
    bench_path: Path = typer.Argument(..., metavar="BENCH", help="Benchmark file (official JSON or JSONL)."),
    model: str = typer.Option(..., "--model", help="openai:NAME, blind:NAME, hf:PATH_OR_ID, random or prior."),
    out: Path = typer.Option(..., "--out", help="Run directory (created; re-running resumes)."),
    adapter: Path | None = typer.Option(None, "--adapter", help="LoRA adapter folder for an hf: model."),
    device: str | None = typer.Option(None, "--device", help="hf: models: cuda, cuda:1, cpu (default: cuda if any)."),
    dtype: str | None = typer.Option(None, "--dtype", help="hf: models: bf16, fp16 or fp32 (default: bf16 on GPU)."),
    videos: Path | None = typer.Option(None, "--videos", help="Folder with the clips."),
    base_url: str | None = typer.Option(None, "--base-url", help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8000/v1"),
    api_key_env: str = typer.Option(defaults.API_KEY_ENV, "--api-key-env", help="Env variable holding the API key."),
    concurrency: int = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", min=1, help="Requests in flight."),
    frames: int = typer.Option(DEFAULT_NUM_FRAMES, "--frames", min=1, help="Frames per clip (uniform)."),
    protocol: str = typer.Option(
        "mabench", "--protocol",
        help="mabench (its frames, prompts and settings) | kit (what the official MAC 2026 runner sends: its "
             "OpenCV frames at full resolution, JPEG 95, a system message always, max_tokens 2048, no temperature)."),
    sampling: str = typer.Option(DEFAULT_STRATEGY, "--sampling",
                                 help="uniform | fps | fps3 (one frame every 1/3 s, at most 8); --protocol kit "
                                      "sets the official runner's frames"),
    fps: float = typer.Option(DEFAULT_FPS, "--fps", help="Rate for --sampling fps."),
    max_side: int = typer.Option(DEFAULT_MAX_SIDE, "--max-side", help="Downscale frames to this longest side."),
    max_pixels: int = typer.Option(DEFAULT_MAX_PIXELS, "--max-pixels", help="Downscale frames to this many pixels."),
    jpeg_quality: int = typer.Option(DEFAULT_JPEG_QUALITY, "--jpeg-quality", min=1, max=100),
    video_mode: str = typer.Option("frames", "--video-mode", help="frames (image_url list) | video (one video_url)."),
    control: str = typer.Option(
        "none", "--control", help="What the clip shows, to measure reliance on the motion: none | reverse (frames "
        "last first) | shuffle (a seeded permutation) | single (the middle frame, repeated to the same count) | "
        "blank (no frames); timestamps stay ascending. In video mode the clip is re-encoded so (losslessly)."),
    control_seed: int = typer.Option(0, "--control-seed", help="Seed of --control shuffle's permutations."),
    tasks: str | None = typer.Option(None, "--tasks", help="Comma-separated task codes to run."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N questions (clip-major)."),
    prompts_file: Path | None = typer.Option(
        None, "--prompts", help="YAML/JSON: task -> system prompt; or a kit-style prompts.py (read, never run; "
        "looked up as the official runner does)."),
    strategy_text: str | None = typer.Option(
        None, "--strategy", help="Prompt strategy: cot, definitions, fewshot:K, vote:N, joined by '+' "
        "(e.g. cot+fewshot:2); see mabench.evaluation.strategies."),
    support: Path | None = typer.Option(None, "--support", help="fewshot:K: answered benchmark of examples."),
    support_videos: Path | None = typer.Option(None, "--support-videos", help="fewshot:K: the support clips."),
    cot_max_tokens: int = typer.Option(DEFAULT_COT_MAX_TOKENS, "--cot-max-tokens", min=1,
                                       help="cot: token budget of a reply (reasoning and answer line)."),
    vote_temperature: float = typer.Option(DEFAULT_VOTE_TEMPERATURE, "--vote-temperature", min=0.0,
                                           help="vote:N: sampling temperature of the N samples."),
    temperature: float = typer.Option(0.0, "--temperature"),
    max_tokens: int = typer.Option(defaults.MAX_TOKENS, "--max-tokens"),
    seed: int | None = typer.Option(None, "--seed", help="Sampling seed (also seeds --model random)."),
    extra_body: str | None = typer.Option(None, "--extra-body", help="JSON merged into each request body."),
    prior_key: Path | None = typer.Option(None, "--prior-key", help="Key with answers for --model prior."),
    request_timeout: float = typer.Option(defaults.REQUEST_TIMEOUT_S, "--request-timeout", help="Seconds per request."),
    max_retries: int = typer.Option(DEFAULT_MAX_RETRIES, "--max-retries", min=0),
    backoff: float = typer.Option(BACKOFF_BASE_S, "--backoff", min=0, help="First retry delay (s); doubles, jittered."),
    cache_mb: float = typer.Option(DEFAULT_MEMORY_MB, "--cache-mb", help="In-memory frame cache bound (MB)."),
    disk_cache: Path | None = typer.Option(None, "--frame-cache", help="On-disk frame cache folder."),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="Re-ask questions that failed before."),
    force: bool = typer.Option(False, "--force", help="Start again in a run dir made with other settings."),
    allow_missing: bool = typer.Option(False, "--allow-missing",
                                       help="Go on when more than half the clips are not in --videos."),
    max_connection_failures: int = typer.Option(
        DEFAULT_MAX_CONNECTION_FAILURES, "--max-connection-failures", min=0,
        help="Stop after this many questions in a row cannot reach the server (0: never)."),
    max_error_share: float = typer.Option(
        defaults.MAX_ERROR_SHARE, "--max-error-share", min=0.0, max=1.0,
        help="Exit non-zero (scores partial, no submission) when more than this share of the requests failed; "
             "a run where every request failed always does."),
    max_output_bytes: int = typer.Option(DEFAULT_MAX_OUTPUT_BYTES, "--max-output-bytes", min=1024,
                                         help="Keep at most this much of each raw model reply (UTF-8 bytes)."),
    repair: bool = typer.Option(False, "--repair",
                                help="Set unreadable lines of predictions.jsonl aside (.bad) and go on."),
    progress: bool = typer.Option(True, "--progress/--no-progress"),
    judge_specs: list[str] | None = typer.Option(None, "--judge", help="Also judge MADU/MARE: openai:NAME[@URL]."),
    judge_base_url: str | None = typer.Option(None, "--judge-base-url", help="Endpoint for --judge (or --base-url)."),
    judge_cache: Path | None = typer.Option(None, "--judge-cache", help="Judge cache (default ~/.cache/mabench)."),
) -> None:
    """Run a model on a benchmark; resumable; writes predictions, scores and the submission."""
    from mabench.evaluation.controls import Control
    from mabench.evaluation.judge import JudgeStopped
    from mabench.evaluation.prompts import PromptError, kit_prompt_warnings, load_prompts
    from mabench.evaluation.protocol import Protocol
    from mabench.evaluation.run_setup import EvalSettings, RunConfigError, RunStopped
    from mabench.evaluation.rundir import RunLocked
    from mabench.evaluation.strategies import StrategyError, parse_strategy
    from mabench.models import EndpointError, GenerationConfig, make_backend
    from mabench.video.sampling import SamplingConfig

    try:
        bench = load_benchmark(bench_path).select(_csv(tasks), limit)
        if not len(bench):
            fail(f"--tasks {tasks}: no question of {bench_path} is one of them")
        prompts = load_prompts(prompts_file)
        if prompts_file is not None and prompts_file.suffix == ".py":
            for line in kit_prompt_warnings(prompts_file):
                err_console.print(f"[yellow]warning:[/] {escape(line)}", highlight=False, soft_wrap=True)
        proto = Protocol(protocol)
        ctl = Control(control, control_seed)
        strategy = parse_strategy(strategy_text, cot_max_tokens=cot_max_tokens, vote_temperature=vote_temperature)
        support_bench = load_benchmark(support) if support is not None else None
        if strategy.fewshot and (support_bench is None or not support_bench.has_answers):
            fail(f"--strategy {strategy.name}: few-shot needs --support, a benchmark with answers")
        if sampling == "kit":
            fail("--sampling kit: the official runner's frames come with its requests: use --protocol kit "
                 "(the old rule, one frame every 1/3 s, is --sampling fps3)")
        sampling_cfg = proto.sampling(SamplingConfig(strategy=sampling, num_frames=frames, fps=fps, max_side=max_side,
                                                     max_pixels=max_pixels, jpeg_quality=jpeg_quality))
        body = json.loads(extra_body) if extra_body else {}
        if not isinstance(body, dict):
            fail("--extra-body must be a JSON object")
        gen = GenerationConfig(temperature=temperature, max_tokens=max_tokens, seed=seed, extra_body=body)
        backend = make_backend(model, base_url, api_key_env, video_mode, key=str(prior_key) if prior_key else None,
                               seed=seed or 0, timeout_s=request_timeout, adapter=str(adapter) if adapter else None,
                               device=device, dtype=dtype)
    except ImportError as e:
        fail(str(e))
    except EndpointError as e:
        fail(str(e))
    except (BenchmarkError, PromptError, StrategyError) as e:
        fail(str(e))
    except json.JSONDecodeError as e:
        fail(f"--extra-body is not valid JSON: {e.msg} at column {e.colno}")
    except ValueError as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e))
    if out.exists() and not out.is_dir():
        fail(f"--out {out}: is a file; pass a folder for the run (it is created if absent)")
    if (backend.needs_frames or backend.video_mode == "video") and ctl.shows_frames and videos is None:
        fail(f"--model {model} needs --videos DIR, the folder with the benchmark's clips")
    if videos is not None and not videos.is_dir():
        fail(f"--videos {videos}: not a folder")
    settings = EvalSettings(videos=videos, sampling=sampling_cfg, gen=gen, concurrency=concurrency,
                            max_retries=max_retries, backoff_base_s=backoff, request_timeout_s=request_timeout,
                            cache_mb=cache_mb, disk_cache=disk_cache, max_connection_failures=max_connection_failures,
                            max_error_share=max_error_share,
                            max_output_bytes=max_output_bytes, allow_missing=allow_missing,
                            strategy=strategy, support=support_bench, support_videos=support_videos, protocol=proto,
                            control=ctl)
    selection = {"tasks": _csv(tasks), "limit": limit}
    preds_path = RunDir(out).predictions_path
    if repair:
        _repair(preds_path)

    judges = {}
    if judge_specs:
        if not bench.has_answers:
            fail(f"{bench_path}: has no reference answers; --judge needs a benchmark with answers")
        try:
            judges = _judge_backends(judge_specs, judge_base_url or base_url, api_key_env, request_timeout)
        except ValueError as e:
            fail(str(e))

    from mabench.evaluation.api import evaluate_async

    async def go():
        return await _with_progress(
            progress and console.is_terminal, backend.name,
            lambda on_start, on_progress: evaluate_async(
                bench, backend, out, settings, prompts, force=force, retry_errors=retry_errors, selection=selection,
                judges=judges, judge_cache=judge_cache or _default_judge_cache(), on_progress=on_progress,
                on_start=on_start))

    on_sigterm()
    try:
        result, jres = asyncio.run(go())
        if jres is not None:
            _print_judge_summary(jres, out)
    except EndpointError as e:
        fail(str(e))
    except (RunConfigError, RunStopped, RunLocked, StrategyError, JudgeStopped) as e:
        fail(str(e))
    except MalformedLineError as e:
        fail(_malformed_message(e, "the same command"))
    except BenchmarkError as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e, kept=str(preds_path) if preds_path.exists() else None, file=preds_path))
    except KeyboardInterrupt as e:
        how = ("terminated", 143) if was_terminated(e) else ("interrupted", 130)
        err_console.print(f"{how[0]}: finished answers are in {out / 'predictions.jsonl'}; "
                          "re-run the same command to resume", soft_wrap=True)
        raise typer.Exit(how[1]) from None
    _print_run_summary(result)


async def _with_progress(show: bool, name: str, run):
    """Await `run(on_start, on_progress)`, with a progress bar on a terminal."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    if not show:
        return await run(None, None)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]} q/s"), TextColumn("errors {task.fields[errors]}"),
                  TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task(name, total=None, rate="–", errors=0)
        t0 = time.perf_counter()

        def on_start(total: int, skipped: int) -> None:
            bar.update(task, total=total - skipped)

        def on_progress(done: int, total: int, errors: int) -> None:
            rate = done / max(time.perf_counter() - t0, 1e-9)
            bar.update(task, completed=done, rate=f"{rate:.1f}", errors=errors)

        return await run(on_start, on_progress)


def _judge_backends(specs: list[str], base_url: str | None, api_key_env: str, timeout: float) -> dict:
    """`openai:NAME` (uses --base-url) or `openai:NAME@URL`, one backend per judge."""
    from mabench.models import make_backend

    judges = {}
    for spec in specs:
        name, _, url = spec.partition("@")
        if not name.startswith("openai:"):
            raise ValueError(f"--judge {spec}: expected openai:NAME or openai:NAME@URL")
        judges[name] = make_backend(name, url or base_url, api_key_env, timeout_s=timeout)
    return judges


async def _close_all(backends) -> None:
    for b in backends:
        await b.aclose()


def _default_judge_cache() -> Path:
    root = os.environ.get("MABENCH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "mabench")
    return Path(root) / "judge.sqlite"


def _print_judge_summary(res, out: Path) -> None:
    console.print(f"judge: {res.judged} judged, {res.cached} from cache, {res.empty} empty predictions "
                  f"scored 0, {res.skipped} already judged, {res.errors} judge errors")
    if res.errors:
        console.print(f"[yellow]{res.errors} judgment(s) failed (recorded as judge_error, not 0); "
                      "re-run with --retry-errors[/]")
    console.print(f"judgments: {out / 'judgments.jsonl'}")


@app.command()
def judge(
    run: Path = typer.Argument(..., metavar="RUN", help="Run directory made by `mabench eval`."),
    judge_specs: list[str] = typer.Option(..., "--judge", help="openai:NAME or openai:NAME@URL; repeat for several."),
    base_url: str | None = typer.Option(None, "--base-url", help="Endpoint of judges given without @URL."),
    key: Path | None = typer.Option(None, "--key", help="Benchmark with reference answers (default: the run's)."),
    api_key_env: str = typer.Option(defaults.API_KEY_ENV, "--api-key-env", help="Env variable holding the API key."),
    concurrency: int = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", min=1),
    parse_retries: int = typer.Option(DEFAULT_PARSE_RETRIES, "--parse-retries", min=0,
                                      help="Re-asks after an unusable judge reply."),
    max_retries: int = typer.Option(DEFAULT_MAX_RETRIES, "--max-retries", min=0),
    backoff: float = typer.Option(BACKOFF_BASE_S, "--backoff", min=0),
    request_timeout: float = typer.Option(defaults.REQUEST_TIMEOUT_S, "--request-timeout", help="Seconds per request."),
    max_connection_failures: int = typer.Option(
        DEFAULT_MAX_CONNECTION_FAILURES, "--max-connection-failures", min=0,
        help="Stop after this many judgments in a row get no answer (refused, reset, timed out; 0: never)."),
    judge_cache: Path | None = typer.Option(None, "--judge-cache", help="SQLite cache (default ~/.cache/mabench)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the judge cache."),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="Judge again where the judge failed."),
    repair: bool = typer.Option(False, "--repair",
                                help="Set unreadable lines of predictions/judgments.jsonl aside (.bad) and go on."),
) -> None:
    """Judge the MADU/MARE answers of a run on the rubric; update its scores."""
    from mabench.evaluation.results import load_run_benchmark, score_run
    from mabench.evaluation.run_setup import EvalSettings
    from mabench.models import EndpointError
    from mabench.taxonomy import OPEN_TASKS

    rd = RunDir(run)
    if not rd.predictions_path.exists():
        fail(f"{run}: no predictions.jsonl; run `mabench eval ... --out {run}` first")
    if repair:
        _repair(rd.predictions_path)
        _repair(rd.judgments_path)
    try:
        bench = load_run_benchmark(run, key)
        asked = set(rd.predictions(("qid",)))
        judges = _judge_backends(judge_specs, base_url, api_key_env, request_timeout)
    except MalformedLineError as e:
        fail(_malformed_message(e, "`mabench judge`"))
    except (BenchmarkError, ValueError, KeyError) as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e))
    open_asked = [q for q in bench if q.task in OPEN_TASKS and q.qid in asked]
    if not open_asked:
        # a --tasks CMAR,SAD run: judging would only invent zeros for questions never asked
        console.print(f"nothing to judge: {run} has no MADU/MARE answers "
                      f"(its questions: {', '.join(sorted({q.task for q in bench}))}); no judgments written")
        raise typer.Exit(0)
    settings = EvalSettings(concurrency=concurrency, max_retries=max_retries, backoff_base_s=backoff,
                            request_timeout_s=request_timeout, max_connection_failures=max_connection_failures)
    cache_path = None if no_cache else (judge_cache or _default_judge_cache())
    from mabench.evaluation.api import judge_async

    async def go():
        try:
            return await judge_async(bench, run, judges, settings, cache_path, parse_retries=parse_retries,
                                     retry_errors=retry_errors)
        finally:
            await _close_all(judges.values())

    from mabench.evaluation.judge import JudgeStopped
    from mabench.evaluation.rundir import RunLocked

    on_sigterm()
    try:
        res = asyncio.run(go())
        s, extra = score_run(run, bench)
    except (RunLocked, JudgeStopped) as e:
        fail(str(e))
    except KeyboardInterrupt as e:
        err_console.print(f"{'terminated' if was_terminated(e) else 'interrupted'}: finished judgments are "
                          f"in {rd.judgments_path}; re-run the same command to go on", soft_wrap=True)
        raise typer.Exit(143 if was_terminated(e) else 130) from None
    except EndpointError as e:
        fail(f"judge: {e}")
    except MalformedLineError as e:
        fail(_malformed_message(e, "`mabench judge`"))
    except BenchmarkError as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e))
    _print_judge_summary(res, run)
    console.print(scores_table({run.name: s}))
    _print_agreement(extra)
    for note in s.notes:
        console.print(f"note: {note}")
    console.print(f"scores: {run / 'scores.json'}")


@app.command()
def report(
    runs: list[Path] = typer.Argument(..., metavar="RUN", help="Run directories (same benchmark) to compare."),
    out: Path = typer.Option(..., "--out", help="Folder for leaderboard.md / .csv / report.json."),
    key: Path | None = typer.Option(None, "--key", help="Benchmark with answers (default: the first run's)."),
    bootstrap: int = typer.Option(2000, "--bootstrap", min=100, help="Bootstrap replicates (clip resampling)."),
    seed: int = typer.Option(0, "--seed"),
    paper: bool = typer.Option(True, "--paper/--no-paper", help="Add the paper's published averages as rows."),
    html: bool = typer.Option(True, "--html/--no-html", help="Also write plots and the HTML report."),
    videos: Path | None = typer.Option(None, "--videos", help="Clips folder, for frame thumbnails in the HTML."),
    audit: Path | None = typer.Option(None, "--audit", help="A `mabench audit` folder: split closed accuracy into "
                                      "text-solvable questions and those that need the video."),
    controls: list[Path] | None = typer.Option(
        None, "--controls", help="Runs of the first RUN's model under `mabench eval --control` (repeat the option): "
        "a reliance section, per task and tier, against the first RUN."),
) -> None:
    """Leaderboard with 95% clip-bootstrap CIs, paired comparisons, breakdowns, plots and an HTML report."""
    from mabench.api import report as make_report

    try:
        res = make_report(runs, out, key=key, n_boot=bootstrap, seed=seed, audit=audit, html=html, videos=videos,
                          paper=paper, controls=controls)
    except MalformedLineError as e:
        fail(_malformed_message(e, f"`mabench {'judge' if e.path.name == 'judgments.jsonl' else 'eval'}` for "
                                   f"{e.path.parent}"))
    except ImportError as e:
        fail(f"plots and HTML need the report extra ({e.name} is missing): pip install 'mabench[report]'")
    except (BenchmarkError, ValueError, FileNotFoundError, KeyError) as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e))
    rep = res.data
    for r in rep["runs"]:  # a half-finished run is scored with its gaps as wrong: say so
        cov = r["coverage"]
        if cov["missing"]:
            err_console.print(f"[yellow]warning:[/] {escape(r['name'])}: {cov['missing']} of {cov['questions']} "
                              "questions have no answer and count as wrong; re-run its `mabench eval` to finish it",
                              soft_wrap=True)
    if rep.get("conditions_differ"):
        err_console.print(f"[yellow]note:[/] {escape(rep['conditions_differ'])}", soft_wrap=True)
    # the leaderboard; the paired tests as tables below; the breakdowns are in leaderboard.md and the HTML
    console.print(res.markdown.split("\n### ")[0])
    for comp in rep["paired"]:
        table = Table(title=f"{comp['a']} − {comp['b']} (paired bootstrap; McNemar exact for closed tasks)")
        for name in ("metric", "difference", "95% CI", "p (bootstrap)", "p (McNemar)"):
            table.add_column(name, justify="right")
        for p in comp["bootstrap"]:
            mc = comp["mcnemar"].get(p["metric"])
            table.add_row(p["metric"], f"{p['diff']:+.2f}", f"[{p['ci'][0]:+.2f}, {p['ci'][1]:+.2f}]",
                          f"{p['p']:.3f}", f"{mc['p']:.3f}" if mc else "–")
        console.print(table)
    if rep.get("reliance"):
        from mabench.report.reliance import reliance_markdown

        console.print(reliance_markdown(rep["reliance"]), markup=False, soft_wrap=True)
    console.print(f"written: {out / 'leaderboard.md'}, {out / 'leaderboard.csv'}, {out / 'report.json'}")
    if res.index is not None:
        console.print(f"HTML report: {res.index}")


def _print_agreement(extra: dict) -> None:
    agr = (extra.get("judges") or {}).get("agreement")
    if not agr:
        return
    table = Table(title=f"Judge agreement ({', '.join(agr['judges'])})")
    for name in ("dimension", "n", "exact", "within 1", "Krippendorff α (ordinal)"):
        table.add_column(name, justify="right")
    for dim, d in agr["dimensions"].items():
        alpha = "–" if d["alpha_ordinal"] is None else f"{d['alpha_ordinal']:.3f}"
        table.add_row(dim, str(d["n"]), f"{d['exact']:.3f}", f"{d['within_1']:.3f}", alpha)
    console.print(table)


def _print_run_summary(r) -> None:
    rate = r.asked / r.elapsed_s if r.elapsed_s > 0 else 0.0
    console.print(f"{r.asked} asked, {r.skipped} already answered, {r.errors} with errors, "
                  f"{r.decodes} clips decoded, {r.elapsed_s:.1f} s ({rate:.1f} q/s)")
    if r.failed_clips:
        console.print(f"[yellow]{len(r.failed_clips)} clip(s) could not be used; their questions count as wrong:[/]")
        for vid, msg in list(r.failed_clips.items())[:20]:
            console.print(f"  {vid}: {msg}")
    for w in r.warnings:
        console.print(f"[yellow]warning: {escape(w)}[/]")
    if r.earlier_errors:
        console.print(f"[yellow]{r.earlier_errors} question(s) failed in an earlier run and were not asked again "
                      "(they count as wrong); re-run with --retry-errors to ask them[/]")
    if r.scores is not None:
        console.print(scores_table({r.out.name: r.scores}))
        console.print(f"scores: {r.out / 'scores.json'}")
    else:
        console.print("the benchmark has no answers: no scores; submit the submission file")
    console.print(f"submission: {r.out / 'submission.json'}")
