"""What a run is before its first question: its settings, its errors, its clips and its run directory.

`EvalSettings` (what `mabench eval` was asked), `RunResult` (what it did), the clip files a benchmark names
(`resolve_clip`: never outside --videos), the resolved config written to ``config.json`` and what makes two
configs the same run (`config_differences`), and `prepare_run_dir`, which resumes a run or refuses another's
directory. The run itself is `mabench.evaluation.runner`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from mabench import __version__, defaults
from mabench.data.io import Benchmark, repair_torn_tail, write_json
from mabench.data.records import VIDEO_SUFFIXES
from mabench.evaluation.controls import Control
from mabench.evaluation.metrics import Scores
from mabench.evaluation.prompts import prompts_hash
from mabench.evaluation.protocol import Protocol
from mabench.evaluation.rundir import CONFIG, JUDGMENTS, PREDICTIONS, SCORES, SUBMISSION, RunDir
from mabench.evaluation.strategies import Strategy
from mabench.models.base import Backend, GenerationConfig
from mabench.video.cache import DEFAULT_MEMORY_MB
from mabench.video.decode import VideoError
from mabench.video.sampling import SamplingConfig

DEFAULT_CONCURRENCY = defaults.CONCURRENCY
DEFAULT_MAX_RETRIES = defaults.MAX_RETRIES
BACKOFF_BASE_S = defaults.BACKOFF_BASE_S
# This many questions in a row that got no answer (refused, reset, timed out) stop the run: the server
# is gone or stalled, and asking the rest would only record thousands of failures.
DEFAULT_MAX_CONNECTION_FAILURES = defaults.MAX_CONNECTION_FAILURES
# Raw model output kept per answer; a runaway reply (10 MB of repetition) must not fill the disk.
DEFAULT_MAX_OUTPUT_BYTES = defaults.MAX_OUTPUT_BYTES
# More than this share of the benchmark's clips missing from --videos means the wrong folder.
MAX_MISSING_CLIP_SHARE = 0.5


class RunConfigError(Exception):
    """The run directory holds a run made with other settings."""


class RunStopped(Exception):
    """The run cannot go on (most clips missing, the server gone); the message says what to do."""


class RunFailed(RunStopped):
    """The run finished, but too many of its requests failed for its numbers to mean anything: its
    scores are marked partial, no submission is written; the message names the commonest error and
    the fix."""


def error_fix(error: str) -> str:
    """What to do about a request error, from its text (the runner's and the judge's)."""
    e = error.lower()
    if "http 404" in e:
        return "does --base-url end in /v1 (e.g. http://127.0.0.1:8000/v1), and does the server serve --model?"
    if "http 401" in e or "http 403" in e:
        return "the server refused the API key: set the variable --api-key-env names"
    if "http 429" in e:
        return "the server keeps rate-limiting: lower --concurrency or wait, then re-run with --retry-errors"
    if "http 413" in e:
        return "the requests are too large for the server: fewer --frames or a smaller --max-side"
    if "http 400" in e or "http 422" in e:
        return ("the server refuses the requests as sent: check that the model takes images (or --video-mode), "
                "--max-tokens and --extra-body against the server's limits")
    if "http 5" in e:
        return "the server fails on these requests: look at its log"
    if "timed out" in e:
        return "the server did not answer in time: raise --request-timeout or lower --concurrency"
    if "connection" in e:
        return "start the server or fix --base-url"
    return "look at the errors in predictions.jsonl"


def commonest_error(errors: list[str]) -> tuple[str, int]:
    text, n = Counter(e.split(NOT_ASKED)[0] for e in errors).most_common(1)[0]
    return text, n


# A question not sent because questions of the same request shape got an error that repeats (the runner's
# `SHAPE_STRIKE_CLIPS`): its error says so, and the commonest error counts it with the error it repeats.
NOT_ASKED = " (not asked: "


@dataclass
class EvalSettings:
    videos: Path | None = None
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    gen: GenerationConfig = field(default_factory=GenerationConfig)
    concurrency: int = DEFAULT_CONCURRENCY
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base_s: float = BACKOFF_BASE_S
    request_timeout_s: float = defaults.REQUEST_TIMEOUT_S
    cache_mb: float = DEFAULT_MEMORY_MB
    disk_cache: Path | None = None
    max_connection_failures: int = DEFAULT_MAX_CONNECTION_FAILURES  # 0: never stop
    max_error_share: float = defaults.MAX_ERROR_SHARE  # past it the run ends non-zero (1.0: only when all fail)
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    allow_missing: bool = False  # go on when most clips are missing
    protocol: Protocol = field(default_factory=Protocol)  # mabench's conditions or the official runner's (kit)
    control: Control = field(default_factory=Control)  # reverse, shuffle, single, blank: what the clip shows
    strategy: Strategy = field(default_factory=Strategy)  # cot, definitions, fewshot:K, vote:N
    support: Benchmark | None = None  # answered questions the few-shot examples come from
    support_videos: Path | None = None  # their clips


@dataclass
class RunResult:
    out: Path
    total: int
    asked: int  # questions sent this time
    skipped: int  # already answered in an earlier run
    errors: int
    failed_clips: dict[str, str]
    scores: Scores | None
    elapsed_s: float
    decodes: int
    earlier_errors: int = 0  # failed in an earlier run and not asked again (no --retry-errors)
    warnings: list[str] = field(default_factory=list)  # what did not go as asked but cost no answer


# --- clips --------------------------------------------------------------------------------------


def resolve_clip(videos: Path, name: str) -> Path:
    """The clip file for a benchmark video name, refusing names that would leave `videos`."""
    if not name or PurePosixPath(name).is_absolute() or PureWindowsPath(name).is_absolute() \
            or ".." in PurePosixPath(name.replace("\\", "/")).parts:
        raise VideoError(f"unsafe video name {name!r}: it must be a file name inside --videos")
    # Symlinks inside --videos are followed: a Hugging Face cache or an `ln -s` farm points into
    # blobs elsewhere by design, and a link placed there is the user's choice. The name check above
    # is what keeps a benchmark file from reaching outside the folder.
    base = videos.absolute()
    candidates = [name] if name.lower().endswith(VIDEO_SUFFIXES) else [name + s for s in VIDEO_SUFFIXES]
    for cand in candidates:
        p = base / cand
        if p.exists():
            return p
    return base / candidates[0]


def missing_clips(bench: Benchmark, videos: Path) -> tuple[list[str], int]:
    """(clip names not found in `videos`, number of clips). Unsafe names are not counted as
    missing: their questions are refused one by one with their own message."""
    names = list(dict.fromkeys(q.video for q in bench))
    missing = []
    for name in names:
        try:
            if not resolve_clip(videos, name).exists():
                missing.append(name)
        except VideoError:
            continue
    return missing, len(names)


def check_clips(bench: Benchmark, videos: Path) -> None:
    """Stop before asking anything when most clips are not in `videos` (the wrong folder)."""
    missing, total = missing_clips(bench, videos)
    if total and len(missing) > MAX_MISSING_CLIP_SHARE * total:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise RunStopped(f"{len(missing)} of the benchmark's {total} clips are not in --videos {videos} "
                         f"(e.g. {shown}); check the folder, or pass --allow-missing to go on "
                         "(their questions count as wrong)")


# --- config -------------------------------------------------------------------------------------


def build_config(bench: Benchmark, backend: Backend, settings: EvalSettings, prompts: dict[str, str],
                 selection: dict[str, Any]) -> dict[str, Any]:
    return {
        "mabench_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        # absolute: `mabench judge` / `report` may run from another directory
        "benchmark": {"path": str(bench.path.absolute()) if bench.path else None, "sha256": bench.sha256,
                      "questions": len(bench), "questions_sha256": bench.questions_sha256()},
        "selection": selection,
        "model": backend.describe(),
        "sampling": asdict(settings.sampling),
        "generation": asdict(settings.gen),
        "prompts": prompts,
        "prompts_hash": prompts_hash(prompts),
        # only when not the default: a run made before protocols existed still resumes
        **({"protocol": settings.protocol.name} if settings.protocol.is_kit else {}),
        # only when there is one: a plain run made before controls existed still resumes
        **({"control": settings.control.describe()} if not settings.control.is_none else {}),
        # only when there is one: a zero-shot run made before strategies existed still resumes
        **({"strategy": {**settings.strategy.describe(),
                         "support_sha256": settings.support.sha256 if settings.support is not None else None}}
           if not settings.strategy.is_zero_shot else {}),
        "runner": {"concurrency": settings.concurrency, "max_retries": settings.max_retries,
                   "request_timeout_s": settings.request_timeout_s,
                   "videos": str(settings.videos.absolute()) if settings.videos else None,
                   "max_output_bytes": settings.max_output_bytes, "max_error_share": settings.max_error_share},
    }


# What makes two runs the same run: not paths, ports, concurrency or which subset is asked.
_IDENTITY = (("benchmark", "sha256"), ("model", "backend"), ("model", "model"), ("model", "video_mode"),
             ("model", "seed"), ("model", "prior"), ("sampling",), ("generation",), ("prompts_hash",),
             ("strategy",), ("protocol",), ("control",))


def _get(d: Any, path: tuple[str, ...]) -> Any:
    for k in path:
        d = d.get(k) if isinstance(d, dict) else None
    return d


def config_differences(old: dict[str, Any], new: dict[str, Any], ignore: tuple[str, ...] = ()) -> list[str]:
    """What makes two runs' configs different runs (`ignore`: top-level identity keys left out)."""
    diffs = []
    for path in _IDENTITY:
        if path[0] in ignore:
            continue
        a, b = _get(old, path), _get(new, path)
        if a != b:
            diffs.append(f"{'.'.join(path)}: {json.dumps(a)[:60]} -> {json.dumps(b)[:60]}")
    return diffs


def prepare_run_dir(out: Path, config: dict[str, Any], force: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    run = RunDir(out)
    cfg_path = run.config_path
    if cfg_path.exists():
        try:
            old = json.loads(cfg_path.read_text(encoding="utf-8"))
            if not isinstance(old, dict):
                raise ValueError("not a JSON object")
        except (ValueError, RecursionError) as err:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
            if force:
                old = {"unreadable": True}
            else:
                # --force would set the finished answers aside: say how to keep them instead
                raise RunConfigError(
                    f"{cfg_path}: unreadable ({type(err).__name__}), so the settings of the answers in {out} "
                    "cannot be checked; if this command's settings are the run's, delete config.json and re-run "
                    "to resume them, else use another --out") from None
        diffs = config_differences(old, config)
        if diffs and not force:
            raise RunConfigError(
                f"{out} holds a run with other settings ({'; '.join(diffs)}); "
                "use another --out, or --force to set the old answers aside and start again")
        if diffs and force:
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
            for name in (PREDICTIONS, JUDGMENTS, SCORES, SUBMISSION, CONFIG):
                if (out / name).exists():
                    (out / name).rename(out / f"{name}.{stamp}.bak")
    write_json(cfg_path, config)
    repair_torn_tail(run.predictions_path)
