"""The Yes/No tasks the builder asks, in the order it asks them (one `TaskSpec` each), every template by its
wording, and every fact kind's truth check."""

from __future__ import annotations

from mabench.builder.questions import events, mad, mas, ppr, sad
from mabench.builder.questions.spec import Check, TaskSpec
from mabench.builder.questions.stems import TEMPLATES as STEM_TEMPLATES

SPECS: dict[str, TaskSpec] = {s.task: s for s in (sad.SPEC, mad.SPEC, mas.SPEC, ppr.SPEC)}

# wording -> templates, for every task (CMAR and FMAR first, MADU and MARE last, as the tasks are ordered)
TEMPLATES: dict[str, tuple[str, ...]] = {
    **{k: STEM_TEMPLATES[k] for k in ("CMAR", "FMAR")},
    **{w: t for s in SPECS.values() for w, t in s.templates.items()},
    **{k: STEM_TEMPLATES[k] for k in ("MADU", "MARE")},
}


def _checks() -> dict[str, Check]:
    out: dict[str, Check] = {}
    for checks in (*(s.truth for s in SPECS.values()), events.TRUTH):
        for kind, check in checks.items():
            if out.setdefault(kind, check) is not check:
                raise ValueError(f"fact kind {kind!r} has two truth checks")
    return out


# fact kind -> its check against the synthetic truth: the task modules' (`TaskSpec.truth`) and the events'
TRUTH_CHECKS: dict[str, Check] = _checks()
