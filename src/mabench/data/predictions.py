"""Predictions (one per answered question) and the official submission format.

`predictions.jsonl` is appended one line per answer and flushed, so a crash loses at most the
lines being written; a torn last line is skipped on reading.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mabench.data.io import BenchmarkError, MalformedLineError, iter_jsonl, json_error, read_text_utf8, write_json

# Version of the rows mabench writes to predictions.jsonl and judgments.jsonl. Rows without one are from
# before versioning and read as version 1; a higher one means a newer mabench wrote the run.
ROW_SCHEMA = 1


# How the runner's error text starts when the clip, not the request, failed.
CLIP_ERRORS = ("clip: ", "few-shot example clip: ")


class RowSchemaError(ValueError):
    """A run-directory row written by a newer mabench (its format may mean something else)."""


def check_schema(row: dict[str, Any]) -> None:
    v = row.get("schema", 1)
    if not isinstance(v, int) or v > ROW_SCHEMA:
        raise RowSchemaError(f"row for {row.get('qid')!r} has schema {v!r}; this mabench reads up to "
                             f"{ROW_SCHEMA}: upgrade mabench to read this run")


@dataclass
class Prediction:
    qid: str
    task: str | None = None
    video: str | None = None
    raw_output: str | None = None
    pred_answer: str | None = None  # extracted closed answer, or the (think-stripped) open text
    method: str | None = None  # how pred_answer was extracted (see mabench.evaluation.extract)
    reason: str | None = None  # why the extraction is invalid
    error: str | None = None  # the request failed (clip unreadable, server error...): wrong
    latency_s: float | None = None
    usage: dict[str, Any] | None = None
    frames: dict[str, Any] | None = None  # {"count": 8, "timestamps": [...]}
    schema: int = ROW_SCHEMA  # the row format's version: a row from a newer mabench is refused, not misread
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def request_failed(self) -> bool:
        """The request for this answer failed (a bad clip is not that: its questions count as wrong by
        design, as in the official runner)."""
        return self.error is not None and not self.error.startswith(CLIP_ERRORS)

    def to_dict(self) -> dict[str, Any]:
        d = {k: getattr(self, k) for k in self.__dataclass_fields__ if k != "extra"}
        d.update(self.extra)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Prediction:
        check_schema(d)
        known = set(cls.__dataclass_fields__) - {"extra"}
        kw = {k: d[k] for k in known if k in d}
        kw["qid"] = str(kw["qid"])
        return cls(**kw, extra={k: v for k, v in d.items() if k not in known})


# What scoring needs of a prediction; reading only these keeps a 12,000-answer run small in memory.
SCORING_FIELDS = ("qid", "task", "video", "pred_answer", "method", "reason", "error")


def read_predictions(path: str | Path, fields: tuple[str, ...] | None = None) -> list[Prediction]:
    """Rows of a predictions JSONL, streamed; a torn final line (crash mid-write) is ignored.

    `fields` keeps only those keys of each row (e.g. SCORING_FIELDS), dropping raw outputs, usage
    and frame timestamps that scoring does not need.
    """
    path = Path(path)
    if not path.exists():
        return []
    out = []
    for i, row in iter_jsonl(path):
        if not isinstance(row, dict) or "qid" not in row:
            raise MalformedLineError(f"{path}: line {i}: expected an object with a 'qid' field", path, i)
        if fields is not None:
            row = {k: row[k] for k in fields if k in row}
        out.append(Prediction.from_dict(row))
    return out


def latest_by_qid(preds: list[Prediction]) -> dict[str, Prediction]:
    """The last row per qid wins (a retried question appends a newer row)."""
    return {p.qid: p for p in preds}


# --- official submission ---------------------------------------------------------------------


def make_submission(preds: dict[str, Prediction], prompts: dict[str, str],
                    details: dict[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """`{"prompts": [{"task", "system_prompt", ...}], "answers": [{"qid", "pred_answer"}]}`; `details`
    adds per-task fields to a prompt entry (a strategy's name, few-shot template and example qids)."""
    return {
        "prompts": [{"task": t, "system_prompt": p, **(details or {}).get(t, {})} for t, p in prompts.items()],
        "answers": [
            {"qid": qid, "pred_answer": p.pred_answer if p.pred_answer is not None else ""}
            for qid, p in preds.items()
        ],
    }


def write_submission(path: str | Path, preds: dict[str, Prediction], prompts: dict[str, str],
                     details: dict[str, dict[str, Any]] | None = None) -> None:
    write_json(path, make_submission(preds, prompts, details))


def read_answers_file(path: str | Path) -> tuple[dict[str, Prediction], dict[str, str]]:
    """Answers from a submission JSON or a predictions JSONL, plus the submission's prompts.

    A predictions row may carry `pred_answer` (used as given, then normalised by extraction) or
    only `raw_output` (extracted at scoring time).
    """
    path = Path(path)
    if not path.exists():
        raise BenchmarkError(f"{path}: no such file; pass a submission JSON or predictions JSONL")
    text = read_text_utf8(path)
    head = text.lstrip()[:1]
    if head == "{" and path.suffix.lower() != ".jsonl":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as err:
            raise json_error(path, err) from None
        except RecursionError:
            raise BenchmarkError(f"{path}: JSON nested too deeply to be a submission") from None
        if not isinstance(obj, dict) or not isinstance(obj.get("answers"), list):
            raise BenchmarkError(
                f"{path}: expected a submission object with an 'answers' list of "
                "{'qid', 'pred_answer'}"
            )
        preds: dict[str, Prediction] = {}
        for i, row in enumerate(obj["answers"]):
            if not isinstance(row, dict) or "qid" not in row:
                raise BenchmarkError(f"{path}: answers[{i}]: expected an object with 'qid'")
            pa = row.get("pred_answer")
            if str(row["qid"]) in preds:
                raise BenchmarkError(f"{path}: answers[{i}]: qid {row['qid']!r} is answered twice; a submission "
                                     "has one answer per qid: keep the one you mean")
            preds[str(row["qid"])] = Prediction(qid=str(row["qid"]),
                                                pred_answer=None if pa is None else str(pa))
        prompts = {
            p["task"]: p.get("system_prompt", "")
            for p in obj.get("prompts") or []
            if isinstance(p, dict) and "task" in p
        }
        return preds, prompts
    return latest_by_qid(read_predictions(path)), {}


def append_jsonl(f, row: dict[str, Any]) -> None:
    """Append one row and flush it to the OS, so a killed process keeps every finished answer."""
    f.write(json.dumps(row, ensure_ascii=False) + "\n")
    f.flush()
