"""Default per-task system prompts (ask for the compact answer format), overridable from a file.

A prompt file is YAML or JSON mapping task codes to system prompts; tasks it omits keep the
defaults. The prompts actually used are written into the run's config and submission.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import yaml

from mabench.taxonomy import MARE_LABEL_LINE, TASKS, AnswerType, canonical_task

_VIDEO = ("You are shown frames sampled in time order from a short video of a seated person making a "
          "micro-action (a small, spontaneous body movement). ")
_SIDE = ("Left and right body parts are the person's own left and right; directions such as leftward "
         "are as seen in the image. ")

DEFAULT_PROMPTS: dict[str, str] = {}
for _code, _spec in TASKS.items():
    if _spec.answer_type in (AnswerType.LETTER_7, AnswerType.LETTER_5):
        DEFAULT_PROMPTS[_code] = _VIDEO + "Choose the correct option. Answer with the option's letter only."
    elif _spec.answer_type is AnswerType.YES_NO:
        DEFAULT_PROMPTS[_code] = _VIDEO + _SIDE + "Answer with Yes or No only."
DEFAULT_PROMPTS["MADU"] = (
    _VIDEO + _SIDE + "Describe the movement of each body part that moves: which part, which direction and "
    "path, how far, and in which phase (early, middle, late), in order.")
DEFAULT_PROMPTS["MARE"] = (
    _VIDEO + _SIDE + "Reason step by step from the observed movement to the micro-action, rule out the "
    "closest alternative, and end with one line exactly of the form: "
    + MARE_LABEL_LINE.format(coarse="<coarse class>", fine="<fine label>"))


class PromptError(ValueError):
    pass


def load_prompts(path: str | Path | None) -> dict[str, str]:
    """Defaults, overridden by the tasks named in `path` (YAML or JSON)."""
    prompts = dict(DEFAULT_PROMPTS)
    if path is None:
        return prompts
    path = Path(path)
    if not path.exists():
        raise PromptError(f"{path}: no such prompt file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise PromptError(f"{path}: not valid YAML/JSON: {str(err).splitlines()[0]}") from None
    except UnicodeDecodeError as err:
        raise PromptError(f"{path}: not UTF-8 text (offset {err.start}); save it as UTF-8") from None
    return apply_prompts(data, str(path))


def apply_prompts(data: object, source: str = "prompts") -> dict[str, str]:
    """The defaults overridden by `data` (task code -> system prompt), checked as a prompt file is."""
    prompts = dict(DEFAULT_PROMPTS)
    if not isinstance(data, dict):
        raise PromptError(f"{source}: expected a mapping of task code to system prompt")
    for task, text in data.items():
        code = canonical_task(str(task))
        if code is None:
            raise PromptError(f"{source}: unknown task {task!r}; expected one of {', '.join(TASKS)}")
        if not isinstance(text, str):
            raise PromptError(f"{source}: prompt for {task} must be a string")
        prompts[code] = text
    return prompts


def prompts_hash(prompts: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(prompts, sort_keys=True).encode()).hexdigest()[:16]
