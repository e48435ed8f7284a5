"""Benchmark records: one question of a benchmark, and the options parsed from its text."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mabench.taxonomy import TASKS, TaskSpec, match_coarse, match_fine, normalize_label

VIDEO_SUFFIXES = (".mp4", ".avi", ".mkv", ".webm", ".mov")
# "A. Label" (also "A) Label" / "A: Label"), one option per line after the stem.
OPTION_LINE = re.compile(r"^\s*([A-G])\s*[.):]\s*(.+?)\s*$")


@dataclass(frozen=True)
class Option:
    letter: str
    text: str  # as written in the question, e.g. "Illustrative gestures - C1"
    label: str | None  # canonical taxonomy label, or None when not an MA-52 label

    @property
    def key(self) -> str:
        """What the option names: its taxonomy label, or its normalized text (the audit's one key for it)."""
        return self.label or normalize_label(self.text)


@dataclass
class Question:
    """One benchmark question.

    `video` is the name as the file wrote it (may end in `.mp4`); `video_id` is the clip id
    without a video suffix, the key that groups the questions of one clip.
    """

    qid: str
    task: str
    video: str
    question: str
    answer: str | None = None
    options: tuple[Option, ...] = ()
    video_key: str = "video_name"  # which key the source used, so it is written back the same
    extra: dict[str, Any] = field(default_factory=dict)  # unknown fields, kept verbatim

    @property
    def spec(self) -> TaskSpec:
        return TASKS[self.task]

    @property
    def video_id(self) -> str:
        return strip_video_suffix(self.video)

    @property
    def stem(self) -> str:
        """The question text without its option lines."""
        if not self.options:
            return self.question
        return self.question.split("\n", 1)[0].strip()

    def option(self, letter: str) -> Option | None:
        for opt in self.options:
            if opt.letter == letter:
                return opt
        return None

    def to_dict(self) -> dict[str, Any]:
        """The record in the official field order; `answer` and extra fields only when present."""
        out: dict[str, Any] = {self.video_key: self.video, "task": self.task, "qid": self.qid,
                               "question": self.question}
        if self.answer is not None:
            out["answer"] = self.answer
        out.update(self.extra)
        return out


def strip_video_suffix(name: str) -> str:
    lower = name.lower()
    for suffix in VIDEO_SUFFIXES:
        if lower.endswith(suffix):
            return name[: -len(suffix)]
    return name


def parse_options(task: str, text: str) -> tuple[Option, ...]:
    """Options of a CMAR/FMAR question, from the lines after the stem.

    Raises ValueError saying what was expected when the letters are not A, B, C... in order or
    (for CMAR) the options are not the 7 coarse classes.
    """
    spec = TASKS[task]
    lines = [ln for ln in text.split("\n")[1:] if ln.strip()]
    options = []
    for ln in lines:
        m = OPTION_LINE.match(ln)
        if not m:
            raise ValueError(f"option line {ln!r} is not of the form 'A. Label'")
        letter, opt_text = m.groups()
        label = match_coarse(opt_text) if task == "CMAR" else match_fine(opt_text)
        options.append(Option(letter, opt_text, label))
    letters = "".join(o.letter for o in options)
    want = "".join(spec.letters)
    if letters != want:
        raise ValueError(f"expected options {', '.join(want)} one per line, found {letters or 'none'}")
    if task == "CMAR":
        labels = [o.label for o in options]
        if None in labels or len(set(labels)) != len(labels):
            raise ValueError("expected the 7 coarse classes as options, each once")
    # The official file has 62 FMAR questions that list one label twice (once code-suffixed,
    # "Shaking head" and "Shaking head - B2"); that is data, not an error: see duplicate_labels().
    return tuple(options)


def duplicate_labels(options: tuple[Option, ...]) -> set[str]:
    """Labels that appear under more than one letter (answering by label text is then ambiguous)."""
    keys = [o.label or o.text.lower() for o in options]
    return {k for k in keys if keys.count(k) > 1}
