"""Rubric prompts for the MADU / MARE judge, written from MA-Bench's dimension definitions.

The judge sees the question, the reference answer and the prediction only (never the video) and
returns a JSON object with three integers 0-5 and a short reason. Change any wording here and
bump JUDGE_PROMPT_VERSION: the version is part of every judgment record and of the cache key, so a
judgment is never reused across prompt versions.
"""

from __future__ import annotations

from mabench.taxonomy import JUDGE_SCALE_MAX, MARE_LABEL_LINE, OPEN_DIMENSIONS

JUDGE_PROMPT_VERSION = "ma-judge-v1"

_GENERAL_RULES = """Rules:
- Compare the prediction with the reference answer only; you do not see the video. The reference is correct.
- Synonyms and paraphrases are fine ("lowers the head" = "head moves down").
- A statement that contradicts the reference costs more than a missing one.
- Detail the reference has and the prediction lacks costs points.
- Invented movements or parts not in the reference cost points.
- Left/right refer to the person's own side; directions such as "leftward" are as seen in the image.
- When unsure between two scores, give the lower one.
- Scores are integers from 0 to {max}."""

_ANCHORS = {
    "MADU": {
        "L1": ("0: wrong or no dominant part and action type; 1: the part is right but the action is wrong; "
               "3: dominant part and action type right, lead-follow or trend missing or wrong; "
               "5: dominant part, action type, lead-follow relation and overall trend all match"),
        "L2": ("0: no spatial information or all of it contradicts the reference; 1: one spatial fact right, "
               "others wrong; 3: most directions right with one error (e.g. a left/right swap) or key paths "
               "missing; 5: left/right, up/down, near/far, midline relation and path all match"),
        "L3": ("0: no temporal structure or it contradicts the reference; 1: vague timing only; "
               "3: phases or order partly right; 5: phases (early/middle/late), order of movements and "
               "rhythm (single, repeated, continuous) all match"),
    },
    "MARE": {
        "L1": ("0: no coarse (body-level) class given or a wrong one; 3: a wrong class but a neighbouring one "
               "(e.g. Head instead of Head-hand) with the right part named; 5: the coarse class equals the "
               "reference's"),
        "L2": ("0: no fine (action-level) label or one from an unrelated class; 2: a wrong label from the same "
               "coarse class; 4: a near-synonym of the reference label; 5: the fine label equals the "
               "reference's"),
        "L3": ("0: no reasoning; 1: the label is asserted without evidence; 3: evidence from the observed "
               "movement supports the label but no alternative is excluded; 5: observed movement evidence, "
               "exclusion of the closest confusable label, then the conclusion, all consistent with the "
               "reference"),
    },
}


def judge_system_prompt(task: str) -> str:
    dims = OPEN_DIMENSIONS[task]
    what = ("a free description of how each body part moves in a short video of a seated person"
            if task == "MADU" else
            "a reasoning chain from observed movement to a micro-action label pair "
            f"(the reference ends with '{MARE_LABEL_LINE.format(coarse='X', fine='Y')}')")
    lines = [f"You are a strict grader for MA-Bench {task}: {what}.",
             "Score the prediction on three dimensions:"]
    for dim, desc in dims.items():
        lines.append(f"- {dim} {desc}. Anchors: {_ANCHORS[task][dim]}.")
    lines.append(_GENERAL_RULES.format(max=JUDGE_SCALE_MAX))
    lines.append('Reply with one JSON object and nothing else: {"L1": <int>, "L2": <int>, "L3": <int>, '
                 '"reason": "<one or two sentences>"}')
    return "\n".join(lines)


def judge_user_prompt(question: str, reference: str, prediction: str) -> str:
    return (f"[Question]\n{question}\n\n[Reference answer]\n{reference}\n\n"
            f"[Prediction]\n{prediction}\n\nScore the prediction.")
