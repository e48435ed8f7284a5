"""MA-Bench as inspect_ai tasks: `inspect eval mabench/closed -T benchmark=bench.json -T videos=clips/`.

Tasks `closed` (CMAR..PPR), `madu`, `mare` and `all` are registered through the `inspect_ai` entry-point
group (install `mabench[inspect]`). Every step is mabench's own (`mabench.integrations.common`):

- `mabench_frames()` solver: the system prompt and user text of `mabench eval`, with the clip's frames
  sampled by `mabench.video` as JPEG `ContentImage` data URLs (inspect's OpenAI path does not send
  `ContentVideo`), then one generation.
- `mabench_answer()` scorer (closed questions): mabench's extraction; CORRECT when it equals the key.
- `mabench_judge()` scorer (MADU / MARE): the rubric judge's prompts, asked of the `grader` model role
  (default: the evaluated model), parsed by mabench's judge parser.
- metrics: per-task accuracy in percent and the tier scores (`mabench_closed_metrics`), per-dimension
  means, open AVG and the interpretive tier (`mabench_open_metrics`): mabench's scoring formula.

Each scorer returns no score for the other kind of question, so `all` runs both on one dataset.
"""

from __future__ import annotations

from collections import defaultdict

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import (
    ChatMessageSystem,
    ChatMessageUser,
    Content,
    ContentImage,
    ContentText,
    GenerateConfig,
    get_model,
)
from inspect_ai.scorer import (
    CORRECT,
    INCORRECT,
    Metric,
    SampleScore,
    Score,
    Scorer,
    Target,
    metric,
    scorer,
    value_to_float,
)
from inspect_ai.solver import Generate, Solver, TaskState, solver

from mabench.data.io import parse_record
from mabench.data.records import Question
from mabench.evaluation.judge import JUDGE_MAX_TOKENS, JudgeParseError
from mabench.integrations import common
from mabench.models.base import GenerationConfig
from mabench.taxonomy import CLOSED_TASKS, OPEN_TASKS
from mabench.video.decode import VideoError

# What `mabench judge` re-asks after an unusable judge reply before recording a judge error (never a 0).
JUDGE_PARSE_RETRIES = 3
_to_float = value_to_float()
_DEFAULT_GEN = GenerationConfig()


def _question(state: TaskState) -> Question:
    return parse_record(state.metadata["record"], f"sample {state.sample_id}")


def mabench_dataset(benchmark: str, tasks: list[str] | None = None, limit: int | None = None) -> MemoryDataset:
    """One Sample per question: input is the question text, target its answer, metadata the record
    (task, clip) that the solver and scorers read."""
    qs = common.load_questions(benchmark, tasks)
    if limit is not None:
        qs = qs[:limit]
    samples = [Sample(input=q.question, target=q.answer or "", id=q.qid,
                      metadata={"task": q.task, "clip": q.video_id, "record": q.to_dict()})
               for q in qs]
    return MemoryDataset(samples, name="mabench")


@solver
def mabench_frames(videos: str, sampling: str = "uniform", frames: int = 8, fps: float = 2.0) -> Solver:
    """Ask the question as `mabench eval` does: its system prompt, then the sampled frames and the text."""
    cfg = common.sampling_config(sampling, frames, fps)

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        q = _question(state)
        system, user = common.turn(q)
        try:
            urls = common.frame_urls(videos, q.video, cfg)
        except (VideoError, OSError) as err:  # one bad clip fails its own questions, not the run
            state.metadata["frame_error"] = str(err)
            state.completed = True
            return state
        content: list[Content] = [ContentImage(image=u) for u in urls]
        content.append(ContentText(text=user))
        state.messages = [ChatMessageSystem(content=system), ChatMessageUser(content=content)]
        return await generate(state)

    return solve


@metric
def mabench_closed_metrics() -> Metric:
    """Accuracy per closed task (percent), the perceptual and relational tiers and closed AVG."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        right: dict[str, list[bool]] = defaultdict(list)
        for s in scores:
            meta = s.sample_metadata or {}
            # the epoch reducer has already turned CORRECT / INCORRECT into 1.0 / 0.0
            right[meta.get("task", "?")].append(_to_float(s.score.value) == 1.0)
        return common.closed_summary(right)

    return compute  # type: ignore[return-value]


@metric
def mabench_open_metrics() -> Metric:
    """Judge dimension means per open task (0-5), open AVG and the interpretive tier (x 20)."""

    def compute(scores: list[SampleScore]) -> dict[str, float]:
        dims: dict[str, list[dict[str, float]]] = defaultdict(list)
        for s in scores:
            meta = s.sample_metadata or {}
            judged = (s.score.metadata or {}).get("scores")
            if judged is not None:  # judge errors are left out, never counted as 0 (as `mabench judge`)
                dims[meta.get("task", "?")].append(judged)
        return common.open_summary(dims)

    return compute  # type: ignore[return-value]


@scorer(metrics=[mabench_closed_metrics()])
def mabench_answer() -> Scorer:
    """Closed questions: mabench's answer extraction compared with the key. No score for open ones."""

    async def score(state: TaskState, target: Target) -> Score | None:
        q = _question(state)
        if q.task not in CLOSED_TASKS:
            return None
        if "frame_error" in state.metadata:
            return Score(value=INCORRECT, answer=None, explanation=state.metadata["frame_error"])
        ex = common.extract_answer(q, state.output.completion if state.output else None)
        return Score(value=CORRECT if ex.answer is not None and ex.answer == target.text else INCORRECT,
                     answer=ex.answer, explanation=ex.reason or ex.method, metadata={"method": ex.method})

    return score


