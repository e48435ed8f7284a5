"""The MADU / MARE rubric judge: text-only LLM scoring, robust parsing, a cache, several judges.

Nothing here ever turns a failure into a score: an unparseable or out-of-range reply is retried and
then recorded as `judge_error`; only an empty or missing prediction scores 0, without a call.

judgments.jsonl has one line per (question, judge): qid, task, judge, prompt_version, scores
({"L1", "L2", "L3"} or null), reason, raw, latency_s, usage, judge_error, attempts, source
("judge", "cache" or "empty_prediction"), pred_sha, ref_sha.

A judgment is bound to the answer it judged (`pred_sha`, the hash of `judged_text`) and to the
reference it judged it against (`ref_sha`): scoring uses a row only while both still match
(`bound_rows`), so an answer re-asked after judging, or a key swapped under the run, is judged again
instead of keeping an old score.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from mabench import defaults
from mabench.data.io import Benchmark, BenchmarkError, iter_jsonl
from mabench.data.predictions import ROW_SCHEMA, Prediction, append_jsonl, check_schema
from mabench.evaluation.extract import strip_think
from mabench.evaluation.rubrics import JUDGE_PROMPT_VERSION, judge_system_prompt, judge_user_prompt
from mabench.models.base import Backend, GenerationConfig, Request
from mabench.models.retry import RetryPolicy, RetrySettings, ask_until_done
from mabench.taxonomy import JUDGE_SCALE_MAX, OPEN_TASKS

DIMS = ("L1", "L2", "L3")
DEFAULT_PARSE_RETRIES = 3
JUDGE_MAX_TOKENS = 512


class JudgeParseError(ValueError):
    pass


class JudgeStopped(Exception):
    """The judge's server gave no answer to many judgments in a row: the pass stopped; the message says
    what to do. Judgments already made are kept."""


# --- parsing ------------------------------------------------------------------------------------

_LINE_SCORE = re.compile(r"\bL\s*([123])\b[^\n0-9]{0,60}?[:=]\s*\**\s*(-?\d+(?:\.\d+)?)", re.IGNORECASE)
# What follows a number that is not a score but the rubric restated: "L1 = 0 means unrelated",
# "L2: 0-5", "L3 = 5 if ...".
_NOT_A_SCORE = re.compile(r"[ \t]*(?:[-–—][ \t]*\d|(?:means|if|indicates|denotes)\b|=|/[ \t]*\d+[ \t]*(?:means|if)\b)",
                          re.IGNORECASE)


def _as_int(value: Any, dim: str) -> int:
    if isinstance(value, bool):
        raise JudgeParseError(f"{dim} is not an integer: {value!r}")
    if isinstance(value, int):
        v = value
    elif isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        v = int(value)
    else:
        raise JudgeParseError(f"{dim} is not an integer: {value!r}")
    if not 0 <= v <= JUDGE_SCALE_MAX:
        raise JudgeParseError(f"{dim}={v} is outside 0-{JUDGE_SCALE_MAX}")
    return v


def _from_mapping(obj: Mapping[str, Any]) -> tuple[dict[str, int], str]:
    lowered = {str(k).strip().upper(): v for k, v in obj.items()}
    scores = {}
    for dim in DIMS:
        if dim not in lowered:
            raise JudgeParseError(f"missing {dim}")
        scores[dim] = _as_int(lowered[dim], dim)
    reason = obj.get("reason") or obj.get("Reason") or obj.get("explanation") or ""
    return scores, str(reason)


def _json_objects(text: str) -> Iterable[dict]:
    decoder = json.JSONDecoder()
    for m in re.finditer(r"\{", text):
        try:
            obj, _ = decoder.raw_decode(text, m.start())
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            yield obj


def _last_complete_set(body: str) -> dict[str, str] | None:
    """The last L1, L2, L3 scores given together (each dimension once, in a run of score lines), from
    `L1: 4` style lines; a line that restates the rubric ("L1 = 0 means unrelated", "L2: 0-5") is not a
    score. None when no complete set is given."""
    run: dict[str, str] = {}
    last: dict[str, str] | None = None
    for m in _LINE_SCORE.finditer(body):
        if _NOT_A_SCORE.match(body, m.end()):
            run = {}
            continue
        dim = f"L{m.group(1)}"
        if dim in run:  # a dimension again: a new set starts
            run = {}
        run[dim] = m.group(2)
        if len(run) == len(DIMS):
            last, run = dict(run), {}
    return last


def parse_judge_reply(text: str | None) -> tuple[dict[str, int], str]:
    """Scores {"L1", "L2", "L3"} (integers 0-5) and a reason, from JSON, fenced JSON or `L1: 3` lines.

    Where the reply gives several sets (a JSON example then the verdict, the rubric restated before the
    scores), the last complete one counts; lines that restate the rubric are not scores.
    Raises JudgeParseError naming what is wrong (missing, non-integer, out of range, no scores).
    """
    if not text or not text.strip():
        raise JudgeParseError("empty reply")
    body, _ = strip_think(text)
    last_error: JudgeParseError | None = None
    parsed: tuple[dict[str, int], str] | None = None
    # the last valid JSON object with the dimensions (fenced blocks are inside the body too)
    for obj in _json_objects(body):
        if not any(str(k).strip().upper() in DIMS for k in obj):
            continue
        try:
            parsed = _from_mapping(obj)
        except JudgeParseError as err:
            last_error = err
    if parsed is not None:
        return parsed
    if last_error:
        raise last_error
    found = _last_complete_set(body)
    if found is not None:
        scores = {dim: _as_int(found[dim], dim) for dim in DIMS}
        reason = _LINE_SCORE.sub("", body).strip()
        return scores, reason[:500]
    dims = {f"L{m.group(1)}" for m in _LINE_SCORE.finditer(body) if not _NOT_A_SCORE.match(body, m.end())}
    if dims:
        raise JudgeParseError(f"missing {', '.join(d for d in DIMS if d not in dims) or 'a complete L1-L3 set'}")
    raise JudgeParseError("no scores found in the reply")


# --- cache --------------------------------------------------------------------------------------


def sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_key(judge: str, qid: str, reference: str, prediction: str,
              version: str = JUDGE_PROMPT_VERSION) -> str:
    return sha(json.dumps([judge, version, qid, sha(reference), sha(prediction)]))


class JudgeCacheError(OSError):
    """The judge cache file cannot be read or written; the message says what to do."""


class JudgeCache:
    """(judge model, prompt version, qid, reference, prediction) -> scores, in one SQLite file.

    Opening it checks that it can be read and written (a corrupt file, a read-only one, a folder): one
    `JudgeCacheError` line before any judgment is asked. A write that fails later (a full disk) turns the
    cache off for the rest of the pass (`error` says why): the judgments themselves are in judgments.jsonl.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.error: str | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
            self.db.execute("CREATE TABLE IF NOT EXISTS judgments (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
            self.db.execute("INSERT OR REPLACE INTO judgments VALUES ('', '{}')")  # can it be written?
            self.db.execute("DELETE FROM judgments WHERE key = ''")
            self.db.commit()
        except (sqlite3.Error, OSError) as err:
            raise JudgeCacheError(f"--judge-cache {self.path}: not a usable SQLite cache ({err}); delete it or "
                                  "pass another --judge-cache (or --no-cache)") from None

    def get(self, key: str) -> dict[str, Any] | None:
        try:
            row = self.db.execute("SELECT value FROM judgments WHERE key = ?", (key,)).fetchone()
            return json.loads(row[0]) if row else None
        except (sqlite3.Error, ValueError):
            return None  # an unreadable entry: judge again

    def put(self, key: str, value: dict[str, Any]) -> None:
        if self.error is not None:
            return
        try:
            self.db.execute("INSERT OR REPLACE INTO judgments VALUES (?, ?)", (key, json.dumps(value)))
            self.db.commit()
        except sqlite3.Error as err:
            self.error = f"{self.path}: {err}"

    def close(self) -> None:
        self.db.close()


# --- records ------------------------------------------------------------------------------------


@dataclass
class Judgment:
    qid: str
    task: str
    judge: str
    prompt_version: str = JUDGE_PROMPT_VERSION
    scores: dict[str, int] | None = None
    reason: str | None = None
    raw: str | None = None
    latency_s: float | None = None
    usage: dict[str, Any] | None = None
    judge_error: str | None = None
    attempts: int = 0
    source: str = "judge"
    pred_sha: str | None = None
    ref_sha: str | None = None
    schema: int = ROW_SCHEMA
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.update(d.pop("extra"))
        return d


def read_judgments(path: str | Path) -> list[dict[str, Any]]:
    path = Path(path)
    rows = [row for _, row in iter_jsonl(path) if isinstance(row, dict)] if path.exists() else []
    for row in rows:
        check_schema(row)
    return rows


def latest_judgments(rows: Iterable[Mapping[str, Any]], version: str | None = None) -> dict[tuple[str, str], dict]:
    """The last row per (qid, judge), optionally for one prompt version."""
    out: dict[tuple[str, str], dict] = {}
    for r in rows:
        if version is None or r.get("prompt_version") == version:
            out[(str(r["qid"]), r["judge"])] = dict(r)
    return out


def judged_text(pred: Prediction | None) -> str:
    """The text a judge reads for a prediction: the answer without its reasoning block ("" for a
    missing or failed one, which scores 0 without a call)."""
    if pred is None or pred.error is not None:
        return ""
    return strip_think(pred.pred_answer or "")[0].strip()


def bound_rows(rows: Iterable[Mapping[str, Any]], bench: Benchmark,
               preds: Mapping[str, Prediction]) -> tuple[list[Mapping[str, Any]], int]:
    """(the judgment rows that judged the current answer against the current reference, how many
    latest rows per (qid, judge) are stale: made for another answer or reference, or unbound)."""
    want = {q.qid: (sha(judged_text(preds.get(q.qid))), sha(q.answer or "")) for q in bench if q.task in OPEN_TASKS}
    latest = latest_judgments(rows)
    kept: list[Mapping[str, Any]] = []
    stale = 0
    for (qid, _), r in latest.items():
        if qid not in want:
            continue
        pred_sha, ref_sha = want[qid]
        if r.get("pred_sha") == pred_sha and r.get("ref_sha", ref_sha) == ref_sha:
            kept.append(r)
        else:
            stale += 1
    return kept, stale


# --- aggregation and agreement ------------------------------------------------------------------


@dataclass
class Aggregate:
    scores: dict[str, dict[str, float]]  # qid -> dim -> mean over judges (only fully judged qids)
    failed: list[str]  # qids with a judge_error from some judge
    missing: list[str]  # qids some judge has not judged
    judges: list[str]


def aggregate(rows: Iterable[Mapping[str, Any]], qids: Iterable[str], judges: list[str] | None = None) -> Aggregate:
    latest = latest_judgments(rows)
    if judges is None:
        judges = sorted({j for _, j in latest})
    scores: dict[str, dict[str, float]] = {}
    failed: list[str] = []
    missing: list[str] = []
    for qid in qids:
        found = [latest.get((qid, j)) for j in judges]
        per = [r for r in found if r is not None]
        if len(per) < len(found) or not judges:
            missing.append(qid)
        elif any(r.get("scores") is None for r in per):
            failed.append(qid)
        else:
            scores[qid] = {d: float(np.mean([r["scores"][d] for r in per])) for d in DIMS}
    return Aggregate(scores, failed, missing, judges)


def agreement(rows: Iterable[Mapping[str, Any]], judges: list[str]) -> dict[str, Any] | None:
    """Exact and within-1 agreement (over judge pairs) and Krippendorff's ordinal alpha, per dimension."""
    import krippendorff

    if len(judges) < 2:
        return None
    latest = latest_judgments(rows)
    qids = sorted({q for q, j in latest if j in judges})
    out: dict[str, Any] = {"judges": judges, "dimensions": {}}
    for task in OPEN_TASKS:
        for dim in DIMS:
            cols = []
            for qid in qids:
                col = []
                for j in judges:
                    r = latest.get((qid, j))
                    ok = r is not None and r.get("scores") and r.get("task") == task
                    col.append(r["scores"][dim] if r is not None and ok else np.nan)
                if sum(not np.isnan(v) for v in col) >= 2:
                    cols.append(col)
            if not cols:
                continue
            mat = np.array(cols, dtype=float).T
            pairs_exact, pairs_w1 = [], []
            for a in range(len(judges)):
                for b in range(a + 1, len(judges)):
                    both = ~np.isnan(mat[a]) & ~np.isnan(mat[b])
                    diff = np.abs(mat[a][both] - mat[b][both])
                    pairs_exact += list(diff == 0)
                    pairs_w1 += list(diff <= 1)
            try:
                alpha = float(krippendorff.alpha(reliability_data=mat, value_domain=list(range(JUDGE_SCALE_MAX + 1)),
                                                 level_of_measurement="ordinal"))
            except (ValueError, ZeroDivisionError):
                alpha = None  # e.g. every rating identical: alpha is undefined
            if alpha is not None and np.isnan(alpha):
                alpha = None
            out["dimensions"][f"{task} {dim}"] = {
                "n": len(cols), "exact": float(np.mean(pairs_exact)), "within_1": float(np.mean(pairs_w1)),
                "alpha_ordinal": alpha}
    return out


def load_judgment_scores(path: str | Path, qids: Iterable[str]) -> Aggregate:
    """Averaged scores per qid from a judgments.jsonl (every judge found in it)."""
    return aggregate(read_judgments(path), qids)


# --- the judge run ------------------------------------------------------------------------------


class JudgeSettings(RetrySettings, Protocol):
    """Retries, timeouts and how many judge calls go out at once (the CLI passes its EvalSettings)."""

    @property
    def concurrency(self) -> int: ...
    @property
    def max_connection_failures(self) -> int: ...


@dataclass(frozen=True)
class JudgePolicy(RetryPolicy):
    """`JudgeSettings` for callers without an eval run (the Python API's default): the retry policy,
    how many judge calls go out at once, and after how many unanswered judgments in a row it stops."""

    concurrency: int = defaults.JUDGE_CONCURRENCY
    max_connection_failures: int = defaults.MAX_CONNECTION_FAILURES  # 0: never stop


@dataclass
class JudgeResult:
    judged: int  # calls made this time
    cached: int
    empty: int
    errors: int
    skipped: int


async def run_judge(bench: Benchmark, preds: Mapping[str, Prediction], judges: dict[str, Backend],
                    out: Path, settings: JudgeSettings, cache: JudgeCache | None = None,
                    parse_retries: int = DEFAULT_PARSE_RETRIES, retry_errors: bool = False,
                    on_progress=None) -> JudgeResult:
    """Judge every MADU/MARE prediction by every judge; append to `out` (judgments.jsonl).

    Questions without any prediction row were never asked (a --tasks / --limit run, an unfinished
    one): they are not judged, so they cannot turn into zeros."""
    questions = [q for q in bench if q.task in OPEN_TASKS and q.qid in preds]
    missing_ref = [q.qid for q in questions if not q.answer]
    if missing_ref:
        raise BenchmarkError(f"{bench.path}: {len(missing_ref)} MADU/MARE questions have no reference answer "
                             f"(e.g. {missing_ref[0]}); judge against a key with answers (--key)")
    done = latest_judgments(read_judgments(out), JUDGE_PROMPT_VERSION)
    res = JudgeResult(0, 0, 0, 0, 0)
    jobs = []
    for q in questions:
        text = judged_text(preds.get(q.qid))
        for name in judges:
            prev = done.get((q.qid, name))
            ref = sha(q.answer or "")
            # rows from before `ref_sha` count as of this reference (as `bound_rows` counts them)
            if prev and prev.get("pred_sha") == sha(text) and prev.get("ref_sha", ref) == ref \
                    and (prev.get("scores") is not None or not retry_errors):
                res.skipped += 1
                continue
            jobs.append((q, name, text))
    sem = asyncio.Semaphore(max(1, settings.concurrency))
    total = len(jobs)
    finished = 0
    if not jobs:
        return res  # nothing new: leave judgments.jsonl as it is (or absent)

    limit = getattr(settings, "max_connection_failures", defaults.MAX_CONNECTION_FAILURES)
    in_a_row = 0
    last_error: str | None = None

    with open(out, "a", encoding="utf-8") as sink:

        async def one(q, name, text) -> None:
            nonlocal finished, in_a_row, last_error
            async with sem:
                j = await _judge_one(q, name, judges[name], text, settings, cache, parse_retries)
            append_jsonl(sink, j.to_dict())
            res.cached += j.source == "cache"
            res.empty += j.source == "empty_prediction"
            res.judged += j.source == "judge"
            res.errors += j.judge_error is not None
            finished += 1
            if j.extra.get("error_kind") in ("connection", "timeout"):
                in_a_row, last_error = in_a_row + 1, j.judge_error
                if 0 < limit <= in_a_row:
                    raise JudgeStopped(
                        f"{in_a_row} judgments in a row got no answer from judge {name} ({last_error}); stopped "
                        f"after {finished} of {total}, judgments kept in {out}: start the judge's server (or raise "
                        "--request-timeout) and re-run the same command with --retry-errors")
            elif j.source == "judge":
                in_a_row = 0
            if on_progress:
                on_progress(finished, total, res.errors)

        tasks = [asyncio.ensure_future(one(*job)) for job in jobs]
        try:
            for fut in asyncio.as_completed(tasks):
                await fut  # a JudgeStopped ends the pass here
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return res


async def _judge_one(q, name: str, backend: Backend, text: str, settings: RetrySettings,
                     cache: JudgeCache | None, parse_retries: int) -> Judgment:
    j = Judgment(q.qid, q.task, name, pred_sha=sha(text), ref_sha=sha(q.answer or ""))
    if not text:
        j.scores, j.source, j.reason = dict.fromkeys(DIMS, 0), "empty_prediction", "empty or missing prediction"
        return j
    key = cache_key(name, q.qid, q.answer, text)
    if cache is not None and (hit := cache.get(key)) is not None:
        j.scores, j.reason, j.raw, j.source = hit["scores"], hit.get("reason"), hit.get("raw"), "cache"
        return j
    req = Request(q.qid, q.task, judge_system_prompt(q.task), judge_user_prompt(q.question, q.answer, text),
                  gen=GenerationConfig(temperature=0.0, max_tokens=JUDGE_MAX_TOKENS))
    for attempt in range(parse_retries + 1):
        resp, error, attempts = await ask_until_done(backend, req, settings)
        j.attempts += attempts
        if resp is None:
            j.judge_error = f"request failed: {error}"
            j.extra["error_kind"] = error.kind if error is not None else None
            return j
        j.raw, j.latency_s, j.usage = resp.text, round(resp.latency_s, 4), resp.usage
        try:
            j.scores, j.reason = parse_judge_reply(resp.text)
            j.judge_error = None
            break
        except JudgeParseError as err:
            j.judge_error = f"unusable reply after {attempt + 1} tries: {err}"
    if j.scores is not None and cache is not None:
        cache.put(key, {"scores": j.scores, "reason": j.reason, "raw": j.raw})
    return j

