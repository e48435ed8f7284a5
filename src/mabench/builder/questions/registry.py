"""The Yes/No tasks the builder asks, in the order it asks them (one `TaskSpec` each), and every template
by its wording."""

from __future__ import annotations

from mabench.builder.questions import mad, mas, ppr, sad
from mabench.builder.questions.spec import TaskSpec
from mabench.builder.questions.stems import TEMPLATES as STEM_TEMPLATES

SPECS: dict[str, TaskSpec] = {s.task: s for s in (sad.SPEC, mad.SPEC, mas.SPEC, ppr.SPEC)}

# wording -> templates, for every task (CMAR and FMAR first, MADU and MARE last, as the tasks are ordered)
TEMPLATES: dict[str, tuple[str, ...]] = {
    **{k: STEM_TEMPLATES[k] for k in ("CMAR", "FMAR")},
    **{w: t for s in SPECS.values() for w, t in s.templates.items()},
    **{k: STEM_TEMPLATES[k] for k in ("MADU", "MARE")},
}
