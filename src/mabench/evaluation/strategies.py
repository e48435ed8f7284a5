"""Inference-time prompt strategies for frozen models: `cot`, `definitions`, `fewshot:K`, `vote:N`.

A strategy is written as names joined by "+" (`cot+fewshot:2+vote:5`); the empty string or
`zero-shot` is the plain registry prompt. Each strategy composes on top of the task registry's turn
(`Task.turn`): it never replaces the per-task prompt, it adds to it.

- `cot`: the system prompt of closed tasks asks for step-by-step reasoning and a last line
  `Final answer: <answer>`; the reply gets its own token budget (`cot_max_tokens`), the whole reply
  is kept as `raw_output`, and the answer is extracted from the final non-empty line only (an answer
  buried in the reasoning does not count).
- `definitions`: the label set with short definitions (CMAR, FMAR, MARE) and the side / direction /
  phase conventions (every task) appended to the system prompt (`evaluation.definitions`).
- `fewshot:K`: K solved examples of the same task from a support benchmark, each its own frames,
  question and answer, sent as earlier user / assistant turns. The same K examples serve every
  question of a task (one template per task, recorded in the submission); support clips that are
  also evaluated are refused.
- `vote:N`: self-consistency on closed tasks: N samples at `vote_temperature`, majority over the
  extracted answers; a tie for the top (or no valid answer) is an invalid answer. Every sample and
  the vote are kept in the prediction.

>>> s = parse_strategy("cot+fewshot:2")
>>> s.name, s.cot, s.fewshot, s.vote
('cot+fewshot:2', True, 2, 1)
>>> parse_strategy("").name
'zero-shot'
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from mabench.data.io import Benchmark
from mabench.data.records import Option, Question
from mabench.evaluation.definitions import CONVENTIONS, label_block
from mabench.evaluation.extract import Extraction, extract
from mabench.models.base import GenerationConfig
from mabench.taxonomy import TASKS

FINAL_PREFIX = "Final answer:"
COT_INSTRUCTION = (
    "First think step by step: say which body parts move, in which direction, and in which phase. "
    f"Then end your reply with one last line of the form '{FINAL_PREFIX} <answer>', where <answer> is in "
    "the format asked for above.")
# The answer line a few-shot example's assistant turn carries under `cot` (the shape the model is
# asked to end with; the examples carry no reasoning of their own).
DEFAULT_COT_MAX_TOKENS = 2048
DEFAULT_VOTE_TEMPERATURE = 0.7
NAMES = ("cot", "definitions", "fewshot:K", "vote:N")


class StrategyError(ValueError):
    """A strategy string or a support benchmark that cannot be used; the message says why."""


@dataclass(frozen=True)
class Strategy:
    cot: bool = False
    definitions: bool = False
    fewshot: int = 0
    vote: int = 1
    cot_max_tokens: int = DEFAULT_COT_MAX_TOKENS
    vote_temperature: float = DEFAULT_VOTE_TEMPERATURE

    @property
    def name(self) -> str:
        parts = (["cot"] if self.cot else []) + (["definitions"] if self.definitions else []) \
            + ([f"fewshot:{self.fewshot}"] if self.fewshot else []) + ([f"vote:{self.vote}"] if self.vote > 1 else [])
        return "+".join(parts) or "zero-shot"

    @property
    def is_zero_shot(self) -> bool:
        return self.name == "zero-shot"

    def describe(self) -> dict[str, Any]:
        """What identifies the strategy in a run's config (a changed strategy is another run)."""
        return {"name": self.name, "cot_max_tokens": self.cot_max_tokens if self.cot else None,
                "vote_temperature": self.vote_temperature if self.vote > 1 else None}

    def system_prompt(self, code: str, base: str) -> str:
        """The system prompt sent for task `code`: the registry's (or --prompts') prompt, plus the
        strategy's additions."""
        parts = [base]
        if self.definitions:
            if code == "CMAR":
                parts.append(label_block(fine=False))
            elif code == "FMAR":
                parts.append(label_block(fine=True))
            elif code == "MARE":
                parts += [label_block(fine=False), label_block(fine=True)]
            parts.append(CONVENTIONS)
        if self.cot and TASKS[code].closed:
            parts.append(COT_INSTRUCTION)
        return "\n\n".join(parts)

    def prompts(self, base: Mapping[str, str]) -> dict[str, str]:
        """Every task's system prompt as sent (what the run's config and submission record)."""
        return {code: self.system_prompt(code, text) for code, text in base.items()}

    def generation(self, gen: GenerationConfig, code: str) -> GenerationConfig:
        """The decoding settings for one sample of task `code`."""
        closed = TASKS[code].closed
        if self.cot and closed:
            gen = replace(gen, max_tokens=self.cot_max_tokens)
        if self.vote > 1 and closed:
            gen = replace(gen, temperature=self.vote_temperature)
        return gen

    def samples(self, code: str) -> int:
        return self.vote if TASKS[code].closed else 1

    def extract(self, text: str | None, code: str, options: tuple[Option, ...] = ()) -> Extraction:
        """The answer in one reply: under `cot`, from its final non-empty line only."""
        if self.cot and TASKS[code].closed and text is not None:
            lines = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
            last = lines[-1] if lines else ""
            if last.lower().startswith(FINAL_PREFIX.lower()):
                last = last[len(FINAL_PREFIX):].strip()
            ex = extract(last, code, options)
            return Extraction(ex.answer, f"final_line+{ex.method}", ex.reason)
        return extract(text, code, options)

    def example_answer(self, answer: str) -> str:
        """An example's assistant turn: the bare answer, or under `cot` the answer line."""
        return f"{FINAL_PREFIX} {answer}" if self.cot else answer


