"""MA-Bench as lmms-eval tasks: a `mabench` group of the eight tasks whose hooks are the functions here.

lmms-eval has no task entry points: tasks are YAML files in a folder passed with `--include_path`. The
YAMLs ship in `mabench/integrations/lmms_eval_tasks/`; `mabench integrations lmms-eval --bench FILE
--videos DIR --out DIR` (or `write_tasks`) copies them next to one data file per task and prints the
folder. Their `!function mabench.integrations.lmms_eval.…` hooks resolve by absolute import, so every
step is mabench's (`mabench.integrations.common`):

- `doc_to_messages`: `mabench eval`'s system prompt, then the clip's frames sampled by `mabench.video`
  (PIL images: lmms-eval re-encodes them, and no decord is needed), then the question text.
- `process_closed`: mabench's answer extraction, right or wrong against the key (`cluster_key: clip`
  gives clip-clustered standard errors, the 12 questions of a clip not being independent).
- `process_open`: the rubric judge's prompts sent to `MABENCH_JUDGE_MODEL` at `MABENCH_JUDGE_BASE_URL`
  (key in `MABENCH_JUDGE_API_KEY`, else none); parsed by mabench's judge parser, re-asked when
  unusable, never scored 0 for the judge's own failure. Without a judge the open tasks report NaN.
- aggregations: accuracy in percent; judge dimension means (0-5).

This module imports nothing from lmms-eval, so it is importable (and tested) without it.
"""

from __future__ import annotations

import json
import math
import os
import shutil
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from mabench.data.io import parse_record
from mabench.data.records import Question
from mabench.evaluation.judge import JUDGE_MAX_TOKENS, JudgeParseError
from mabench.integrations import common
from mabench.taxonomy import TASK_ORDER
from mabench.video.decode import VideoError

TASK_DIR = "lmms_eval_tasks"
JUDGE_PARSE_RETRIES = 3  # as `mabench judge`
JUDGE_MODEL_ENV = "MABENCH_JUDGE_MODEL"
JUDGE_BASE_URL_ENV = "MABENCH_JUDGE_BASE_URL"
JUDGE_KEY_ENV = "MABENCH_JUDGE_API_KEY"


def task_name(code: str) -> str:
    return f"mabench_{code.lower()}"


def write_tasks(bench: str | Path, videos: str | Path, out: str | Path, sampling: str = "uniform",
                frames: int = 8, fps: float = 2.0) -> Path:
    """Copy the packaged task YAMLs to `out` and write one data file per task beside them (each record:
    the benchmark record, its clip's absolute path and the sampling settings). Returns `out`, the
    folder for `--include_path`."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    src = resources.files("mabench.integrations") / TASK_DIR
    for entry in src.iterdir():
        if entry.name.endswith(".yaml") or entry.name == "_default_template_yaml":
            (out / entry.name).write_text(entry.read_text(encoding="utf-8"), encoding="utf-8")
    videos = Path(videos).absolute()
    settings = {"strategy": sampling, "frames": frames, "fps": fps}
    by_task: dict[str, list[dict[str, Any]]] = {t: [] for t in TASK_ORDER}
    for q in common.load_questions(bench):
        rec = {**q.to_dict(), "clip": str(common.clip_file(videos, q.video)), "clip_id": q.video_id,
               "sampling": settings}
        by_task[q.task].append(rec)
    for code, recs in by_task.items():
        tmp = out / f".{task_name(code)}.jsonl.tmp"
        tmp.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in recs), encoding="utf-8")
        os.replace(tmp, out / f"{task_name(code)}.jsonl")
    return out


def remove_tasks(out: str | Path) -> None:
    shutil.rmtree(out, ignore_errors=True)


# --- hooks named in the YAMLs ---------------------------------------------------------------------


def _question(doc: dict[str, Any]) -> Question:
    return parse_record({k: doc[k] for k in ("video_name", "video", "task", "qid", "question", "answer")
                         if doc.get(k) is not None}, f"lmms-eval doc {doc.get('qid')}")


def _frames(doc: dict[str, Any]) -> list[Any]:
    s = doc.get("sampling") or {}
    cfg = common.sampling_config(s.get("strategy", "uniform"), s.get("frames", 8), s.get("fps", 2.0))
    clip = Path(doc["clip"])
    return common.frame_images(clip.parent, clip.name, cfg)


def doc_to_visual(doc: dict[str, Any]) -> list[Any]:
    """The clip's sampled frames as PIL images (an unreadable clip gives none; its answer is then scored
    as the model's reply without frames, and lmms-eval logs the question)."""
    try:
        return _frames(doc)
    except (VideoError, OSError):
        return []