@scorer(metrics=[mabench_open_metrics()])
def mabench_judge(parse_retries: int = JUDGE_PARSE_RETRIES) -> Scorer:
    """Open questions: the rubric judge (`mabench.evaluation.rubrics`), asked of the `grader` role.
    An empty answer scores 0 without a call; an unusable judge reply is re-asked, then left unscored."""

    async def score(state: TaskState, target: Target) -> Score | None:  # noqa: ARG001
        q = _question(state)
        if q.task not in OPEN_TASKS:
            return None
        ex = common.extract_answer(q, state.output.completion if state.output else None)
        text = ex.answer or ""
        if not text:
            zeros = dict.fromkeys(common.DIMS, 0)
            return Score(value=0.0, answer="", explanation="empty or missing prediction", metadata={"scores": zeros})
        system, user = common.judge_turn(q, text)
        grader = get_model(role="grader", default=get_model())
        error = ""
        for _ in range(parse_retries + 1):
            out = await grader.generate([ChatMessageSystem(content=system), ChatMessageUser(content=user)],
                                        config=GenerateConfig(temperature=0.0, max_tokens=JUDGE_MAX_TOKENS))
            try:
                dims, reason = common.parse_judge_reply(out.completion)
            except JudgeParseError as err:
                error = str(err)
                continue
            return Score(value=sum(dims.values()) / len(dims), answer=text, explanation=reason,
                         metadata={"scores": dims, "judge": str(grader)})
        return Score(value=float("nan"), answer=text, explanation=f"judge error: {error}",
                     metadata={"judge_error": error})

    return score


def _task(tasks: list[str], benchmark: str | None, videos: str | None, sampling: str, frames: int, fps: float,
          limit: int | None, max_tokens: int) -> Task:
    if not benchmark or not videos:
        raise ValueError("MA-Bench needs -T benchmark=FILE (questions with answers) and -T videos=DIR (the clips)")
    scorers = ([mabench_answer()] if any(t in CLOSED_TASKS for t in tasks) else []) + \
              ([mabench_judge()] if any(t in OPEN_TASKS for t in tasks) else [])
    return Task(dataset=mabench_dataset(benchmark, tasks, limit), solver=mabench_frames(videos, sampling, frames, fps),
                scorer=scorers, config=GenerateConfig(temperature=_DEFAULT_GEN.temperature, max_tokens=max_tokens))


@task
def closed(benchmark: str | None = None, videos: str | None = None, sampling: str = "uniform", frames: int = 8,
           fps: float = 2.0, limit: int | None = None, max_tokens: int = _DEFAULT_GEN.max_tokens) -> Task:
    """The six closed tasks (CMAR, FMAR, SAD, MAD, MAS, PPR): accuracy per task, tiers, closed AVG."""
    return _task(list(CLOSED_TASKS), benchmark, videos, sampling, frames, fps, limit, max_tokens)


@task
def madu(benchmark: str | None = None, videos: str | None = None, sampling: str = "uniform", frames: int = 8,
         fps: float = 2.0, limit: int | None = None, max_tokens: int = _DEFAULT_GEN.max_tokens) -> Task:
    """MADU (free description), judged on the rubric by the `grader` role."""
    return _task(["MADU"], benchmark, videos, sampling, frames, fps, limit, max_tokens)


@task
def mare(benchmark: str | None = None, videos: str | None = None, sampling: str = "uniform", frames: int = 8,
         fps: float = 2.0, limit: int | None = None, max_tokens: int = _DEFAULT_GEN.max_tokens) -> Task:
    """MARE (reasoning chain and labels), judged on the rubric by the `grader` role."""
    return _task(["MARE"], benchmark, videos, sampling, frames, fps, limit, max_tokens)


@task(name="all")
def all_tasks(benchmark: str | None = None, videos: str | None = None, sampling: str = "uniform", frames: int = 8,
              fps: float = 2.0, limit: int | None = None, max_tokens: int = _DEFAULT_GEN.max_tokens) -> Task:
    """All eight tasks: closed accuracies and judged open answers in one run."""
    return _task(list(CLOSED_TASKS) + list(OPEN_TASKS), benchmark, videos, sampling, frames, fps, limit, max_tokens)
