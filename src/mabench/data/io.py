"""Read and write benchmarks: the official JSON list and JSONL, with clear validation errors."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mabench.data.records import Option, Question, parse_options
from mabench.taxonomy import TASKS, AnswerType, canonical_task

KNOWN_KEYS = {"video_name", "video", "task", "qid", "question", "answer"}


class BenchmarkError(ValueError):
    """A benchmark file that cannot be used; the message names the file, record and field."""


class MalformedLineError(BenchmarkError):
    """A line in the middle of a JSONL file that is not a usable record (`path`, 1-based `line`)."""

    def __init__(self, message: str, path: Path, line: int):
        super().__init__(message)
        self.path = path
        self.line = line


def not_utf8(path: str | Path, err: UnicodeDecodeError, line: int | None = None) -> BenchmarkError:
    """One line naming the file (and line) of a byte that is not UTF-8; the codec's own message
    names neither."""
    where = f"line {line}, " if line else ""
    return BenchmarkError(f"{path}: not UTF-8 text ({where}byte 0x{err.object[err.start]:02x} at offset "
                          f"{err.start}); save the file as UTF-8")


def read_text_utf8(path: str | Path) -> str:
    """A whole text file as UTF-8 (a BOM is dropped); a non-UTF-8 byte is a BenchmarkError naming it."""
    try:
        return Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise not_utf8(path, err) from None


@dataclass
class Benchmark:
    questions: list[Question]
    path: Path | None = None
    sha256: str | None = None

    def __len__(self) -> int:
        return len(self.questions)

    def __iter__(self) -> Iterator[Question]:
        return iter(self.questions)

    @property
    def by_qid(self) -> dict[str, Question]:
        return {q.qid: q for q in self.questions}

    @property
    def videos(self) -> list[str]:
        """Clip ids in first-seen order."""
        return list(dict.fromkeys(q.video_id for q in self.questions))

    def task_counts(self) -> Counter:
        return Counter(q.task for q in self.questions)

    def questions_sha256(self) -> str:
        """A hash of what is asked (qid, task, clip, question text), not of the answers: a run made on the
        questions-only file and the key with answers agree; another benchmark with the same qids does not."""
        rows = sorted((q.qid, q.task, q.video_id, q.question) for q in self.questions)
        return hashlib.sha256(json.dumps(rows, ensure_ascii=False).encode("utf-8")).hexdigest()

    @property
    def has_answers(self) -> bool:
        return any(q.answer is not None for q in self.questions)

    def clip_major(self) -> list[Question]:
        """Questions grouped by clip (clips in first-seen order; file order inside a clip)."""
        order = {v: i for i, v in enumerate(self.videos)}
        return sorted(self.questions, key=lambda q: order[q.video_id])

    def select(self, tasks: Iterable[str] | None = None, limit: int | None = None) -> Benchmark:
        """A subset: only `tasks`, then the first `limit` questions in clip-major order."""
        qs = self.questions
        if tasks:
            wanted = set(tasks)
            qs = [q for q in qs if q.task in wanted]
        if limit is not None:
            qs = Benchmark(qs).clip_major()[:limit]
        return Benchmark(list(qs), self.path, self.sha256)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def json_error(path: Path, err: json.JSONDecodeError, line: int | None = None) -> BenchmarkError:
    """One line naming the file, line and column of a JSON syntax error."""
    return BenchmarkError(f"{path}: invalid JSON at line {line or err.lineno} column {err.colno}: {err.msg}")


def _line_error(path: Path, i: int, err: Exception) -> MalformedLineError:
    if isinstance(err, UnicodeDecodeError):
        return MalformedLineError(str(not_utf8(path, err, i)), path, i)
    assert isinstance(err, json.JSONDecodeError)
    return MalformedLineError(str(json_error(path, err, i)), path, i)


def _parse_line(raw: bytes, first: bool) -> Any:
    """One JSONL line (bytes) -> value; UnicodeDecodeError or JSONDecodeError when it is not one."""
    text = raw.decode("utf-8")
    if first and text.startswith("\ufeff"):
        text = text[1:]
    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError("nested too deeply", text, 0) from None


def iter_jsonl(path: str | Path, tolerate_torn_tail: bool = True) -> Iterator[tuple[int, Any]]:
    """(line number, value) for each non-empty line, streamed.

    A bad final line is skipped when `tolerate_torn_tail` (a process killed mid-append leaves one);
    a bad line anywhere else (not JSON, not UTF-8) is a MalformedLineError naming file and line.
    Lines are decoded one by one, so a stray byte is reported with its line, not as a codec error.
    """
    path = Path(path)
    pending: tuple[int, Exception] | None = None
    with open(path, "rb") as f:
        for i, raw in enumerate(f, 1):
            if pending is not None:
                raise _line_error(path, *pending)
            if not raw.strip():
                continue
            try:
                value = _parse_line(raw, i == 1)
            except (UnicodeDecodeError, json.JSONDecodeError) as err:
                if not tolerate_torn_tail:
                    raise _line_error(path, i, err) from None
                pending = (i, err)
                continue
            yield i, value


def repair_jsonl(path: str | Path, required: str | None = None) -> list[int]:
    """Set aside every line that is not a JSON object (with the `required` key): they are appended,
    as they were, to `<path>.bad` and the file is rewritten atomically without them. Returns their
    line numbers. Nothing is dropped: the bad lines stay in the .bad file for a look."""
    path = Path(path)
    if not path.exists():
        return []
    good: list[bytes] = []
    bad: list[bytes] = []
    lines: list[int] = []
    with open(path, "rb") as f:
        for i, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                value = _parse_line(raw, i == 1)
                ok = isinstance(value, dict) and (required is None or required in value)
            except (UnicodeDecodeError, json.JSONDecodeError):
                ok = False
            (good if ok else bad).append(raw if raw.endswith(b"\n") else raw + b"\n")
            if not ok:
                lines.append(i)
    if not bad:
        return []
    with open(path.with_name(path.name + ".bad"), "ab") as f:
        f.writelines(bad)
        f.flush()
        os.fsync(f.fileno())
    atomic_write_bytes(path, b"".join(good))
    return lines


def repair_torn_tail(path: str | Path) -> None:
    """A kill mid-write can leave half a line; cut it so the next append starts a clean line."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    with open(path, "rb+") as f:
        data = f.read()
        if data.endswith(b"\n"):
            return
        f.truncate(data.rfind(b"\n") + 1)


