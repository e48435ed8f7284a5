"""The `mabench` command."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections import Counter
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from mabench import __version__
from mabench.data import BenchmarkError, duplicate_labels, load_benchmark, write_json
from mabench.data.io import MalformedLineError
from mabench.data.predictions import read_answers_file
from mabench.evaluate.judge import DEFAULT_PARSE_RETRIES
from mabench.evaluate.metrics import normalize_prediction, score
from mabench.evaluate.runner import (
    BACKOFF_BASE_S,
    DEFAULT_CONCURRENCY,
    DEFAULT_MAX_CONNECTION_FAILURES,
    DEFAULT_MAX_OUTPUT_BYTES,
    DEFAULT_MAX_RETRIES,
)
from mabench.report.tables import coverage_table, scores_table
from mabench.taxonomy import TASK_ORDER, TASKS, canonical_task
from mabench.video.cache import DEFAULT_MEMORY_MB
from mabench.video.sampling import (
    DEFAULT_FPS,
    DEFAULT_JPEG_QUALITY,
    DEFAULT_MAX_PIXELS,
    DEFAULT_MAX_SIDE,
    DEFAULT_NUM_FRAMES,
    DEFAULT_STRATEGY,
)

app = typer.Typer(
    help="Evaluate, build and report micro-action understanding benchmarks (MA-Bench) for MLLMs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> None:
    """One clear line on stderr, then exit."""
    # escaped: messages carry user text and install hints like ".[hf]" that are not markup
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def os_error_message(err: OSError, kept: str | None = None) -> str:
    """One line for a file-system error a user can fix: the file, what happened, what to do.
    `kept` names where the finished work is (a full disk mid-run loses nothing already written)."""
    import errno

    if err.errno is None:  # raised with our own message (e.g. "no predictions.jsonl; ...")
        return str(err)
    where = err.filename or "a file"
    what = (err.strerror or str(err)).lower()
    if err.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        hint = "the folder is read-only or not yours; choose a writable output folder"
    elif err.errno in (errno.ENOSPC, errno.EDQUOT):
        hint = "free some space (or choose a folder on another disk) and re-run the same command"
    elif err.errno == errno.ENOENT:
        hint = "check the path"
    else:
        hint = "fix it and re-run the same command"
    return f"{where}: {what}; {hint}" + (f"; finished answers are kept in {kept}" if kept else "")


def _version(value: bool) -> None:
    if value:
        console.print(f"mabench {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    pass


@app.command()
def info(bench: Path = typer.Argument(..., help="Benchmark file (official JSON list or JSONL).")) -> None:
    """Summarise a benchmark: clips, questions per task, answer and option-position balance."""
    try:
        b = load_benchmark(bench)
    except BenchmarkError as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e))
    counts = b.task_counts()
    per_clip = Counter(Counter(q.video_id for q in b).values())
    console.print(f"[bold]{bench}[/]  sha256 {b.sha256[:16]}…")
    console.print(f"{len(b)} questions, {len(b.videos)} clips, questions per clip: "
                  + ", ".join(f"{n}×{k}" for n, k in sorted(per_clip.items())))
    table = Table(title="Questions per task")
    for name in ("task", "tier", "questions", "answers", "answer balance"):
        table.add_column(name)
    for t in TASK_ORDER:
        if t not in counts:
            continue
        answers = Counter(q.answer for q in b if q.task == t and q.answer is not None)
        balance = "  ".join(f"{a}:{100 * n / sum(answers.values()):.1f}%"
                            for a, n in sorted(answers.items())) if answers and TASKS[t].closed else "–"
        table.add_row(t, TASKS[t].tier, str(counts[t]), str(sum(answers.values())), balance)
    console.print(table)
    dup = [q.qid for q in b if q.options and duplicate_labels(q.options)]
    if dup:
        console.print(f"[yellow]{len(dup)} question(s) list the same label under two letters "
                      f"(e.g. {dup[0]}); answers given as label text are ambiguous there.[/]")
    if not b.has_answers:
        console.print("No answers in this file: it can be evaluated, not used as a scoring key.")


@app.command("audit")
def audit_cmd(
    bench: Path = typer.Argument(..., help="Benchmark file to audit (official JSON list or JSONL)."),
    reference: Path | None = typer.Option(None, "--reference", help="Compare the style with this benchmark "
                                          "(e.g. the official question file)."),
    out: Path = typer.Option(Path("audit"), "--out", help="Folder for audit.json and audit.md."),
    seed: int = typer.Option(0, "--seed", help="Seed of the models and the clip bootstrap."),
    folds: int = typer.Option(5, "--folds", min=2, help="Cross-validation folds (grouped by clip)."),
) -> None:
    """Can the benchmark be answered without the video? Text-only blind baselines, cues, style vs a reference."""
    from mabench.audit import audit, leak_summary, skipped_line, write_audit

    try:
        b = load_benchmark(bench)
        ref = load_benchmark(reference) if reference else None
    except BenchmarkError as e:
        fail(str(e))
    res = audit(b, ref, seed=seed, folds=folds)
    path = write_audit(res, out)
    table = Table(title=f"Blind baselines (text only, {folds}-fold CV grouped by clip), %")
    for name in ("task", "questions", "majority", "blind [95% CI]", "leak [95% CI]"):
        table.add_column(name, justify="right")
    for t, row in leak_summary(res).items():
        if row["status"] != "ok":
            table.add_row(t, str(row["questions"]), "", row["status"], "")
            continue
        table.add_row(t, str(row["questions"]), f"{row['majority']:.1f}",
                      f"{row['blind']:.1f} [{row['blind_ci'][0]:.1f}, {row['blind_ci'][1]:.1f}]",
                      f"{row['leak']:+.1f} [{row['leak_ci'][0]:+.1f}, {row['leak_ci'][1]:+.1f}]")
    if res.blind:
        console.print(table)
    console.print("phrasing families: " + ", ".join(f"{t} {c.families}" for t, c in res.cues.tasks.items()))
    if res.skipped:
        console.print(skipped_line(res))
    if res.style is not None:
        console.print("style vs reference, two-sample AUC (0.5 = same style): " + ", ".join(
            f"{t} {s.auc:.3f}" if s.auc is not None else f"{t} –" for t, s in res.style.tasks.items()))
    console.print(f"{res.seconds:.1f} s; written: {path}, {path.parent / 'audit.md'}")


@app.command("score")
def score_cmd(
    predictions: Path = typer.Argument(..., help="Submission JSON or predictions JSONL."),
    key: Path = typer.Option(..., "--key", help="Benchmark file with answers."),
    judgments: Path | None = typer.Option(None, "--judgments", help="judgments.jsonl for MADU/MARE."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the scores as JSON here."),
) -> None:
    """Score predictions against a key; missing answers count as wrong."""
    try:
        bench = load_benchmark(key)
        if not bench.has_answers:
            fail(f"{key}: has no answers; pass a benchmark file with an 'answer' per question as --key")
        preds, _ = read_answers_file(predictions)
        judged = None
        if judgments:
            from mabench.evaluate.judge import load_judgment_scores

            judged = load_judgment_scores(judgments, [q.qid for q in bench if not q.spec.closed]).scores
    except BenchmarkError as e:
        fail(str(e))
    by_qid = bench.by_qid
    unknown = [qid for qid in preds if qid not in by_qid]
    preds = {qid: normalize_prediction(p, by_qid[qid]) for qid, p in preds.items() if qid in by_qid}
    s = score(bench, preds, judged, missing_is_wrong=True)
    console.print(scores_table({predictions.name: s}))
    console.print(coverage_table(s))
    missing = sum(ts.missing for ts in s.tasks.values())
    if missing:
        console.print(f"[yellow]{missing} of {len(bench)} questions missing from {predictions}: "
                      "scored as wrong.[/]")
    if unknown:
        console.print(f"[yellow]{len(unknown)} answer(s) name qids not in the key (ignored), "
                      f"e.g. {unknown[0]}.[/]")
    for note in s.notes:
        console.print(f"note: {note}")
    if json_out:
        write_json(json_out, s.to_dict())
        console.print(f"scores written to {json_out}")


def _csv(value: str | None) -> list[str] | None:
    if not value:
        return None
    out = []
    for t in value.split(","):
        code = canonical_task(t)
        if code is None:
            fail(f"--tasks: unknown task {t.strip()!r}; expected some of {','.join(TASK_ORDER)}")
        out.append(code)
    return out


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
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="Env variable holding the API key."),
    concurrency: int = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", min=1, help="Requests in flight."),
    frames: int = typer.Option(DEFAULT_NUM_FRAMES, "--frames", min=1, help="Frames per clip (uniform)."),
    sampling: str = typer.Option(DEFAULT_STRATEGY, "--sampling", help="uniform | fps | kit"),
    fps: float = typer.Option(DEFAULT_FPS, "--fps", help="Rate for --sampling fps."),
    max_side: int = typer.Option(DEFAULT_MAX_SIDE, "--max-side", help="Downscale frames to this longest side."),
    max_pixels: int = typer.Option(DEFAULT_MAX_PIXELS, "--max-pixels", help="Downscale frames to this many pixels."),
    jpeg_quality: int = typer.Option(DEFAULT_JPEG_QUALITY, "--jpeg-quality", min=1, max=100),
    video_mode: str = typer.Option("frames", "--video-mode", help="frames (image_url list) | video (one video_url)."),
    tasks: str | None = typer.Option(None, "--tasks", help="Comma-separated task codes to run."),
    limit: int | None = typer.Option(None, "--limit", min=1, help="Only the first N questions (clip-major)."),
    prompts_file: Path | None = typer.Option(None, "--prompts", help="YAML/JSON: task -> system prompt."),
    temperature: float = typer.Option(0.0, "--temperature"),
    max_tokens: int = typer.Option(1024, "--max-tokens"),
    seed: int | None = typer.Option(None, "--seed", help="Sampling seed (also seeds --model random)."),
    extra_body: str | None = typer.Option(None, "--extra-body", help="JSON merged into each request body."),
    prior_key: Path | None = typer.Option(None, "--prior-key", help="Key with answers for --model prior."),
    request_timeout: float = typer.Option(120.0, "--request-timeout", help="Seconds per request."),
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
    from mabench.evaluate.prompts import PromptError, load_prompts
    from mabench.evaluate.runner import EvalSettings, RunConfigError, RunStopped
    from mabench.models import EndpointError, GenerationConfig, make_backend
    from mabench.video.sampling import SamplingConfig

    try:
        bench = load_benchmark(bench_path).select(_csv(tasks), limit)
        prompts = load_prompts(prompts_file)
        sampling_cfg = SamplingConfig(strategy=sampling, num_frames=frames, fps=fps, max_side=max_side,
                                      max_pixels=max_pixels, jpeg_quality=jpeg_quality)
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
    except (BenchmarkError, PromptError) as e:
        fail(str(e))
    except json.JSONDecodeError as e:
        fail(f"--extra-body is not valid JSON: {e.msg} at column {e.colno}")
    except ValueError as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e))
    if (backend.needs_frames or backend.video_mode == "video") and videos is None:
        fail(f"--model {model} needs --videos DIR, the folder with the benchmark's clips")
    if videos is not None and not videos.is_dir():
        fail(f"--videos {videos}: not a folder")
    settings = EvalSettings(videos=videos, sampling=sampling_cfg, gen=gen, concurrency=concurrency,
                            max_retries=max_retries, backoff_base_s=backoff, request_timeout_s=request_timeout,
                            cache_mb=cache_mb, disk_cache=disk_cache, max_connection_failures=max_connection_failures,
                            max_output_bytes=max_output_bytes, allow_missing=allow_missing)
    selection = {"tasks": _csv(tasks), "limit": limit}
    preds_path = out / "predictions.jsonl"
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

    async def go():
        try:
            await backend.probe()
            for jb in judges.values():  # fail before spending time on the model, not after
                await jb.probe()
            result = await _run_with_progress(bench, backend, settings, out, prompts, force, retry_errors,
                                              selection, progress and console.is_terminal)
            jres = None
            if judges:
                jres = await _judge_stage(bench, out, judges, settings, judge_cache or _default_judge_cache(),
                                          DEFAULT_PARSE_RETRIES, retry_errors)
            return result, jres
        finally:
            await _close_all([backend, *judges.values()])

    try:
        result, jres = asyncio.run(go())
        if jres is not None:
            from mabench.evaluate.results import score_run

            _print_judge_summary(jres, out)
            result.scores = score_run(out, bench)[0]
    except EndpointError as e:
        fail(str(e))
    except (RunConfigError, RunStopped) as e:
        fail(str(e))
    except MalformedLineError as e:
        fail(_malformed_message(e, "the same command"))
    except BenchmarkError as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e, kept=str(preds_path) if preds_path.exists() else None))
    except KeyboardInterrupt:
        err_console.print(f"interrupted: finished answers are in {out / 'predictions.jsonl'}; "
                          "re-run the same command to resume")
        raise typer.Exit(130) from None
    _print_run_summary(result)


def _malformed_message(e: MalformedLineError, command: str) -> str:
    return (f"{e}; nothing was changed: re-run {command} with --repair to set the unreadable line(s) "
            f"aside in {e.path.name}.bad and go on")


def _repair(path: Path) -> None:
    from mabench.data.io import repair_jsonl

    try:
        lines = repair_jsonl(path, "qid")
    except OSError as e:
        fail(os_error_message(e))
    if lines:
        shown = ", ".join(map(str, lines[:10])) + (" ..." if len(lines) > 10 else "")
        console.print(f"[yellow]repair: {len(lines)} unreadable line(s) of {escape(str(path))} (line {shown}) set "
                      f"aside in {escape(path.name)}.bad[/]")


async def _run_with_progress(bench, backend, settings, out, prompts, force, retry_errors, selection, show):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from mabench.evaluate.runner import run_eval

    if not show:
        return await run_eval(bench, backend, settings, out, prompts, force=force, retry_errors=retry_errors,
                              selection=selection)
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]} q/s"), TextColumn("errors {task.fields[errors]}"),
                  TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task(backend.name, total=None, rate="–", errors=0)
        t0 = time.perf_counter()

        def on_start(total: int, skipped: int) -> None:
            bar.update(task, total=total - skipped)

        def on_progress(done: int, total: int, errors: int) -> None:
            rate = done / max(time.perf_counter() - t0, 1e-9)
            bar.update(task, completed=done, rate=f"{rate:.1f}", errors=errors)

        return await run_eval(bench, backend, settings, out, prompts, force=force, retry_errors=retry_errors,
                              selection=selection, on_progress=on_progress, on_start=on_start)


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


async def _judge_stage(bench, out: Path, judges: dict, settings, cache_path: Path | None, parse_retries: int,
                       retry_errors: bool):
    """Probe every judge, then judge the run. The caller closes the judges."""
    from mabench.data.predictions import latest_by_qid, read_predictions
    from mabench.evaluate.judge import JudgeCache, run_judge

    for backend in judges.values():
        await backend.probe()
    cache = JudgeCache(cache_path) if cache_path else None
    try:
        preds = latest_by_qid(read_predictions(out / "predictions.jsonl"))
        return await run_judge(bench, preds, judges, out / "judgments.jsonl", settings, cache,
                               parse_retries=parse_retries, retry_errors=retry_errors)
    finally:
        if cache:
            cache.close()


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
    run: Path = typer.Argument(..., help="Run directory made by `mabench eval`."),
    judge_specs: list[str] = typer.Option(..., "--judge", help="openai:NAME or openai:NAME@URL; repeat for several."),
    base_url: str | None = typer.Option(None, "--base-url", help="Endpoint of judges given without @URL."),
    key: Path | None = typer.Option(None, "--key", help="Benchmark with reference answers (default: the run's)."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env", help="Env variable holding the API key."),
    concurrency: int = typer.Option(DEFAULT_CONCURRENCY, "--concurrency", min=1),
    parse_retries: int = typer.Option(DEFAULT_PARSE_RETRIES, "--parse-retries", min=0,
                                      help="Re-asks after an unusable judge reply."),
    max_retries: int = typer.Option(DEFAULT_MAX_RETRIES, "--max-retries", min=0),
    backoff: float = typer.Option(BACKOFF_BASE_S, "--backoff", min=0),
    request_timeout: float = typer.Option(120.0, "--request-timeout"),
    judge_cache: Path | None = typer.Option(None, "--judge-cache", help="SQLite cache (default ~/.cache/mabench)."),
    no_cache: bool = typer.Option(False, "--no-cache", help="Neither read nor write the judge cache."),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="Judge again where the judge failed."),
    repair: bool = typer.Option(False, "--repair",
                                help="Set unreadable lines of predictions/judgments.jsonl aside (.bad) and go on."),
) -> None:
    """Judge the MADU/MARE answers of a run on the rubric; update its scores."""
    from mabench.data.predictions import read_predictions
    from mabench.evaluate.results import load_run_benchmark, score_run
    from mabench.evaluate.runner import EvalSettings
    from mabench.models import EndpointError
    from mabench.taxonomy import OPEN_TASKS

    if not (run / "predictions.jsonl").exists():
        fail(f"{run}: no predictions.jsonl; run `mabench eval ... --out {run}` first")
    if repair:
        _repair(run / "predictions.jsonl")
        _repair(run / "judgments.jsonl")
    try:
        bench = load_run_benchmark(run, key)
        asked = {p.qid for p in read_predictions(run / "predictions.jsonl", ("qid",))}
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
                            request_timeout_s=request_timeout)
    cache_path = None if no_cache else (judge_cache or _default_judge_cache())
    async def go():
        try:
            return await _judge_stage(bench, run, judges, settings, cache_path, parse_retries, retry_errors)
        finally:
            await _close_all(judges.values())

    try:
        res = asyncio.run(go())
        s, extra = score_run(run, bench)
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
    runs: list[Path] = typer.Argument(..., help="Run directories (same benchmark) to compare."),
    out: Path = typer.Option(..., "--out", help="Folder for leaderboard.md / .csv / report.json."),
    key: Path | None = typer.Option(None, "--key", help="Benchmark with answers (default: the first run's)."),
    bootstrap: int = typer.Option(2000, "--bootstrap", min=100, help="Bootstrap replicates (clip resampling)."),
    seed: int = typer.Option(0, "--seed"),
    paper: bool = typer.Option(True, "--paper/--no-paper", help="Add the paper's published averages as rows."),
    html: bool = typer.Option(True, "--html/--no-html", help="Also write plots and the HTML report."),
    videos: Path | None = typer.Option(None, "--videos", help="Clips folder, for frame thumbnails in the HTML."),
    audit: Path | None = typer.Option(None, "--audit", help="A `mabench audit` folder: split closed accuracy into "
                                      "text-solvable questions and those that need the video."),
) -> None:
    """Leaderboard with 95% clip-bootstrap CIs, paired comparisons, breakdowns, plots and an HTML report."""
    from mabench.report.leaderboard import build_report, write_tables

    try:
        rep = build_report(runs, key, bootstrap, seed, audit)
    except MalformedLineError as e:
        fail(_malformed_message(e, f"`mabench {'judge' if e.path.name == 'judgments.jsonl' else 'eval'}` for "
                                   f"{e.path.parent}"))
    except (BenchmarkError, ValueError, FileNotFoundError, KeyError) as e:
        fail(str(e))
    except OSError as e:
        fail(os_error_message(e))
    for r in rep["runs"]:  # a half-finished run is scored with its gaps as wrong: say so
        cov = r["coverage"]
        if cov["missing"]:
            err_console.print(f"[yellow]warning:[/] {escape(r['name'])}: {cov['missing']} of {cov['questions']} "
                              "questions have no answer and count as wrong; re-run its `mabench eval` to finish it",
                              soft_wrap=True)
    try:
        md = write_tables(rep, out, paper)
    except OSError as e:
        fail(os_error_message(e))
    console.print(md)
    for comp in rep["paired"]:
        table = Table(title=f"{comp['a']} − {comp['b']} (paired bootstrap; McNemar exact for closed tasks)")
        for name in ("metric", "difference", "95% CI", "p (bootstrap)", "p (McNemar)"):
            table.add_column(name, justify="right")
        for p in comp["bootstrap"]:
            mc = comp["mcnemar"].get(p["metric"])
            table.add_row(p["metric"], f"{p['diff']:+.2f}", f"[{p['ci'][0]:+.2f}, {p['ci'][1]:+.2f}]",
                          f"{p['p']:.3f}", f"{mc['p']:.3f}" if mc else "–")
        console.print(table)
    console.print(f"written: {out / 'leaderboard.md'}, {out / 'leaderboard.csv'}, {out / 'report.json'}")
    if html:
        try:
            from mabench.report.html import write_html_report

            index = write_html_report(rep, runs, out, videos)
        except OSError as e:
            fail(os_error_message(e))
        except ImportError as e:
            fail(f"plots and HTML need the report extra ({e.name} is missing): pip install 'mabench[report]'")
        console.print(f"HTML report: {index}")


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
    if r.earlier_errors:
        console.print(f"[yellow]{r.earlier_errors} question(s) failed in an earlier run and were not asked again "
                      "(they count as wrong); re-run with --retry-errors to ask them[/]")
    if r.scores is not None:
        console.print(scores_table({r.out.name: r.scores}))
        console.print(f"scores: {r.out / 'scores.json'}")
    else:
        console.print("the benchmark has no answers: no scores; submit the submission file")
    console.print(f"submission: {r.out / 'submission.json'}")


if __name__ == "__main__":  # pragma: no cover
    app()


# --- motion: synthetic clips and annotation --------------------------------------------------------

SKELETONS_OPT = typer.Option(None, "--skeletons", help="Folder of skeleton files named after the clips.")
FORMAT_OPT = typer.Option(
    None, "--format", help="coco17, wholebody133, halpe136, mediapipe33, openpose25 or mabench (default: detect).")
POSE_OPT = typer.Option(None, "--pose", help="Pose backend to run when there are no skeleton files: mediapipe.")
FLOW_OPT = typer.Option(True, "--flow/--no-flow", help="Optical-flow energy around each part.")


def _check_skeleton_source(command: str, skeletons: Path | None, pose: str | None) -> None:
    """One of --skeletons / --pose, usable, before any work starts."""
    if skeletons is None and pose is None:
        fail(f"{command} needs a skeleton source: --skeletons DIR (files named after the clips) or --pose mediapipe")
    if skeletons is not None and not skeletons.is_dir():
        fail(f"--skeletons {skeletons}: not a folder")
    if pose is not None:
        from mabench.motion.pose import make_pose_backend
        from mabench.motion.skeleton import SkeletonError

        try:
            make_pose_backend(pose)
        except SkeletonError as e:
            fail(str(e))

@app.command()
def synth(
    out: Path = typer.Option(..., "--out", help="Folder for clips/, skeletons/, truth/ and labels.csv."),
    n: int = typer.Option(52, "--n", min=1, help="Number of clips (actions cycle, so classes stay balanced)."),
    seed: int = typer.Option(0, help="Random seed; the same seed writes the same set."),
    width: int = typer.Option(320, min=64),
    height: int = typer.Option(240, min=64),
    fps: int = typer.Option(25, min=5, max=120),
    min_seconds: float = typer.Option(2.0, help="Shortest clip (1-5 s)."),
    max_seconds: float = typer.Option(4.0, help="Longest clip (1-5 s)."),
    workers: int = typer.Option(max(1, min(4, os.cpu_count() or 1)), help="Processes rendering clips."),
    no_video: bool = typer.Option(False, "--no-video", help="Skeletons and truth only (fast; for validation)."),
) -> None:
    """Write synthetic micro-action clips of a seated figure, with exact keypoints and ground truth."""
    from mabench.synth.generate import ACTIONS, write_set

    t0 = time.perf_counter()
    try:
        labels = write_set(out, n, seed=seed, video=not no_video, workers=workers, width=width, height=height,
                           fps=fps, min_s=min_seconds, max_s=max_seconds)
    except ValueError as e:
        fail(str(e))
    console.print(f"wrote {n} clips ({len(ACTIONS)} actions) to {out} in {time.perf_counter() - t0:.1f} s; "
                  f"labels: {labels}")


@app.command()
def annotate(
    clips: Path = typer.Argument(..., help="A clip or a folder of clips."),
    out: Path = typer.Option(..., "--out", help="Folder for descriptors.jsonl (resumed if it exists)."),
    skeletons: Path | None = SKELETONS_OPT,
    skeleton_format: str | None = FORMAT_OPT,
    pose: str | None = POSE_OPT,
    flow: bool = FLOW_OPT,
    workers: int = typer.Option(max(1, min(4, os.cpu_count() or 1)), help="Processes."),
    retry_errors: bool = typer.Option(False, "--retry-errors", help="Try clips that failed before again."),
    overlay: Path | None = typer.Option(None, "--overlay", help="Folder for a contact sheet per clip (PNG: frames "
                                        "with the skeleton and head/trunk axes, and the main signals)."),
    executor: str = typer.Option("local", help="local (process pool) or ray (RAY_ADDRESS or a local instance)."),
) -> None:
    """Per-part motion descriptors for each clip (one JSON line per clip)."""
    from mabench.motion.annotate import AnnotateSettings, list_clips
    from mabench.motion.annotate import annotate as run_annotate

    _check_skeleton_source("annotate", skeletons, pose)
    try:
        todo = list_clips(clips)
    except FileNotFoundError as e:
        fail(str(e))
    if not todo:
        from mabench.data.records import VIDEO_SUFFIXES

        fail(f"{clips}: no video clips ({', '.join(VIDEO_SUFFIXES)})")
    settings = AnnotateSettings(skeletons=str(skeletons) if skeletons else None, fmt=skeleton_format, pose=pose,
                                flow=flow, overlay=str(overlay) if overlay else None)
    t0 = time.perf_counter()
    errors: list[str] = []
    if executor not in ("local", "ray"):
        fail(f"--executor {executor}: expected local or ray")
    counts = run_annotate(todo, out, settings, workers=workers, retry_errors=retry_errors, executor=executor,
                          on_done=lambda r: errors.append(f"{r['clip']}: {r['error']}") if "error" in r else None)
    for line in errors[:20]:
        console.print(f"[yellow]error[/] {escape(line)}")
    console.print(f"{counts['done']} clips annotated, {counts['errors']} errors, {counts['skipped']} already done; "
                  f"{time.perf_counter() - t0:.1f} s -> {out / 'descriptors.jsonl'}")


# --- build ----------------------------------------------------------------------------------------

@app.command()
def build(
    clips: Path = typer.Argument(..., help="Folder with the labelled clips."),
    labels: Path = typer.Option(..., "--labels", help="CSV (clip, label name / MA-52 code / index, optional "
                                "subject) or an mmaction2 list ('<clip> <label index>' lines, as MA-52 ships)."),
    label_names: Path | None = typer.Option(
        None, "--label-names", help="label_name.txt ('<index> <label>' lines) for label indices; default: the "
        "built-in order, which is MA-52's."),
    out: Path = typer.Option(..., "--out", help="Output folder (resumed if it exists)."),
    skeletons: Path | None = SKELETONS_OPT,
    skeleton_format: str | None = FORMAT_OPT,
    pose: str | None = POSE_OPT,
    flow: bool = FLOW_OPT,
    seed: int = typer.Option(0, help="Seed of phrasings, option order, balance and the split."),
    test_fraction: float = typer.Option(0.2, help="Share of clips in the benchmark; the rest is the corpus."),
    subject_pattern: str | None = typer.Option(
        None, help="Regex whose first group is the subject id in a clip name (when the CSV has no subject; "
        "default: MA-52 names, 0003_01_0001.mp4 -> 0003)."),
    workers: int = typer.Option(max(1, min(4, os.cpu_count() or 1)), help="Processes (or Ray CPUs)."),
    executor: str = typer.Option("local", help="local (process pool) or ray (RAY_ADDRESS or a local instance)."),
    rewrite: str | None = typer.Option(None, help="Rewrite captions with an LLM: openai:NAME (fact-checked)."),
    base_url: str | None = typer.Option(None, "--base-url", help="Endpoint for --rewrite and --blind."),
    api_key_env: str = typer.Option("OPENAI_API_KEY", "--api-key-env"),
    qc: bool = typer.Option(False, "--qc", help="Also audit the built questions (text-only blind baselines: the "
                            "leak per task) and print the quality-control report (always written to qc.md)."),
    blind: str | None = typer.Option(None, help="QC blind check: answer without frames with openai:NAME."),
    blind_runs: int = typer.Option(3, min=1, help="Blind runs for --blind."),
    overlay: bool = typer.Option(False, "--overlay", help="Write a contact sheet per clip to OUT/overlays "
                                 "(the report's question browser shows them)."),
) -> None:
    """Build a benchmark and a training corpus from labelled clips (motion -> captions -> QA -> QC)."""
    from mabench.build.labels import LabelsError
    from mabench.build.pipeline import BuildSettings, blind_check
    from mabench.build.pipeline import build as run_build

    _check_skeleton_source("build", skeletons, pose)
    if not clips.is_dir():
        fail(f"{clips}: not a folder of clips")
    if executor not in ("local", "ray"):
        fail(f"--executor {executor}: expected local or ray")
    if executor == "ray":
        try:
            import ray  # noqa: F401
        except ImportError:
            fail("--executor ray needs Ray: pip install 'mabench[ray]'")
    if (rewrite or blind) and not base_url:
        fail("--rewrite / --blind need --base-url (an OpenAI-compatible endpoint)")
    settings = BuildSettings(skeletons=str(skeletons) if skeletons else None, fmt=skeleton_format, pose=pose,
                             flow=flow, seed=seed, test_fraction=test_fraction, subject_pattern=subject_pattern,
                             label_names=str(label_names) if label_names else None,
                             workers=workers, executor=executor, rewrite=rewrite, rewrite_base_url=base_url,
                             api_key_env=api_key_env, overlay=overlay, audit=qc)
    from mabench.models import EndpointError

    t0 = time.perf_counter()
    try:
        summary = run_build(clips, labels, out, settings, log=lambda m: console.print(m, markup=False))
        if blind:
            blind_check(out, blind, base_url, blind_runs, api_key_env)
    except (LabelsError, ValueError, EndpointError) as e:
        fail(str(e))
    console.print(f"built {summary['questions']} questions for {summary['clips']['usable']} of "
                  f"{summary['clips']['labelled']} labelled clips in {time.perf_counter() - t0:.1f} s: "
                  f"benchmark {out / 'benchmark.json'} ({summary['benchmark_questions']} questions, "
                  f"{summary['test_clips']} clips), corpus {summary['train_clips']} clips"
                  + (f" in {out / 'corpus'}" if summary["corpus"] else ""))
    if summary["problems"]:
        console.print(f"[yellow]{len(summary['problems'])} problems[/] (listed in {out / 'build.json'})")
    if qc and (out / "qc.md").exists():
        console.print((out / "qc.md").read_text(encoding="utf-8"), markup=False)
    if qc and (out / "qc.json").exists():  # the gates: the benchmark stays written (qc.md marks it), the exit fails
        from mabench.build.qc import qc_gate

        gate = qc_gate(json.loads((out / "qc.json").read_text(encoding="utf-8")))
        if not gate["passed"]:
            console.print("[red]QC gate failed[/]: " + "; ".join(gate["failures"]), markup=True)
            raise typer.Exit(1)


@app.command()
def demo(
    out: Path = typer.Option(Path("mabench-demo"), "--out", help="Folder for everything the demo makes."),
    clips: int = typer.Option(24, "--clips", min=4, help="Synthetic clips to make."),
    seed: int = typer.Option(0, "--seed"),
) -> None:
    """Offline tour: synthetic clips -> built benchmark -> baselines evaluated -> HTML report."""
    from mabench.demo import run_demo

    t0 = time.perf_counter()
    try:
        res = run_demo(out, clips, seed, workers=max(1, min(4, os.cpu_count() or 1)),
                       log=lambda m: console.print(m, markup=False))
    except ImportError as e:
        if e.name in ("matplotlib", "jinja2"):
            fail(f"the demo's report needs the report extra ({e.name} is missing): pip install -e \".[report]\"")
        fail(str(e))
    console.print(f"done in {time.perf_counter() - t0:.0f} s. Open the report: {res['index'].resolve()}")
    console.print(f"leaderboard: {out / 'report' / 'leaderboard.md'}; your model next: mabench eval "
                  f"{res['benchmark']} --videos {out / 'synth' / 'clips'} --model openai:NAME --base-url URL "
                  f"--out {out / 'runs' / 'NAME'}")


# --- train ------------------------------------------------------------------------------------------

@app.command()
def train(
    corpus: Path = typer.Option(..., "--corpus", help="A `mabench build` corpus folder (corpus/) or its chat.jsonl."),
    model: str = typer.Option(..., "--model", help="Base model: a local folder or hub id (Qwen3-VL, Qwen2.5-VL)."),
    out: Path = typer.Option(..., "--out", help="Adapter folder (checkpoints in OUT/checkpoints)."),
    epochs: float = typer.Option(1.0, help="Passes over the corpus."),
    max_steps: int = typer.Option(-1, help="Stop after this many optimizer steps (overrides --epochs)."),
    learning_rate: float = typer.Option(2e-4, "--lr"),
    batch_size: int = typer.Option(1, min=1),
    grad_accum: int = typer.Option(1, min=1),
    lora_r: int = typer.Option(16, min=1),
    lora_alpha: int = typer.Option(32, min=1),
    frames: int = typer.Option(8, min=2, help="Frames per clip."),
    max_side: int = typer.Option(448, help="Downscale frames to this longest side before the model's resize."),
    gradient_checkpointing: bool = typer.Option(True, "--gradient-checkpointing/--no-gradient-checkpointing"),
    save_steps: int = typer.Option(200, min=1),
    logging_steps: int = typer.Option(10, min=1),
    seed: int = typer.Option(0),
    device: str | None = typer.Option(None, help="cuda / cpu (default: cuda if any)."),
    resume: bool = typer.Option(False, "--resume", help="Continue from the last checkpoint in OUT/checkpoints."),
) -> None:
    """LoRA fine-tuning (TRL + PEFT) of a video-language model on a `mabench build` corpus."""
    try:
        from mabench.train.sft import CorpusError, TrainSettings
        from mabench.train.sft import train as run_train
    except ImportError as e:
        fail(str(e))
    settings = TrainSettings(lora_r=lora_r, lora_alpha=lora_alpha, learning_rate=learning_rate, epochs=epochs,
                             max_steps=max_steps, batch_size=batch_size, grad_accum=grad_accum, num_frames=frames,
                             max_side=max_side, gradient_checkpointing=gradient_checkpointing, save_steps=save_steps,
                             logging_steps=logging_steps, seed=seed, device=device)
    t0 = time.perf_counter()
    try:
        info = run_train(corpus, model, out, settings, resume=resume, log=lambda m: console.print(m, markup=False))
    except ImportError as e:
        fail(str(e))
    except (CorpusError, OSError) as e:
        fail(str(e))
    first, last = (info["losses"][0]["loss"], info["losses"][-1]["loss"]) if info["losses"] else (None, None)
    console.print(f"trained {info['steps']} steps in {time.perf_counter() - t0:.0f} s "
                  f"({info['trainable_parameters']:,} LoRA parameters)"
                  + (f"; loss {first:.3f} -> {last:.3f}" if first is not None else "")
                  + f"; adapter: {out}  (evaluate: mabench eval BENCH --model hf:{model} --adapter {out} ...)")
