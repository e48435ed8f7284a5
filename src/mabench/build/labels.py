"""The labels CSV `mabench build` takes: clip file name, fine label, optional subject id.

Header names accepted: clip / video / video_name / file; label / fine / fine_label / action;
subject / subject_id / participant. A label may be its name in any case ("Shaking head"), with a
code suffix ("Shaking head - B2"), or a known MA-52 code alone ("B2"). Rows that cannot be used are
reported one line each (row number and problem) and skipped; the others are built.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

from mabench.taxonomy import KNOWN_FINE_CODES, match_fine

CLIP_KEYS = ("clip", "video", "video_name", "file")
LABEL_KEYS = ("label", "fine", "fine_label", "action")
SUBJECT_KEYS = ("subject", "subject_id", "participant")


class LabelsError(ValueError):
    """The labels file as a whole cannot be read (missing, no header, no clip/label column)."""


@dataclass(frozen=True)
class LabelRow:
    row: int          # 1-based line number in the file (the header is line 1)
    clip: str         # file name as written (may lack a suffix)
    fine: str         # canonical fine label
    subject: str | None


def parse_label(text: str) -> str | None:
    code = text.strip().upper()
    if re.fullmatch(r"[A-G]\d{1,2}", code):
        return KNOWN_FINE_CODES.get(code)
    return match_fine(text)


def read_labels(path: str | Path, subject_pattern: str | None = None) -> tuple[list[LabelRow], list[str]]:
    """(usable rows, one message per unusable row). `subject_pattern`: a regex whose first group is
    the subject id in the clip name, for files without a subject column."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise LabelsError(f"{path}: cannot read labels ({e.strerror or e})") from e
    except UnicodeDecodeError as e:  # the codec's message names no file
        raise LabelsError(f"{path}: not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start}); "
                          "save the labels file as UTF-8") from None
    reader = csv.DictReader(text.splitlines())
    fields = {(f or "").strip().lower(): f for f in reader.fieldnames or []}
    clip_key = next((fields[k] for k in CLIP_KEYS if k in fields), None)
    label_key = next((fields[k] for k in LABEL_KEYS if k in fields), None)
    subject_key = next((fields[k] for k in SUBJECT_KEYS if k in fields), None)
    if clip_key is None or label_key is None:
        raise LabelsError(f"{path}: needs a header with a clip column ({'/'.join(CLIP_KEYS)}) and a label "
                          f"column ({'/'.join(LABEL_KEYS)}); found {reader.fieldnames}")
    rx = re.compile(subject_pattern) if subject_pattern else None
    rows, errors, seen = [], [], {}
    for n, rec in enumerate(reader, start=2):
        clip = (rec.get(clip_key) or "").strip()
        raw = (rec.get(label_key) or "").strip()
        if not clip:
            errors.append(f"{path.name} row {n}: empty clip name")
            continue
        fine = parse_label(raw)
        if fine is None:
            hint = " (only some MA-52 codes are public; write the label's name)" if re.fullmatch(
                r"[A-Ga-g]\d{1,2}", raw) else ""
            errors.append(f"{path.name} row {n}: unknown label {raw!r} for {clip}{hint}")
            continue
        if clip in seen:
            errors.append(f"{path.name} row {n}: {clip} is already labelled on row {seen[clip]}")
            continue
        seen[clip] = n
        subject = (rec.get(subject_key) or "").strip() if subject_key else ""
        if not subject and rx is not None and (m := rx.search(clip)):
            subject = m.group(1) if m.groups() else m.group(0)
        rows.append(LabelRow(n, clip, fine, subject or None))
    return rows, errors
