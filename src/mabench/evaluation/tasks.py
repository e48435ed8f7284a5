"""The task registry: one definition per MA-Bench task, read by eval, the judge, scoring, the builder
and the training corpus.

A `Task` holds what each stage needs to know about a task: its spec (tier, answer type, questions per
clip), the default system prompt, the answer extractor, the metric (accuracy or the judge's rubric
dimensions), and the chat turn a question becomes (the question types the builder writes for a task are
its `mabench.builder.questions` spec's). Because the training corpus and the eval runner both build that
turn with `Task.turn`, a fine-tuned model is trained on exactly the system prompt and user text it is
evaluated with.

>>> t = TASKS_BY_CODE["SAD"]
>>> t.metric, t.closed
('accuracy', True)
>>> system, user = t.turn("Does the head move upward during the early phase?")
>>> user
'Does the head move upward during the early phase?'
>>> system.endswith("Answer with Yes or No only.")
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from mabench.data.records import Option
from mabench.evaluation.extract import Extraction, extract
from mabench.evaluation.prompts import DEFAULT_PROMPTS
from mabench.evaluation.rubrics import judge_system_prompt
from mabench.taxonomy import OPEN_DIMENSIONS, TASKS, AnswerType, TaskSpec


@dataclass(frozen=True)
class Task:
    """One MA-Bench task, as every stage sees it."""

    spec: TaskSpec
    system_prompt: str  # default; `mabench eval --prompts` may override it per run

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def closed(self) -> bool:
        return self.spec.closed

    @property
    def answer_type(self) -> AnswerType:
        return self.spec.answer_type

    @property
    def metric(self) -> str:
        """"accuracy" (closed: percent right over every question) or "rubric" (open: judge dimensions)."""
        return "accuracy" if self.closed else "rubric"

    @property
    def dimensions(self) -> Mapping[str, str]:
        """The judge's rubric dimensions (L1-L3 and what each scores); empty for closed tasks."""
        return MappingProxyType(OPEN_DIMENSIONS.get(self.code, {}))

    def judge_prompt(self) -> str:
        """The judge's system prompt for this task's answers (open tasks only)."""
        if self.closed:
            raise ValueError(f"{self.code} is scored by accuracy, not judged")
        return judge_system_prompt(self.code)

    def extract(self, output: str | None, options: tuple[Option, ...] = ()) -> Extraction:
        """The answer in a model's raw output, and how it was found (see `evaluation.extract`)."""
        return extract(output, self.code, options)

    def turn(self, question: str, prompts: Mapping[str, str] | None = None) -> tuple[str, str]:
        """(system prompt, user text) of the chat turn asking `question`: what eval sends and what
        the training corpus trains on. `prompts` overrides the default system prompt per task code."""
        system = prompts.get(self.code, self.system_prompt) if prompts is not None else self.system_prompt
        return system, question  # the question is sent verbatim: options are inside its text


TASKS_BY_CODE: dict[str, Task] = {code: Task(spec, DEFAULT_PROMPTS[code])
                                  for code, spec in TASKS.items()}


def task(code: str) -> Task:
    """The registry entry of a task code (current codes only; see `taxonomy.canonical_task`)."""
    try:
        return TASKS_BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown task {code!r}; expected one of {', '.join(TASKS_BY_CODE)}") from None
