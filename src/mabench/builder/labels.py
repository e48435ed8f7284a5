"""The labels file `mabench build` takes, in either of two formats (detected from the first line):

* a CSV with a header: clip / video / video_name / file; label / fine / fine_label / action;
  optionally subject / subject_id / participant. A label may be its name in any case ("Shaking
  head"), with a code suffix ("Shaking head - B2"), an MA-52 code alone ("B2"), or a label index.
* an mmaction2 list as MA-52 ships it: `<clip> <label index>` per line, any whitespace, no header,
  LF or CRLF. Indices map through `label_name.txt` (`<index>\\t<label>`) when given, else through
  the built-in order (`FINE_LABELS`, which is MA-52's).

Subjects come from the subject column, else from `--subject-pattern`, else from MA-52 clip names
(`0003_01_0001.mp4` -> `0003`) when every clip is named that way. Rows that cannot be used are
reported one line each (row number and problem) and skipped; the others are built.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, replace
from pathlib import Path

from mabench.taxonomy import FINE_LABELS, fine_from_code, match_fine

CLIP_KEYS = ("clip", "video", "video_name", "file")
LABEL_KEYS = ("label", "fine", "fine_label", "action")
SUBJECT_KEYS = ("subject", "subject_id", "participant")

MA52_CLIP = re.compile(r"(\d+)_\d+_\d+")  # <subject>_<session>_<clip>, the stem of an MA-52 clip name
LIST_LINE = re.compile(r"(\S+)\s+(\S+)")
# More rows than this all with one label index is a withheld-label list (MA-52's test list), not data.
ALL_SAME_MIN = 10


class LabelsError(ValueError):
    """The labels file as a whole cannot be read (missing, no header, no clip/label column, ...)."""


@dataclass(frozen=True)
class LabelRow:
    row: int          # 1-based line number in the file (a CSV's header is line 1)
    clip: str         # file name as written (may lack a suffix)
    fine: str         # canonical fine label
    subject: str | None


@dataclass
class LabelFile:
    rows: list[LabelRow]
    problems: list[str]   # one per unusable row
    format: str           # "csv" or "list" (mmaction2)
    label_names: str      # the label_name.txt used for indices, or "built-in"
    subjects: str | None  # where subjects came from: column / pattern / MA-52 clip names; None: none

    @property
    def unit(self) -> str:
        return "row" if self.format == "csv" else "line"


def _read_text(path: Path, what: str) -> str:
    """The file's text, or a LabelsError naming the file (the codec's own message names none)."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise LabelsError(f"{path}: cannot read {what} ({e.strerror or e})") from e
    except UnicodeDecodeError as e:
        raise LabelsError(f"{path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}); "
                          f"save the {what} file as UTF-8") from None


def read_label_names(path: str | Path) -> dict[int, str]:
    """label_name.txt (`<index>\\t<label>`, any whitespace) -> {index: canonical fine label}; every
    label must be one of the taxonomy's, each index and label once."""
    path = Path(path)
    text = _read_text(path, "label names")
    names: dict[int, str] = {}
    where: dict[str, int] = {}
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        m = re.fullmatch(r"\s*(\d+)\s+(.*?)\s*", line)
        if m is None:
            raise LabelsError(f"{path} line {n}: expected '<index><TAB><label>', got {line.strip()!r}")
        index, name = int(m.group(1)), m.group(2)
        fine = match_fine(name)
        if fine is None:
            raise LabelsError(f"{path} line {n}: unknown label {name!r} (not one of MA-52's 52 fine labels)")
        if index in names:
            raise LabelsError(f"{path} line {n}: index {index} is given twice")
        if fine in where:
            raise LabelsError(f"{path} line {n}: {fine!r} already has index {where[fine]}")
        names[index], where[fine] = fine, index
    if not names:
        raise LabelsError(f"{path}: no label names (expected '<index><TAB><label>' lines)")
    return names


def parse_label(text: str, names: dict[int, str] | None = None) -> str | None:
    """A fine label from its name, an MA-52 code or an index (into `names`, default built-in order)."""
    text = text.strip()
    if re.fullmatch(r"\d+", text):
        index = int(text)
        if names is not None:
            return names.get(index)
        return FINE_LABELS[index] if index < len(FINE_LABELS) else None
    if re.fullmatch(r"[A-Ga-g]\d{1,2}", text):
        return fine_from_code(text)
    return match_fine(text)


def is_list_format(text: str) -> bool:
    """An mmaction2 list: the first non-blank line is `<clip> <integer>` (a CSV's header is not)."""
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    m = LIST_LINE.fullmatch(first.strip())
    return m is not None and m.group(2).isdigit()


