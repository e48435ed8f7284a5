"""`TaskSpec`: everything about one Yes/No task of the builder in one record.

A task module (`sad`, `mad`, `mas`, `ppr`) holds its facts, its templates, the truth check of each fact kind
it makes, and one `SPEC`; the shared modules (`render`, `balance`, `assemble`) read only the spec. The tuning
values are named fields here; what each was measured to do is in bench/RESULTS.md ("The builder's tuning
values").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from mabench.builder.questions.common import Fact

# A fact kind's check against the synthetic figure's exact truth: (the question's meta, its answer, the clip's truth
# record) -> the answer the truth implies, or None where it cannot say (`truth_check.expected`).
Check = Callable[[dict, str, dict], "str | None"]


@dataclass(frozen=True)
class TaskSpec:
    task: str
    facts: Callable[[dict], list[Fact]]        # every fact the task may ask of a clip's descriptors
    fallback: Callable[[dict], list[Fact]]     # true contrasts against still parts, used only when `facts` run short
    templates: Mapping[str, tuple[str, ...]]   # wording -> its templates
    wording: Mapping[str, tuple[str, ...]]     # fact family -> the wordings it is asked in
    mix: Mapping[str, float]                   # target share of each wording (MA-Bench's question-type mix)
    phase_nouns: tuple[tuple[str, int], ...]   # "phase" / "segment" / "stage" and their weights
    shared_mix: tuple[tuple[str, ...], ...] = ()  # wordings whose deficit against `mix` is counted together
    time_span_share: float = 0.0     # phase phrases that carry their span in seconds
    to_the_side_share: float = 0.0   # "to the left" instead of "leftward"
    one_of_two_share: float = 0.0    # a two-axis movement named by one of its halves
    # the balancer's weights (`balance.Balancer`): the task's own Yes/No, per template, per word and word pair
    w_task: float = 0.3
    w_template: float = 0.3
    w_grams: float = 0.1
    yes_centre: float = 0.5          # the Yes rate the task and its words are evened out around
    pull_cap: float | None = None    # the task-level pull toward `yes_centre` stops growing here (questions)
    dominant_first: bool = False     # the clip's first question of the task is about its dominant event
    truth: Mapping[str, Check] = field(default_factory=dict)  # fact kind -> its check (the kinds this module makes)

    def __post_init__(self) -> None:
        unknown = {w for ws in self.wording.values() for w in ws} - set(self.templates)
        if unknown:
            raise ValueError(f"{self.task}: wordings without templates: {sorted(unknown)}")
        if extra := set(self.mix) - set(self.templates):
            raise ValueError(f"{self.task}: mix names wordings without templates: {sorted(extra)}")

    def mix_group(self, wording: str) -> tuple[str, ...]:
        """The wordings whose deficit is counted with `wording`'s (`shared_mix`), or just it."""
        return next((g for g in self.shared_mix if wording in g), (wording,))