def parse_strategy(text: str | Sequence[str] | Strategy | None, *, cot_max_tokens: int = DEFAULT_COT_MAX_TOKENS,
                   vote_temperature: float = DEFAULT_VOTE_TEMPERATURE) -> Strategy:
    """A `Strategy` from `cot+fewshot:2+vote:5` (or a list of such names)."""
    if isinstance(text, Strategy):
        return text
    items = [text] if isinstance(text, str) or text is None else list(text)
    names = [n.strip() for item in items for n in (item or "").replace(",", "+").split("+") if n.strip()]
    kw: dict[str, Any] = {}
    for n in names:
        key, _, arg = n.lower().partition(":")
        if key in ("zero-shot", "zeroshot", "none") and not arg:
            continue
        if key in ("cot", "definitions") and not arg:
            kw[key] = True
        elif key in ("fewshot", "vote"):
            try:
                k = int(arg)
            except ValueError:
                raise StrategyError(f"strategy {n!r}: expected {key}:N with a whole number N") from None
            if k < 1 or (key == "vote" and k < 2):
                raise StrategyError(f"strategy {n!r}: N must be at least {1 if key == 'fewshot' else 2}")
            kw[key] = k
        else:
            raise StrategyError(f"unknown strategy {n!r}; expected names from {', '.join(NAMES)} joined by '+'")
        if key in kw and names.count(n) > 1:
            raise StrategyError(f"strategy {n!r} named twice")
    return Strategy(cot_max_tokens=cot_max_tokens, vote_temperature=vote_temperature, **kw)


def majority(answers: Sequence[str | None]) -> tuple[str | None, dict[str, int]]:
    """(winning answer, counts) over the valid answers; a tie for the top or none valid -> None."""
    counts = Counter(a for a in answers if a is not None)
    ranked = counts.most_common()
    if not ranked or (len(ranked) > 1 and ranked[0][1] == ranked[1][1]):
        return None, dict(counts)
    return ranked[0][0], dict(counts)


# --- few-shot support -----------------------------------------------------------------------------


def choose_examples(support: Benchmark, evaluated: Benchmark, k: int, seed: int = 0) -> dict[str, list[Question]]:
    """K answered support questions per task of `evaluated`, from K distinct clips, the same for every
    question of the task. Refuses a support set that shares clips with the evaluated questions (the
    model would be shown the answer) or that has too few answered questions of a task."""
    shared = sorted(set(support.videos) & set(evaluated.videos))
    if shared:
        shown = ", ".join(shared[:3]) + (", ..." if len(shared) > 3 else "")
        raise StrategyError(f"the support benchmark shares {len(shared)} clips with the evaluated questions "
                            f"({shown}); few-shot examples must come from other clips")
    chosen: dict[str, list[Question]] = {}
    for code in dict.fromkeys(q.task for q in evaluated):
        # seeded, stable order: the choice does not depend on the support file's order
        pool = sorted((q for q in support if q.task == code and q.answer is not None),
                      key=lambda q: hashlib.sha256(f"{seed}:{q.qid}".encode()).hexdigest())
        picked: list[Question] = []
        clips: set[str] = set()
        for q in pool:
            if q.video_id not in clips:
                picked.append(q)
                clips.add(q.video_id)
            if len(picked) == k:
                break
        if len(picked) < k:
            raise StrategyError(f"fewshot:{k}: the support benchmark has answered {code} questions from only "
                                f"{len(picked)} clips; give a larger --support or a smaller K")
        chosen[code] = picked
    return chosen


def fewshot_template(strategy: Strategy, code: str, examples: Sequence[Question]) -> list[dict[str, str]]:
    """The example turns of task `code` as text (frames stand as `<frames of VIDEO>`): what the
    submission records."""
    turns: list[dict[str, str]] = []
    for q in examples:
        turns.append({"role": "user", "content": f"<frames of {q.video}>\n{q.question}"})
        turns.append({"role": "assistant", "content": strategy.example_answer(str(q.answer))})
    return turns