def read_records(path: str | Path) -> list[dict[str, Any]]:
    """Raw dicts from a JSON list (or {"questions": [...]}) or a JSONL file."""
    path = Path(path)
    if not path.exists():
        raise BenchmarkError(f"{path}: no such file; pass the path of a benchmark JSON or JSONL file")
    if path.is_dir():
        raise BenchmarkError(f"{path}: is a directory; pass the path of a benchmark JSON or JSONL file")
    text = read_text_utf8(path)
    stripped = text.lstrip()
    if not stripped:
        raise BenchmarkError(f"{path}: file is empty")
    if stripped[0] == "[" or (stripped[0] == "{" and path.suffix.lower() == ".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise json_error(path, err) from None
        except RecursionError:
            raise BenchmarkError(f"{path}: JSON nested too deeply to be a benchmark (a list of question "
                                 "records)") from None
        if isinstance(data, dict) and isinstance(data.get("questions"), list):
            data = data["questions"]
        if not isinstance(data, list):
            raise BenchmarkError(f"{path}: expected a JSON list of question records")
        return data
    return [rec for _, rec in iter_jsonl(path, tolerate_torn_tail=False)]


def _normalize_answer(task: str, answer: Any) -> str:
    spec = TASKS[task]
    if not isinstance(answer, str):
        raise ValueError(f"expected a string, got {type(answer).__name__}")
    value = answer.strip()
    if spec.answer_type is AnswerType.YES_NO:
        low = value.rstrip(".").lower()
        if low not in ("yes", "no"):
            raise ValueError(f"expected Yes or No, got {answer!r}")
        return low.capitalize()
    if spec.closed:
        letter = value.rstrip(".").upper()
        if letter not in spec.letters:
            raise ValueError(f"expected one of {', '.join(spec.letters)}, got {answer!r}")
        return letter
    return answer


def parse_record(rec: Any, where: str) -> Question:
    """One raw dict to a Question; errors say `where` (file and record) and the field."""
    if not isinstance(rec, dict):
        raise BenchmarkError(f"{where}: expected a JSON object, got {type(rec).__name__}")
    qid = rec.get("qid")
    if "qid" in rec and isinstance(qid, (str, int)):
        where = f"{where} (qid {qid})"

    def bad(fld: str, what: str) -> BenchmarkError:
        return BenchmarkError(f"{where}: field '{fld}': {what}")

    if not isinstance(qid, (str, int)) or str(qid).strip() == "":
        raise bad("qid", "missing; expected a non-empty string")
    if "video_name" in rec:
        video_key = "video_name"
    elif "video" in rec:
        video_key = "video"
    else:
        raise bad("video_name", "missing; expected 'video_name' or 'video' naming the clip")
    video = rec[video_key]
    if not isinstance(video, str) or not video.strip():
        raise bad(video_key, "expected a non-empty string naming the clip")
    raw_task = rec.get("task")
    if not isinstance(raw_task, str):
        raise bad("task", f"missing; expected one of {', '.join(TASKS)}")
    task = canonical_task(raw_task)
    if task is None:
        raise bad("task", f"unknown task code {raw_task!r}; expected one of {', '.join(TASKS)}")
    text = rec.get("question")
    if not isinstance(text, str) or not text.strip():
        raise bad("question", "missing; expected the question text")
    options: tuple[Option, ...] = ()
    if TASKS[task].letters:
        try:
            options = parse_options(task, text)
        except ValueError as err:
            raise bad("question", f"{task} options do not parse: {err}") from None
    answer = rec.get("answer")
    if answer is not None:
        try:
            answer = _normalize_answer(task, answer)
        except ValueError as err:
            raise bad("answer", str(err)) from None
    extra = {k: v for k, v in rec.items() if k not in KNOWN_KEYS}
    if video_key == "video" and "video_name" in extra:  # pragma: no cover - both keys present
        extra.pop("video_name")
    return Question(qid=str(qid), task=task, video=video, question=text, answer=answer,
                    options=options, video_key=video_key, extra=extra)


def load_benchmark(path: str | Path) -> Benchmark:
    """Load and validate a benchmark (official JSON list or JSONL)."""
    path = Path(path)
    raw = read_records(path)
    questions = []
    seen: dict[str, int] = {}
    for i, rec in enumerate(raw):
        q = parse_record(rec, f"{path}: record {i}")
        if q.qid in seen:
            raise BenchmarkError(
                f"{path}: record {i}: duplicate qid {q.qid!r} (first at record {seen[q.qid]}); "
                "every qid must be unique"
            )
        seen[q.qid] = i
        questions.append(q)
    if not questions:
        raise BenchmarkError(f"{path}: no questions")
    # a key answers every closed question or none (a questions-only file): one gap would surface only
    # after every question had been asked, as a scoring crash
    answered = [q for q in questions if q.spec.closed and q.answer is not None]
    unanswered = [q for q in questions if q.spec.closed and q.answer is None]
    if answered and unanswered:
        raise BenchmarkError(f"{path}: {len(unanswered)} closed question(s) have no answer while {len(answered)} "
                             f"do (e.g. {unanswered[0].qid!r}); a key answers every closed question (or none, for "
                             "a questions-only file)")
    return Benchmark(questions, path, file_sha256(path))


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_text(path: str | Path, text: str) -> None:
    """Write via a temp file in the same folder, then rename: readers never see half a file."""
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    """Write via a temp file in the same folder, then rename. An OSError names `path` itself (not
    the temp file), so the message a user sees is about the file they know."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(path)) from None
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        raise OSError(err.errno, err.strerror, str(path)) from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def dumps_json(obj: Any, indent: int | None = None) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=indent)


def write_json(path: str | Path, obj: Any, indent: int | None = 2) -> None:
    atomic_write_text(path, dumps_json(obj, indent) + "\n")


def write_benchmark(path: str | Path, questions: Iterable[Question]) -> None:
    """Write as JSONL when the name ends in .jsonl, else as the official JSON list."""
    path = Path(path)
    rows = [q.to_dict() for q in questions]
    if path.suffix.lower() == ".jsonl":
        atomic_write_text(path, "".join(dumps_json(r) + "\n" for r in rows))
    else:
        write_json(path, rows, indent=2)
