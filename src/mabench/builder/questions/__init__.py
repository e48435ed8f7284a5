"""The builder's questions: 12 per clip in MA-Bench's 8 tasks, from the clip's measured facts.

One place per question type. Each Yes/No task is one module with one `TaskSpec` (`spec.py`): its facts
(what the descriptors let it ask, with Yes and No as true contrasts), its templates, which wordings each
fact family is asked in, MA-Bench's mix of those wordings, and its tuning values.

    sad.py  mad.py  mas.py  ppr.py   one spec each (`registry.SPECS`, in asking order)
    common.py                        `Fact`, and what facts share (limbs, still parts, onset directions)
    render.py                        a fact in words (phases, directions, templates filled)
    balance.py                       which candidates a clip asks (mix, Yes/No per wording, template, word)
    recognition.py                   CMAR / FMAR options and distractors
    stems.py                         CMAR / FMAR / MADU / MARE stems, and a reference file's
    assemble.py                      a clip's 12 questions, a build's qids
    truth_check.py                   a built question's answer from the synthetic figure's exact truth

A new SAD question type is a change to `sad.py` alone: a fact maker added to `sad_all`, its templates under
a new wording in `TEMPLATES`, the family -> wording line in `SPEC.wording` and the wording's share in
`SPEC.mix`, and for a new `meta.kind` its check against the synthetic figure's truth in `SPEC.truth`
(`truth_check.expected` finds it by the kind).
"""

from mabench.builder.questions.assemble import QA_VERSION, build_questions, clip_questions
from mabench.builder.questions.common import OPPOSITE, Fact
from mabench.builder.questions.registry import SPECS, TEMPLATES
from mabench.builder.questions.spec import TaskSpec
from mabench.builder.questions.stems import STEM_TASKS, Stems, question_stem, reference_stems

__all__ = ["OPPOSITE", "QA_VERSION", "SPECS", "STEM_TASKS", "TEMPLATES", "Fact", "Stems", "TaskSpec",
           "build_questions", "clip_questions", "question_stem", "reference_stems"]