def doc_to_text(doc: dict[str, Any], lmms_eval_specific_kwargs: dict | None = None) -> str:  # noqa: ARG001
    return common.turn(_question(doc))[1]


def doc_to_messages(doc: dict[str, Any], lmms_eval_specific_kwargs: dict | None = None) -> list[dict]:  # noqa: ARG001
    """System prompt, then the frames and the question: the turn `mabench eval` sends."""
    system, user = common.turn(_question(doc))
    content: list[dict[str, Any]] = [{"type": "image", "url": img} for img in doc_to_visual(doc)]
    content.append({"type": "text", "text": user})
    return [{"role": "system", "content": [{"type": "text", "text": system}]}, {"role": "user", "content": content}]


def doc_to_target(doc: dict[str, Any]) -> str:
    return str(doc.get("answer") or "")


def process_closed(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    q = _question(doc)
    ex = common.extract_answer(q, results[0] if results else None)
    # lmms-eval's convention for clustered errors: {"score": value, <cluster_key>: id} per metric
    return {"accuracy": {"score": float(ex.answer is not None and ex.answer == q.answer), "clip": doc.get("clip_id")}}


def _judge(q: Question, prediction: str) -> dict[str, int] | None:
    model = os.environ.get(JUDGE_MODEL_ENV)
    if not model:
        return None
    from openai import OpenAI  # the core's client; the lmms-eval stack has it too

    client = OpenAI(base_url=os.environ.get(JUDGE_BASE_URL_ENV), api_key=os.environ.get(JUDGE_KEY_ENV) or "none")
    system, user = common.judge_turn(q, prediction)
    for _ in range(JUDGE_PARSE_RETRIES + 1):
        reply = client.chat.completions.create(model=model, temperature=0.0, max_tokens=JUDGE_MAX_TOKENS,
                                               messages=[{"role": "system", "content": system},
                                                         {"role": "user", "content": user}])
        try:
            return common.parse_judge_reply(reply.choices[0].message.content)[0]
        except JudgeParseError:
            continue
    return None


def process_open(doc: dict[str, Any], results: Sequence[str]) -> dict[str, Any]:
    q = _question(doc)
    text = common.extract_answer(q, results[0] if results else None).answer or ""
    dims = dict.fromkeys(common.DIMS, 0) if not text else _judge(q, text)
    return {d: {"score": float("nan") if dims is None else float(dims[d]), "clip": doc.get("clip_id")}
            for d in common.DIMS}


def _scores(items: Sequence[Any]) -> list[float]:
    return [float(x["score"]) if isinstance(x, dict) else float(x) for x in items]


def percent(items: Sequence[Any]) -> float:
    """Accuracy in percent, as `mabench eval` reports it."""
    vals = _scores(items)
    return 100.0 * sum(vals) / len(vals) if vals else float("nan")


def judged_mean(items: Sequence[Any]) -> float:
    """Mean judge score (0-5) over the answers the judge scored (its failures are left out, never 0)."""
    vals = [x for x in _scores(items) if not math.isnan(x)]
    return sum(vals) / len(vals) if vals else float("nan")