def read_label_file(path: str | Path, subject_pattern: str | None = None,
                    label_names: str | Path | None = None) -> LabelFile:
    """Read a labels CSV or an mmaction2 list. `subject_pattern`: a regex whose first group is the
    subject id in the clip name, for files without a subject column. `label_names`: label_name.txt
    for label indices (default: the built-in order)."""
    path = Path(path)
    names = read_label_names(label_names) if label_names is not None else None
    text = _read_text(path, "labels")
    if not text.strip():
        raise LabelsError(f"{path}: empty labels file")
    listed = is_list_format(text)
    unit = "line" if listed else "row"
    range_hint = (f"not in {Path(label_names).name} ({min(names)}–{max(names)})" if names and label_names
                  else f"not a label index (0–{len(FINE_LABELS) - 1})")

    entries: list[tuple[int, str, str, str]] = []  # (line, clip, raw label, subject from a column)
    problems: list[str] = []
    subject_key = None
    if listed:
        for n, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            m = LIST_LINE.fullmatch(line.strip())
            if m is None:
                problems.append(f"{path.name} line {n}: expected '<clip> <label index>', got {line.strip()!r}")
                continue
            entries.append((n, m.group(1), m.group(2), ""))
    else:
        reader = csv.DictReader(text.splitlines())
        fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
        clip_key = next((fields[k] for k in CLIP_KEYS if k in fields), None)
        label_key = next((fields[k] for k in LABEL_KEYS if k in fields), None)
        subject_key = next((fields[k] for k in SUBJECT_KEYS if k in fields), None)
        if clip_key is None or label_key is None:
            raise LabelsError(
                f"{path}: needs a header with a clip column ({'/'.join(CLIP_KEYS)}) and a label column "
                f"({'/'.join(LABEL_KEYS)}), or mmaction2 '<clip> <label index>' lines; found {reader.fieldnames}")
        for n, rec in enumerate(reader, start=2):
            entries.append((n, (rec.get(clip_key) or "").strip(), (rec.get(label_key) or "").strip(),
                            (rec.get(subject_key) or "").strip() if subject_key else ""))

    # Refuse withheld labels as a whole rather than build a benchmark where every clip is one label.
    indices = [int(raw) for _, _, raw, _ in entries if raw.isdigit()]
    if len(indices) > ALL_SAME_MIN and len(indices) == len(entries) and len(set(indices)) == 1:
        k = indices[0]
        why = ("MA-52's test list withholds its labels" if k == 0 else
               f"one label ({parse_label(str(k), names) or 'unknown'}) for every clip looks withheld, not real")
        raise LabelsError(f"{path}: all {len(indices)} rows have label index {k}: {why}; use the train or val list")

    rx = re.compile(subject_pattern) if subject_pattern else None
    rows: list[LabelRow] = []
    seen: dict[str, int] = {}
    for n, clip, raw, subject in entries:
        if not clip:
            problems.append(f"{path.name} {unit} {n}: empty clip name")
            continue
        fine = parse_label(raw, names)
        if fine is None:
            if raw.isdigit():
                why = f"label index {raw} for {clip} is {range_hint}"
            elif re.fullmatch(r"[A-Za-z]\d{1,3}", raw):  # looks like a code: say which codes exist
                why = f"unknown label {raw!r} for {clip} (MA-52 codes run A1–A5, B1–B6, C1–C13, D1–D8, E1–E6, " \
                      "F1–F10, G1–G4)"
            else:
                why = f"unknown label {raw!r} for {clip}"
            problems.append(f"{path.name} {unit} {n}: {why}")
            continue
        if clip in seen:
            problems.append(f"{path.name} {unit} {n}: {clip} is already labelled on {unit} {seen[clip]}")
            continue
        seen[clip] = n
        if not subject and rx is not None and (m := rx.search(clip)):
            subject = m.group(1) if m.groups() else m.group(0)
        rows.append(LabelRow(n, clip, fine, subject or None))

    source = "column" if subject_key else "pattern" if rx else None
    # MA-52 names carry the subject; using it keeps the split subject-disjoint without any option.
    if source is None and rows and all(MA52_CLIP.fullmatch(Path(r.clip).stem) for r in rows):
        rows = [replace(r, subject=m.group(1)) for r in rows if (m := MA52_CLIP.fullmatch(Path(r.clip).stem))]
        source = "MA-52 clip names"
    return LabelFile(rows, problems, "list" if listed else "csv",
                     str(label_names) if label_names is not None else "built-in", source)


def read_labels(path: str | Path, subject_pattern: str | None = None,
                label_names: str | Path | None = None) -> tuple[list[LabelRow], list[str]]:
    """(usable rows, one message per unusable row); see `read_label_file`."""
    f = read_label_file(path, subject_pattern, label_names)
    return f.rows, f.problems
