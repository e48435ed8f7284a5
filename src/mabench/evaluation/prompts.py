"""Default per-task system prompts (ask for the compact answer format), overridable from a file.

A prompt file is YAML or JSON mapping task codes to system prompts; tasks it omits keep the
defaults. Or it is a MAC 2026 kit-style `prompts.py` (a `SYSTEM_PROMPTS` dict of task code to text):
read as data (its string literals are parsed, the file is never executed) and looked up as the
official runner looks it up, `SYSTEM_PROMPTS.get(task, "")`: a task it has no entry for gets an
empty system prompt, as the runner sends (`kit_prompt_warnings` says which, in one line each).
The prompts actually used are written into the run's config and submission.
"""

from __future__ import annotations

import ast
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
    if path.suffix == ".py":
        table = read_kit_prompts(path)
        return {code: table.get(code, "") for code in TASKS}  # the official runner's lookup
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


# --- kit-style prompts.py ------------------------------------------------------------------------

# The shipped kit's keys for three tasks whose codes it does not use (facts of the public kit's file).
KIT_KEY_ALIASES = {"MAS": "AS", "MADU": "VCC-LS", "MARE": "LRC-LS"}


def _string_of(node: ast.expr, names: dict[str, str]) -> str | None:
    """The string a literal expression stands for (a literal, a name bound to one, `+` of them)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _string_of(node.left, names), _string_of(node.right, names)
        return None if left is None or right is None else left + right
    return None


def read_kit_prompts(path: str | Path) -> dict[str, str]:
    """`SYSTEM_PROMPTS` of a kit-style prompts.py, read as data: module-level assignments of string
    literals and the dict literal that names them. The file is parsed, never run; anything that would
    need running (a call, an f-string) is refused with its line."""
    path = Path(path)
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except SyntaxError as err:
        raise PromptError(f"{path}: not valid Python at line {err.lineno}: {err.msg}") from None
    except UnicodeDecodeError as err:
        raise PromptError(f"{path}: not UTF-8 text (offset {err.start}); save it as UTF-8") from None
    names: dict[str, str] = {}
    table: ast.expr | None = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
            name, value = node.target.id, node.value
        else:
            continue
        if name == "SYSTEM_PROMPTS":
            table = value
        elif (text := _string_of(value, names)) is not None:
            names[name] = text
    if not isinstance(table, ast.Dict):
        raise PromptError(f"{path}: no `SYSTEM_PROMPTS = {{...}}` dict literal (task code -> system prompt)")
    out: dict[str, str] = {}
    for key, value in zip(table.keys, table.values, strict=True):
        k = _string_of(key, names) if key is not None else None
        v = _string_of(value, names)
        if k is None or v is None:
            raise PromptError(f"{path}: line {value.lineno}: SYSTEM_PROMPTS entries must be string literals or "
                              "names bound to them (the file is read, not run)")
        out[k] = v
    return out


def kit_prompt_warnings(path: str | Path) -> list[str]:
    """One line per task code a kit-style prompts.py has no entry for (it gets an empty system prompt)."""
    path = Path(path)
    table = read_kit_prompts(path)
    lines = []
    for code in TASKS:
        if code in table:
            continue
        alias = KIT_KEY_ALIASES.get(code)
        has = f" (it has {alias})" if alias in table else ""
        lines.append(f"{code}: no entry in {path.name}{has}: an empty system prompt, as the official runner sends")
    return lines
